package dalle2.gateway;

import dalle2.json.Json;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.pipeline.StatusView;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The server-sent event streams of {@code GET /v1/generations/{id}/events}, driven by the gateway's
 * {@link StatusView}: one listener on the view wakes the streams of the job a status names, and the streams of
 * queued jobs (whose queue positions any status may move). Nothing here reads Kafka; a stream looks its job up
 * in the view, in memory.
 *
 * <p>Each stream is bounded: it lives at most {@link Limits#lifetime()} (the client reconnects with
 * {@code Last-Event-ID} and loses nothing), a client that does not read (the response's write queue full) is
 * disconnected the same way, and wake-ups that arrive while one is pending collapse into one look-up. A comment
 * line every {@link Limits#heartbeat()} keeps idle connections and proxies from closing a quiet stream. At most
 * {@link Limits#maxStreams()} streams are open per gateway; past that, 503.
 */
public final class EventStreams implements AutoCloseable {

    /**
     * @param heartbeat  interval of the keep-alive comment; below the server's idle timeout
     * @param lifetime   longest a stream stays open
     * @param maxStreams streams open at once on this gateway
     * @param retry      what the stream tells clients to wait before they reconnect
     */
    public record Limits(Duration heartbeat, Duration lifetime, int maxStreams, Duration retry) {
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(15), Duration.ofMinutes(10), 2_000,
                Duration.ofSeconds(1));

        public Limits {
            if (heartbeat.toSeconds() >= HttpLimits.IDLE_TIMEOUT_SECONDS) {
                throw new IllegalArgumentException("the heartbeat must come before the idle timeout closes the stream");
            }
        }
    }

    /** Bytes a stream may have unsent before its client counts as not reading. */
    static final int WRITE_QUEUE_BYTES = 64 * 1024;
    static final String MEDIA_TYPE = "text/event-stream";

    private final StatusView view;
    private final Limits limits;
    private final Map<String, Set<Stream>> byJob = new ConcurrentHashMap<>();
    private final Set<Stream> queued = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final Consumer<JobStatus> listener = this::wake;

    EventStreams(StatusView view, Limits limits) {
        this.view = view;
        this.limits = limits;
        view.onApplied(listener);
    }

    public int openStreams() {
        return open.get();
    }

    /**
     * Answers the request with the job's event stream from {@code cursor} on: 204 when the client has seen the
     * job's final state already (SSE's way to tell it not to reconnect), 503 past the bound, else 200 and events.
     */
    void serve(RoutingContext ctx, String jobId, JobEventCursor cursor) {
        HttpServerResponse response = ctx.response();
        if (cursor.finished()) {
            response.setStatusCode(204).end();
            return;
        }
        if (open.incrementAndGet() > limits.maxStreams()) {
            open.decrementAndGet();
            ctx.fail(ApiError.unavailable("too_many_streams", "this gateway has " + limits.maxStreams()
                    + " event streams open; poll GET /v1/generations/" + jobId + " or retry later",
                    GatewayVerticle.RETRY_AFTER_SECONDS));
            return;
        }
        response.setStatusCode(200).setChunked(true)
                .putHeader("Content-Type", MEDIA_TYPE + "; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                // proxies such as nginx buffer responses unless told not to
                .putHeader("X-Accel-Buffering", "no")
                .setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
        Stream stream = new Stream(ctx.vertx(), Vertx.currentContext(), response, jobId, cursor);
        byJob.compute(jobId, (id, streams) -> {
            Set<Stream> s = streams != null ? streams : ConcurrentHashMap.newKeySet();
            s.add(stream);
            return s;
        });
        response.closeHandler(v -> stream.close());
        response.write("retry: " + limits.retry().toMillis() + "\n\n");
        stream.start();
    }

    /** On the view's thread: wakes the streams a status may concern. Cheap; the work happens on each stream's loop. */
    private void wake(JobStatus status) {
        Set<Stream> streams = byJob.get(status.jobId());
        if (streams != null) {
            streams.forEach(Stream::wake);
        }
        queued.forEach(Stream::wake);
    }

    @Override
    public void close() {
        view.removeListener(listener);
    }

    /** One client's stream, touched only on its own event loop (but for {@link #wake}). */
    private final class Stream {
        private final Vertx vertx;
        private final Context context;
        private final HttpServerResponse response;
        private final String jobId;
        private final JobEventCursor cursor;
        private final AtomicBoolean wakePending = new AtomicBoolean();
        private long heartbeatTimer = -1;
        private long lifetimeTimer = -1;
        private boolean closed;

        Stream(Vertx vertx, Context context, HttpServerResponse response, String jobId, JobEventCursor cursor) {
            this.vertx = vertx;
            this.context = context;
            this.response = response;
            this.jobId = jobId;
            this.cursor = cursor;
        }

        void start() {
            heartbeatTimer = vertx.setPeriodic(limits.heartbeat().toMillis(), t -> {
                if (!closed) {
                    send(": keep-alive\n\n");
                }
            });
            // ending the stream is safe: the client reconnects with the last id it got and misses nothing
            lifetimeTimer = vertx.setTimer(limits.lifetime().toMillis(), t -> end());
            push();
        }

        void wake() {
            if (wakePending.compareAndSet(false, true)) {
                context.runOnContext(v -> {
                    wakePending.set(false);
                    push();
                });
            }
        }

        private void push() {
            if (closed) {
                return;
            }
            JobStatus status = view.get(jobId).orElse(null);
            if (status == null) {
                return;               // forgotten by a bounded view: nothing new to tell
            }
            OptionalInt position = view.queuePosition(jobId);
            List<JobEventCursor.Event> events = cursor.next(status, position.isPresent() ? position.getAsInt() : null);
            StringBuilder text = new StringBuilder();
            for (JobEventCursor.Event e : events) {
                text.append("id: ").append(e.id()).append('\n')
                        .append("event: ").append(e.name()).append('\n')
                        .append("data: ").append(Json.write(e.data())).append("\n\n");
            }
            if (status.state() == JobState.QUEUED) {
                queued.add(this);
            } else {
                queued.remove(this);
            }
            if (!text.isEmpty()) {
                send(text.toString());
            }
            if (cursor.finished()) {
                end();
            }
        }

        private void send(String text) {
            if (closed) {
                return;
            }
            response.write(Buffer.buffer(text));
            if (response.writeQueueFull()) {
                // a client that does not read: let it go rather than hold its events in memory
                response.reset();
                close();
            }
        }

        private void end() {
            if (!closed) {
                close();
                if (!response.ended()) {
                    response.end();
                }
            }
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            vertx.cancelTimer(heartbeatTimer);
            vertx.cancelTimer(lifetimeTimer);
            queued.remove(this);
            byJob.computeIfPresent(jobId, (id, streams) -> {
                streams.remove(this);
                return streams.isEmpty() ? null : streams;
            });
            open.decrementAndGet();
        }
    }
}
