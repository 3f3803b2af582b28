package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes a block's parameters as one safetensors file, keyed by DJL's parameter path names.
 *
 * <p>Loading checks every name and shape against the block as its config built it, so a config that does
 * not match the weights fails with a message that names the first mismatches instead of a native crash.
 */
public final class ModelWeights {

    private ModelWeights() {
    }

    /** Writes every parameter of an initialized block. */
    public static void save(Block block, Path file) throws IOException {
        try (NDManager manager = firstArray(block).getManager().newSubManager()) {
            NDList list = new NDList();
            for (Pair<String, Parameter> entry : block.getParameters()) {
                NDArray copy = entry.getValue().getArray().duplicate();
                copy.attach(manager);
                copy.setName(entry.getKey());
                list.add(copy);
            }
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                list.encode(out, NDList.Encoding.SAFETENSORS);
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /**
     * Copies the weights in {@code file} into an initialized block.
     *
     * @param what names the model in error messages ("decoder", "prior", …)
     * @throws IllegalArgumentException naming missing, unexpected or mis-shaped parameters
     */
    public static void load(Block block, Path file, String what) throws IOException {
        NDManager owner = firstArray(block).getManager();
        try (NDManager manager = owner.newSubManager()) {
            Map<String, NDArray> stored = decodeByName(manager, file);
            Map<String, NDArray> byName = new LinkedHashMap<>(stored);
            List<String> problems = new ArrayList<>();
            for (Pair<String, Parameter> entry : block.getParameters()) {
                NDArray target = entry.getValue().getArray();
                NDArray source = byName.remove(entry.getKey());
                if (source == null) {
                    problems.add("missing parameter " + entry.getKey() + " " + target.getShape());
                } else if (!source.getShape().equals(target.getShape())) {
                    problems.add("parameter " + entry.getKey() + ": the config gives shape " + target.getShape()
                            + " but the weights have " + source.getShape());
                }
            }
            for (Map.Entry<String, NDArray> extra : byName.entrySet()) {
                problems.add("unexpected parameter " + extra.getKey() + " " + extra.getValue().getShape());
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("the " + what + " weights in " + file
                        + " do not match its config.json (" + problems.size() + " problems): "
                        + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                        + (problems.size() > 5 ? "; …" : ""));
            }
            // toByteBuffer() copies the values out of the decoded array (which closes with this scope); set()
            // copies them again into a direct buffer of DJL's that becomes the parameter's storage and that the
            // parameter's array keeps reachable. So nothing here aliases memory freed later. Never pass
            // toByteBuffer(true) to set(): that buffer is a view of the source's memory.
            for (Pair<String, Parameter> entry : block.getParameters()) {
                NDArray target = entry.getValue().getArray();
                NDArray source = stored.get(entry.getKey());
                target.set(source.toType(DataType.FLOAT32, false).toByteBuffer());
            }
        }
    }

    /**
     * Copies, from {@code file}, every parameter whose name and shape the block shares with it, and leaves the
     * others at the block's fresh initialisation: how a model starts from one of another config, e.g. a decoder
     * following a CLIP of another embedding width keeps its U-Net and learns only its conditioning path anew.
     *
     * @return the names of the block's parameters that kept their initialisation, each with its shape
     * @throws IllegalArgumentException when no parameter matches (not a model of this kind)
     */
    public static List<String> loadMatching(Block block, Path file, String what) throws IOException {
        NDManager owner = firstArray(block).getManager();
        try (NDManager manager = owner.newSubManager()) {
            Map<String, NDArray> byName = decodeByName(manager, file);
            List<String> kept = new ArrayList<>();
            int copied = 0;
            for (Pair<String, Parameter> entry : block.getParameters()) {
                NDArray target = entry.getValue().getArray();
                NDArray source = byName.get(entry.getKey());
                if (source == null || !source.getShape().equals(target.getShape())) {
                    kept.add(entry.getKey() + " " + target.getShape());
                    continue;
                }
                // the same copies as load(): never alias the decoded array's memory
                target.set(source.toType(DataType.FLOAT32, false).toByteBuffer());
                copied++;
            }
            if (copied == 0) {
                throw new IllegalArgumentException("no parameter of the " + what + " matches the weights in " + file);
            }
            return kept;
        }
    }

    /** The parameters stored in {@code file}, by name, as arrays of {@code manager}. */
    private static Map<String, NDArray> decodeByName(NDManager manager, Path file) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            Map<String, NDArray> byName = new LinkedHashMap<>();
            for (NDArray array : NDList.decode(manager, in)) {
                byName.put(array.getName(), array);
            }
            return byName;
        }
    }

    private static NDArray firstArray(Block block) {
        if (block.getParameters().isEmpty()) {
            throw new IllegalArgumentException("block has no parameters");
        }
        Parameter first = block.getParameters().valueAt(0);
        if (!first.isInitialized()) {
            throw new IllegalStateException("initialize the block before saving or loading its weights");
        }
        return first.getArray();
    }
}
