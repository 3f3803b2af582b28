package dalle2.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * An IDX file of unsigned bytes (the MNIST format: magic 0x0000 08 NN, NN dimensions as big-endian int32, then the
 * data), plain or gzip-compressed.
 *
 * @param dims e.g. {60000, 28, 28} for images, {60000} for labels
 */
public record IdxFile(int[] dims, byte[] data) {

    private static final int UNSIGNED_BYTE = 0x08;

    public int count() {
        return dims[0];
    }

    /** Bytes per record (28*28 for images, 1 for labels). */
    public int recordSize() {
        int n = 1;
        for (int i = 1; i < dims.length; i++) {
            n *= dims[i];
        }
        return n;
    }

    public static IdxFile read(Path file) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
            DataInputStream data = new DataInputStream(in);
            int magic = data.readInt();
            if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xFF) != UNSIGNED_BYTE || (magic & 0xFF) == 0) {
                throw new IOException(file + " is not an unsigned-byte IDX file (magic 0x" + Integer.toHexString(magic) + ")");
            }
            int[] dims = new int[magic & 0xFF];
            long total = 1;
            for (int i = 0; i < dims.length; i++) {
                dims[i] = data.readInt();
                if (dims[i] < 0) {
                    throw new IOException(file + ": negative dimension " + dims[i]);
                }
                total *= dims[i];
            }
            if (total > Integer.MAX_VALUE - 16) {
                throw new IOException(file + ": " + Arrays.toString(dims) + " is too large");
            }
            byte[] bytes = new byte[(int) total];
            try {
                data.readFully(bytes);
            } catch (EOFException e) {
                throw new IOException(file + " is truncated: header says " + Arrays.toString(dims), e);
            }
            return new IdxFile(dims, bytes);
        }
    }
}
