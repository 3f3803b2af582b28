package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

/**
 * Runs a DJL convolution block so that libtorch picks its fast kernel for a single image.
 *
 * <p>libtorch sends a convolution whose input is one image of at most 20,480 values (C·H·W) to its im2col +
 * GEMM path rather than oneDNN. For this U-Net's inner levels (64 or more channels at 16×16 and 8×8) that path
 * took 0.7–1.0 ms where oneDNN on the same image stacked twice took 0.2–0.6 ms (both measured here, best of
 * 200, libtorch 2.7.1, 2 threads), so such an image is convolved as a batch of two copies and the first output
 * kept. Narrow inputs (3 or 32 channels) are faster on the im2col path and stay there. The result is the same
 * convolution to float32 rounding (a different summation order).
 */
final class Convolutions {

    /** libtorch's bound: a batch-1 input with more values than this already goes to oneDNN. */
    static final long IM2COL_MAX_VALUES = 20_480;
    /** Inputs narrower than this were faster on the im2col path. */
    static final long MIN_CHANNELS_TO_REROUTE = 64;

    private Convolutions() {
    }

    static NDArray forward(Block convolution, ParameterStore ps, NDArray x, boolean training) {
        if (reroutes(x)) {
            NDArray twice = x.concat(x);                                                  // (2, C, H, W)
            return convolution.forward(ps, new NDList(twice), training).singletonOrThrow().get("0:1");
        }
        return convolution.forward(ps, new NDList(x), training).singletonOrThrow();
    }

    static boolean reroutes(NDArray x) {
        var shape = x.getShape();
        return shape.dimension() == 4 && shape.get(0) == 1 && shape.get(1) >= MIN_CHANNELS_TO_REROUTE
                && shape.size() <= IM2COL_MAX_VALUES;
    }
}
