package dev.hedge.converter.quantize;

import static dev.hedge.converter.quantize.QTestGraphs.node;
import static dev.hedge.converter.quantize.QTestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.Progress;
import dev.hedge.converter.data.Dataset;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Error-feedback rounding, its input statistics, bias correction and activation smoothing, each checked directly. */
class RoundingAndSmoothingTest {

    /** Correlated inputs: a few latent factors mixed into k features, with very different scales. */
    private static double[] correlatedRows(long seed, int rows, int k) {
        Random r = new Random(seed);
        double[][] mix = new double[4][k];
        for (double[] m : mix) {
            for (int j = 0; j < k; j++) {
                m[j] = r.nextGaussian() * (1 + j % 5);
            }
        }
        double[] x = new double[rows * k];
        for (int i = 0; i < rows; i++) {
            double[] z = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
            for (int j = 0; j < k; j++) {
                double v = 0.1 * r.nextGaussian();
                for (int f = 0; f < 4; f++) {
                    v += z[f] * mix[f][j];
                }
                x[i * k + j] = v;
            }
        }
        return x;
    }

    @Test
    void errorFeedbackBeatsNearestRoundingOnTheCalibrationOutputs() {
        int k = 24;
        int outs = 6;
        int rows = 400;
        double[] x = correlatedRows(1, rows, k);
        double[] h = new double[k * k];
        for (int i = 0; i < rows; i++) {
            for (int a = 0; a < k; a++) {
                for (int b = a; b < k; b++) {
                    h[a * k + b] += x[i * k + a] * x[i * k + b] / rows;
                }
            }
        }
        Random r = new Random(2);
        double[] w = new double[outs * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextGaussian();
        }
        double step = 0.25;
        Gptq.Grid grid = (row, j, v) -> Math.rint(v / step) * step;
        double[] fb = w.clone();
        assertTrue(Gptq.round(fb, outs, k, h, grid));
        double errRtn = 0;
        double errFb = 0;
        for (int o = 0; o < outs; o++) {
            for (int i = 0; i < rows; i++) {
                double y = 0;
                double yr = 0;
                double yf = 0;
                for (int j = 0; j < k; j++) {
                    y += w[o * k + j] * x[i * k + j];
                    yr += grid.round(o, j, w[o * k + j]) * x[i * k + j];
                    yf += fb[o * k + j] * x[i * k + j];
                }
                errRtn += (y - yr) * (y - yr);
                errFb += (y - yf) * (y - yf);
            }
        }
        for (double v : fb) {
            assertEquals(0, Math.IEEEremainder(v, step), 1e-12, "every weight on the grid");
        }
        assertTrue(errFb < 0.7 * errRtn, "error feedback " + errFb + " vs nearest " + errRtn);
    }

