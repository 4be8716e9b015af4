package dev.hedge.converter.reconstruct;

import static dev.hedge.converter.prune.PruneGraphs.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.prune.ChannelPruning;
import dev.hedge.converter.prune.MagnitudePruning;
import dev.hedge.converter.prune.PruneGraphs;
import dev.hedge.converter.prune.TestRuntime;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReconstructionTest {

    private static final Graph MLP = PruneGraphs.mlp(11, -1, 12, 20, 16, 6);

    /** Plain Gaussian elimination with partial pivoting: the reference for the LAPACK solve. */
    static double[] javaSolve(double[][] a, double[] b) {
        int n = b.length;
        double[][] m = new double[n][];
        for (int i = 0; i < n; i++) {
            m[i] = java.util.Arrays.copyOf(a[i], n + 1);
            m[i][n] = b[i];
        }
        for (int c = 0; c < n; c++) {
            int p = c;
            for (int r = c + 1; r < n; r++) {
                if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
                    p = r;
                }
            }
            double[] t = m[c];
            m[c] = m[p];
            m[p] = t;
            for (int r = c + 1; r < n; r++) {
                double f = m[r][c] / m[c][c];
                for (int k = c; k <= n; k++) {
                    m[r][k] -= f * m[c][k];
                }
            }
        }
        double[] x = new double[n];
        for (int r = n - 1; r >= 0; r--) {
            double s = m[r][n];
            for (int k = r + 1; k < n; k++) {
                s -= m[r][k] * x[k];
            }
            x[r] = s / m[r][r];
        }
        return x;
    }

    @Test
    void lapackCholeskySolveMatchesADirectJavaSolve() {
        Random r = new Random(1);
        for (int n : new int[] {1, 2, 5, 17, 40}) {
            double[][] x = new double[n + 3][n];
            for (double[] row : x) {
                for (int j = 0; j < n; j++) {
                    row[j] = r.nextGaussian();
                }
            }
            double[][] a = new double[n][n];
            double[] flat = new double[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    for (double[] row : x) {
                        a[i][j] += row[i] * row[j];
                    }
                    flat[i * n + j] = a[i][j];
                }
            }
            double[] rhs = new double[n * 2];
            double[] b0 = new double[n];
            double[] b1 = new double[n];
            for (int i = 0; i < n; i++) {
                b0[i] = r.nextGaussian();
                b1[i] = r.nextGaussian();
                rhs[i * 2] = b0[i];
                rhs[i * 2 + 1] = b1[i];
            }
            assertTrue(Blas.solveSpd(flat, rhs, n, 2));
            double[] e0 = javaSolve(a, b0);
            double[] e1 = javaSolve(a, b1);
            for (int i = 0; i < n; i++) {
                assertEquals(e0[i], rhs[i * 2], 1e-8 * (1 + Math.abs(e0[i])));
                assertEquals(e1[i], rhs[i * 2 + 1], 1e-8 * (1 + Math.abs(e1[i])));
            }
        }
        assertFalse(Blas.solveSpd(new double[] {1, 2, 2, 1}, new double[] {1, 1}, 2, 1), "indefinite");
    }

    @Test
    void gramAndCrossProductsMatchJava() {
        Random r = new Random(2);
        int rows = 7;
        int k = 4;
        int m = 3;
        double[] x = new double[rows * k];
        double[] y = new double[rows * m];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextGaussian();
        }
        double[] gram = new double[k * k];
        double[] cross = new double[k * m];
        Blas.addGram(x, rows, k, gram);
        Blas.addCross(x, y, rows, k, m, cross);
        double[] w = new double[m * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextGaussian();
        }
        double[] xw = new double[rows * m];
        Blas.timesTransposed(x, w, rows, k, m, xw);
        for (int a = 0; a < k; a++) {
            for (int b = a; b < k; b++) {
                double s = 0;
                for (int i = 0; i < rows; i++) {
                    s += x[i * k + a] * x[i * k + b];
                }
                assertEquals(s, gram[a * k + b], 1e-12);
            }
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int i = 0; i < rows; i++) {
                    s += x[i * k + a] * y[i * m + j];
                }
                assertEquals(s, cross[a * m + j], 1e-12);
            }
        }
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int a = 0; a < k; a++) {
                    s += x[i * k + a] * w[j * k + a];
                }
                assertEquals(s, xw[i * m + j], 1e-12);
            }
        }
    }

    /** Rows times weights plus bias reproduce the layer's output as the runtime computes it. */
    @Test
    void layerRowsReproduceConvAndGemmOutputs() {
        Graph.Builder b = PruneGraphs.graph("x", 2, 4, 7, 6);
        b.initializer("w", PruneGraphs.random(1, 6, 2, 3, 2));
        b.initializer("bias", PruneGraphs.random(2, 6));
        b.addNode(node("c", Op.Conv, "x,w,bias->y", "group", 2, "strides", new long[] {2, 1},
                "pads", new long[] {1, 0, 2, 1}, "dilations", new long[] {2, 1}));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        checkRows(b.build(), PruneGraphs.random(3, 2, 4, 7, 6));

        Graph.Builder g = PruneGraphs.graph("x", 5, 3);
        g.initializer("B", PruneGraphs.random(4, 5, 4));
        g.initializer("C", PruneGraphs.random(5, 4));
        g.addNode(node("fc", Op.Gemm, "x,B,C->y", "transA", 1, "alpha", 0.5f, "beta", 2f));
        g.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        checkRows(g.build(), PruneGraphs.random(6, 5, 3));
    }

    private static void checkRows(Graph g, Tensor x) {
        Node n = g.nodes().get(0);
        Tensor y = TestRuntime.run(g, Map.of("x", x));
        LayerView v = (LayerView) LayerView.of(g, n, x.shape());
        double[] w = v.weights(g);
        double[] bias = v.bias(g);
        double[] rows = new double[v.rows * v.width()];
        int positions = v.rows / (n.op() == Op.Conv ? x.dim(0) : 1);
        for (int gi = 0; gi < v.groups; gi++) {
            v.rows(x, gi, 0, v.rows, rows);
            for (int r = 0; r < v.rows; r++) {
                for (int j = 0; j < v.outPerGroup; j++) {
                    int o = gi * v.outPerGroup + j;
                    double s = bias[o];
                    for (int c = 0; c < v.k; c++) {
                        s += rows[r * v.width() + c] * w[o * v.k + c];
                    }
                    int at = n.op() == Op.Conv ? (r / positions * v.outputs() + o) * positions + r % positions
                            : r * v.outputs() + o;
                    assertEquals(y.getDouble(at), s, 1e-4, "row " + r + " output " + o);
                }
            }
        }
    }

    private static List<Map<String, Tensor>> calibration(int batches, int rows, int features) {
        List<Map<String, Tensor>> l = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            l.add(Map.of("x", PruneGraphs.random(100 + i, rows, features)));
        }
        return l;
    }

    private static double outputError(Graph teacher, Graph student, List<Map<String, Tensor>> data) {
        double e = 0;
        double s = 0;
        for (Map<String, Tensor> in : data) {
            Tensor a = TestRuntime.run(teacher, in);
            Tensor b = TestRuntime.run(student, in);
            for (int i = 0; i < a.elementCount(); i++) {
                e += Math.pow(a.getDouble(i) - b.getDouble(i), 2);
                s += Math.pow(a.getDouble(i), 2);
            }
        }
        return e / s;
    }

    @Test
    void refitKeepsTheMaskAndMatchesTheRidgeSolutionComputedInJava() {
        Graph teacher = PruneGraphs.mlp(11, -1, 12, 20, 6);
        Graph student = MagnitudePruning.prune(teacher,
                MagnitudePruning.Options.sparsity(0.6).withSkipFirstLast(false)).graph();
        List<Map<String, Tensor>> calib = calibration(3, 40, 12);
        Reconstruction.Result r = Reconstruction.reconstruct(teacher, student, calib,
                Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS));
        assertEquals(List.of("fc0", "fc1"), r.layers().stream().map(Reconstruction.LayerError::node).toList());
        for (Reconstruction.LayerError e : r.layers()) {
            assertEquals(120, e.rows());
            assertTrue(e.relErrorAfter() < e.relErrorBefore(), e.toString());
        }
        for (String w : List.of("w0", "w1")) {
            Tensor before = student.initializers().get(w);
            Tensor after = r.graph().initializers().get(w);
            for (int i = 0; i < before.elementCount(); i++) {
                assertEquals(before.getDouble(i) == 0, after.getDouble(i) == 0, w + "[" + i + "] mask");
            }
        }
        // first layer: its inputs are the calibration data itself; solve output 3 by hand
        int k = 12;
        int o = 3;
        double[] w0 = student.initializers().get("w0").toDoubleArray();
        double[] tw = teacher.initializers().get("w0").toDoubleArray();
        double[] tb = teacher.initializers().get("b0").toDoubleArray();
        double[] sb = student.initializers().get("b0").toDoubleArray();
        List<Integer> cols = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            if (w0[o * k + c] != 0) {
                cols.add(c);
            }
        }
        cols.add(k);
        int m = cols.size();
        double[][] h = new double[k + 1][k + 1];
        double[] g = new double[k + 1];
        for (Map<String, Tensor> batch : calib) {
            Tensor x = batch.get("x");
            for (int row = 0; row < 40; row++) {
                double[] xr = new double[k + 1];
                double y = tb[o];
                for (int c = 0; c < k; c++) {
                    xr[c] = x.getDouble(row * k + c);
                    y += xr[c] * tw[o * k + c];
                }
                xr[k] = 1;
                for (int a = 0; a <= k; a++) {
                    g[a] += xr[a] * y;
                    for (int c = 0; c <= k; c++) {
                        h[a][c] += xr[a] * xr[c];
                    }
                }
            }
        }
        double trace = 0;
        for (int a = 0; a <= k; a++) {
            trace += h[a][a];
        }
        double lambda = 0.01 * trace / (k + 1);
        double[][] a = new double[m][m];
        double[] rhs = new double[m];
        for (int p = 0; p < m; p++) {
            int cp = cols.get(p);
            for (int q = 0; q < m; q++) {
                a[p][q] = h[cp][cols.get(q)];
            }
            a[p][p] += lambda;
            rhs[p] = g[cp] + lambda * (cp < k ? w0[o * k + cp] : sb[o]);
        }
        double[] expected = javaSolve(a, rhs);
        double[] got = r.graph().initializers().get("w0").toDoubleArray();
        double gotBias = r.graph().initializers().get("b0").getDouble(o);
        for (int p = 0; p < m; p++) {
            int cp = cols.get(p);
            double actual = cp < k ? got[o * k + cp] : gotBias;
            assertEquals(expected[p], actual, 1e-5 * (1 + Math.abs(expected[p])), "column " + cp);
        }
        assertTrue(outputError(teacher, r.graph(), calib) < 0.5 * outputError(teacher, student, calib));
    }

    @Test
    void weightTransformIsAppliedAndTheBiasResolvedForIt() {
        Graph teacher = MLP;
        Graph student = MagnitudePruning.prune(teacher, MagnitudePruning.Options.sparsity(0.5)).graph();
        List<Map<String, Tensor>> calib = calibration(2, 50, 12);
        Reconstruction.WeightTransform grid = (node, w) -> {
            Tensor t = w.copy();
            for (int i = 0; i < t.elementCount(); i++) {
                t.setDouble(i, Math.round(t.getDouble(i) * 4) / 4.0);
            }
            return t;
        };
        Reconstruction.Result plain = Reconstruction.reconstruct(teacher, student, calib,
                Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS));
        Reconstruction.Result r = Reconstruction.reconstruct(teacher, student, calib,
                Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS).withTransform(grid));
        Tensor w = r.graph().initializers().get("w1");
        for (int i = 0; i < w.elementCount(); i++) {
            assertEquals(0, w.getDouble(i) * 4 - Math.rint(w.getDouble(i) * 4), 1e-6);
        }
        assertEquals("refit, transformed, bias re-solved", r.layers().get(0).note());
        // the grid costs accuracy, but less than the error before any refit
        assertTrue(r.layers().get(0).relErrorAfter() >= plain.layers().get(0).relErrorAfter() - 1e-12);
        assertTrue(r.layers().get(0).relErrorAfter() < r.layers().get(0).relErrorBefore());
        // the re-solved bias beats the one the plain refit found for the unrounded weights
        Graph biasFromPlainRefit = r.graph().toBuilder().initializer("b1", plain.graph().initializers().get("b1"))
                .build();
        assertTrue(outputError(teacher, r.graph(), calib) <= outputError(teacher, biasFromPlainRefit, calib) + 1e-9);
    }

    @Test
    void nothingChangedMeansNothingRefit() {
        Reconstruction.Result r = Reconstruction.reconstruct(MLP, MLP, calibration(1, 8, 12),
                Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS));
        assertTrue(r.layers().isEmpty());
        assertSame(MLP, r.graph());
    }

    @Test
    void structuredPruningRefitsWithTheChannelMap() {
        Graph teacher = PruneGraphs.mlp(21, -1, 12, 24, 16, 6);
        ChannelPruning.Result p = ChannelPruning.prune(teacher,
                ChannelPruning.Options.of(0.5).withRuntime(TestRuntime.OPTIONS));
        List<Map<String, Tensor>> calib = calibration(3, 40, 12);
        Reconstruction.Result r = Reconstruction.reconstruct(teacher, p.graph(), calib,
                Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS)
                        .withOutputChannels(p.keptChannels()));
        assertEquals(3, r.layers().size());
        for (Reconstruction.LayerError e : r.layers()) {
            assertTrue(e.relErrorAfter() <= e.relErrorBefore() + 1e-12, e.toString());
        }
        assertTrue(outputError(teacher, r.graph(), calib) < outputError(teacher, p.graph(), calib));
    }

    @Test
    void obsMaskDropsWeightsWhoseInputsNeverFireAndKeepsTheCountPerOutput() {
        Graph.Builder b = PruneGraphs.graph("x", -1, 6);
        // column 0: the largest weights, but its input is always 0; the others have magnitudes in [0.6, 1)
        Tensor w = PruneGraphs.uniform(1, 0.6f, 1f, 8, 6);
        Random sign = new Random(4);
        for (int i = 0; i < 48; i++) {
            w.setDouble(i, i % 6 == 0 ? 2.5 : sign.nextBoolean() ? w.getDouble(i) : -w.getDouble(i));
        }
        b.initializer("w", w);
        b.initializer("bias", PruneGraphs.random(2, 8));
        b.addNode(node("fc", Op.Gemm, "x,w,bias->y", "transB", 1));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph teacher = b.build();
        Graph student = MagnitudePruning.prune(teacher,
                MagnitudePruning.Options.sparsity(0.5).withSkipFirstLast(false)).graph();
        List<Map<String, Tensor>> calib = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Tensor x = PruneGraphs.random(50 + i, 30, 6);
            for (int r = 0; r < 30; r++) {
                x.setDouble(r * 6, 0);
            }
            calib.add(Map.of("x", x));
        }
        Reconstruction.Options o = Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS);
        Reconstruction.Result magnitude = Reconstruction.reconstruct(teacher, student, calib, o);
        Reconstruction.Result obs = Reconstruction.reconstruct(teacher, student, calib, o.withObsMask(true));
        Tensor before = student.initializers().get("w");
        Tensor after = obs.graph().initializers().get("w");
        for (int out = 0; out < 8; out++) {
            assertTrue(before.getDouble(out * 6) != 0, "magnitude pruning keeps the large weight");
            assertEquals(0, after.getDouble(out * 6), 0, "OBS drops the weight of the input that is always 0");
            int kept = 0;
            int keptAfter = 0;
            for (int c = 0; c < 6; c++) {
                kept += before.getDouble(out * 6 + c) != 0 ? 1 : 0;
                keptAfter += after.getDouble(out * 6 + c) != 0 ? 1 : 0;
            }
            assertEquals(kept, keptAfter);
        }
        assertEquals("refit, OBS mask", obs.layers().get(0).note());
        assertTrue(obs.layers().get(0).relErrorAfter() < magnitude.layers().get(0).relErrorAfter(),
                obs.layers() + " vs " + magnitude.layers());
    }

    @Test
    void gptqErrorFeedbackBeatsRoundingEachWeightAlone() {
        Graph.Builder b = PruneGraphs.graph("x", -1, 16);
        b.initializer("w", PruneGraphs.random(1, 8, 16));
        b.initializer("bias", PruneGraphs.random(2, 8));
        b.addNode(node("fc", Op.Gemm, "x,w,bias->y", "transB", 1));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph g = b.build();
        // correlated inputs: x = z M, so rounding errors can be compensated by neighbouring weights
        Tensor mix = PruneGraphs.random(3, 16, 16);
        List<Map<String, Tensor>> calib = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Tensor z = PruneGraphs.random(60 + i, 40, 16);
            float[] x = new float[40 * 16];
            for (int r = 0; r < 40; r++) {
                for (int c = 0; c < 16; c++) {
                    double s = 0;
                    for (int j = 0; j < 16; j++) {
                        s += z.getDouble(r * 16 + j) * (j == c ? 2 : 0.5 * mix.getDouble(j * 16 + c));
                    }
                    x[r * 16 + c] = (float) s;
                }
            }
            calib.add(Map.of("x", Tensor.of(x, 40, 16)));
        }
        // 3-bit symmetric grid per output channel
        Reconstruction.RowQuantizer grid = (node, out, w) -> {
            double max = 0;
            for (double v : w) {
                max = Math.max(max, Math.abs(v));
            }
            double scale = max / 3;
            return v -> scale == 0 ? 0 : Math.max(-4, Math.min(3, Math.rint(v / scale))) * scale;
        };
        Reconstruction.WeightTransform rounding = (node, w) -> {
            Tensor t = w.copy();
            for (int o = 0; o < 8; o++) {
                double[] row = new double[16];
                for (int c = 0; c < 16; c++) {
                    row[c] = w.getDouble(o * 16 + c);
                }
                java.util.function.DoubleUnaryOperator r = grid.grid(node, o, row);
                for (int c = 0; c < 16; c++) {
                    t.setDouble(o * 16 + c, r.applyAsDouble(row[c]));
                }
            }
            return t;
        };
        Reconstruction.Options o = Reconstruction.Options.defaults().withRuntime(TestRuntime.OPTIONS)
                .withLayers(java.util.Set.of("fc"));
        Reconstruction.LayerError plain = Reconstruction.reconstruct(g, g, calib, o.withTransform(rounding))
                .layers().get(0);
        Reconstruction.Result r = Reconstruction.reconstruct(g, g, calib, o.withGptq(grid));
        Reconstruction.LayerError gptq = r.layers().get(0);
        assertEquals("refit, GPTQ-quantized, bias re-solved", gptq.note());
        assertTrue(gptq.relErrorAfter() < 0.8 * plain.relErrorAfter(), gptq + " vs " + plain);
        // every weight is on its row's grid
        Tensor w = r.graph().initializers().get("w");
        for (int out = 0; out < 8; out++) {
            double max = 0;
            for (int c = 0; c < 16; c++) {
                max = Math.max(max, Math.abs(w.getDouble(out * 16 + c)));
            }
            for (int c = 0; c < 16; c++) {
                double steps = w.getDouble(out * 16 + c) / (max / 3);
                assertTrue(Math.abs(steps - Math.rint(steps)) < 1e-4 || max == 0, "row " + out + " col " + c);
            }
        }
    }
}
