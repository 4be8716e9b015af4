package dev.hedge.kernels.ref.elementwise;

/** Scalar functions java.lang.Math lacks, in double precision. */
final class MathFns {

    static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double INV_SQRT_PI = 0.5641895835477563;
    private static final double LN2 = 0.6931471805599453;

    /** Grid of the erf table used by {@link #erfForFloat}: step 1/64 on [0, 4]. */
    private static final int ERF_STEPS_PER_UNIT = 64;
    private static final double ERF_TABLE_END = 4.0;
    private static final double[] ERF_VALUE;
    private static final double[] ERF_SLOPE;

    static {
        int n = (int) (ERF_TABLE_END * ERF_STEPS_PER_UNIT) + 1;
        ERF_VALUE = new double[n];
        ERF_SLOPE = new double[n];
        double h = 1.0 / ERF_STEPS_PER_UNIT;
        for (int i = 0; i < n; i++) {
            double x = i * h;
            ERF_VALUE[i] = erf(x);
            // the derivative, pre-scaled by the step for the Hermite basis
            ERF_SLOPE[i] = TWO_OVER_SQRT_PI * Math.exp(-x * x) * h;
        }
    }

    private MathFns() {
    }

    /** erf to a few ulps of double. */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        double r;
        if (a < 2.5) {
            // erf(a) = 2/sqrt(pi) e^(-a^2) sum_n (2a^2)^n a / (1*3*...*(2n+1)): positive terms, no cancellation
            double a2 = 2 * a * a;
            double term = a;
            double sum = a;
            for (int n = 1; term > sum * 1e-17; n++) {
                term *= a2 / (2 * n + 1);
                sum += term;
            }
            r = TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum;
        } else if (a < 6.5) {
            r = 1 - erfcTail(a);
        } else {
            r = 1;
        }
        return Math.copySign(r, x);
    }

    /** erfc(a) for a >= 2.5 from its continued fraction, evaluated backwards at a fixed depth. */
    private static double erfcTail(double a) {
        double f = a;
        for (int k = 60; k >= 1; k--) {
            f = a + (k * 0.5) / f;
        }
        return Math.exp(-a * a) * INV_SQRT_PI / f;
    }

    /**
     * erf accurate to float precision, much cheaper than {@link #erf}: cubic Hermite interpolation between
     * exact values and slopes on a 1/64 grid (absolute error below 1e-9 on [-4, 4]); beyond, +-1, which is
     * what erf rounds to in float there.
     */
    static double erfForFloat(double x) {
        double a = Math.abs(x);
        if (!(a < ERF_TABLE_END)) {
            return Double.isNaN(x) ? x : Math.copySign(1.0, x);
        }
        double s = a * ERF_STEPS_PER_UNIT;
        int i = (int) s;
        double t = s - i;
        double t2 = t * t;
        double t3 = t2 * t;
        double y0 = ERF_VALUE[i];
        double y1 = ERF_VALUE[i + 1];
        double r = y0 + (3 * t2 - 2 * t3) * (y1 - y0)
                + (t3 - 2 * t2 + t) * ERF_SLOPE[i] + (t3 - t2) * ERF_SLOPE[i + 1];
        return Math.copySign(r, x);
    }

    /**
     * tanh to about 1e-14 relative, several times faster than Math.tanh: a Taylor polynomial near 0 (where
     * the exp form cancels), e^(2|x|) elsewhere, and +-1 where tanh is 1 in double.
     */
    static double tanhForFloat(double x) {
        double a = Math.abs(x);
        if (a < 0.03) {
            double x2 = x * x;
            return x * (1 - x2 * (1.0 / 3 - x2 * (2.0 / 15 - x2 * (17.0 / 315))));
        }
        if (!(a <= 20)) {
            return Double.isNaN(x) ? x : Math.copySign(1.0, x);
        }
        double e = Math.exp(2 * a);
        return Math.copySign((e - 1) / (e + 1), x);
    }

    static double asinh(double x) {
        double a = Math.abs(x);
        double r;
        if (a > 1e8) {
            r = Math.log(a) + LN2;
        } else {
            // log1p(a + a^2/(1 + sqrt(1 + a^2))) == log(a + sqrt(a^2 + 1)) without cancellation near 0
            r = Math.log1p(a + a * a / (1 + Math.sqrt(1 + a * a)));
        }
        return Math.copySign(r, x);
    }

    static double acosh(double x) {
        if (x > 1e8) {
            return Math.log(x) + LN2;
        }
        // log1p form keeps precision near 1; NaN below 1 (outside the domain)
        double t = x - 1;
        return Math.log1p(t + Math.sqrt(t * (x + 1)));
    }

    static double atanh(double x) {
        return 0.5 * Math.log1p(2 * x / (1 - x));
    }
}
