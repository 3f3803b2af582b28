package dalle2.trainer;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A progress bar with loss and ETA: redrawn in place on a terminal, one line per log interval otherwise
 * (CI logs and files stay readable).
 *
 * <p>Kept by hand rather than {@code me.tongfei:progressbar} 0.10.1, measured 2026-12-02: with stderr redirected
 * to a file, that library still redraws with carriage returns (50 steps gave 9 {@code \r} and one {@code \n}:
 * a whole run's log is one line) and its bar shrank to 7 characters on jline's fallback terminal width; its ETA
 * extrapolates the average rate since the start, which the engine load and JIT warm-up of the first steps
 * inflate. This class writes one line per log interval off a terminal and bases the ETA on a smoothed step time.
 */
final class ProgressLine {

    private static final int WIDTH = 28;
    private final String label;
    private final long total;
    private final PrintStream out = System.err;
    private final boolean terminal = System.console() != null;
    private double smoothedSeconds = -1;
    private double smoothedLoss = Double.NaN;

    ProgressLine(String label, long total) {
        this.label = label;
        this.total = total;
    }

    void update(long step, float loss, float learningRate, double stepSeconds, boolean logLine) {
        smoothedSeconds = smoothedSeconds < 0 ? stepSeconds : 0.95 * smoothedSeconds + 0.05 * stepSeconds;
        smoothedLoss = Double.isNaN(smoothedLoss) ? loss : 0.98 * smoothedLoss + 0.02 * loss;
        if (!terminal && !logLine && step != total) {
            return;
        }
        int filled = (int) (WIDTH * step / total);
        String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
        String line = String.format("%s %7d/%d [%s] %3d%% loss %.5f (avg %.5f) lr %.2e %.2f s/step ETA %s",
                label, step, total, bar, 100 * step / total, loss, smoothedLoss, learningRate, smoothedSeconds,
                eta((long) ((total - step) * smoothedSeconds)));
        if (terminal) {
            out.print("\r" + line + (step == total ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }

    static String eta(long seconds) {
        Duration d = Duration.ofSeconds(seconds);
        return d.toHours() > 0 ? String.format("%dh%02dm", d.toHours(), d.toMinutesPart())
                : String.format("%dm%02ds", d.toMinutes(), d.toSecondsPart());
    }
}
