package dalle2.registry;

import dalle2.messages.ModelManifest;
import dalle2.messages.ModelPin;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model versions one worker serves and which new job gets which. A pool that follows the registry loads a
 * newly pinned (or, unpinned, newly published) version beside the one it runs, on a loader thread, and switches
 * new jobs to it only once it has loaded; jobs already taken finish on the version they started with, which is
 * released when none needs it any more. A version that fails to fetch, verify, load or pass the pool's check is
 * not switched to: the pool keeps what it runs and {@link #lastFailure} says why.
 *
 * @param <M> the loaded model (closed when released)
 */
public final class ServedModels<M extends AutoCloseable> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServedModels.class);

    /** Loads a fetched version; throws, with the reason, to refuse it. */
    @FunctionalInterface
    public interface Loader<M> {
        M load(ModelManifest manifest, Path dir) throws Exception;
    }

    /** Which version a new job gets: the stable one, or the canary for the pin's share of job ids. */
    private record Routing(String stable, String canary, ModelPin pin) {
        String versionFor(String jobId) {
            return canary != null && pin.routesToCanary(jobId) ? canary : stable;
        }
    }

    private final String role;
    /** How long a version no new job gets stays loaded at least. */
    public static final Duration RELEASE_GRACE = Duration.ofSeconds(10);

    private final Map<String, M> loaded = new ConcurrentHashMap<>();
    private final Map<String, Long> unroutedSince = new ConcurrentHashMap<>();
    /** When a job last got a version new jobs no longer get (see {@link #loadedVersionWhere}). */
    private final Map<String, Long> lastUsed = new ConcurrentHashMap<>();
    private final ModelCatalog catalog;
    private final ModelRegistry registry;
    private final Path cache;
    private final Loader<M> loader;
    private final ExecutorService loaderThread;
    private final java.util.Deque<AutoCloseable> alsoClosed = new java.util.ArrayDeque<>();
    private volatile Routing routing;
    private volatile String lastFailure;
    private final java.util.concurrent.atomic.AtomicLong refusals = new java.util.concurrent.atomic.AtomicLong();

    private ServedModels(String role, String version, M model, ModelCatalog catalog, ModelRegistry registry,
                         Path cache, Loader<M> loader) {
        this.role = ModelManifest.requireRole(role);
        this.catalog = catalog;
        this.registry = registry;
        this.cache = cache;
        this.loader = loader;
        this.loaded.put(version, model);
        this.routing = new Routing(version, null, null);
        this.loaderThread = catalog == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, role + "-model-loader");
            t.setDaemon(true);
            return t;
        });
    }

    /** One version, never changed: a pool started from a model folder without a registry. */
    public static <M extends AutoCloseable> ServedModels<M> fixed(String role, String version, M model) {
        return new ServedModels<>(role, version, model, null, null, null, null);
    }

    /**
     * Starts from {@code initial} and follows the role's pin on the catalog (the latest published version when
     * the role has no pin). Versions are fetched into {@code cache}.
     */
    public static <M extends AutoCloseable> ServedModels<M> following(String role, String initialVersion, M initial,
                                                                       ModelCatalog catalog, ModelRegistry registry,
                                                                       Path cache, Loader<M> loader) {
        ServedModels<M> served = new ServedModels<>(role, initialVersion, initial, catalog, registry, cache, loader);
        catalog.onChange(served::followLater);
        served.followLater();
        return served;
    }

    /** Closes {@code resource} (the catalog, the registry's store and producer) when this closes, last first. */
    public ServedModels<M> alsoClosing(AutoCloseable resource) {
        alsoClosed.push(resource);
        return this;
    }

    /** The version a new job gets (by its id, so its redeliveries get the same one while the pin stands). */
    public String assign(String jobId) {
        return routing.versionFor(jobId);
    }

    /** A loaded version's model. */
    public M get(String version) {
        M model = loaded.get(version);
        if (model == null) {
            throw new IllegalStateException("the " + role + " version " + version + " is not loaded here");
        }
        return model;
    }

    /** The version most new jobs get. */
    public String stableVersion() {
        return routing.stable();
    }

    /** The canary version, if one takes a share of new jobs now. */
    public Optional<String> canaryVersion() {
        return Optional.ofNullable(routing.canary());
    }

    /**
     * A loaded version whose model passes {@code test}, preferring the stable one, then the canary, then the
     * others; a job that gets one of the others marks it used, which keeps it loaded {@link #RELEASE_GRACE}
     * longer. A decoder pool uses it to draw embeddings of the CLIP it rolled away from with the decoder of that
     * CLIP while the backlog of such embeddings lasts.
     */
    public Optional<String> loadedVersionWhere(java.util.function.Predicate<M> test) {
        Routing now = routing;
        java.util.List<String> order = new java.util.ArrayList<>();
        order.add(now.stable());
        if (now.canary() != null) {
            order.add(now.canary());
        }
        loaded.keySet().stream().filter(v -> !order.contains(v)).sorted().forEach(order::add);
        for (String version : order) {
            M model = loaded.get(version);
            if (model != null && test.test(model)) {
                if (!version.equals(now.stable()) && !version.equals(now.canary())) {
                    lastUsed.put(version, System.nanoTime());
                }
                return Optional.of(version);
            }
        }
        return Optional.empty();
    }

    /** Loaded versions. */
    public Set<String> loadedVersions() {
        return Set.copyOf(loaded.keySet());
    }

    /** The versions new jobs get now: the stable one and the canary, if any. */
    public Set<String> servedVersions() {
        Routing now = routing;
        return now.canary() == null ? Set.of(now.stable()) : Set.of(now.stable(), now.canary());
    }

    /** Refusals to switch, each reason counted once until another one comes. */
    public long refusals() {
        return refusals.get();
    }

    /** Why the last version this pool tried to switch to was refused, or null. */
    public String lastFailure() {
        return lastFailure;
    }

    /**
     * Releases the versions that new jobs have not got (nor been given by {@link #loadedVersionWhere}) for
     * {@link #RELEASE_GRACE} and that no job in flight needs (call between batches). The grace covers a job assigned the old version just before the switch but not yet
     * in flight.
     */
    public void releaseUnused(Set<String> versionsInFlight) {
        Routing now = routing;
        long nowNanos = System.nanoTime();
        for (String version : Set.copyOf(loaded.keySet())) {
            if (version.equals(now.stable()) || version.equals(now.canary())) {
                unroutedSince.remove(version);
                continue;
            }
            long since = Math.max(unroutedSince.computeIfAbsent(version, v -> nowNanos),
                    lastUsed.getOrDefault(version, Long.MIN_VALUE));
            if (nowNanos - since >= RELEASE_GRACE.toNanos() && !versionsInFlight.contains(version)) {
                M model = loaded.remove(version);
                unroutedSince.remove(version);
                lastUsed.remove(version);
                LOG.info("{} pool: released {} (no job needs it)", role, version);
                closeQuietly(model);
            }
        }
    }

    private void followLater() {
        if (loaderThread != null && !loaderThread.isShutdown()) {
            loaderThread.execute(this::follow);
        }
    }

    /** On the loader thread: brings the routing in line with the catalog, loading what it needs first. */
    private void follow() {
        ModelPin pin = catalog.pin(role).orElse(null);
        String stableWanted = pin == null ? ModelPin.LATEST : pin.stable();
        Optional<ModelManifest> stable = catalog.resolve(role, stableWanted);
        Routing current = routing;
        String stableVersion = current.stable();
        if (stable.isPresent() && ensureLoaded(stable.get())) {
            stableVersion = stable.get().version();
        } else if (stable.isEmpty() && pin != null) {
            refuse(stableWanted, "the catalog knows no such version yet");
        }
        String canaryVersion = null;
        if (pin != null && pin.canary() != null) {
            Optional<ModelManifest> canary = catalog.version(role, pin.canary());
            if (canary.isPresent() && ensureLoaded(canary.get())) {
                canaryVersion = canary.get().version();
            } else if (canary.isEmpty()) {
                refuse(pin.canary(), "the catalog knows no such version yet");
            }
        }
        Routing next = new Routing(stableVersion, canaryVersion, pin);
        boolean switched = !stableVersion.equals(current.stable()) || !java.util.Objects.equals(canaryVersion, current.canary());
        routing = next;
        if (switched) {
            LOG.info("{} pool: new jobs go to {}{}", role, stableVersion,
                    canaryVersion == null ? "" : " and " + pin.canaryPercent() + " % to " + canaryVersion);
        }
    }

    private boolean ensureLoaded(ModelManifest manifest) {
        if (loaded.containsKey(manifest.version())) {
            return true;
        }
        try {
            Path dir = registry.fetch(manifest, cache);
            M model = loader.load(manifest, dir);
            loaded.put(manifest.version(), model);
            LOG.info("{} pool: loaded {} beside {}", role, manifest.version(), new LinkedHashSet<>(loaded.keySet()));
            return true;
        } catch (Exception e) {
            refuse(manifest.version(), e.getMessage() == null ? e.toString() : e.getMessage());
            return false;
        }
    }

    private void refuse(String version, String why) {
        String failure = "not switching the " + role + " pool to " + version + ": " + why + "; keeping "
                + routing.stable();
        if (!failure.equals(lastFailure)) {
            LOG.warn(failure);
            refusals.incrementAndGet();
        }
        lastFailure = failure;
    }

    @Override
    public void close() {
        if (loaderThread != null) {
            loaderThread.shutdownNow();
            try {
                loaderThread.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String version : Set.copyOf(loaded.keySet())) {
            closeQuietly(loaded.remove(version));
        }
        while (!alsoClosed.isEmpty()) {
            try {
                alsoClosed.pop().close();
            } catch (Exception e) {
                LOG.warn("{} pool: closing {} failed: {}", role, "a registry resource", e.toString());
            }
        }
    }

    private void closeQuietly(M model) {
        if (model == null) {
            return;
        }
        try {
            model.close();
        } catch (Exception e) {
            LOG.warn("{} pool: closing a model failed: {}", role, e.toString());
        }
    }
}
