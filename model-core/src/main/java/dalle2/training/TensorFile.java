package dalle2.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named arrays in one safetensors file, for checkpoint parts (optimizer moments, EMA weights).
 *
 * <p>Writes go to a temporary file that is then moved into place, so a process killed mid-write leaves the
 * previous file intact.
 */
public final class TensorFile {

    private TensorFile() {
    }

    /** Writes every array of {@code arrays}, each under its {@link NDArray#getName()}. */
    public static void write(Path file, NDList arrays) throws IOException {
        for (NDArray array : arrays) {
            if (array.getName() == null || array.getName().isEmpty()) {
                throw new IllegalArgumentException("every array needs a name to be written to " + file);
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
            arrays.encode(out, NDList.Encoding.SAFETENSORS);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a file written by {@link #write}; the arrays live in {@code manager} and keep their names. */
    public static NDList read(Path file, NDManager manager) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return NDList.decode(manager, in);
        }
    }

    /** The arrays of a list by name, in order. */
    static Map<String, NDArray> byName(NDList arrays) {
        Map<String, NDArray> map = new LinkedHashMap<>();
        for (NDArray array : arrays) {
            if (map.put(array.getName(), array) != null) {
                throw new IllegalArgumentException("two arrays are named " + array.getName());
            }
        }
        return map;
    }
}
