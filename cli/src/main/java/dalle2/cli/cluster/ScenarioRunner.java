package dalle2.cli.cluster;

import dalle2.kafka.Topics;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * One run: a fresh cluster, a burst of jobs over HTTP to all gateways, the faults at their moments, then the
 * promises checked against what the gateways answer, what the bucket holds and the reference images.
 */
public final class ScenarioRunner {

    /** Where runs live, which models, how much load. */
    public record Options(Path baseDir, Path models, Workload workload) {
    }

    private final Options options;
    private final ReferenceImages references;

    public ScenarioRunner(Options options, ReferenceImages references) {
        this.options = options;
        this.references = references;
    }

    public ScenarioResult run(Scenario scenario) {
        return run(scenario.wire(), scenario.decoderFault, scenario.steps);
    }

    public ScenarioResult run(String name, String decoderFault, List<FaultStep> steps) {
        Path dir = options.baseDir().resolve(name);
        deleteRecursively(dir);
        Workload w = options.workload();
        System.out.println("== " + name + ": " + w.jobs() + " jobs of " + w.imagesPerJob() + " image(s) at "
                + w.jobsPerSecond() + "/s; cluster in " + dir);
        List<TrackedJob> jobs = new ArrayList<>();
        String run = name + "-" + Long.toString(System.currentTimeMillis(), 36);
        for (int i = 0; i < w.jobs(); i++) {
            jobs.add(new TrackedJob(JobSpec.numbered(run, i, w)));
        }
        List<String> problems = new ArrayList<>();
        List<Instant> faultInstants = new ArrayList<>();
        Map<String, byte[]> objects = new HashMap<>();
        ClusterSettings settings = ClusterSettings.standard(dir, options.models()).withDecoderFault(decoderFault);
        try (LocalCluster cluster = new LocalCluster(settings)) {
            Instant startAt = Instant.now();
            cluster.start();
            System.out.println("  cluster up in " + Duration.between(startAt, Instant.now()).toSeconds() + " s; "
                    + Topics.REQUESTS + ": " + cluster.kafka().replication(Topics.REQUESTS) + "; " + Topics.STATUS
                    + ": " + cluster.kafka().replication(Topics.STATUS) + "; __consumer_offsets: "
                    + cluster.kafka().replication("__consumer_offsets"));
            GatewayClient client = new GatewayClient(cluster.gatewayUrls(), cluster.apiKey(), Duration.ofSeconds(180));
            AtomicInteger submitted = new AtomicInteger();
            ScheduledExecutorService schedule = Executors.newScheduledThreadPool(8);
            ExecutorService poller = Executors.newSingleThreadExecutor();
            try {
                for (int i = 0; i < jobs.size(); i++) {
                    TrackedJob job = jobs.get(i);
                    int gateway = i;
                    schedule.schedule(() -> {
                        client.submit(job, gateway);
                        submitted.incrementAndGet();
                    }, i * w.submitIntervalMs(), TimeUnit.MILLISECONDS);
                }
                poller.submit(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        for (TrackedJob job : jobs) {
                            if (job.accepted() && !job.isFinal()) {
                                client.poll(job);
                            }
                        }
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                for (FaultStep step : steps) {
                    while (submitted.get() < Math.ceil(step.atFractionSubmitted() * jobs.size())) {
                        KafkaBrokers.sleep(100);
                    }
                    try {
                        faultInstants.add(step.action().inject(cluster));
                    } catch (Exception e) {
                        problems.add("fault '" + step.name() + "' could not be injected: " + e);
                    }
                }
                schedule.shutdown();
                schedule.awaitTermination(1, TimeUnit.HOURS);
                long deadline = System.currentTimeMillis() + w.settleSeconds() * 1000L;
                while (System.currentTimeMillis() < deadline
                        && jobs.stream().anyMatch(j -> j.accepted() && !j.isFinal())) {
                    KafkaBrokers.sleep(1000);
                }
                poller.shutdownNow();
                poller.awaitTermination(30, TimeUnit.SECONDS);
                jobs.stream().filter(TrackedJob::accepted).forEach(client::poll);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add("interrupted");
            } finally {
                schedule.shutdownNow();
                poller.shutdownNow();
            }
            readBucket(cluster, objects, problems);
        } catch (RuntimeException e) {
            problems.add("cluster failed: " + e.getMessage());
        }
        return verify(name, jobs, objects, faultInstants, problems);
    }

    private static void readBucket(LocalCluster cluster, Map<String, byte[]> objects, List<String> problems) {
        try {
            cluster.awaitS3(30);
            try (ObjectStore store = new ObjectStore(cluster.storage())) {
                for (String key : store.list("")) {
                    Optional<InputStream> in = store.get(key);
                    if (in.isPresent()) {
                        try (InputStream stream = in.get()) {
                            objects.put(key, stream.readAllBytes());
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            problems.add("cannot read the bucket: " + e);
        }
    }

    private ScenarioResult verify(String name, List<TrackedJob> jobs, Map<String, byte[]> objects,
                                  List<Instant> faults, List<String> problems) {
        int accepted = 0;
        int succeeded = 0;
        int lost = 0;
        int duplicates = 0;
        int mismatches = 0;
        int maxDiff = 0;
        Map<String, Integer> failed = new TreeMap<>();
        List<String> stuck = new ArrayList<>();
        List<Long> latencies = new ArrayList<>();
        Map<String, TrackedJob> byId = new HashMap<>();
        for (TrackedJob job : jobs) {
            if (!job.accepted()) {
                problems.add("not accepted: " + job.spec.idempotencyKey() + " answered " + job.submitStatus + " after "
                        + job.submitAttempts + " tries: " + job.submitError);
                continue;
            }
            accepted++;
            if (job.jobIds.size() > 1) {
                duplicates += job.jobIds.size() - 1;
                problems.add("one idempotency key, several jobs: " + job.jobIds);
            }
            byId.put(job.jobId(), job);
            if (job.lastPollStatus == 404) {
                lost++;
                problems.add("lost: " + job.jobId() + " is unknown to the gateways");
            } else if (!job.isFinal()) {
                stuck.add(job.jobId() + " state " + job.state + " (poll HTTP " + job.lastPollStatus + ", error "
                        + job.errorCode + ": " + job.errorMessage + ")");
            } else if ("succeeded".equals(job.state)) {
                succeeded++;
                if (job.finishedAt != null && job.statusSubmittedAt != null) {
                    latencies.add(Duration.between(job.statusSubmittedAt, job.finishedAt).toMillis());
                }
            } else {
                String reason = job.errorCode == null ? "none" : job.errorCode;
                failed.merge(job.state + ":" + reason, 1, Integer::sum);
                if (failed.get(job.state + ":" + reason) <= 3) {
                    problems.add(job.state + ": " + job.jobId() + " " + reason + ": " + job.errorMessage
                            + "; submission attempts " + job.attempts);
                }
            }
        }
        int orphans = 0;
        for (String key : objects.keySet()) {
            int slash = key.lastIndexOf('/');
            TrackedJob job = slash < 0 ? null : byId.get(key.substring(0, slash));
            Integer index = job == null ? null : imageIndex(key.substring(slash + 1));
            if (job == null || index == null || !"succeeded".equals(job.state)) {
                orphans++;
                problems.add("object no job names: " + key + (job == null ? "" : " (job " + job.state + ")"));
            } else if (index >= job.spec.n()) {
                duplicates++;
                problems.add("extra image beyond n=" + job.spec.n() + ": " + key);
            }
        }
        for (TrackedJob job : byId.values()) {
            if (!"succeeded".equals(job.state)) {
                continue;
            }
            List<BufferedImage> expected = references.of(job.spec);
            for (int k = 0; k < job.spec.n(); k++) {
                byte[] png = objects.get(ObjectStore.imageKey(job.jobId(), k));
                if (png == null) {
                    lost++;
                    problems.add("succeeded without its image: " + ObjectStore.imageKey(job.jobId(), k));
                    continue;
                }
                BufferedImage stored = decode(png);
                int diff = stored == null ? Integer.MAX_VALUE
                        : ReferenceImages.maxChannelDifference(stored, expected.get(k));
                maxDiff = Math.max(maxDiff, diff);
                if (diff > ScenarioResult.PIXEL_TOLERANCE) {
                    mismatches++;
                    if (mismatches <= 3) {
                        problems.add("pixels differ by " + diff + " from the reference: "
                                + ObjectStore.imageKey(job.jobId(), k));
                    }
                }
            }
        }
        List<Instant> finishes = byId.values().stream().filter(j -> "succeeded".equals(j.state))
                .map(j -> j.finishedAt).filter(java.util.Objects::nonNull).sorted().toList();
        List<Long> healFirst = new ArrayList<>();
        for (Instant fault : faults) {
            healFirst.add(finishes.stream().filter(f -> f.isAfter(fault)).findFirst()
                    .map(f -> Duration.between(fault, f).toMillis()).orElse(-1L));
        }
        long healAll = faults.isEmpty() || finishes.isEmpty() || !finishes.get(finishes.size() - 1).isAfter(faults.get(0))
                ? -1 : Duration.between(faults.get(0), finishes.get(finishes.size() - 1)).toMillis();
        latencies.sort(Comparator.naturalOrder());
        ScenarioResult result = new ScenarioResult(name, jobs.size(), accepted, succeeded, failed, lost, stuck,
                duplicates, orphans, mismatches, maxDiff, healFirst, healAll, percentile(latencies, 50),
                percentile(latencies, 99), problems);
        report(result);
        return result;
    }

    private static void report(ScenarioResult r) {
        System.out.println("  " + r.scenario() + ": accepted " + r.accepted() + "/" + r.submitted() + ", succeeded "
                + r.succeeded() + ", failed " + r.failedByReason() + ", lost " + r.lost() + ", stuck " + r.stuck().size()
                + ", duplicates " + r.duplicates() + ", orphans " + r.orphans() + ", pixel mismatches "
                + r.pixelMismatches() + " (max channel difference " + r.maxPixelDifference() + "), heal "
                + r.healFirstMs() + " ms first / " + r.healAllMs() + " ms all, latency p50 " + r.p50LatencyMs()
                + " ms p99 " + r.p99LatencyMs() + " ms -> " + (r.broken() ? "BROKEN" : "kept"));
        r.stuck().forEach(s -> System.out.println("    stuck: " + s));
        r.problems().stream().limit(20).forEach(p -> System.out.println("    " + p));
    }

    private static Integer imageIndex(String file) {
        if (!file.endsWith(".png")) {
            return null;
        }
        try {
            return Integer.parseInt(file.substring(0, file.length() - 4));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static BufferedImage decode(byte[] png) {
        try {
            return ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return -1;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
    }
}
