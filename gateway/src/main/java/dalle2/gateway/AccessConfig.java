package dalle2.gateway;

/**
 * Who may call the /v1 API: the holders of {@code keys}, or anyone when {@code open} was chosen explicitly. A
 * gateway with neither refuses to start, so a forgotten keys file never silently serves the world.
 */
public record AccessConfig(ApiKeys keys, boolean open) {

    public AccessConfig {
        if (keys == null) {
            keys = ApiKeys.none();
        }
        if (keys.isEmpty() && !open) {
            throw new IllegalArgumentException("no API keys configured: give --api-keys-file (env "
                    + "DALLE2_API_KEYS_FILE) or DALLE2_API_KEYS, or choose --open (env DALLE2_OPEN=true) to serve "
                    + "the API without keys");
        }
        if (!keys.isEmpty() && open) {
            throw new IllegalArgumentException("API keys and open mode were both given: choose one");
        }
    }

    public static AccessConfig openMode() {
        return new AccessConfig(ApiKeys.none(), true);
    }

    public static AccessConfig keys(ApiKeys keys) {
        return new AccessConfig(keys, false);
    }
}
