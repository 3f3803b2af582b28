package dalle2.gateway;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for requests no well-behaved client sends (odd bytes in headers, lying lengths,
 * unknown methods). Every exchange closes its connection and gives up after {@link #TIMEOUT_MS}: a gateway that
 * does not answer fails the test instead of hanging it.
 */
final class RawHttp {

    static final int TIMEOUT_MS = 10_000;

    /** A parsed answer; {@code status} is -1 when the server closed without answering. */
    record Response(int status, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The error object of a JSON error body; fails when the body is not one. */
        JsonObject error() {
            JsonObject error = new JsonObject(text()).getJsonObject("error");
            if (error == null || error.getString("code") == null || error.getString("message") == null
                    || !error.containsKey("field")) {
                throw new AssertionError("not a JSON error body: " + text());
            }
            return error;
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + text();
        }
    }

    private final int port;

    RawHttp(int port) {
        this.port = port;
    }

    int port() {
        return port;
    }

    /** Sends the bytes as they are (they must hold the whole request) and reads the answer until the close. */
    Response exchange(byte[] request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before reading all of a refused body: read what it said
            }
            return parse(readAll(socket.getInputStream()));
        }
    }

    /**
     * Sends the head, waits {@code pauseMs} (the server has answered by then), then sends the whole body and reads
     * the answer; fails if the server stopped reading before the body was sent, as a client would see a reset.
     */
    Response exchangeAfterPause(String head, byte[] body, long pauseMs) throws IOException, InterruptedException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            out.write((head + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            Thread.sleep(pauseMs);
            for (int at = 0; at < body.length; at += 65536) {
                out.write(body, at, Math.min(65536, body.length - at));
            }
            out.flush();
            return parse(readAll(socket.getInputStream()));
        }
    }

    /** A request with the given head lines (request line first, CRLF added) and body. */
    Response exchange(String head, byte[] body) throws IOException {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.write(head.getBytes(StandardCharsets.ISO_8859_1));
        request.write("\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        request.write(body);
        return exchange(request.toByteArray());
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int r; (r = in.read(buffer)) >= 0; ) {
                all.write(buffer, 0, r);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no complete answer within " + TIMEOUT_MS + " ms; got: "
                    + new String(all.toByteArray(), StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            // a reset after the answer was written: keep what arrived
        }
        return all.toByteArray();
    }

    private static Response parse(byte[] raw) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            return new Response(-1, Map.of(), raw);
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).strip());
        }
        byte[] body = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = dechunk(body);
        }
        return new Response(status, headers, body);
    }

    private static byte[] dechunk(byte[] chunked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String s = new String(chunked, StandardCharsets.ISO_8859_1);
        int at = 0;
        while (at < s.length()) {
            int eol = s.indexOf("\r\n", at);
            int size = Integer.parseInt(s.substring(at, eol).split(";")[0].strip(), 16);
            if (size == 0) {
                break;
            }
            out.write(chunked, eol + 2, size);
            at = eol + 2 + size + 2;
        }
        return out.toByteArray();
    }
}
