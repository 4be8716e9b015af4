package dev.hedge.kernels.ref.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.kernels.ref.reduce.OneNode;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Normalization kernels against scalar references written here. */
class NormalizationKernelsTest {

    static float[] randomFloats(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * 3 + 1);
        }
        return v;
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol * Math.max(1, Math.abs(expected[i])),
                    what + " element " + i + ": " + actual[i] + ", expected " + expected[i]);
        }
    }

    @Property(tries = 300)
    void layerNormalizationMatchesTheScalarReference(
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 1, max = 5) Integer> dims,
            @ForAll @IntRange(min = 0, max = 3) int axisPick, @ForAll boolean negative, @ForAll boolean withBias,
            @ForAll boolean broadcastScale, @ForAll boolean withStats, @ForAll boolean constantParams,
            @ForAll long seed) {
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        int rank = shape.length;
        int axis = axisPick % rank;
        Random rnd = new Random(seed);
        int outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b) / outer;
        float[] xv = randomFloats(outer * n, rnd);
        // broadcastScale: one scale per last-axis position only, shape [shape[rank-1]]
        int[] scaleShape = broadcastScale ? new int[] {shape[rank - 1]} : Arrays.copyOfRange(shape, axis, rank);
        int scaleLen = Arrays.stream(scaleShape).reduce(1, (a, b) -> a * b);
        float[] sv = randomFloats(scaleLen, rnd);
        float[] bv = randomFloats(n, rnd);
        float eps = 1e-3f;
        OneNode node = OneNode.of(Op.LayerNormalization).attr("axis", negative ? axis - rank : axis)
                .attr("epsilon", eps).input(Tensor.of(xv, shape));
        Tensor scale = Tensor.of(sv, scaleShape);
        Tensor bias = Tensor.of(bv, Arrays.copyOfRange(shape, axis, rank));
        if (constantParams) {
            node.constant(scale);
        } else {
            node.input(scale);
        }
        if (withBias) {
            if (constantParams) {
                node.constant(bias);
            } else {
                node.input(bias);
            }
        }
        node.outputs(withStats ? new String[] {"y", "mean", "inv"} : new String[] {"y"});
        List<Tensor> out = node.run();

        float[] ey = new float[outer * n];
        float[] em = new float[outer];
        float[] ei = new float[outer];
        int last = shape[rank - 1];
        for (int o = 0; o < outer; o++) {
            double mean = 0;
            for (int j = 0; j < n; j++) {
                mean += xv[o * n + j];
            }
            mean /= n;
            double var = 0;
            for (int j = 0; j < n; j++) {
                var += (xv[o * n + j] - mean) * (xv[o * n + j] - mean);
            }
            var /= n;
            double inv = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < n; j++) {
                double s = broadcastScale ? sv[j % last] : sv[j];
                ey[o * n + j] = (float) ((xv[o * n + j] - mean) * inv * s + (withBias ? bv[j] : 0));
            }
            em[o] = (float) mean;
            ei[o] = (float) inv;
        }
        assertClose(ey, out.get(0).toFloatArray(), 1e-5, "Y");
        if (withStats) {
            int[] statShape = shape.clone();
            Arrays.fill(statShape, axis, rank, 1);
            assertArrayEquals(statShape, out.get(1).shape());
            assertEquals(DType.FLOAT32, out.get(1).dtype());
            assertClose(em, out.get(1).toFloatArray(), 1e-6, "Mean");
            assertClose(ei, out.get(2).toFloatArray(), 1e-6, "InvStdDev");
        }
    }

    @Example
    void layerNormalizationOfFloat16ComputesInFloat() {
        Tensor x = Tensor.allocate(DType.FLOAT16, 1, 3);
        x.setDouble(0, 1000);
        x.setDouble(1, 1001);
        x.setDouble(2, 1002);
        Tensor s = Tensor.allocate(DType.FLOAT16, 3);
        for (int i = 0; i < 3; i++) {
            s.setDouble(i, 1);
        }
        List<Tensor> out = OneNode.of(Op.LayerNormalization).input(x).constant(s).outputs("y", "", "inv").run();
        assertEquals(DType.FLOAT16, out.get(0).dtype());
        double r = 1 / Math.sqrt(2.0 / 3 + 1e-5);
        assertClose(new float[] {(float) -r, 0, (float) r}, out.get(0).toFloatArray(), 2e-3, "Y");
        assertEquals(DType.FLOAT32, out.get(1).dtype());
    }

    @Example
    void layerNormalizationRejectsANonBroadcastingScale() {
        Tensor x = Tensor.allocate(DType.FLOAT32, 2, 3);
        HedgeException e = assertThrows(HedgeException.class, () -> OneNode.of(Op.LayerNormalization).input(x)
                .constant(Tensor.of(new float[] {1, 1}, 2)).run());
        assertTrue(e.getMessage().contains("Scale of shape [2] does not broadcast to the normalized shape [3]"),
                e.getMessage());
    }

    static float[] batchNormReference(float[] x, int n, int c, int plane, float[] s, float[] b, float[] m, float[] v,
            float eps) {
        float[] y = new float[x.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < plane; p++) {
                    int k = (i * c + ch) * plane + p;
                    y[k] = (float) ((x[k] - m[ch]) / Math.sqrt(v[ch] + eps) * s[ch] + b[ch]);
                }
            }
        }
        return y;
    }

    @Example
    void batchNormalizationWithConstantAndRuntimeParameters() {
        Random rnd = new Random(3);
        int n = 2, c = 3, h = 4, w = 5;
        float[] x = randomFloats(n * c * h * w, rnd);
        float[] s = randomFloats(c, rnd);
        float[] b = randomFloats(c, rnd);
        float[] m = randomFloats(c, rnd);
        float[] v = {0.5f, 2f, 3f};
        float[] expected = batchNormReference(x, n, c, h * w, s, b, m, v, 1e-3f);
        Tensor[] p = {Tensor.of(s, c), Tensor.of(b, c), Tensor.of(m, c), Tensor.of(v, c)};
        OneNode folded = OneNode.of(Op.BatchNormalization).attr("epsilon", 1e-3f).input(Tensor.of(x, n, c, h, w));
        OneNode runtime = OneNode.of(Op.BatchNormalization).attr("epsilon", 1e-3f).input(Tensor.of(x, n, c, h, w));
        for (Tensor t : p) {
            folded.constant(t);
            runtime.input(t);
        }
        assertClose(expected, folded.run().get(0).toFloatArray(), 1e-5, "constant parameters");
        assertClose(expected, runtime.run().get(0).toFloatArray(), 1e-5, "run-time parameters");

        // float64 and a rank-2 input (no spatial dims)
        Tensor x64 = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor y64 = OneNode.of(Op.BatchNormalization).input(x64).constant(Tensor.of(new double[] {1, 2, 3}, 3))
                .constant(Tensor.of(new double[] {0, 0, 1}, 3)).constant(Tensor.of(new double[] {1, 1, 1}, 3))
                .constant(Tensor.of(new double[] {1, 4, 9}, 3)).run().get(0);
        double e = 1e-5;
        double[] exp64 = {0, 2 * 1 / Math.sqrt(4 + e), 3 * 2 / Math.sqrt(9 + e) + 1,
            3 / Math.sqrt(1 + e), 2 * 4 / Math.sqrt(4 + e), 3 * 5 / Math.sqrt(9 + e) + 1};
        assertArrayEquals(exp64, y64.toDoubleArray(), 1e-12);
    }

    @Example
    void batchNormalizationTrainingModeIsUnsupported() {
        Tensor x = Tensor.allocate(DType.FLOAT32, 1, 2, 2);
        Tensor p = Tensor.of(new float[] {1, 1}, 2);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> OneNode.of(Op.BatchNormalization).attr("training_mode", 1).input(x).constant(p).constant(p)
                        .constant(p).constant(p).run());
        assertTrue(e.getMessage().contains("training_mode=1"), e.getMessage());
        HedgeException e2 = assertThrows(HedgeException.class,
                () -> OneNode.of(Op.BatchNormalization).input(x).constant(p).constant(p).constant(p).constant(p)
                        .outputs("y", "running_mean").run());
        assertTrue(e2.getMessage().contains("only in training mode"), e2.getMessage());
    }

    /** Group norm over (N, C, plane) with G groups; per-channel or per-group scale/bias. */
    static float[] groupNormReference(float[] x, int n, int c, int plane, int g, float[] s, float[] b, float eps) {
        float[] y = new float[x.length];
        int cg = c / g;
        for (int i = 0; i < n; i++) {
            for (int gi = 0; gi < g; gi++) {
                double sum = 0;
                int base = (i * c + gi * cg) * plane;
                for (int k = 0; k < cg * plane; k++) {
                    sum += x[base + k];
                }
                double mean = sum / (cg * plane);
                double var = 0;
                for (int k = 0; k < cg * plane; k++) {
                    var += (x[base + k] - mean) * (x[base + k] - mean);
                }
                var /= cg * plane;
                for (int k = 0; k < cg * plane; k++) {
                    int ch = gi * cg + k / plane;
                    int pi = s.length == c ? ch : gi;
                    y[base + k] = (float) ((x[base + k] - mean) / Math.sqrt(var + eps) * s[pi] + b[pi]);
                }
            }
        }
        return y;
    }

    @Example
    void instanceAndGroupNormalization() {
        Random rnd = new Random(11);
        int n = 2, c = 6, plane = 7;
        float[] x = randomFloats(n * c * plane, rnd);
        float[] sc = randomFloats(c, rnd);
        float[] bc = randomFloats(c, rnd);
        Tensor xt = Tensor.of(x, n, c, 1, plane);
        assertClose(groupNormReference(x, n, c, plane, c, sc, bc, 1e-5f),
                OneNode.of(Op.InstanceNormalization).input(xt).constant(Tensor.of(sc, c)).input(Tensor.of(bc, c))
                        .run().get(0).toFloatArray(), 1e-5, "InstanceNormalization");
        // opset 21: per-channel scale and bias
        assertClose(groupNormReference(x, n, c, plane, 3, sc, bc, 1e-4f),
                OneNode.of(Op.GroupNormalization).attr("num_groups", 3).attr("epsilon", 1e-4f).input(xt)
                        .constant(Tensor.of(sc, c)).constant(Tensor.of(bc, c)).run().get(0).toFloatArray(), 1e-5,
                "GroupNormalization-21");
        // opset 18: per-group scale and bias
        float[] sg = {2, -1};
        float[] bg = {0.5f, 3};
        assertClose(groupNormReference(x, n, c, plane, 2, sg, bg, 1e-5f),
                OneNode.of(Op.GroupNormalization).attr("num_groups", 2).input(xt).input(Tensor.of(sg, 2))
                        .input(Tensor.of(bg, 2)).run().get(0).toFloatArray(), 1e-5, "GroupNormalization-18");
        HedgeException e = assertThrows(HedgeException.class, () -> OneNode.of(Op.GroupNormalization)
                .attr("num_groups", 4).input(xt).constant(Tensor.of(sc, c)).constant(Tensor.of(bc, c)).run());
        assertTrue(e.getMessage().contains("num_groups 4 does not divide the 6 channels"), e.getMessage());
    }

    @Example
    void lrnAcrossChannels() {
        Random rnd = new Random(5);
        int n = 2, c = 5, plane = 3, size = 4;
        float alpha = 2e-2f, beta = 0.6f, bias = 1.5f;
        float[] x = randomFloats(n * c * plane, rnd);
        float[] e = new float[x.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < plane; p++) {
                    double sq = 0;
                    // size 4: one channel before, two after
                    for (int k = Math.max(0, ch - 1); k <= Math.min(c - 1, ch + 2); k++) {
                        double v = x[(i * c + k) * plane + p];
                        sq += v * v;
                    }
                    int idx = (i * c + ch) * plane + p;
                    e[idx] = (float) (x[idx] / Math.pow(bias + alpha / size * sq, beta));
                }
            }
        }
        Tensor y = OneNode.of(Op.LRN).attr("size", size).attr("alpha", alpha).attr("beta", beta).attr("bias", bias)
                .input(Tensor.of(x, n, c, plane)).run().get(0);
        assertClose(e, y.toFloatArray(), 1e-5, "LRN");
    }

    @Example
    void lpNormalization() {
        Tensor x = Tensor.of(new float[] {3, 0, -4, 0, 1, 0}, 2, 3);
        // axis 0: columns (3, 0), (0, 1), (-4, 0)
        assertArrayEquals(new float[] {1, 0, -1, 0, 1, 0},
                OneNode.of(Op.LpNormalization).attr("axis", 0).input(x).run().get(0).toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {3f / 7, 0, -4f / 7, 0, 1, 0},
                OneNode.of(Op.LpNormalization).attr("p", 1).input(x).run().get(0).toFloatArray(), 1e-6f);
        // an all-zero slice stays zero
        Tensor z = Tensor.of(new float[] {0, 0, 1, 1}, 2, 2);
        float r = (float) (1 / Math.sqrt(2));
        assertArrayEquals(new float[] {0, 0, r, r},
                OneNode.of(Op.LpNormalization).input(z).run().get(0).toFloatArray(), 1e-6f);
        // 600 slices of 40 columns, normalized along the middle axis in tiles of columns
        Random rnd = new Random(8);
        float[] big = randomFloats(2 * 600 * 40, rnd);
        float[] e2 = new float[big.length];
        for (int a = 0; a < 2; a++) {
            for (int i = 0; i < 40; i++) {
                double s = 0;
                for (int j = 0; j < 600; j++) {
                    s += Math.abs(big[(a * 600 + j) * 40 + i]);
                }
                for (int j = 0; j < 600; j++) {
                    e2[(a * 600 + j) * 40 + i] = (float) (big[(a * 600 + j) * 40 + i] / s);
                }
            }
        }
        assertClose(e2, OneNode.of(Op.LpNormalization).attr("axis", 1).attr("p", 1)
                .input(Tensor.of(big, 2, 600, 40)).run().get(0).toFloatArray(), 1e-5, "L1 along axis 1");
        HedgeException e = assertThrows(HedgeException.class,
                () -> OneNode.of(Op.LpNormalization).attr("p", 3).input(z).run());
        assertTrue(e.getMessage().contains("p = 3, must be 1 or 2"), e.getMessage());
    }
}
