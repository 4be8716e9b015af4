package dev.hedge.kernels.ref.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear against scalar references written from the ONNX text. */
class QuantizeDequantizeTest {

    private static final DType[] QTYPES = {DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT4, DType.UINT4};

    @Test
    void quantizeRoundsHalfToEvenAndSaturates() {
        Tensor x = Tensor.of(new float[] {0, 2, 3, 5, 1000, -254, -300, 7}, 8);
        Tensor y = QNode.of(Op.QuantizeLinear).input(x).constant(Tensor.scalar(2f))
                .constant(QNode.scalar(DType.UINT8, 128)).run1();
        assertEquals(DType.UINT8, y.dtype());
        // 3/2 = 1.5 -> 2, 5/2 = 2.5 -> 2, 7/2 = 3.5 -> 4
        assertArrayEquals(new long[] {128, 129, 130, 130, 255, 1, 0, 132}, y.toLongArray());
    }

    @Test
    void quantizeWithoutZeroPointIsUint8OrOutputDtype() {
        Tensor x = Tensor.of(new float[] {-1, 0.4f, 0.6f, 300}, 4);
        assertArrayEquals(new long[] {0, 0, 1, 255},
                QNode.of(Op.QuantizeLinear).input(x).constant(Tensor.scalar(1f)).run1().toLongArray());
        Tensor y = QNode.of(Op.QuantizeLinear).input(x).constant(Tensor.scalar(1f)).attr("output_dtype", 22L).run1();
        assertEquals(DType.INT4, y.dtype());
        assertArrayEquals(new long[] {-1, 0, 1, 7}, y.toLongArray());
    }

