package dalle2.cli;

import ai.djl.Device;
import dalle2.cli.WorkerOptions.Pool;
import dalle2.djl.DeviceChoice;
import dalle2.upsampler.UpsamplerWorker;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dalle2 upsampler-worker}: one member of the upsampler pool (32 → 256 px, and 64 / 128 from it). */
@Command(name = "upsampler-worker", mixinStandardHelpOptions = true, description = "Run an upsampler worker.")
public final class UpsamplerWorkerCommand implements Callable<Integer> {

    @Mixin
    WorkerOptions worker;

    @Option(names = "--device", defaultValue = "${env:DALLE2_DEVICE:-auto}",
            description = "auto, cpu or gpu (env DALLE2_DEVICE; default ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        DeviceChoice choice = DeviceChoice.valueOf(device.toUpperCase(Locale.ROOT));
        return worker.runUntilSignal(Pool.UPSAMPLER, () -> {
            Device resolved = choice.resolve();
            return PipelineServices.startUpsamplerWorker(
                    worker.config(Pool.UPSAMPLER, worker.maxBatchOr(UpsamplerWorker.defaultMaxBatch(resolved))),
                    worker.connection.storage(), resolved, ModelFactory.forUpsamplerPool(worker.models),
                    worker.registryFollowing(Pool.UPSAMPLER));
        });
    }
}
