package dalle2.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle2.models.Upsampler;
import dalle2.sampling.DdimSampler;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The upsampler stage of the cascade: base image → super-resolution U-Net sampled with DDIM at the model's own
 * size → that image, or its area average for a task that asks for a smaller size (so a job's 64 and 128 px images
 * are the 256 px image seen smaller, not other drawings). One seed per image.
 */
public final class UpsamplerStage implements ImageUpsamplerModel {

    private final Upsampler upsampler;
    private final NDManager manager;
    private final String version;

    public UpsamplerStage(Upsampler upsampler, NDManager manager, String version) {
        this.upsampler = upsampler;
        this.manager = manager;
        this.version = version;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public int lowResSize() {
        return upsampler.config().lowResSize();
    }

    @Override
    public int imageSize() {
        return upsampler.config().imageSize();
    }

    @Override
    public int steps() {
        return upsampler.config().samplingSteps();
    }

    @Override
    public List<BufferedImage> upsample(List<UpsampleTask> tasks, DdimSampler.Progress progress) {
        int low = lowResSize();
        List<byte[]> bases = new ArrayList<>(tasks.size());
        long[] seeds = new long[tasks.size()];
        for (int i = 0; i < tasks.size(); i++) {
            UpsampleTask task = tasks.get(i);
            if (task.lowResSize() != low || task.size() > imageSize() || imageSize() % task.size() != 0) {
                throw new IllegalArgumentException("job " + task.jobId() + " image " + task.index() + " asks "
                        + task.lowResSize() + " → " + task.size() + " px; this upsampler draws " + low + " → "
                        + imageSize() + " px and its area averages");
            }
            bases.add(task.rgb());
            seeds[i] = task.seed();
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray lowRes = ImageTensors.fromRgbBytes(scope, bases, low);              // (B, 3, l, l)
            NDArray full = upsampler.upsample(lowRes, seeds, progress);                 // (B, 3, S, S)
            List<BufferedImage> images = new ArrayList<>(tasks.size());
            for (int i = 0; i < tasks.size(); i++) {
                NDArray image = full.get(i + ":" + (i + 1));                              // (1, 3, S, S)
                int size = tasks.get(i).size();
                if (size != imageSize()) {
                    image = Upsampler.downsample(image, size);                            // (1, 3, size, size)
                }
                images.add(ImageTensors.toImages(image).get(0));
            }
            return images;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
