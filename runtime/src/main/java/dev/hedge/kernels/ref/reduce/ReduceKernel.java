package dev.hedge.kernels.ref.reduce;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum
 * and ReduceLogSumExp. Axes come as the optional second input (the importer turns the attribute form of
 * older opsets into it). Floating-point types accumulate in double; integer types compute sums, products
 * and extrema exactly in long arithmetic (wrapping to the element width on store, like C), and the
 * inherently real-valued ones (L2, LogSum, LogSumExp) in double, truncated toward zero and saturated to
 * the dtype's range on store. Reductions over no elements give the spec's values (0 for sums, 1 for
 * products, -inf / +inf for float max / min, the type's min / max for integers, NaN for a float mean).
 */
public final class ReduceKernel implements Kernel {

    public enum Kind { SUM, MEAN, MAX, MIN, PROD, L1, L2, SUM_SQUARE, LOG_SUM, LOG_SUM_EXP }

    private static final int BLOCK = 256;

    private final Node node;
    private final Kind kind;
    private final boolean keepdims;
    private final boolean noopWithEmptyAxes;

    private DType dtype;
    private boolean identity;
    private boolean exactInt;
    private ReduceLayout layout;

    public ReduceKernel(Node node, Kind kind) {
        this.node = node;
        this.kind = kind;
        this.keepdims = node.intAttr("keepdims") != 0;
        this.noopWithEmptyAxes = node.intAttr("noop_with_empty_axes") != 0;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        dtype = ctx.inputType(0);
        boolean ok = dtype.isFloat() || (dtype.isInteger() && Rows.numeric(dtype))
                || (dtype == DType.BOOL && (kind == Kind.MAX || kind == Kind.MIN));
        if (!ok) {
            throw new UnsupportedModelException(node.describe() + ": " + dtype + " input is not supported");
        }
        int[] shape = ctx.inputShape(0);
        int rank = shape.length;
        long[] axes = ctx.hasInput(1) ? readAxes(ctx.requireValue(1)) : new long[0];
        boolean[] reduced = new boolean[rank];
        identity = false;
        if (axes.length == 0) {
            if (noopWithEmptyAxes) {
                identity = true;
            } else {
                Arrays.fill(reduced, true);
            }
        } else {
            for (long a : axes) {
                int ax = Shapes.axis(a, rank);
                if (reduced[ax]) {
                    throw new IllegalArgumentException("axes " + Arrays.toString(axes) + " repeat axis " + ax);
                }
                reduced[ax] = true;
            }
        }
        int outRank = 0;
        for (int d = 0; d < rank; d++) {
            if (keepdims || !reduced[d]) {
                outRank++;
            }
        }
        int[] out = new int[outRank];
        for (int d = 0, j = 0; d < rank; d++) {
            if (!reduced[d]) {
                out[j++] = shape[d];
            } else if (keepdims) {
                out[j++] = 1;
            }
        }
        ctx.setOutput(0, dtype, identity ? shape : out);
        layout = ReduceLayout.of(shape, reduced);
        exactInt = !dtype.isFloat() && (kind == Kind.SUM || kind == Kind.MEAN || kind == Kind.MAX
                || kind == Kind.MIN || kind == Kind.PROD || kind == Kind.L1 || kind == Kind.SUM_SQUARE);
    }

    private long[] readAxes(Tensor t) {
        if (!t.dtype().isInteger() || t.rank() > 1) {
            throw new IllegalArgumentException("axes must be a 1-D integer tensor, got " + t);
        }
        return t.toLongArray();
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        if (identity) {
            x.copyTo(y);
            return;
        }
        ReduceLayout l = layout;
        if (l.outCount == 0) {
            return;
        }
        if (l.count == 0) {
            fillEmpty(y, l.outCount);
            return;
        }
        if (exactInt) {
            runLong(x, y, l);
        } else {
            runDouble(x, y, l);
        }
    }

    private void runDouble(Tensor x, Tensor y, ReduceLayout l) {
        int n = l.count;
        if (l.strided() && l.inner > 1) {
            // reduced axes in the middle: move tiles of neighbouring columns, each becoming a contiguous row
            int inner = l.inner;
            int w = Rows.tileWidth(n, inner);
            double[] tile = ScratchArrays.doubles(0, n * w);
            double[] res = ScratchArrays.doubles(1, w);
            int outer = l.outCount / inner;
            for (int a = 0; a < outer; a++) {
                for (int i0 = 0; i0 < inner; i0 += w) {
                    int cw = Math.min(w, inner - i0);
                    Rows.loadColumns(x, a * n * inner + i0, inner, n, cw, tile);
                    for (int c = 0; c < cw; c++) {
                        res[c] = reduce(tile, c * n, n);
                    }
                    Rows.store(y, a * inner + i0, 1, cw, res);
                }
            }
            return;
        }
        double[] row = ScratchArrays.doubles(0, n);
        double[] res = ScratchArrays.doubles(1, Math.min(BLOCK, l.outCount));
        for (int o0 = 0; o0 < l.outCount; o0 += BLOCK) {
            int m = Math.min(BLOCK, l.outCount - o0);
            for (int j = 0; j < m; j++) {
                l.load(x, o0 + j, row);
                res[j] = reduce(row, 0, n);
            }
            Rows.store(y, o0, 1, m, res);
        }
    }

    /** Reduces {@code v[off, off + n)}, n >= 1. */
    private double reduce(double[] v, int off, int n) {
        int end = off + n;
        switch (kind) {
            case SUM: return sum(v, off, n);
            case MEAN: return sum(v, off, n) / n;
            case L1: {
                double s = 0;
                for (int i = off; i < end; i++) {
                    s += Math.abs(v[i]);
                }
                return s;
            }
            case SUM_SQUARE: return sumSquares(v, off, n);
            case L2: return Math.sqrt(sumSquares(v, off, n));
            case LOG_SUM: return Math.log(sum(v, off, n));
            case LOG_SUM_EXP: return logSumExp(v, off, n);
            case PROD: {
                double p = 1;
                for (int i = off; i < end; i++) {
                    p *= v[i];
                }
                return p;
            }
            case MAX: return max(v, off, n);
            case MIN: {
                double m = v[off];
                for (int i = off + 1; i < end; i++) {
                    double e = v[i];
                    if (e < m || e != e) {
                        m = e;
                    }
                }
                return m;
            }
            default: throw new AssertionError(kind);
        }
    }

    /** Maximum of {@code v[off, off + n)}, n >= 1; NaN if any element is NaN. */
    public static double max(double[] v, int off, int n) {
        double m = v[off];
        for (int i = off + 1, end = off + n; i < end; i++) {
            double e = v[i];
            // once m is NaN no comparison is true, so it sticks
            if (e > m || e != e) {
                m = e;
            }
        }
        return m;
    }

    /** Four interleaved partial sums: independent adds run in parallel, and the error grows more slowly. */
    public static double sum(double[] v, int off, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = off;
        int end = off + n;
        for (; i + 4 <= end; i += 4) {
            s0 += v[i];
            s1 += v[i + 1];
            s2 += v[i + 2];
            s3 += v[i + 3];
        }
        for (; i < end; i++) {
            s0 += v[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static double sumSquares(double[] v, int off, int n) {
        double s0 = 0, s1 = 0;
        int i = off;
        int end = off + n;
        for (; i + 2 <= end; i += 2) {
            s0 += v[i] * v[i];
            s1 += v[i + 1] * v[i + 1];
        }
        if (i < end) {
            s0 += v[i] * v[i];
        }
        return s0 + s1;
    }

    /** max + log(sum(exp(v - max))) over {@code v[off, off + n)}, exact for rows containing infinities. */
    public static double logSumExp(double[] v, int off, int n) {
        double m = max(v, off, n);
        if (Double.isInfinite(m) || Double.isNaN(m)) {
            return m;
        }
        double s = 0;
        for (int i = off, end = off + n; i < end; i++) {
            s += Math.exp(v[i] - m);
        }
        return m + Math.log(s);
    }

    private void runLong(Tensor x, Tensor y, ReduceLayout l) {
        long[] row = Rows.longs(0, l.count);
        long[] res = Rows.longs(1, Math.min(BLOCK, l.outCount));
        boolean u64 = dtype == DType.UINT64;
        int n = l.count;
        for (int o0 = 0; o0 < l.outCount; o0 += BLOCK) {
            int m = Math.min(BLOCK, l.outCount - o0);
            for (int j = 0; j < m; j++) {
                l.loadLong(x, o0 + j, row);
                long r;
                switch (kind) {
                    case SUM: case MEAN: {
                        long s = 0;
                        for (int i = 0; i < n; i++) {
                            s += row[i];
                        }
                        r = kind == Kind.SUM ? s : u64 ? Long.divideUnsigned(s, n) : s / n;
                        break;
                    }
                    case L1: {
                        long s = 0;
                        for (int i = 0; i < n; i++) {
                            s += u64 ? row[i] : Math.abs(row[i]);
                        }
                        r = s;
                        break;
                    }
                    case SUM_SQUARE: {
                        long s = 0;
                        for (int i = 0; i < n; i++) {
                            s += row[i] * row[i];
                        }
                        r = s;
                        break;
                    }
                    case PROD: {
                        long p = 1;
                        for (int i = 0; i < n; i++) {
                            p *= row[i];
                        }
                        r = p;
                        break;
                    }
                    case MAX: {
                        long b = row[0];
                        for (int i = 1; i < n; i++) {
                            if (u64 ? Long.compareUnsigned(row[i], b) > 0 : row[i] > b) {
                                b = row[i];
                            }
                        }
                        r = b;
                        break;
                    }
                    case MIN: {
                        long b = row[0];
                        for (int i = 1; i < n; i++) {
                            if (u64 ? Long.compareUnsigned(row[i], b) < 0 : row[i] < b) {
                                b = row[i];
                            }
                        }
                        r = b;
                        break;
                    }
                    default: throw new AssertionError(kind);
                }
                res[j] = r;
            }
            Rows.storeLong(y, o0, 1, m, res);
        }
    }

    /** The value of a reduction over no elements, per the ONNX spec (identity element or extreme). */
    private void fillEmpty(Tensor y, int n) {
        if (dtype.isFloat()) {
            double v;
            switch (kind) {
                case SUM: case L1: case L2: case SUM_SQUARE: v = 0; break;
                case PROD: v = 1; break;
                case MEAN: v = Double.NaN; break;
                case MAX: case LOG_SUM: case LOG_SUM_EXP: v = Double.NEGATIVE_INFINITY; break;
                case MIN: v = Double.POSITIVE_INFINITY; break;
                default: throw new AssertionError(kind);
            }
            for (int i = 0; i < n; i++) {
                y.setDouble(i, v);
            }
            return;
        }
        long v;
        switch (kind) {
            case PROD: v = 1; break;
            case MAX: v = Rows.minOf(dtype); break;
            case MIN: v = Rows.maxOf(dtype); break;
            // log(0) = -inf, saturated as the double-valued integer reductions are on store
            case LOG_SUM: case LOG_SUM_EXP: v = Rows.minOf(dtype); break;
            // sums are 0; the mean of nothing is NaN, which integer stores turn into 0
            default: v = 0;
        }
        for (int i = 0; i < n; i++) {
            y.setLong(i, v);
        }
    }
}
