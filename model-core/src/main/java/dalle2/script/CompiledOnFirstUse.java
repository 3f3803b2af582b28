package dalle2.script;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.util.function.Supplier;

/**
 * A block's {@link ScriptedForward}, compiled at the first inference call that uses it (about 0.2 s for the
 * decoder) rather than whenever the block is built: a trainer that never runs inference never pays it. The module
 * lives in the manager of the block's parameters, so it is freed with the weights.
 */
public final class CompiledOnFirstUse {

    private final Block block;
    private final String className;
    private final Supplier<String> source;
    private volatile ScriptedForward compiled;

    /**
     * @param className the TorchScript class name ({@link TorchScriptArchive#of})
     * @param source    the class body, asked for once, at the first {@link #get}
     */
    public CompiledOnFirstUse(Block block, String className, Supplier<String> source) {
        this.block = block;
        this.className = className;
        this.source = source;
    }

    /** The compiled forward pass, compiling it on the first call. */
    public ScriptedForward get() {
        ScriptedForward forward = compiled;
        if (forward == null) {
            synchronized (this) {
                forward = compiled;
                if (forward == null) {
                    NDManager owner = block.getParameters().valueAt(0).getArray().getManager();
                    forward = ScriptedForward.compile(owner, TorchScriptArchive.of(className, source.get()), block);
                    compiled = forward;
                }
            }
        }
        return forward;
    }
}
