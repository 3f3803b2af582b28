package dalle2.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dalle2 prior-worker}: one member of the prior pool. */
@Command(name = "prior-worker", mixinStandardHelpOptions = true, description = "Run a prior worker.")
public final class PriorWorkerCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--models", defaultValue = "${env:DALLE2_MODELS:-trained_models}", description = "model folder")
    Path models;

    @Option(names = "--max-batch", defaultValue = "8", description = "images per prior batch")
    int maxBatch;

    @Override
    public Integer call() throws Exception {
        PipelineServices.Settings s = PipelineServices.Settings.of(connection.kafka, connection.storage(), -1, 1, 0);
        s = new PipelineServices.Settings(s.bootstrap(), s.storage(), s.host(), -1, 1, 0, s.device(), maxBatch, 0,
                s.maxWait());
        PipelineServices services = PipelineServices.start(s, ModelFactory.load(models));
        System.out.println("prior worker joined group prior at " + connection.kafka);
        Shutdown.awaitSignalThenClose(services);
        return 0;
    }
}
