package dev.hedge.converter.quantize;

import static dev.hedge.converter.quantize.QTestGraphs.node;
import static dev.hedge.converter.quantize.QTestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hedge.converter.data.Dataset;
import dev.hedge.format.Decoding;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The quantizer's rewrites: structure, stored values, and outputs checked against scalar simulations. */
class ModelQuantizerTest {

    private static Map<String, LayerPrecision> all(List<Layer> layers, LayerPrecision p) {
        Map<String, LayerPrecision> m = new java.util.LinkedHashMap<>();
        for (Layer l : layers) {
            m.put(l.name(), p);
        }
        return m;
    }

    static double sqnr(float[] ref, float[] got) {
        double sig = 0;
        double noise = 0;
        for (int i = 0; i < ref.length; i++) {
            sig += (double) ref[i] * ref[i];
            noise += ((double) ref[i] - got[i]) * ((double) ref[i] - got[i]);
        }
        return 10 * Math.log10(sig / noise);
    }

    private static long q(float x, float s, int zp) {
        return (long) Math.max(0, Math.min(255, Math.rint(x / s) + zp));
    }

    @Test
    void staticInt8MlpIsQOperatorFormAndMatchesAScalarSimulation() {
        ModelDef m = QTestGraphs.mlp();
        List<Layer> layers = Layers.find(m.graph());
        Dataset calib = QTestGraphs.samples("x", 7, 32, 1, 6);
        Map<String, Ranges.Affine> acts = QTestGraphs.calibrate(m, calib, layers);
        ModelQuantizer.Result r = ModelQuantizer.quantize(m.graph(), layers, all(layers, LayerPrecision.INT8), acts,
                QuantOptions.of(LayerPrecision.INT8));
        Graph g = r.graph();
        // one QuantizeLinear in, fc1 hands fc2 its output in uint8; fc2's output only leaves the graph, so fc2
        // scales its int32 accumulators back to float rather than requantizing them
        assertEquals(List.of(Op.QuantizeLinear, Op.Mul, Op.QLinearMatMul, Op.MatMulInteger, Op.Cast, Op.Mul, Op.Add),
                QTestGraphs.ops(g));
        assertEquals("Relu", g.nodes().get(2).stringAttr("fused_activation"));
        // for full-integer targets: every layer requantizes, one DequantizeLinear out
        assertEquals(List.of(Op.QuantizeLinear, Op.QLinearMatMul, Op.QLinearMatMul, Op.DequantizeLinear),
                QTestGraphs.ops(ModelQuantizer.quantize(m.graph(), layers, all(layers, LayerPrecision.INT8), acts,
                        QuantOptions.of(LayerPrecision.INT8).withFloatOutputs(false)).graph()));

        // independent simulation from the float weights and the calibrated parameters
        Ranges.Affine px = acts.get("x");
        Ranges.Affine ph = acts.get("h");
        float[] w1 = m.graph().initializers().get("w1").toFloatArray();
        float[] b1 = m.graph().initializers().get("b1").toFloatArray();
        float[] w2 = m.graph().initializers().get("w2").toFloatArray();
        float[] b2 = m.graph().initializers().get("b2").toFloatArray();
        Tensor x = random(99, 1.2f, 1, 6);
        float[] xv = x.toFloatArray();
        long[] xq = new long[6];
        for (int k = 0; k < 6; k++) {
            xq[k] = q(xv[k], px.scale(), px.zeroPoint());
        }
        long[] hq = new long[8];
        for (int j = 0; j < 8; j++) {
            float max = 0;
            for (int k = 0; k < 6; k++) {
                max = Math.max(max, Math.abs(w1[k * 8 + j]));
            }
            float ws = max / 127f;
            long acc = (long) Math.rint(b1[j] / (px.scale() * ws));
            for (int k = 0; k < 6; k++) {
                acc += (xq[k] - px.zeroPoint()) * (long) Math.rint(w1[k * 8 + j] / ws);
            }
            float mult = px.scale() * ws / ph.scale();
            hq[j] = Math.max(ph.zeroPoint(), Math.min(255, (long) Math.rint((float) acc * mult) + ph.zeroPoint()));
        }
        float[] expected = new float[4];
        for (int j = 0; j < 4; j++) {
            // Gemm transB: column j of B is row j of w2; alpha folded into the weights, beta into the bias
            float max = 0;
            for (int k = 0; k < 8; k++) {
                max = Math.max(max, Math.abs(0.5f * w2[j * 8 + k]));
            }
            float ws = max / 127f;
            long acc = 0;
            for (int k = 0; k < 8; k++) {
                acc += (hq[k] - ph.zeroPoint()) * (long) Math.rint(0.5f * w2[j * 8 + k] / ws);
            }
            expected[j] = (float) acc * (ph.scale() * ws) + 2f * b2[j];
        }
        float[] got = QTestGraphs.run(m.withGraph(g), Map.of("x", x)).get("y").toFloatArray();
        assertArrayEquals(expected, got, 1e-6f);
        // and close to the float model
        float[] ref = QTestGraphs.run(m, Map.of("x", x)).get("y").toFloatArray();
        for (int j = 0; j < 4; j++) {
            assertEquals(ref[j], got[j], 0.05 * (1 + Math.abs(ref[j])));
        }
        ModelQuantizer.Outcome o = r.layers().get("fc1");
        assertEquals(LayerPrecision.INT8, o.applied());
        assertTrue(o.quantized() != null && o.scale() == ph.scale());
    }

