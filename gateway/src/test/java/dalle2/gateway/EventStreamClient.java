package dalle2.gateway;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A server-sent events reader over the JDK's HTTP client, for tests: parses the stream as the SSE specification
 * says (fields up to a blank line, comments ignored) into {@link Event}s, on a thread of its own.
 */
final class EventStreamClient implements AutoCloseable {

    record Event(String id, String name, JsonObject data) {
        String state() {
            return data.getString("state");
        }
    }

    /** What the queue holds after the last event once the server ended the stream. */
    private static final Event END = new Event(null, null, null);

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final HttpResponse<InputStream> response;
    private final Thread reader;
    private volatile String retry;

    private EventStreamClient(HttpResponse<InputStream> response) {
        this.response = response;
        this.reader = new Thread(this::read, "sse-test-reader");
        reader.setDaemon(true);
        if (response.statusCode() == 200) {
            reader.start();
        }
    }

    /** Opens {@code GET path} on the gateway at {@code port}, with a {@code Last-Event-ID} and a key when not null. */
    static EventStreamClient open(int port, String path, String lastEventId, String apiKey) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Accept", "text/event-stream").timeout(Duration.ofSeconds(10));
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return new EventStreamClient(http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream()));
    }

    int statusCode() {
        return response.statusCode();
    }

    String header(String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    /** The {@code retry:} field the server sent, if any. */
    String retry() {
        return retry;
    }

    /** The body of an answer that is not a stream (an error). */
    String errorBody() throws Exception {
        return new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
    }

    /** The next event; fails after {@code timeout}, or when the server ended the stream first. */
    Event next(Duration timeout) throws InterruptedException {
        Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (e == null) {
            throw new AssertionError("no event within " + timeout);
        }
        if (e == END) {
            events.add(END);
            throw new AssertionError("the stream ended");
        }
        return e;
    }

    /** Whether the server ends the stream within {@code timeout} without another event (fails if one comes). */
    boolean endsWithin(Duration timeout) throws InterruptedException {
        Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (e != null && e != END) {
            throw new AssertionError("another event instead of the end: " + e);
        }
        if (e == END) {
            events.add(END);
        }
        return e == END;
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String id = null;
            String name = null;
            StringBuilder data = new StringBuilder();
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        events.add(new Event(id, name, new JsonObject(data.toString())));
                    }
                    id = null;
                    name = null;
                    data.setLength(0);
                } else if (line.startsWith(":")) {
                    continue;
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                } else if (line.startsWith("retry: ")) {
                    retry = line.substring(7);
                }
            }
        } catch (Exception e) {
            // the stream was closed: the end, as far as a test is concerned
        }
        events.add(END);
    }

    @Override
    public void close() throws Exception {
        response.body().close();
    }
}
