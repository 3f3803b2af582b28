package dalle2.storage;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A storage server that is down fails every call with the retryable {@link ObjectStore.StorageException}: the MinIO
 * client reports a refused connection as an unchecked {@code IllegalStateException}, not its own exception.
 */
@Timeout(60)
class ObjectStoreFailureTest {

    @Test
    void everyCallToAStorageThatRefusesConnectionsFailsWithAStorageException() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closedPort = s.getLocalPort();
        }
        try (ObjectStore store = new ObjectStore(new ObjectStore.Config("http://127.0.0.1:" + closedPort, "key",
                "secret-secret", "images"))) {
            assertThrows(ObjectStore.StorageException.class, () -> store.putPng("job/0.png", new byte[] {1, 2, 3}));
            assertThrows(ObjectStore.StorageException.class, store::ensureBucket);
            assertThrows(ObjectStore.StorageException.class, () -> store.stat("job/0.png"));
            assertThrows(ObjectStore.StorageException.class, () -> store.get("job/0.png"));
            assertFalse(store.reachable());
        }
    }

    @Test
    void aProgrammingErrorIsNotDisguisedAsAStorageFailure() {
        RuntimeException bug = new IllegalArgumentException("a bad argument");
        assertTrue(ObjectStore.storageFailure("x", bug) == bug);
        assertTrue(ObjectStore.storageFailure("x", new IllegalStateException(new java.net.ConnectException("refused")))
                instanceof ObjectStore.StorageException);
    }
}
