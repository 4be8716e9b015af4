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
import java.util.Comparator;
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

/** ArgMax/ArgMin and TopK against scalar references; values are drawn from a tiny set so ties are common. */
class ArgTopKTest {

    @Provide
    Arbitrary<DType> dtypes() {
        return Arbitraries.of(DType.FLOAT32, DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.INT32, DType.INT64,
                DType.UINT8, DType.INT8, DType.UINT64);
    }

    static Tensor tieHeavy(DType d, int[] shape, Random rnd) {
        Tensor t = Tensor.allocate(d, shape);
        for (int i = 0; i < t.elementCount(); i++) {
            int v = rnd.nextInt(5) - (d.isSigned() ? 2 : 0);
            if (d.isFloat()) {
                t.setDouble(i, v * 0.5);
            } else {
                t.setLong(i, v);
            }
        }
        return t;
    }

    /** Index of element {@code j} along {@code axis} of slice (outer a, inner i). */
    static int at(int[] shape, int axis, int a, int i, int j) {
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        return (a * shape[axis] + j) * inner + i;
    }

    static int compare(Tensor x, int p, int q) {
        if (x.dtype().isFloat()) {
            return Double.compare(x.getDouble(p), x.getDouble(q));
        }
        return x.dtype() == DType.UINT64 ? Long.compareUnsigned(x.getLong(p), x.getLong(q))
                : Long.compare(x.getLong(p), x.getLong(q));
    }

