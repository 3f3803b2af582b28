package dalle2.cli.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** How to start one process: its command line, extra environment and the file its output goes to. */
public record ProcessSpec(String name, List<String> command, Map<String, String> environment, Path logFile) {

    public ProcessSpec {
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
    }

    /** The same process with {@code -D<property>=<value>} added before the main class. */
    public ProcessSpec withSystemProperty(String property, String value) {
        List<String> withProperty = new ArrayList<>(command);
        withProperty.add(1, "-D" + property + "=" + value);
        return new ProcessSpec(name, withProperty, environment, logFile);
    }
}
