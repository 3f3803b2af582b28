package dalle2.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class EmbeddedServersExtensionTest {

    @Test
    void registeredResourcesCloseLastFirstBeforeTheBrokerAndOneFailingCloseNeitherStopsTheRestNorIsSwallowed()
            throws Exception {
        EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaOnly();
        servers.beforeAll(null);
        String bootstrap = servers.bootstrap();
        List<String> closed = new ArrayList<>();
        servers.closeAfterAll(() -> closed.add("first"));
        servers.closeAfterAll(() -> {
            closed.add("second");
            throw new IOException("second cannot close");
        });
        servers.closeAfterAll(() -> {
            closed.add("third");
            throw new IllegalStateException("third cannot close either");
        });

        IllegalStateException failure = assertThrows(IllegalStateException.class, () -> servers.afterAll(null));

        assertEquals(List.of("third", "second", "first"), closed);
        assertEquals("third cannot close either", failure.getMessage());
        assertEquals("second cannot close", failure.getSuppressed()[0].getMessage());
        assertThrows(IllegalStateException.class, servers::kafka, "the broker is gone after afterAll");
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        assertThrows(IOException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            }
        }, "nothing listens on " + bootstrap + " any more");
    }

    @Test
    void askingAKafkaOnlyExtensionForS3SaysWhichFactoryStartsOne() {
        EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaOnly();
        IllegalStateException e = assertThrows(IllegalStateException.class, servers::s3);
        assertTrue(e.getMessage().contains("kafkaAndS3()"), e.getMessage());
    }
}
