package dev.hedge.kernels.ref.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * QLinearConv, ConvInteger, QLinearMatMul and MatMulInteger against direct scalar loops (a seven-deep
 * convolution loop, a triple matmul loop) with the requantization written out from its definition.
 */
class IntegerLinalgTest {

    /** The requantization, restated: float32 multiplier, float32 product, round half even, zero point, clamp. */
    private static long requant(long acc, float xs, float ws, float ys, long zp, long lo, long hi) {
        float m = xs * ws / ys;
        float v = (float) acc * m;
        return Math.max(lo, Math.min(hi, (long) Math.rint(v) + zp));
    }

    private static long[] randomInts(Random r, int n, DType t) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = t == DType.UINT8 ? r.nextInt(256) : r.nextInt(256) - 128;
        }
        return v;
    }

    private static DType eightBit(Random r) {
        return r.nextBoolean() ? DType.UINT8 : DType.INT8;
    }

    @Property(tries = 120)
    void convMatchesDirectLoops(@ForAll long seed) {
        Random r = new Random(seed);
        boolean qlinear = r.nextBoolean();
        int rank = 1 + r.nextInt(3);
        int groups = 1 + r.nextInt(3);
        boolean depthwise = r.nextInt(4) == 0;
        int cg = depthwise ? 1 : 1 + r.nextInt(3);
        int mg = 1 + r.nextInt(3);
        int c = cg * groups;
        int m = mg * groups;
        int batch = 1 + r.nextInt(2);
        int[] in = new int[rank];
        int[] k = new int[rank];
        int[] st = new int[rank];
        int[] dl = new int[rank];
        int[] pads = new int[2 * rank];
        for (int i = 0; i < rank; i++) {
            in[i] = (rank == 3 ? 2 : 3) + r.nextInt(rank == 3 ? 3 : 5);
            k[i] = 1 + r.nextInt(3);
            st[i] = 1 + r.nextInt(2);
            dl[i] = 1 + r.nextInt(2);
            pads[i] = r.nextInt(2);
            pads[rank + i] = r.nextInt(2);
            while ((k[i] - 1) * dl[i] + 1 > in[i] + pads[i] + pads[rank + i]) {
                dl[i] = 1;
                k[i] = 1;
            }
        }
        String autoPad = new String[] {"NOTSET", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"}[r.nextInt(5)];
        int[] xShape = new int[rank + 2];
        xShape[0] = batch;
        xShape[1] = c;
        int[] wShape = new int[rank + 2];
        wShape[0] = m;
        wShape[1] = cg;
        for (int i = 0; i < rank; i++) {
            xShape[2 + i] = in[i];
            wShape[2 + i] = k[i];
        }
        if (autoPad.equals("VALID")) {
            boolean fits = true;
            for (int i = 0; i < rank; i++) {
                fits &= (k[i] - 1) * dl[i] + 1 <= in[i];
            }
            if (!fits) {
                autoPad = "NOTSET";
            }
        }
        // resolved pads and output sizes, the ONNX way
        int[] pb = new int[rank];
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int span = (k[i] - 1) * dl[i] + 1;
            switch (autoPad) {
                case "VALID": pb[i] = 0; out[i] = (in[i] - span) / st[i] + 1; break;
                case "NOTSET": pb[i] = pads[i]; out[i] = (in[i] + pads[i] + pads[rank + i] - span) / st[i] + 1; break;
                default: {
                    out[i] = (in[i] + st[i] - 1) / st[i];
                    int total = Math.max(0, (out[i] - 1) * st[i] + span - in[i]);
                    pb[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                }
            }
        }
        DType xt = eightBit(r);
        DType wt = eightBit(r);
        DType yt = eightBit(r);
        int xn = Tensor.elementCount(xShape);
        int wn = Tensor.elementCount(wShape);
        long[] x = randomInts(r, xn, xt);
        long[] w = randomInts(r, wn, wt);
        long xz = randomInts(r, 1, xt)[0];
        boolean perChannel = r.nextBoolean();
        long[] wz = randomInts(r, perChannel ? m : 1, wt);
        float xs = 0.001f + r.nextFloat() * 0.05f;
        float[] ws = new float[perChannel ? m : 1];
        for (int i = 0; i < ws.length; i++) {
            ws[i] = 0.001f + r.nextFloat() * 0.05f;
        }
        float ys = 0.01f + r.nextFloat() * 0.5f;
        long yz = randomInts(r, 1, yt)[0];
        boolean hasBias = r.nextBoolean();
        long[] bias = new long[m];
        for (int i = 0; i < m; i++) {
            bias[i] = r.nextInt(20001) - 10000;
        }
        String act = qlinear ? new String[] {"", "", "Relu", "Clip"}[r.nextInt(4)] : "";
        float clipLo = -0.5f - r.nextFloat();
        float clipHi = 0.5f + r.nextFloat();
        boolean fedW = r.nextBoolean();
        int[] shapeW = wShape;
        int[] shapeWz = perChannel ? new int[] {m} : new int[0];

        QNode q = QNode.of(qlinear ? Op.QLinearConv : Op.ConvInteger);
        q.input(QNode.ints(xt, x, xShape));
        if (qlinear) {
            q.constant(Tensor.scalar(xs)).constant(QNode.scalar(xt, xz)).arg(QNode.ints(wt, w, shapeW), fedW)
                    .arg(Tensor.of(ws, perChannel ? new int[] {m} : new int[0]), fedW)
                    .arg(QNode.ints(wt, wz, shapeWz), fedW).constant(Tensor.scalar(ys))
                    .constant(QNode.scalar(yt, yz));
            if (hasBias) {
                q.arg(QNode.ints(DType.INT32, bias, m), fedW);
            }
        } else {
            q.arg(QNode.ints(wt, w, shapeW), fedW).constant(QNode.scalar(xt, xz))
                    .arg(QNode.ints(wt, wz, shapeWz), fedW);
        }
        q.attr("group", (long) groups).attr("strides", toLongs(st)).attr("dilations", toLongs(dl))
                .attr("auto_pad", autoPad);
        if (autoPad.equals("NOTSET")) {
            q.attr("pads", toLongs(pads));
        }
        if (!act.isEmpty()) {
            q.attr("fused_activation", act);
            if (act.equals("Clip")) {
                q.attr("fused_alpha", clipLo).attr("fused_beta", clipHi);
            }
        }
        Tensor y = q.run1();

        int[] yShape = new int[rank + 2];
        yShape[0] = batch;
        yShape[1] = m;
        for (int i = 0; i < rank; i++) {
            yShape[2 + i] = out[i];
        }
        assertArrayEquals(yShape, y.shape());
        assertEquals(qlinear ? yt : DType.INT32, y.dtype());
        long[] got = y.toLongArray();
        long qlo = yt == DType.UINT8 ? 0 : -128;
        long qhi = yt == DType.UINT8 ? 255 : 127;
        if (act.equals("Relu")) {
            qlo = Math.max(qlo, yz);
        } else if (act.equals("Clip")) {
            long a = Math.max(qlo, Math.min(qhi, (long) Math.rint(clipLo / ys) + yz));
            long b = Math.max(qlo, Math.min(qhi, (long) Math.rint(clipHi / ys) + yz));
            qlo = a;
            qhi = b;
        }
        int[] o3 = pad3(out);
        int[] i3 = pad3(in);
        int[] k3 = pad3(k);
        int[] s3 = pad3(st);
        int[] d3 = pad3(dl);
        int[] p3 = new int[3];
        System.arraycopy(pb, 0, p3, 3 - rank, rank);
        int e = 0;
        for (int b = 0; b < batch; b++) {
            for (int oc = 0; oc < m; oc++) {
                int grp = oc / mg;
                for (int od = 0; od < o3[0]; od++) {
                    for (int oh = 0; oh < o3[1]; oh++) {
                        for (int ow = 0; ow < o3[2]; ow++, e++) {
                            long acc = 0;
                            for (int ic = 0; ic < cg; ic++) {
                                int ch = grp * cg + ic;
                                for (int kd = 0; kd < k3[0]; kd++) {
                                    for (int kh = 0; kh < k3[1]; kh++) {
                                        for (int kw = 0; kw < k3[2]; kw++) {
                                            int id = od * s3[0] - p3[0] + kd * d3[0];
                                            int ih = oh * s3[1] - p3[1] + kh * d3[1];
                                            int iw = ow * s3[2] - p3[2] + kw * d3[2];
                                            if (id < 0 || id >= i3[0] || ih < 0 || ih >= i3[1] || iw < 0
                                                    || iw >= i3[2]) {
                                                continue;
                                            }
                                            long xv = x[(((b * c + ch) * i3[0] + id) * i3[1] + ih) * i3[2] + iw];
                                            long wv = w[(((oc * cg + ic) * k3[0] + kd) * k3[1] + kh) * k3[2] + kw];
                                            acc += (xv - xz) * (wv - wz[perChannel ? oc : 0]);
                                        }
                                    }
                                }
                            }
                            long expected = qlinear ? requant(acc + (hasBias ? bias[oc] : 0), xs,
                                    ws[perChannel ? oc : 0], ys, yz, qlo, qhi) : acc;
                            assertEquals(expected, got[e], "output " + e + " of " + Arrays.toString(yShape));
                        }
                    }
                }
            }
        }
    }

    private static int[] pad3(int[] v) {
        int[] r = {1, 1, 1};
        System.arraycopy(v, 0, r, 3 - v.length, v.length);
        return r;
    }

    private static long[] toLongs(int[] v) {
        return Arrays.stream(v).asLongStream().toArray();
    }

    @Property(tries = 120)
    void matmulMatchesTripleLoop(@ForAll long seed) {
        Random r = new Random(seed);
        boolean qlinear = r.nextBoolean();
        int m = 1 + r.nextInt(5);
        int k = 1 + r.nextInt(7);
        int n = 1 + r.nextInt(5);
        // batch shapes that broadcast: [bA] vs [bB] with one of them possibly 1 or absent
        int batch = 1 + r.nextInt(3);
        int aBatch = r.nextInt(3) == 0 ? 0 : (r.nextBoolean() ? batch : 1);
        int bBatch = r.nextInt(3) == 0 ? 0 : (r.nextBoolean() ? batch : 1);
        boolean aVector = aBatch == 0 && r.nextInt(4) == 0;
        boolean bVector = bBatch == 0 && !aVector && r.nextInt(4) == 0;
        if (aVector) {
            m = 1;
        }
        if (bVector) {
            n = 1;
        }
        int[] aShape = aVector ? new int[] {k} : aBatch == 0 ? new int[] {m, k} : new int[] {aBatch, m, k};
        int[] bShape = bVector ? new int[] {k} : bBatch == 0 ? new int[] {k, n} : new int[] {bBatch, k, n};
        int outBatch = Math.max(aBatch, bBatch);
        DType at = eightBit(r);
        DType bt = eightBit(r);
        DType yt = eightBit(r);
        long[] a = randomInts(r, Tensor.elementCount(aShape), at);
        long[] b = randomInts(r, Tensor.elementCount(bShape), bt);
        boolean perRow = !aVector && !qlinear && r.nextBoolean();
        boolean perCol = !bVector && r.nextBoolean();
        long[] az = randomInts(r, perRow ? m : 1, at);
        long[] bz = randomInts(r, perCol ? n : 1, bt);
        float as = 0.001f + r.nextFloat() * 0.05f;
        float[] bs = new float[perCol ? n : 1];
        for (int i = 0; i < bs.length; i++) {
            bs[i] = 0.001f + r.nextFloat() * 0.05f;
        }
        float ys = 0.01f + r.nextFloat() * 0.3f;
        long yz = randomInts(r, 1, yt)[0];
        boolean hasBias = qlinear && r.nextBoolean();
        long[] bias = new long[n];
        for (int i = 0; i < n; i++) {
            bias[i] = r.nextInt(4001) - 2000;
        }
        boolean relu = qlinear && r.nextBoolean();
        boolean fedB = r.nextBoolean();
        int[] bzShape = perCol ? new int[] {n} : new int[0];
        QNode q = QNode.of(qlinear ? Op.QLinearMatMul : Op.MatMulInteger);
        if (qlinear) {
            q.input(QNode.ints(at, a, aShape)).constant(Tensor.scalar(as)).constant(QNode.scalar(at, az[0]))
                    .arg(QNode.ints(bt, b, bShape), fedB).arg(Tensor.of(bs, perCol ? new int[] {n} : new int[0]), fedB)
                    .arg(QNode.ints(bt, bz, bzShape), fedB).constant(Tensor.scalar(ys))
                    .constant(QNode.scalar(yt, yz));
            if (hasBias) {
                q.constant(QNode.ints(DType.INT32, bias, n));
            }
            if (relu) {
                q.attr("fused_activation", "Relu");
            }
        } else {
            q.input(QNode.ints(at, a, aShape)).arg(QNode.ints(bt, b, bShape), fedB)
                    .constant(QNode.ints(at, az, perRow ? new int[] {m} : new int[0]))
                    .arg(QNode.ints(bt, bz, bzShape), fedB);
        }
        Tensor y = q.run1();
        int batches = Math.max(1, outBatch);
        long[] got = y.toLongArray();
        assertEquals(batches * m * n, got.length, Arrays.toString(y.shape()));
        long qlo = yt == DType.UINT8 ? 0 : -128;
        long qhi = yt == DType.UINT8 ? 255 : 127;
        if (relu) {
            qlo = Math.max(qlo, yz);
        }
        for (int bi = 0; bi < batches; bi++) {
            int ab = aBatch > 1 ? bi : 0;
            int bb = bBatch > 1 ? bi : 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    long acc = 0;
                    for (int kk = 0; kk < k; kk++) {
                        acc += (a[(ab * m + i) * k + kk] - az[perRow ? i : 0])
                                * (b[(bb * k + kk) * n + j] - bz[perCol ? j : 0]);
                    }
                    long expected = qlinear ? requant(acc + (hasBias ? bias[j] : 0), as, bs[perCol ? j : 0], ys, yz,
                            qlo, qhi) : acc;
                    assertEquals(expected, got[(bi * m + i) * n + j], "batch " + bi + " row " + i + " col " + j);
                }
            }
        }
    }

    @Test
    void qlinearMatMulOutputShapeDropsVectorDimensions() {
        Tensor a = QNode.ints(DType.UINT8, new long[] {1, 2, 3}, 3);
        Tensor b = QNode.ints(DType.INT8, new long[] {1, 0, 0, 1, 1, 1}, 3, 2);
        Tensor y = QNode.of(Op.MatMulInteger).input(a).constant(b).run1();
        assertArrayEquals(new int[] {2}, y.shape());
        assertArrayEquals(new long[] {4, 5}, y.toLongArray());
    }

    @Test
    void requantizationRoundsTiesToEven() {
        // multiplier 1 * 1 / 2 = 0.5: odd accumulators land exactly on .5
        Tensor a = QNode.ints(DType.INT8, new long[] {1, 3, 5, -1, -3, -5}, 6, 1);
        Tensor b = QNode.ints(DType.INT8, new long[] {1}, 1, 1);
        Tensor y = QNode.of(Op.QLinearMatMul).input(a).constant(Tensor.scalar(1f))
                .constant(QNode.scalar(DType.INT8, 0)).constant(b).constant(Tensor.scalar(1f))
                .constant(QNode.scalar(DType.INT8, 0)).constant(Tensor.scalar(2f))
                .constant(QNode.scalar(DType.UINT8, 10)).run1();
        // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0, -1.5 -> -2, -2.5 -> -2; plus zero point 10
        assertArrayEquals(new long[] {10, 12, 12, 10, 8, 8}, y.toLongArray());
    }

    @Test
    void nonClampActivationIsRefusedWithTheNodeName() {
        Tensor a = QNode.ints(DType.UINT8, new long[] {1, 2}, 1, 2);
        Tensor b = QNode.ints(DType.INT8, new long[] {1, 2}, 2, 1);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> QNode.of(Op.QLinearMatMul)
                .input(a).constant(Tensor.scalar(1f)).constant(QNode.scalar(DType.UINT8, 0)).constant(b)
                .constant(Tensor.scalar(1f)).constant(QNode.scalar(DType.INT8, 0)).constant(Tensor.scalar(1f))
                .constant(QNode.scalar(DType.UINT8, 0)).attr("fused_activation", "Sigmoid").run1());
        assertTrue(e.getMessage().contains("QLinearMatMul node 'n'") && e.getMessage().contains("sigmoid"),
                e.getMessage());
    }

    @Test
    void perChannelScaleOfWrongLengthIsAnError() {
        Tensor x = QNode.ints(DType.UINT8, new long[9], 1, 1, 3, 3);
        Tensor w = QNode.ints(DType.INT8, new long[8], 2, 1, 2, 2);
        HedgeException e = assertThrows(HedgeException.class, () -> QNode.of(Op.QLinearConv).input(x)
                .constant(Tensor.scalar(1f)).constant(QNode.scalar(DType.UINT8, 0)).constant(w)
                .constant(Tensor.of(new float[] {1, 1, 1}, 3)).constant(QNode.scalar(DType.INT8, 0))
                .constant(Tensor.scalar(1f)).constant(QNode.scalar(DType.UINT8, 0)).run1());
        assertTrue(e.getMessage().contains("QLinearConv node 'n'") && e.getMessage().contains("w_scale shape [3]"),
                e.getMessage());
    }
}
