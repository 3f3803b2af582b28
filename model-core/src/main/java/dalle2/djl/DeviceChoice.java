package dalle2.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;

/**
 * {@code --device auto|cpu|gpu}: where a decoder or upsampler worker runs its U-Net. A GPU needs the CUDA build
 * of libtorch for DJL on the class path (pytorch-native-cu* instead of pytorch-native-cpu) and a driver;
 * {@code auto} takes the first GPU when the engine sees one and the CPU otherwise.
 */
public enum DeviceChoice {
    AUTO, CPU, GPU;

    /**
     * Decoder images per batch when none is configured: a GPU is fed wide batches, a CPU gains little past a few.
     */
    public static final int GPU_DEFAULT_MAX_BATCH = 16;
    public static final int CPU_DEFAULT_MAX_BATCH = 4;

    public Device resolve() {
        if (this == CPU) {
            return Device.cpu();
        }
        DjlRuntime.configure();
        int gpus = Engine.getInstance().getGpuCount();
        if (gpus > 0) {
            return Device.gpu();
        }
        if (this == GPU) {
            throw new IllegalStateException("--device gpu: no GPU visible to DJL (the CUDA build of libtorch and a "
                    + "driver are needed); use --device auto or cpu");
        }
        return Device.cpu();
    }

    public static int defaultMaxBatch(Device device) {
        return device.isGpu() ? GPU_DEFAULT_MAX_BATCH : CPU_DEFAULT_MAX_BATCH;
    }
}
