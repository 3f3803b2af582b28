package dalle2.messages;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.type.LogicalType;
import dalle2.json.Json;
import java.io.IOException;
import java.time.Instant;
import java.util.stream.Collectors;

/**
 * Reads and writes the messages of this package with the project's one codec ({@link Json}), made strict for
 * input that strangers write (HTTP bodies, hand-produced Kafka records): no silent coercion of "3" to 3, 2.5 to
 * 2, or 5 to "5"; unknown fields refused. Every failure is an {@link InvalidMessageException} that names the
 * field.
 */
public final class Messages {

    /** No message of this project nests deeper than a few levels: deeper input is hostile, refused early. */
    public static final int MAX_NESTING_DEPTH = 32;
    /** A 64-bit integer has at most 20 characters and a double far fewer than this: longer numbers are refused. */
    public static final int MAX_NUMBER_CHARS = 64;
    /** The longest string a message may hold (embeddings travel as base64 text). */
    public static final int MAX_STRING_CHARS = 16 * 1024 * 1024;

    private static final ObjectMapper STRICT = strict(Json.mapper().copy());

    private Messages() {
    }

    private static ObjectMapper strict(ObjectMapper mapper) {
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .maxNumberLength(MAX_NUMBER_CHARS)
                .maxStringLength(MAX_STRING_CHARS)
                .build());
        // {"prompt":"a","prompt":"b"} means different things to different parsers: refuse it
        mapper.configure(JsonParser.Feature.STRICT_DUPLICATE_DETECTION, true);
        mapper.configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false);
        mapper.configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true);
        for (LogicalType numeric : new LogicalType[] {LogicalType.Integer, LogicalType.Float}) {
            mapper.coercionConfigFor(numeric)
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        }
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Boolean)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        return mapper;
    }

    public static byte[] encode(Object message) {
        return Json.writeBytes(message);
    }

    /** Decodes and validates; the message's constructor checks its own invariants. */
    public static <T> T decode(byte[] json, Class<T> type) {
        if (json == null || json.length == 0) {
            throw new InvalidMessageException(null, "empty message");
        }
        T message;
        try {
            message = STRICT.readValue(json, type);
        } catch (ValueInstantiationException e) {
            if (e.getCause() instanceof InvalidMessageException invalid) {
                throw invalid;
            }
            throw new InvalidMessageException(path(e), rootMessage(e), e);
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidMessageException(path(e), "unknown field '" + e.getPropertyName() + "'", e);
        } catch (JsonMappingException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InvalidMessageException invalid) {
                throw invalid;
            }
            String field = path(e);
            throw new InvalidMessageException(field, field == null ? "malformed message: " + e.getOriginalMessage()
                    : "wrong type for '" + field + "': " + shortMessage(e), e);
        } catch (JsonProcessingException e) {
            throw new InvalidMessageException(null, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new InvalidMessageException(null, "unreadable message: " + e.getMessage(), e);
        }
        if (message == null) {
            // the JSON literal null reads as no object at all
            throw new InvalidMessageException(null, "the message must be a JSON object, got null");
        }
        return message;
    }

    /**
     * Decodes a request read from the requests topic. A request without {@code submitted_at} was submitted when
     * its record was written: it takes the record's timestamp, so every reader (the prior worker, every gateway's
     * view) gives it the same submission time and queue place.
     *
     * @param recordTime the Kafka record's timestamp, or null when it has none
     */
    public static GenerationRequest decodeRequest(byte[] json, Instant recordTime) {
        GenerationRequest request = decode(json, GenerationRequest.class);
        if (recordTime == null) {
            return request;
        }
        try {
            return STRICT.readTree(json).has("submitted_at") ? request : request.withSubmittedAt(recordTime);
        } catch (IOException e) {
            throw new InvalidMessageException(null, "unreadable message: " + e.getMessage(), e);
        }
    }

    private static String path(JsonMappingException e) {
        if (e.getPath().isEmpty()) {
            return null;
        }
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String shortMessage(JsonMappingException e) {
        String m = e.getOriginalMessage();
        int cut = m.indexOf(" (");
        return cut > 0 && cut < 200 ? m.substring(0, cut) : (m.length() > 200 ? m.substring(0, 200) : m);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
