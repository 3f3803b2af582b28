package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gateway runs without a model runtime: its runtime classpath, as Maven resolves it for this module (written
 * by the dependency plugin before the tests), holds no DJL or libtorch artifact. A dependency that drags the
 * model core back in fails here, not in a 300 MB gateway image.
 */
class GatewayClasspathTest {

    private static final Path LISTED = Path.of("target", "runtime-classpath.txt");

    @Test
    void theGatewaysRuntimeClasspathHasNoModelRuntime() throws Exception {
        assertTrue(Files.isRegularFile(LISTED), LISTED + " is written by the build (maven-dependency-plugin)");
        List<String> jars = Arrays.asList(Files.readString(LISTED).trim().split(File.pathSeparator));
        assertTrue(jars.stream().anyMatch(jar -> jar.contains("vertx-web")), "the list is the gateway's: " + jars);
        assertTrue(jars.stream().anyMatch(jar -> jar.contains("kafka-clients")), "the list is the gateway's: " + jars);
        List<String> modelRuntime = jars.stream()
                .filter(jar -> jar.contains(File.separator + "ai" + File.separator + "djl" + File.separator)
                        || jar.contains("pytorch") || jar.contains("model-core") || jar.contains("tokenizers"))
                .toList();
        assertTrue(modelRuntime.isEmpty(), "the gateway must not depend on a model runtime: " + modelRuntime);
    }
}
