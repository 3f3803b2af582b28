package dalle2.cli.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Command lines for the cluster's processes: this JVM's own java and classpath (so the harness works from the
 * packaged jar and from surefire alike) and the flags the {@code ./dalle2} launcher gives every role.
 */
public final class JvmLauncher {

    /** The same allocator the launcher preloads when present: it halves U-Net step time on CPU. */
    static final Path TCMALLOC = Path.of("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4");

    private final String java;
    private final String classpath;

    public JvmLauncher() {
        this.java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        this.classpath = System.getProperty("java.class.path");
    }

    /** {@code java <flags> -cp <this classpath> <mainClass> <args>} with a heap of {@code heapMb}. */
    public ProcessSpec spec(String name, int heapMb, String mainClass, List<String> args, Path logFile) {
        List<String> command = new ArrayList<>(List.of(java, "-Xmx" + heapMb + "m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true",
                // one libtorch thread per worker: six workers already share two cores
                "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                "-cp", classpath, mainClass));
        command.addAll(args);
        return new ProcessSpec(name, command, environment(), logFile);
    }

    private static Map<String, String> environment() {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("OPT_OUT_TRACKING", "true");
        // idle OpenMP threads otherwise spin and starve the brokers and the other workers
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        if (Files.isRegularFile(TCMALLOC)) {
            String preload = System.getenv("LD_PRELOAD");
            env.put("LD_PRELOAD", TCMALLOC + (preload == null || preload.isBlank() ? "" : ":" + preload));
        }
        return env;
    }
}
