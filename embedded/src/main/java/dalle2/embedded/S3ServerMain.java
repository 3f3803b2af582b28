package dalle2.embedded;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * An S3 server as a process of its own, for fault tests that stop and restart storage: {@code S3ServerMain
 * <dir> <port> <access key> <secret key>} serves the objects under {@code dir} on {@code 127.0.0.1:<port>}
 * until SIGTERM. Started again on the same folder and port it serves the same objects.
 */
public final class S3ServerMain {

    private S3ServerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 4) {
            System.err.println("usage: S3ServerMain <dir> <port> <access key> <secret key>");
            System.exit(2);
        }
        EmbeddedS3 s3 = EmbeddedS3.onDisk(Path.of(args[0]), args[2], args[3], Integer.parseInt(args[1]));
        System.out.println("s3 " + s3.endpoint() + " serving " + Path.of(args[0]).toAbsolutePath());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s3.close();
            stopped.countDown();
        }, "s3-shutdown"));
        stopped.await();
    }
}
