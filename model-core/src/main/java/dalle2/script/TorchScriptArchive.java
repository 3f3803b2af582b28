package dalle2.script;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a TorchScript module archive, the file {@code torch.jit.save} writes and libtorch's
 * {@code torch::jit::load} reads, for a module that holds no tensors: one class whose methods are TorchScript
 * source, every weight passed to {@code forward} as an argument. libtorch compiles the source when it loads the
 * archive, so the project can run a whole network as one native call without Python or a model file.
 *
 * <p>The archive is a zip (entries stored, not deflated) under one top folder:
 * <ul>
 *   <li>{@code code/__torch__.py}: the class, in the serialised TorchScript dialect (a subset of Python with
 *       type annotations; builtin operators are named {@code torch.<aten op>});</li>
 *   <li>{@code data.pkl}: the module object as a Python pickle (protocol 2): an instance of
 *       {@code __torch__.<Class>} with its one attribute, {@code training};</li>
 *   <li>{@code constants.pkl}: the tensor constants, an empty tuple here;</li>
 *   <li>{@code version}: the archive format version, 3 (what PyTorch 1.13 writes for a module without tensors;
 *       libtorch reads every version from 1 up).</li>
 * </ul>
 */
public final class TorchScriptArchive {

    /** The archive format version written to {@code version}. */
    static final String FORMAT_VERSION = "3";
    private static final Pattern CLASS_NAME = Pattern.compile("[A-Z][A-Za-z0-9_]*");
    private static final String TOP_FOLDER = "archive/";

    private TorchScriptArchive() {
    }

    /**
     * The archive bytes of a module of class {@code className} whose body (methods, indented by two spaces)
     * is {@code methods}. The class declares the module attributes TorchScript requires.
     */
    public static byte[] of(String className, String methods) {
        if (!CLASS_NAME.matcher(className).matches()) {
            throw new IllegalArgumentException("a TorchScript class name is a capitalised identifier, got '"
                    + className + "'");
        }
        String code = "class " + className + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + methods;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            store(zip, "data.pkl", moduleObjectPickle(className));
            store(zip, "code/__torch__.py", code.getBytes(StandardCharsets.UTF_8));
            store(zip, "constants.pkl", EMPTY_TUPLE_PICKLE);
            store(zip, "version", (FORMAT_VERSION + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);  // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    /** Pickle protocol 2 opcodes (Python's {@code pickletools} documents each). */
    private static final byte PROTO = (byte) 0x80;
    private static final byte GLOBAL = 'c';
    private static final byte EMPTY_TUPLE = ')';
    private static final byte NEWOBJ = (byte) 0x81;
    private static final byte EMPTY_DICT = '}';
    private static final byte BINUNICODE = 'X';
    private static final byte NEWFALSE = (byte) 0x89;
    private static final byte MARK = '(';
    private static final byte SETITEMS = 'u';
    private static final byte BUILD = 'b';
    private static final byte STOP = '.';
    private static final byte[] EMPTY_TUPLE_PICKLE = {PROTO, 2, EMPTY_TUPLE, STOP};

    /** {@code __torch__.<Class>()} with {@code __dict__ = {"training": False}}: a module in evaluation mode. */
    static byte[] moduleObjectPickle(String className) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(PROTO);
        out.write(2);
        out.write(GLOBAL);
        out.writeBytes(("__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
        out.write(EMPTY_TUPLE);
        out.write(NEWOBJ);
        out.write(EMPTY_DICT);
        out.write(MARK);                                     // libtorch's unpickler knows SETITEMS, not SETITEM
        byte[] key = "training".getBytes(StandardCharsets.UTF_8);
        out.write(BINUNICODE);
        for (int shift = 0; shift < 32; shift += 8) {          // 4-byte little-endian length
            out.write((key.length >>> shift) & 0xFF);
        }
        out.writeBytes(key);
        out.write(NEWFALSE);
        out.write(SETITEMS);
        out.write(BUILD);
        out.write(STOP);
        return out.toByteArray();
    }

    private static void store(ZipOutputStream zip, String name, byte[] content) throws IOException {
        ZipEntry entry = new ZipEntry(TOP_FOLDER + name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(content.length);
        entry.setCompressedSize(content.length);
        CRC32 crc = new CRC32();
        crc.update(content);
        entry.setCrc(crc.getValue());
        entry.setTime(0);
        zip.putNextEntry(entry);
        zip.write(content);
        zip.closeEntry();
    }
}
