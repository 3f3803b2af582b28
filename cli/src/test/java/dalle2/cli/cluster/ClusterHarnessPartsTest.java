package dalle2.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The harness's judgement without a cluster: tolerance, percentiles, verdicts, scenario names. */
class ClusterHarnessPartsTest {

    @Test
    void pixelDifferenceIsTheLargestChannelDifference() {
        BufferedImage a = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        BufferedImage b = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        a.setRGB(1, 1, 0x102030);
        b.setRGB(1, 1, 0x112030);
        assertEquals(1, ReferenceImages.maxChannelDifference(a, b));
        b.setRGB(0, 0, 0x000007);
        assertEquals(7, ReferenceImages.maxChannelDifference(a, b));
        assertEquals(Integer.MAX_VALUE, ReferenceImages.maxChannelDifference(a,
                new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB)));
    }

    @Test
    void percentilesOfSortedLatencies() {
        List<Long> sorted = java.util.stream.LongStream.rangeClosed(1, 100).boxed().toList();
        assertEquals(50, ScenarioRunner.percentile(sorted, 50));
        assertEquals(99, ScenarioRunner.percentile(sorted, 99));
        assertEquals(-1, ScenarioRunner.percentile(List.of(), 50));
    }

    @Test
    void aFailedJobBreaksThePromiseEvenWithAReason() {
        ScenarioResult kept = result(Map.of(), 4);
        ScenarioResult failed = result(Map.of("failed:storage_error", 1), 3);
        assertFalse(kept.broken());
        assertTrue(failed.broken());
        assertEquals(1, failed.failed());
        assertTrue(SummaryTable.of(List.of(kept, failed)).contains("| BROKEN |"));
    }

    @Test
    void scenariosParseFromTheirWireNames() {
        for (Scenario s : Scenario.values()) {
            assertEquals(s, Scenario.parse(s.wire()));
        }
        assertEquals("after-image-stored:2", Scenario.HALT_AFTER_IMAGE_STORED.decoderFault);
    }

    @Test
    void repeatedJobsShareTheirSeedButNotTheirKey() {
        Workload w = new Workload(100, 2, 1, 4, 4, 1000, 50, 60);
        JobSpec first = JobSpec.numbered("run", 3, w);
        JobSpec repeat = JobSpec.numbered("run", 53, w);
        assertEquals(first.withoutKey(), repeat.withoutKey());
        assertFalse(first.idempotencyKey().equals(repeat.idempotencyKey()));
    }

    private static ScenarioResult result(Map<String, Integer> failed, int succeeded) {
        return new ScenarioResult("s", 4, 4, succeeded, failed, 0, List.of(), 0, 0, 0, 1, List.of(1000L), 2000, 10,
                20, List.of());
    }
}