    @Test
    void dequantizePerAxisAndBlocked() {
        Tensor q = QNode.ints(DType.INT8, new long[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor s = Tensor.of(new float[] {0.5f, 2f}, 2);
        Tensor y = QNode.of(Op.DequantizeLinear).input(q).constant(s)
                .constant(QNode.ints(DType.INT8, new long[] {1, -1}, 2)).attr("axis", 0L).run1();
        assertArrayEquals(new float[] {0f, 0.5f, 1f, 10f, 12f, 14f}, y.toFloatArray());
        // blocks of 2 along axis 1: scale shape [2, 2]
        Tensor bs = Tensor.of(new float[] {1f, 10f, 100f, 1000f}, 2, 2);
        Tensor yb = QNode.of(Op.DequantizeLinear).input(q).constant(bs).attr("axis", 1L).attr("block_size", 2L).run1();
        assertArrayEquals(new float[] {1f, 2f, 30f, 400f, 500f, 6000f}, yb.toFloatArray());
    }

    @Test
    void badScaleShapeNamesTheNodeAndShapes() {
        Tensor q = QNode.ints(DType.INT8, new long[] {1, 2, 3, 4, 5, 6}, 2, 3);
        HedgeException e = assertThrows(HedgeException.class, () -> QNode.of(Op.DequantizeLinear).input(q)
                .constant(Tensor.of(new float[] {1, 2, 3, 4}, 4)).attr("axis", 1L).run1());
        assertTrue(e.getMessage().contains("DequantizeLinear node 'n'") && e.getMessage().contains("[4]")
                && e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    /** Random shapes, modes (per tensor, per axis, blocked), types and fed or constant parameters. */
    @Property(tries = 150)
    void quantizeAndDequantizeMatchScalarReference(@ForAll long seed) {
        Random r = new Random(seed);
        int rank = 1 + r.nextInt(4);
        int[] shape = new int[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = 1 + r.nextInt(5);
        }
        int n = Tensor.elementCount(shape);
        DType qt = QTYPES[r.nextInt(QTYPES.length)];
        long lo = QTypes.min(qt);
        long hi = QTypes.max(qt);
        int mode = r.nextInt(3);
        int axis = r.nextInt(rank);
        int block = 1 + r.nextInt(3);
        int[] sShape;
        if (mode == 0) {
            sShape = new int[0];
        } else if (mode == 1) {
            sShape = new int[] {shape[axis]};
        } else {
            sShape = shape.clone();
            sShape[axis] = (shape[axis] + block - 1) / block;
        }
        int sn = Tensor.elementCount(sShape);
        float[] scales = new float[sn];
        long[] zps = new long[sn];
        for (int i = 0; i < sn; i++) {
            scales[i] = 0.01f + r.nextFloat() * 2;
            zps[i] = lo + (long) (r.nextDouble() * (hi - lo + 1));
        }
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int si = scaleIndex(shape, i, mode, axis, block, sShape);
            // mostly in range, some saturating, some exact ties
            double q = (r.nextDouble() * 1.4 - 0.7) * (hi - lo) * 1.3;
            x[i] = r.nextInt(5) == 0 ? (float) ((Math.floor(q) + 0.5) * scales[si]) : (float) (q * scales[si]);
        }
        Tensor xt = Tensor.of(x, shape);
        Tensor st = Tensor.of(scales, sShape);
        Tensor zt = QNode.ints(qt, zps, sShape);
        boolean fed = r.nextBoolean();
        QNode qn = QNode.of(Op.QuantizeLinear).input(xt).arg(st, fed).arg(zt, fed).attr("axis", (long) axis);
        if (mode == 2) {
            qn.attr("block_size", (long) block);
        }
        Tensor y = qn.run1();
        assertEquals(qt, y.dtype());
        long[] got = y.toLongArray();
        for (int i = 0; i < n; i++) {
            int si = scaleIndex(shape, i, mode, axis, block, sShape);
            float v = x[i] / scales[si];
            double rounded = Math.rint(v) + zps[si];
            long expected = (long) Math.max(lo, Math.min(hi, rounded));
            assertEquals(expected, got[i], "element " + i + " x=" + x[i] + " scale=" + scales[si]);
        }
        QNode dn = QNode.of(Op.DequantizeLinear).input(y).arg(st, fed).arg(zt, fed).attr("axis", (long) axis);
        if (mode == 2) {
            dn.attr("block_size", (long) block);
        }
        float[] back = dn.run1().toFloatArray();
        for (int i = 0; i < n; i++) {
            int si = scaleIndex(shape, i, mode, axis, block, sShape);
            assertEquals((float) (got[i] - zps[si]) * scales[si], back[i], 0f, "element " + i);
        }
    }

    /** The scale index of flat element {@code e} from its coordinates. */
    private static int scaleIndex(int[] shape, int e, int mode, int axis, int block, int[] sShape) {
        if (mode == 0) {
            return 0;
        }
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = e % shape[d];
            e /= shape[d];
        }
        if (mode == 1) {
            return c[axis];
        }
        c[axis] /= block;
        int idx = 0;
        for (int d = 0; d < shape.length; d++) {
            idx = idx * sShape[d] + c[d];
        }
        return idx;
    }

    @Property(tries = 100)
    void dequantizeInt32AndInt4(@ForAll long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(9);
        long[] q = new long[n];
        long[] q4 = new long[n];
        for (int i = 0; i < n; i++) {
            q[i] = r.nextInt();
            q4[i] = r.nextInt(16) - 8;
        }
        float s = 0.001f + r.nextFloat();
        float[] y = QNode.of(Op.DequantizeLinear).input(QNode.ints(DType.INT32, q, n)).constant(Tensor.scalar(s))
                .run1().toFloatArray();
        float[] y4 = QNode.of(Op.DequantizeLinear).input(QNode.ints(DType.INT4, q4, n)).constant(Tensor.scalar(s))
                .constant(QNode.scalar(DType.INT4, 3)).run1().toFloatArray();
        for (int i = 0; i < n; i++) {
            assertEquals((float) q[i] * s, y[i], 0f);
            assertEquals((float) (q4[i] - 3) * s, y4[i], 0f);
        }
    }

    @Property(tries = 100)
    void dynamicQuantizeLinearMatchesTheOnnxFormula(@ForAll long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(40);
        float[] x = new float[n];
        float shift = (float) (r.nextGaussian() * 3);
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 4) + shift;
        }
        var out = QNode.of(Op.DynamicQuantizeLinear).input(Tensor.of(x, n)).outputs(3).run();
        float min = 0;
        float max = 0;
        for (float v : x) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float scale = (max - min) / 255f;
        long zp = (long) Math.rint(Math.max(0f, Math.min(255f, 0f - min / scale)));
        assertEquals(scale, out.get(1).getFloat(0), 0f);
        assertEquals(zp, out.get(2).getLong(0));
        long[] y = out.get(0).toLongArray();
        for (int i = 0; i < n; i++) {
            assertEquals((long) Math.max(0, Math.min(255, Math.rint(x[i] / scale) + zp)), y[i], "element " + i);
        }
    }

    @Test
    void dynamicQuantizeOfZerosGivesZeros() {
        var out = QNode.of(Op.DynamicQuantizeLinear).input(Tensor.of(new float[4], 4)).outputs(3).run();
        assertArrayEquals(new long[4], out.get(0).toLongArray());
        assertEquals(0f, out.get(1).getFloat(0));
        assertEquals(0, out.get(2).getLong(0));
    }
}
