package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Resize (opset 11-19 semantics; the importer maps Upsample and opset-10 Resize onto it).
 *
 * <p>Prepare resolves scales or sizes (with {@code axes} and {@code keep_aspect_ratio_policy}) and builds one
 * table per resized axis: for every output coordinate, the source taps (clamped to the edge) and their weights,
 * or an extrapolation flag for {@code tf_crop_and_resize}. Coordinates, neighbour choice and filter weights follow
 * the ONNX reference implementation, including its use of {@code scale * input_size} (not the rounded output
 * size) in the align_corners, tf_crop_and_resize, pytorch_half_pixel and half_pixel_symmetric transforms.
 *
 * <p>Nearest mode is a gather through the tables and works for every dtype. Linear and cubic (with antialias
 * and exclude_outside) are separable: one weighted pass per resized axis, innermost first, in double precision
 * on per-thread scratch arrays, then one conversion into the output.
 */
public final class ResizeKernel implements Kernel {

    private enum Mode { NEAREST, LINEAR, CUBIC }

    /** Source taps of every output coordinate along one axis. */
    static final class AxisTable {
        final int taps;
        /** outLen * taps source indices, clamped into [0, in). */
        final int[] index;
        /** outLen * taps weights; null in nearest mode. */
        final double[] weight;
        /** Per output coordinate: the extrapolation value instead (tf_crop_and_resize); null when never. */
        final boolean[] extrapolate;

        AxisTable(int taps, int[] index, double[] weight, boolean[] extrapolate) {
            this.taps = taps;
            this.index = index;
            this.weight = weight;
            this.extrapolate = extrapolate;
        }
    }

    private final Node node;
    private Mode mode;
    private DType dtype;
    private int bits;
    private int[] in;
    private int[] inStrides;
    private int[] out;
    /** Per axis; null where the axis is copied unchanged. */
    private AxisTable[] tables;
    private double extrapolation;
    private long extrapolationRaw;
    /** Axes with a table, in pass order (innermost first), for linear and cubic. */
    private int[] passes;
    /** Per pass: the product of the dims before and after the pass axis, in the shape at that pass. */
    private int[] passOuter;
    private int[] passInner;
    private int scratchLength;

    public ResizeKernel(Node node) {
        this.node = node;
    }

    // ---------------------------------------------------------------- prepare

