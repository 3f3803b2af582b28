package dalle2.gateway;

import java.util.concurrent.CountDownLatch;

/**
 * Runs one gateway configured by environment variables ({@link GatewayEnvironment}) until SIGTERM: the entry
 * point of the gateway's container image, which is built from this module's class path alone and so carries
 * no model runtime. Outside a container, {@code dalle2 gateway} does the same with options as well.
 */
public final class GatewayMain {

    private GatewayMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            System.err.println("gateway: takes no arguments; configure it with environment variables: "
                    + String.join(" ", new java.util.TreeSet<>(GatewayEnvironment.VARIABLES)));
            System.exit(2);
        }
        GatewayConfig config;
        try {
            config = GatewayEnvironment.config(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("gateway: " + e.getMessage());
            System.exit(2);
            return;
        }
        Gateway gateway = Gateway.start(config);
        System.out.println("gateway http://" + config.host() + ":" + gateway.port());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                gateway.close();
            } catch (Exception e) {
                System.err.println("gateway: error while stopping: " + e);
            }
            stopped.countDown();
        }, "gateway-shutdown"));
        stopped.await();
    }
}
