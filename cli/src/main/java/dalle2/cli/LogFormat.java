package dalle2.cli;

import ch.qos.logback.core.PropertyDefinerBase;
import java.util.Locale;

/**
 * Chooses the console log format for {@code logback.xml}: {@code text} (one human-readable line, the default for
 * the CLI) or {@code json} (one JSON object per line from logstash-logback-encoder, with the MDC's
 * {@code job_id}, for a log pipeline). The system property {@value #PROPERTY} wins over the environment variable
 * {@value #ENVIRONMENT}; any other value falls back to text with a warning, so a typo never silences the logs.
 */
public final class LogFormat extends PropertyDefinerBase {

    public static final String ENVIRONMENT = "DALLE2_LOG_FORMAT";
    public static final String PROPERTY = "dalle2.log.format";

    @Override
    public String getPropertyValue() {
        String chosen = System.getProperty(PROPERTY, System.getenv(ENVIRONMENT));
        if (chosen == null || chosen.isBlank()) {
            return "text";
        }
        String format = chosen.trim().toLowerCase(Locale.ROOT);
        if (format.equals("text") || format.equals("json")) {
            return format;
        }
        addWarn(ENVIRONMENT + "=" + chosen + " is neither text nor json; logging text");
        return "text";
    }
}
