package dev.hedge.kernels.ref.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Resize nearest and linear against a direct per-output-element formula: every output element computes its
 * source coordinate on each axis and (linear) sums the 2^n clamped corners with product weights — unlike the
 * kernel, which uses per-axis tables and separable passes.
 */
class ResizeTest {

    private static final String[] CTMS = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_crop_and_resize"};
    private static final String[] NEAREST = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    private static final float[] SCALES = {0.5f, 0.6f, 0.75f, 1f, 1.25f, 1.5f, 2f, 2.5f, 3f};

    @Property(tries = 400)
    void nearestAndLinearMatchTheDirectFormula(@ForAll long seed) {
        Random rnd = new Random(seed);
        boolean linear = rnd.nextBoolean();
        DType t = linear ? (rnd.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64) : TData.moveType(rnd);
        int r = 1 + rnd.nextInt(4);
        int[] in = new int[r];
        for (int i = 0; i < r; i++) {
            in[i] = 1 + rnd.nextInt(5);
        }
        // resized axes: all of them, or a subset given with the axes attribute
        boolean withAxes = rnd.nextBoolean();
        int[] axes;
        if (withAxes) {
            int k = 1 + rnd.nextInt(r);
            java.util.List<Integer> all = new java.util.ArrayList<>();
            for (int i = 0; i < r; i++) {
                all.add(i);
            }
            java.util.Collections.shuffle(all, rnd);
            axes = all.subList(0, k).stream().mapToInt(Integer::intValue).toArray();
        } else {
            axes = new int[r];
            for (int i = 0; i < r; i++) {
                axes[i] = i;
            }
        }
        String ctm = CTMS[rnd.nextInt(CTMS.length)];
        String nearestMode = NEAREST[rnd.nextInt(NEAREST.length)];
        boolean bySizes = rnd.nextBoolean();
        double[] scale = new double[r];
        int[] out = in.clone();
        Arrays.fill(scale, 1);
        float[] scales = new float[axes.length];
        long[] sizes = new long[axes.length];
        for (int i = 0; i < axes.length; i++) {
            int d = axes[i];
            if (bySizes) {
                sizes[i] = 1 + rnd.nextInt(9);
                out[d] = (int) sizes[i];
                scale[d] = (double) sizes[i] / in[d];
            } else {
                scales[i] = SCALES[rnd.nextInt(SCALES.length)];
                scale[d] = scales[i];
                out[d] = (int) Math.floor(scale[d] * in[d]);
            }
        }
        double[] roiStart = new double[r];
        double[] roiEnd = new double[r];
        Arrays.fill(roiEnd, 1);
        float[] roi = new float[2 * axes.length];
        for (int i = 0; i < axes.length; i++) {
            roi[i] = (rnd.nextInt(7) - 2) / 10f;
            roi[axes.length + i] = (rnd.nextInt(7) + 6) / 10f;
            roiStart[axes[i]] = roi[i];
            roiEnd[axes[i]] = roi[axes.length + i];
        }
        float extrapolation = 10f;

        Tensor x = TData.random(t, in, rnd);
        OneNode node = OneNode.of(Op.Resize).attr("mode", linear ? "linear" : "nearest")
                .attr("coordinate_transformation_mode", ctm).attr("nearest_mode", nearestMode)
                .attr("extrapolation_value", extrapolation).input(x);
        if (withAxes) {
            long[] ax = new long[axes.length];
            for (int i = 0; i < axes.length; i++) {
                ax[i] = rnd.nextBoolean() ? axes[i] : axes[i] - r;
            }
            node.attr("axes", ax);
        }
        if (ctm.equals("tf_crop_and_resize")) {
            node.constant(Tensor.of(roi, roi.length));
        } else {
            node.omitted();
        }
        if (bySizes) {
            node.omitted().constant(Tensor.of(sizes, sizes.length));
        } else {
            node.constant(Tensor.of(scales, scales.length));
        }
        Tensor y = node.run1();
        String what = (linear ? "linear" : "nearest " + nearestMode) + " " + ctm + " " + t + " " + Arrays.toString(in)
                + " -> " + Arrays.toString(out) + " axes " + Arrays.toString(axes) + " scales " + Arrays.toString(scale);
        assertArrayEquals(out, y.shape(), what);

        Tensor expected = Tensor.allocate(t, out);
        int[] inStrides = TData.strides(in);
        for (int o = 0; o < expected.elementCount(); o++) {
            int[] c = TData.unravel(o, out);
            double[] xo = new double[r];
            boolean extrapolate = false;
            for (int d = 0; d < r; d++) {
                xo[d] = coordinate(ctm, c[d], in[d], out[d], scale[d], roiStart[d], roiEnd[d]);
                extrapolate |= ctm.equals("tf_crop_and_resize") && (xo[d] < 0 || xo[d] > in[d] - 1);
            }
            if (extrapolate) {
                expected.setDouble(o, extrapolation);
                continue;
            }
            if (!linear) {
                int src = 0;
                for (int d = 0; d < r; d++) {
                    src += clamp(nearest(nearestMode, xo[d]), in[d]) * inStrides[d];
                }
                TData.put(expected, o, x, src);
                continue;
            }
            double sum = 0;
            for (int corner = 0; corner < 1 << r; corner++) {
                double w = 1;
                int src = 0;
                for (int d = 0; d < r; d++) {
                    long lo = (long) Math.floor(xo[d]);
                    double frac = xo[d] - lo;
                    boolean upper = (corner >> d & 1) == 1;
                    w *= upper ? frac : 1 - frac;
                    src += clamp(upper ? lo + 1 : lo, in[d]) * inStrides[d];
                }
                sum += w * x.getDouble(src);
            }
            expected.setDouble(o, sum);
        }
        for (int i = 0; i < expected.elementCount(); i++) {
            double e = expected.getDouble(i);
            double a = y.getDouble(i);
            if (!(Math.abs(e - a) <= 1e-5 * (1 + Math.abs(e)))) {
                throw new AssertionError(what + ": element " + Arrays.toString(TData.unravel(i, out)) + " is " + a
                        + ", expected " + e);
            }
        }
    }

