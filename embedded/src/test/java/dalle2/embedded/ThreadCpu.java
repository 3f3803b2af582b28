package dalle2.embedded;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;

/** How busy one named thread of this JVM is: for tests that a waiting loop waits instead of spinning. */
public final class ThreadCpu {

    private ThreadCpu() {
    }

    /** The CPU time the thread named {@code name} used over the next {@code window}, as a share of one core. */
    public static double shareOfACore(String name, Duration window) throws InterruptedException {
        Thread thread = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no thread " + name));
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpuBefore = threads.getThreadCpuTime(thread.getId());
        long wallBefore = System.nanoTime();
        Thread.sleep(window.toMillis());
        return (threads.getThreadCpuTime(thread.getId()) - cpuBefore) / (double) (System.nanoTime() - wallBefore);
    }
}
