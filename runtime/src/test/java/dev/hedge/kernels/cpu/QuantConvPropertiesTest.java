package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.bytes;
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
 * QLinearConv, ConvInteger and 8-bit MaxPool on every instruction set this CPU has, against direct scalar
 * references: random geometry (kernels, strides, dilations, explicit and automatic pads, 1-D and 2-D),
 * groups, depthwise with multipliers, pointwise, u8/s8, per-channel weight scales and zero points, bias,
 * fused Relu/Clip, constant and run-time weights.
 */
@AddLifecycleHook(NeedsNative.class)
class QuantConvPropertiesTest {

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    /** Window geometry drawn for one case, in ONNX attribute form. */
    static final class Window {
        final int rank;
        final int[] k;
        final int[] s;
        final int[] d;
        final int[] pads;
        final String autoPad;

        Window(Random r, int rank, boolean pool) {
            this.rank = rank;
            k = new int[rank];
            s = new int[rank];
            d = new int[rank];
            pads = new int[2 * rank];
            for (int i = 0; i < rank; i++) {
                k[i] = 1 + r.nextInt(3);
                s[i] = 1 + r.nextInt(2);
                d[i] = pool ? 1 + r.nextInt(2) : 1 + r.nextInt(2);
                // pool pads may reach the kernel size: windows entirely in the padding
                pads[i] = r.nextInt(pool ? k[i] + 1 : k[i]);
                pads[rank + i] = r.nextInt(pool ? k[i] + 1 : k[i]);
            }
            int a = r.nextInt(6);
            autoPad = a == 0 ? "SAME_UPPER" : a == 1 ? "SAME_LOWER" : a == 2 ? "VALID" : "NOTSET";
        }

        Node apply(Node n) {
            n = n.withAttr("strides", new Attr.Ints(longs(s))).withAttr("dilations", new Attr.Ints(longs(d)));
            if (autoPad.equals("NOTSET")) {
                return n.withAttr("pads", new Attr.Ints(longs(pads)));
            }
            return n.withAttr("auto_pad", new Attr.Str(autoPad));
        }

        /** Resolved (pad begin, output size) per axis for input sizes {@code in}; null if empty. */
        int[][] resolve(int[] in, boolean ceil) {
            int[] begin = new int[rank];
            int[] out = new int[rank];
            for (int i = 0; i < rank; i++) {
                int dk = (k[i] - 1) * d[i] + 1;
                int pb = pads[i];
                int pe = pads[rank + i];
                if (autoPad.equals("VALID")) {
                    pb = pe = 0;
                } else if (autoPad.startsWith("SAME")) {
                    int o = (in[i] + s[i] - 1) / s[i];
                    int total = Math.max(0, (o - 1) * s[i] + dk - in[i]);
                    pb = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    pe = total - pb;
                }
                int span = in[i] + pb + pe - dk;
                if (span < 0) {
                    return null;
                }
                int o = ceil ? (span + s[i] - 1) / s[i] + 1 : span / s[i] + 1;
                if (ceil && (o - 1) * s[i] >= in[i] + pb) {
                    o--;
                }
                begin[i] = pb;
                out[i] = o;
            }
            return new int[][] {begin, out};
        }
    }

