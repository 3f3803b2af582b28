package dalle2.cli;

import ai.djl.Device;
import dalle2.inference.DecodeTask;
import dalle2.inference.EmbedTask;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.ModelProvider;
import dalle2.inference.SamplingParams;
import dalle2.sampling.DdimSampler;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Deterministic stand-ins for the networks, for pipeline tests only: an "embedding" is a vector drawn from a
 * generator seeded by the prompt and the task's seed; an "image" is a pattern computed from the embedding and the
 * task's seed. Each result depends on its own task only, as the ports require, and progress is reported per step.
 */
final class StandInModels implements ModelProvider {

    static final int DIM = 16;

    private final int imageSize;
    private final long millisPerStep;

    StandInModels(int imageSize, long millisPerStep) {
        this.imageSize = imageSize;
        this.millisPerStep = millisPerStep;
    }

    @Override
    public ImageEmbeddingModel embeddingModel() {
        return new ImageEmbeddingModel() {
            @Override
            public String version() {
                return "stand-in-prior";
            }

            @Override
            public int embeddingDim() {
                return DIM;
            }

            @Override
            public List<float[]> embed(SamplingParams params, List<EmbedTask> tasks, DdimSampler.Progress progress) {
                steps(params.steps(), progress);
                List<float[]> out = new ArrayList<>();
                for (EmbedTask t : tasks) {
                    Random r = new Random(t.seed() * 31 + t.prompt().hashCode());
                    float[] v = new float[DIM];
                    for (int i = 0; i < DIM; i++) {
                        v[i] = (float) r.nextGaussian();
                    }
                    out.add(v);
                }
                return out;
            }
        };
    }

    @Override
    public ImageDecoderModel decoderModel(Device device) {
        return new ImageDecoderModel() {
            @Override
            public String version() {
                return "stand-in-decoder";
            }

            @Override
            public int imageSize() {
                return imageSize;
            }

            @Override
            public List<BufferedImage> decode(SamplingParams params, List<DecodeTask> tasks,
                                              DdimSampler.Progress progress) {
                steps(params.steps(), progress);
                List<BufferedImage> out = new ArrayList<>();
                for (DecodeTask t : tasks) {
                    Random noise = new Random(t.seed());
                    BufferedImage img = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_INT_RGB);
                    float[] e = t.embedding();
                    for (int y = 0; y < imageSize; y++) {
                        for (int x = 0; x < imageSize; x++) {
                            int r = (int) (128 + 60 * Math.sin(e[0] * x + e[1] * y)) + noise.nextInt(16);
                            int g = (int) (128 + 60 * Math.sin(e[2] * x - e[3] * y)) + noise.nextInt(16);
                            int b = (int) (128 + 60 * Math.cos(e[4] * (x + y))) + noise.nextInt(16);
                            img.setRGB(x, y, (clamp(r) << 16) | (clamp(g) << 8) | clamp(b));
                        }
                    }
                    out.add(img);
                }
                return out;
            }
        };
    }

    private void steps(int steps, DdimSampler.Progress progress) {
        for (int k = 1; k <= steps; k++) {
            if (millisPerStep > 0) {
                try {
                    Thread.sleep(millisPerStep);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            progress.onStep(k, steps);
        }
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
