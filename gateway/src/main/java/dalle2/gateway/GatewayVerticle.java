package dalle2.gateway;

import dalle2.gateway.Representations.Accepted;
import dalle2.gateway.Representations.ErrorBody;
import dalle2.gateway.Representations.Generation;
import dalle2.gateway.Representations.Image;
import dalle2.gateway.Representations.Links;
import dalle2.gateway.Representations.Params;
import dalle2.gateway.Representations.SubmitBody;
import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.ApiDefaults;
import dalle2.messages.GenerationRequest;
import dalle2.messages.InvalidMessageException;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.pipeline.StatusView;
import dalle2.pipeline.TrainingStatusView;
import dalle2.storage.ObjectStore;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP gateway: accepts jobs onto Kafka, answers their status from the {@link StatusView}, serves their images
 * from object storage. Stateless: any instance answers for any job. Its HTTP servers run on one event loop per
 * core ({@link HttpServerVerticle}), sharing one producer and one status view. Handlers never block an event loop:
 * Kafka sends complete through the producer's callback (the producer never blocks in {@code send}), storage calls
 * go to worker threads ({@code executeBlocking}).
 */
public final class GatewayVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);
    private static final String JSON = "application/json";
    private static final String ID = "[A-Za-z0-9._-]{1,64}";
    private static final Pattern EVENTS_PATH = Pattern.compile("/v1/generations/" + ID + "/events");
    private static final Pattern IMAGE_FILE = Pattern.compile("(\\d{1,2})\\.png");
    private static final int MAX_BODY_BYTES = HttpLimits.MAX_BODY_BYTES;
    private static final SecureRandom SEEDS = new SecureRandom();
    /** How long a request waits for the status view to read its topics to their ends. */
    static final long VIEW_SYNC_TIMEOUT_MS = 5_000;
    /** What a 503 tells a client to wait: Kafka elections and view restarts take seconds. */
    static final int RETRY_AFTER_SECONDS = 2;

    private final GatewayConfig config;
    private KafkaProducer<String, byte[]> producer;
    private Admin admin;
    private ObjectStore store;
    private StatusView view;
    private TrainingStatusView trainingView;
    private HttpServerVerticle server;
    private BacklogMonitor backlog;
    private ImageSweeper sweeper;
    private PresignedUrls presigned;
    private EventStreams streams;
    private WebhookNotifier webhooks;
    private byte[] openapi;
    private WebPage webPage;

    public GatewayVerticle(GatewayConfig config) {
        this.config = config;
    }

    /** The port the server listens on (useful with port 0). */
    public int port() {
        return server.port();
    }

    public StatusView statusView() {
        return view;
    }

    /** The server-sent event streams this gateway serves. */
    public EventStreams eventStreams() {
        return streams;
    }

    @Override
    public Future<?> start() {
        return vertx.executeBlocking(() -> {
            openapi = readResource("openapi.yaml");
            webPage = new WebPage(config.sizes(), true, !policy().access().open());
            admin = KafkaClients.admin(config.kafkaBootstrap(), KafkaClients.clientId("gateway-admin"));
            Topics.ensure(admin, Topics.defaultSpecs(policy().retention().retention().toMillis()), 30_000);
            producer = KafkaClients.gatewayProducer(config.kafkaBootstrap(), KafkaClients.clientId("gateway"));
            KafkaClients.awaitMetadata(producer, List.of(Topics.STATUS, Topics.REQUESTS, Topics.TRAINING_STATUS,
                    Topics.TRAINING_JOBS), 30_000);
            store = new ObjectStore(config.storage());
            presigned = new PresignedUrls(store, config.presignTtl(), Clock.systemUTC());
            store.ensureBucket();
            backlog = new BacklogMonitor(admin).start(policy().admission().backlogRefresh());
            sweeper = new ImageSweeper(store, policy().retention().retention(), Clock.systemUTC())
                    .start(policy().retention().sweepInterval());
            if (policy().access().open()) {
                LOG.warn("OPEN MODE: the /v1 API and its images answer anyone who reaches {}:{} without an API key",
                        config.host(), config.port());
            } else {
                LOG.info("API keys required ({} configured)", policy().access().keys().size());
            }
            view = StatusView.withQueuedRequests(config.kafkaBootstrap(), config.maxJobs(), "gateway").start();
            if (!view.awaitCaughtUp(config.readyTimeout())) {
                LOG.warn("status view not caught up after {}; answering with what it has", config.readyTimeout());
            }
            streams = new EventStreams(view, config.eventStreams());
            trainingView = new TrainingStatusView(config.kafkaBootstrap(), TrainingStatusView.DEFAULT_MAX_TRAININGS,
                    "gateway").start();
            if (!trainingView.awaitCaughtUp(config.readyTimeout())) {
                LOG.warn("training status view not caught up after {}", config.readyTimeout());
            }
            if (config.webhooks().enabled()) {
                webhooks = new WebhookNotifier(config.kafkaBootstrap(), config.webhooks()).start();
                LOG.info("webhooks allowed to {}", config.webhooks().allowed());
            }
            return null;
        }).compose(ignored -> listen());
    }

    /**
     * Deploys the HTTP servers, all on the configured port: Vert.x binds it once and hands each new connection to
     * the next server. Servers on port 0 would each get a port of their own; a negative port is Vert.x's way of
     * one random port shared by the servers that name it.
     */
    private Future<?> listen() {
        Function<Vertx, Router> routes = routes();
        int port = config.port() == 0 ? SHARED_RANDOM_PORT : config.port();
        List<HttpServerVerticle> servers = new CopyOnWriteArrayList<>();
        return vertx.deployVerticle(() -> {
            HttpServerVerticle s = new HttpServerVerticle(config.host(), port, routes);
            servers.add(s);
            return s;
        }, new DeploymentOptions().setInstances(httpServers())).compose(ignored -> {
            server = servers.get(0);
            if (servers.stream().anyMatch(s -> s.port() != server.port())) {
                return Future.failedFuture(new IllegalStateException("the HTTP servers did not share one port"));
            }
            LOG.info("gateway listening on http://{}:{} ({} event loops)", config.host(), server.port(),
                    servers.size());
            return Future.succeededFuture();
        });
    }

    private static final int SHARED_RANDOM_PORT = -1;

    /** One HTTP server per core: with fewer, one core parses and answers every request. */
    static int httpServers() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    @Override
    public Future<?> stop() {
        // the HTTP servers are child deployments: Vert.x undeploys them before this stop runs
        return vertx.executeBlocking(() -> {
            if (backlog != null) {
                backlog.close();
            }
            if (sweeper != null) {
                sweeper.close();
            }
            if (streams != null) {
                streams.close();
            }
            if (webhooks != null) {
                webhooks.close();
            }
            if (view != null) {
                view.close();
            }
            if (trainingView != null) {
                trainingView.close();
            }
            if (producer != null) {
                producer.close(java.time.Duration.ofSeconds(5));
            }
            if (admin != null) {
                admin.close(java.time.Duration.ofSeconds(5));
            }
            if (store != null) {
                store.close();
            }
            return null;
        });
    }

    // ---- the API -----------------------------------------------------------------------------------------------

    /**
     * The routes, for one router per HTTP server. The handlers that keep state (the failed-authentication and
     * rate-limit buckets) are made once here, so that every event loop counts into the same buckets.
     */
    private Function<Vertx, Router> routes() {
        PathEncoding pathEncoding = new PathEncoding();
        Authenticator authenticator = new Authenticator(policy().access(),
                new KeyedBuckets(RateLimitConfig.authFailures(), System::nanoTime));
        RateLimiter rateLimiter = new RateLimiter(new KeyedBuckets(policy().rateLimit(), System::nanoTime));
        Expiry expiry = new Expiry(view, policy().retention().retention(), Clock.systemUTC());
        JsonCharset jsonCharset = new JsonCharset();
        AdmissionGate admission = new AdmissionGate(policy().admission(), backlog);
        return v -> router(v, pathEncoding, authenticator, rateLimiter, expiry, jsonCharset, admission);
    }

    private Router router(Vertx v, PathEncoding pathEncoding, Authenticator authenticator, RateLimiter rateLimiter,
                          Expiry expiry, JsonCharset jsonCharset, AdmissionGate admission) {
        Router router = Router.router(v);
        router.route().handler(pathEncoding);
        // an event stream is meant to outlive the request timeout; it has bounds of its own (EventStreams)
        TimeoutHandler timeout = TimeoutHandler.create(HttpLimits.REQUEST_TIMEOUT_MS, 503);
        router.route("/v1/*").handler(ctx -> {
            if (EVENTS_PATH.matcher(ctx.normalizedPath()).matches()) {
                ctx.next();
            } else {
                timeout.handle(ctx);
            }
        });
        router.route("/v1/*").handler(authenticator).handler(rateLimiter);
        router.routeWithRegex("/v1/generations/(?<id>" + ID + ")(/.*)?").handler(expiry);
        // before the body is read: a refused submission costs no upload
        router.post("/v1/generations").handler(jsonCharset).handler(admission);
        router.post("/v1/generations").consumes(JSON)
                .handler(BodyHandler.create().setBodyLimit(MAX_BODY_BYTES)).handler(this::submit);
        router.post("/v1/variations").handler(admission);
        router.post("/v1/variations").handler(BodyHandler.create().setBodyLimit(VariationUpload.MAX_BYTES))
                .handler(this::vary);
        router.get("/v1/generations").handler(this::list);
        router.getWithRegex("/v1/generations/(?<id>" + ID + ")").handler(this::status);
        router.getWithRegex("/v1/generations/(?<id>" + ID + ")/images/(?<file>[^/]+)").handler(this::image);
        router.getWithRegex("/v1/generations/(?<id>" + ID + ")/events").handler(this::events);
        router.deleteWithRegex("/v1/generations/(?<id>" + ID + ")").handler(this::cancel);
        new TrainingRoutes(trainingView, this::send, store, () -> policy().access().open()).register(router, jsonCharset);
        router.get("/healthz").handler(this::health);
        router.get("/readyz").handler(this::ready);
        router.get("/metrics").handler(PrometheusScrapingHandler.create());
        router.get("/openapi.yaml").handler(this::openapi);
        for (String page : new String[] {WebPage.PAGE, "/index.html", WebPage.ASSETS + "*"}) {
            router.get(page).handler(webPage);
            router.head(page).handler(webPage);
        }

        router.route().failureHandler(this::failure);
        for (int status : new int[] {400, 404, 405, 406, 413, 415, 500, 503}) {
            router.errorHandler(status, this::failure);
        }
        return router;
    }

    /** POST /v1/generations: 202 once the request is durable in Kafka (acks=all). */
    private void submit(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        if (body == null || body.length() == 0) {
            throw ApiError.badRequest("invalid_request", "a JSON body is required", null);
        }
        SubmitBody in = Messages.decode(body.getBytes(), SubmitBody.class);
        String key = idempotencyKey(ctx);
        // the same key gives the same job id (and, without a seed, the same seed) on every gateway instance
        String jobId = key == null ? UUID.randomUUID().toString()
                : IdempotentJobIds.jobId(Authenticator.caller(ctx), key);
        Long seed = in.seed() != null ? in.seed()
                : key != null ? IdempotentJobIds.seed(Authenticator.caller(ctx), key)
                : SEEDS.nextLong() & Long.MAX_VALUE;
        int size = in.size() != null ? in.size() : config.sizes().defaultSize();
        GenerationRequest request = GenerationRequest.of(jobId, in.prompt(), in.n(), seed, in.priorSteps(),
                in.decoderSteps(), in.eta(), in.priorGuidance(), in.decoderGuidance(),
                ApiDefaults.decoderSampler(in.sampler(), in.eta()),
                ApiDefaults.priorSampler(in.sampler(), in.priorSampler()), size, Instant.now(), key)
                .withOwner(Authenticator.caller(ctx).owner());
        if (in.webhook() != null) {
            config.webhooks().check(in.webhook());
            request = request.withWebhook(in.webhook());
        }
        config.sizes().check(request);
        policy().admission().checkCost(request);
        enqueue(ctx, request, key, known -> IdempotentRetry.asks(in, known));
    }

    /**
     * Accepts a built request: at once for a fresh id, or through the Idempotency-Key's claim on the status
     * topic (the same key answers the same job on every gateway). {@code sameAsSent} tells whether the job a key
     * already names is what this submission asks for ({@link IdempotentRetry}).
     */
    private void enqueue(RoutingContext ctx, GenerationRequest request, String key,
                         Predicate<GenerationRequest> sameAsSent) {
        String jobId = request.jobId();
        if (key == null) {
            // a fresh job id: nobody else can claim it
            accept(ctx, request);
            return;
        }
        Optional<JobStatus> existing = view.get(jobId);
        if (existing.isPresent()) {
            replay(ctx, existing.get(), request, sameAsSent);
            return;
        }
        // The first queued status of this job id in the status topic claims it: every gateway reads that
        // partition in the same order, so all of them agree on the winner. Write ours, read the topic back up
        // to it, and answer from whichever request won.
        JobStatus queued = JobStatus.queued(request);
        send(Topics.STATUS, jobId, Messages.encode(queued))
                .compose(m -> Future.fromCompletionStage(view.sync(), vertx.getOrCreateContext())
                        .timeout(VIEW_SYNC_TIMEOUT_MS, TimeUnit.MILLISECONDS))
                .onSuccess(v -> {
                    JobStatus winner = view.get(jobId).orElse(queued);
                    if (winner.request() != null && winner.request().submittedAt().equals(request.submittedAt())
                            && winner.request().sameParameters(request)) {
                        // ours won: write our request (the view's copy leaves a variation's image out)
                        writeRequest(ctx, winner, request, 202);
                    } else {
                        replay(ctx, winner, request, sameAsSent);
                    }
                })
                .onFailure(e -> unavailable(ctx, jobId, e));
    }

    static String idempotencyKey(RoutingContext ctx) {
        String key = ctx.request().getHeader("Idempotency-Key");
        if (key != null && (key.isEmpty() || key.length() > GenerationRequest.MAX_IDEMPOTENCY_KEY_CHARS)) {
            throw ApiError.badRequest("invalid_header", "Idempotency-Key must be 1-"
                    + GenerationRequest.MAX_IDEMPOTENCY_KEY_CHARS + " characters", "Idempotency-Key");
        }
        return key;
    }

    /**
     * POST /v1/variations: the body is the image (PNG or JPEG), the parameters are query parameters. The upload is
     * decoded and normalised on a worker thread ({@link VariationUpload}); the job then goes the way of any other
     * (requests topic, prior pool, which embeds the image with CLIP and runs no prior, decoder pool).
     */
    private void vary(RoutingContext ctx) {
        String media = VariationUpload.mediaType(ctx.request().getHeader("Content-Type"));
        if (!VariationUpload.PNG.equals(media) && !VariationUpload.JPEG.equals(media)) {
            throw new ApiError(415, "unsupported_media_type", "send the image as the body with Content-Type "
                    + VariationUpload.PNG + " or " + VariationUpload.JPEG + (media == null ? "" : ", not " + media),
                    "Content-Type");
        }
        VariationQuery query = VariationQuery.parse(ctx.queryParams());
        String key = idempotencyKey(ctx);
        String jobId = key == null ? UUID.randomUUID().toString()
                : IdempotentJobIds.jobId(Authenticator.caller(ctx), "variation:" + key);
        long seed = query.seed() != null ? query.seed()
                : key != null ? IdempotentJobIds.seed(Authenticator.caller(ctx), "variation:" + key)
                : SEEDS.nextLong() & Long.MAX_VALUE;
        int size = query.size() != null ? query.size() : config.sizes().defaultSize();
        byte[] upload = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
        Instant submittedAt = Instant.now();
        String owner = Authenticator.caller(ctx).owner();
        vertx.executeBlocking(() -> VariationUpload.normalise(upload, media), false).onSuccess(png -> {
            try {
                GenerationRequest request = GenerationRequest.variation(jobId, query.label(), query.n(), seed,
                        query.decoderSteps(), query.eta(), query.decoderGuidance(),
                        ApiDefaults.decoderSampler(query.sampler(), query.eta()), size, png,
                        submittedAt, key).withOwner(owner);
                if (query.webhook() != null) {
                    config.webhooks().check(query.webhook());
                    request = request.withWebhook(query.webhook());
                }
                config.sizes().check(request);
                policy().admission().checkCost(request);
                enqueue(ctx, request, key, known -> IdempotentRetry.asks(query, png, known));
            } catch (RuntimeException e) {
                ctx.fail(e);
            }
        }).onFailure(ctx::fail);
    }

    /**
     * Accepts a job that no other request can name (a fresh id) with one durable write, its request: every
     * gateway's status view answers {@code queued} for a request that no status names yet, so a {@code queued}
     * status of its own would only double the records, and a worker's status could never be overtaken by it.
     */
    private void accept(RoutingContext ctx, GenerationRequest request) {
        writeRequest(ctx, JobStatus.queued(request), request, 202);
    }

    /**
     * Answers a repeated Idempotency-Key from the job it named first: 409 if this submission asks for another job
     * ({@code sameAsSent} is false for it), else 200
     * with the job. A job still queued gets its request written again first: the gateway that claimed it may
     * have died between its status and its request, and a duplicate request is harmless (workers skip a job
     * they have taken).
     */
    private void replay(RoutingContext ctx, JobStatus known, GenerationRequest request,
                        Predicate<GenerationRequest> sameAsSent) {
        if (known.request() != null && !sameAsSent.test(known.request())) {
            ctx.fail(new ApiError(409, "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request", "Idempotency-Key"));
            return;
        }
        ctx.response().putHeader("Idempotent-Replayed", "true");
        if (known.state() == JobState.QUEUED && known.request() != null) {
            // the view's copy of a variation lacks its image; this request has the same one (same hash)
            GenerationRequest again = known.request().isVariation()
                    ? known.request().withImageOf(request) : known.request();
            writeRequest(ctx, known, again, 200);
            return;
        }
        ctx.response().putHeader("Location", self(known.jobId()));
        respond(ctx, 200, new Accepted(known.jobId(), known.state().wire(), links(known.jobId())));
    }

    /** Writes the job's request to the requests topic, then answers {@code status} (202 or 200). */
    private void writeRequest(RoutingContext ctx, JobStatus queued, GenerationRequest request, int status) {
        String jobId = queued.jobId();
        send(Topics.REQUESTS, jobId, Messages.encode(request))
                .onSuccess(m -> {
                    view.apply(queued);
                    ctx.response().putHeader("Location", self(jobId));
                    respond(ctx, status, new Accepted(jobId, JobState.QUEUED.wire(), links(jobId)));
                })
                .onFailure(e -> {
                    if (status == 202 && queued.request().idempotencyKey() == null) {
                        // nobody was told of this fresh id and nobody can ask for it again: mark it failed rather
                        // than leave a queued job that no request carries. A job with an Idempotency-Key stays
                        // queued: the client's retry with that key (on any gateway) writes its request again, and
                        // a late "failed" from here could overwrite the job that retry was accepted for.
                        send(Topics.STATUS, jobId, Messages.encode(queued.failed("submission_failed",
                                "the request could not be written to Kafka", Instant.now())));
                    }
                    unavailable(ctx, jobId, e);
                });
    }

    private void unavailable(RoutingContext ctx, String jobId, Throwable e) {
        LOG.warn("cannot submit {}: {}", jobId, e.toString());
        ctx.fail(ApiError.unavailable("unavailable", "the job queue cannot take writes now; retry later",
                RETRY_AFTER_SECONDS));
    }

    /** GET /v1/generations/{id}. */
    private void status(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        withJob(ctx, id, s -> answerStatus(ctx, s));
    }

    /**
     * GET /v1/generations?limit=&after=: the caller's jobs (every job in open mode), newest first, from this
     * gateway's status view (jobs submitted straight to Kafka belong to no key, so only open mode lists them).
     * {@code after} is the last id of the previous page.
     */
    private void list(RoutingContext ctx) {
        ListQuery query = ListQuery.parse(ctx);
        int limit = query.limit();
        if (!view.healthy()) {
            throw ApiError.unavailable("status_unavailable", "job states are not current on this gateway now; "
                    + "retry, or ask another gateway", RETRY_AFTER_SECONDS);
        }
        String owner = policy().access().open() ? null : Authenticator.caller(ctx).owner();
        Instant now = Instant.now();
        java.util.function.Predicate<JobStatus> mine = s -> (owner == null
                || s.request() != null && owner.equals(s.request().owner()))
                && !Expiry.expired(s, policy().retention().retention(), now);
        String afterId = query.after();
        JobStatus after = null;
        if (afterId != null) {
            after = view.get(afterId).filter(mine).orElseThrow(() -> ApiError.badRequest("invalid_request",
                    "after must name a job of an earlier page", "after"));
        }
        JobStatus cursor = after;
        int pageSize = limit;
        vertx.executeBlocking(() -> {
            List<JobStatus> page = view.newest(owner, mine, cursor, pageSize + 1);
            List<Generation> data = new ArrayList<>();
            for (JobStatus s : page.subList(0, Math.min(pageSize, page.size()))) {
                data.add(generation(s, s.state() == JobState.SUCCEEDED ? images(s, false) : List.of()));
            }
            String next = page.size() > pageSize ? data.get(data.size() - 1).id() : null;
            return new Representations.GenerationList(data, next);
        }, false).onSuccess(body -> respond(ctx, 200, body)).onFailure(ctx::fail);
    }

    /**
     * Runs {@code then} with the job's current status. A job this view does not know yet may have been accepted
     * by another gateway a moment ago: the view reads its topics up to their ends before answering 404. A view
     * whose reader is down answers 503: its states may be stale.
     */
    private void withJob(RoutingContext ctx, String id, java.util.function.Consumer<JobStatus> then) {
        if (!view.healthy()) {
            ctx.fail(ApiError.unavailable("status_unavailable", "job states are not current on this gateway now; "
                    + "retry, or ask another gateway", RETRY_AFTER_SECONDS));
            return;
        }
        Optional<JobStatus> known = view.get(id);
        if (known.isPresent()) {
            then.accept(known.get());
            return;
        }
        Future.fromCompletionStage(view.sync(), vertx.getOrCreateContext())
                .timeout(VIEW_SYNC_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .onSuccess(v -> {
                    Optional<JobStatus> read = view.get(id);
                    if (read.isPresent()) {
                        then.accept(read.get());
                    } else {
                        ctx.fail(ApiError.notFound("no generation " + id));
                    }
                })
                .onFailure(e -> ctx.fail(ApiError.unavailable("status_unavailable",
                        "cannot read job states now; retry later", RETRY_AFTER_SECONDS)));
    }

    private void answerStatus(RoutingContext ctx, JobStatus s) {
        String id = s.jobId();
        if (s.state() != JobState.SUCCEEDED) {
            respond(ctx, 200, generation(s, List.of()));
            return;
        }
        List<Image> cached = images(s, true);
        if (cached != null) {
            respond(ctx, 200, generation(s, cached));
            return;
        }
        vertx.executeBlocking(() -> images(s, false))
                .onSuccess(images -> respond(ctx, 200, generation(s, images))).onFailure(ctx::fail);
    }

    /**
     * The job's image links with their presigned URLs; with {@code cachedOnly} (on the event loop) null unless
     * every URL is cached, since signing is CPU work for a worker thread.
     */
    private List<Image> images(JobStatus s, boolean cachedOnly) {
        List<Image> images = new ArrayList<>(s.imageKeys().size());
        for (int k = 0; k < s.imageKeys().size(); k++) {
            String key = s.imageKeys().get(k);
            PresignedUrls.Signed url = cachedOnly ? presigned.cached(key) : presigned.get(key);
            if (url == null) {
                return null;
            }
            images.add(new Image(k, self(s.jobId()) + "/images/" + k + ".png", url.url(),
                    url.expiresAt().toString()));
        }
        return images;
    }

    private Generation generation(JobStatus s, List<Image> images) {
        OptionalInt position = view.queuePosition(s.jobId());
        return new Generation(s.jobId(), s.state().wire(), s.request() == null ? null : Params.of(s.request()),
                s.timestamps(), s.models(), s.progress(), position.isPresent() ? position.getAsInt() : null, images,
                s.error(), links(s.jobId()));
    }

    /**
     * GET /v1/generations/{id}/events: the job's state changes and progress as server-sent events, ending with its
     * final state; {@code Last-Event-ID} resumes after the event it names.
     */
    private void events(RoutingContext ctx) {
        JobEventCursor cursor;
        try {
            cursor = JobEventCursor.after(ctx.request().getHeader("Last-Event-ID"));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("invalid_header", e.getMessage(), "Last-Event-ID");
        }
        withJob(ctx, ctx.pathParam("id"), s -> streams.serve(ctx, s.jobId(), cursor));
    }

    /** GET /v1/generations/{id}/images/{k}.png: the PNG from object storage. */
    private void image(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        Matcher m = IMAGE_FILE.matcher(ctx.pathParam("file"));
        if (!m.matches()) {
            throw ApiError.notFound("images are named <k>.png");
        }
        withJob(ctx, id, s -> answerImage(ctx, s, m));
    }

    private void answerImage(RoutingContext ctx, JobStatus s, Matcher m) {
        String id = s.jobId();
        int k = Integer.parseInt(m.group(1));
        if (s.state() != JobState.SUCCEEDED || k >= s.imageKeys().size()) {
            throw ApiError.notFound("generation " + id + " has no image " + k + " (state " + s.state().wire() + ")");
        }
        String key = s.imageKeys().get(k);
        StoredPng.send(ctx, store, key, "image " + key);
    }

    /** DELETE /v1/generations/{id}: cancels a job that has not finished. */
    private void cancel(RoutingContext ctx) {
        withJob(ctx, ctx.pathParam("id"), s -> answerCancel(ctx, s));
    }

    private void answerCancel(RoutingContext ctx, JobStatus s) {
        String id = s.jobId();
        if (s.state() == JobState.CANCELLED) {
            respond(ctx, 200, new Accepted(id, s.state().wire(), links(id)));
            return;
        }
        if (s.state().terminal()) {
            throw new ApiError(409, "already_finished", "generation " + id + " already " + s.state().wire(), null);
        }
        JobStatus cancelled = s.cancelled(Instant.now());
        send(Topics.STATUS, id, Messages.encode(cancelled)).onSuccess(m -> {
            view.apply(cancelled);
            respond(ctx, 202, new Accepted(id, JobState.CANCELLED.wire(), links(id)));
        }).onFailure(e -> ctx.fail(ApiError.unavailable("unavailable", "cannot reach Kafka; retry later",
                RETRY_AFTER_SECONDS)));
    }

    private void health(RoutingContext ctx) {
        respond(ctx, 200, Map.of("status", "ok"));
    }

    /** Ready when Kafka answers, the bucket is reachable and the status view has caught up. */
    private void ready(RoutingContext ctx) {
        vertx.executeBlocking(() -> {
            Map<String, String> checks = new LinkedHashMap<>();
            try {
                admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                checks.put("kafka", "ok");
            } catch (Exception e) {
                checks.put("kafka", "unreachable");
            }
            checks.put("storage", store.reachable() ? "ok" : "unreachable");
            checks.put("status_view", view.healthy() ? "ok" : view.isCaughtUp() ? "restarting" : "catching_up");
            return checks;
        }).onSuccess(checks -> {
            boolean ok = checks.values().stream().allMatch("ok"::equals);
            respond(ctx, ok ? 200 : 503, Map.of("status", ok ? "ready" : "not_ready", "checks", checks));
        }).onFailure(ctx::fail);
    }

    private void openapi(RoutingContext ctx) {
        ctx.response().putHeader("Content-Type", "application/yaml").end(Buffer.buffer(openapi));
    }

    /** The one place errors become {@code {error: {code, message, field}}}. */
    private void failure(RoutingContext ctx) {
        Throwable f = ctx.failure();
        ApiError error;
        if (f instanceof ApiError api) {
            error = api;
        } else if (f instanceof InvalidMessageException invalid) {
            error = new ApiError(400, "invalid_request", invalid.getMessage(), invalid.field());
        } else if (f == null || ctx.statusCode() != 500) {
            int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
            if (status >= 500 && status != 503) {
                LOG.error("{} without a cause on {} {}", status, ctx.request().method(), ctx.request().path(), f);
            }
            error = switch (status) {
                case 400 -> ApiError.badRequest("bad_request", "the request is malformed", null);
                case 404 -> ApiError.notFound("no such resource: " + ctx.request().path());
                case 405 -> new ApiError(405, "method_not_allowed", ctx.request().method() + " is not allowed here", null);
                case 406 -> new ApiError(406, "not_acceptable", "cannot produce the requested type", null);
                case 413 -> new ApiError(413, "payload_too_large", "the body exceeds "
                        + (ctx.request().path().equals("/v1/variations") ? VariationUpload.MAX_BYTES : MAX_BODY_BYTES)
                        + " bytes", null);
                case 415 -> new ApiError(415, "unsupported_media_type", "send Content-Type: application/json", null);
                case 503 -> ApiError.retryLater(503, "timeout", "the request took longer than "
                        + HttpLimits.REQUEST_TIMEOUT_MS + " ms; retry later", 1);
                default -> new ApiError(status, "internal", "internal error", null);
            };
        } else {
            LOG.error("unhandled error on {} {}", ctx.request().method(), ctx.request().path(), f);
            error = new ApiError(500, "internal", "internal error", null);
        }
        if (ctx.response().ended()) {
            return;
        }
        error.headers().forEach(ctx.response()::putHeader);
        // a refused request whose body was not read (too large, unauthenticated): the connection closes once
        // what the client still sends is drained, so that its answer is not lost to a reset
        boolean unread = !ctx.request().isEnded();
        if (unread) {
            ctx.response().putHeader("Connection", "close");
        }
        ErrorBody body = new ErrorBody(new Representations.Error(error.code(), error.getMessage(), error.field()));
        Future<Void> answered = ctx.response().setStatusCode(error.status()).putHeader("Content-Type", JSON)
                .end(Json.write(body));
        if (unread) {
            LingeringClose.drainThenClose(ctx.vertx(), ctx.request(), answered);
        }
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------

    private GatewayPolicy policy() {
        return config.policy();
    }

    /**
     * Sends from the calling event loop, which the gateway's producer never blocks (a send it cannot buffer at once
     * fails at once); completes on this context once the broker has acknowledged the record (acks=all).
     */
    private Future<RecordMetadata> send(String topic, String key, byte[] value) {
        Promise<RecordMetadata> acked = Promise.promise();
        Context context = vertx.getOrCreateContext();
        try {
            // the callback runs on the producer's network thread: hop back to this handler's context
            producer.send(new ProducerRecord<>(topic, key, value), (metadata, e) -> context.runOnContext(v -> {
                if (e == null) {
                    acked.tryComplete(metadata);
                } else {
                    acked.tryFail(e);
                }
            }));
        } catch (RuntimeException e) {
            acked.tryFail(e);
        }
        return acked.future();
    }

    private static void respond(RoutingContext ctx, int status, Object body) {
        if (ctx.response().ended()) {
            return; // the request timed out (503) while Kafka or storage was still answering
        }
        // bytes, not a String: Jackson writes UTF-8 itself, and the String would be encoded once more
        ctx.response().setStatusCode(status).putHeader("Content-Type", JSON).end(Buffer.buffer(Json.writeBytes(body)));
    }

    private static String self(String id) {
        return "/v1/generations/" + id;
    }

    private static Links links(String id) {
        return new Links(self(id), self(id), self(id) + "/images/{k}.png");
    }

    private static byte[] readResource(String name) {
        try (InputStream in = GatewayVerticle.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
