package dalle2.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;

/**
 * A real S3 API server (S3Proxy 4.x) inside this JVM on a loopback port, storing objects in a folder (one
 * sub-folder per bucket) or in memory. It checks V4 signatures against the key and secret given here.
 */
public final class EmbeddedS3 implements AutoCloseable {

    public static final String DEFAULT_ACCESS_KEY = "dalle2";
    public static final String DEFAULT_SECRET_KEY = "dalle2-local-secret";

    private final S3Proxy proxy;
    private final String endpoint;
    private final String accessKey;
    private final String secretKey;

    private EmbeddedS3(S3Proxy proxy, String accessKey, String secretKey) {
        this.proxy = proxy;
        this.endpoint = "http://127.0.0.1:" + proxy.getPort();
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /** Objects in memory: for tests. */
    public static EmbeddedS3 inMemory() {
        return start(new TransientNio2BlobStore(), DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY);
    }

    /** Objects under {@code dir} (kept between runs). */
    public static EmbeddedS3 onDisk(Path dir, String accessKey, String secretKey) {
        return onDisk(dir, accessKey, secretKey, 0);
    }

    /**
     * Objects under {@code dir} on a fixed loopback port ({@code 0} = any free one): a server restarted on the
     * same port and folder is, to its clients, the same server with the same objects.
     */
    public static EmbeddedS3 onDisk(Path dir, String accessKey, String secretKey, int port) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        return start(new FilesystemNio2BlobStore(dir.toAbsolutePath().toString()), accessKey, secretKey, port);
    }

    private static EmbeddedS3 start(BlobStore store, String accessKey, String secretKey) {
        return start(store, accessKey, secretKey, 0);
    }

    private static EmbeddedS3 start(BlobStore store, String accessKey, String secretKey, int port) {
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        try {
            proxy.start();
            long deadline = System.currentTimeMillis() + 20_000;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("S3Proxy not started after 20 s: " + proxy.getState());
                }
                Thread.sleep(10);
            }
        } catch (Exception e) {
            try {
                proxy.stop();
            } catch (Exception ignored) {
                // already failing
            }
            throw new IllegalStateException("cannot start S3Proxy: " + e.getMessage(), e);
        }
        return new EmbeddedS3(proxy, accessKey, secretKey);
    }

    /** {@code http://127.0.0.1:<port>} */
    public String endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy", e);
        }
    }
}