    @Override
    public void prepare(PrepareContext ctx) {
        in = ctx.inputShape(0);
        inStrides = StridedCopy.strides(in);
        dtype = ctx.inputType(0);
        bits = dtype.bits();
        int r = in.length;
        String modeName = node.stringAttr("mode");
        mode = switch (modeName) {
            case "nearest" -> Mode.NEAREST;
            case "linear" -> Mode.LINEAR;
            case "cubic" -> Mode.CUBIC;
            default -> throw new UnsupportedModelException(node.describe() + ": mode '" + modeName + "' is not supported");
        };
        if (mode != Mode.NEAREST) {
            Prep.requireArithmetic(node, dtype, "input");
        }
        String ctm = node.stringAttr("coordinate_transformation_mode");
        switch (ctm) {
            case "half_pixel": case "half_pixel_symmetric": case "pytorch_half_pixel": case "align_corners":
            case "asymmetric": case "tf_crop_and_resize": case "tf_half_pixel_for_nn":
                break;
            default:
                throw new UnsupportedModelException(node.describe() + ": coordinate_transformation_mode '" + ctm
                        + "' is not supported");
        }
        String nearestMode = node.stringAttr("nearest_mode");
        switch (nearestMode) {
            case "round_prefer_floor": case "round_prefer_ceil": case "floor": case "ceil":
                break;
            default:
                throw new UnsupportedModelException(node.describe() + ": nearest_mode '" + nearestMode
                        + "' is not supported");
        }
        String policy = node.stringAttr("keep_aspect_ratio_policy");
        if (!policy.equals("stretch") && !policy.equals("not_larger") && !policy.equals("not_smaller")) {
            throw new UnsupportedModelException(node.describe() + ": keep_aspect_ratio_policy '" + policy
                    + "' is not supported");
        }

        int[] axes = axes(node.intsAttr("axes"), r);
        Tensor scalesT = optionalValue(ctx, 2);
        Tensor sizesT = optionalValue(ctx, 3);
        if ((scalesT == null) == (sizesT == null)) {
            throw new IllegalArgumentException(scalesT == null ? "neither scales nor sizes is given"
                    : "both scales and sizes are given; exactly one is allowed");
        }
        double[] scale = new double[r];
        out = in.clone();
        Arrays.fill(scale, 1.0);
        if (scalesT != null) {
            if (!scalesT.dtype().isFloat() || scalesT.elementCount() != axes.length) {
                throw new IllegalArgumentException("scales must hold " + axes.length + " floats, got " + scalesT);
            }
            for (int i = 0; i < axes.length; i++) {
                double s = scalesT.getDouble(i);
                if (!(s > 0) || Double.isInfinite(s)) {
                    throw new IllegalArgumentException("scale " + s + " for axis " + axes[i] + " must be positive");
                }
                scale[axes[i]] = s;
                out[axes[i]] = Prep.toDim((long) Math.floor(s * in[axes[i]]), "resized dimension");
            }
        } else {
            if (!sizesT.dtype().isInteger() || sizesT.elementCount() != axes.length) {
                throw new IllegalArgumentException("sizes must hold " + axes.length + " integers, got " + sizesT);
            }
            for (int i = 0; i < axes.length; i++) {
                int d = axes[i];
                out[d] = Prep.toDim(sizesT.getLong(i), "size");
                if (in[d] == 0) {
                    throw new IllegalArgumentException("cannot resize axis " + d + " of size 0");
                }
                scale[d] = (double) out[d] / in[d];
            }
            if (!policy.equals("stretch")) {
                double s = policy.equals("not_larger") ? Double.POSITIVE_INFINITY : 0;
                for (int d : axes) {
                    s = policy.equals("not_larger") ? Math.min(s, scale[d]) : Math.max(s, scale[d]);
                }
                for (int d : axes) {
                    scale[d] = s;
                    // the reference rounds half up
                    out[d] = Prep.toDim((long) (s * in[d] + 0.5), "resized dimension");
                }
            }
        }
        Prep.product(out, 0, r);
        for (int d = 0; d < r; d++) {
            if (in[d] == 0 && out[d] > 0) {
                throw new IllegalArgumentException("cannot resize axis " + d + " of size 0 to " + out[d]);
            }
        }

        double[] roiStart = new double[r];
        double[] roiEnd = new double[r];
        Arrays.fill(roiEnd, 1.0);
        if (ctm.equals("tf_crop_and_resize")) {
            Tensor roi = optionalValue(ctx, 1);
            if (roi != null) {
                if (!roi.dtype().isFloat() || roi.elementCount() != 2 * axes.length) {
                    throw new IllegalArgumentException("roi must hold " + (2 * axes.length) + " floats, got " + roi);
                }
                for (int i = 0; i < axes.length; i++) {
                    roiStart[axes[i]] = roi.getDouble(i);
                    roiEnd[axes[i]] = roi.getDouble(axes.length + i);
                }
            }
        }

        extrapolation = node.floatAttr("extrapolation_value");
        extrapolationRaw = rawOf(dtype, extrapolation);
        boolean antialias = node.intAttr("antialias") != 0 && mode != Mode.NEAREST;
        boolean excludeOutside = node.intAttr("exclude_outside") != 0;
        double a = node.floatAttr("cubic_coeff_a");
        tables = new AxisTable[r];
        int n = 0;
        int[] order = new int[r];
        for (int d = r - 1; d >= 0; d--) {
            if (in[d] == 0 || out[d] == 0) {
                continue;
            }
            AxisTable t = table(ctm, nearestMode, in[d], out[d], scale[d], roiStart[d], roiEnd[d], antialias,
                    excludeOutside, a);
            if (!isIdentity(t, in[d], out[d])) {
                tables[d] = t;
                order[n++] = d;
            }
        }
        passes = Arrays.copyOf(order, n);
        if (mode != Mode.NEAREST) {
            long max = Tensor.elementCount(in);
            int[] cur = in.clone();
            passOuter = new int[n];
            passInner = new int[n];
            for (int p = 0; p < n; p++) {
                int d = passes[p];
                passOuter[p] = Prep.product(cur, 0, d);
                passInner[p] = Prep.product(cur, d + 1, r);
                cur[d] = out[d];
                max = Math.max(max, Tensor.elementCount(cur));
            }
            scratchLength = (int) max;
        }
        ctx.setOutput(0, dtype, out);
        Prep.passQuant(ctx, 0, 0, ax -> tables[ax] == null ? ax : -1);
    }

