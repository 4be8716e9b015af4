package dev.hedge.converter.quantize;

/**
 * Chooses the quantization range of an activation from its {@link ValueStats}, and turns a range into
 * uint8 asymmetric parameters.
 */
public final class Ranges {

    /** uint8 scale and zero point: {@code real = scale * (q - zeroPoint)}. */
    public record Affine(float scale, int zeroPoint) {
    }

    private Ranges() {
    }

    /** The chosen {@code [lo, hi]}; methods other than minmax need the histogram pass. */
    public static double[] choose(ValueStats s, CalibrationMethod method, double percentile) {
        switch (method) {
            case MINMAX: return new double[] {s.min(), s.max()};
            case PERCENTILE: return percentile(s, percentile);
            case ENTROPY: return entropy(s);
            case MSE: return mse(s);
            default: throw new AssertionError(method);
        }
    }

    /**
     * uint8 parameters covering {@code [lo, hi]} widened to include 0 (so 0 is exact, as padding and ReLU
     * need): {@code scale = (hi - lo) / 255}, {@code zeroPoint = rint(-lo / scale)}.
     */
    public static Affine uint8(double lo, double hi) {
        double l = Math.min(lo, 0);
        double h = Math.max(hi, 0);
        float scale = (float) ((h - l) / 255.0);
        if (!(scale > 0) || Float.isInfinite(scale)) {
            return new Affine(1f, 0);
        }
        int zp = (int) Math.max(0, Math.min(255, Math.rint(-l / scale)));
        return new Affine(scale, zp);
    }

    /** Values at the {@code 100 - p} and {@code p} percentiles, interpolated inside histogram bins. */
    static double[] percentile(ValueStats s, double p) {
        if (!(p > 50 && p <= 100)) {
            throw new IllegalArgumentException("percentile " + p + " is not in (50, 100]");
        }
        long[] h = s.histogram();
        long total = 0;
        for (long c : h) {
            total += c;
        }
        double lo = quantile(s, h, total, (100 - p) / 100);
        double hi = quantile(s, h, total, p / 100);
        return new double[] {Math.max(s.min(), lo), Math.min(s.max(), hi)};
    }

    private static double quantile(ValueStats s, long[] h, long total, double q) {
        double target = q * total;
        double acc = 0;
        for (int i = 0; i < h.length; i++) {
            if (acc + h[i] >= target && h[i] > 0) {
                double frac = (target - acc) / h[i];
                return s.histLo() + (i + frac) * s.binWidth();
            }
            acc += h[i];
        }
        return s.histHi();
    }

    /**
     * KL-divergence threshold search (the TensorRT calibration): over a histogram of |x| (of x for a one-sided
     * value), for each candidate cut {@code i} the reference distribution is the first i bins with the tail
     * folded into the last, the candidate is those bins merged into the available levels and spread back
     * over their non-empty bins; the cut with the least divergence gives the threshold. Two-sided values get
     * 128 levels per side, one-sided values 256.
     */
    static double[] entropy(ValueStats s) {
        long[] raw = s.histogram();
        int n = raw.length;
        boolean positive = s.histLo() >= 0;
        boolean negative = s.histHi() <= 0;
        long[] mag;
        int levels;
        double width;
        if (positive || negative) {
            mag = new long[n];
            for (int i = 0; i < n; i++) {
                mag[i] = positive ? raw[i] : raw[n - 1 - i];
            }
            levels = 256;
            width = s.binWidth();
        } else {
            // symmetric [-a, a]: fold the two halves onto |x|
            int half = n / 2;
            mag = new long[half];
            for (int i = 0; i < half; i++) {
                mag[i] = raw[half + i] + raw[half - 1 - i];
            }
            levels = 128;
            width = s.binWidth();
        }
        int bins = mag.length;
        int best = bins;
        double bestKl = Double.POSITIVE_INFINITY;
        double[] p = new double[bins];
        double[] q = new double[bins];
        for (int i = Math.min(levels, bins); i <= bins; i++) {
            long outliers = 0;
            for (int j = i; j < bins; j++) {
                outliers += mag[j];
            }
            for (int j = 0; j < i; j++) {
                p[j] = mag[j];
            }
            p[i - 1] += outliers;
            // merge bins [0, i) into `levels` groups, spread each group's count over its non-empty bins
            for (int lv = 0; lv < levels; lv++) {
                int start = (int) ((long) lv * i / levels);
                int end = (int) ((long) (lv + 1) * i / levels);
                double sum = 0;
                int nonEmpty = 0;
                for (int j = start; j < end; j++) {
                    sum += mag[j];
                    if (mag[j] > 0) {
                        nonEmpty++;
                    }
                }
                for (int j = start; j < end; j++) {
                    q[j] = mag[j] > 0 ? sum / nonEmpty : 0;
                }
            }
            double kl = divergence(p, q, i);
            if (kl < bestKl) {
                bestKl = kl;
                best = i;
            }
        }
        double t = (best + 0.5) * width;
        if (positive) {
            return new double[] {s.min(), Math.min(s.max(), t)};
        }
        if (negative) {
            return new double[] {Math.max(s.min(), -t), s.max()};
        }
        return new double[] {Math.max(s.min(), -t), Math.min(s.max(), t)};
    }

    /** KL(P || Q) over the first n bins, both normalised; bins where P is 0 add nothing, Q = 0 gets a floor. */
    private static double divergence(double[] p, double[] q, int n) {
        double ps = 0;
        double qs = 0;
        for (int j = 0; j < n; j++) {
            ps += p[j];
            qs += q[j];
        }
        if (ps == 0 || qs == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double kl = 0;
        for (int j = 0; j < n; j++) {
            if (p[j] > 0) {
                double pj = p[j] / ps;
                double qj = Math.max(q[j] / qs, 1e-12);
                kl += pj * Math.log(pj / qj);
            }
        }
        return kl;
    }

    /**
     * The range, among {@code [a * lo, b * hi]} for shrink factors a, b on a grid from 1 down to 0.2, whose
     * uint8 quantization gives the least squared error over the histogram (bin centers weighted by counts).
     */
    static double[] mse(ValueStats s) {
        long[] h = s.histogram();
        double lo0 = Math.min(s.min(), 0);
        double hi0 = Math.max(s.max(), 0);
        double bestErr = Double.POSITIVE_INFINITY;
        double[] best = {s.min(), s.max()};
        int steps = 40;
        for (int ia = 0; ia <= steps; ia++) {
            double a = 1 - 0.8 * ia / steps;
            if (lo0 == 0 && ia > 0) {
                break;
            }
            for (int ib = 0; ib <= steps; ib++) {
                double b = 1 - 0.8 * ib / steps;
                if (hi0 == 0 && ib > 0) {
                    break;
                }
                double lo = lo0 * a;
                double hi = hi0 * b;
                Affine q = uint8(lo, hi);
                double err = 0;
                for (int i = 0; i < h.length && err < bestErr; i++) {
                    if (h[i] == 0) {
                        continue;
                    }
                    double x = s.center(i);
                    double r = Math.rint(x / q.scale()) + q.zeroPoint();
                    double d = q.scale() * (Math.max(0, Math.min(255, r)) - q.zeroPoint()) - x;
                    err += h[i] * d * d;
                }
                if (err < bestErr) {
                    bestErr = err;
                    best = new double[] {lo, hi};
                }
            }
        }
        return best;
    }
}
