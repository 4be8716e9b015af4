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

    /** Channel axis whose per-channel means are gathered (negative: from the end), or null for none. */
    private Integer channelAxis;
    private double[] channelSums;
    private double[] channelAbsMax;
    private long channelCount;
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long count;
    private long[] hist;
    private double lo;
    private double hi;

    /** Also gather the mean of each slice along {@code axis} (negative: counted from the end) in the range pass. */
    public ValueStats withChannelMeans(int axis) {
        channelAxis = axis;
        return this;
    }

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
        if (channelAxis != null && t.rank() > 0) {
            int axis = channelAxis < 0 ? channelAxis + t.rank() : channelAxis;
            if (axis < 0 || axis >= t.rank()) {
                return;
            }
            int channels = t.dim(axis);
            int inner = 1;
            for (int d = axis + 1; d < t.rank(); d++) {
                inner *= t.dim(d);
            }
            if (channelSums == null) {
                channelSums = new double[channels];
                channelAbsMax = new double[channels];
            } else if (channelSums.length != channels) {
                channelSums = null;
                channelAbsMax = null;
                channelAxis = null;
                return;
            }
            for (int i = 0; i < n; i++) {
                int c = (i / inner) % channels;
                float v = b.getFloat(i * 4);
                channelSums[c] += v;
                channelAbsMax[c] = Math.max(channelAbsMax[c], Math.abs(v));
            }
            channelCount += n / channels;
        }
    }

    /** Largest |value| of each channel, or null when not gathered. */
    public double[] channelAbsMax() {
        return channelSums == null || channelCount == 0 ? null : channelAbsMax.clone();
    }

    /** Mean of each channel, or null when not gathered (or the channel count varied). */
    public double[] channelMeans() {
        if (channelSums == null || channelCount == 0) {
            return null;
        }
        double[] m = new double[channelSums.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = channelSums[i] / channelCount;
        }
        return m;
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
