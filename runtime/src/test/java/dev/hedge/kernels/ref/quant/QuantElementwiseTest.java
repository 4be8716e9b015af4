package dev.hedge.kernels.ref.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.kernels.util.Shapes;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * QLinearAdd, QLinearMul, QLinearAveragePool, QLinearGlobalAveragePool and 8-bit GlobalMaxPool of the Java
 * backend against the real-valued formulas written out here in double precision: within one unit on random
 * data (scale ratios from 1/1000 to 1000, saturating values, fused Relu / Clip), exactly equal where the
 * real value is an integer.
 */
class QuantElementwiseTest {

    private static long lo(DType t) {
        return t == DType.UINT8 ? 0 : -128;
    }

    private static long hi(DType t) {
        return t == DType.UINT8 ? 255 : 127;
    }

    private static long sat(double v, DType t) {
        return Math.max(lo(t), Math.min(hi(t), (long) Math.rint(v)));
    }

    private static long[] random8(Random r, int n, DType t) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            // Many values at the ends of the range, where saturation happens.
            int k = r.nextInt(8);
            v[i] = k == 0 ? lo(t) : k == 1 ? hi(t) : lo(t) + r.nextInt(256);
        }
        return v;
    }

    /** A scale whose ratio to 1 spans about 10^-3 .. 10^3. */
    private static float randomScale(Random r) {
        return (float) Math.pow(10, -1.5 + 3 * r.nextDouble()) * 0.01f;
    }

    private static int[] randomShape(Random r) {
        int rank = r.nextInt(4);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = 1 + r.nextInt(5);
        }
        return s;
    }

    /** A shape {@code s} broadcasts from: some dimensions set to 1, possibly fewer leading ones. */
    private static int[] broadcastable(Random r, int[] s) {
        int drop = s.length == 0 ? 0 : r.nextInt(s.length + 1);
        int[] b = Arrays.copyOfRange(s, drop, s.length);
        for (int i = 0; i < b.length; i++) {
            if (r.nextInt(3) == 0) {
                b[i] = 1;
            }
        }
        return b;
    }

    private static Tensor scale(float s) {
        return Tensor.scalar(s);
    }

    @Property(tries = 300)
    void binaryWithinOneUnitOfRealFormula(@ForAll long seed) {
        Random r = new Random(seed);
        boolean mul = r.nextBoolean();
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int[] as = randomShape(r);
        int[] bs = broadcastable(r, as);
        if (r.nextBoolean()) {
            int[] tmp = as;
            as = bs;
            bs = tmp;
        }
        int[] out = Shapes.broadcast(as, bs);
        long[] a = random8(r, Shapes.product(as), t);
        long[] b = random8(r, Shapes.product(bs), t);
        float sa = randomScale(r);
        float sb = r.nextInt(4) == 0 ? sa : randomScale(r);
        float sc = mul ? sa * sb * (float) Math.pow(10, -1 + 5 * r.nextDouble()) : randomScale(r);
        long za = lo(t) + r.nextInt(256);
        long zb = lo(t) + r.nextInt(256);
        long zc = lo(t) + r.nextInt(256);
        int actKind = r.nextInt(3);
        float cmin = (float) (sc * (r.nextInt(40) - 20));
        float cmax = cmin + (float) (sc * r.nextInt(200));
        boolean fed = r.nextBoolean();
        QNode n = QNode.of(mul ? Op.QLinearMul : Op.QLinearAdd)
                .arg(QNode.ints(t, a, as), true).constant(scale(sa)).constant(QNode.scalar(t, za))
                .arg(QNode.ints(t, b, bs), fed).constant(scale(sb)).constant(QNode.scalar(t, zb))
                .constant(scale(sc)).constant(QNode.scalar(t, zc));
        if (actKind == 1) {
            n.attr("fused_activation", "Relu");
        } else if (actKind == 2) {
            n.attr("fused_activation", "Clip").attr("fused_alpha", cmin).attr("fused_beta", cmax);
        }
        Tensor y = n.run1();
        assertEquals(t, y.dtype());
        assertArrayEquals(out, y.shape());
        assertEquals(QuantParams.perTensor(sc, zc), y.quant());
        int[] sta = Shapes.broadcastStrides(as, out);
        int[] stb = Shapes.broadcastStrides(bs, out);
        int[] idx = new int[out.length];
        for (int o = 0; o < Shapes.product(out); o++) {
            int ia = 0;
            int ib = 0;
            for (int d = 0, rem = o; d < out.length; d++) {
                int st = Shapes.product(out, d + 1, out.length);
                idx[d] = rem / st;
                rem %= st;
                ia += idx[d] * sta[d];
                ib += idx[d] * stb[d];
            }
            double da = (a[ia] - za) * (double) sa;
            double db = (b[ib] - zb) * (double) sb;
            double f = mul ? da * db : da + db;
            long want = sat(f / sc + zc, t);
            if (actKind == 1) {
                want = Math.max(want, Math.max(zc, lo(t)));
            } else if (actKind == 2) {
                want = Math.max(sat(cmin / sc + zc, t), Math.min(sat(cmax / sc + zc, t), want));
            }
            long got = y.getLong(o);
            long w = want;
            assertTrue(Math.abs(got - w) <= 1, () -> "element " + Arrays.toString(idx) + ": got " + got
                    + ", real formula " + w + " (f / C_scale + zp = " + (f / sc + zc) + ")");
        }
    }

    @Test
    void addExactWhereTheRealValueIsAnInteger() {
        // Scales 0.5, 0.25 -> 1: y = (a - 10) / 2 + (b - 20) / 4 + 100, exact when the sum is a whole number.
        long[] a = {10, 12, 14, 255, 0, 0};
        long[] b = {20, 24, 16, 255, 0, 20};
        Tensor y = QNode.of(Op.QLinearAdd)
                .input(QNode.ints(DType.UINT8, a, 6)).constant(scale(0.5f)).constant(QNode.scalar(DType.UINT8, 10))
                .input(QNode.ints(DType.UINT8, b, 6)).constant(scale(0.25f)).constant(QNode.scalar(DType.UINT8, 20))
                .constant(scale(1f)).constant(QNode.scalar(DType.UINT8, 100)).run1();
        // 100, 100+1+1, 100+2-1, 100+122.5+58.75 -> saturates, 100-5-5, 100-5+0
        assertArrayEquals(new long[] {100, 102, 101, 255, 90, 95}, longs(y));
    }

    @Test
    void addSaturatesAtBothEndsOfInt8() {
        long[] a = {127, -128, 127, -128};
        long[] b = {127, -128, -128, 127};
        Tensor y = QNode.of(Op.QLinearAdd)
                .input(QNode.ints(DType.INT8, a, 4)).constant(scale(1f)).constant(QNode.scalar(DType.INT8, 0))
                .input(QNode.ints(DType.INT8, b, 4)).constant(scale(1f)).constant(QNode.scalar(DType.INT8, 0))
                .constant(scale(1f)).constant(QNode.scalar(DType.INT8, 0)).run1();
        assertArrayEquals(new long[] {127, -128, -1, -1}, longs(y));
    }

    @Test
    void mulExactAndSaturatingAndRelu() {
        // A_scale * B_scale / C_scale = 1/16 * 1/16 * 256 = 1: y = (a - 8)(b - 8) + zc
        long[] a = {8, 9, 10, 0, 255, 3};
        long[] b = {100, 9, 7, 0, 255, 11};
        Tensor y = QNode.of(Op.QLinearMul)
                .input(QNode.ints(DType.UINT8, a, 6)).constant(scale(1f / 16)).constant(QNode.scalar(DType.UINT8, 8))
                .input(QNode.ints(DType.UINT8, b, 6)).constant(scale(1f / 16)).constant(QNode.scalar(DType.UINT8, 8))
                .constant(scale(1f / 256)).constant(QNode.scalar(DType.UINT8, 20))
                .attr("fused_activation", "Relu").run1();
        // 0, 1, -2, 64, 247*247, -15 -> +20, clamp [20, 255]
        assertArrayEquals(new long[] {20, 21, 20, 84, 255, 20}, longs(y));
    }

    @Test
    void mulBroadcastsAPerChannelScalar() {
        long[] a = {1, 2, 3, 4, 5, 6};
        long[] b = {2, -1};
        Tensor y = QNode.of(Op.QLinearMul)
                .input(QNode.ints(DType.INT8, a, 1, 2, 3)).constant(scale(0.5f)).constant(QNode.scalar(DType.INT8, 0))
                .constant(QNode.ints(DType.INT8, b, 1, 2, 1)).constant(scale(2f)).constant(QNode.scalar(DType.INT8, 0))
                .constant(scale(1f)).constant(QNode.scalar(DType.INT8, 0)).run1();
        assertArrayEquals(new long[] {2, 4, 6, -4, -5, -6}, longs(y));
    }

    @Test
    void omittedZeroPointsAreZero() {
        Tensor y = QNode.of(Op.QLinearAdd)
                .input(QNode.ints(DType.UINT8, new long[] {3, 200}, 2)).constant(scale(1f)).omitted()
                .input(QNode.ints(DType.UINT8, new long[] {4, 100}, 2)).constant(scale(1f)).omitted()
                .constant(scale(1f)).run1();
        assertEquals(DType.UINT8, y.dtype());
        assertArrayEquals(new long[] {7, 255}, longs(y));
    }

    @Test
    void badParametersAreNamed() {
        HedgeException e = assertThrows(HedgeException.class, () -> QNode.of(Op.QLinearAdd)
                .input(QNode.ints(DType.UINT8, new long[] {3}, 1)).constant(scale(1f)).constant(QNode.scalar(DType.INT8, 0))
                .input(QNode.ints(DType.UINT8, new long[] {4}, 1)).constant(scale(1f)).omitted()
                .constant(scale(1f)).run1());
        assertTrue(e.getMessage().contains("A_zero_point"), e.getMessage());
        e = assertThrows(HedgeException.class, () -> QNode.of(Op.QLinearMul)
                .input(QNode.ints(DType.UINT8, new long[] {3}, 1)).constant(scale(0f)).omitted()
                .input(QNode.ints(DType.UINT8, new long[] {4}, 1)).constant(scale(1f)).omitted()
                .constant(scale(1f)).run1());
        assertTrue(e.getMessage().contains("A_scale"), e.getMessage());
        e = assertThrows(HedgeException.class, () -> QNode.of(Op.QLinearAdd)
                .input(QNode.ints(DType.UINT8, new long[] {3}, 1))
                .constant(QNode.floats(DType.FLOAT32, new float[] {1, 2}, 2)).omitted()
                .input(QNode.ints(DType.UINT8, new long[] {4}, 1)).constant(scale(1f)).omitted()
                .constant(scale(1f)).run1());
        assertTrue(e.getMessage().contains("A_scale") && e.getMessage().contains("per-tensor"), e.getMessage());
        e = assertThrows(HedgeException.class, () -> QNode.of(Op.QLinearAdd)
                .input(QNode.ints(DType.UINT8, new long[] {3, 4, 5}, 3)).constant(scale(1f)).omitted()
                .input(QNode.ints(DType.UINT8, new long[] {4, 5}, 2)).constant(scale(1f)).omitted()
                .constant(scale(1f)).run1());
        assertTrue(e.getMessage().contains("broadcast"), e.getMessage());
    }

    @Property(tries = 150)
    void averagePoolWithinOneUnitOfRealFormula(@ForAll long seed) {
        Random r = new Random(seed);
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int c = 1 + r.nextInt(3);
        int h = 1 + r.nextInt(7);
        int w = 1 + r.nextInt(7);
        int kh = 1 + r.nextInt(Math.min(3, h));
        int kw = 1 + r.nextInt(Math.min(3, w));
        int sh = 1 + r.nextInt(2);
        int sw = 1 + r.nextInt(2);
        int[] pads = {r.nextInt(kh), r.nextInt(kw), r.nextInt(kh), r.nextInt(kw)};
        boolean countPad = r.nextBoolean();
        long[] x = random8(r, c * h * w, t);
        float sx = randomScale(r);
        float sy = randomScale(r);
        long zx = lo(t) + r.nextInt(256);
        long zy = lo(t) + r.nextInt(256);
        Tensor y = QNode.of(Op.QLinearAveragePool)
                .input(QNode.ints(t, x, 1, c, h, w)).constant(scale(sx)).constant(QNode.scalar(t, zx))
                .constant(scale(sy)).constant(QNode.scalar(t, zy))
                .attr("kernel_shape", new long[] {kh, kw}).attr("strides", new long[] {sh, sw})
                .attr("pads", Arrays.stream(pads).asLongStream().toArray())
                .attr("count_include_pad", countPad ? 1 : 0).run1();
        int oh = (h + pads[0] + pads[2] - kh) / sh + 1;
        int ow = (w + pads[1] + pads[3] - kw) / sw + 1;
        assertArrayEquals(new int[] {1, c, oh, ow}, y.shape());
        assertEquals(QuantParams.perTensor(sy, zy), y.quant());
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double sum = 0;
                    int inside = 0;
                    for (int u = 0; u < kh; u++) {
                        for (int v = 0; v < kw; v++) {
                            int yy = i * sh - pads[0] + u;
                            int xx = j * sw - pads[1] + v;
                            if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                                sum += (x[(ch * h + yy) * w + xx] - zx) * (double) sx;
                                inside++;
                            }
                        }
                    }
                    int n = countPad ? kh * kw : inside;
                    long want = sat(sum / n / sy + zy, t);
                    long got = y.getLong((ch * oh + i) * ow + j);
                    int fi = i;
                    int fj = j;
                    assertTrue(Math.abs(got - want) <= 1, () -> "output (" + fi + ", " + fj + "): got " + got
                            + ", real formula " + want);
                }
            }
        }
    }

    @Property(tries = 100)
    void globalAveragePoolWithinOneUnitOfRealFormula(@ForAll long seed) {
        Random r = new Random(seed);
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int n = 1 + r.nextInt(2);
        int c = 1 + r.nextInt(4);
        int hw = 1 + r.nextInt(300);
        long[] x = random8(r, n * c * hw, t);
        float sx = randomScale(r);
        float sy = r.nextBoolean() ? sx : randomScale(r);
        long zx = lo(t) + r.nextInt(256);
        long zy = lo(t) + r.nextInt(256);
        Tensor y = QNode.of(Op.QLinearGlobalAveragePool)
                .input(QNode.ints(t, x, n, c, hw, 1)).constant(scale(sx)).constant(QNode.scalar(t, zx))
                .constant(scale(sy)).constant(QNode.scalar(t, zy)).run1();
        assertArrayEquals(new int[] {n, c, 1, 1}, y.shape());
        for (int p = 0; p < n * c; p++) {
            double sum = 0;
            for (int e = 0; e < hw; e++) {
                sum += (x[p * hw + e] - zx) * (double) sx;
            }
            long want = sat(sum / hw / sy + zy, t);
            long got = y.getLong(p);
            assertTrue(Math.abs(got - want) <= 1, "plane " + p + ": got " + got + ", real formula " + want);
        }
    }

    @Test
    void globalAveragePoolExact() {
        // (1+2+3+6)/4 = 3 -> 3 * 0.2 / 0.1 + 7 = 13; the second plane saturates.
        long[] x = {1, 2, 3, 6, 250, 250, 250, 250};
        Tensor y = QNode.of(Op.QLinearGlobalAveragePool)
                .input(QNode.ints(DType.UINT8, x, 1, 2, 2, 2)).constant(scale(0.2f)).constant(QNode.scalar(DType.UINT8, 0))
                .constant(scale(0.1f)).constant(QNode.scalar(DType.UINT8, 7)).run1();
        assertArrayEquals(new long[] {13, 255}, longs(y));
    }

    @Test
    void averagePoolExactWithPadding() {
        // 2x2 windows, stride 2, one pad on top/left, zero point 4: padding counts as the real 0 (= 4).
        long[] x = {8, 12, 16, 20};
        Tensor y = QNode.of(Op.QLinearAveragePool)
                .input(QNode.ints(DType.INT8, x, 1, 1, 2, 2)).constant(scale(1f)).constant(QNode.scalar(DType.INT8, 4))
                .constant(scale(1f)).constant(QNode.scalar(DType.INT8, 0))
                .attr("kernel_shape", new long[] {2, 2}).attr("strides", new long[] {2, 2})
                .attr("pads", new long[] {1, 1, 1, 1}).attr("count_include_pad", 1).run1();
        // windows: {8}, {12, 16}... with -4: (4)/4=1, (8)/4=2, (12)/4=3, (16)/4=4
        assertArrayEquals(new long[] {1, 2, 3, 4}, longs(y));
    }

    @Test
    void globalMaxPoolOfBytesKeepsQuantization() {
        long[] x = {-5, 7, -128, -3, 100, 127};
        Tensor in = QNode.ints(DType.INT8, x, 2, 1, 3);
        Tensor y = QNode.of(Op.GlobalMaxPool).input(in).run1();
        assertEquals(DType.INT8, y.dtype());
        assertArrayEquals(new int[] {2, 1, 1}, y.shape());
        assertArrayEquals(new long[] {7, 127}, longs(y));
        long[] u = {200, 7, 255, 0};
        assertArrayEquals(new long[] {200, 255},
                longs(QNode.of(Op.GlobalMaxPool).input(QNode.ints(DType.UINT8, u, 2, 1, 2)).run1()));
    }

    private static long[] longs(Tensor t) {
        long[] v = new long[t.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.getLong(i);
        }
        return v;
    }
}
