package dalle2.cli;

import dalle2.cli.cluster.ReferenceImages;
import dalle2.cli.cluster.Scenario;
import dalle2.cli.cluster.ScenarioResult;
import dalle2.cli.cluster.ScenarioRunner;
import dalle2.cli.cluster.SoakRun;
import dalle2.cli.cluster.SummaryTable;
import dalle2.cli.cluster.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalle2 cluster}: the fault harness. Starts the service as separate processes on loopback (3 Kafka
 * brokers, an S3 server, 2 gateways, 2 prior and 2 decoder workers), injects one fault per run during a burst of
 * jobs and checks the delivery promises; exits 1 when one was broken.
 */
@Command(name = "cluster", aliases = "faults", mixinStandardHelpOptions = true,
        description = "Fault harness: a real multi-process cluster, one injected fault per run, promises checked.")
public final class ClusterCommand implements Callable<Integer> {

    @Option(names = "--scenarios", split = ",", description = "runs, in order (default: all): baseline, "
            + "decoder-kill, prior-kill, gateway-kill, broker-leader-kill, brokers-restart, s3-outage, s3-blip, "
            + "halt-after-image-stored, halt-after-status-published")
    List<String> scenarios;

    @Option(names = "--jobs", defaultValue = "16", description = "jobs per run (default ${DEFAULT-VALUE})")
    int jobs;

    @Option(names = "--rate", defaultValue = "1.0", description = "jobs submitted per second (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--n", defaultValue = "2", description = "images per job (default ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--prior-steps", defaultValue = "4", description = "prior sampler steps (default ${DEFAULT-VALUE})")
    int priorSteps;

    @Option(names = "--decoder-steps", defaultValue = "4",
            description = "decoder sampler steps (default ${DEFAULT-VALUE})")
    int decoderSteps;

    @Option(names = "--settle-s", defaultValue = "240",
            description = "seconds after the last submission a job may still finish before it counts as stuck "
                    + "(default ${DEFAULT-VALUE})")
    int settleSeconds;

    @Option(names = "--dir", defaultValue = "target/cluster-runs",
            description = "where each run's cluster keeps its logs, broker logs and objects")
    Path dir;

    @Option(names = "--models", defaultValue = "trained_models",
            description = "model folder of the workers and of the reference images (default ${DEFAULT-VALUE})")
    Path models;

    @Option(names = "--soak", description = "instead of the scenarios: a long steady run with a decoder kill, "
            + "a broker kill and a 60 s storage outage in the middle")
    boolean soak;

    @Option(names = "--soak-jobs", defaultValue = "1000", description = "soak jobs, 1 image each (default ${DEFAULT-VALUE})")
    int soakJobs;

    @Option(names = "--soak-rate", defaultValue = "2.0", description = "soak jobs per second (default ${DEFAULT-VALUE})")
    double soakRate;

    @Override
    public Integer call() {
        Path resolvedModels = ModelFactory.resolve(models).toAbsolutePath();
        List<ScenarioResult> results = new ArrayList<>();
        try (ReferenceImages references = new ReferenceImages(resolvedModels)) {
            if (soak) {
                Workload w = new Workload(soakJobs, soakRate, 1, priorSteps, decoderSteps, 1000, 50, settleSeconds);
                results.add(new SoakRun(new ScenarioRunner.Options(dir, resolvedModels, w), references).run());
            } else {
                Workload w = new Workload(jobs, rate, n, priorSteps, decoderSteps, 7, 0, settleSeconds);
                ScenarioRunner runner = new ScenarioRunner(new ScenarioRunner.Options(dir, resolvedModels, w),
                        references);
                List<Scenario> chosen = scenarios == null ? Arrays.asList(Scenario.values())
                        : scenarios.stream().map(Scenario::parse).toList();
                for (Scenario scenario : chosen) {
                    results.add(runner.run(scenario));
                    System.out.println(SummaryTable.of(results));
                }
            }
        }
        System.out.println();
        System.out.println(SummaryTable.of(results));
        return results.stream().anyMatch(ScenarioResult::broken) ? 1 : 0;
    }
}
