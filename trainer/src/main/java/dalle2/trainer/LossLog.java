package dalle2.trainer;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** The loss curve of a run: one CSV row per step, and a PNG plot of it (log scale, smoothed). */
final class LossLog {

    static final String HEADER = "step,loss,lr,grad_norm,seconds";

    private final Path csv;
    private final Path png;
    private final String title;
    private final StringBuilder pending = new StringBuilder();

    LossLog(Path csv, Path png, String title) {
        this.csv = csv;
        this.png = png;
        this.title = title;
    }

    void record(long step, float loss, float learningRate, float gradientNorm, double seconds) {
        pending.append(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.4f%n", step, loss, learningRate,
                gradientNorm, seconds));
    }

    void flush() throws IOException {
        if (pending.length() == 0) {
            return;
        }
        Files.createDirectories(csv.toAbsolutePath().getParent());
        if (!Files.exists(csv)) {
            Files.writeString(csv, HEADER + System.lineSeparator(), StandardCharsets.UTF_8);
        }
        Files.writeString(csv, pending, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        pending.setLength(0);
    }

    /** Drops rows written after the checkpoint a run resumes from, so the CSV has each step once. */
    void truncateAfter(long step) throws IOException {
        pending.setLength(0);
        if (!Files.exists(csv)) {
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            if (line.startsWith("step") || Long.parseLong(line.substring(0, line.indexOf(','))) <= step) {
                kept.add(line);
            }
        }
        Files.write(csv, kept, StandardCharsets.UTF_8);
    }

    /** Draws loss against step (log-scaled loss; raw in grey, a moving average in blue). */
    void plot() throws IOException {
        if (!Files.exists(csv)) {
            return;
        }
        List<double[]> points = new ArrayList<>();
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("step")) {
                continue;
            }
            String[] cells = line.split(",");
            double loss = Double.parseDouble(cells[1]);
            if (loss > 0 && Double.isFinite(loss)) {
                points.add(new double[] {Double.parseDouble(cells[0]), Math.log10(loss)});
            }
        }
        if (points.size() < 2) {
            return;
        }
        int width = 800;
        int height = 480;
        int margin = 60;
        double minX = points.get(0)[0];
        double maxX = points.get(points.size() - 1)[0];
        double minY = Double.MAX_VALUE;
        double maxY = -Double.MAX_VALUE;
        for (double[] p : points) {
            minY = Math.min(minY, p[1]);
            maxY = Math.max(maxY, p[1]);
        }
        if (maxY - minY < 1e-6) {
            maxY = minY + 1;
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.drawRect(margin, margin / 2, width - margin - 20, height - margin - margin / 2);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(title + " training loss (log10) vs step", margin, 20);
        for (int tick = 0; tick <= 4; tick++) {
            double y = minY + (maxY - minY) * tick / 4;
            int py = toPixel(y, minY, maxY, height - margin, margin / 2);
            g.drawString(String.format(Locale.ROOT, "%.3g", Math.pow(10, y)), 5, py + 4);
            double x = minX + (maxX - minX) * tick / 4;
            int px = toPixel(x, minX, maxX, margin, width - 20);
            g.drawString(String.format(Locale.ROOT, "%.0f", x), px - 10, height - margin + 18);
        }
        drawSeries(g, points, 1, new Color(190, 190, 190), minX, maxX, minY, maxY, width, height, margin);
        drawSeries(g, points, Math.max(1, points.size() / 50), new Color(30, 90, 200), minX, maxX, minY, maxY,
                width, height, margin);
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(image, "png", png.toFile());
    }

    private static void drawSeries(Graphics2D g, List<double[]> points, int window, Color color, double minX,
                                   double maxX, double minY, double maxY, int width, int height, int margin) {
        g.setColor(color);
        g.setStroke(new BasicStroke(window > 1 ? 2f : 1f));
        int previousX = -1;
        int previousY = -1;
        double sum = 0;
        for (int i = 0; i < points.size(); i++) {
            sum += points.get(i)[1];
            if (i >= window) {
                sum -= points.get(i - window)[1];
            }
            double y = sum / Math.min(i + 1, window);
            int px = toPixel(points.get(i)[0], minX, maxX, margin, width - 20);
            int py = toPixel(y, minY, maxY, height - margin, margin / 2);
            if (previousX >= 0) {
                g.drawLine(previousX, previousY, px, py);
            }
            previousX = px;
            previousY = py;
        }
    }

    private static int toPixel(double value, double min, double max, int from, int to) {
        return (int) Math.round(from + (value - min) / (max - min) * (to - from));
    }
}