    private static Tensor optionalValue(PrepareContext ctx, int i) {
        if (!ctx.hasInput(i)) {
            return null;
        }
        // an empty tensor stands for an omitted input (opset 11-12 models pass empty scales with sizes)
        int[] s = ctx.inputShape(i);
        if (Prep.product(s, 0, s.length) == 0) {
            return null;
        }
        return ctx.requireValue(i);
    }

    private static int[] axes(long[] attr, int r) {
        if (attr == null) {
            int[] all = new int[r];
            for (int i = 0; i < r; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] axes = new int[attr.length];
        boolean[] seen = new boolean[r];
        for (int i = 0; i < attr.length; i++) {
            axes[i] = Prep.axis(attr[i], r, "axes entry");
            if (seen[axes[i]]) {
                throw new IllegalArgumentException("axes " + Arrays.toString(attr) + " repeats axis " + attr[i]);
            }
            seen[axes[i]] = true;
        }
        return axes;
    }

    /** The dtype's raw bits for a value given as a double (what nearest mode writes when extrapolating). */
    private static long rawOf(DType t, double v) {
        if (t.bits() == 4) {
            return (long) v & 0xf;
        }
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        Arith.store(t, b, 0, v);
        return Elems.read(b, 0, t.bits());
    }

    /** Position in the input of output coordinate {@code x} along one axis (the ONNX reference's formulas). */
    static double sourceCoordinate(String ctm, int x, int inLen, int outLen, double scale, double roiStart,
            double roiEnd) {
        double outputWidth = scale * inLen;
        switch (ctm) {
            case "align_corners":
                return outputWidth == 1 ? 0 : (double) x * (inLen - 1) / (outputWidth - 1);
            case "asymmetric":
                return x / scale;
            case "tf_crop_and_resize":
                return (outputWidth == 1 ? (roiEnd - roiStart) * (inLen - 1) / 2
                        : x * (roiEnd - roiStart) * (inLen - 1) / (outputWidth - 1)) + roiStart * (inLen - 1);
            case "pytorch_half_pixel":
                return outputWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
            case "half_pixel":
                return (x + 0.5) / scale - 0.5;
            case "half_pixel_symmetric": {
                double adjustment = outLen / outputWidth;
                double center = inLen / 2.0;
                double offset = center * (1 - adjustment);
                return offset + (x + 0.5) / scale - 0.5;
            }
            case "tf_half_pixel_for_nn":
                return (x + 0.5) / scale;
            default:
                throw new IllegalStateException(ctm);
        }
    }

    private AxisTable table(String ctm, String nearestMode, int inLen, int outLen, double scale, double roiStart,
            double roiEnd, boolean antialias, boolean excludeOutside, double a) {
        boolean crop = ctm.equals("tf_crop_and_resize");
        boolean[] extrapolate = crop ? new boolean[outLen] : null;
        // filter support: taps base + i for i in [first, first + taps)
        int first;
        int taps;
        double s = antialias ? Math.min(scale, 1.0) : 1.0;
        switch (mode) {
            case NEAREST:
                first = 0;
                taps = 1;
                break;
            case LINEAR:
                first = antialias ? (int) (Math.floor(-1 / s) + 1) : 0;
                taps = 2 - 2 * first;
                break;
            default:
                first = antialias ? (int) (Math.floor(-2 / s) + 1) : -1;
                taps = 2 - 2 * first;
                break;
        }
        int[] index = new int[outLen * taps];
        double[] weight = mode == Mode.NEAREST ? null : new double[outLen * taps];
        for (int x = 0; x < outLen; x++) {
            double xo = sourceCoordinate(ctm, x, inLen, outLen, scale, roiStart, roiEnd);
            if (crop && (xo < 0 || xo > inLen - 1)) {
                extrapolate[x] = true;
                continue;
            }
            double fl = Math.floor(xo);
            // the reference takes the neighbours below an integral coordinate: ratio in (0, 1]
            boolean integral = xo == fl;
            long base = integral ? (long) fl - 1 : (long) fl;
            double ratio = integral ? 1 : xo - fl;
            if (mode == Mode.NEAREST) {
                boolean up;
                if (integral) {
                    up = true;
                } else {
                    switch (nearestMode) {
                        case "round_prefer_floor": up = ratio > 0.5; break;
                        case "round_prefer_ceil": up = ratio >= 0.5; break;
                        case "floor": up = false; break;
                        default: up = true; break;
                    }
                }
                index[x] = clamp(base + (up ? 1 : 0), inLen);
                continue;
            }
            double sum = 0;
            for (int i = 0; i < taps; i++) {
                double dist = (first + i - ratio) * s;
                double w = mode == Mode.LINEAR ? (antialias ? Math.max(0, 1 - Math.abs(dist)) : 1 - Math.abs(dist))
                        : cubic(Math.abs(dist), a);
                weight[x * taps + i] = w;
                sum += w;
            }
            if (antialias) {
                for (int i = 0; i < taps; i++) {
                    weight[x * taps + i] /= sum;
                }
            }
            if (excludeOutside) {
                double kept = 0;
                for (int i = 0; i < taps; i++) {
                    long p = base + first + i;
                    if (p < 0 || p >= inLen) {
                        weight[x * taps + i] = 0;
                    }
                    kept += weight[x * taps + i];
                }
                for (int i = 0; i < taps; i++) {
                    weight[x * taps + i] /= kept;
                }
            }
            for (int i = 0; i < taps; i++) {
                index[x * taps + i] = clamp(base + first + i, inLen);
            }
        }
        return new AxisTable(taps, index, weight, extrapolate);
    }

    /** The Keys cubic convolution kernel with parameter {@code a}, at distance {@code x >= 0}. */
    static double cubic(double x, double a) {
        if (x <= 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        if (x < 2) {
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        }
        return 0;
    }

    private static int clamp(long p, int len) {
        return (int) Math.max(0, Math.min(len - 1, p));
    }

    /** Whether a table maps every output coordinate to the same input coordinate with weight 1. */
    private boolean isIdentity(AxisTable t, int inLen, int outLen) {
        if (inLen != outLen || t.extrapolate != null && contains(t.extrapolate)) {
            return false;
        }
        for (int x = 0; x < outLen; x++) {
            for (int i = 0; i < t.taps; i++) {
                double w = t.weight == null ? 1 : t.weight[x * t.taps + i];
                if (w != 0 && (w != 1 || t.index[x * t.taps + i] != x)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean contains(boolean[] a) {
        for (boolean b : a) {
            if (b) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- run

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        if (y.elementCount() == 0) {
            return;
        }
        if (passes.length == 0) {
            x.copyTo(y);
        } else if (mode == Mode.NEAREST) {
            runNearest(x.data(), y.data());
        } else {
            runFiltered(x, y);
        }
    }

    private void runNearest(ByteBuffer src, ByteBuffer dst) {
        int r = out.length;
        int last = r - 1;
        int width = out[last];
        int rows = Tensor.elementCount(out) / width;
        AxisTable lt = tables[last];
        int prevSo = -1;
        boolean prevExtra = false;
        for (int row = 0; row < rows; row++) {
            int so = 0;
            boolean extra = false;
            int rem = row;
            for (int a = last - 1; a >= 0; a--) {
                int c = rem % out[a];
                rem /= out[a];
                AxisTable t = tables[a];
                if (t == null) {
                    so += c * inStrides[a];
                } else if (t.extrapolate != null && t.extrapolate[c]) {
                    extra = true;
                    break;
                } else {
                    so += t.index[c] * inStrides[a];
                }
            }
            int dOff = row * width;
            if (row > 0 && (extra ? prevExtra : !prevExtra && so == prevSo)) {
                // upsampling repeats source rows: copy the row just written
                Elems.copy(dst, dOff - width, dst, dOff, width, bits);
            } else if (extra) {
                Elems.fill(dst, dOff, width, bits, extrapolationRaw);
            } else if (lt == null) {
                Elems.copy(src, so, dst, dOff, width, bits);
            } else if (lt.extrapolate == null && bits == 32) {
                for (int o = 0; o < width; o++) {
                    dst.putInt((dOff + o) * 4, src.getInt((so + lt.index[o]) * 4));
                }
            } else {
                for (int o = 0; o < width; o++) {
                    if (lt.extrapolate != null && lt.extrapolate[o]) {
                        Elems.write(dst, dOff + o, bits, extrapolationRaw);
                    } else {
                        Elems.copyOne(src, so + lt.index[o], dst, dOff + o, bits);
                    }
                }
            }
            prevSo = so;
            prevExtra = extra;
        }
    }

    private void runFiltered(Tensor x, Tensor y) {
        double[] a = ScratchArrays.doubles(0, scratchLength);
        double[] b = ScratchArrays.doubles(1, scratchLength);
        int n = x.elementCount();
        ByteBuffer xb = x.data();
        if (dtype == DType.FLOAT32) {
            for (int i = 0; i < n; i++) {
                a[i] = xb.getFloat(i * 4);
            }
        } else {
            for (int i = 0; i < n; i++) {
                a[i] = Arith.load(dtype, xb, i);
            }
        }
        for (int p = 0; p < passes.length; p++) {
            int d = passes[p];
            pass(tables[d], a, b, passOuter[p], in[d], out[d], passInner[p]);
            double[] t = a;
            a = b;
            b = t;
        }
        int m = y.elementCount();
        ByteBuffer yb = y.data();
        if (dtype == DType.FLOAT32) {
            for (int i = 0; i < m; i++) {
                yb.putFloat(i * 4, (float) a[i]);
            }
        } else {
            for (int i = 0; i < m; i++) {
                Arith.store(dtype, yb, i, a[i]);
            }
        }
    }

    /** One separable pass: [outer, inLen, inner] to [outer, outLen, inner] through the axis table. */
    private void pass(AxisTable t, double[] src, double[] dst, int outer, int inLen, int outLen, int inner) {
        int taps = t.taps;
        for (int o = 0; o < outer; o++) {
            int srcBlock = o * inLen;
            for (int x = 0; x < outLen; x++) {
                int row = (o * outLen + x) * inner;
                if (t.extrapolate != null && t.extrapolate[x]) {
                    Arrays.fill(dst, row, row + inner, extrapolation);
                    continue;
                }
                if (inner == 1) {
                    double acc = 0;
                    for (int i = 0; i < taps; i++) {
                        acc += t.weight[x * taps + i] * src[srcBlock + t.index[x * taps + i]];
                    }
                    dst[row] = acc;
                    continue;
                }
                Arrays.fill(dst, row, row + inner, 0);
                for (int i = 0; i < taps; i++) {
                    double w = t.weight[x * taps + i];
                    if (w == 0) {
                        continue;
                    }
                    int s = (srcBlock + t.index[x * taps + i]) * inner;
                    for (int j = 0; j < inner; j++) {
                        dst[row + j] += w * src[s + j];
                    }
                }
            }
        }
    }
}
