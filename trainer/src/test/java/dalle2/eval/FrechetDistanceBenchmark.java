package dalle2.eval;

import java.util.Random;

/**
 * Times the Fréchet distance on EJML against the former Jacobi solver at the evaluations' sizes (2,000 samples
 * of 128-d Fashion features and 256-d CLIP features) and prints the figures; it asserts nothing. Run after
 * {@code test-compile} with the trainer's test classpath: {@code java -cp … dalle2.eval.FrechetDistanceBenchmark}.
 */
public final class FrechetDistanceBenchmark {

    private static final int SAMPLES = 2000;
    private static final int ROUNDS = 5;

    public static void main(String[] args) {
        for (int d : new int[] {128, 256}) {
            Random random = new Random(d);
            double[][] a = FrechetDistanceTest.correlated(random, SAMPLES, d, 0);
            double[][] b = FrechetDistanceTest.correlated(random, SAMPLES, d, 0.1);
            // warm up both, then alternate rounds so a change in the machine's load hits both sides alike
            JacobiFrechetDistance.between(a, b);
            FrechetDistance.between(a, b);
            long[] jacobi = new long[ROUNDS];
            long[] ejml = new long[ROUNDS];
            double jacobiValue = 0;
            double ejmlValue = 0;
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = System.nanoTime();
                jacobiValue = JacobiFrechetDistance.between(a, b);
                long t1 = System.nanoTime();
                ejmlValue = FrechetDistance.between(a, b);
                long t2 = System.nanoTime();
                jacobi[r] = t1 - t0;
                ejml[r] = t2 - t1;
            }
            System.out.printf("d=%d n=%d: Jacobi median %.1f ms, EJML median %.1f ms (%.1fx); distance %.12g vs %.12g"
                            + " (relative difference %.2e)%n", d, SAMPLES, median(jacobi) / 1e6, median(ejml) / 1e6,
                    median(jacobi) / (double) median(ejml), jacobiValue, ejmlValue,
                    Math.abs(jacobiValue - ejmlValue) / Math.abs(jacobiValue));
        }
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
