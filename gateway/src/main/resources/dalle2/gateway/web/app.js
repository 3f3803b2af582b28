// The dalle2 web page: plain JavaScript against the gateway's own /v1 API, no build step, no dependencies.
// The API key (if any) lives in sessionStorage: this tab only, gone when it closes. Every /v1 call, the event
// streams and the images included, sends it as a header, which is why the page reads the event stream with
// fetch (EventSource cannot send headers) and loads images as blobs (an <img src> cannot either).
'use strict';

(function () {
  const KEY_STORE = 'dalle2.apiKey';
  const JOB_STORE = 'dalle2.jobs';
  const GALLERY_LIMIT = 24;
  const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
  const STAGE_NAMES = {prior: 'Prior', decoder: 'Decoding', upsampler: 'Upsampling'};

  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const sizes = (body.dataset.sizes || '32').split(',').map(Number);
  const defaultSize = Number(body.dataset.defaultSize || sizes[sizes.length - 1]);
  const variationsEnabled = body.dataset.variations === 'true';
  const keysRequired = body.dataset.keysRequired === 'true';
  const jobs = new Map();

  // ---- the API ----------------------------------------------------------------------------------------------

  function apiKey() {
    return sessionStorage.getItem(KEY_STORE) || '';
  }

  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    const key = apiKey();
    if (key) h['Authorization'] = 'Bearer ' + key;
    return h;
  }

  class ApiProblem extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field;
    }
  }

  async function problemOf(response) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch (e) { /* not JSON: keep the status alone */ }
    if (response.status === 401) {
      return new ApiProblem(401, 'unauthorized', 'The gateway needs a valid API key: enter it above.', 'Authorization');
    }
    return new ApiProblem(response.status, error.code || 'http_' + response.status,
      error.message || 'HTTP ' + response.status, error.field || null);
  }

  async function api(method, path, json, extraHeaders) {
    const headers = authHeaders(extraHeaders);
    const init = {method, headers};
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    const response = await fetch(path, init);
    if (!response.ok) throw await problemOf(response);
    return response.status === 204 ? null : response.json();
  }

  // ---- the key ----------------------------------------------------------------------------------------------

  function showKeyState() {
    $('key-state').textContent = apiKey() ? 'A key is set for this tab.'
      : keysRequired ? 'No key set: this gateway needs one.' : 'No key set (this gateway is open).';
  }

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('api-key').value.trim();
    if (value) sessionStorage.setItem(KEY_STORE, value); else sessionStorage.removeItem(KEY_STORE);
    $('api-key').value = '';
    showKeyState();
    announce(value ? 'API key set.' : 'API key cleared.');
    if (jobs.size === 0) {
      restore();
    } else {
      jobs.forEach((job) => { if (!TERMINAL.has(job.state)) follow(job); });
      loadRecent();
    }
  });
  $('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORE);
    showKeyState();
    announce('API key forgotten.');
  });

  // ---- the form ---------------------------------------------------------------------------------------------

  const NUMBER_FIELDS = ['n', 'seed', 'prior_steps', 'decoder_steps', 'prior_guidance', 'decoder_guidance'];

  function setUpSizes() {
    const select = $('size');
    sizes.forEach((s) => {
      const o = document.createElement('option');
      o.value = String(s);
      o.textContent = s + ' × ' + s;
      if (s === defaultSize) o.selected = true;
      select.appendChild(o);
    });
    if (sizes.length > 1) $('upsampler-note').hidden = false;
    else $('size-field').hidden = true;
  }

  function readForm() {
    const request = {prompt: $('prompt').value};
    for (const name of NUMBER_FIELDS) {
      const raw = $(name).value.trim();
      if (raw === '') continue;
      request[name] = Number(raw);
    }
    request.sampler = $('sampler').value;
    request.prior_sampler = $('prior_sampler').value;
    if (sizes.length > 1) request.size = Number($('size').value);
    return request;
  }

  function fillForm(params) {
    if (params.prompt !== undefined) $('prompt').value = params.prompt;
    for (const name of NUMBER_FIELDS) {
      if (params[name] !== undefined && params[name] !== null) $(name).value = String(params[name]);
    }
    if (params.sampler) $('sampler').value = params.sampler;
    if (params.prior_sampler) $('prior_sampler').value = params.prior_sampler;
    if (params.size && sizes.includes(params.size)) $('size').value = String(params.size);
    $('prompt').focus();
    announce('Settings copied into the form.');
  }

  function clearFieldErrors() {
    document.querySelectorAll('[aria-invalid="true"]').forEach((el) => el.removeAttribute('aria-invalid'));
    $('form-error').textContent = '';
  }

  function showFormError(problem) {
    $('form-error').textContent = problem.message;
    const field = problem.field && $(problem.field);
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.setAttribute('aria-errormessage', 'form-error');
      field.focus();
    } else if (problem.field === 'Authorization') {
      $('api-key').focus();
    }
  }

  async function submit(event) {
    event.preventDefault();
    clearFieldErrors();
    const request = readForm();
    if (!request.prompt.trim()) {
      showFormError(new ApiProblem(400, 'invalid_request', 'Write a prompt first.', 'prompt'));
      return;
    }
    const button = $('generate');
    button.disabled = true;
    try {
      // one key per click: a retry of this click after a network error would be the same job
      const accepted = await api('POST', '/v1/generations', request, {'Idempotency-Key': newKey()});
      const job = addJob({id: accepted.id, prompt: request.prompt, kind: 'generation', params: request});
      saveJobs();
      follow(job);
      announce('Job submitted.');
    } catch (problem) {
      showFormError(problem instanceof ApiProblem ? problem : new ApiProblem(0, 'network', 'Cannot reach the gateway: ' + problem.message, null));
    } finally {
      button.disabled = false;
    }
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'web-' + Date.now() + '-' + Math.random().toString(36).slice(2);
  }

  $('generate-form').addEventListener('submit', submit);
  // the gateway writes its defaults into the page: each stage's sampler, and each sampler's steps on its option;
  // switching a sampler brings its default steps unless the user chose others
  function followDefaultSteps(samplerField, stepsField) {
    const select = $(samplerField);
    const defaultSteps = () => select.selectedOptions[0].dataset.defaultSteps;
    select.value = select.dataset.default;
    let shown = defaultSteps();
    select.addEventListener('change', () => {
      if ($(stepsField).value === shown) $(stepsField).value = defaultSteps();
      shown = defaultSteps();
    });
  }
  followDefaultSteps('prior_sampler', 'prior_steps');
  followDefaultSteps('sampler', 'decoder_steps');
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('generate-form').requestSubmit();
  });

  // ---- jobs -------------------------------------------------------------------------------------------------

  function addJob(record) {
    const el = $('job-template').content.firstElementChild.cloneNode(true);
    el.id = 'job-' + record.id;
    el.dataset.jobId = record.id;
    const job = Object.assign({state: 'queued', lastEventId: null, controller: null, el, imagesShown: false}, record);
    el.querySelector('[data-role=prompt]').textContent = record.prompt;
    const cancel = el.querySelector('[data-role=cancel]');
    cancel.setAttribute('aria-label', 'Cancel the job "' + record.prompt + '"');
    cancel.addEventListener('click', () => cancelJob(job));
    $('queue').prepend(el);
    $('queue-empty').hidden = true;
    jobs.set(record.id, job);
    return job;
  }

  function saveJobs() {
    const list = [...jobs.values()].map((j) => ({id: j.id, prompt: j.prompt, kind: j.kind, params: j.params, state: j.state}));
    sessionStorage.setItem(JOB_STORE, JSON.stringify(list.slice(-50)));
  }

  async function cancelJob(job) {
    try {
      await api('DELETE', '/v1/generations/' + encodeURIComponent(job.id));
      announce('Cancel sent.');
    } catch (problem) {
      showJobError(job, problem.message);
    }
  }

  function showJobError(job, message) {
    const p = job.el.querySelector('[data-role=error]');
    p.textContent = message;
    p.hidden = !message;
  }

  function progressText(event) {
    const p = event.progress;
    switch (event.state) {
      case 'queued':
        return event.queue_position ? 'Queued, position ' + event.queue_position : 'Queued';
      case 'prior':
      case 'decoding':
      case 'upsampling':
        if (p) return (STAGE_NAMES[p.stage] || p.stage) + ': step ' + p.step + ' of ' + p.steps;
        return event.state === 'prior' ? 'Prior' : event.state === 'decoding' ? 'Decoding' : 'Upsampling';
      case 'succeeded':
        return 'Done';
      case 'failed':
        return 'Failed';
      default:
        return 'Cancelled';
    }
  }

  function render(job, event) {
    const previous = job.state;
    job.state = event.state;
    const el = job.el;
    el.dataset.state = event.state;
    const badge = el.querySelector('[data-role=state]');
    badge.textContent = event.state;
    badge.className = 'state ' + event.state;
    el.querySelector('[data-role=progress-text]').textContent = progressText(event);
    const bar = el.querySelector('[data-role=progress]');
    if (event.progress) {
      bar.max = event.progress.steps;
      bar.value = event.progress.step;
    } else if (event.state === 'succeeded') {
      bar.max = 1;
      bar.value = 1;
    } else if (TERMINAL.has(event.state)) {
      bar.max = 1;
      bar.value = 0;
    } else {
      bar.removeAttribute('value');
    }
    el.querySelector('[data-role=cancel]').hidden = TERMINAL.has(event.state);
    if (event.state === 'failed' && event.error) showJobError(job, event.error.message || event.error.code);
    if (previous !== event.state || !el.dataset.history) {
      // the states this job's entry has shown, in order: what a reader (or a test) can check the stream by
      el.dataset.history = (el.dataset.history ? el.dataset.history + ' ' : '') + event.state;
      announce('Job "' + job.prompt + '": ' + progressText(event) + '.');
      saveJobs();
    }
    if (event.state === 'succeeded' && event.models) {
      // the exact versions that drew it: after a roll-out, two jobs of one prompt may come from different models
      const models = el.querySelector('[data-role=models]');
      const stages = ['prior', 'decoder', 'upsampler'];
      const roles = Object.keys(event.models).sort((a, b) => rank(stages, a) - rank(stages, b));
      models.textContent = 'Drawn by ' + roles.map((role) => event.models[role]).join(' · ');
      models.hidden = false;
    }
    if (event.state === 'succeeded' && event.images && !job.imagesShown) {
      job.imagesShown = true;
      showImages(job, event.images);
    }
  }

  /** A role's place in the pipeline's order; roles it does not know come last. */
  function rank(order, role) {
    const i = order.indexOf(role);
    return i < 0 ? order.length : i;
  }

  // ---- the event stream -------------------------------------------------------------------------------------

  // Reads GET /v1/generations/{id}/events with fetch and parses it as the SSE specification says; reconnects with
  // Last-Event-ID (the server resumes there, so no state change is lost or repeated) until the final state.
  async function follow(job) {
    if (job.controller) job.controller.abort();
    const controller = new AbortController();
    job.controller = controller;
    let retryMs = 1000;
    let failures = 0;
    while (!controller.signal.aborted && !TERMINAL.has(job.state)) {
      try {
        const headers = authHeaders({'Accept': 'text/event-stream'});
        if (job.lastEventId) headers['Last-Event-ID'] = job.lastEventId;
        const response = await fetch('/v1/generations/' + encodeURIComponent(job.id) + '/events',
          {headers, signal: controller.signal, cache: 'no-store'});
        if (response.status === 204) break;
        if (!response.ok) {
          const problem = await problemOf(response);
          if (response.status === 401 || response.status === 404 || response.status === 410) {
            showJobError(job, problem.message);
            break;
          }
          throw problem;
        }
        failures = 0;
        showJobError(job, '');
        await readEvents(response, (e) => {
          if (e.retry) retryMs = e.retry;
          if (!e.data) return;
          if (e.id) job.lastEventId = e.id;
          render(job, JSON.parse(e.data));
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        failures++;
        if (failures > 2) showJobError(job, 'Reconnecting… (' + error.message + ')');
      }
      if (!TERMINAL.has(job.state)) {
        await sleep(Math.min(retryMs * Math.pow(2, Math.max(0, failures - 1)), 15000));
      }
    }
    if (job.controller === controller) job.controller = null;
  }

  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder('utf-8');
    let buffer = '';
    let event = {data: ''};
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, {stream: true});
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (event.data || event.retry) onEvent(event);
          event = {data: ''};
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') event.data += (event.data ? '\n' : '') + value;
        else if (field === 'id') event.id = value;
        else if (field === 'event') event.name = value;
        else if (field === 'retry' && /^\d+$/.test(value)) event.retry = Number(value);
      }
    }
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // ---- images and the gallery -------------------------------------------------------------------------------

  // A busy gateway answers 429 or 503 with Retry-After: an image that exists is worth a few waits, not an error.
  const IMAGE_TRIES = 5;
  const MAX_RETRY_WAIT_MS = 5000;

  async function imageBlob(url) {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(url, {headers: authHeaders()});
      if (response.ok) return response.blob();
      if (attempt >= IMAGE_TRIES || (response.status !== 429 && response.status !== 503)) {
        throw await problemOf(response);
      }
      const seconds = Number(response.headers.get('Retry-After'));
      await sleep(Math.min(MAX_RETRY_WAIT_MS, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 500 * attempt));
    }
  }

  async function showImages(job, images) {
    try {
      const generation = await api('GET', '/v1/generations/' + encodeURIComponent(job.id));
      if (generation.params) job.params = generation.params;
    } catch (e) { /* the submitted parameters stay */ }
    const list = job.el.querySelector('[data-role=images]');
    for (const image of images) {
      try {
        const blob = await imageBlob(image.url);
        list.appendChild(imageItem(job, image.index, images.length, blob, false));
        addToGallery(job, image.index, images.length, blob);
      } catch (problem) {
        showJobError(job, 'Image ' + (image.index + 1) + ': ' + problem.message);
      }
    }
  }

  function describe(params) {
    if (!params) return '';
    const parts = [];
    if (params.seed !== undefined) parts.push('seed ' + params.seed);
    if (params.prior_steps) parts.push('prior ' + params.prior_steps + ' steps');
    if (params.decoder_steps) parts.push('decoder ' + params.decoder_steps + ' steps');
    if (params.prior_guidance !== undefined) parts.push('guidance ' + params.prior_guidance + '/' + params.decoder_guidance);
    if (params.prior_sampler && params.prior_sampler !== params.sampler) {
      parts.push(params.prior_sampler + ' / ' + params.sampler);
    } else if (params.sampler) {
      parts.push(params.sampler);
    }
    if (params.size) parts.push(params.size + ' px');
    return parts.join(' · ');
  }

  function imageItem(job, index, count, blob, withParams) {
    const item = $('image-template').content.firstElementChild.cloneNode(true);
    const url = URL.createObjectURL(blob);
    const label = 'image ' + (index + 1) + ' of ' + count + ' for "' + job.prompt + '"';
    const img = item.querySelector('[data-role=img]');
    img.src = url;
    img.alt = (job.kind === 'variation' ? 'Variation, ' : 'Generated ') + label;
    const download = item.querySelector('[data-role=download]');
    download.href = url;
    download.download = job.id + '-' + index + '.png';
    download.setAttribute('aria-label', 'Download ' + label);
    const use = item.querySelector('[data-role=use]');
    use.setAttribute('aria-label', 'Use the settings of ' + label);
    use.addEventListener('click', () => fillForm(Object.assign({prompt: job.prompt}, job.params || {})));
    const vary = item.querySelector('[data-role=vary]');
    if (variationsEnabled) {
      vary.setAttribute('aria-label', 'Variations of ' + label);
      vary.addEventListener('click', () => vary_(job, blob));
    } else {
      vary.hidden = true;
    }
    if (withParams) {
      const p = document.createElement('p');
      p.className = 'params';
      p.textContent = '"' + job.prompt + '" — ' + describe(job.params);
      item.appendChild(p);
    }
    return item;
  }

  function addToGallery(job, index, count, blob) {
    const gallery = $('gallery');
    const key = job.id + '/' + index;
    if ([...gallery.children].some((li) => li.dataset.key === key)) return;
    const item = imageItem(job, index, count, blob, true);
    item.dataset.key = key;
    gallery.prepend(item);
    while (gallery.children.length > GALLERY_LIMIT) {
      const last = gallery.lastElementChild;
      const img = last.querySelector('img');
      if (img) URL.revokeObjectURL(img.src);
      last.remove();
    }
    $('gallery-empty').hidden = true;
  }

  // The gallery starts with the caller's recent results from the gateway (GET /v1/generations: this key's jobs,
  // newest first), so it survives the tab; the tab's own jobs are added as they finish.
  async function loadRecent() {
    let page;
    try {
      page = await api('GET', '/v1/generations?limit=' + GALLERY_LIMIT);
    } catch (problem) {
      return;             // no key yet, or another key: the form's errors say so when it matters
    }
    for (const g of page.data.slice().reverse()) {
      if (g.state !== 'succeeded' || !g.params) continue;
      const job = {id: g.id, prompt: g.params.prompt, kind: g.params.kind, params: g.params};
      for (const image of g.images) {
        try {
          addToGallery(job, image.index, g.images.length, await imageBlob(image.url));
        } catch (e) { /* expired or gone: leave it out */ }
      }
    }
  }

  // ---- variations -------------------------------------------------------------------------------------------

  async function vary_(job, blob) {
    clearFieldErrors();
    const form = readForm();
    const query = new URLSearchParams();
    for (const name of ['n', 'seed', 'decoder_steps', 'decoder_guidance', 'sampler', 'size']) {
      if (form[name] !== undefined) query.set(name, String(form[name]));
    }
    try {
      const response = await fetch('/v1/variations?' + query.toString(), {
        method: 'POST', headers: authHeaders({'Content-Type': blob.type || 'image/png', 'Idempotency-Key': newKey()}), body: blob});
      if (!response.ok) throw await problemOf(response);
      const accepted = await response.json();
      const variation = addJob({id: accepted.id, prompt: 'variations of ' + job.prompt, kind: 'variation', params: form});
      saveJobs();
      follow(variation);
      announce('Variations submitted.');
    } catch (problem) {
      showFormError(problem instanceof ApiProblem ? problem : new ApiProblem(0, 'network', problem.message, null));
    }
  }

  // ---- start ------------------------------------------------------------------------------------------------

  function announce(text) {
    $('announcer').textContent = text;
  }

  function restore() {
    const saved = JSON.parse(sessionStorage.getItem(JOB_STORE) || '[]');
    for (const record of saved) {
      const job = addJob({id: record.id, prompt: record.prompt, kind: record.kind, params: record.params});
      follow(job);
    }
    loadRecent();
  }

  setUpSizes();
  showKeyState();
  if (!keysRequired || apiKey()) restore();
})();
