package dev.hedge.kernels.ref.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.kernels.ref.reduce.OneNode;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
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

/** Softmax, LogSoftmax and Hardmax against a per-slice scalar reference. */
class SoftmaxKernelsTest {

    @Provide
    Arbitrary<DType> dtypes() {
        return Arbitraries.of(DType.FLOAT32, DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16);
    }

    @Provide
    Arbitrary<Op> ops() {
        return Arbitraries.of(Op.Softmax, Op.LogSoftmax, Op.Hardmax);
    }

    @Property(tries = 400)
    void matchesTheScalarReference(
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 1, max = 5) Integer> dims,
            @ForAll @IntRange(min = 0, max = 3) int axisPick, @ForAll boolean negative, @ForAll boolean coerce,
            @ForAll("ops") Op op, @ForAll("dtypes") DType dtype, @ForAll boolean ties, @ForAll long seed) {
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        int rank = shape.length;
        int axis = axisPick % rank;
        Random rnd = new Random(seed);
        Tensor x = Tensor.allocate(dtype, shape);
        for (int i = 0; i < x.elementCount(); i++) {
            // large offsets check that the maximum is subtracted; ties check Hardmax picks the first
            x.setDouble(i, ties ? rnd.nextInt(3) : rnd.nextGaussian() * 4 + (rnd.nextBoolean() ? 80 : -80));
        }
        Tensor y = OneNode.of(op).attr("axis", negative ? axis - rank : axis).attr("coerce_2d", coerce ? 1 : 0)
                .input(x).run().get(0);
        assertArrayEquals(shape, y.shape());
        assertEquals(dtype, y.dtype());
        int outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        int n = coerce ? x.elementCount() / outer : shape[axis];
        int inner = x.elementCount() / outer / n;
        double tol = dtype == DType.FLOAT16 ? 2e-3 : dtype == DType.BFLOAT16 ? 1e-2 : dtype == DType.FLOAT32 ? 2e-6 : 1e-12;
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < inner; i++) {
                double[] v = new double[n];
                for (int j = 0; j < n; j++) {
                    v[j] = x.getDouble((a * n + j) * inner + i);
                }
                double[] e = reference(op, v);
                for (int j = 0; j < n; j++) {
                    double got = y.getDouble((a * n + j) * inner + i);
                    assertTrue(Math.abs(got - e[j]) <= tol * Math.max(1, Math.abs(e[j])),
                            op + " " + dtype + " slice " + a + "," + i + " element " + j + ": " + got + ", expected " + e[j]);
                }
            }
        }
    }

    static double[] reference(Op op, double[] v) {
        int n = v.length;
        double[] r = new double[n];
        if (op == Op.Hardmax) {
            int best = 0;
            for (int j = 1; j < n; j++) {
                if (v[j] > v[best]) {
                    best = j;
                }
            }
            r[best] = 1;
            return r;
        }
        double m = Double.NEGATIVE_INFINITY;
        for (double d : v) {
            m = Math.max(m, d);
        }
        double s = 0;
        for (double d : v) {
            s += Math.exp(d - m);
        }
        for (int j = 0; j < n; j++) {
            r[j] = op == Op.Softmax ? Math.exp(v[j] - m) / s : v[j] - m - Math.log(s);
        }
        return r;
    }

    @Example
    void stridedLayoutsWiderThanOneTile() {
        for (Op op : new Op[] {Op.Softmax, Op.LogSoftmax, Op.Hardmax}) {
            matchesTheScalarReference(List.of(2, 600, 40), 1, false, false, op, DType.FLOAT32, op == Op.Hardmax, 9);
        }
    }

    @Example
    void coerce2dNormalisesOverAllTrailingAxes() {
        // opset < 13: axis=1 on [2,2,2] means rows of 4
        Tensor x = Tensor.of(new float[] {0, 0, 0, 0, 1, 2, 3, 4}, 2, 2, 2);
        float[] y = OneNode.of(Op.Softmax).attr("axis", 1).attr("coerce_2d", 1).input(x).run().get(0).toFloatArray();
        for (int j = 0; j < 4; j++) {
            assertEquals(0.25f, y[j], 1e-7);
        }
        double s = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4);
        assertEquals(Math.exp(4) / s, y[7], 1e-6);
        // opset 13 meaning of the same attribute: pairs along axis 1
        float[] z = OneNode.of(Op.Softmax).attr("axis", 1).input(x).run().get(0).toFloatArray();
        assertEquals(Math.exp(3) / (Math.exp(1) + Math.exp(3)), z[6], 1e-6);
    }

    @Example
    void coerce2dAcceptsTheDefaultAxisOnARank1Input() {
        // Softmax-1 defaults to axis=1; on a vector each "row" is a single element
        Tensor x = Tensor.of(new float[] {3, -1, 7}, 3);
        assertArrayEquals(new float[] {1, 1, 1},
                OneNode.of(Op.Softmax).attr("axis", 1).attr("coerce_2d", 1).input(x).run().get(0).toFloatArray());
    }

    @Example
    void integerInputsAreUnsupported() {
        Tensor x = Tensor.of(new int[] {1, 2, 3}, 3);
        for (Op op : new Op[] {Op.Softmax, Op.LogSoftmax, Op.Hardmax, Op.LayerNormalization, Op.LRN}) {
            OneNode n = OneNode.of(op).input(x);
            if (op == Op.LayerNormalization) {
                n.constant(Tensor.of(new float[] {1, 1, 1}, 3));
            } else if (op == Op.LRN) {
                n.attr("size", 3);
            }
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class, n::run);
            assertTrue(e.getMessage().contains(op + " node 'n': INT32 input is not supported"), e.getMessage());
        }
    }

    @Example
    void largeLogitsDoNotOverflow() {
        Tensor x = Tensor.of(new float[] {1e4f, 1e4f - 1, -1e4f}, 3);
        float[] s = OneNode.of(Op.Softmax).input(x).run().get(0).toFloatArray();
        assertEquals(1 / (1 + Math.exp(-1)), s[0], 1e-6);
        float[] l = OneNode.of(Op.LogSoftmax).input(x).run().get(0).toFloatArray();
        assertEquals(-Math.log1p(Math.exp(-1)), l[0], 1e-5);
        assertEquals(-2e4f, l[2], 1);
    }
}