    @Test
    void dynamicInt8MatchesTheOnnxDynamicFormula() {
        Graph g = Graph.builder("d").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 5))
                .initializer("w", random(1, 0.5f, 5, 3))
                .addNode(node("mm", Op.MatMul, List.of("x", "w"), List.of("y"), "fused_activation", "Relu"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2, 3)).build();
        ModelDef m = new ModelDef(g, Map.of());
        List<Layer> layers = Layers.find(g);
        ModelQuantizer.Result r = ModelQuantizer.quantize(g, layers, all(layers, LayerPrecision.INT8_DYNAMIC), Map.of(),
                QuantOptions.of(LayerPrecision.INT8_DYNAMIC));
        assertEquals(List.of(Op.Cast, Op.DynamicQuantizeLinear, Op.MatMulInteger, Op.Mul, Op.Mul, Op.Relu),
                QTestGraphs.ops(r.graph()).stream().sorted(java.util.Comparator.comparing(Op::name)).toList());
        Tensor x = random(5, 1f, 2, 5);
        float[] xv = x.toFloatArray();
        float min = 0;
        float max = 0;
        for (float v : xv) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float xs = (max - min) / 255f;
        long xz = (long) Math.rint(Math.max(0, Math.min(255, -min / xs)));
        float[] w = g.initializers().get("w").toFloatArray();
        float[] expected = new float[6];
        for (int j = 0; j < 3; j++) {
            float wmax = 0;
            for (int k = 0; k < 5; k++) {
                wmax = Math.max(wmax, Math.abs(w[k * 3 + j]));
            }
            float ws = wmax / 127f;
            for (int i = 0; i < 2; i++) {
                long acc = 0;
                for (int k = 0; k < 5; k++) {
                    acc += (q(xv[i * 5 + k], xs, (int) xz) - xz) * (long) Math.rint(w[k * 3 + j] / ws);
                }
                expected[i * 3 + j] = Math.max(0f, (float) acc * (xs * ws));
            }
        }
        float[] got = QTestGraphs.run(m.withGraph(r.graph()), Map.of("x", x)).get("y").toFloatArray();
        assertArrayEquals(expected, got, 1e-6f);
    }

    /** Conv model whose weight-only forms must equal the float model run on the decoded weights. */
    private static ModelDef conv() {
        Graph g = Graph.builder("c").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 4, 6, 6))
                .initializer("w", random(1, 0.3f, 8, 4, 3, 3)).initializer("b", random(2, 0.1f, 8))
                .addNode(node("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"), "pads", new long[] {1, 1, 1, 1},
                        "fused_activation", "Sigmoid"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 8, 6, 6)).build();
        return new ModelDef(g, Map.of());
    }

    @Test
    void weightOnlyFormsComputeWithTheirDecodedWeights() {
        ModelDef m = conv();
        Tensor x = random(3, 1f, 1, 4, 6, 6);
        for (LayerPrecision p : List.of(LayerPrecision.INT8_WEIGHT, LayerPrecision.INT4, LayerPrecision.FP16,
                LayerPrecision.codebook(3))) {
            List<Layer> layers = Layers.find(m.graph());
            ModelQuantizer.Result r = ModelQuantizer.quantize(m.graph(), layers, all(layers, p), Map.of(),
                    QuantOptions.of(p).withInt4Group(3));
            Graph g = r.graph();
            Node conv = g.nodes().stream().filter(n -> n.op() == Op.Conv).findFirst().orElseThrow();
            assertEquals("Sigmoid", conv.stringAttr("fused_activation"), p + " keeps the fused activation");
            // decode the stored weight here: from the encoded tensor, or by applying DequantizeLinear / Cast by hand
            float[] w = decodedWeight(g, conv.input(1));
            float[] bias = decodedWeight(g, conv.input(2));
            ModelDef decoded = m.withGraph(m.graph().toBuilder().initializer("w", Tensor.of(w, 8, 4, 3, 3))
                    .initializer("b", Tensor.of(bias, 8)).build());
            float[] expected = QTestGraphs.run(decoded, Map.of("x", x)).get("y").toFloatArray();
            float[] got = QTestGraphs.run(m.withGraph(g), Map.of("x", x)).get("y").toFloatArray();
            assertArrayEquals(expected, got, 1e-6f, p.label());
            float[] ref = QTestGraphs.run(m, Map.of("x", x)).get("y").toFloatArray();
            float[] orig = m.graph().initializers().get("w").toFloatArray();
            assertTrue(!java.util.Arrays.equals(w, orig), p.label() + " changed the weights");
            assertTrue(sqnr(ref, got) > (p.kind() == LayerPrecision.Kind.CODEBOOK ? 15 : 25),
                    p.label() + ": SQNR " + sqnr(ref, got));
        }
    }

    /** The float values of a weight as the compressed graph defines it, decoded independently of the runtime. */
    private static float[] decodedWeight(Graph g, String name) {
        Tensor t = g.initializers().get(name);
        if (t != null) {
            return t.isEncoded() ? Decoding.densify(t).toFloatArray() : t.toFloatArray();
        }
        Node producer = g.producers().get(name);
        Tensor src = g.initializers().get(producer.input(0));
        if (producer.op() == Op.Cast) {
            return src.toFloatArray();
        }
        Tensor scale = g.initializers().get(producer.input(1));
        int axis = (int) producer.intAttr("axis");
        int block = (int) producer.intAttr("block_size");
        int[] shape = src.shape();
        float[] out = new float[src.elementCount()];
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        for (int e = 0; e < out.length; e++) {
            int si;
            if (scale.elementCount() == 1) {
                si = 0;
            } else if (block == 0) {
                si = (e / inner) % shape[axis];
            } else {
                int o = e / (inner * shape[axis]);
                int d = (e / inner) % shape[axis];
                int blocks = (shape[axis] + block - 1) / block;
                si = (o * blocks + d / block) * inner + e % inner;
            }
            out[e] = src.getLong(e) * scale.getFloat(si);
        }
        return out;
    }

    @Test
    void staticInt8ConvSplitsANonClampActivationAndFallsBackWhereItMust() {
        ModelDef m = conv();
        Graph split = new ActivationSplit().apply(m.graph());
        assertEquals(List.of(Op.Conv, Op.Sigmoid), QTestGraphs.ops(split));
        ModelDef sm = m.withGraph(split);
        Tensor x = random(3, 1f, 1, 4, 6, 6);
        assertArrayEquals(QTestGraphs.run(m, Map.of("x", x)).get("y").toFloatArray(),
                QTestGraphs.run(sm, Map.of("x", x)).get("y").toFloatArray(), 1e-6f);
        List<Layer> layers = Layers.find(split);
        Map<String, Ranges.Affine> acts = QTestGraphs.calibrate(sm, QTestGraphs.samples("x", 3, 32, 1, 4, 6, 6),
                layers);
        ModelQuantizer.Result r = ModelQuantizer.quantize(split, layers, all(layers, LayerPrecision.INT8), acts,
                QuantOptions.of(LayerPrecision.INT8));
        // the Sigmoid is float: the convolution's accumulators go back to float rather than through uint8
        assertEquals(List.of(Op.QuantizeLinear, Op.Mul, Op.ConvInteger, Op.Cast, Op.Mul, Op.Add, Op.Sigmoid),
                QTestGraphs.ops(r.graph()));
        float[] ref = QTestGraphs.run(m, Map.of("x", x)).get("y").toFloatArray();
        float[] got = QTestGraphs.run(m.withGraph(r.graph()), Map.of("x", x)).get("y").toFloatArray();
        assertTrue(sqnr(ref, got) > 25, "SQNR " + sqnr(ref, got));
        // without calibration data for the layer: int8 weights only, and the outcome says why
        ModelQuantizer.Result f = ModelQuantizer.quantize(split, layers, all(layers, LayerPrecision.INT8), Map.of(),
                QuantOptions.of(LayerPrecision.INT8));
        ModelQuantizer.Outcome o = f.layers().get("conv");
        assertEquals(LayerPrecision.INT8_WEIGHT, o.applied());
        assertEquals("no calibration data reached it", o.note());
        assertEquals(List.of(Op.DequantizeLinear, Op.Conv), QTestGraphs.ops(f.graph()));
    }

    @Test
    void layersInsideIfBranchesAreQuantizedInPlace() {
        assumeTrue(RefBackend.INSTANCE.supportedOps().contains(Op.If), "no If kernel in this build yet");
        Graph then = Graph.builder("then").initializer("wt", random(5, 0.4f, 6, 3))
                .addNode(node("inner", Op.MatMul, List.of("x", "wt"), List.of("t"))).addOutput(new ValueInfo("t", null, null))
                .build();
        Graph other = Graph.builder("else").initializer("we", random(6, 0.4f, 6, 3))
                .addNode(node("other", Op.MatMul, List.of("x", "we"), List.of("e"))).addOutput(new ValueInfo("e", null, null))
                .build();
        Graph g = Graph.builder("m").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 6))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addNode(node("if", Op.If, List.of("c"), List.of("y"), "then_branch", then, "else_branch", other))
                .addOutput(new ValueInfo("y", null, null)).build();
        ModelDef m = new ModelDef(g, Map.of());
        List<Layer> layers = Layers.find(g);
        assertEquals(List.of("inner", "other"), layers.stream().map(Layer::name).toList());
        java.util.List<Map<String, Tensor>> feeds = new java.util.ArrayList<>();
        for (int i = 0; i < 64; i++) {
            feeds.add(Map.of("x", random(i, 1f, 1, 6), "c", Tensor.of(new boolean[] {true})));
        }
        Map<String, Ranges.Affine> acts = QTestGraphs.calibrate(m, Dataset.of(feeds), layers);
        assertTrue(acts.containsKey("t") && !acts.containsKey("e"), acts.keySet().toString());
        ModelQuantizer.Result r = ModelQuantizer.quantize(g, layers, all(layers, LayerPrecision.INT8), acts,
                QuantOptions.of(LayerPrecision.INT8));
        assertEquals(LayerPrecision.INT8, r.layers().get("inner").applied());
        assertEquals(LayerPrecision.INT8_WEIGHT, r.layers().get("other").applied());
        Node ifNode = r.graph().nodes().get(0);
        assertEquals(List.of(Op.QuantizeLinear, Op.Mul, Op.MatMulInteger, Op.Cast, Op.Mul),
                QTestGraphs.ops(ifNode.graphAttr("then_branch")));
        // an input inside the calibrated range: the check is about the rewrite, not about clipping
        Tensor x = random(3, 1f, 1, 6);
        for (boolean c : new boolean[] {true, false}) {
            Map<String, Tensor> feed = Map.of("x", x, "c", Tensor.of(new boolean[] {c}));
            float[] ref = QTestGraphs.run(m, feed).get("y").toFloatArray();
            float[] got = QTestGraphs.run(m.withGraph(r.graph()), feed).get("y").toFloatArray();
            assertTrue(sqnr(ref, got) > 25, "branch " + c + ": SQNR " + sqnr(ref, got));
        }
    }
}
