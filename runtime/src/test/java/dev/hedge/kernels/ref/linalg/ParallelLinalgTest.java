package dev.hedge.kernels.ref.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Java Conv, Gemm and MatMul kernels split float32 work into tiles on the intra-op threads: with 1, 2 and
 * 3 threads every output must be bit-identical, and match a double-precision scalar reference.
 */
class ParallelLinalgTest {

    private static Tensor random(Random r, int... shape) {
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return Tensor.of(v, shape);
    }

    /** Runs a one-node graph (input "x", constants as initializers) with 1, 2 and 3 threads. */
    private static float[] runAll(Node node, Tensor x, Map<String, Tensor> constants, int[] outShape) {
        Graph.Builder g = Graph.builder("t").addInput(ValueInfo.of("x", DType.FLOAT32,
                Arrays.stream(x.shape()).asLongStream().toArray()));
        constants.forEach(g::initializer);
        g.addNode(node).addOutput(ValueInfo.of("y", DType.FLOAT32, Arrays.stream(outShape).asLongStream().toArray()));
        Graph graph = g.build();
        float[] first = null;
        for (int threads = 1; threads <= 3; threads++) {
            try (Model m = Model.of(new ModelDef(graph, Map.of()), RuntimeOptions.reference().withThreads(threads));
                    Session s = m.newSession()) {
                assertEquals("java", m.plan(List.of(x.shape())).describe().get(0).backend());
                float[] y = s.run(Map.of("x", x)).get("y").toFloatArray();
                y = s.run(Map.of("x", x)).get("y").toFloatArray();
                if (first == null) {
                    first = y;
                } else {
                    assertArrayEquals(first, y, node + ": " + threads + " threads differ from 1");
                }
            }
        }
        return first;
    }

    private static void near(double[] expected, float[] got, String what) {
        assertEquals(expected.length, got.length, what);
        for (int i = 0; i < got.length; i++) {
            double e = expected[i];
            assertTrue(Math.abs(got[i] - e) <= 1e-4 * Math.max(1, Math.abs(e)),
                    what + ": element " + i + " is " + got[i] + ", expected " + e);
        }
    }

