package dalle2.cli.cluster;

import dalle2.kafka.Topics;
import java.time.Instant;

/** The faults the harness injects. */
public final class Faults {

    /** How long a killed broker stays down before it is started again. */
    static final int BROKER_DOWN_SECONDS = 20;

    private Faults() {
    }

    /** SIGKILL a decoder worker while its model call runs (the first found busy; decoder-1 after 60 s). */
    public static Instant killBusyDecoder(LocalCluster cluster, boolean restart) {
        ManagedProcess victim = awaitBusy(cluster, cluster.decoderWorkers(), 60);
        Instant at = Instant.now();
        victim.kill();
        System.out.println("  fault: SIGKILL " + victim.name() + " (busy in a model call) at " + at);
        if (restart) {
            KafkaBrokers.sleep(10_000);
            victim.start();
        }
        return at;
    }

    public static Instant killBusyPrior(LocalCluster cluster) {
        ManagedProcess victim = awaitBusy(cluster, cluster.priorWorkers(), 30);
        Instant at = Instant.now();
        victim.kill();
        System.out.println("  fault: SIGKILL " + victim.name() + " at " + at);
        return at;
    }

    private static ManagedProcess awaitBusy(LocalCluster cluster, java.util.List<ManagedProcess> pool, int seconds) {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < deadline) {
            for (ManagedProcess worker : pool) {
                if (worker.isAlive() && cluster.modelBusySeconds(worker) > 0) {
                    return worker;
                }
            }
            KafkaBrokers.sleep(20);
        }
        return pool.get(0);
    }

    public static Instant killGateway(LocalCluster cluster) {
        ManagedProcess victim = cluster.gateways().get(0);
        Instant at = Instant.now();
        victim.kill();
        System.out.println("  fault: SIGKILL " + victim.name() + " at " + at);
        return at;
    }

    /** SIGKILL the broker leading most partitions of the requests topic; start it again after a while. */
    public static Instant killRequestsLeader(LocalCluster cluster) {
        int leader = cluster.kafka().leaderOf(Topics.REQUESTS);
        ManagedProcess victim = cluster.kafka().broker(leader);
        Instant at = Instant.now();
        victim.kill();
        System.out.println("  fault: SIGKILL broker " + leader + " (leader of " + Topics.REQUESTS + ") at " + at);
        KafkaBrokers.sleep(BROKER_DOWN_SECONDS * 1000L);
        victim.start();
        cluster.kafka().awaitBrokers(cluster.kafka().size(), 120);
        System.out.println("  repair: broker " + leader + " back at " + Instant.now());
        return at;
    }

    /** SIGKILL every broker at once, then start them all again on their own logs. */
    public static Instant restartAllBrokers(LocalCluster cluster) {
        Instant at = Instant.now();
        for (int node = 1; node <= cluster.kafka().size(); node++) {
            cluster.kafka().broker(node).kill();
        }
        System.out.println("  fault: SIGKILL all brokers at " + at);
        KafkaBrokers.sleep(5_000);
        for (int node = 1; node <= cluster.kafka().size(); node++) {
            cluster.kafka().broker(node).start();
        }
        cluster.kafka().awaitBrokers(cluster.kafka().size(), 180);
        System.out.println("  repair: all brokers back at " + Instant.now());
        return at;
    }

    /** Stops the S3 server for {@code seconds}, then starts it again on the same port and folder. */
    public static Instant storageOutage(LocalCluster cluster, int seconds) {
        Instant at = Instant.now();
        cluster.s3().stop(10);
        System.out.println("  fault: S3 server stopped at " + at + " for " + seconds + " s");
        KafkaBrokers.sleep(seconds * 1000L);
        cluster.s3().start();
        cluster.awaitS3(60);
        System.out.println("  repair: S3 server back at " + Instant.now());
        return at;
    }

    /** Waits for decoder-1, armed with a fault point, to halt; then starts it again without the hook. */
    public static Instant awaitFaultPointHalt(LocalCluster cluster, int seconds) {
        ManagedProcess armed = cluster.decoderWorkers().get(0);
        if (!armed.awaitExit(seconds)) {
            throw new IllegalStateException(armed.name() + " never reached its fault point in " + seconds + " s");
        }
        Instant at = Instant.now();
        System.out.println("  fault: " + armed.name() + " halted at its fault point, exit " + armed.exitValue()
                + ", at " + at);
        cluster.restartPlain(armed);
        return at;
    }
}
