package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    @ParameterizedTest(name = "{0}-d")
    @ValueSource(ints = {4, 32, 128})
    void givesTheSameDistanceAsTheFormerJacobiSolver(int d) {
        Random random = new Random(11 + d);
        double[][] a = correlated(random, 2000, d, 0);
        double[][] b = correlated(random, 2000, d, 0.1);
        double jacobi = JacobiFrechetDistance.between(a, b);
        double ejml = FrechetDistance.between(a, b);
        assertEquals(jacobi, ejml, 1e-9 * Math.abs(jacobi), "Jacobi " + jacobi + ", EJML " + ejml);
    }

    @ParameterizedTest(name = "every 7th eigenvalue of Σ₂ zero: {0}")
    @ValueSource(booleans = {false, true})
    void commutingCovariancesAt256DimensionsGiveTheClosedForm(boolean rankDeficient) {
        // Σ₁ = Q diag(a) Qᵀ and Σ₂ = Q diag(b) Qᵀ share eigenvectors, so Σ₁^½ Σ₂ Σ₁^½ = Q diag(ab) Qᵀ and the
        // distance is ‖μ₁ − μ₂‖² + Σ_i (√aᵢ − √bᵢ)²; a random rotation Q makes every entry of Σ non-zero
        int d = 256;
        Random random = new Random(5);
        DMatrixRMaj q = randomRotation(random, d);
        double[] a = new double[d];
        double[] b = new double[d];
        double[] mean1 = new double[d];
        double[] mean2 = new double[d];
        double expected = 0;
        for (int i = 0; i < d; i++) {
            a[i] = 0.01 + 3 * random.nextDouble();
            b[i] = rankDeficient && i % 7 == 0 ? 0 : 0.01 + 3 * random.nextDouble();
            mean2[i] = random.nextGaussian() * 0.1;
            expected += mean2[i] * mean2[i] + Math.pow(Math.sqrt(a[i]) - Math.sqrt(b[i]), 2);
        }
        double distance = FrechetDistance.of(mean1, rotated(q, a), mean2, rotated(q, b));
        // a zero eigenvalue comes out as ±(rounding) and its square root as ~1e-8, whatever the solver: with 37 of
        // them the former Jacobi solver was 0.9e-8 relative off the closed form here, EJML 1.2e-8
        double relative = rankDeficient ? 1e-7 : 1e-9;
        assertEquals(expected, distance, relative * expected, "closed form " + expected + ", computed " + distance);
    }

    @Test
    void diagonalCovariancesAt256DimensionsGiveTheClosedForm() {
        int d = 256;
        Random random = new Random(8);
        double[][] cov1 = new double[d][d];
        double[][] cov2 = new double[d][d];
        double expected = 0;
        for (int i = 0; i < d; i++) {
            double s1 = 0.1 + random.nextDouble();
            double s2 = 0.1 + random.nextDouble();
            cov1[i][i] = s1 * s1;
            cov2[i][i] = s2 * s2;
            expected += (s1 - s2) * (s1 - s2);
        }
        assertEquals(expected, FrechetDistance.of(new double[d], cov1, new double[d], cov2), 1e-12 * d);
    }

    /** Rows with a random linear mixing, so the covariance is dense and far from the identity. */
    static double[][] correlated(Random random, int n, int d, double shift) {
        double[][] mixing = new double[d][d];
        for (double[] row : mixing) {
            for (int j = 0; j < d; j++) {
                row[j] = random.nextGaussian() / Math.sqrt(d);
            }
        }
        double[][] rows = new double[n][d];
        double[] z = new double[d];
        for (double[] row : rows) {
            for (int j = 0; j < d; j++) {
                z[j] = random.nextGaussian();
            }
            for (int i = 0; i < d; i++) {
                double sum = shift;
                for (int j = 0; j < d; j++) {
                    sum += mixing[i][j] * z[j];
                }
                row[i] = sum;
            }
        }
        return rows;
    }

    private static DMatrixRMaj randomRotation(Random random, int d) {
        DMatrixRMaj g = new DMatrixRMaj(d, d);
        for (int i = 0; i < g.data.length; i++) {
            g.data[i] = random.nextGaussian();
        }
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(d, d);
        qr.decompose(g);
        return qr.getQ(null, false);
    }

    private static double[][] rotated(DMatrixRMaj q, double[] diagonal) {
        DMatrixRMaj scaled = q.copy();
        for (int i = 0; i < q.numRows; i++) {
            for (int k = 0; k < q.numCols; k++) {
                scaled.unsafe_set(i, k, q.unsafe_get(i, k) * diagonal[k]);
            }
        }
        DMatrixRMaj m = new DMatrixRMaj(q.numRows, q.numRows);
        CommonOps_DDRM.multTransB(scaled, q, m);
        double[][] out = new double[m.numRows][m.numCols];
        for (int i = 0; i < m.numRows; i++) {
            for (int j = 0; j < m.numCols; j++) {
                out[i][j] = (m.unsafe_get(i, j) + m.unsafe_get(j, i)) / 2;
            }
        }
        return out;
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
