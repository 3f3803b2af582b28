package dalle2.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this process's threads by their Linux name, from {@code /proc/self/task}: which parts of a one-JVM
 * stack took the cores while a benchmark ran. Linux keeps the first 15 characters of a Java thread's name, and a
 * native thread inherits the name of the thread that started it, so libtorch's OpenMP threads count under the
 * model thread that first ran a parallel op ({@code decoder-decoder} holds the decoder worker's model thread, its
 * poll thread and their OpenMP threads). Numbered threads of one kind ({@code GC Thread#0}, {@code #1}) count as
 * one. Threads that ended between two readings are missing from their difference.
 */
public final class ThreadCpuByName {

    private static final Path TASKS = Path.of("/proc/self/task");
    /** Linux's USER_HZ: /proc reports thread times in hundredths of a second on every architecture Java runs on. */
    private static final double TICKS_PER_SECOND = 100.0;

    private record Reading(String kind, long ticks) {
    }

    private final Map<String, Reading> byThreadId;
    private final long takenAtNanos = System.nanoTime();

    private ThreadCpuByName(Map<String, Reading> byThreadId) {
        this.byThreadId = byThreadId;
    }

    /**
     * The CPU each kind of thread used between two readings.
     *
     * @param seconds     CPU seconds by kind of thread, busiest first
     * @param wallSeconds the wall-clock time between the readings
     */
    public record Window(Map<String, Double> seconds, double wallSeconds) {

        /** Cores kept busy on average by all threads together (1.0 = one core all the time). */
        public double allCores() {
            return cores(seconds.values().stream().mapToDouble(Double::doubleValue).sum());
        }

        /** Cores kept busy on average by one kind of thread. */
        public double cores(String kind) {
            return cores(seconds.getOrDefault(kind, 0.0));
        }

        private double cores(double cpuSeconds) {
            return wallSeconds > 0 ? cpuSeconds / wallSeconds : 0;
        }
    }

    /** What the threads used from {@code before} to this reading. */
    public Window since(ThreadCpuByName before) {
        return new Window(secondsSince(before), (takenAtNanos - before.takenAtNanos) / 1e9);
    }

    /** Every thread's CPU time now; empty where there is no {@code /proc} (the figures then read none). */
    public static ThreadCpuByName now() {
        Map<String, Reading> ticks = new LinkedHashMap<>();
        if (!Files.isDirectory(TASKS)) {
            return new ThreadCpuByName(ticks);
        }
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                try {
                    String name = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).strip();
                    String stat = Files.readString(task.resolve("stat"), StandardCharsets.US_ASCII);
                    // fields after "(comm) ": state is 0, utime 11, stime 12
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks.put(task.getFileName().toString(),
                            new Reading(kind(name), Long.parseLong(fields[11]) + Long.parseLong(fields[12])));
                } catch (IOException | RuntimeException e) {
                    // the thread ended while it was read
                }
            }
        } catch (IOException e) {
            return new ThreadCpuByName(Map.of());
        }
        return new ThreadCpuByName(ticks);
    }

    /** CPU seconds each kind of thread used since {@code before}, busiest first. */
    Map<String, Double> secondsSince(ThreadCpuByName before) {
        Map<String, Double> byKind = new TreeMap<>();
        byThreadId.forEach((id, now) -> {
            Reading then = before.byThreadId.get(id);
            long used = now.ticks() - (then == null ? 0 : then.ticks());
            if (used > 0) {
                byKind.merge(now.kind(), used / TICKS_PER_SECOND, Double::sum);
            }
        });
        Map<String, Double> busiestFirst = new LinkedHashMap<>();
        byKind.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> busiestFirst.put(e.getKey(), e.getValue()));
        return busiestFirst;
    }

    /** A thread's name without the number that tells threads of one kind apart. */
    static String kind(String name) {
        String stripped = name.replaceFirst("[#\\-]?\\d+$", "");
        return stripped.isEmpty() ? name : stripped;
    }
}
