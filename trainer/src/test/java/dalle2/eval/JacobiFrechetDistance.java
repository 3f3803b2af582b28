package dalle2.eval;

/**
 * The project's former hand-written Fréchet distance (cyclic Jacobi eigen-solver), kept only as the reference
 * that {@link FrechetDistance} on EJML is checked against and timed against ({@code FrechetDistanceBenchmark}).
 */
final class JacobiFrechetDistance {

    private JacobiFrechetDistance() {
    }

    /** Distance between the feature sets {@code a} and {@code b}, rows = samples. */
    static double between(double[][] a, double[][] b) {
        if (a.length < 2 || b.length < 2) {
            throw new IllegalArgumentException("need at least 2 samples in each set, got " + a.length + " and " + b.length);
        }
        if (a[0].length != b[0].length) {
            throw new IllegalArgumentException("feature sizes differ: " + a[0].length + " vs " + b[0].length);
        }
        return of(mean(a), covariance(a), mean(b), covariance(b));
    }

    /** Distance between N(μ₁, Σ₁) and N(μ₂, Σ₂). */
    static double of(double[] mean1, double[][] cov1, double[] mean2, double[][] cov2) {
        int d = mean1.length;
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            meanTerm += (mean1[i] - mean2[i]) * (mean1[i] - mean2[i]);
        }
        double[][] sqrt1 = sqrtPsd(cov1);
        double[][] product = multiply(multiply(sqrt1, cov2), sqrt1);
        symmetrize(product);
        double traceSqrtProduct = 0;
        for (double eigenvalue : eigenvalues(product)) {
            traceSqrtProduct += Math.sqrt(Math.max(eigenvalue, 0));
        }
        return meanTerm + trace(cov1) + trace(cov2) - 2 * traceSqrtProduct;
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
        double[][] cov = new double[d][d];
        for (double[] row : rows) {
            for (int i = 0; i < d; i++) {
                double di = row[i] - mean[i];
                for (int j = i; j < d; j++) {
                    cov[i][j] += di * (row[j] - mean[j]);
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                cov[i][j] /= rows.length - 1;
                cov[j][i] = cov[i][j];
            }
        }
        return cov;
    }

    /** The principal square root of a symmetric positive semi-definite matrix. */
    static double[][] sqrtPsd(double[][] matrix) {
        int d = matrix.length;
        double[][] vectors = new double[d][d];
        double[] values = jacobi(copy(matrix), vectors);
        double[][] result = new double[d][d];
        for (int k = 0; k < d; k++) {
            double root = Math.sqrt(Math.max(values[k], 0));
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    result[i][j] += vectors[i][k] * root * vectors[j][k];
                }
            }
        }
        return result;
    }

    static double[] eigenvalues(double[][] symmetric) {
        return jacobi(copy(symmetric), new double[symmetric.length][symmetric.length]);
    }

    /** Cyclic Jacobi eigenvalue algorithm; {@code a} is destroyed, eigenvectors go to the columns of {@code v}. */
    private static double[] jacobi(double[][] a, double[][] v) {
        int n = a.length;
        for (int i = 0; i < n; i++) {
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += a[p][q] * a[p][q];
                }
            }
            if (off < 1e-22) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (Math.abs(a[p][q]) < 1e-300) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p];
                        double akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k];
                        double aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p];
                        double vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = a[i][i];
        }
        return values;
    }

    private static double[][] multiply(double[][] x, double[][] y) {
        int n = x.length;
        int m = y[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < y.length; k++) {
                double xik = x[i][k];
                for (int j = 0; j < m; j++) {
                    out[i][j] += xik * y[k][j];
                }
            }
        }
        return out;
    }

    private static void symmetrize(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) {
                double avg = (m[i][j] + m[j][i]) / 2;
                m[i][j] = avg;
                m[j][i] = avg;
            }
        }
    }

    private static double trace(double[][] m) {
        double t = 0;
        for (int i = 0; i < m.length; i++) {
            t += m[i][i];
        }
        return t;
    }

    private static double[][] copy(double[][] m) {
        double[][] c = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i].clone();
        }
        return c;
    }
}
