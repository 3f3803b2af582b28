package dalle2.storage;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.MinioException;
import io.minio.messages.Item;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;

/**
 * The one wrapper of object storage (S3 API through the MinIO SDK 9.x): one bucket, PNG objects under
 * {@code <job id>/<k>.png}. Every call blocks: call it from worker threads, never from an event loop.
 */
public final class ObjectStore implements AutoCloseable {

    /** S3 needs a region for V4 signing; MinIO and S3Proxy accept any, and setting one avoids a lookup call. */
    public static final String REGION = "us-east-1";
    /** Presigned URLs live at most 7 days (the S3 V4 limit). */
    public static final Duration MAX_PRESIGN_TTL = Duration.ofDays(7);
    public static final String PNG = "image/png";
    private static final Set<String> MISSING = Set.of("NoSuchKey", "NoSuchObject", "NoSuchBucket", "NotFound");

    /** Connection settings: endpoint like {@code http://127.0.0.1:9000}. */
    public record Config(String endpoint, String accessKey, String secretKey, String bucket) {
        public Config {
            if (endpoint == null || endpoint.isBlank()) {
                throw new IllegalArgumentException("an object storage endpoint (URL) is required");
            }
            if (bucket == null || bucket.isBlank()) {
                throw new IllegalArgumentException("a bucket is required");
            }
        }

        @Override
        public String toString() {
            return "ObjectStore.Config[endpoint=" + endpoint + ", bucket=" + bucket + ", key=" + accessKey + "]";
        }
    }

    /** What a stat returns. */
    public record ObjectInfo(String key, long size, String contentType, String etag, Instant lastModified) {
    }

    /** A storage call failed (unreachable, refused, server error). */
    /**
     * The error a storage call ends with: a {@link StorageException} (retryable) for what the server or the network
     * did — MinIO's own errors, and the unchecked exceptions it throws around an I/O failure (a refused
     * connection comes as {@code IllegalStateException: java.net.ConnectException}) — and anything else as it was.
     */
    static RuntimeException storageFailure(String message, Exception e) {
        if (e instanceof MinioException || causedByIo(e)) {
            return new StorageException(message, e);
        }
        return (RuntimeException) e;
    }

    private static boolean causedByIo(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }

    public static final class StorageException extends RuntimeException {
        public StorageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Config config;
    private final OkHttpClient http;
    private final MinioClient client;

    public ObjectStore(Config config) {
        this.config = config;
        this.http = new OkHttpClient.Builder()
                .connectTimeout(5, TimeUnit.SECONDS)
                .readTimeout(60, TimeUnit.SECONDS)
                .writeTimeout(60, TimeUnit.SECONDS)
                .build();
        this.client = MinioClient.builder()
                .endpoint(config.endpoint())
                .credentials(config.accessKey(), config.secretKey())
                .region(REGION)
                .httpClient(http, true)
                .build();
    }

    public Config config() {
        return config;
    }

    public String bucket() {
        return config.bucket();
    }

    /** The object key of image {@code index} of a job. */
    public static String imageKey(String jobId, int index) {
        return jobId + "/" + index + ".png";
    }

    /** Creates the bucket unless it exists. */
    public void ensureBucket() {
        try {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket()).build())) {
                try {
                    client.makeBucket(MakeBucketArgs.builder().bucket(bucket()).build());
                } catch (ErrorResponseException e) {
                    String code = e.errorResponse().code();
                    if (!"BucketAlreadyOwnedByYou".equals(code) && !"BucketAlreadyExists".equals(code)) {
                        throw e;
                    }
                }
            }
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot ensure bucket " + bucket() + " at " + config.endpoint() + ": " + e, e);
        }
    }

    /** Whether the storage answers and the bucket exists (readiness). */
    public boolean reachable() {
        try {
            return client.bucketExists(BucketExistsArgs.builder().bucket(bucket()).build());
        } catch (MinioException | RuntimeException e) {
            return false;
        }
    }

    /** Puts (or overwrites: keys are deterministic, redelivery rewrites the same object) a PNG. */
    public void putPng(String key, byte[] png) {
        put(key, png, PNG);
    }

    public void put(String key, byte[] bytes, String contentType) {
        try {
            client.putObject(PutObjectArgs.builder().bucket(bucket()).object(key)
                    .data(bytes, bytes.length).contentType(contentType).build());
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot put " + key + ": " + e, e);
        }
    }

    /** The object's bytes as a stream (close it), or empty when there is no such object. */
    public Optional<InputStream> get(String key) {
        try {
            return Optional.of(client.getObject(GetObjectArgs.builder().bucket(bucket()).object(key).build()));
        } catch (ErrorResponseException e) {
            if (MISSING.contains(e.errorResponse().code())) {
                return Optional.empty();
            }
            throw new StorageException("cannot get " + key + ": " + e, e);
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot get " + key + ": " + e, e);
        }
    }

    /** Size, type and etag, or empty when there is no such object. */
    public Optional<ObjectInfo> stat(String key) {
        try {
            StatObjectResponse r = client.statObject(StatObjectArgs.builder().bucket(bucket()).object(key).build());
            return Optional.of(new ObjectInfo(key, r.size(), r.contentType(), r.etag(),
                    r.lastModified() == null ? null : r.lastModified().toInstant()));
        } catch (ErrorResponseException e) {
            if (MISSING.contains(e.errorResponse().code())) {
                return Optional.empty();
            }
            throw new StorageException("cannot stat " + key + ": " + e, e);
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot stat " + key + ": " + e, e);
        }
    }

    /** A URL anyone can GET for {@code ttl} (signed locally: no call to the server). */
    public String presignedGet(String key, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_PRESIGN_TTL) > 0) {
            throw new IllegalArgumentException("presign TTL must be in (0, 7 days], got " + ttl);
        }
        try {
            return client.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder().method(Http.Method.GET)
                    .bucket(bucket()).object(key).expiry((int) ttl.toSeconds(), TimeUnit.SECONDS).build());
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot presign " + key + ": " + e, e);
        }
    }

    /** Keys under a prefix (e.g. {@code <job id>/}), in the server's (lexicographic) order. */
    public List<String> list(String prefix) {
        List<String> keys = new ArrayList<>();
        try {
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket()).prefix(prefix)
                    .recursive(true).build())) {
                keys.add(r.get().objectName());
            }
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot list " + prefix + ": " + e, e);
        }
        return keys;
    }

    /** Objects under a prefix with their size and last-modified time, in the server's (lexicographic) order. */
    public List<ObjectInfo> listInfo(String prefix) {
        List<ObjectInfo> objects = new ArrayList<>();
        try {
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket()).prefix(prefix)
                    .recursive(true).build())) {
                Item item = r.get();
                objects.add(new ObjectInfo(item.objectName(), item.size(), null, null,
                        item.lastModified() == null ? null : item.lastModified().toInstant()));
            }
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot list " + prefix + ": " + e, e);
        }
        return objects;
    }

    /** Deletes an object; deleting one that is not there is no error (S3 semantics). */
    public void delete(String key) {
        try {
            client.removeObject(RemoveObjectArgs.builder().bucket(bucket()).object(key).build());
        } catch (MinioException | RuntimeException e) {
            throw storageFailure("cannot delete " + key + ": " + e, e);
        }
    }

    @Override
    public void close() {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
