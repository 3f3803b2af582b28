package dalle2.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntBinaryOperator;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Small real files the tests write into their temporary folders. */
final class Fixtures {

    private Fixtures() {
    }

    /** An ARGB PNG whose pixel (x, y) is {@code argb.applyAsInt(x, y)}. */
    static byte[] png(int width, int height, IntBinaryOperator argb) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, argb.applyAsInt(x, y));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    static byte[] jpeg(int width, int height, int rgb) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "jpg", out);
        return out.toByteArray();
    }

    /** A solid opaque PNG. */
    static byte[] solidPng(int size, int rgb) throws IOException {
        return png(size, size, (x, y) -> 0xFF000000 | rgb);
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.write(file, bytes);
    }

    static Path write(Path file, String text) throws IOException {
        return write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A gzip IDX file of unsigned bytes. */
    static Path idxGz(Path file, int[] dims, byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(0x0800 | dims.length);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
        return file;
    }

    /** A tar (gzip-compressed when the name ends in .tgz) with the given entries, in order. */
    static Path tar(Path file, Map<String, byte[]> entries) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream maybeGz = file.toString().endsWith(".tgz") ? new GZIPOutputStream(raw) : raw;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(maybeGz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey());
                entry.setSize(e.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return file;
    }

    static int rgb(BufferedImage image, int x, int y) {
        return image.getRGB(x, y) & 0xFFFFFF;
    }
}