    private static double[] conv(Tensor x, Tensor w, Tensor b, int group, int stride, int pad, boolean relu) {
        int batch = x.dim(0);
        int c = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int m = w.dim(0);
        int k = w.dim(2);
        int cg = c / group;
        int mg = m / group;
        int oh = (h + 2 * pad - k) / stride + 1;
        int ow = (wd + 2 * pad - k) / stride + 1;
        double[] y = new double[batch * m * oh * ow];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < m; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double s = b.getFloat(o);
                        for (int ci = 0; ci < cg; ci++) {
                            for (int a = 0; a < k; a++) {
                                for (int q = 0; q < k; q++) {
                                    int iy = i * stride - pad + a;
                                    int ix = j * stride - pad + q;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        int cc = (o / mg) * cg + ci;
                                        s += (double) x.getFloat(((n * c + cc) * h + iy) * wd + ix)
                                                * w.getFloat(((o * cg + ci) * k + a) * k + q);
                                    }
                                }
                            }
                        }
                        y[((n * m + o) * oh + i) * ow + j] = relu ? Math.max(0, s) : s;
                    }
                }
            }
        }
        return y;
    }

    @Test
    void convolutionsOfEveryModeAreTheSameOnAnyThreadCount() {
        Random r = new Random(21);
        // batch, c, m, size, k, stride, pad, group: im2col, strided, grouped, pointwise, depthwise
        int[][] cases = {{1, 32, 64, 40, 3, 1, 1, 1}, {2, 3, 16, 64, 7, 2, 3, 1}, {1, 32, 32, 28, 3, 1, 1, 4},
            {1, 96, 64, 56, 1, 1, 0, 1}, {2, 64, 64, 56, 3, 1, 1, 64}, {1, 128, 128, 28, 3, 2, 1, 128}};
        for (int[] cs : cases) {
            int batch = cs[0];
            int c = cs[1];
            int m = cs[2];
            int size = cs[3];
            int k = cs[4];
            int stride = cs[5];
            int pad = cs[6];
            int group = cs[7];
            Tensor x = random(r, batch, c, size, size);
            Tensor w = random(r, m, c / group, k, k);
            Tensor b = random(r, m);
            Node node = new Node("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"), Map.of(
                    "strides", new Attr.Ints(new long[] {stride, stride}), "pads", new Attr.Ints(new long[] {pad, pad,
                        pad, pad}), "group", new Attr.Int(group), "fused_activation", new Attr.Str("Relu")));
            int out = (size + 2 * pad - k) / stride + 1;
            Map<String, Tensor> consts = new LinkedHashMap<>();
            consts.put("w", w);
            consts.put("b", b);
            float[] y = runAll(node, x, consts, new int[] {batch, m, out, out});
            near(conv(x, w, b, group, stride, pad, true), y, "conv " + Arrays.toString(cs));
        }
    }

    @Test
    void productsAreTheSameOnAnyThreadCount() {
        Random r = new Random(22);
        // Gemm with a full C, unpacked and packed B (a tall A makes packing pay)
        for (int m : new int[] {1, 7, 300}) {
            int k = 256;
            int n = 520;
            Tensor a = random(r, m, k);
            Tensor bt = random(r, n, k);
            Tensor c = random(r, m, n);
            Node node = new Node("gemm", Op.Gemm, List.of("x", "b", "c"), List.of("y"), Map.of("transB",
                    new Attr.Int(1), "alpha", new Attr.Float(0.5f), "beta", new Attr.Float(2f)));
            Map<String, Tensor> consts = new LinkedHashMap<>();
            consts.put("b", bt);
            consts.put("c", c);
            float[] y = runAll(node, a, consts, new int[] {m, n});
            double[] e = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += (double) a.getFloat(i * k + p) * bt.getFloat(j * k + p);
                    }
                    e[i * n + j] = 0.5 * s + 2 * c.getFloat(i * n + j);
                }
            }
            near(e, y, "gemm m=" + m);
        }
        // batched MatMul against a constant stack of B matrices
        Tensor a = random(r, 3, 200, 128);
        Tensor b = random(r, 3, 128, 300);
        Node mm = Node.of("mm", Op.MatMul, List.of("x", "b"), List.of("y"));
        float[] y = runAll(mm, a, Map.of("b", b), new int[] {3, 200, 300});
        double[] e = new double[3 * 200 * 300];
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < 200; i++) {
                for (int j = 0; j < 300; j++) {
                    double s = 0;
                    for (int p = 0; p < 128; p++) {
                        s += (double) a.getFloat((t * 200 + i) * 128 + p) * b.getFloat((t * 128 + p) * 300 + j);
                    }
                    e[(t * 200 + i) * 300 + j] = s;
                }
            }
        }
        near(e, y, "batched matmul");
    }

    @Test
    void largeProductsAreSplitAndSmallOnesAreNot() {
        Tiles big = new Tiles(64, 3136, 576);
        assertTrue(big.count() > 1 && big.count() <= Tiles.MAX_TILES, "tiles " + big.count());
        assertEquals(1, new Tiles(16, 64, 64).count());
        Tiles packed = new Tiles(512, 512, 512, false, Integer.MAX_VALUE);
        assertEquals(1, packed.tilesN, "packed B: rows only");
        assertTrue(packed.tilesM > 1);
        // every element in exactly one tile
        int[] hits = new int[64 * 3136];
        for (int t = 0; t < big.count(); t++) {
            for (int i = big.m0(t); i < big.m1(t); i++) {
                for (int j = big.n0(t); j < big.n1(t); j++) {
                    hits[i * 3136 + j]++;
                }
            }
        }
        for (int h : hits) {
            assertEquals(1, h);
        }
    }
}
