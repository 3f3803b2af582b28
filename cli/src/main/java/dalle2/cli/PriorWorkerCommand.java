package dalle2.cli;

import dalle2.cli.WorkerOptions.Pool;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code dalle2 prior-worker}: one member of the prior pool. */
@Command(name = "prior-worker", mixinStandardHelpOptions = true, description = "Run a prior worker.")
public final class PriorWorkerCommand implements Callable<Integer> {

    /** Images per prior batch unless --max-batch says otherwise. */
    static final int DEFAULT_MAX_BATCH = 8;

    @Mixin
    WorkerOptions worker;

    @Override
    public Integer call() throws Exception {
        return worker.runUntilSignal(Pool.PRIOR, () -> PipelineServices.startPriorWorker(
                worker.config(Pool.PRIOR, worker.maxBatchOr(DEFAULT_MAX_BATCH)), ModelFactory.forPriorPool(worker.models),
                worker.registryFollowing(Pool.PRIOR)));
    }
}
