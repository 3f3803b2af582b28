package dalle2.eval;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, "FID"):
 * ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁^½ Σ₂ Σ₁^½)^½).
 *
 * <p>The matrix square roots come from EJML's symmetric eigendecomposition (tridiagonal reduction, then
 * implicit QR), which replaced a hand-written cyclic Jacobi solver: the same distances to 2e-13 relative, and
 * with 2,000 samples 2.3× faster at 128-d (313 → 133 ms) and 9.5× faster at 256-d (2.77 s → 0.29 s, the
 * upsampler evaluation's CLIP features), measured by {@code FrechetDistanceBenchmark} (BENCHMARKS.md).
 */
public final class FrechetDistance {

    private FrechetDistance() {
    }

    /** Distance between the feature sets {@code a} and {@code b}, rows = samples. */
    public static double between(double[][] a, double[][] b) {
        if (a.length < 2 || b.length < 2) {
            throw new IllegalArgumentException("need at least 2 samples in each set, got " + a.length + " and " + b.length);
        }
        if (a[0].length != b[0].length) {
            throw new IllegalArgumentException("feature sizes differ: " + a[0].length + " vs " + b[0].length);
        }
        return of(mean(a), covariance(a), mean(b), covariance(b));
    }

    /** Distance between N(μ₁, Σ₁) and N(μ₂, Σ₂). */
    public static double of(double[] mean1, double[][] cov1, double[] mean2, double[][] cov2) {
        int d = mean1.length;
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            meanTerm += (mean1[i] - mean2[i]) * (mean1[i] - mean2[i]);
        }
        DMatrixRMaj sigma1 = new DMatrixRMaj(cov1);
        DMatrixRMaj sigma2 = new DMatrixRMaj(cov2);
        DMatrixRMaj sqrt1 = sqrtPsd(sigma1);
        DMatrixRMaj left = new DMatrixRMaj(d, d);
        CommonOps_DDRM.mult(sqrt1, sigma2, left);
        DMatrixRMaj product = new DMatrixRMaj(d, d);
        CommonOps_DDRM.mult(left, sqrt1, product);
        symmetrize(product);
        // Tr(M^½) of the PSD product is the sum of the square roots of its eigenvalues; rounding can make a
        // zero eigenvalue slightly negative, hence the clamp
        double traceSqrtProduct = 0;
        for (double eigenvalue : eigenvalues(product)) {
            traceSqrtProduct += Math.sqrt(Math.max(eigenvalue, 0));
        }
        return meanTerm + CommonOps_DDRM.trace(sigma1) + CommonOps_DDRM.trace(sigma2) - 2 * traceSqrtProduct;
    }

    static double[] mean(double[][] rows) {
        double[] mean = new double[rows[0].length];
        for (double[] row : rows) {
            for (int j = 0; j < mean.length; j++) {
                mean[j] += row[j] / rows.length;
            }
        }
        return mean;
    }

    /** Unbiased sample covariance (divides by n − 1, as numpy.cov). */
    static double[][] covariance(double[][] rows) {
        double[] mean = mean(rows);
        int d = mean.length;
        DMatrixRMaj centred = new DMatrixRMaj(rows.length, d);
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < d; j++) {
                centred.unsafe_set(r, j, rows[r][j] - mean[j]);
            }
        }
        DMatrixRMaj cov = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransA(centred, centred, cov);
        CommonOps_DDRM.divide(cov, rows.length - 1);
        symmetrize(cov);
        double[][] out = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                out[i][j] = cov.unsafe_get(i, j);
            }
        }
        return out;
    }

    /** The principal square root V·diag(√λ)·Vᵀ of a symmetric positive semi-definite matrix. */
    static DMatrixRMaj sqrtPsd(DMatrixRMaj matrix) {
        int d = matrix.numRows;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, true, true);
        if (!eig.decompose(matrix.copy())) {
            throw new ArithmeticException("symmetric eigendecomposition did not converge (" + d + "×" + d + ")");
        }
        DMatrixRMaj vectors = new DMatrixRMaj(d, d);
        DMatrixRMaj scaled = new DMatrixRMaj(d, d);
        for (int k = 0; k < d; k++) {
            DMatrixRMaj v = eig.getEigenVector(k);
            double root = Math.sqrt(Math.max(eig.getEigenvalue(k).real, 0));
            for (int i = 0; i < d; i++) {
                vectors.unsafe_set(i, k, v.get(i));
                scaled.unsafe_set(i, k, v.get(i) * root);
            }
        }
        DMatrixRMaj result = new DMatrixRMaj(d, d);
        CommonOps_DDRM.multTransB(scaled, vectors, result);
        return result;
    }

    static double[] eigenvalues(DMatrixRMaj symmetric) {
        int d = symmetric.numRows;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, false, true);
        if (!eig.decompose(symmetric.copy())) {
            throw new ArithmeticException("symmetric eigendecomposition did not converge (" + d + "×" + d + ")");
        }
        double[] values = new double[d];
        for (int k = 0; k < d; k++) {
            values[k] = eig.getEigenvalue(k).real;
        }
        return values;
    }

    private static void symmetrize(DMatrixRMaj m) {
        for (int i = 0; i < m.numRows; i++) {
            for (int j = i + 1; j < m.numCols; j++) {
                double avg = (m.unsafe_get(i, j) + m.unsafe_get(j, i)) / 2;
                m.unsafe_set(i, j, avg);
                m.unsafe_set(j, i, avg);
            }
        }
    }
}
