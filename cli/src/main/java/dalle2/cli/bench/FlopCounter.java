package dalle2.cli.bench;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.core.Linear;

/**
 * Counts the multiply-adds of an initialized network's convolutions and linear layers (2 FLOPs each), per
 * sample, from the input shapes DJL recorded at initialisation. Attention's score and value products are not
 * blocks and are not counted, so the figure is a slight under-estimate for attention layers.
 */
public final class FlopCounter {

    private FlopCounter() {
    }

    /** FLOPs per sample of one forward pass. */
    public static double perSample(Block block) {
        double total = 0;
        if (block instanceof Convolution conv) {
            Shape in = block.getInputShapes()[0];
            Shape out = block.getOutputShapes(block.getInputShapes())[0];
            long batch = in.get(0);
            long inChannels = in.get(1) / conv.getGroups();
            long kernel = conv.getKernelShape().size();
            long outputs = out.size() / batch;          // C_out · H_out · W_out
            total += 2.0 * inChannels * kernel * outputs;
        } else if (block instanceof Linear) {
            Shape in = block.getInputShapes()[0];
            Shape out = block.getOutputShapes(block.getInputShapes())[0];
            long batch = in.get(0);
            long inFeatures = in.get(in.dimension() - 1);
            total += 2.0 * inFeatures * out.size() / batch;
        }
        for (Block child : block.getChildren().values()) {
            total += perSample(child);
        }
        return total;
    }
}