    @Property(tries = 300)
    void argExtremaMatchALinearScan(
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 1, max = 5) Integer> dims,
            @ForAll @IntRange(min = 0, max = 3) int axisPick, @ForAll boolean negative, @ForAll boolean keepdims,
            @ForAll boolean last, @ForAll boolean max, @ForAll("dtypes") DType dtype, @ForAll long seed) {
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        int rank = shape.length;
        int axis = axisPick % rank;
        Tensor x = tieHeavy(dtype, shape, new Random(seed));
        Tensor y = OneNode.of(max ? Op.ArgMax : Op.ArgMin).attr("axis", negative ? axis - rank : axis)
                .attr("keepdims", keepdims ? 1 : 0).attr("select_last_index", last ? 1 : 0).input(x).run().get(0);
        assertEquals(DType.INT64, y.dtype());
        int[] expShape = keepdims ? shape.clone() : new int[rank - 1];
        if (keepdims) {
            expShape[axis] = 1;
        } else {
            for (int d = 0, j = 0; d < rank; d++) {
                if (d != axis) {
                    expShape[j++] = shape[d];
                }
            }
        }
        assertArrayEquals(expShape, y.shape());
        int outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        int inner = y.elementCount() / outer;
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < inner; i++) {
                int best = 0;
                for (int j = 1; j < shape[axis]; j++) {
                    int c = compare(x, at(shape, axis, a, i, j), at(shape, axis, a, i, best));
                    if (max ? c > 0 || (last && c == 0) : c < 0 || (last && c == 0)) {
                        best = j;
                    }
                }
                assertEquals(best, y.getLong(a * inner + i), "slice " + a + "," + i);
            }
        }
    }

    @Property(tries = 300)
    void topKMatchesAStableSort(
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 1, max = 6) Integer> dims,
            @ForAll @IntRange(min = 0, max = 3) int axisPick, @ForAll @IntRange(min = 0, max = 6) int kPick,
            @ForAll boolean largest, @ForAll boolean constantK, @ForAll("dtypes") DType dtype, @ForAll long seed) {
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        int rank = shape.length;
        int axis = axisPick % rank;
        int k = kPick % (shape[axis] + 1);
        Tensor x = tieHeavy(dtype, shape, new Random(seed));
        OneNode n = OneNode.of(Op.TopK).attr("axis", axis).attr("largest", largest ? 1 : 0).input(x)
                .outputs("values", "indices");
        Tensor kt = Tensor.of(new long[] {k}, 1);
        if (constantK) {
            n.constant(kt);
        } else {
            n.input(kt);
        }
        List<Tensor> out = n.run();
        Tensor values = out.get(0);
        Tensor indices = out.get(1);
        int[] expShape = shape.clone();
        expShape[axis] = k;
        assertArrayEquals(expShape, values.shape());
        assertArrayEquals(expShape, indices.shape());
        assertEquals(dtype, values.dtype());
        assertEquals(DType.INT64, indices.dtype());
        int outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        int inner = x.elementCount() / outer / shape[axis];
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < inner; i++) {
                final int fa = a;
                final int fi = i;
                List<Integer> order = new ArrayList<>();
                for (int j = 0; j < shape[axis]; j++) {
                    order.add(j);
                }
                // List.sort is stable: equal values keep ascending index order
                Comparator<Integer> byValue = (p, q) -> compare(x, at(shape, axis, fa, fi, p), at(shape, axis, fa, fi, q));
                order.sort(largest ? byValue.reversed() : byValue);
                for (int j = 0; j < k; j++) {
                    int o = at(expShape, axis, a, i, j);
                    assertEquals((long) order.get(j), indices.getLong(o), "slice " + a + "," + i + " rank " + j);
                    assertEquals(x.getDouble(at(shape, axis, a, i, order.get(j))), values.getDouble(o));
                }
            }
        }
    }

    @Example
    void stridedLayoutsWiderThanOneTile() {
        // 600 slices of 40 columns: the kernels move tiles of 8 columns at a time
        List<Integer> dims = List.of(2, 600, 40);
        argExtremaMatchALinearScan(dims, 1, false, true, false, true, DType.FLOAT32, 1);
        argExtremaMatchALinearScan(dims, 1, true, false, true, false, DType.INT64, 2);
        topKMatchesAStableSort(dims, 1, 5, true, true, DType.FLOAT32, 3);
        topKMatchesAStableSort(List.of(2, 30, 40), 1, 30, false, false, DType.UINT64, 4);
    }

    @Example
    void topKTiesKeepTheLowerIndexFirst() {
        Tensor x = Tensor.of(new float[] {3, 1, 3, 2, 3, 1}, 6);
        List<Tensor> out = OneNode.of(Op.TopK).input(x).constant(Tensor.of(new long[] {4}, 1))
                .outputs("v", "i").run();
        assertArrayEquals(new float[] {3, 3, 3, 2}, out.get(0).toFloatArray());
        assertArrayEquals(new long[] {0, 2, 4, 3}, out.get(1).toLongArray());
        out = OneNode.of(Op.TopK).attr("largest", 0).input(x).constant(Tensor.of(new long[] {3}, 1))
                .outputs("v", "i").run();
        assertArrayEquals(new float[] {1, 1, 2}, out.get(0).toFloatArray());
        assertArrayEquals(new long[] {1, 5, 3}, out.get(1).toLongArray());
    }

    @Example
    void topKOfALongRowWithSmallK() {
        Random rnd = new Random(7);
        int n = 50_000;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextInt(1000);
        }
        List<Tensor> out = OneNode.of(Op.TopK).input(Tensor.of(v, 1, n)).constant(Tensor.of(new long[] {20}, 1))
                .outputs("v", "i").run();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (p, q) -> Float.compare(v[q], v[p]));
        for (int j = 0; j < 20; j++) {
            assertEquals((long) order[j], out.get(1).getLong(j));
        }
    }

    @Example
    void argMaxPrefersNaNLikeNumpy() {
        Tensor x = Tensor.of(new float[] {1, Float.NaN, 5, Float.NaN}, 4);
        assertEquals(1, OneNode.of(Op.ArgMax).input(x).run().get(0).getLong(0));
        assertEquals(1, OneNode.of(Op.ArgMin).input(x).run().get(0).getLong(0));
    }

    @Example
    void topKRejectsKOutOfRange() {
        Tensor x = Tensor.allocate(DType.FLOAT32, 2, 3);
        HedgeException e = assertThrows(HedgeException.class, () -> OneNode.of(Op.TopK).input(x)
                .constant(Tensor.of(new long[] {4}, 1)).outputs("v", "i").run());
        assertTrue(e.getMessage().contains("K = 4 is out of range for axis 1 of size 3"), e.getMessage());
        e = assertThrows(HedgeException.class, () -> OneNode.of(Op.TopK).input(x)
                .input(Tensor.of(new long[] {-1}, 1)).outputs("v", "i").run());
        assertTrue(e.getMessage().contains("K = -1"), e.getMessage());
    }

    @Example
    void boolInputsAreUnsupported() {
        Tensor x = Tensor.of(new boolean[] {true, false}, 2);
        assertThrows(UnsupportedModelException.class, () -> OneNode.of(Op.ArgMax).input(x).run());
        assertThrows(UnsupportedModelException.class, () -> OneNode.of(Op.TopK).input(x)
                .constant(Tensor.of(new long[] {1}, 1)).outputs("v", "i").run());
    }

    @Example
    void argMaxOfAnEmptyAxisIsAnError() {
        Tensor x = Tensor.allocate(DType.FLOAT32, 2, 0);
        HedgeException e = assertThrows(HedgeException.class,
                () -> OneNode.of(Op.ArgMax).attr("axis", 1).input(x).run());
        assertTrue(e.getMessage().contains("is empty"), e.getMessage());
    }
}
