package dalle2.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ThreadCpuByNameTest {

    @Test
    void aSpinningThreadIsChargedItsCpuAndASleepingOneNothing() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux's /proc");
        CountDownLatch stop = new CountDownLatch(1);
        Thread spinner = new Thread(() -> {
            while (stop.getCount() > 0) {
                Math.sqrt(System.nanoTime()); // busy
            }
        }, "bench-spinner-7");
        Thread sleeper = new Thread(() -> {
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-sleeper-7");
        ThreadCpuByName before = ThreadCpuByName.now();
        spinner.start();
        sleeper.start();
        Thread.sleep(600);
        ThreadCpuByName.Window window = ThreadCpuByName.now().since(before);
        Map<String, Double> used = window.seconds();
        stop.countDown();
        spinner.join();
        sleeper.join();

        // two cores shared with the build: the spinner gets at least a third of its 0.6 s
        assertTrue(used.getOrDefault("bench-spinner", 0.0) >= 0.2, used.toString());
        assertTrue(used.getOrDefault("bench-sleeper", 0.0) <= 0.02, used.toString());
        assertEquals("bench-spinner", used.keySet().iterator().next(), "busiest first: " + used);
        assertTrue(window.wallSeconds() >= 0.6, "the window spans the sleep: " + window);
        assertTrue(window.cores("bench-spinner") <= 1.05, "one thread keeps at most one core busy: " + window);
        assertTrue(window.allCores() >= window.cores("bench-spinner"), window.toString());
    }

    @Test
    void numberedThreadsOfOneKindCountAsOne() {
        assertEquals("GC Thread", ThreadCpuByName.kind("GC Thread#1"));
        assertEquals("kafka-producer-", ThreadCpuByName.kind("kafka-producer-"));
        assertEquals("pool-3-thread", ThreadCpuByName.kind("pool-3-thread-12"));
        assertEquals("C2 CompilerThre", ThreadCpuByName.kind("C2 CompilerThre"));
        assertEquals("42", ThreadCpuByName.kind("42"));
    }
}
