package dalle2.messages;

import dalle2.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a model was made from, kept in its folder as {@value #FILE} so that it is part of the model's
 * {@link ModelVersion}: the same weights trained against another CLIP are another model.
 *
 * @param clipVersion the CLIP whose embedding space the model works in (a prior predicts in it, a decoder is
 *                    conditioned on it); null for a CLIP itself and for the upsampler, which sees only pixels
 * @param baseVersion the version training started from, or null for a model trained from scratch
 */
public record ModelLineage(String clipVersion, String baseVersion) {

    public static final String FILE = "lineage.json";

    public ModelLineage {
        if (clipVersion != null) {
            InvalidMessageException.require(ModelVersion.roleOf(clipVersion).equals("clip"), "clip_version",
                    "clip_version must name a clip model (clip@<digest>), got '" + clipVersion + "'");
        }
    }

    /**
     * The bytes of {@value #FILE}: compact JSON, the same wherever a lineage is written (a trainer's model folder,
     * a published version), since the file's digest is part of the model's version.
     */
    public byte[] json() {
        return Json.writeBytes(this);
    }

    /** Writes {@value #FILE} into a model folder. */
    public void writeTo(Path modelDir) throws IOException {
        Files.write(modelDir.resolve(FILE), json());
    }

    /** The lineage in a model folder, if it has one. */
    public static Optional<ModelLineage> in(Path modelDir) {
        Path file = modelDir.resolve(FILE);
        return Files.isRegularFile(file) ? Optional.of(Json.readFile(file, ModelLineage.class)) : Optional.empty();
    }
}
