package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import dalle2.pipeline.StageWorker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The CLI's own {@code logback.xml}, configured in a fresh logger context, with either log format. */
class LogFormatTest {

    @AfterEach
    void clearTheSwitch() {
        System.clearProperty(LogFormat.PROPERTY);
        MDC.clear();
    }

    @Test
    void theJsonFormatWritesOneJsonObjectPerLineWithTheJobIdOfTheMdc() throws Exception {
        System.setProperty(LogFormat.PROPERTY, "json");
        String line = logOneLine("cancelled-batch-job").trim();

        assertFalse(line.contains("\n"), "one line: " + line);
        JsonNode json = Json.mapper().readTree(line);
        assertEquals("cancelled-batch-job", json.path(StageWorker.JOB_ID_MDC_KEY).asText(), line);
        assertEquals("dead-lettering generation.requests-0@7: bad", json.path("message").asText());
        assertEquals("WARN", json.path("level").asText());
        assertEquals("dalle2.pipeline.StageWorker", json.path("logger_name").asText());
        assertTrue(json.has("@timestamp"), line);
    }

    @Test
    void theTextFormatIsTheDefaultAndIsNotJson() throws Exception {
        String line = logOneLine("some-job");
        assertTrue(line.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  \\[[^]]+] d\\.pipeline\\.StageWorker - "
                + "dead-lettering generation\\.requests-0@7: bad\\s*"), line);
    }

    @Test
    void anUnknownFormatFallsBackToText() throws Exception {
        System.setProperty(LogFormat.PROPERTY, "yaml");
        assertTrue(logOneLine("some-job").contains(" WARN  ["), "text, not silence");
    }

    /**
     * Configures this JVM's logger context from the CLI's logback.xml, logs one warning with a job id in the MDC,
     * and restores the test configuration.
     */
    private static String logOneLine(String jobId) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            configure(context, "/logback.xml");
            MDC.put(StageWorker.JOB_ID_MDC_KEY, jobId);
            LoggerFactory.getLogger(StageWorker.class).warn("dead-lettering {}-{}@{}: {}", "generation.requests", 0, 7,
                    "bad");
        } finally {
            System.setErr(original);
            configure(context, "/logback-test.xml");
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static void configure(LoggerContext context, String resource) throws Exception {
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(LogFormatTest.class.getResource(resource));
    }
}
