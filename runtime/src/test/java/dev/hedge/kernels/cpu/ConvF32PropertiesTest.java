package dev.hedge.kernels.cpu;

import static dev.hedge.kernels.cpu.NativeRun.map;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Dense float32 Conv on the native GEMM, every instruction set this CPU has, against a scalar reference in
 * double (within float32 rounding of the sum of |terms|) and the Java reference backend: random geometry
 * (1-D / 2-D, kernels, strides, dilations, explicit and automatic pads), groups, pointwise, small images with
 * long reductions (the 12 x 32 channel-vector tile), output channels and pixel counts off the tiles, bias, fused Relu / Clip, NaN inputs (without Relu).
 */
@AddLifecycleHook(NeedsNative.class)
class ConvF32PropertiesTest {

    @Provide
    Arbitrary<String> isas() {
        return NativeRun.isas();
    }

    @Property(tries = 150)
    void convolutionsMatchTheReferences(@ForAll("isas") String isa, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 4) int variant) {
        Random r = new Random(seed);
        int rank = r.nextInt(4) == 0 ? 1 : 2;
        QuantConvPropertiesTest.Window win = new QuantConvPropertiesTest.Window(r, rank, false);
        int batch = 1 + r.nextInt(2);
        int group = variant == 1 ? 2 + r.nextInt(2) : 1;
        int cin = group * (1 + r.nextInt(5));
        int cout = group * (1 + r.nextInt(20));
        if (variant == 2) { // pointwise: the image itself is the product's right-hand side
            win.k[0] = win.k[rank - 1] = 1;
            win.s[0] = win.s[rank - 1] = 1;
            win.d[0] = win.d[rank - 1] = 1;
            java.util.Arrays.fill(win.pads, 0);
            cin = 1 + r.nextInt(40);
            cout = 1 + r.nextInt(40);
        }
        if (variant == 4) { // a small image with a long reduction: on AVX-512 the channel-vector (transposed) tile
            for (int i = 0; i < rank; i++) {
                win.k[i] = 3;
            }
            cin = 60 + r.nextInt(30);
            cout = 1 + r.nextInt(70);
        }
        int[] spatial = new int[rank];
        for (int i = 0; i < rank; i++) {
            spatial[i] = 1 + r.nextInt(variant == 3 ? 40 : 12);
        }
        int[][] res = win.resolve(spatial, false);
        if (res == null) {
            return;
        }
        int[] xs = new int[rank + 2];
        xs[0] = batch;
        xs[1] = cin;
        System.arraycopy(spatial, 0, xs, 2, rank);
        int[] ws = new int[rank + 2];
        ws[0] = cout;
        ws[1] = cin / group;
        System.arraycopy(win.k, 0, ws, 2, rank);
        float[] xv = gaussian(r, Tensor.elementCount(xs));
        float[] wv = gaussian(r, Tensor.elementCount(ws));
        boolean withBias = r.nextBoolean();
        float[] bv = withBias ? gaussian(r, cout) : new float[cout];
        String act = r.nextInt(3) == 0 ? "" : r.nextBoolean() ? "Relu" : "Clip";
        // NaNs propagate; not under Relu, where the Java backend's paths disagree about Relu(NaN)
        if (!act.equals("Relu") && r.nextInt(8) == 0) {
            xv[r.nextInt(xv.length)] = Float.NaN;
        }
        float alpha = (r.nextFloat() - 0.5f) * 2;
        float beta = alpha + r.nextFloat() * 3;

        Map<String, Tensor> consts = map("w", Tensor.of(wv, ws));
        List<String> ins = new ArrayList<>(List.of("x", "w"));
        if (withBias) {
            consts.put("b", Tensor.of(bv, cout));
            ins.add("b");
        }
        Node node = win.apply(Node.of("conv", Op.Conv, ins, List.of("y"))).withAttr("group", new Attr.Int(group));
        if (!act.isEmpty()) {
            node = node.withAttr("fused_activation", new Attr.Str(act)).withAttr("fused_alpha", new Attr.Float(alpha))
                    .withAttr("fused_beta", new Attr.Float(beta));
        }
        Map<String, Tensor> inputs = map("x", Tensor.of(xv, xs));
        Tensor y = NativeRun.run(isa, node, inputs, consts);
        Tensor ref = NativeRun.runReference(node, inputs, consts);

        int oh = rank == 1 ? 1 : res[1][0];
        int ow = res[1][rank - 1];
        int ih = rank == 1 ? 1 : spatial[0];
        int iw = spatial[rank - 1];
        int kh = rank == 1 ? 1 : win.k[0];
        int kw = win.k[rank - 1];
        int cg = cin / group;
        int mg = cout / group;
        int[] outShape = rank == 1 ? new int[] {batch, cout, ow} : new int[] {batch, cout, oh, ow};
        assertArrayEquals(outShape, y.shape());
        float[] got = y.toFloatArray();
        float[] java = ref.toFloatArray();
        for (int n = 0; n < batch; n++) {
            for (int m = 0; m < cout; m++) {
                int grp = m / mg;
                for (int p = 0; p < oh; p++) {
                    for (int q = 0; q < ow; q++) {
                        double s = bv[m];
                        double mag = Math.abs(bv[m]);
                        for (int c = 0; c < cg; c++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int yy = rank == 1 ? 0 : p * win.s[0] - res[0][0] + i * win.d[0];
                                    int xx = q * win.s[rank - 1] - res[0][rank - 1] + j * win.d[rank - 1];
                                    if (yy < 0 || yy >= ih || xx < 0 || xx >= iw) {
                                        continue;
                                    }
                                    double t = (double) wv[((m * cg + c) * kh + i) * kw + j]
                                            * xv[(((n * cin) + grp * cg + c) * ih + yy) * iw + xx];
                                    s += t;
                                    mag += Math.abs(t);
                                }
                            }
                        }
                        double want = act.equals("Relu") ? (s > 0 ? s : 0)
                                : act.equals("Clip") ? Math.min(Math.max(s, alpha), beta) : s;
                        int idx = ((n * cout + m) * oh + p) * ow + q;
                        double tol = 1e-5 * mag + 1e-6;
                        String what = "isa " + isa + " variant " + variant + " " + win.autoPad + " act '" + act
                                + "' group " + group + " at " + idx;
                        check(want, got[idx], tol, what + " (scalar reference)");
                        check(java[idx], got[idx], tol, what + " (Java backend)");
                    }
                }
            }
        }
    }

    /** Depthwise (multiplier 1) on planes up to 40 wide, stride 1 and 2: the padded-plane and channel-lane paths. */
    @Property(tries = 60)
    void depthwiseOnWidePlanesMatchesTheReferenceBackend(@ForAll("isas") String isa, @ForAll long seed) {
        Random r = new Random(seed);
        int c = 1 + r.nextInt(20);
        int h = 1 + r.nextInt(40);
        int w = 1 + r.nextInt(40);
        int k = 1 + 2 * r.nextInt(3);
        int s = 1 + r.nextInt(2);
        int d = r.nextInt(4) == 0 ? 2 : 1;
        int p = r.nextInt(k / 2 * d + 1);
        if (h + 2 * p < (k - 1) * d + 1 || w + 2 * p < (k - 1) * d + 1) {
            return;
        }
        float[] xv = gaussian(r, c * h * w);
        float[] wv = gaussian(r, c * k * k);
        float[] bv = gaussian(r, c);
        String act = new String[] {"", "Relu", "Clip"}[r.nextInt(3)];
        Node node = Node.of("dw", Op.Conv, List.of("x", "w", "b"), List.of("y")).withAttr("group", new Attr.Int(c))
                .withAttr("strides", new Attr.Ints(new long[] {s, s})).withAttr("dilations", new Attr.Ints(new long[] {d, d}))
                .withAttr("pads", new Attr.Ints(new long[] {p, p, p, p}));
        if (!act.isEmpty()) {
            node = node.withAttr("fused_activation", new Attr.Str(act)).withAttr("fused_alpha", new Attr.Float(-0.5f))
                    .withAttr("fused_beta", new Attr.Float(0.8f));
        }
        Map<String, Tensor> inputs = map("x", Tensor.of(xv, 1, c, h, w));
        Map<String, Tensor> consts = map("w", Tensor.of(wv, c, 1, k, k), "b", Tensor.of(bv, c));
        float[] got = NativeRun.run(isa, node, inputs, consts).toFloatArray();
        float[] want = NativeRun.runReference(node, inputs, consts).toFloatArray();
        assertEquals(want.length, got.length);
        for (int i = 0; i < got.length; i++) {
            check(want[i], got[i], 1e-5 * (k * k + 1) * Math.max(1, Math.abs(want[i])),
                    "isa " + isa + " dw c" + c + " " + h + "x" + w + " k" + k + " s" + s + " d" + d + " p" + p + " '" + act
                            + "' at " + i);
        }
    }

    /** Tiles follow the thread count here (one per group on one thread): results must not. */
    @Example
    void resultsDoNotDependOnTheThreadCount() {
        Random r = new Random(11);
        for (int stride = 1; stride <= 2; stride++) {
            for (int hw : new int[] {7, 28, 57}) {
                float[] wv = gaussian(r, 48 * 40 * 9);
                Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 40, hw, hw))
                        .initializer("w", Tensor.of(wv, 48, 40, 3, 3))
                        .addNode(Node.of("conv", Op.Conv, List.of("x", "w"), List.of("y"))
                                .withAttr("strides", new Attr.Ints(new long[] {stride, stride}))
                                .withAttr("pads", new Attr.Ints(new long[] {1, 1, 1, 1})))
                        .addOutput(new ValueInfo("y", null, null)).build();
                Tensor x = Tensor.of(gaussian(r, 40 * hw * hw), 1, 40, hw, hw);
                int[] one = bits(g, x, 1);
                int[] two = bits(g, x, 2);
                assertArrayEquals(one, two, "stride " + stride + ", " + hw + "x" + hw);
            }
        }
    }

    /** Small images with many channels split their channels too (strips alone: 2 unequal tiles). */
    @Example
    void channelSplitsOfSmallImagesDoNotChangeResults() {
        // 7 x 7 outputs = 2 unequal strips (32 + 17 pixels); 100 output channels = 13 strips of 8, a partial one
        assertArrayEquals(new int[] {1, 2}, Tiles.split(2, 49, 32, 100, 8, 100.0 * 1152 * 49));
        assertArrayEquals(new int[] {1, 1}, Tiles.split(1, 49, 32, 100, 8, 1e12));
        // a large image splits its pixels only, into as many tiles as the work bound allows
        assertArrayEquals(new int[] {8, 1}, Tiles.split(2, 56 * 56, 32, 64, 8, 1e9));
        Random r = new Random(12);
        for (int stride = 1; stride <= 2; stride++) {
            int hw = 7 * stride;
            float[] wv = gaussian(r, 100 * 128 * 9);
            float[] bv = gaussian(r, 100);
            Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 128, hw, hw))
                    .initializer("w", Tensor.of(wv, 100, 128, 3, 3)).initializer("b", Tensor.of(bv, 100))
                    .addNode(Node.of("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"))
                            .withAttr("strides", new Attr.Ints(new long[] {stride, stride}))
                            .withAttr("pads", new Attr.Ints(new long[] {1, 1, 1, 1}))
                            .withAttr("fused_activation", new Attr.Str("Relu")))
                    .addOutput(new ValueInfo("y", null, null)).build();
            Tensor x = Tensor.of(gaussian(r, 128 * hw * hw), 1, 128, hw, hw);
            assertArrayEquals(bits(g, x, 1), bits(g, x, 2), "stride " + stride);
            assertArrayEquals(bits(g, x, 1), bits(g, x, 3), "stride " + stride + ", 3 threads");
        }
    }

    /** Depthwise convolutions split their channels in blocks of 16 (a partial last one here): results must not change. */
    @Example
    void depthwiseChannelBlocksDoNotChangeResults() {
        Random r = new Random(13);
        for (int stride = 1; stride <= 2; stride++) {
            for (int hw : new int[] {56, 14}) {
                int c = 72;
                Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, c, hw, hw))
                        .initializer("w", Tensor.of(gaussian(r, c * 9), c, 1, 3, 3))
                        .initializer("b", Tensor.of(gaussian(r, c), c))
                        .addNode(Node.of("dw", Op.Conv, List.of("x", "w", "b"), List.of("y"))
                                .withAttr("group", new Attr.Int(c))
                                .withAttr("strides", new Attr.Ints(new long[] {stride, stride}))
                                .withAttr("pads", new Attr.Ints(new long[] {1, 1, 1, 1}))
                                .withAttr("fused_activation", new Attr.Str("Clip"))
                                .withAttr("fused_alpha", new Attr.Float(0f)).withAttr("fused_beta", new Attr.Float(6f)))
                        .addOutput(new ValueInfo("y", null, null)).build();
                Tensor x = Tensor.of(gaussian(r, c * hw * hw), 1, c, hw, hw);
                int[] one = bits(g, x, 1);
                assertArrayEquals(one, bits(g, x, 2), "stride " + stride + ", " + hw + "x" + hw);
                assertArrayEquals(one, bits(g, x, 3), "stride " + stride + ", " + hw + "x" + hw + ", 3 threads");
            }
        }
    }

    private static int[] bits(Graph g, Tensor x, int threads) {
        RuntimeOptions o = RuntimeOptions.reference().withBackend(new NativeBackend())
                .withKernelCosts(KernelCosts.fixed(Map.of())).withThreads(threads);
        try (Model m = Model.of(new ModelDef(g, Map.of()), o); Session s = m.newSession()) {
            assertEquals("native", m.plan(List.of(x.shape())).describe().get(0).backend());
            float[] y = s.run(Map.of("x", x)).get("y").toFloatArray();
            int[] b = new int[y.length];
            for (int i = 0; i < y.length; i++) {
                b[i] = Float.floatToRawIntBits(y[i]);
            }
            return b;
        }
    }

    private static void check(double want, float got, double tol, String what) {
        if (Double.isNaN(want) ? !Float.isNaN(got) : !(Math.abs(got - want) <= tol)) {
            throw new AssertionError(what + ": got " + got + ", expected " + want + " within " + tol);
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
