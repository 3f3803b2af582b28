package dalle2.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One {@link dalle2.inference.TinyModels} folder per test JVM, written on first use. */
final class TinyModels {

    static final int IMAGE_SIZE = dalle2.inference.TinyModels.IMAGE_SIZE;
    private static Path folder;

    private TinyModels() {
    }

    static synchronized Path folder() {
        if (folder == null) {
            try {
                folder = dalle2.inference.TinyModels.write(Files.createTempDirectory("dalle2-tiny-models"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return folder;
    }
}
