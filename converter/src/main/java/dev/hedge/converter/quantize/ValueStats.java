package dev.hedge.converter.quantize;

import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;

/**
 * Calibration statistics of one float32 value over all calibration samples, gathered in two passes: the
 * range first ({@link #observeRange}), then a histogram over it ({@link #observeHistogram}). The histogram
 * spans {@code [0, max]} for a non-negative value, {@code [min, 0]} for a non-positive one, else
 * {@code [-a, a]} with {@code a = max(|min|, |max|)}, so it can also be folded into a histogram of |x|.
 */
public final class ValueStats {

    public static final int BINS = 2048;

    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long count;
    private long[] hist;
    private double lo;
    private double hi;

    public void observeRange(Tensor t) {
        ByteBuffer b = t.data();
        int n = t.elementCount();
        for (int i = 0; i < n; i++) {
            float v = b.getFloat(i * 4);
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        count += n;
    }

    /** Fixes the histogram range from the observed range; called between the two passes. */
    public void startHistogram() {
        if (count == 0) {
            throw new IllegalStateException("no values observed");
        }
        hist = new long[BINS];
        if (min >= 0) {
            lo = 0;
            hi = max;
        } else if (max <= 0) {
            lo = min;
            hi = 0;
        } else {
            hi = Math.max(-min, max);
            lo = -hi;
        }
        if (hi == lo) {
            hi = lo + 1;
        }
    }

    public void observeHistogram(Tensor t) {
        ByteBuffer b = t.data();
        int n = t.elementCount();
        double scale = BINS / (hi - lo);
        for (int i = 0; i < n; i++) {
            int bin = (int) ((b.getFloat(i * 4) - lo) * scale);
            hist[Math.max(0, Math.min(BINS - 1, bin))]++;
        }
    }

    public boolean observed() {
        return count > 0;
    }

    public boolean hasHistogram() {
        return hist != null;
    }

    public float min() {
        return min;
    }

    public float max() {
        return max;
    }

    public long count() {
        return count;
    }

    long[] histogram() {
        return hist;
    }

    double histLo() {
        return lo;
    }

    double histHi() {
        return hi;
    }

    double binWidth() {
        return (hi - lo) / BINS;
    }

    /** Center of bin {@code i}. */
    double center(int i) {
        return lo + (i + 0.5) * binWidth();
    }
}
