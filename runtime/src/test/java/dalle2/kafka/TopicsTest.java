package dalle2.kafka;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
