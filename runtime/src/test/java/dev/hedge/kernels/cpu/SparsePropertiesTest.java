package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.map;
import static dev.hedge.kernels.cpu.NativeRun.outputScale;
import static dev.hedge.kernels.cpu.NativeRun.randomZeroPoint;
import static dev.hedge.kernels.cpu.NativeRun.requantize;
import static dev.hedge.kernels.cpu.NativeRun.scale;
import static dev.hedge.kernels.cpu.NativeRun.value;
import static dev.hedge.kernels.cpu.NativeRun.zeroPoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Sparse-encoded weights (CSR and block-CSR 1x4, 4x1, 8x1) consumed natively: QLinearConv, QLinearMatMul
 * (exact) and float32 Conv, Gemm, MatMul (1e-5 relative), against references on the decoded weights. Absent
 * entries are raw 0, which matters with a non-zero weight zero point.
 */
@AddLifecycleHook(NeedsNative.class)
class SparsePropertiesTest {

    static final int[][] BLOCKS = {{1, 1}, {1, 4}, {4, 1}, {8, 1}};

    /**
     * The int8 cases add blocks that the AVX-512 layout keeps as multi-row entries (8x4 and 4x4 for a
     * convolution, 4x8 as a MatMul's [K][N] weights: 8 output rows by 4 inputs) and other layouts split.
     */
    static final int[][] BLOCKS_Q8 = {{1, 1}, {1, 4}, {4, 1}, {8, 1}, {8, 4}, {4, 4}, {4, 8}};

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    /** rows x cols weights (dtype t) with whole blocks zero at the given rate, encoded with those blocks. */
    static Tensor sparseWeights(DType t, Random r, int[] shape, int br, int bc, int zeroPercent) {
        Tensor d = Tensor.allocate(t, shape);
        int rows = shape[0];
        int cols = d.elementCount() / rows;
        for (int i = 0; i < rows; i += br) {
            for (int j = 0; j < cols; j += bc) {
                boolean zero = r.nextInt(100) < zeroPercent;
                for (int a = 0; a < br; a++) {
                    for (int b = 0; b < bc; b++) {
                        int flat = (i + a) * cols + j + b;
                        if (t == DType.FLOAT32) {
                            d.setFloat(flat, zero ? 0f : (float) r.nextGaussian());
                        } else if (!zero) {
                            d.data().put(flat, (byte) r.nextInt(256));
                        }
                    }
                }
            }
        }
        return SparseEncode.blockCsr(d, br, bc);
    }

