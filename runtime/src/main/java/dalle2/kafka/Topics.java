package dalle2.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The topics of the pipeline and how they are made. Every message is keyed by its job id, so one job's messages
 * stay in order on one partition; a pool scales up to its input topic's partition count.
 *
 * <pre>
 *   generation.requests     gateway / clients → prior pool        (delete, 7 days)
 *   generation.embeddings   prior pool → decoder pool             (delete, 7 days)
 *   generation.lowres       decoder pool → upsampler pool         (delete, 7 days; jobs above the base size)
 *   generation.status       every stage → gateways, workers       (compact,delete: the last status per job, 7 days)
 *   generation.dead-letters workers → operators                   (delete, 30 days)
 *   models                  publishers → every worker             (compact: each version's manifest, each pool's pin)
 * </pre>
 */
public final class Topics {

    private static final long METADATA_POLL_MS = 50;

    public static final String REQUESTS = "generation.requests";
    public static final String EMBEDDINGS = "generation.embeddings";
    public static final String LOWRES = "generation.lowres";
    public static final String STATUS = "generation.status";
    public static final String DEAD_LETTERS = "generation.dead-letters";
    /**
     * Published model versions and pins, keyed {@code version/<role>/<version>} and {@code pin/<role>}: one
     * partition, so every reader sees them in the order they were written, and compacted without deletion, so a
     * worker started a year later still finds every version and the current pins.
     */
    public static final String MODELS = "models";

    /** Consumer group of the prior pool. */
    public static final String PRIOR_GROUP = "prior";
    /** Consumer group of the decoder pool. */
    public static final String DECODER_GROUP = "decoder";
    /** Consumer group of the upsampler pool. */
    public static final String UPSAMPLER_GROUP = "upsampler";

    /** Training jobs ({@code dalle2.messages.TrainingRequest}), keyed by training id: gateway → trainer workers. */
    public static final String TRAINING_JOBS = "training.jobs";
    /** The last status of every training ({@code dalle2.messages.TrainingStatus}), keyed by training id. */
    public static final String TRAINING_STATUS = "training.status";
    /** Consumer group of the trainer workers. */
    public static final String TRAINER_GROUP = "trainer";
    /** A worker trains one job at a time, so the partitions bound how many trainer workers are busy at once. */
    public static final int TRAINING_JOBS_PARTITIONS = 6;
    public static final int TRAINING_STATUS_PARTITIONS = 3;
    /** A training may wait days for a free worker, and its job must outlive the run: a month, like dead letters. */
    public static final long TRAINING_JOBS_RETENTION_MS = 30 * 24L * 3600 * 1000;

    /**
     * Default partition counts: the most processes each pool can use. Decoders and upsamplers are the expensive
     * pools and get the most (the low-resolution topic has as many as the embeddings topic); the status topic is
     * read whole by every gateway and worker, so a few partitions suffice.
     */
    public static final int REQUESTS_PARTITIONS = 6;
    public static final int EMBEDDINGS_PARTITIONS = 12;
    public static final int STATUS_PARTITIONS = 6;
    public static final int DEAD_LETTERS_PARTITIONS = 1;

    private static final long DAY_MS = 24L * 3600 * 1000;
    /** Requests and embeddings are work in flight: a week covers any outage worth waiting out. */
    public static final long WORK_RETENTION_MS = 7 * DAY_MS;
    /** Dead letters wait for a person: a month. */
    public static final long DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;
    /**
     * Status records stay at least an hour before compaction may drop superseded ones (so a reader that is
     * briefly behind still sees the intermediate states), and a finished job's last status stays 7 days
     * (compact,delete): the status view is bounded anyway.
     */
    public static final long STATUS_MIN_COMPACTION_LAG_MS = 3600 * 1000L;
    public static final long STATUS_RETENTION_MS = 7 * DAY_MS;
    /** How long a tombstone (a deleted job) stays readable, at most: a day, or the retention when shorter. */
    public static final long STATUS_DELETE_RETENTION_MS = DAY_MS;

    /**
     * Why a record's key breaks the rule "key = the job id of its body", or null when it keeps it. A record keyed
     * otherwise lands on another partition than the job's other messages, so their order is not kept: workers
     * dead-letter it instead of processing it.
     */
    public static String keyProblem(String recordKey, String jobId) {
        if (recordKey == null || recordKey.isEmpty()) {
            return "record has no key; its job_id is '" + jobId + "' (key the record by its job_id)";
        }
        if (!recordKey.equals(jobId)) {
            String shown = recordKey.length() > 100 ? recordKey.substring(0, 100) + "…" : recordKey;
            return "record key '" + shown + "' differs from its job_id '" + jobId + "' (key the record by its job_id)";
        }
        return null;
    }

    /** One topic to create. */
    public record Spec(String name, int partitions, Map<String, String> configs) {
    }