    @Test
    void convInputStatisticsAreTheMeansAndCentredGramOfIm2colRows() {
        Graph g = Graph.builder("c").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 5))
                .initializer("w", random(1, 1f, 3, 2, 3))
                .addNode(node("conv", Op.Conv, List.of("x", "w"), List.of("y"), "pads", new long[] {1, 1}))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 3, 5)).build();
        List<Map<String, Tensor>> samples = new ArrayList<>();
        List<float[]> xs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Tensor x = random(10 + i, 1f, 1, 2, 5);
            samples.add(Map.of("x", x));
            xs.add(x.toFloatArray());
        }
        Map<String, Layer> layers = new LinkedHashMap<>();
        for (Layer l : Layers.find(g)) {
            layers.put(l.name(), l);
        }
        Map<String, List<InputStatistics.Stats>> h = InputStatistics.collect(new ModelDef(g, Map.of()),
                Dataset.of(samples), layers, layers.keySet(), RuntimeOptions.reference(), Progress.NONE);
        double[] got = h.get("conv").get(0).gram()[0];
        double[] gotMean = h.get("conv").get(0).mean()[0];
        // rows: for each output position p, (channel c, tap t) = x[c][p - 1 + t] or 0 outside
        int k = 6;
        List<double[]> rows = new ArrayList<>();
        for (float[] x : xs) {
            for (int p = 0; p < 5; p++) {
                double[] row = new double[k];
                for (int c = 0; c < 2; c++) {
                    for (int t = 0; t < 3; t++) {
                        int i = p - 1 + t;
                        row[c * 3 + t] = i < 0 || i >= 5 ? 0 : x[c * 5 + i];
                    }
                }
                rows.add(row);
            }
        }
        double[] mean = new double[k];
        for (double[] row : rows) {
            for (int j = 0; j < k; j++) {
                mean[j] += row[j] / rows.size();
            }
        }
        // padding taps count as the zeros they read: per (channel, tap), not per channel
        assertArrayEquals(mean, gotMean, 1e-5);
        for (int a = 0; a < k; a++) {
            for (int b = a; b < k; b++) {
                double c = 0;
                for (double[] row : rows) {
                    c += (row[a] - mean[a]) * (row[b] - mean[b]) / rows.size();
                }
                assertEquals(c, got[a * k + b], 1e-5, "entry " + a + "," + b);
            }
        }
    }

    @Test
    void biasCorrectionRemovesTheMeanShiftOfQuantizedWeights() {
        Tensor w = random(3, 1f, 4, 3);
        Tensor wq = Tensor.of(new float[] {0.1f, 0, 0, 0, 0.2f, 0, 0, 0, -0.3f, 0.05f, 0, 0}, 4, 3);
        float[] sum = w.toFloatArray();
        float[] q = wq.toFloatArray();
        for (int i = 0; i < q.length; i++) {
            q[i] += sum[i];
        }
        Tensor shifted = Tensor.of(q, 4, 3);
        double[] mean = {2, -1, 0.5, 4};
        Node mm = node("mm", Op.MatMul, List.of("x", "w"), List.of("y"));
        // W is [K=4, N=3]: output n shifts by sum_k dW[k][n] * mean[k]
        float[] c = BiasCorrection.correction(mm, w, shifted, 1, new double[][] {mean}, 1);
        assertArrayEquals(new float[] {-(0.1f * 2 + 0.05f * 4), -(0.2f * -1), -(-0.3f * 0.5f)}, c, 1e-6f);
    }

    @Test
    void smoothingKeepsTheFunctionAndNarrowsTheChannelSpread() {
        // fc1 gives its 8 channels very different ranges; fc2 reads them
        Tensor w1 = random(1, 1f, 6, 8);
        float[] v = w1.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= (float) Math.pow(3, i % 8 - 3);
        }
        Graph g = Graph.builder("m").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 6))
                .initializer("w1", Tensor.of(v, 6, 8)).initializer("b1", random(2, 0.1f, 8))
                .initializer("w2", random(3, 0.5f, 8, 4))
                .addNode(node("fc1", Op.Gemm, List.of("x", "w1", "b1"), List.of("h"), "fused_activation", "Relu"))
                .addNode(node("fc2", Op.MatMul, List.of("h", "w2"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 4)).build();
        ModelDef m = new ModelDef(g, Map.of());
        assertEquals(List.of(new Smoothing.Pair("fc1", "fc2", "h")), Smoothing.pairs(g));
        Dataset data = QTestGraphs.samples("x", 5, 32, 1, 6);
        Map<String, ValueStats> stats = Calibrator.calibrate(m, data, java.util.Set.of("h"), Map.of("h", -1), false,
                RuntimeOptions.reference(), Progress.NONE);
        double[] before = stats.get("h").channelAbsMax();
        Map<String, float[]> divisors = new HashMap<>();
        Graph s = Smoothing.apply(g, Map.of("h", before), divisors);
        float[] d = divisors.get("h");
        assertNotNull(d);
        ModelDef sm = m.withGraph(s);
        for (int i = 0; i < 4; i++) {
            Tensor x = random(100 + i, 1f, 1, 6);
            assertArrayEquals(QTestGraphs.run(m, Map.of("x", x)).get("y").toFloatArray(),
                    QTestGraphs.run(sm, Map.of("x", x)).get("y").toFloatArray(), 1e-4f);
        }
        double[] after = Calibrator.calibrate(sm, data, java.util.Set.of("h"), Map.of("h", -1), false,
                RuntimeOptions.reference(), Progress.NONE).get("h").channelAbsMax();
        assertTrue(spread(after) < spread(before) / 3, spread(before) + " -> " + spread(after));
        for (int j = 0; j < 8; j++) {
            assertEquals(before[j], after[j] * d[j], 1e-4 * before[j]);
        }
    }

    private static double spread(double[] v) {
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (double x : v) {
            if (x > 0) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
        }
        return hi / lo;
    }
}
