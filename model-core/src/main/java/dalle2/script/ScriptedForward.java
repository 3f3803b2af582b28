package dalle2.script;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A DJL block's inference forward pass compiled by libtorch from TorchScript source and run as one native
 * call. The same network run op by op from Java makes one JNI call, one Java array and one manager entry per
 * op (about 530 for a batch-1 decoder evaluation); TorchScript's interpreter runs those ops without leaving
 * native code.
 *
 * <p>The module holds no weights: each call passes the block's current parameter arrays, so loading weights
 * or swapping in the EMA weights takes effect at the next call, as in the block itself. DJL runs the module
 * with autograd off (a no-grad guard, not an inference-mode one), so the outputs are ordinary tensors that later
 * in-place ops may change; a pass whose result must be differentiated stays op by op
 * ({@link dalle2.djl.DjlRuntime#scriptedForwardNow}).
 */
public final class ScriptedForward implements AutoCloseable {

    private final PtSymbolBlock module;
    private final List<Parameter> parameters;

    private ScriptedForward(PtSymbolBlock module, List<Parameter> parameters) {
        this.module = module;
        this.parameters = parameters;
    }

    /**
     * Compiles {@code archive} (from {@link TorchScriptArchive#of}) whose forward takes {@code block}'s
     * parameters, in their {@link Block#getParameters()} order, as its last argument.
     */
    public static ScriptedForward compile(NDManager manager, byte[] archive, Block block) {
        PtSymbolBlock module;
        try {
            module = JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(archive), false, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Parameter> parameters = block.getParameters().stream().map(Pair::getValue).toList();
        return new ScriptedForward(module, parameters);
    }

    /** Runs forward(inputs..., weights); the output joins the first input's manager. */
    public NDArray forward(NDArray... inputs) {
        IValue[] arguments = new IValue[inputs.length + 1];
        try {
            for (int i = 0; i < inputs.length; i++) {
                arguments[i] = IValue.from((PtNDArray) inputs[i]);
            }
            PtNDArray[] weights = new PtNDArray[parameters.size()];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (PtNDArray) parameters.get(i).getArray();
            }
            arguments[inputs.length] = IValue.listFrom(weights);
            try (IValue result = module.forward(arguments)) {
                return result.toTensor((PtNDManager) inputs[0].getManager());
            }
        } finally {
            for (IValue argument : arguments) {
                if (argument != null) {
                    argument.close();
                }
            }
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
