package dalle2.gateway;

import dalle2.kafka.Topics;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingState;
import dalle2.messages.TrainingStatus;
import dalle2.pipeline.TrainingStatusView;
import dalle2.storage.ObjectStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/trainings}, {@code GET /v1/trainings/{id}} and its sample grids: training jobs onto
 * {@code training.jobs}, their statuses from the {@link TrainingStatusView}, their grids from object storage. Behind the same API-key check and rate limit as every {@code /v1}
 * route (the gateway's router puts them in front of all of {@code /v1/*}); bad input is a 400 naming the field,
 * through the gateway's one failure handler.
 */
final class TrainingRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingRoutes.class);
    private static final String ID = "[A-Za-z0-9._-]{1,64}";
    private static final String JSON = "application/json";
    private static final Pattern SAMPLE_FILE = Pattern.compile("(\\d{1,12})\\.png");

    /** Sends one record from the calling event loop; completes once the brokers acknowledged it. */
    @FunctionalInterface
    interface Sender {
        Future<RecordMetadata> send(String topic, String key, byte[] value);
    }

    /** {@code POST /v1/trainings} body: {@code base_version} and {@code hyper_parameters} are optional. */
    record SubmitBody(String model, String dataset, Long steps, Map<String, Object> hyperParameters,
                      String baseVersion) {
    }

    record Links(String self) {
    }

    record Accepted(String id, String state, Links links) {
    }

    record Timestamps(String submittedAt, String startedAt, String updatedAt, String finishedAt) {
    }

    /** A sample grid of a training, served by this gateway from object storage. */
    record Sample(long step, String url) {
    }

    /** {@code GET /v1/trainings/{id}}. */
    record Training(String id, String state, String model, String dataset, long steps, Map<String, Object> hyperParameters,
                    String baseVersion, long step, List<TrainingStatus.LossPoint> losses,
                    List<Sample> samples, Long checkpointStep, String worker, int attempts,
                    String publishedVersion, JobStatus.ErrorInfo error, Timestamps timestamps, Links links) {
        static Training of(TrainingStatus s) {
            TrainingRequest r = s.request();
            return new Training(s.trainingId(), s.state().wire(), r == null ? null : r.model(),
                    r == null ? null : r.dataset(), s.steps(), r == null ? Map.of() : r.hyperParameters(),
                    r == null ? null : r.baseVersion(), s.step(), s.losses(),
                    s.samples().stream().map(g -> new Sample(g.step(), sampleUrl(s.trainingId(), g.step()))).toList(),
                    s.checkpointStep(),
                    s.worker(), s.attempts(), s.publishedVersion(), s.error(),
                    new Timestamps(s.submittedAt(), s.startedAt(), s.updatedAt(), s.finishedAt()),
                    new Links(self(s.trainingId())));
        }
    }

    private final TrainingStatusView view;
    private final Sender sender;
    /** Whether the gateway answers anyone (then a list shows every training, as the generations list does). */
    private final java.util.function.BooleanSupplier openMode;
    private final ObjectStore store;

    TrainingRoutes(TrainingStatusView view, Sender sender, ObjectStore store, java.util.function.BooleanSupplier openMode) {
        this.openMode = openMode;
        this.view = view;
        this.sender = sender;
        this.store = store;
    }

    void register(Router router, JsonCharset jsonCharset) {
        router.post("/v1/trainings").handler(jsonCharset);
        router.post("/v1/trainings").consumes(JSON)
                .handler(BodyHandler.create().setBodyLimit(HttpLimits.MAX_BODY_BYTES)).handler(this::submit);
        router.get("/v1/trainings").handler(this::list);
        router.getWithRegex("/v1/trainings/(?<id>" + ID + ")").handler(this::status);
        router.deleteWithRegex("/v1/trainings/(?<id>" + ID + ")").handler(this::cancel);
        router.getWithRegex("/v1/trainings/(?<id>" + ID + ")/samples/(?<file>[^/]+)").handler(this::sample);
    }

    /**
     * The queued status is written first, then the job: a worker's status can then never be overwritten by it, and
     * a job whose write fails is marked failed rather than left queued with no job behind it. With an
     * Idempotency-Key the training id is derived from the key and the caller, so a retry (on any gateway) answers
     * 200 with the same training instead of starting a second one; the first queued status in the topic claims
     * the id when two such submissions race.
     */
    private void submit(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        if (body == null || body.length() == 0) {
            throw ApiError.badRequest("invalid_request", "a JSON body is required", null);
        }
        SubmitBody in = Messages.decode(body.getBytes(), SubmitBody.class);
        String key = GatewayVerticle.idempotencyKey(ctx);
        Principal caller = Authenticator.caller(ctx);
        String id = key == null ? UUID.randomUUID().toString() : IdempotentJobIds.jobId(caller, "training:" + key);
        TrainingRequest request = new TrainingRequest(null, id, in.model(), in.dataset(), in.steps(),
                in.hyperParameters(), in.baseVersion(), Instant.now().toString(), caller.owner());
        TrainingStatus queued = TrainingStatus.queued(request);
        if (key == null) {
            sender.send(Topics.TRAINING_STATUS, id, Messages.encode(queued))
                    .compose(m -> writeJob(request, true))
                    .onSuccess(m -> accepted(ctx, queued, 202))
                    .onFailure(e -> unavailable(ctx, id, e));
            return;
        }
        Optional<TrainingStatus> known = view.get(id);
        if (known.isPresent()) {
            replay(ctx, known.get(), request);
            return;
        }
        sender.send(Topics.TRAINING_STATUS, id, Messages.encode(queued))
                .compose(m -> Future.fromCompletionStage(view.sync(), ctx.vertx().getOrCreateContext())
                        .timeout(GatewayVerticle.VIEW_SYNC_TIMEOUT_MS, TimeUnit.MILLISECONDS))
                .onSuccess(v -> {
                    TrainingStatus winner = view.get(id).orElse(queued);
                    if (winner.request() != null && winner.request().submittedAt().equals(request.submittedAt())) {
                        writeJob(request, false).onSuccess(m -> accepted(ctx, winner, 202))
                                .onFailure(e -> unavailable(ctx, id, e));
                    } else {
                        replay(ctx, winner, request);
                    }
                })
                .onFailure(e -> unavailable(ctx, id, e));
    }

    /**
     * The same key again: 409 if it asked for another training; else the training it started, and for one still
     * queued its job written again, in case the first gateway stopped between the status and the job (a worker
     * skips a second record of a training that has ended, and runs one training only once at a time).
     */
    private void replay(RoutingContext ctx, TrainingStatus known, TrainingRequest request) {
        if (known.request() != null && !known.request().sameParameters(request)) {
            ctx.fail(new ApiError(409, "idempotency_key_reused",
                    "this Idempotency-Key was used for a different training", "Idempotency-Key"));
            return;
        }
        ctx.response().putHeader("Idempotent-Replayed", "true");
        if (known.state() == TrainingState.QUEUED && known.request() != null) {
            writeJob(known.request(), false).onSuccess(m -> accepted(ctx, known, 200))
                    .onFailure(e -> unavailable(ctx, known.trainingId(), e));
            return;
        }
        accepted(ctx, known, 200);
    }

    /**
     * Writes the job. A fresh id's job that cannot be written fails its training (nobody can name it again); a
     * keyed one stays queued: the client's retry with the key writes it again.
     */
    private Future<RecordMetadata> writeJob(TrainingRequest request, boolean failIfNotWritten) {
        String id = request.trainingId();
        Future<RecordMetadata> sent = sender.send(Topics.TRAINING_JOBS, id, Messages.encode(request));
        if (!failIfNotWritten) {
            return sent;
        }
        return sent.recover(e -> {
            sender.send(Topics.TRAINING_STATUS, id, Messages.encode(TrainingStatus.queued(request).failed(
                    "submission_failed", "the training job could not be written to Kafka", Instant.now())));
            return Future.failedFuture(e);
        });
    }

    private void accepted(RoutingContext ctx, TrainingStatus status, int code) {
        view.apply(status);
        String id = status.trainingId();
        ctx.response().putHeader("Location", self(id));
        respond(ctx, code, new Accepted(id, status.state().wire(), new Links(self(id))));
    }

    private void unavailable(RoutingContext ctx, String id, Throwable e) {
        LOG.warn("cannot submit training {}: {}", id, e.toString());
        ctx.fail(ApiError.unavailable("unavailable", "the training queue cannot take writes now; retry later",
                GatewayVerticle.RETRY_AFTER_SECONDS));
    }

    private void status(RoutingContext ctx) {
        withTraining(ctx, s -> respond(ctx, 200, Training.of(s)));
    }

    /** One page of {@code GET /v1/trainings}; {@code next_after} names the last one when more follow. */
    record TrainingList(List<Training> data, String nextAfter) {
    }

    /**
     * {@code GET /v1/trainings?limit=&after=}: the caller's trainings (every one in open mode), newest first, from
     * this gateway's training view.
     */
    private void list(RoutingContext ctx) {
        ListQuery query = ListQuery.parse(ctx);
        if (!view.healthy()) {
            throw ApiError.unavailable("status_unavailable", "training states are not current on this gateway now; "
                    + "retry, or ask another gateway", GatewayVerticle.RETRY_AFTER_SECONDS);
        }
        String owner = openMode.getAsBoolean() ? null : Authenticator.caller(ctx).owner();
        java.util.function.Predicate<TrainingStatus> mine = s -> owner == null
                || s.request() != null && owner.equals(s.request().owner());
        TrainingStatus after = null;
        if (query.after() != null) {
            after = view.get(query.after()).filter(mine).orElseThrow(() -> ApiError.badRequest("invalid_request",
                    "after must name a training of an earlier page", "after"));
        }
        List<TrainingStatus> page = view.newest(mine, after, query.limit() + 1);
        List<Training> data = page.subList(0, Math.min(query.limit(), page.size())).stream().map(Training::of)
                .toList();
        respond(ctx, 200, new TrainingList(data, page.size() > query.limit() ? data.get(data.size() - 1).id()
                : null));
    }

    /**
     * {@code DELETE /v1/trainings/{id}}: a queued training never starts; a running one stops within a step or so
     * (its worker watches for this status), keeping its checkpoint, and publishes nothing. 202 with the
     * training once the cancelled status is durable; 200 when it already was cancelled; 409 when it ended.
     */
    private void cancel(RoutingContext ctx) {
        withTraining(ctx, s -> {
            if (s.state() == TrainingState.CANCELLED) {
                respond(ctx, 200, Training.of(s));
                return;
            }
            if (s.state().terminal()) {
                ctx.fail(new ApiError(409, "already_finished", "training " + s.trainingId() + " already "
                        + s.state().wire(), null));
                return;
            }
            TrainingStatus cancelled = s.cancelled(Instant.now());
            sender.send(Topics.TRAINING_STATUS, s.trainingId(), Messages.encode(cancelled))
                    .onSuccess(m -> {
                        view.apply(cancelled);
                        respond(ctx, 202, Training.of(cancelled));
                    })
                    .onFailure(e -> ctx.fail(ApiError.unavailable("unavailable", "cannot reach Kafka; retry later",
                            GatewayVerticle.RETRY_AFTER_SECONDS)));
        });
    }

    /**
     * {@code GET /v1/trainings/{id}/samples/<step>.png}: a grid the training's status names, streamed from object
     * storage (only those: the path never names an object key).
     */
    private void sample(RoutingContext ctx) {
        Matcher m = SAMPLE_FILE.matcher(ctx.pathParam("file"));
        if (!m.matches()) {
            throw ApiError.notFound("sample grids are named <step>.png");
        }
        long step = Long.parseLong(m.group(1));
        withTraining(ctx, s -> {
            Optional<TrainingStatus.SampleGrid> grid = s.samples().stream().filter(g -> g.step() == step).findFirst();
            if (grid.isEmpty()) {
                ctx.fail(ApiError.notFound("training " + s.trainingId() + " has no sample grid of step " + step));
                return;
            }
            StoredPng.send(ctx, store, grid.get().key(), "sample grid " + step);
        });
    }

    /** A training this gateway has not seen yet may have been submitted elsewhere a moment ago: read up first. */
    private void withTraining(RoutingContext ctx, java.util.function.Consumer<TrainingStatus> then) {
        String id = ctx.pathParam("id");
        if (!view.healthy()) {
            throw ApiError.unavailable("status_unavailable", "training states are not current on this gateway now; "
                    + "retry, or ask another gateway", GatewayVerticle.RETRY_AFTER_SECONDS);
        }
        Optional<TrainingStatus> known = view.get(id);
        if (known.isPresent()) {
            then.accept(known.get());
            return;
        }
        Vertx vertx = ctx.vertx();
        Future.fromCompletionStage(view.sync(), vertx.getOrCreateContext())
                .timeout(GatewayVerticle.VIEW_SYNC_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .onSuccess(v -> view.get(id).ifPresentOrElse(then,
                        () -> ctx.fail(ApiError.notFound("no training " + id))))
                .onFailure(e -> ctx.fail(ApiError.unavailable("status_unavailable",
                        "cannot read training states now; retry later", GatewayVerticle.RETRY_AFTER_SECONDS)));
    }

    private static void respond(RoutingContext ctx, int status, Object body) {
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", JSON)
                .end(Buffer.buffer(dalle2.json.Json.writeBytes(body)));
    }

    static String self(String id) {
        return "/v1/trainings/" + id;
    }

    static String sampleUrl(String id, long step) {
        return self(id) + "/samples/" + step + ".png";
    }
}
