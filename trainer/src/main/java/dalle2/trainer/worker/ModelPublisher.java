package dalle2.trainer.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Where a finished training's model goes, and where a training that starts from a published model gets it. */
public interface ModelPublisher {

    /**
     * What a published version records besides its files.
     *
     * @param clipVersion the CLIP a prior, decoder or upsampler was trained against (null for a CLIP)
     * @param baseVersion the version the training started from, or null
     * @param evaluation  figures of the run (its final loss, its steps)
     */
    record PublishInfo(String clipVersion, String baseVersion, String trainingId, Map<String, Double> evaluation) {
    }

    /** Publishes the model folder as a version of {@code role}; returns the version. */
    String publish(String role, Path modelDir, PublishInfo info) throws IOException;

    /** A published version's folder on local disk (fetched into {@code cacheRoot} when needed). */
    Path fetch(String role, String version, Path cacheRoot) throws IOException;
}