    @Property(tries = 160)
    void convolutionsMatchTheReference(@ForAll("isas") String isa, @ForAll long seed, @ForAll boolean integer,
            @ForAll @IntRange(min = 0, max = 6) int variant) {
        Random r = new Random(seed);
        int rank = r.nextInt(4) == 0 ? 1 : 2;
        Window win = new Window(r, rank, false);
        int batch = 1 + r.nextInt(2);
        int group = variant == 1 ? 1 + r.nextInt(3) : 1;
        int cin = group * (1 + r.nextInt(4));
        int cout = group * (1 + r.nextInt(6));
        if (variant == 2) {               // depthwise, depth multiplier 1 or 2
            group = cin = 1 + r.nextInt(5);
            cout = cin * (1 + r.nextInt(2));
        } else if (variant == 3) {        // pointwise
            win.k[0] = win.k[rank - 1] = 1;
            win.s[0] = win.s[rank - 1] = 1;
            java.util.Arrays.fill(win.pads, 0);
            cin = 1 + r.nextInt(40);
            cout = 1 + r.nextInt(40);
        }
        int[] spatial = new int[rank];
        for (int i = 0; i < rank; i++) {
            // depthwise rows up to 70 wide: several vectors per row and masked tails in the float-lane kernel
            boolean wide = variant == 2 && i == rank - 1 && r.nextBoolean();
            spatial[i] = 1 + r.nextInt(variant == 3 ? 30 : wide ? 70 : 11);
        }
        int[][] res = win.resolve(spatial, false);
        if (res == null) {
            return; // kernel larger than the padded input: not a valid model
        }
        DType tx = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        DType tw = r.nextInt(4) == 0 ? DType.UINT8 : DType.INT8;
        DType ty = integer ? DType.INT32 : r.nextBoolean() ? DType.UINT8 : DType.INT8;
        int[] xs = concat(new int[] {batch, cin}, spatial);
        int[] ws = concat(new int[] {cout, cin / group}, win.k);
        Tensor x = bytes(tx, r, xs);
        Tensor w = bytes(tw, r, ws);
        int zx = randomZeroPoint(tx, r);
        boolean perChannel = r.nextBoolean();
        int[] zw = new int[perChannel ? cout : 1];
        float[] wScale = new float[perChannel ? cout : 1];
        for (int i = 0; i < zw.length; i++) {
            zw[i] = tw == DType.INT8 && r.nextBoolean() ? 0 : randomZeroPoint(tw, r);
            wScale[i] = scale(r);
        }
        float xScale = scale(r);
        float yScale = outputScale(r, 40);
        int yzp = integer ? 0 : randomZeroPoint(ty, r);
        int[] bias = new int[cout];
        boolean withBias = !integer && r.nextBoolean();
        for (int i = 0; i < cout; i++) {
            // now and then a bias too large for exact float accumulators (the float-lane depthwise adds it in int32)
            bias[i] = !withBias ? 0 : r.nextInt(6) == 0 ? r.nextInt() >> 4 : r.nextInt(40001) - 20000;
        }
        boolean wConstant = variant != 4;
        String act = integer || r.nextInt(3) > 0 ? "" : r.nextBoolean() ? "Relu" : "Clip";
        float alpha = (r.nextFloat() - 0.5f) * 4;
        float beta = alpha + r.nextFloat() * 6;

        Map<String, Tensor> inputs = map("x", x);
        Map<String, Tensor> consts = map();
        (wConstant ? consts : inputs).put("w", w);
        List<String> ins = new ArrayList<>();
        if (integer) {
            consts.put("xz", zeroPoint(tx, zx));
            consts.put("wz", zpTensor(tw, zw));
            ins.addAll(List.of("x", "w", "xz", "wz"));
        } else {
            consts.putAll(map("xs", Tensor.of(new float[] {xScale}), "xz", zeroPoint(tx, zx),
                    "ws", Tensor.of(wScale, wScale.length), "wz", zpTensor(tw, zw),
                    "ys", Tensor.of(new float[] {yScale}), "yz", zeroPoint(ty, yzp)));
            ins.addAll(List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"));
            if (withBias) {
                consts.put("b", Tensor.of(bias, cout));
                ins.add("b");
            }
        }
        Node node = win.apply(Node.of("conv", integer ? Op.ConvInteger : Op.QLinearConv, ins, List.of("y")))
                .withAttr("group", new Attr.Int(group));
        if (r.nextBoolean()) {
            node = node.withAttr("kernel_shape", new Attr.Ints(longs(win.k)));
        }
        if (!act.isEmpty()) {
            node = node.withAttr("fused_activation", new Attr.Str(act)).withAttr("fused_alpha", new Attr.Float(alpha))
                    .withAttr("fused_beta", new Attr.Float(beta));
        }
        Tensor y = NativeRun.run(isa, node, inputs, consts);

        int[] bounds = NativeRun.outputBounds(ty, act, alpha, beta, yScale, yzp);
        int lo = bounds[0];
        int hi = bounds[1];
        int oh = rank == 1 ? 1 : res[1][0];
        int ow = res[1][rank - 1];
        int ih = rank == 1 ? 1 : spatial[0];
        int iw = spatial[rank - 1];
        int kh = rank == 1 ? 1 : win.k[0];
        int kw = win.k[rank - 1];
        int sh = rank == 1 ? 1 : win.s[0];
        int sw = win.s[rank - 1];
        int dh = rank == 1 ? 1 : win.d[0];
        int dw = win.d[rank - 1];
        int pt = rank == 1 ? 0 : res[0][0];
        int pl = res[0][rank - 1];
        int cg = cin / group;
        int og = cout / group;
        int[] want = new int[batch * cout * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int co = 0; co < cout; co++) {
                int gi = co / og;
                int zwc = zw[perChannel ? co : 0];
                float mult = xScale * wScale[perChannel ? co : 0] / yScale;
                for (int p = 0; p < oh; p++) {
                    for (int q = 0; q < ow; q++) {
                        int acc = bias[co];
                        for (int c = 0; c < cg; c++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int yy = p * sh - pt + i * dh;
                                    int xx = q * sw - pl + j * dw;
                                    int xv = yy < 0 || yy >= ih || xx < 0 || xx >= iw ? zx
                                            : value(x, ((b * cin + gi * cg + c) * ih + yy) * iw + xx);
                                    int wv = value(w, ((co * cg + c) * kh + i) * kw + j);
                                    acc += (xv - zx) * (wv - zwc);
                                }
                            }
                        }
                        int idx = ((b * cout + co) * oh + p) * ow + q;
                        want[idx] = integer ? acc : requantize(acc, mult, yzp, lo, hi);
                    }
                }
            }
        }
        int[] outShape = rank == 1 ? new int[] {batch, cout, ow} : new int[] {batch, cout, oh, ow};
        assertArrayEquals(outShape, y.shape());
        String what = "isa " + isa + " variant " + variant + " " + win.autoPad + " " + tx + "x" + tw + " group " + group;
        assertNull(NativeRun.mismatch(y, want), () -> what + ": " + NativeRun.mismatch(y, want));
    }

    @Property(tries = 60)
    void maxPool2x2MatchesTheReference(@ForAll("isas") String isa, @ForAll long seed) {
        // the 2 x 2 / 2 kernel: odd sizes (a last row or column no window reaches), rows past 32 outputs
        Random r = new Random(seed);
        int h = 2 + r.nextInt(20);
        int w = 2 + r.nextInt(r.nextBoolean() ? 150 : 16);
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        Tensor x = bytes(t, r, 1 + r.nextInt(2), 1 + r.nextInt(5), h, w);
        Node node = Node.of("pool", Op.MaxPool, List.of("x"), List.of("y"))
                .withAttr("kernel_shape", new Attr.Ints(new long[] {2, 2}))
                .withAttr("strides", new Attr.Ints(new long[] {2, 2}));
        Tensor y = NativeRun.run(isa, node, map("x", x), map());
        int[] shape = x.shape();
        int oh = h / 2;
        int ow = w / 2;
        assertArrayEquals(new int[] {shape[0], shape[1], oh, ow}, y.shape());
        int[] want = new int[shape[0] * shape[1] * oh * ow];
        for (int bc = 0; bc < shape[0] * shape[1]; bc++) {
            for (int p = 0; p < oh; p++) {
                for (int q = 0; q < ow; q++) {
                    int best = Integer.MIN_VALUE;
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            best = Math.max(best, value(x, (bc * h + 2 * p + i) * w + 2 * q + j));
                        }
                    }
                    want[(bc * oh + p) * ow + q] = best;
                }
            }
        }
        assertNull(NativeRun.mismatch(y, want), () -> "isa " + isa + " " + t + " " + h + "x" + w + ": "
                + NativeRun.mismatch(y, want));
    }

    @Property(tries = 100)
    void maxPoolMatchesTheReference(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        int rank = r.nextInt(4) == 0 ? 1 : 2;
        Window win = new Window(r, rank, true);
        boolean ceil = r.nextBoolean();
        int batch = 1 + r.nextInt(2);
        int c = 1 + r.nextInt(4);
        int[] spatial = new int[rank];
        boolean wide = r.nextInt(3) == 0; // rows long enough for the vectorised interior
        for (int i = 0; i < rank; i++) {
            spatial[i] = 1 + r.nextInt(wide && i == rank - 1 ? 150 : 12);
        }
        int[][] res = win.resolve(spatial, ceil);
        if (res == null) {
            return;
        }
        DType t = r.nextBoolean() ? DType.UINT8 : DType.INT8;
        Tensor x = bytes(t, r, concat(new int[] {batch, c}, spatial));
        Node node = win.apply(Node.of("pool", Op.MaxPool, List.of("x"), List.of("y")))
                .withAttr("kernel_shape", new Attr.Ints(longs(win.k))).withAttr("ceil_mode", new Attr.Int(ceil ? 1 : 0));
        Tensor y = NativeRun.run(isa, node, map("x", x), map());
        assertArrayEquals(NativeRun.runReference(node, map("x", x), map()).toIntArray(), y.toIntArray(),
                "native MaxPool differs from the Java reference backend");
        int oh = rank == 1 ? 1 : res[1][0];
        int ow = res[1][rank - 1];
        int ih = rank == 1 ? 1 : spatial[0];
        int iw = spatial[rank - 1];
        int[] want = new int[batch * c * oh * ow];
        for (int bc = 0; bc < batch * c; bc++) {
            for (int p = 0; p < oh; p++) {
                for (int q = 0; q < ow; q++) {
                    int best = t == DType.UINT8 ? 0 : -128;
                    boolean any = false;
                    for (int i = 0; i < (rank == 1 ? 1 : win.k[0]); i++) {
                        for (int j = 0; j < win.k[rank - 1]; j++) {
                            int yy = rank == 1 ? 0 : p * win.s[0] - res[0][0] + i * win.d[0];
                            int xx = q * win.s[rank - 1] - res[0][rank - 1] + j * win.d[rank - 1];
                            if (yy >= 0 && yy < ih && xx >= 0 && xx < iw) {
                                best = Math.max(best, value(x, (bc * ih + yy) * iw + xx));
                                any = true;
                            }
                        }
                    }
                    want[(bc * oh + p) * ow + q] = any ? best : 0; // an all-padding window gives 0
                }
            }
        }
        assertNull(NativeRun.mismatch(y, want), () -> "isa " + isa + " " + win.autoPad + " ceil " + ceil + ": "
                + NativeRun.mismatch(y, want));
    }

    @Property(tries = 100)
    void floatDepthwiseMatchesTheReferenceBackend(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        int rank = r.nextInt(4) == 0 ? 1 : 2;
        Window win = new Window(r, rank, false);
        int c = 2 + r.nextInt(5);
        int mult = 1 + r.nextInt(2);
        int[] spatial = new int[rank];
        for (int i = 0; i < rank; i++) {
            spatial[i] = 1 + r.nextInt(14);
        }
        int[][] res = win.resolve(spatial, false);
        if (res == null) {
            return;
        }
        int batch = 1 + r.nextInt(2);
        Tensor x = floats(r, concat(new int[] {batch, c}, spatial));
        Tensor w = floats(r, concat(new int[] {c * mult, 1}, win.k));
        Map<String, Tensor> consts = map("w", w);
        List<String> ins = new ArrayList<>(List.of("x", "w"));
        if (r.nextBoolean()) {
            consts.put("b", floats(r, c * mult));
            ins.add("b");
        }
        Node node = win.apply(Node.of("dw", Op.Conv, ins, List.of("y"))).withAttr("group", new Attr.Int(c));
        String act = new String[] {"", "Relu", "Clip", "HardSwish"}[r.nextInt(4)];
        if (!act.isEmpty()) {
            node = node.withAttr("fused_activation", new Attr.Str(act)).withAttr("fused_alpha", new Attr.Float(-0.5f))
                    .withAttr("fused_beta", new Attr.Float(0.8f));
        }
        Tensor y = NativeRun.run(isa, node, map("x", x), consts);
        Tensor want = NativeRun.runReference(node, map("x", x), consts);
        assertArrayEquals(want.shape(), y.shape());
        float[] a = y.toFloatArray();
        float[] b = want.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            // relative to the value, floored by the number of (unit-scale) terms summed
            double tol = 1e-5 * Math.max(Math.abs(b[i]), win.k[0] * win.k[rank - 1] + 1);
            int idx = i;
            assertTrue(Math.abs(a[i] - b[i]) <= tol, () -> "isa " + isa + " " + act + " element " + idx + ": " + a[idx]
                    + " vs reference " + b[idx]);
        }
    }

    private static Tensor floats(Random r, int... shape) {
        Tensor t = Tensor.allocate(DType.FLOAT32, shape);
        for (int i = 0; i < t.elementCount(); i++) {
            t.setFloat(i, (float) (r.nextGaussian()));
        }
        return t;
    }

    private static Tensor zpTensor(DType t, int[] z) {
        byte[] v = new byte[z.length];
        for (int i = 0; i < z.length; i++) {
            v[i] = (byte) z[i];
        }
        return z.length == 1 ? Tensor.ofBytes(t, v) : Tensor.ofBytes(t, v, z.length);
    }

    static long[] longs(int[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = v[i];
        }
        return l;
    }

    static int[] concat(int[] a, int[] b) {
        int[] s = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, s, a.length, b.length);
        return s;
    }
}
