package dev.hedge.kernels.ref.reduce;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The Reduce* kernels against a scalar reference that walks every input element. */
class ReduceKernelsTest {

    enum R { SUM, MEAN, MAX, MIN, PROD, L1, L2, SUM_SQUARE, LOG_SUM, LOG_SUM_EXP }

    static Op op(R r) {
        switch (r) {
            case SUM: return Op.ReduceSum;
            case MEAN: return Op.ReduceMean;
            case MAX: return Op.ReduceMax;
            case MIN: return Op.ReduceMin;
            case PROD: return Op.ReduceProd;
            case L1: return Op.ReduceL1;
            case L2: return Op.ReduceL2;
            case SUM_SQUARE: return Op.ReduceSumSquare;
            case LOG_SUM: return Op.ReduceLogSum;
            default: return Op.ReduceLogSumExp;
        }
    }

    @Provide
    Arbitrary<DType> dtypes() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.just(DType.FLOAT32)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(DType.FLOAT64)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(DType.FLOAT16)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(DType.INT32)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(DType.INT64)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(DType.UINT8)));
    }

    static Tensor random(DType d, int[] shape, Random rnd) {
        Tensor t = Tensor.allocate(d, shape);
        for (int i = 0; i < t.elementCount(); i++) {
            if (d.isFloat()) {
                t.setDouble(i, (rnd.nextInt(61) - 30) / 10.0);
            } else {
                t.setLong(i, d.isSigned() ? rnd.nextInt(41) - 20 : rnd.nextInt(41));
            }
        }
        return t;
    }

    @Property(tries = 600)
    void reductionsMatchTheScalarReference(
            @ForAll @Size(max = 4) List<@IntRange(min = 0, max = 4) Integer> dims,
            @ForAll @Size(min = 4, max = 4) List<Boolean> reduceFlags,
            @ForAll boolean negativeAxes, @ForAll boolean keepdims, @ForAll boolean noop,
            @ForAll boolean constantAxes, @ForAll R kind, @ForAll("dtypes") DType dtype, @ForAll long seed) {
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        int rank = shape.length;
        List<Long> axes = new ArrayList<>();
        boolean[] red = new boolean[rank];
        for (int d = 0; d < rank; d++) {
            if (reduceFlags.get(d)) {
                axes.add(negativeAxes ? (long) d - rank : d);
                red[d] = true;
            }
        }
        Tensor x = random(dtype, shape, new Random(seed));
        OneNode n = OneNode.of(op(kind)).attr("keepdims", keepdims ? 1 : 0)
                .attr("noop_with_empty_axes", noop ? 1 : 0).input(x);
        // descending order on purpose: the kernel must not depend on the axes being sorted
        long[] ax = axes.stream().sorted((a, b) -> Long.compare(b, a)).mapToLong(Long::longValue).toArray();
        Tensor axesT = Tensor.of(ax, ax.length);
        if (constantAxes) {
            n.constant(axesT);
        } else {
            n.input(axesT);
        }
        Tensor y = n.run().get(0);

        boolean identity = axes.isEmpty() && noop;
        if (axes.isEmpty() && !noop) {
            Arrays.fill(red, true);
        }
        if (identity) {
            assertArrayEquals(shape, y.shape());
            assertEquals(x.data(), y.data());
            return;
        }
        assertMatchesReference(kind, x, red, keepdims, y);
    }

    /** Checks y = Reduce(x) over the flagged axes by grouping every input element under its output element. */
    static void assertMatchesReference(R kind, Tensor x, boolean[] red, boolean keepdims, Tensor y) {
        int[] shape = x.shape();
        int rank = shape.length;
        DType dtype = x.dtype();
        List<Integer> outShape = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            if (!red[d]) {
                outShape.add(shape[d]);
            } else if (keepdims) {
                outShape.add(1);
            }
        }
        assertArrayEquals(outShape.stream().mapToInt(Integer::intValue).toArray(), y.shape());
        assertEquals(dtype, y.dtype());

        // group the input elements by output element
        int outCount = y.elementCount();
        List<List<Integer>> groups = new ArrayList<>();
        for (int o = 0; o < outCount; o++) {
            groups.add(new ArrayList<>());
        }
        int[] idx = new int[rank];
        for (int i = 0; i < x.elementCount(); i++) {
            int rem = i;
            for (int d = rank - 1; d >= 0; d--) {
                idx[d] = rem % shape[d];
                rem /= shape[d];
            }
            int o = 0;
            for (int d = 0; d < rank; d++) {
                if (!red[d]) {
                    o = o * shape[d] + idx[d];
                }
            }
            groups.get(o).add(i);
        }
        for (int o = 0; o < outCount; o++) {
            List<Integer> g = groups.get(o);
            if (dtype.isFloat()) {
                double e = refFloat(kind, x, g);
                double a = y.getDouble(o);
                double tol = dtype == DType.FLOAT16 ? 2e-3 * Math.abs(e) + 1e-3
                        : dtype == DType.FLOAT32 ? 1e-6 * Math.abs(e) + 1e-6 : 1e-12 * Math.abs(e) + 1e-12;
                boolean same = Double.isNaN(e) ? Double.isNaN(a) : e == a || Math.abs(a - e) <= tol;
                assertTrue(same, kind + " " + dtype + " output " + o + ": " + a + ", expected " + e);
            } else {
                long e = refInt(kind, x, g, dtype);
                Tensor expected = Tensor.allocate(dtype, 1);
                expected.setLong(0, e);
                assertEquals(expected.getLong(0), y.getLong(o), kind + " " + dtype + " output " + o);
            }
        }
    }

    /** Plain double arithmetic, one value at a time. */
    static double refFloat(R kind, Tensor x, List<Integer> g) {
        double s = 0;
        switch (kind) {
            case SUM: case MEAN: case LOG_SUM:
                for (int i : g) {
                    s += x.getDouble(i);
                }
                return kind == R.SUM ? s : kind == R.MEAN ? s / g.size() : Math.log(s);
            case L1:
                for (int i : g) {
                    s += Math.abs(x.getDouble(i));
                }
                return s;
            case L2: case SUM_SQUARE:
                for (int i : g) {
                    s += x.getDouble(i) * x.getDouble(i);
                }
                return kind == R.L2 ? Math.sqrt(s) : s;
            case PROD:
                s = 1;
                for (int i : g) {
                    s *= x.getDouble(i);
                }
                return s;
            case MAX: case MIN: {
                double m = kind == R.MAX ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
                for (int i : g) {
                    m = kind == R.MAX ? Math.max(m, x.getDouble(i)) : Math.min(m, x.getDouble(i));
                }
                return m;
            }
            default: {
                // naive exp-sum is fine for the small test values
                for (int i : g) {
                    s += Math.exp(x.getDouble(i));
                }
                return Math.log(s);
            }
        }
    }

    /** Exact long arithmetic (wrapping) for sums/products/extrema; double then saturating truncation else. */
    static long refInt(R kind, Tensor x, List<Integer> g, DType d) {
        long s = 0;
        switch (kind) {
            case SUM: case MEAN:
                for (int i : g) {
                    s += x.getLong(i);
                }
                return kind == R.SUM ? s : g.isEmpty() ? 0 : s / g.size();
            case L1:
                for (int i : g) {
                    s += Math.abs(x.getLong(i));
                }
                return s;
            case SUM_SQUARE:
                for (int i : g) {
                    s += x.getLong(i) * x.getLong(i);
                }
                return s;
            case PROD:
                s = 1;
                for (int i : g) {
                    s *= x.getLong(i);
                }
                return s;
            case MAX: {
                long m = minOf(d);
                for (int i : g) {
                    m = Math.max(m, x.getLong(i));
                }
                return m;
            }
            case MIN: {
                long m = maxOf(d);
                for (int i : g) {
                    m = Math.min(m, x.getLong(i));
                }
                return m;
            }
            default: {
                double v = refFloat(kind, x, g);
                if (Double.isNaN(v)) {
                    return 0;
                }
                return (long) Math.max(minOf(d), Math.min(maxOf(d), v));
            }
        }
    }

    static long minOf(DType d) {
        return d == DType.INT32 ? Integer.MIN_VALUE : d == DType.INT64 ? Long.MIN_VALUE : 0;
    }

    static long maxOf(DType d) {
        return d == DType.INT32 ? Integer.MAX_VALUE : d == DType.INT64 ? Long.MAX_VALUE : 255;
    }

    @Example
    void stridedLayoutsWiderThanOneTile() {
        // 700 reduced rows of 50 columns: the kernel moves tiles of 8 columns, the last one partial
        Tensor x = random(DType.FLOAT32, new int[] {3, 700, 50}, new Random(1));
        for (R r : new R[] {R.SUM, R.MAX, R.LOG_SUM_EXP, R.L2}) {
            Tensor y = OneNode.of(op(r)).input(x).constant(Tensor.of(new long[] {1}, 1)).run().get(0);
            assertMatchesReference(r, x, new boolean[] {false, true, false}, true, y);
        }
        Tensor xi = random(DType.INT64, new int[] {2, 300, 20}, new Random(2));
        for (R r : new R[] {R.MIN, R.SUM_SQUARE}) {
            Tensor yi = OneNode.of(op(r)).attr("keepdims", 0).input(xi).constant(Tensor.of(new long[] {1}, 1))
                    .run().get(0);
            assertMatchesReference(r, xi, new boolean[] {false, true, false}, false, yi);
        }
    }

    @Example
    void emptyReductionsFollowTheSpec() {
        Tensor x = Tensor.allocate(DType.FLOAT32, 2, 0, 3);
        Tensor axes = Tensor.of(new long[] {1}, 1);
        float[][] expected = {
            {0}, {Float.NaN}, {Float.NEGATIVE_INFINITY}, {Float.POSITIVE_INFINITY}, {1}, {0}, {0}, {0},
            {Float.NEGATIVE_INFINITY}, {Float.NEGATIVE_INFINITY}};
        for (R r : R.values()) {
            Tensor y = OneNode.of(op(r)).input(x).constant(axes).run().get(0);
            assertArrayEquals(new int[] {2, 1, 3}, y.shape());
            for (float v : y.toFloatArray()) {
                assertEquals(expected[r.ordinal()][0], v, r.toString());
            }
        }
        Tensor xi = Tensor.allocate(DType.INT32, 0, 2);
        Tensor ax0 = Tensor.of(new long[] {0}, 1);
        assertArrayEquals(new long[] {Integer.MIN_VALUE, Integer.MIN_VALUE},
                OneNode.of(Op.ReduceMax).input(xi).constant(ax0).run().get(0).toLongArray());
        assertArrayEquals(new long[] {Integer.MAX_VALUE, Integer.MAX_VALUE},
                OneNode.of(Op.ReduceMin).input(xi).constant(ax0).run().get(0).toLongArray());
        Tensor xu = Tensor.ofBytes(DType.UINT8, new byte[0], 0);
        assertEquals(255, OneNode.of(Op.ReduceMin).attr("keepdims", 0).input(xu).run().get(0).getLong(0));
    }

    @Example
    void boolMaxAndMin() {
        Tensor x = Tensor.of(new boolean[] {true, false, false, true, true, true}, 2, 3);
        Tensor ax = Tensor.of(new long[] {1}, 1);
        Tensor max = OneNode.of(Op.ReduceMax).attr("keepdims", 0).input(x).constant(ax).run().get(0);
        Tensor min = OneNode.of(Op.ReduceMin).attr("keepdims", 0).input(x).constant(ax).run().get(0);
        assertEquals(DType.BOOL, max.dtype());
        assertArrayEquals(new long[] {1, 1}, max.toLongArray());
        assertArrayEquals(new long[] {0, 1}, min.toLongArray());
        assertThrows(UnsupportedModelException.class,
                () -> OneNode.of(Op.ReduceSum).input(x).constant(ax).run());
    }

    @Example
    void unsigned64CompareAndSumUnsigned() {
        Tensor x = Tensor.allocate(DType.UINT64, 3);
        x.setLong(0, 5);
        x.setLong(1, -1L); // 2^64 - 1
        x.setLong(2, 7);
        assertEquals(-1L, OneNode.of(Op.ReduceMax).attr("keepdims", 0).input(x).run().get(0).getLong(0));
        assertEquals(5, OneNode.of(Op.ReduceMin).attr("keepdims", 0).input(x).run().get(0).getLong(0));
        // (2^64 + 11) mod 2^64 = 11; its mean over 3 elements is 3 (unsigned division of the wrapped sum)
        assertEquals(11, OneNode.of(Op.ReduceSum).attr("keepdims", 0).input(x).run().get(0).getLong(0));
    }

    @Example
    void logSumExpIsStableForLargeInputs() {
        Tensor x = Tensor.of(new float[] {1000f, 1000f, -1000f, Float.NEGATIVE_INFINITY}, 4);
        float y = OneNode.of(Op.ReduceLogSumExp).attr("keepdims", 0).input(x).run().get(0).getFloat(0);
        assertEquals(1000 + Math.log(2), y, 1e-3);
        Tensor allNegInf = Tensor.of(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 2);
        assertEquals(Float.NEGATIVE_INFINITY,
                OneNode.of(Op.ReduceLogSumExp).attr("keepdims", 0).input(allNegInf).run().get(0).getFloat(0));
    }

    @Example
    void float32SumsAccumulateInDouble() {
        // 2^24 + 1 + 1 + ... is stuck at 2^24 in float arithmetic
        float[] v = new float[1001];
        v[0] = 16777216f;
        Arrays.fill(v, 1, v.length, 1f);
        float s = OneNode.of(Op.ReduceSum).attr("keepdims", 0).input(Tensor.of(v, v.length)).run().get(0).getFloat(0);
        assertEquals(16777216f + 1000f, s);
    }

    @Example
    void badAxesAreRejectedWithTheNumbers() {
        Tensor x = Tensor.allocate(DType.FLOAT32, 2, 3);
        HedgeException e = assertThrows(HedgeException.class,
                () -> OneNode.of(Op.ReduceSum).input(x).constant(Tensor.of(new long[] {2}, 1)).run());
        assertTrue(e.getMessage().contains("axis 2 is out of range for rank 2"), e.getMessage());
        e = assertThrows(HedgeException.class,
                () -> OneNode.of(Op.ReduceSum).input(x).constant(Tensor.of(new long[] {1, -1}, 2)).run());
        assertTrue(e.getMessage().contains("repeat axis 1"), e.getMessage());
        // the same error when the axes only arrive at run time
        e = assertThrows(HedgeException.class,
                () -> OneNode.of(Op.ReduceMean).input(x).input(Tensor.of(new long[] {-3}, 1)).run());
        assertTrue(e.getMessage().contains("axis -3 is out of range"), e.getMessage());
    }
}
