package dev.hedge.openblas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.plan.Frame;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The OpenBLAS kernels against scalar double-precision references written here, on random shapes and
 * attributes; each case also runs with three threads and must give bit-identical results.
 */
class OpenBlasKernelsTest {

    private static final OpenBlasBackend BLAS = OpenBlasBackend.create();
    private static final double TOL = 1e-4;

    /** A one-node model: inputs in order, constants as initializers. */
    private static final class Case {
        final Node node;
        final Map<String, Tensor> inputs = new LinkedHashMap<>();
        final Map<String, Tensor> constants = new LinkedHashMap<>();
        final double[] expected;
        final int[] outShape;

        Case(Node node, double[] expected, int[] outShape) {
            this.node = node;
            this.expected = expected;
            this.outShape = outShape;
        }

        Model model(int threads) {
            Graph.Builder g = Graph.builder("t");
            for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
                long[] dims = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
                g.addInput(ValueInfo.of(e.getKey(), e.getValue().dtype(), dims));
            }
            constants.forEach(g::initializer);
            g.addNode(node);
            g.addOutput(ValueInfo.of("y", DType.FLOAT32, Arrays.stream(outShape).asLongStream().toArray()));
            return Model.of(new ModelDef(g.build(), Map.of()), RuntimeOptions.reference().withThreads(threads)
                    .withBackend(BLAS).withKernelCosts(KernelCosts.fixed(Map.of())));
        }
    }

    private static float[] uniform(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }

    private static Tensor put(Case c, Random r, String name, boolean constant, int... shape) {
        Tensor t = Tensor.of(uniform(r, Tensor.elementCount(shape)), shape);
        (constant ? c.constants : c.inputs).put(name, t);
        return t;
    }

    /** Runs the case with 1 and 3 threads: both match the reference, and each other bit for bit. */
    private static void check(Case c, String what) {
        float[] one = null;
        for (int threads : new int[] {1, 3}) {
            try (Model m = c.model(threads); Session s = m.newSession()) {
                Tensor y = s.run(c.inputs).get("y");
                assertArrayEquals(c.outShape, y.shape(), what);
                float[] got = y.toFloatArray();
                Plan p = m.plan(c.inputs.values().stream().map(Tensor::shape).toList());
                assertEquals("openblas", p.describe().get(0).backend(), what + ": " + p.explain());
                for (int i = 0; i < got.length; i++) {
                    double e = c.expected[i];
                    if (!(Math.abs(got[i] - e) <= TOL * Math.max(1, Math.abs(e)))) {
                        fail(what + ", threads " + threads + ": element " + i + " is " + got[i] + ", expected " + e);
                    }
                }
                if (one == null) {
                    one = got;
                } else {
                    assertArrayEquals(one, got, what + ": 3 threads differ from 1");
                }
            }
        }
    }

    private static double act(String kind, double v) {
        if (kind == null) {
            return v;
        }
        switch (kind) {
            case "Relu": return Math.max(0, v);
            case "LeakyRelu": return v >= 0 ? v : 0.1 * v;
            default: throw new AssertionError(kind);
        }
    }

    private static Node withAct(Node n, String kind) {
        if (kind == null) {
            return n;
        }
        n = n.withAttr("fused_activation", new Attr.Str(kind));
        return kind.equals("LeakyRelu") ? n.withAttr("fused_alpha", new Attr.Float(0.1f)) : n;
    }

    // ---------------------------------------------------------------- Conv

    /** Direct convolution in double, NCHW, 2-D (1-D as height 1). */
    private static double[] convRef(float[] x, int batch, int c, int h, int w, float[] wt, int m, int kh, int kw,
            float[] bias, int group, int sh, int sw, int dh, int dw, int pt, int pl, int oh, int ow, String act) {
        double[] y = new double[batch * m * oh * ow];
        int cg = c / group;
        int mg = m / group;
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < m; o++) {
                int g = o / mg;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double s = bias == null ? 0 : bias[o];
                        for (int ci = 0; ci < cg; ci++) {
                            for (int a = 0; a < kh; a++) {
                                for (int b = 0; b < kw; b++) {
                                    int iy = i * sh - pt + a * dh;
                                    int ix = j * sw - pl + b * dw;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                        continue;
                                    }
                                    int cc = g * cg + ci;
                                    s += (double) x[((n * c + cc) * h + iy) * w + ix]
                                            * wt[((o * cg + ci) * kh + a) * kw + b];
                                }
                            }
                        }
                        y[((n * m + o) * oh + i) * ow + j] = act(act, s);
                    }
                }
            }
        }
        return y;
    }

    @Test
    void conv2dOnRandomShapesAndAttributes() {
        Random r = new Random(42);
        for (int iter = 0; iter < 40; iter++) {
            int group = new int[] {1, 1, 1, 2, 3}[r.nextInt(5)];
            int batch = 1 + r.nextInt(2);
            // one channel per group is depthwise, which openblas leaves to the Java backend
            int c = group * (group > 1 ? 2 + r.nextInt(4) : 1 + r.nextInt(6));
            int m = group * (1 + r.nextInt(6));
            int kh = 1 + r.nextInt(4);
            int kw = 1 + r.nextInt(4);
            int sh = 1 + r.nextInt(3);
            int sw = 1 + r.nextInt(3);
            int dh = 1 + r.nextInt(2);
            int dw = 1 + r.nextInt(2);
            int h = (kh - 1) * dh + 1 + r.nextInt(12);
            int w = (kw - 1) * dw + 1 + r.nextInt(12);
            String auto = new String[] {"NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"}[r.nextInt(5)];
            int[] pads = {r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)};
            if (!auto.equals("NOTSET")) {
                if (auto.equals("VALID")) {
                    pads = new int[4];
                } else {
                    for (int d = 0; d < 2; d++) {
                        int in = d == 0 ? h : w;
                        int s = d == 0 ? sh : sw;
                        int k = d == 0 ? (kh - 1) * dh + 1 : (kw - 1) * dw + 1;
                        int o = (in + s - 1) / s;
                        int total = Math.max(0, (o - 1) * s + k - in);
                        int small = total / 2;
                        pads[d] = auto.equals("SAME_UPPER") ? small : total - small;
                        pads[d + 2] = total - pads[d];
                    }
                }
            }
            int oh = (h + pads[0] + pads[2] - ((kh - 1) * dh + 1)) / sh + 1;
            int ow = (w + pads[1] + pads[3] - ((kw - 1) * dw + 1)) / sw + 1;
            boolean hasBias = r.nextBoolean();
            boolean constW = r.nextInt(4) != 0;
            String act = new String[] {null, "Relu", "LeakyRelu"}[r.nextInt(3)];
            List<String> ins = new ArrayList<>(List.of("x", "w"));
            if (hasBias) {
                ins.add("b");
            }
            Map<String, Attr> attrs = new HashMap<>();
            attrs.put("group", new Attr.Int(group));
            attrs.put("strides", new Attr.Ints(new long[] {sh, sw}));
            attrs.put("dilations", new Attr.Ints(new long[] {dh, dw}));
            if (auto.equals("NOTSET")) {
                attrs.put("pads", new Attr.Ints(Arrays.stream(pads).asLongStream().toArray()));
            } else {
                attrs.put("auto_pad", new Attr.Str(auto));
            }
            Node node = withAct(new Node("conv", Op.Conv, ins, List.of("y"), attrs), act);
            Case cs = new Case(node, null, new int[] {batch, m, oh, ow});
            Tensor x = put(cs, r, "x", false, batch, c, h, w);
            Tensor wt = put(cs, r, "w", constW, m, c / group, kh, kw);
            Tensor b = hasBias ? put(cs, r, "b", r.nextBoolean(), m) : null;
            double[] exp = convRef(x.toFloatArray(), batch, c, h, w, wt.toFloatArray(), m, kh, kw,
                    b == null ? null : b.toFloatArray(), group, sh, sw, dh, dw, pads[0], pads[1], oh, ow, act);
            Case full = new Case(node, exp, cs.outShape);
            full.inputs.putAll(cs.inputs);
            full.constants.putAll(cs.constants);
            check(full, "conv " + iter + " " + node.attrs() + " x" + Arrays.toString(x.shape()) + " w"
                    + Arrays.toString(wt.shape()));
        }
    }

    @Test
    void largeConvolutionsSpreadOverTilesAndColumnChunks() {
        Random r = new Random(9);
        // 3x3, 64 -> 64 channels on 40x40: 14.7 M multiply-adds (16 tiles); 7x7 on 3 channels, stride 2;
        // and a 1x1 projection (multiplies the input directly)
        int[][] shapes = {{64, 64, 40, 40, 3, 1, 1}, {3, 32, 112, 112, 7, 2, 3}, {96, 48, 28, 28, 1, 1, 0},
            {256, 8, 64, 64, 3, 1, 1}};
        for (int[] s : shapes) {
            int c = s[0];
            int m = s[1];
            int h = s[2];
            int w = s[3];
            int k = s[4];
            int st = s[5];
            int p = s[6];
            int oh = (h + 2 * p - k) / st + 1;
            int ow = (w + 2 * p - k) / st + 1;
            Node node = withAct(new Node("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"),
                    Map.of("strides", new Attr.Ints(new long[] {st, st}),
                            "pads", new Attr.Ints(new long[] {p, p, p, p}))), "Relu");
            Case cs = new Case(node, null, new int[] {1, m, oh, ow});
            Tensor x = put(cs, r, "x", false, 1, c, h, w);
            Tensor wt = put(cs, r, "w", true, m, c, k, k);
            Tensor b = put(cs, r, "b", true, m);
            Case full = new Case(node, convRef(x.toFloatArray(), 1, c, h, w, wt.toFloatArray(), m, k, k,
                    b.toFloatArray(), 1, st, st, 1, 1, p, p, oh, ow, "Relu"), cs.outShape);
            full.inputs.putAll(cs.inputs);
            full.constants.putAll(cs.constants);
            check(full, "conv " + Arrays.toString(s));
            // the last case's im2col matrix (256 x 9 rows, 4096 columns: 37 MB) is built in chunks
            try (Model model = full.model(1)) {
                long scratch = model.plan(List.of(x.shape())).describe().get(0).scratchBytes();
                assertTrue(scratch <= Operands.HEADER + BlasConvKernel.COL_BUDGET, "scratch " + scratch);
                assertTrue(k == 1 || scratch >= Math.min(4L * c * k * k * oh * ow, BlasConvKernel.COL_BUDGET / 2),
                        "scratch " + scratch);
            }
        }
    }

    @Test
    void conv1dAsUsedForSignalFrontEnds() {
        Random r = new Random(3);
        for (int iter = 0; iter < 10; iter++) {
            int c = 1 + r.nextInt(4);
            int m = 1 + r.nextInt(8);
            int k = 1 + r.nextInt(9);
            int s = 1 + r.nextInt(4);
            int len = k + r.nextInt(100);
            int p0 = r.nextInt(3);
            int p1 = r.nextInt(3);
            int out = (len + p0 + p1 - k) / s + 1;
            Node node = new Node("conv", Op.Conv, List.of("x", "w"), List.of("y"),
                    Map.of("strides", new Attr.Ints(new long[] {s}), "pads", new Attr.Ints(new long[] {p0, p1})));
            Case cs = new Case(node, null, new int[] {1, m, out});
            Tensor x = put(cs, r, "x", false, 1, c, len);
            Tensor wt = put(cs, r, "w", true, m, c, k);
            Case full = new Case(node, convRef(x.toFloatArray(), 1, c, 1, len, wt.toFloatArray(), m, 1, k, null, 1, 1,
                    s, 1, 1, 0, p0, 1, out, null), cs.outShape);
            full.inputs.putAll(cs.inputs);
            full.constants.putAll(cs.constants);
            check(full, "conv1d " + iter);
        }
    }

    /** Taps that only ever see padding (an input narrower than the kernel), as in PyTorch's Conv1d pad 2, size 1. */
    @Test
    void conv1dWithAKernelWiderThanItsInput() {
        Random r = new Random(4);
        for (int iter = 0; iter < 12; iter++) {
            int c = 1 + r.nextInt(4);
            int m = 1 + r.nextInt(5);
            int len = 1 + r.nextInt(3);
            int p0 = iter == 0 ? 2 : 1 + r.nextInt(3);
            int p1 = iter == 0 ? 2 : 1 + r.nextInt(3);
            int k = iter == 0 ? 5 : len + 1 + r.nextInt(p0 + p1);
            int out = len + p0 + p1 - k + 1;
            Node node = new Node("conv", Op.Conv, List.of("x", "w"), List.of("y"),
                    Map.of("pads", new Attr.Ints(new long[] {p0, p1})));
            Case cs = new Case(node, null, new int[] {1, m, out});
            Tensor x = put(cs, r, "x", false, 1, c, len);
            Tensor wt = put(cs, r, "w", true, m, c, k);
            Case full = new Case(node, convRef(x.toFloatArray(), 1, c, 1, len, wt.toFloatArray(), m, 1, k, null, 1, 1,
                    1, 1, 1, 0, p0, 1, out, null), cs.outShape);
            full.inputs.putAll(cs.inputs);
            full.constants.putAll(cs.constants);
            check(full, "conv1d wide kernel " + iter + " (len " + len + ", k " + k + ", pads " + p0 + "," + p1 + ")");
        }
    }

    @Test
    void depthwiseAndThreeDimensionalConvolutionsAreLeftToOtherBackends() {
        Node dw = new Node("dw", Op.Conv, List.of("x", "w"), List.of("y"), Map.of("group", new Attr.Int(8)));
        assertNull(BLAS.create(dw, List.of(new ValueType(DType.FLOAT32, new int[] {1, 8, 10, 10}),
                new ValueType(DType.FLOAT32, new int[] {8, 1, 3, 3}))));
        Node c3 = Node.of("c3", Op.Conv, List.of("x", "w"), List.of("y"));
        Case cs = new Case(c3, null, new int[] {1, 2, 2, 2, 2});
        put(cs, new Random(1), "x", false, 1, 1, 3, 3, 3);
        put(cs, new Random(2), "w", true, 2, 1, 2, 2, 2);
        try (Model m = cs.model(1)) {
            // openblas declines in prepare; the Java backend takes over and the plan says why
            Plan p = m.plan(List.of(new int[] {1, 1, 3, 3, 3}));
            assertEquals("java", p.describe().get(0).backend());
            assertTrue(p.describe().get(0).reason().contains("openblas runs 1-D and 2-D convolutions"),
                    p.describe().get(0).reason());
        }
    }

    // ---------------------------------------------------------------- Gemm

    @Test
    void gemmWithTranspositionsScalesAndBroadcastC() {
        Random r = new Random(5);
        int[][] cShapes = {null, {}, {1}, {-1}, {1, -1}, {-2, 1}, {-2, -1}};
        for (int iter = 0; iter < 40; iter++) {
            int m = 1 + r.nextInt(r.nextBoolean() ? 8 : 300);
            int n = 1 + r.nextInt(r.nextBoolean() ? 8 : 300);
            int k = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(200);
            boolean ta = r.nextBoolean();
            boolean tb = r.nextBoolean();
            float alpha = r.nextBoolean() ? 1f : r.nextFloat() * 2 - 1;
            float beta = r.nextBoolean() ? 1f : r.nextFloat() * 2 - 1;
            int[] cTemplate = cShapes[r.nextInt(cShapes.length)];
            String act = new String[] {null, "Relu"}[r.nextInt(2)];
            List<String> ins = new ArrayList<>(List.of("a", "bm"));
            if (cTemplate != null) {
                ins.add("c");
            }
            Node node = withAct(new Node("gemm", Op.Gemm, ins, List.of("y"), Map.of("transA", new Attr.Int(ta ? 1 : 0),
                    "transB", new Attr.Int(tb ? 1 : 0), "alpha", new Attr.Float(alpha), "beta", new Attr.Float(beta))),
                    act);
            Case cs = new Case(node, null, new int[] {m, n});
            Tensor a = put(cs, r, "a", false, ta ? new int[] {k, m} : new int[] {m, k});
            Tensor b = put(cs, r, "bm", r.nextBoolean(), tb ? new int[] {n, k} : new int[] {k, n});
            Tensor c = null;
            int[] cShape = null;
            if (cTemplate != null) {
                cShape = Arrays.stream(cTemplate).map(d -> d == -1 ? n : d == -2 ? m : d).toArray();
                c = put(cs, r, "c", r.nextBoolean(), cShape);
            }
            double[] exp = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += (double) a.getFloat(ta ? p * m + i : i * k + p) * b.getFloat(tb ? j * k + p : p * n + j);
                    }
                    s *= alpha;
                    if (c != null) {
                        int ci;
                        if (cShape.length == 0) {
                            ci = 0;
                        } else if (cShape.length == 1) {
                            ci = cShape[0] == 1 ? 0 : j;
                        } else {
                            ci = (cShape[0] == 1 ? 0 : i) * cShape[1] + (cShape[1] == 1 ? 0 : j);
                        }
                        s += beta * c.getFloat(ci);
                    }
                    exp[i * n + j] = act(act, s);
                }
            }
            Case full = new Case(node, exp, cs.outShape);
            full.inputs.putAll(cs.inputs);
            full.constants.putAll(cs.constants);
            check(full, "gemm " + iter + " m" + m + " n" + n + " k" + k + " ta" + ta + " tb" + tb + " c"
                    + Arrays.toString(cShape));
        }
    }

    @Test
    void gemmRejectsMismatchedShapesNamingTheNode() {
        Node node = Node.of("fc1", Op.Gemm, List.of("a", "bm"), List.of("y"));
        Case cs = new Case(node, null, new int[] {2, 3});
        put(cs, new Random(1), "a", false, 2, 4);
        put(cs, new Random(1), "bm", true, 5, 3);
        try (Model m = cs.model(1)) {
            HedgeException e = assertThrows(HedgeException.class, () -> m.plan(List.of(new int[] {2, 4})));
            assertTrue(e.getMessage().contains("fc1") && e.getMessage().contains("inner dimensions"), e.getMessage());
        }
    }

    // ---------------------------------------------------------------- MatMul

    @Test
    void matmulWithBroadcastBatchesAndVectors() {
        Random r = new Random(8);
        int[][][] cases = {
            {{3, 4}, {4, 5}}, {{4}, {4, 5}}, {{3, 4}, {4}}, {{4}, {4}}, {{2, 3, 4}, {4, 5}}, {{2, 3, 4}, {2, 4, 5}},
            {{2, 1, 3, 4}, {5, 4, 6}}, {{1, 3, 4}, {7, 4, 2}}, {{6, 200, 64}, {64, 300}}, {{2, 64, 300}, {300, 100}},
            {{3, 0, 4}, {4, 5}}, {{3, 4, 0}, {0, 5}}};
        for (int[][] sh : cases) {
            for (boolean constB : new boolean[] {false, true}) {
                int[] as = sh[0];
                int[] bs = sh[1];
                boolean av = as.length == 1;
                boolean bv = bs.length == 1;
                int m = av ? 1 : as[as.length - 2];
                int k = as[as.length - 1];
                int n = bv ? 1 : bs[bs.length - 1];
                int[] ab = av ? new int[0] : Arrays.copyOf(as, as.length - 2);
                int[] bb = bv ? new int[0] : Arrays.copyOf(bs, bs.length - 2);
                int[] batch = dev.hedge.kernels.util.Shapes.broadcast(ab, bb);
                List<Integer> out = new ArrayList<>();
                for (int d : batch) {
                    out.add(d);
                }
                if (!av) {
                    out.add(m);
                }
                if (!bv) {
                    out.add(n);
                }
                int[] outShape = out.stream().mapToInt(Integer::intValue).toArray();
                Node node = Node.of("mm", Op.MatMul, List.of("a", "bm"), List.of("y"));
                Case cs = new Case(node, null, outShape);
                Tensor a = put(cs, r, "a", false, as);
                Tensor b = put(cs, r, "bm", constB, bs);
                int batches = dev.hedge.kernels.util.Shapes.product(batch);
                int[] sa = dev.hedge.kernels.util.Shapes.broadcastStrides(ab, batch);
                int[] sb = dev.hedge.kernels.util.Shapes.broadcastStrides(bb, batch);
                double[] exp = new double[batches * m * n];
                int[] idx = new int[batch.length];
                for (int t = 0; t < batches; t++) {
                    int ao = 0;
                    int bo = 0;
                    int rem = t;
                    for (int d = batch.length - 1; d >= 0; d--) {
                        idx[d] = rem % batch[d];
                        rem /= batch[d];
                    }
                    for (int d = 0; d < batch.length; d++) {
                        ao += idx[d] * sa[d];
                        bo += idx[d] * sb[d];
                    }
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double s = 0;
                            for (int p = 0; p < k; p++) {
                                s += (double) a.getFloat(ao * m * k + i * k + p) * b.getFloat(bo * k * n + p * n + j);
                            }
                            exp[(t * m + i) * n + j] = s;
                        }
                    }
                }
                Case full = new Case(node, exp, outShape);
                full.inputs.putAll(cs.inputs);
                full.constants.putAll(cs.constants);
                check(full, "matmul " + Arrays.toString(as) + " x " + Arrays.toString(bs) + " constB " + constB);
            }
        }
    }

    @Test
    void oldOutputContentsNeverLeakIntoProductsWithBetaZero() {
        // arena memory holds earlier values; NaNs there must not survive (gemv and gemm paths alike)
        Random r = new Random(12);
        for (int[] s : new int[][] {{1, 300, 40}, {300, 1, 40}, {30, 40, 50}}) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            ByteBuffer a = direct(uniform(r, m * k));
            ByteBuffer b = direct(uniform(r, k * n));
            float[] nan = new float[m * n];
            Arrays.fill(nan, Float.NaN);
            ByteBuffer c = direct(nan);
            Blas.gemm(false, false, m, n, k, 1f, Blas.address(a), k, Blas.address(b), n, 0f, Blas.address(c), n);
            for (int i = 0; i < m * n; i++) {
                assertTrue(Float.isFinite(c.getFloat(4 * i)), Arrays.toString(s) + " element " + i);
            }
            java.lang.ref.Reference.reachabilityFence(a);
            java.lang.ref.Reference.reachabilityFence(b);
        }
    }

    private static ByteBuffer direct(float[] v) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < v.length; i++) {
            b.putFloat(4 * i, v[i]);
        }
        return b;
    }

    @Test
    void measuredCostsDecideBetweenOpenBlasAndJava() {
        Random r = new Random(13);
        Node node = Node.of("mm", Op.MatMul, List.of("a", "bm"), List.of("y"));
        Case cs = new Case(node, null, new int[] {64, 64});
        put(cs, r, "a", false, 64, 64);
        put(cs, r, "bm", true, 64, 64);
        Graph.Builder g = Graph.builder("t").addInput(ValueInfo.of("a", DType.FLOAT32, 64, 64));
        cs.constants.forEach(g::initializer);
        Graph graph = g.addNode(node).addOutput(ValueInfo.of("y", DType.FLOAT32, 64, 64)).build();
        for (boolean javaCheaper : new boolean[] {false, true}) {
            KernelCosts costs = KernelCosts.fixed(Map.of(
                    OpenBlasBackend.SGEMM, new dev.hedge.kernels.KernelCost(javaCheaper ? 20000 : 500, 0.01),
                    "java.sgemm", new dev.hedge.kernels.KernelCost(100, 0.03)));
            try (Model m = Model.of(new ModelDef(graph, Map.of()),
                    RuntimeOptions.reference().withBackend(BLAS).withKernelCosts(costs))) {
                Plan.StepInfo s = m.plan(List.of(new int[] {64, 64})).describe().get(0);
                assertEquals(javaCheaper ? "java" : "openblas", s.backend(), s.reason());
                assertTrue(s.reason().contains("openblas.sgemm") && s.reason().contains("java.sgemm"), s.reason());
            }
        }
    }

    // ---------------------------------------------------------------- memory

    @Test
    void heapBackedInputsWorkAndConstantWeightsAreNotCopied() {
        Random r = new Random(4);
        Node node = Node.of("mm", Op.MatMul, List.of("a", "bm"), List.of("y"));
        Case cs = new Case(node, null, new int[] {3, 5});
        float[] av = uniform(r, 12);
        Tensor b = put(cs, r, "bm", true, 4, 5);
        ByteBuffer heap = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 12; i++) {
            heap.putFloat(4 * i, av[i]);
        }
        cs.inputs.put("a", Tensor.wrap(DType.FLOAT32, new int[] {3, 4}, heap));
        try (Model m = cs.model(1); Session s = m.newSession()) {
            float[] y = s.run(cs.inputs).get("y").toFloatArray();
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 5; j++) {
                    double e = 0;
                    for (int p = 0; p < 4; p++) {
                        e += (double) av[i * 4 + p] * b.getFloat(p * 5 + j);
                    }
                    assertEquals(e, y[i * 5 + j], 1e-5);
                }
            }
            assertEquals(0, m.plan(List.of(new int[] {3, 4})).packedBytes(), "direct weights are used in place");
        }
    }

    @Test
    void steadyStateConvolutionRunsAllocateNothing() {
        Random r = new Random(6);
        Node node = withAct(new Node("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"),
                Map.of("pads", new Attr.Ints(new long[] {1, 1, 1, 1}))), "Relu");
        Case cs = new Case(node, null, new int[] {1, 32, 48, 48});
        put(cs, r, "x", false, 1, 16, 48, 48);
        put(cs, r, "w", true, 32, 16, 3, 3);
        put(cs, r, "b", true, 32);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Model m = cs.model(2)) {
            Frame f = m.plan(List.of(new int[] {1, 16, 48, 48})).newFrame();
            List<Tensor> in = List.of(cs.inputs.get("x"));
            for (int i = 0; i < 300; i++) {
                f.run(in);
            }
            List<Long> ids = new ArrayList<>(List.of(Thread.currentThread().getId()));
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("hedge-t-")) {
                    ids.add(t.getId());
                }
            }
            long[] idArr = ids.stream().mapToLong(Long::longValue).toArray();
            long least = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 5; attempt++) {
                long[] b0 = mx.getThreadAllocatedBytes(idArr);
                long[] b1 = mx.getThreadAllocatedBytes(idArr);
                for (int i = 0; i < 20; i++) {
                    f.run(in);
                }
                long[] after = mx.getThreadAllocatedBytes(idArr);
                long sum = 0;
                for (int i = 0; i < idArr.length; i++) {
                    sum += (after[i] - b1[i]) - (b1[i] - b0[i]);
                }
                least = Math.min(least, sum);
            }
            assertEquals(2, idArr.length);
            assertEquals(0, least, "bytes allocated by 20 convolution runs");
        }
    }
}
