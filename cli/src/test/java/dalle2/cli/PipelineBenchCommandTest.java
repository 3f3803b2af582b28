package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PipelineBenchCommandTest {

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aTinyRunReportsEveryFigurePositiveAndFinite(@TempDir Path data) {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new Main()).setOut(new PrintWriter(out));
        PipelineBenchCommand bench = cli.getSubcommands().get("bench-pipeline").getCommand();
        int code = cli.execute("bench-pipeline", "--tiny", "--burst", "3", "--decoder-batches", "1,4",
                "--prior-steps", "2", "--decoder-steps", "2", "--model-repeats", "1", "--warm-up-jobs", "1",
                "--singles", "2", "--polls", "40",
                "--submits", "10", "--http-clients", "2", "--timeout", "PT60S", "--data-dir", data.toString());
        String report = out.toString();
        assertEquals(0, code, report);

        Map<String, Double> figures = bench.figures();
        for (String name : List.of("model.prior_ms", "model.decoder_b1_ms", "model.decoder_b4_images_per_s",
                "single.queue_wait_ms", "single.prior_ms", "single.decoder_ms", "single.upload_ms",
                "single.visible_ms", "single.e2e_ms", "single.model_ms", "single.prior_model_call_ms",
                "single.decoder_model_call_ms", "single.prior_direct_ms", "single.decoder_direct_ms",
                "burst.b1.e2e_p50_ms", "burst.b1.e2e_p95_ms", "burst.b1.decoder_images_per_s",
                "burst.b4.e2e_p95_ms", "burst.b4.decoder_images_per_s", "burst.b4.mean_decoder_batch",
                "burst.b1.decoder_model_ms", "burst.b4.decoder_alone_after_images_per_s",
                "burst.b4.worker_over_alone_after", "backlog.b1.decoder_images_per_s",
                "backlog.b4.decoder_images_per_s", "backlog.b4.worker_over_alone_after",
                "backlog.b4.decoder_model_ms", "backlog.b4.cpu_cores_all",
                // at max batch 1 a backlog's calls are always one per job, so the same-calls figures are there
                "backlog.b1.worker_over_alone_same_calls", "backlog.b1.decoder_alone_same_calls_before_images_per_s",
                "gateway.polls_per_s", "gateway.submits_per_s")) {
            Double v = figures.get(name);
            assertTrue(v != null && Double.isFinite(v) && v > 0, name + " = " + v + "\n" + report);
        }
        assertTrue(Double.isFinite(figures.get("single.overhead_ms")), report);
        assertTrue(figures.get("burst.b1.mean_decoder_batch") == 1.0, "max batch 1 means batches of 1\n" + report);
        assertTrue(figures.get("burst.b1.e2e_p95_ms") >= figures.get("burst.b1.e2e_p50_ms"), report);
        // the backlog's decoder worker took its first job only after the prior had finished every one (how the
        // worker's poll splits the queued records into batches is the consumer's business, not the bench's)
        assertTrue(figures.get("backlog.b4.first_decoder_start_after_last_prior_ms") >= 0, "backlog\n" + report);
        assertTrue(figures.get("backlog.b1.first_decoder_start_after_last_prior_ms") >= 0, "backlog\n" + report);
        for (String line : List.of("command: ./dalle2 bench-pipeline --tiny", "machine: ", "one job",
                "burst of 3 jobs (n=1), decoder max batch 4", "pipeline overhead = end to end - model time",
                "of which the model call in the worker", "polls   (GET status)", "the decoder's model calls took",
                "decoder alone at batch 4: ",
                "backlog burst of 3 jobs (n=1), decoder max batch 4: every embedding queued before the decoder",
                "the decoder worker took its first job", "decoder alone on the same calls (3 of batch 1): ",
                "of their mean", "CPU of this process meanwhile")) {
            assertTrue(report.contains(line), "report shows '" + line + "'\n" + report);
        }
    }
}
