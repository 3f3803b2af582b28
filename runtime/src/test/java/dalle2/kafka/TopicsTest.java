package dalle2.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void aRecordMustBeKeyedByItsJobIdAndTheProblemNamesBothValues() {
        assertNull(Topics.keyProblem("job-1", "job-1"));
        String other = Topics.keyProblem("job-2", "job-1");
        assertTrue(other.contains("'job-2'") && other.contains("'job-1'"), other);
        assertTrue(Topics.keyProblem(null, "job-1").contains("no key"));
        assertTrue(Topics.keyProblem("", "job-1").contains("no key"));
        String longKey = Topics.keyProblem("k".repeat(5000), "job-1");
        assertTrue(longKey.length() < 300, "a huge key is cut: " + longKey.length());
    }

    @Test
    void theDefaultTopicsIncludeTheTrainingJobsAndTheirCompactedStatuses() {
        Map<String, Topics.Spec> specs = Topics.defaultSpecs().stream()
                .collect(Collectors.toMap(Topics.Spec::name, s -> s));
        Topics.Spec jobs = specs.get(Topics.TRAINING_JOBS);
        Topics.Spec status = specs.get(Topics.TRAINING_STATUS);
        assertEquals(Topics.TRAINING_JOBS_PARTITIONS, jobs.partitions());
        assertEquals(TopicConfig.CLEANUP_POLICY_DELETE, jobs.configs().get(TopicConfig.CLEANUP_POLICY_CONFIG));
        // a finished training's status names its published version: compacted, never deleted by age
        assertEquals(TopicConfig.CLEANUP_POLICY_COMPACT, status.configs().get(TopicConfig.CLEANUP_POLICY_CONFIG));
        assertNull(status.configs().get(TopicConfig.RETENTION_MS_CONFIG));
        assertTrue(specs.containsKey(Topics.STATUS) && specs.containsKey(Topics.REQUESTS));
    }
}
