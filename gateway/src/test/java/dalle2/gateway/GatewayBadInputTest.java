package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and malformed requests, sent over raw sockets so that nothing a client library would refuse to send
 * is left out: each is answered with a 4xx and the JSON error body, never a 5xx or silence, and the gateway
 * still accepts a good job afterwards.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayBadInputTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    static final String KEY = "bad-input-key-0123456789";
    private static final String AUTH = "Authorization: Bearer " + KEY;
    private static final String JSON = "Content-Type: application/json";
    private static final String GOOD = "{\"prompt\":\"a good job\",\"decoder_steps\":2,\"prior_steps\":2}";
    /** Bounds of the random fuzz: a fixed seed reproduces a failure; the count and time keep CI short. */
    private static final long FUZZ_SEED = 20261201L;
    private static final int FUZZ_CASES = 150;
    private static final Duration FUZZ_BUDGET = Duration.ofSeconds(40);

    private static RawHttp http;

    @BeforeAll
    static void start() throws Exception {
        GatewayPolicy policy = GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse("fuzzer:" + KEY)))
                .withRateLimit(new RateLimitConfig(1e6, RateLimitConfig.MAX_BURST));
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), policy)));
        http = new RawHttp(gateway.port());
    }

    @AfterAll
    static void aGoodJobIsStillAcceptedAfterwards() throws Exception {
        RawHttp.Response r = post(JSON, GOOD.getBytes(StandardCharsets.UTF_8));
        assertEquals(202, r.status(), r.toString());
    }

    private static RawHttp.Response post(String contentType, byte[] body) throws Exception {
        return http.exchange("POST /v1/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + AUTH
                + "\r\n" + contentType + "\r\nContent-Length: " + body.length, body);
    }

    private static void assertJsonError(RawHttp.Response r, int expected) {
        assertEquals(expected, r.status(), r.toString());
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.toString());
        r.error();
    }

    private static void assertClientError(RawHttp.Response r) {
        assertTrue(r.status() >= 400 && r.status() < 500, "a 4xx: " + r);
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.toString());
        r.error();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static Stream<Arguments> badBodies() {
        String deepArrays = "[".repeat(10_000) + "]".repeat(10_000);
        String deepObjects = "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000);
        return Stream.of(
                Arguments.of("the JSON null", utf8("null")),
                Arguments.of("a JSON true", utf8("true")),
                Arguments.of("a JSON string", utf8("\"prompt\"")),
                Arguments.of("a JSON number", utf8("123")),
                Arguments.of("an empty object", utf8("{}")),
                Arguments.of("a lone high surrogate escape", utf8("{\"prompt\":\"\\ud800\"}")),
                Arguments.of("a lone low surrogate escape", utf8("{\"prompt\":\"x\\udc00x\"}")),
                Arguments.of("a NUL escape in the prompt", utf8("{\"prompt\":\"a\\u0000b\"}")),
                Arguments.of("invalid UTF-8 bytes", concat(utf8("{\"prompt\":\"a"), new byte[] {(byte) 0xC3, 0x28},
                        utf8("\"}"))),
                Arguments.of("an encoded surrogate (CESU-8)", concat(utf8("{\"prompt\":\""),
                        new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, utf8("\"}"))),
                Arguments.of("NaN", utf8("{\"prompt\":\"a\",\"eta\":NaN}")),
                Arguments.of("Infinity", utf8("{\"prompt\":\"a\",\"eta\":Infinity}")),
                Arguments.of("-Infinity", utf8("{\"prompt\":\"a\",\"prior_guidance\":-Infinity}")),
                Arguments.of("a double overflowing to infinity", utf8("{\"prompt\":\"a\",\"eta\":1e999}")),
                Arguments.of("an exponent as the image count", utf8("{\"prompt\":\"a\",\"n\":1e400}")),
                Arguments.of("a seed past 64 bits", utf8("{\"prompt\":\"a\",\"seed\":123456789012345678901234567890}")),
                Arguments.of("a 5,000-digit number", utf8("{\"prompt\":\"a\",\"n\":1" + "0".repeat(5000) + "}")),
                Arguments.of("10,000 nested arrays", utf8("{\"prompt\":" + deepArrays + "}")),
                Arguments.of("10,000 nested objects", utf8(deepObjects)),
                Arguments.of("10,000 nested arrays at the root", utf8(deepArrays)),
                Arguments.of("a duplicate field", utf8("{\"prompt\":\"a\",\"prompt\":\"b\"}")),
                Arguments.of("a trailing comma", utf8("{\"prompt\":\"a\",}")),
                Arguments.of("trailing tokens", utf8("{\"prompt\":\"a\"} {\"prompt\":\"b\"}")),
                Arguments.of("single quotes", utf8("{'prompt':'a'}")),
                Arguments.of("an unquoted name", utf8("{prompt:\"a\"}")),
                Arguments.of("a comment", utf8("/* hi */{\"prompt\":\"a\"}")),
                Arguments.of("a boolean count", utf8("{\"prompt\":\"a\",\"n\":true}")),
                Arguments.of("a null prompt", utf8("{\"prompt\":null}")),
                Arguments.of("an object prompt", utf8("{\"prompt\":{\"text\":\"a\"}}")),
                Arguments.of("a string seed", utf8("{\"prompt\":\"a\",\"seed\":\"7\"}")),
                Arguments.of("a fractional seed", utf8("{\"prompt\":\"a\",\"seed\":-1.5}")),
                Arguments.of("a negative count", utf8("{\"prompt\":\"a\",\"n\":-2147483648}")),
                Arguments.of("an unterminated string", utf8("{\"prompt\":\"a")),
                Arguments.of("a bad escape", utf8("{\"prompt\":\"\\x41\"}")),
                Arguments.of("a raw control character", utf8("{\"prompt\":\"a\u0001b\"}")),
                Arguments.of("an unknown field", utf8("{\"prompt\":\"a\",\"__proto__\":{}}")),
                Arguments.of("only whitespace", utf8(" \r\n\t ")),
                Arguments.of("an empty body", new byte[0]),
                Arguments.of("a cost over the cap", utf8("{\"prompt\":\"a\",\"n\":8,\"prior_steps\":1000,"
                        + "\"decoder_steps\":1000}")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBodies")
    void aMalformedOrHostileBodyIs400WithTheJsonErrorBody(String name, byte[] body) throws Exception {
        assertJsonError(post(JSON, body), 400);
    }

    static Stream<Arguments> badRequests() {
        String post = "POST /v1/generations HTTP/1.1\r\nHost: h\r\nConnection: close\r\n";
        String get = "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n" + AUTH;
        String body = "\r\nContent-Length: " + GOOD.length();
        return Stream.of(
                Arguments.of("no Authorization", post + JSON + body, 401),
                Arguments.of("a Basic Authorization", post + JSON + "\r\nAuthorization: Basic dXNlcjpwYXNz" + body, 401),
                Arguments.of("a Bearer without a key", post + JSON + "\r\nAuthorization: Bearer" + body, 401),
                Arguments.of("a Bearer with spaces only", post + JSON + "\r\nAuthorization: Bearer    " + body, 401),
                Arguments.of("a wrong key", post + JSON + "\r\nAuthorization: Bearer wrong-key-0123456789" + body, 401),
                Arguments.of("the key with a byte more", post + JSON + "\r\n" + AUTH + "x" + body, 401),
                Arguments.of("a key prefix", post + JSON + "\r\nAuthorization: Bearer " + KEY.substring(0, 10) + body,
                        401),
                Arguments.of("a 600-character key", post + JSON + "\r\nAuthorization: Bearer " + "k".repeat(600) + body,
                        401),
                Arguments.of("a key of Latin-1 bytes", post + JSON + "\r\nAuthorization: Bearer \u00ff\u00fe\u00e9" + body,
                        401),
                Arguments.of("no auth on a status", "GET /v1/generations/abc HTTP/1.1\r\nHost: h\r\nConnection: close",
                        401),
                Arguments.of("no auth on an image",
                        "GET /v1/generations/abc/images/0.png HTTP/1.1\r\nHost: h\r\nConnection: close", 401),
                Arguments.of("no auth on a cancel", "DELETE /v1/generations/abc HTTP/1.1\r\nHost: h\r\nConnection: close",
                        401),
                Arguments.of("no auth on an unknown /v1 path", "GET /v1/nothing HTTP/1.1\r\nHost: h\r\nConnection: close",
                        401),
                Arguments.of("text/plain", post + AUTH + "\r\nContent-Type: text/plain" + body, 415),
                Arguments.of("application/xml", post + AUTH + "\r\nContent-Type: application/xml" + body, 415),
                Arguments.of("no Content-Type", post + AUTH + body, 415),
                Arguments.of("charset latin-1", post + AUTH + "\r\n" + JSON + "; charset=iso-8859-1" + body, 415),
                Arguments.of("charset utf-16", post + AUTH + "\r\n" + JSON + ";charset=\"UTF-16\"" + body, 415),
                Arguments.of("a huge declared length", post + AUTH + "\r\n" + JSON + "\r\nContent-Length: 10000000", 413),
                Arguments.of("a negative length", post + AUTH + "\r\n" + JSON + "\r\nContent-Length: -5", 400),
                Arguments.of("a non-numeric length", post + AUTH + "\r\n" + JSON + "\r\nContent-Length: ten", 400),
                Arguments.of("two lengths that differ", post + AUTH + "\r\n" + JSON + body
                        + "\r\nContent-Length: 3", 400),
                Arguments.of("a header line without a colon", post + AUTH + "\r\n" + JSON + "\r\nnot a header" + body,
                        400),
                Arguments.of("a 20 KB header", post + AUTH + "\r\n" + JSON + "\r\nX-Big: " + "b".repeat(20_000) + body,
                        431),
                Arguments.of("a 10 KB path", String.format(get, "/v1/generations/" + "a".repeat(10_000)), 414),
                Arguments.of("a 201-character Idempotency-Key", post + AUTH + "\r\n" + JSON + "\r\nIdempotency-Key: "
                        + "i".repeat(201) + body, 400),
                Arguments.of("an empty Idempotency-Key", post + AUTH + "\r\n" + JSON + "\r\nIdempotency-Key: " + body,
                        400),
                Arguments.of("path traversal", String.format(get, "/v1/generations/../../etc/passwd"), 404),
                Arguments.of("encoded path traversal", String.format(get, "/v1/generations/%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
                        404),
                Arguments.of("traversal in an image name",
                        String.format(get, "/v1/generations/abc/images/..%2f..%2fsecret.png"), 404),
                Arguments.of("an encoded NUL id", String.format(get, "/v1/generations/%00"), 404),
                Arguments.of("a bad percent-encoding", String.format(get, "/v1/generations/%zz"), 400),
                Arguments.of("a truncated percent-encoding", String.format(get, "/v1/generations/ab%2"), 400),
                Arguments.of("encoded invalid UTF-8", String.format(get, "/v1/generations/%ff%fe"), 404),
                Arguments.of("a 65-character id", String.format(get, "/v1/generations/" + "a".repeat(65)), 404),
                Arguments.of("a huge image index", String.format(get, "/v1/generations/abc/images/99999999999.png"), 404),
                Arguments.of("PUT on the collection", "PUT /v1/generations HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                        + AUTH + "\r\n" + JSON + body, 405),
                Arguments.of("PATCH on a job", "PATCH /v1/generations/abc HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                        + AUTH, 405),
                Arguments.of("DELETE on the collection",
                        "DELETE /v1/generations HTTP/1.1\r\nHost: h\r\nConnection: close\r\n" + AUTH, 405),
                Arguments.of("an unknown method", "BREW /v1/generations HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                        + AUTH, 405),
                Arguments.of("POST on healthz", "POST /healthz HTTP/1.1\r\nHost: h\r\nConnection: close", 405),
                Arguments.of("a garbage request line", "\u0001\u0002 nonsense", 400));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("badRequests")
    void aHostileRequestIsA4xxWithTheJsonErrorBody(String name, String head, int status) throws Exception {
        byte[] body = head.startsWith("POST") || head.startsWith("PUT") ? utf8(GOOD) : new byte[0];
        if (head.contains("Content-Length: 10000000") || head.contains("Content-Length: -5")
                || head.contains("Content-Length: ten")) {
            body = new byte[0];
        }
        assertJsonError(http.exchange(head, body), status);
    }

    /**
     * The one refusal not in the JSON shape: Vert.x answers a request line with an HTTP version it does not know
     * (an HTTP/2 preface on this HTTP/1.1-only server included) with a bodiless 501 and closes, before any
     * handler of ours can run. What matters is that it answers at once and the gateway carries on.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"PRI * HTTP/2.0\r\n\r\nSM",
            "GET /healthz HTTP/1.2\r\nHost: h", "GET /healthz HTTP/9.9\r\nHost: h"})
    void anUnknownHttpVersionIsRefusedAtOnceAndTheConnectionClosed(String head) throws Exception {
        RawHttp.Response r = http.exchange(head, new byte[0]);
        assertEquals(501, r.status(), r.toString());
    }

    /** Slower than {@link HttpLimits#REQUEST_TIMEOUT_MS} in all, though never idle for long. */
    @Test
    void aBodyTrickledInSlowerThanTheRequestTimeoutGets503AndAClosedConnection() throws Exception {
        byte[] body = utf8(GOOD);
        long started = System.nanoTime();
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", http.port())) {
            socket.setSoTimeout(1000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(utf8("POST /v1/generations HTTP/1.1\r\nHost: h\r\n" + AUTH + "\r\n" + JSON
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n"));
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            int sent = 0;
            while (answer.size() == 0 && sent < body.length - 1) {
                out.write(body[sent++]);
                out.flush();
                try {
                    byte[] buffer = new byte[4096];
                    for (int r; (r = socket.getInputStream().read(buffer)) >= 0; ) {
                        answer.write(buffer, 0, r);
                    }
                } catch (java.net.SocketTimeoutException stillReading) {
                    // a byte a second: the connection is never idle for the idle timeout
                }
            }
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            String text = answer.toString(StandardCharsets.UTF_8);
            assertTrue(text.startsWith("HTTP/1.1 503"), text);
            assertTrue(text.contains("\"timeout\""), text);
            assertTrue(tookMs >= HttpLimits.REQUEST_TIMEOUT_MS - 1000 && tookMs < HttpLimits.REQUEST_TIMEOUT_MS + 10_000,
                    "answered after " + tookMs + " ms");
        }
    }

    @Test
    void anOversizedBodyIs413EvenWhenChunked() throws Exception {
        byte[] big = utf8("{\"prompt\":\"" + "x".repeat(70_000) + "\"}");
        assertJsonError(post(JSON, big), 413);
        String head = "POST /v1/generations HTTP/1.1\r\nHost: h\r\nConnection: close\r\n" + AUTH + "\r\n" + JSON
                + "\r\nTransfer-Encoding: chunked";
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        for (int i = 0; i < 20; i++) {
            chunks.writeBytes(utf8("1000\r\n" + "x".repeat(0x1000) + "\r\n"));
        }
        chunks.writeBytes(utf8("0\r\n\r\n"));
        assertJsonError(http.exchange(head, chunks.toByteArray()), 413);
    }

    @Test
    void randomBytesAsBodiesAndHeadersNeverGiveA5xxOrSilence() throws Exception {
        Random random = new Random(FUZZ_SEED);
        long deadline = System.nanoTime() + FUZZ_BUDGET.toNanos();
        List<String> failures = new ArrayList<>();
        int sent = 0;
        for (int i = 0; i < FUZZ_CASES && System.nanoTime() < deadline; i++, sent++) {
            RawHttp.Response r;
            String what;
            switch (i % 3) {
                case 0 -> {
                    byte[] body = new byte[random.nextInt(2048)];
                    random.nextBytes(body);
                    what = "random body of " + body.length + " bytes";
                    r = post(JSON, body);
                }
                case 1 -> {
                    byte[] good = utf8(GOOD);
                    for (int m = 0; m < 1 + random.nextInt(4); m++) {
                        good[random.nextInt(good.length)] = (byte) random.nextInt(256);
                    }
                    what = "mutated good body";
                    r = post(JSON, good);
                }
                default -> {
                    byte[] value = new byte[1 + random.nextInt(200)];
                    random.nextBytes(value);
                    String header = random.nextBoolean() ? "Idempotency-Key" : random.nextBoolean() ? "Authorization"
                            : "Content-Type";
                    what = "random " + header + " header";
                    String head = "POST /v1/generations HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                            + (header.equals("Authorization") ? "" : AUTH + "\r\n")
                            + (header.equals("Content-Type") ? "" : JSON + "\r\n")
                            + header + ": " + new String(value, StandardCharsets.ISO_8859_1)
                            + "\r\nContent-Length: " + GOOD.length();
                    r = http.exchange(head, utf8(GOOD));
                }
            }
            boolean accepted = r.status() == 200 || r.status() == 202;
            boolean jsonError = false;
            try {
                r.error();
                jsonError = true;
            } catch (RuntimeException | AssertionError e) {
                // reported below
            }
            if (!(accepted || (r.status() >= 400 && r.status() < 500 && jsonError))) {
                failures.add("case " + i + " (" + what + "): " + r);
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + sent + " fuzz cases: " + failures);
        assertTrue(sent >= FUZZ_CASES / 2, "only " + sent + " fuzz cases ran in " + FUZZ_BUDGET);
    }
}
