package dalle2.inference;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** Images side by side in a grid with a white gutter: for generations, training samples and reports. */
public final class ContactSheet {

    private static final int GAP = 2;

    private ContactSheet() {
    }

    /** A grid of {@code columns} images a row (all images the size of the first). */
    public static BufferedImage of(List<BufferedImage> images, int columns) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("a contact sheet needs at least one image");
        }
        int cols = Math.min(columns, images.size());
        int rows = (images.size() + cols - 1) / cols;
        int w = images.get(0).getWidth();
        int h = images.get(0).getHeight();
        BufferedImage sheet = new BufferedImage(cols * (w + GAP) + GAP, rows * (h + GAP) + GAP,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
            for (int i = 0; i < images.size(); i++) {
                g.drawImage(images.get(i), GAP + (i % cols) * (w + GAP), GAP + (i / cols) * (h + GAP), null);
            }
        } finally {
            g.dispose();
        }
        return sheet;
    }

    public static void write(List<BufferedImage> images, int columns, Path png) throws IOException {
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ImageIO.write(of(images, columns), "png", png.toFile());
    }
}
