package dalle2.cli;

import java.util.concurrent.CountDownLatch;

/** Blocks until Ctrl-C or SIGTERM, then closes what runs, once. */
final class Shutdown {

    private Shutdown() {
    }

    static void awaitSignalThenClose(AutoCloseable running) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("stopping...");
            try {
                running.close();
            } catch (Exception e) {
                System.err.println("error while stopping: " + e);
            }
            stopped.countDown();
        }, "dalle2-shutdown"));
        stopped.await();
    }
}