    private Topics() {
    }

    /**
     * The topics with the given partition counts (tests use fewer partitions than production); the low-resolution
     * topic gets as many as the embeddings topic.
     */
    public static List<Spec> specs(int requestPartitions, int embeddingPartitions, int statusPartitions) {
        return specs(requestPartitions, embeddingPartitions, statusPartitions, STATUS_RETENTION_MS);
    }

    /**
     * The topics, the status topic keeping a job's last status {@code statusRetentionMs} (compact,delete).
     * Kafka deletes by whole closed segments, so the status topic rolls a segment at least once per retention
     * period; the compaction lag and tombstone retention never exceed the retention.
     */
    public static List<Spec> specs(int requestPartitions, int embeddingPartitions, int statusPartitions,
                                   long statusRetentionMs) {
        if (statusRetentionMs < 1) {
            throw new IllegalArgumentException("status retention must be >= 1 ms, got " + statusRetentionMs);
        }
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec(REQUESTS, requestPartitions, Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(WORK_RETENTION_MS))));
        specs.add(new Spec(EMBEDDINGS, embeddingPartitions, Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(WORK_RETENTION_MS))));
        specs.add(new Spec(LOWRES, embeddingPartitions, Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(WORK_RETENTION_MS))));
        specs.add(new Spec(STATUS, statusPartitions, Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG,
                TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG,
                Long.toString(Math.min(STATUS_MIN_COMPACTION_LAG_MS, statusRetentionMs)),
                TopicConfig.DELETE_RETENTION_MS_CONFIG,
                Long.toString(Math.min(STATUS_DELETE_RETENTION_MS, statusRetentionMs)),
                TopicConfig.SEGMENT_MS_CONFIG, Long.toString(Math.min(STATUS_RETENTION_MS, statusRetentionMs)),
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(statusRetentionMs))));
        specs.add(new Spec(DEAD_LETTERS, DEAD_LETTERS_PARTITIONS, Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(DEAD_LETTER_RETENTION_MS))));
        specs.add(new Spec(MODELS, 1, Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
        return specs;
    }

    public static List<Spec> defaultSpecs() {
        return defaultSpecs(STATUS_RETENTION_MS);
    }

    /** The production partition counts with the given status retention. */
    public static List<Spec> defaultSpecs(long statusRetentionMs) {
        List<Spec> specs = new ArrayList<>(specs(REQUESTS_PARTITIONS, EMBEDDINGS_PARTITIONS, STATUS_PARTITIONS,
                statusRetentionMs));
        specs.addAll(trainingSpecs(TRAINING_JOBS_PARTITIONS, TRAINING_STATUS_PARTITIONS));
        return specs;
    }

    /**
     * The training topics: {@code training.jobs} (delete, 30 days), read by the {@code trainer} group, and
     * {@code training.status} (compact only: a training's last status, which names the model version it
     * published, is kept as long as the topic is).
     */
    public static List<Spec> trainingSpecs(int jobPartitions, int statusPartitions) {
        return List.of(
                new Spec(TRAINING_JOBS, jobPartitions, Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                        TopicConfig.RETENTION_MS_CONFIG, Long.toString(TRAINING_JOBS_RETENTION_MS))),
                new Spec(TRAINING_STATUS, statusPartitions, Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Long.toString(STATUS_MIN_COMPACTION_LAG_MS))));
    }

    /**
     * Creates the topics that do not exist yet (existing ones are left as they are), with the broker's
     * {@code default.replication.factor} (1 on the embedded broker; set 3 on a production cluster), and returns
     * once the broker lists every one of them. The controller acknowledges a creation before the brokers' metadata
     * caches have it, so a client that produces or lists right after the acknowledgement could otherwise miss it.
     */
    public static void ensure(Admin admin, List<Spec> specs, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try {
            Set<String> existing = admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (Spec spec : specs) {
                if (!existing.contains(spec.name())) {
                    missing.add(new NewTopic(spec.name(), Optional.of(spec.partitions()), Optional.empty())
                            .configs(spec.configs()));
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            try {
                admin.createTopics(missing).all().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            awaitListed(admin, missing.stream().map(NewTopic::name).toList(), deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topics: " + e.getMessage(), e);
        }
    }

    private static void awaitListed(Admin admin, List<String> names, long deadline)
            throws InterruptedException, ExecutionException, TimeoutException {
        while (true) {
            Set<String> listed = admin.listTopics().names().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
            if (listed.containsAll(names)) {
                return;
            }
            if (System.nanoTime() >= deadline) {
                throw new TimeoutException("created topics not listed yet: "
                        + names.stream().filter(name -> !listed.contains(name)).toList());
            }
            Thread.sleep(METADATA_POLL_MS);
        }
    }

    private static long remainingMs(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }
}