    @Property(tries = 300)
    void filteredModesMatchTheNearestNeighbourFormula(@ForAll long seed) {
        Random rnd = new Random(seed);
        boolean cubic = rnd.nextBoolean();
        boolean antialias = rnd.nextBoolean();
        boolean exclude = rnd.nextBoolean();
        double a = rnd.nextBoolean() ? -0.75 : -0.5;
        String ctm = CTMS[rnd.nextInt(CTMS.length - 1)];
        int r = 1 + rnd.nextInt(3);
        int[] in = new int[r];
        double[] scale = new double[r];
        int[] out = new int[r];
        float[] scales = new float[r];
        for (int d = 0; d < r; d++) {
            in[d] = 1 + rnd.nextInt(9);
            scales[d] = new float[] {0.25f, 0.4f, 0.5f, 0.7f, 1f, 1.3f, 2f}[rnd.nextInt(7)];
            scale[d] = scales[d];
            out[d] = (int) Math.floor(scale[d] * in[d]);
        }
        Tensor x = TData.random(DType.FLOAT64, in, rnd);
        Tensor y = OneNode.of(Op.Resize).attr("mode", cubic ? "cubic" : "linear").attr("antialias", antialias ? 1L : 0L)
                .attr("exclude_outside", exclude ? 1L : 0L).attr("cubic_coeff_a", (float) a)
                .attr("coordinate_transformation_mode", ctm).input(x).omitted()
                .constant(Tensor.of(scales, scales.length)).run1();
        String what = (cubic ? "cubic" : "linear") + (antialias ? " antialias" : "") + (exclude ? " exclude" : "")
                + " " + ctm + " " + Arrays.toString(in) + " scales " + Arrays.toString(scales);
        assertArrayEquals(out, y.shape(), what);
        // per axis and output coordinate: the neighbour indices (clamped) and their weights
        int[][][] taps = new int[r][][];
        double[][][] weights = new double[r][][];
        for (int d = 0; d < r; d++) {
            taps[d] = new int[out[d]][];
            weights[d] = new double[out[d]][];
            for (int o = 0; o < out[d]; o++) {
                double xo = coordinate(ctm, o, in[d], out[d], scale[d], 0, 1);
                double ratio = xo == Math.floor(xo) ? 1 : xo - Math.floor(xo);
                double[] c = coefficients(cubic, antialias, ratio, scale[d], a);
                long[] nb = nearest(xo, c.length);
                if (exclude) {
                    double sum = 0;
                    for (int i = 0; i < c.length; i++) {
                        if (nb[i] < 0 || nb[i] >= in[d]) {
                            c[i] = 0;
                        }
                        sum += c[i];
                    }
                    for (int i = 0; i < c.length; i++) {
                        c[i] /= sum;
                    }
                }
                taps[d][o] = new int[c.length];
                for (int i = 0; i < c.length; i++) {
                    taps[d][o][i] = clamp(nb[i], in[d]);
                }
                weights[d][o] = c;
            }
        }
        int[] inStrides = TData.strides(in);
        for (int o = 0; o < y.elementCount(); o++) {
            int[] c = TData.unravel(o, out);
            // sum over the tensor product of the per-axis taps
            int[] k = new int[r];
            double sum = 0;
            while (true) {
                double w = 1;
                int src = 0;
                for (int d = 0; d < r; d++) {
                    w *= weights[d][c[d]][k[d]];
                    src += taps[d][c[d]][k[d]] * inStrides[d];
                }
                sum += w * x.getDouble(src);
                int d = r - 1;
                while (d >= 0 && ++k[d] == taps[d][c[d]].length) {
                    k[d] = 0;
                    d--;
                }
                if (d < 0) {
                    break;
                }
            }
            double got = y.getDouble(o);
            if (!(Math.abs(sum - got) <= 1e-9 * (1 + Math.abs(sum)))) {
                throw new AssertionError(what + ": element " + Arrays.toString(c) + " is " + got + ", expected " + sum);
            }
        }
    }

