package dalle2.cli.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Machine-level figures a benchmark prints beside the model's: matmul peak and peak resident memory. */
public final class Measurements {

    private Measurements() {
    }

    /** Achieved GFLOP/s of an n×n float32 matrix multiply on the engine's threads (best of several). */
    public static double matmulPeakGflops(NDManager manager, int n, int repeats) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray a = scope.randomNormal(new Shape(n, n));
            NDArray b = scope.randomNormal(new Shape(n, n));
            a.matMul(b).close(); // warm-up
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                long start = System.nanoTime();
                NDArray c = a.matMul(b);
                c.getFloat(0, 0); // forces completion
                best = Math.min(best, (System.nanoTime() - start) / 1e9);
                c.close();
            }
            return 2.0 * n * n * n / best / 1e9;
        }
    }

    /** The 1-minute load average, or −1 where the system does not tell: for figures taken on a shared machine. */
    public static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** The 1-, 5- and 15-minute load averages ("0.80 1.78 2.28"), or "unknown" where /proc is missing. */
    public static String loadAverages() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Peak resident set size of this process in MiB (VmHWM), or −1 where /proc is missing. */
    public static double peakRssMib() {
        return statusField("VmHWM:");
    }

    /** Current resident set size of this process in MiB (VmRSS), or −1 where /proc is missing. */
    public static double rssMib() {
        return statusField("VmRSS:");
    }

    private static double statusField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    String kb = line.substring(field.length()).trim().split("\\s+")[0];
                    return Long.parseLong(kb) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
