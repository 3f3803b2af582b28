package dalle2.cli;

import dalle2.decoder.DeviceChoice;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dalle2 decoder-worker}: one member of the decoder (GPU) pool. */
@Command(name = "decoder-worker", mixinStandardHelpOptions = true, description = "Run a decoder worker.")
public final class DecoderWorkerCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--models", defaultValue = "${env:DALLE2_MODELS:-trained_models}", description = "model folder")
    Path models;

    @Option(names = "--device", defaultValue = "${env:DALLE2_DEVICE:-auto}",
            description = "auto, cpu or gpu (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--max-batch", defaultValue = "0",
            description = "images per decoder batch; 0 = by device (GPU 16, CPU 4)")
    int maxBatch;

    @Override
    public Integer call() throws Exception {
        DeviceChoice choice = DeviceChoice.valueOf(device.toUpperCase(java.util.Locale.ROOT));
        PipelineServices.Settings s = PipelineServices.Settings.of(connection.kafka, connection.storage(), -1, 0, 1);
        s = new PipelineServices.Settings(s.bootstrap(), s.storage(), s.host(), -1, 0, 1, choice, s.priorMaxBatch(),
                maxBatch, s.maxWait());
        PipelineServices services = PipelineServices.start(s, ModelFactory.load(models));
        System.out.println("decoder worker joined group decoder at " + connection.kafka);
        Shutdown.awaitSignalThenClose(services);
        return 0;
    }
}