    @Property(tries = 120)
    void sparseQLinearConvMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 6) int blockShape, @ForAll boolean pointwise) {
        Random r = new Random(seed);
        int br = BLOCKS_Q8[blockShape][0];
        int bc = BLOCKS_Q8[blockShape][1];
        // up to 160 inputs: the single-row kernel's passes are 12, 8 or 4 vectors wide by reduction length
        int cin = pointwise ? bc * (1 + r.nextInt(r.nextBoolean() ? 12 : 160 / bc)) : 1 + r.nextInt(5);
        int kh = pointwise ? 1 : 1 + r.nextInt(3);
        int kw = pointwise ? 1 : (bc > 1 ? bc : 1 + r.nextInt(3));
        int cout = br * (1 + r.nextInt(pointwise ? 6 : 3));
        int h = kh + r.nextInt(8);
        int w = kw + r.nextInt(30);
        int stride = pointwise ? 1 : 1 + r.nextInt(2);
        int pad = pointwise ? 0 : r.nextInt(2);
        int batch = 1 + r.nextInt(2);
        DType tx = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        DType tw = r.nextInt(5) == 0 ? DType.UINT8 : DType.INT8;
        DType ty = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        Tensor x = NativeRun.bytes(tx, r, batch, cin, h, w);
        Tensor ws = sparseWeights(tw, r, new int[] {cout, cin, kh, kw}, br, bc, 40 + r.nextInt(55));
        Tensor wd = Decoding.densify(ws);
        int zx = randomZeroPoint(tx, r);
        int[] zw = new int[cout];
        float[] wScale = new float[cout];
        boolean zeroZw = tw == DType.INT8 && r.nextInt(3) > 0;
        for (int i = 0; i < cout; i++) {
            zw[i] = zeroZw ? 0 : randomZeroPoint(tw, r);
            wScale[i] = scale(r);
        }
        float xScale = scale(r);
        float yScale = outputScale(r, 30);
        int yzp = randomZeroPoint(ty, r);
        int[] bias = new int[cout];
        for (int i = 0; i < cout; i++) {
            bias[i] = r.nextInt(20001) - 10000;
        }
        byte[] zwb = new byte[cout];
        for (int i = 0; i < cout; i++) {
            zwb[i] = (byte) zw[i];
        }
        Map<String, Tensor> consts = map("xs", Tensor.of(new float[] {xScale}), "xz", zeroPoint(tx, zx), "w", ws,
                "ws", Tensor.of(wScale, cout), "wz", Tensor.ofBytes(tw, zwb, cout), "ys", Tensor.of(new float[] {yScale}),
                "yz", zeroPoint(ty, yzp), "b", Tensor.of(bias, cout));
        Node node = Node.of("conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"),
                List.of("y"))
                .withAttr("strides", new Attr.Ints(new long[] {stride, stride}))
                .withAttr("pads", new Attr.Ints(new long[] {pad, pad, pad, pad}));
        // a fused activation narrows the output range: the byte clamps of the kernels' 8-bit epilogues
        String act = r.nextInt(3) > 0 ? "" : r.nextBoolean() ? "Relu" : "Clip";
        float alpha = (r.nextFloat() - 0.5f) * 4;
        float beta = alpha + r.nextFloat() * 6;
        if (!act.isEmpty()) {
            node = node.withAttr("fused_activation", new Attr.Str(act)).withAttr("fused_alpha", new Attr.Float(alpha))
                    .withAttr("fused_beta", new Attr.Float(beta));
        }
        Tensor y = NativeRun.run(isa, node, map("x", x), consts);
        int oh = (h + 2 * pad - kh) / stride + 1;
        int ow = (w + 2 * pad - kw) / stride + 1;
        int[] want = new int[batch * cout * oh * ow];
        int[] bounds = NativeRun.outputBounds(ty, act, alpha, beta, yScale, yzp);
        int lo = bounds[0];
        int hi = bounds[1];
        for (int b = 0; b < batch; b++) {
            for (int co = 0; co < cout; co++) {
                for (int p = 0; p < oh; p++) {
                    for (int q = 0; q < ow; q++) {
                        int acc = bias[co];
                        for (int c = 0; c < cin; c++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int yy = p * stride - pad + i;
                                    int xx = q * stride - pad + j;
                                    int xv = yy < 0 || yy >= h || xx < 0 || xx >= w ? zx
                                            : value(x, ((b * cin + c) * h + yy) * w + xx);
                                    acc += (xv - zx) * (value(wd, ((co * cin + c) * kh + i) * kw + j) - zw[co]);
                                }
                            }
                        }
                        want[((b * cout + co) * oh + p) * ow + q] =
                                requantize(acc, xScale * wScale[co] / yScale, yzp, lo, hi);
                    }
                }
            }
        }
        assertArrayEquals(new int[] {batch, cout, oh, ow}, y.shape());
        assertNull(NativeRun.mismatch(y, want), () -> "isa " + isa + " blocks " + br + "x" + bc + " " + tx + "x" + tw
                + ": " + NativeRun.mismatch(y, want));
    }

    @Property(tries = 120)
    void sparseQLinearMatMulMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 6) int blockShape, @ForAll @IntRange(min = 1, max = 150) int m) {
        Random r = new Random(seed);
        int br = BLOCKS_Q8[blockShape][0];
        int bc = BLOCKS_Q8[blockShape][1];
        // beyond 128 reduction steps and 16 outputs the one-column kernel uses several chunks and lane groups;
        // beyond 64 rows the product kernels several activation panels
        int k = br * (1 + r.nextInt(r.nextBoolean() ? 20 : 80));
        int n = bc * (1 + r.nextInt(r.nextBoolean() ? 20 : 50));
        DType ta = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        DType tb = r.nextInt(5) == 0 ? DType.UINT8 : DType.INT8;
        DType ty = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        Tensor a = NativeRun.bytes(ta, r, m, k);
        // up to every block zero: rows without a stored entry
        Tensor bs = sparseWeights(tb, r, new int[] {k, n}, br, bc, 50 + r.nextInt(51));
        Tensor bd = Decoding.densify(bs);
        int za = randomZeroPoint(ta, r);
        int zb = tb == DType.INT8 && r.nextBoolean() ? 0 : randomZeroPoint(tb, r);
        float aScale = scale(r);
        float bScale = scale(r);
        float yScale = outputScale(r, 30);
        int yzp = randomZeroPoint(ty, r);
        Map<String, Tensor> consts = map("as", Tensor.of(new float[] {aScale}), "az", zeroPoint(ta, za), "b", bs,
                "bs", Tensor.of(new float[] {bScale}), "bz", zeroPoint(tb, zb), "ys", Tensor.of(new float[] {yScale}),
                "yz", zeroPoint(ty, yzp));
        Node node = NativeRun.qmatmul();
        Tensor y = NativeRun.run(isa, node, map("a", a), consts);
        int lo = ty == DType.UINT8 ? 0 : -128;
        int hi = ty == DType.UINT8 ? 255 : 127;
        int[] want = new int[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int acc = 0;
                for (int q = 0; q < k; q++) {
                    acc += (value(a, i * k + q) - za) * (value(bd, q * n + j) - zb);
                }
                want[i * n + j] = requantize(acc, aScale * bScale / yScale, yzp, lo, hi);
            }
        }
        assertNull(NativeRun.mismatch(y, want), () -> "isa " + isa + " blocks " + br + "x" + bc + " m " + m + ": "
                + NativeRun.mismatch(y, want));
    }

    @Property(tries = 150)
    void sparseFloatLayersMatchTheReference(@ForAll("isas") String isa, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 3) int blockShape, @ForAll @IntRange(min = 0, max = 3) int layer) {
        Random r = new Random(seed);
        int br = BLOCKS[blockShape][0];
        int bc = BLOCKS[blockShape][1];
        String act = new String[] {"", "Relu", "Clip", "Sigmoid"}[r.nextInt(4)];
        Tensor y;
        double[] want;
        double[] mag;
        List<String> ins = new ArrayList<>();
        Map<String, Tensor> consts = map();
        Node node;
        Tensor x;
        if (layer == 0) { // Conv, 1x1 or 3x3
            boolean pw = r.nextBoolean();
            int cin = bc * (1 + r.nextInt(6));
            int k = pw ? 1 : 3;
            int cout = br * (1 + r.nextInt(5));
            int h = 1 + r.nextInt(7);
            int w = 1 + r.nextInt(40);
            int pad = pw ? 0 : 1;
            x = randomFloats(r, 1, cin, h, w);
            Tensor ws = sparseWeights(DType.FLOAT32, r, new int[] {cout, cin, k, k}, br, bc, 60 + r.nextInt(35));
            Tensor wd = Decoding.densify(ws);
            Tensor bias = randomFloats(r, cout);
            consts.putAll(map("w", ws, "b", bias));
            node = Node.of("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"))
                    .withAttr("pads", new Attr.Ints(new long[] {pad, pad, pad, pad}));
            want = new double[cout * h * w];
            mag = new double[want.length];
            for (int co = 0; co < cout; co++) {
                for (int p = 0; p < h; p++) {
                    for (int q = 0; q < w; q++) {
                        double s = bias.getFloat(co);
                        double m = Math.abs(s);
                        for (int c = 0; c < cin; c++) {
                            for (int i = 0; i < k; i++) {
                                for (int j = 0; j < k; j++) {
                                    int yy = p - pad + i;
                                    int xx = q - pad + j;
                                    if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                                        double t = (double) wd.getFloat(((co * cin + c) * k + i) * k + j)
                                                * x.getFloat((c * h + yy) * w + xx);
                                        s += t;
                                        m += Math.abs(t);
                                    }
                                }
                            }
                        }
                        want[(co * h + p) * w + q] = s;
                        mag[(co * h + p) * w + q] = m;
                    }
                }
            }
        } else { // Gemm (transB 0 / 1) or MatMul
            int m = 1 + r.nextInt(20);
            boolean transB = layer == 2;
            int kd = transB ? bc * (1 + r.nextInt(16)) : br * (1 + r.nextInt(16));
            int n = transB ? br * (1 + r.nextInt(16)) : bc * (1 + r.nextInt(16));
            x = randomFloats(r, m, kd);
            int[] wShape = transB ? new int[] {n, kd} : new int[] {kd, n};
            Tensor ws = sparseWeights(DType.FLOAT32, r, wShape, br, bc, 60 + r.nextInt(35));
            Tensor wd = Decoding.densify(ws);
            Tensor bias = layer == 3 ? null : randomFloats(r, n);
            consts.put("w", ws);
            if (layer == 3) {
                node = Node.of("mm", Op.MatMul, List.of("x", "w"), List.of("y"));
            } else {
                consts.put("c", bias);
                node = Node.of("gemm", Op.Gemm, List.of("x", "w", "c"), List.of("y"))
                        .withAttr("transB", new Attr.Int(transB ? 1 : 0));
            }
            want = new double[m * n];
            mag = new double[want.length];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = bias == null ? 0 : bias.getFloat(j);
                    double mg = Math.abs(s);
                    for (int q = 0; q < kd; q++) {
                        double t = (double) x.getFloat(i * kd + q) * wd.getFloat(transB ? j * kd + q : q * n + j);
                        s += t;
                        mg += Math.abs(t);
                    }
                    want[i * n + j] = s;
                    mag[i * n + j] = mg;
                }
            }
        }
        float alpha = -0.3f;
        float beta = 0.7f;
        if (!act.isEmpty()) {
            node = node.withAttr("fused_activation", new Attr.Str(act)).withAttr("fused_alpha", new Attr.Float(alpha))
                    .withAttr("fused_beta", new Attr.Float(beta));
        }
        y = NativeRun.run(isa, node, map("x", x), consts);
        for (int i = 0; i < want.length; i++) {
            double v = want[i];
            v = activated(act, v, alpha, beta);
            // relative to the output and to the sum of |terms| (cancellation), floored for tiny sums
            double e = 1e-5 * Math.max(Math.abs(v), Math.max(1e-3, mag[i]));
            double got = y.getFloat(i);
            int idx = i;
            double wv = v;
            assertTrue(Math.abs(got - v) <= e, () -> "isa " + isa + " layer " + layer + " blocks " + br + "x" + bc + " "
                    + act + " element " + idx + ": got " + got + ", want " + wv);
        }
    }

    private static double activated(String act, double v, float alpha, float beta) {
        switch (act) {
            case "Relu": return Math.max(0, v);
            case "Clip": return Math.min(Math.max(v, alpha), beta);
            case "Sigmoid": return 1 / (1 + Math.exp(-v));
            default: return v;
        }
    }

    private static Tensor randomFloats(Random r, int... shape) {
        Tensor t = Tensor.allocate(DType.FLOAT32, shape);
        for (int i = 0; i < t.elementCount(); i++) {
            t.setFloat(i, (float) r.nextGaussian());
        }
        return t;
    }
}