    /** Filter weights for the taps around a coordinate whose distance past the lower neighbour is {@code ratio}. */
    private static double[] coefficients(boolean cubic, boolean antialias, double ratio, double scale, double a) {
        if (!antialias) {
            if (!cubic) {
                return new double[] {1 - ratio, ratio};
            }
            return new double[] {keys(ratio + 1, a), keys(ratio, a), keys(1 - ratio, a), keys(2 - ratio, a)};
        }
        double s = Math.min(scale, 1);
        int start = (int) Math.floor((cubic ? -2 : -1) / s) + 1;
        int n = 2 - 2 * start;
        double[] c = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double t = Math.abs((start + i - ratio) * s);
            c[i] = cubic ? keys(t, a) : Math.max(0, 1 - t);
            sum += c[i];
        }
        for (int i = 0; i < n; i++) {
            c[i] /= sum;
        }
        return c;
    }

    private static double keys(double t, double a) {
        t = Math.abs(t);
        if (t <= 1) {
            return (a + 2) * t * t * t - (a + 3) * t * t + 1;
        }
        if (t < 2) {
            return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
        }
        return 0;
    }

    /**
     * The n integers nearest to x, ties going to the smaller one, in ascending order. Distances are compared
     * exactly (p is nearer than q > p iff x is below their midpoint): |x - p| rounded in double can make
     * unequal distances tie.
     */
    private static long[] nearest(double x, int n) {
        long lo = (long) Math.floor(x) - n;
        Long[] cand = new Long[2 * n + 2];
        for (int i = 0; i < cand.length; i++) {
            cand[i] = lo + i;
        }
        Arrays.sort(cand, (p, q) -> {
            if (p.equals(q)) {
                return 0;
            }
            long low = Math.min(p, q);
            boolean lowerFirst = x <= (low + Math.max(p, q)) / 2.0;
            return (p == low) == lowerFirst ? -1 : 1;
        });
        long[] pick = new long[n];
        for (int i = 0; i < n; i++) {
            pick[i] = cand[i];
        }
        Arrays.sort(pick);
        return pick;
    }

    /** Output coordinate to input coordinate (ONNX Resize; the "length_resized" of the formulas is scale * in). */
    private static double coordinate(String ctm, int x, int in, int out, double scale, double roiStart, double roiEnd) {
        double lengthResized = scale * in;
        switch (ctm) {
            case "half_pixel":
                return (x + 0.5) / scale - 0.5;
            case "half_pixel_symmetric": {
                double offset = in / 2.0 * (1 - out / lengthResized);
                return offset + (x + 0.5) / scale - 0.5;
            }
            case "pytorch_half_pixel":
                return lengthResized > 1 || lengthResized < 1 ? (x + 0.5) / scale - 0.5 : -0.5;
            case "align_corners":
                return lengthResized == 1 ? 0 : x * (in - 1.0) / (lengthResized - 1);
            case "asymmetric":
                return x / scale;
            default:
                return lengthResized == 1 ? 0.5 * (roiStart + roiEnd) * (in - 1)
                        : roiStart * (in - 1) + x * (roiEnd - roiStart) * (in - 1) / (lengthResized - 1);
        }
    }

    private static long nearest(String mode, double v) {
        double fl = Math.floor(v);
        double frac = v - fl;
        switch (mode) {
            case "round_prefer_floor":
                return (long) (frac <= 0.5 ? fl : fl + 1);
            case "round_prefer_ceil":
                return (long) (frac < 0.5 ? fl : fl + 1);
            case "floor":
                return (long) fl;
            default:
                return (long) Math.ceil(v);
        }
    }

    private static int clamp(long v, int n) {
        return (int) Math.max(0, Math.min(n - 1, v));
    }

    @Test
    void cubicUpsampleOfALinearRampIsExactInTheInterior() {
        // the Keys kernel reproduces linear functions exactly where no tap is clamped
        float[] v = new float[8];
        for (int i = 0; i < 8; i++) {
            v[i] = 3 * i + 1;
        }
        Tensor y = OneNode.of(Op.Resize).attr("mode", "cubic").attr("coordinate_transformation_mode", "asymmetric")
                .input(Tensor.of(v, 1, 8)).omitted().constant(Tensor.of(new float[] {1, 2}, 2)).run1();
        assertArrayEquals(new int[] {1, 16}, y.shape());
        for (int i = 2; i < 12; i++) {
            assertEquals(3 * (i / 2.0) + 1, y.getFloat(i), 1e-5, "output " + i);
        }
    }

    @Test
    void antialiasedLinearDownscaleAveragesItsFootprint() {
        // scale 1/4 with antialias: a triangle filter 8 inputs wide centred between inputs 1.5 and 2.5...
        // for a constant input every output equals the constant, and for a ramp it equals the ramp at the centre
        float[] v = new float[16];
        for (int i = 0; i < 16; i++) {
            v[i] = i;
        }
        Tensor y = OneNode.of(Op.Resize).attr("mode", "linear").attr("antialias", 1L)
                .input(Tensor.of(v, 1, 16)).omitted().constant(Tensor.of(new float[] {1, 0.25f}, 2)).run1();
        assertArrayEquals(new int[] {1, 4}, y.shape());
        // half_pixel centres: output j samples input coordinate 4j + 1.5; interior outputs see no clamping
        assertEquals(5.5f, y.getFloat(1), 1e-5);
        assertEquals(9.5f, y.getFloat(2), 1e-5);
    }
}
