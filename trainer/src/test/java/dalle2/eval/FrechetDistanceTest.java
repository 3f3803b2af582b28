package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {

    @Test
    void identicalGaussiansAreAtDistanceZero() {
        double[][] cov = {{2, 0.5, 0}, {0.5, 1, 0.2}, {0, 0.2, 3}};
        double[] mean = {1, 2, 3};
        assertEquals(0, FrechetDistance.of(mean, cov, mean, cov), 1e-9);
    }

    @Test
    void diagonalCovariancesGiveTheClosedForm() {
        // for diagonal Σ: ‖μ₁ − μ₂‖² + Σ_i (σ₁ᵢ − σ₂ᵢ)²
        double[][] cov1 = {{4, 0}, {0, 9}};
        double[][] cov2 = {{1, 0}, {0, 16}};
        double expected = (1 * 1 + 2 * 2) + (2 - 1) * (2 - 1) + (3 - 4) * (3 - 4);
        assertEquals(expected, FrechetDistance.of(new double[] {0, 0}, cov1, new double[] {1, 2}, cov2), 1e-9);
    }

    @Test
    void rotatedCovarianceMatchesTheCommutingCase() {
        // Σ₁ = R diag(4, 1) Rᵀ and Σ₂ = R diag(1, 1) Rᵀ commute: distance = (2 − 1)² + (1 − 1)² = 1
        double c = Math.cos(0.6);
        double s = Math.sin(0.6);
        double[][] cov1 = {{4 * c * c + s * s, (4 - 1) * c * s}, {(4 - 1) * c * s, 4 * s * s + c * c}};
        double[][] cov2 = {{1, 0}, {0, 1}};
        assertEquals(1, FrechetDistance.of(new double[2], cov1, new double[2], cov2), 1e-9);
    }

    @Test
    void samplesFromTheSameDistributionAreCloserThanSamplesFromAShiftedOne() {
        Random random = new Random(3);
        double[][] a = gaussian(random, 2000, 0);
        double[][] b = gaussian(random, 2000, 0);
        double[][] shifted = gaussian(random, 2000, 1);
        double same = FrechetDistance.between(a, b);
        double different = FrechetDistance.between(a, shifted);
        assertTrue(same < 0.05, "same distribution: " + same);
        assertEquals(4.0, different, 0.3); // four dimensions shifted by one
    }

    private static double[][] gaussian(Random random, int n, double shift) {
        double[][] rows = new double[n][4];
        for (double[] row : rows) {
            for (int j = 0; j < 4; j++) {
                row[j] = random.nextGaussian() + shift;
            }
        }
        return rows;
    }
}
