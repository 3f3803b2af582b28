package dalle2.cli;

import ai.djl.Device;
import dalle2.cli.WorkerOptions.Pool;
import dalle2.djl.DeviceChoice;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dalle2 decoder-worker}: one member of the decoder (GPU) pool. */
@Command(name = "decoder-worker", mixinStandardHelpOptions = true, description = "Run a decoder worker.")
public final class DecoderWorkerCommand implements Callable<Integer> {

    @Mixin
    WorkerOptions worker;

    @Option(names = "--device", defaultValue = "${env:DALLE2_DEVICE:-auto}",
            description = "auto, cpu or gpu (env DALLE2_DEVICE; default ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        DeviceChoice choice = DeviceChoice.valueOf(device.toUpperCase(Locale.ROOT));
        return worker.runUntilSignal(Pool.DECODER, () -> {
            Device resolved = choice.resolve();
            return PipelineServices.startDecoderWorker(
                    worker.config(Pool.DECODER, worker.maxBatchOr(DeviceChoice.defaultMaxBatch(resolved))),
                    worker.connection.storage(), resolved, ModelFactory.forDecoderPool(worker.models),
                    worker.registryFollowing(Pool.DECODER));
        });
    }
}
