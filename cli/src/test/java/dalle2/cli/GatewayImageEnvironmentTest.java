package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.gateway.GatewayEnvironment;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The gateway's container image starts the gateway without the CLI ({@link GatewayEnvironment}); this keeps the two
 * in step: a variable {@code dalle2 gateway} reads that the image's entry point ignores would be a setting that
 * silently works on a laptop and not in the cluster.
 */
class GatewayImageEnvironmentTest {

    private static final Pattern ENV_LOOKUP = Pattern.compile("\\$\\{env:([A-Z0-9_]+)");

    @Test
    void everyVariableTheGatewayCommandReadsIsReadByTheImagesEntryPoint() {
        Set<String> read = new TreeSet<>();
        for (OptionSpec option : new CommandLine(new GatewayCommand()).getCommandSpec().options()) {
            if (option.defaultValue() != null) {
                Matcher m = ENV_LOOKUP.matcher(option.defaultValue());
                while (m.find()) {
                    read.add(m.group(1));
                }
            }
        }
        read.add(PolicyOptions.KEYS_ENV);
        read.add("DALLE2_WEBHOOK_SECRET");
        assertFalse(read.isEmpty());
        Set<String> missing = new TreeSet<>(read);
        missing.removeAll(GatewayEnvironment.VARIABLES);
        assertTrue(missing.isEmpty(), "read by `dalle2 gateway` but not by GatewayEnvironment: " + missing);
    }
}
