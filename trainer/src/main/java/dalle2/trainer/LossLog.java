package dalle2.trainer;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

/** The loss curve of a run: one CSV row per step, and a PNG plot of it (log scale, smoothed; XChart). */
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

    /**
     * Plots loss against step with XChart (log-scaled loss; raw in grey, a moving average of log-loss over a
     * fiftieth of the run in blue). XChart draws into a BufferedImage, so it needs no display
     * ({@code java.awt.headless=true} works).
     */
    void plot() throws IOException {
        if (!Files.exists(csv)) {
            return;
        }
        List<Double> steps = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("step")) {
                continue;
            }
            String[] cells = line.split(",");
            double loss = Double.parseDouble(cells[1]);
            if (loss > 0 && Double.isFinite(loss)) {
                steps.add(Double.parseDouble(cells[0]));
                losses.add(loss);
            }
        }
        if (steps.size() < 2) {
            return;
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title + " training loss").xAxisTitle("step").yAxisTitle("loss").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotBackgroundColor(Color.WHITE);
        XYSeries raw = chart.addSeries("loss", steps, losses);
        raw.setLineColor(RAW_COLOR);
        raw.setLineWidth(1f);
        XYSeries smoothed = chart.addSeries("moving average", steps,
                geometricMovingAverage(losses, Math.max(1, losses.size() / 50)));
        smoothed.setLineColor(SMOOTHED_COLOR);
        smoothed.setLineWidth(2f);
        Files.createDirectories(png.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    static final int WIDTH = 800;
    static final int HEIGHT = 480;
    static final Color RAW_COLOR = new Color(190, 190, 190);
    static final Color SMOOTHED_COLOR = new Color(30, 90, 200);

    /** The trailing mean of log-loss over {@code window} rows, back on the loss scale (as the log axis shows it). */
    static List<Double> geometricMovingAverage(List<Double> losses, int window) {
        List<Double> out = new ArrayList<>(losses.size());
        double sum = 0;
        for (int i = 0; i < losses.size(); i++) {
            sum += Math.log(losses.get(i));
            if (i >= window) {
                sum -= Math.log(losses.get(i - window));
            }
            out.add(Math.exp(sum / Math.min(i + 1, window)));
        }
        return out;
    }
}
