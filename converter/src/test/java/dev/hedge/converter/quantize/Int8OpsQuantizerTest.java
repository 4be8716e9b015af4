package dev.hedge.converter.quantize;

import static dev.hedge.converter.quantize.QTestGraphs.node;
import static dev.hedge.converter.quantize.QTestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Static int8 with the ops between layers on uint8 ({@link Int8OpChoice}): structure and outputs. */
class Int8OpsQuantizerTest {

    private static final QuantOptions ALL = QuantOptions.of(LayerPrecision.INT8);
    private static final QuantOptions LAYERS = ALL.withInt8Ops(QuantOptions.Int8Ops.LAYERS);

    /**
     * x[1,3,8,8] → conv1 (Relu) → MaxPool 2x2/2 → p → conv2 (Relu) → conv3 → Add(·, p) → Relu → r → conv4 (Relu)
     * → GlobalAveragePool → Flatten → fc (Gemm) → y[1,5]: a residual CNN.
     */
    static ModelDef residual() {
        Graph g = Graph.builder("residual")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, 3, 8, 8))
                .initializer("w1", random(1, 0.4f, 4, 3, 3, 3)).initializer("b1", random(2, 0.1f, 4))
                .initializer("w2", random(3, 0.4f, 4, 4, 3, 3)).initializer("b2", random(4, 0.1f, 4))
                .initializer("w3", random(5, 0.4f, 4, 4, 1, 1)).initializer("b3", random(6, 0.1f, 4))
                .initializer("w4", random(7, 0.4f, 6, 4, 3, 3)).initializer("b4", random(8, 0.1f, 6))
                .initializer("wf", random(9, 0.4f, 5, 6)).initializer("bf", random(10, 0.1f, 5))
                .addNode(node("conv1", Op.Conv, List.of("x", "w1", "b1"), List.of("c1"), "pads",
                        new long[] {1, 1, 1, 1}, "fused_activation", "Relu"))
                .addNode(node("pool", Op.MaxPool, List.of("c1"), List.of("p"), "kernel_shape", new long[] {2, 2},
                        "strides", new long[] {2, 2}))
                .addNode(node("conv2", Op.Conv, List.of("p", "w2", "b2"), List.of("c2"), "pads",
                        new long[] {1, 1, 1, 1}, "fused_activation", "Relu"))
                .addNode(node("conv3", Op.Conv, List.of("c2", "w3", "b3"), List.of("c3")))
                .addNode(node("add", Op.Add, List.of("c3", "p"), List.of("s")))
                .addNode(node("relu", Op.Relu, List.of("s"), List.of("r")))
                .addNode(node("conv4", Op.Conv, List.of("r", "w4", "b4"), List.of("c4"), "pads",
                        new long[] {1, 1, 1, 1}, "fused_activation", "Relu"))
                .addNode(node("gap", Op.GlobalAveragePool, List.of("c4"), List.of("g")))
                .addNode(node("flatten", Op.Flatten, List.of("g"), List.of("f")))
                .addNode(node("fc", Op.Gemm, List.of("f", "wf", "bf"), List.of("y"), "transB", 1))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 5))
                .build();
        return new ModelDef(g, Map.of());
    }

    private static Map<String, LayerPrecision> int8(List<Layer> layers) {
        Map<String, LayerPrecision> m = new LinkedHashMap<>();
        for (Layer l : layers) {
            m.put(l.name(), LayerPrecision.INT8);
        }
        return m;
    }

    /** Ranges as the compressor gathers them: layer inputs and outputs plus what the int8 ops need. */
    private static Map<String, Ranges.Affine> calibrate(ModelDef m, Dataset d, List<Layer> layers, QuantOptions q) {
        Set<String> values = new LinkedHashSet<>();
        for (Layer l : layers) {
            values.add(l.input());
            values.add(l.output());
        }
        values.addAll(ModelQuantizer.extraRanges(m.graph(), q));
        Map<String, Ranges.Affine> out = new LinkedHashMap<>();
        Calibrator.calibrate(m, d, values, false, RuntimeOptions.reference(), Progress.NONE).forEach((k, s) -> {
            if (s.observed()) {
                out.put(k, Ranges.uint8(s.min(), s.max()));
            }
        });
        return out;
    }

    private static Node named(Graph g, String name) {
        return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    private static Tensor constant(Graph g, String name) {
        return g.initializers().get(name);
    }

    @Test
    void residualCnnStaysInt8BetweenLayers() {
        ModelDef m = residual();
        List<Layer> layers = Layers.find(m.graph());
        Dataset calib = QTestGraphs.samples("x", 21, 32, 1, 3, 8, 8);
        assertEquals(Set.of("r", "g"), ModelQuantizer.extraRanges(m.graph(), ALL),
                "the folded Relu's output and the average, not the Add's own output");
        assertEquals(Set.of(), ModelQuantizer.extraRanges(m.graph(), LAYERS));
        Map<String, Ranges.Affine> acts = calibrate(m, calib, layers, ALL);
        ModelQuantizer.Result r = ModelQuantizer.quantize(m.graph(), layers, int8(layers), acts, ALL);
        Graph g = r.graph();
        // one QuantizeLinear in; everything uint8 up to the classifier, whose output leaves the graph in float
        // (the first Mul is x_scale * w_scale of the classifier, a constant)
        assertEquals(List.of(Op.QuantizeLinear, Op.Mul, Op.QLinearConv, Op.MaxPool, Op.QLinearConv, Op.QLinearConv,
                Op.QLinearAdd, Op.QLinearConv, Op.QLinearGlobalAveragePool, Op.Flatten, Op.MatMulInteger, Op.Cast,
                Op.Mul, Op.Add), QTestGraphs.ops(g));
        assertFalse(QTestGraphs.ops(g).contains(Op.DequantizeLinear), "no float value between layers");
        Node add = named(g, "add");
        assertEquals("Relu", add.stringAttr("fused_activation"));
        // inputs: conv3's uint8 output and the max-pooled uint8 values, which keep conv1's parameters
        Node conv1 = named(g, "conv1");
        Node pool = named(g, "pool");
        assertEquals(conv1.output(0), pool.input(0));
        assertEquals(named(g, "conv3").output(0), add.input(0));
        assertEquals(pool.output(0), add.input(3));
        assertEquals(conv1.input(6), add.input(4), "MaxPool keeps its input's scale");
        assertEquals(acts.get("r").scale(), constant(g, add.input(6)).getFloat(0));
        assertEquals(acts.get("r").zeroPoint(), (int) constant(g, add.input(7)).getDouble(0));
        assertEquals(pool.output(0), named(g, "conv2").input(0));
        Node gap = named(g, "gap");
        assertEquals(acts.get("g").scale(), constant(g, gap.input(3)).getFloat(0));
        Node flatten = named(g, "flatten");
        assertEquals(gap.output(0), flatten.input(0));
        assertEquals(flatten.output(0), named(g, "fc").input(0));
        // the classifier's input zero point is the average's, which the Flatten passed on
        assertEquals(gap.input(4), named(g, "fc").input(2));

        assertEquals(Set.of("pool", "add", "gap", "flatten"), r.ops().keySet());
        ModelQuantizer.OpOutcome oa = r.ops().get("add");
        assertEquals(Op.Add, oa.from());
        assertEquals("Relu", oa.activation());
        assertEquals(Op.QLinearAdd, oa.to());
        assertEquals("r", oa.value());
        assertEquals(add.output(0), oa.quantized());

        // the layers-only form: every op between layers in float
        ModelQuantizer.Result lr = ModelQuantizer.quantize(m.graph(), layers, int8(layers),
                calibrate(m, calib, layers, LAYERS), LAYERS);
        List<Op> lops = QTestGraphs.ops(lr.graph());
        assertTrue(lops.contains(Op.Add) && lops.contains(Op.GlobalAveragePool) && lops.contains(Op.Relu),
                lops.toString());
        assertFalse(lops.contains(Op.QLinearAdd) || lops.contains(Op.QLinearGlobalAveragePool), lops.toString());
        assertTrue(lr.ops().isEmpty());

        // outputs on calibration-like data: close to the float model, and about as close as the layers-only form
        Dataset test = QTestGraphs.samples("x", 77, 16, 1, 3, 8, 8);
        double[] noise = new double[2];
        double signal = 0;
        for (int i = 0; i < test.size(); i++) {
            Map<String, Tensor> feed = test.samples().get(i);
            float[] ref = QTestGraphs.run(m, feed).get("y").toFloatArray();
            float[] all = QTestGraphs.run(m.withGraph(g), feed).get("y").toFloatArray();
            float[] lay = QTestGraphs.run(m.withGraph(lr.graph()), feed).get("y").toFloatArray();
            for (int j = 0; j < ref.length; j++) {
                signal += (double) ref[j] * ref[j];
                noise[0] += (double) (ref[j] - all[j]) * (ref[j] - all[j]);
                noise[1] += (double) (ref[j] - lay[j]) * (ref[j] - lay[j]);
            }
        }
        double sqnrAll = 10 * Math.log10(signal / noise[0]);
        double sqnrLayers = 10 * Math.log10(signal / noise[1]);
        System.out.printf("residual CNN output SQNR: int8 ops %.1f dB, layers only %.1f dB%n", sqnrAll, sqnrLayers);
        assertTrue(sqnrAll > 25, "SQNR with int8 ops " + sqnrAll);
        assertTrue(sqnrAll > sqnrLayers - 4, "int8 ops " + sqnrAll + " dB, layers only " + sqnrLayers + " dB");
    }

    /**
     * x → conv1 → a, x → conv2 → b; Add(a, b) → y leaves the graph (float), Mul(a, b) → conv3 → y2: the Mul
     * goes uint8 (conv3 reads it), the Add does not (only a graph output reads it).
     */
    @Test
    void onlyOpsWhoseResultAnInt8ReaderTakesGoUint8() {
        Graph g = Graph.builder("fork")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 5, 5))
                .initializer("w1", random(11, 0.5f, 3, 2, 1, 1)).initializer("w2", random(12, 0.5f, 3, 2, 1, 1))
                .initializer("w3", random(13, 0.5f, 2, 3, 1, 1))
                .addNode(node("conv1", Op.Conv, List.of("x", "w1"), List.of("a")))
                .addNode(node("conv2", Op.Conv, List.of("x", "w2"), List.of("b")))
                .addNode(node("add", Op.Add, List.of("a", "b"), List.of("y")))
                .addNode(node("mul", Op.Mul, List.of("a", "b"), List.of("m")))
                .addNode(node("conv3", Op.Conv, List.of("m", "w3"), List.of("y2")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 3, 5, 5))
                .addOutput(ValueInfo.of("y2", DType.FLOAT32, 1, 2, 5, 5))
                .build();
        ModelDef m = new ModelDef(g, Map.of());
        List<Layer> layers = Layers.find(g);
        Dataset calib = QTestGraphs.samples("x", 5, 32, 1, 2, 5, 5);
        Map<String, Ranges.Affine> acts = calibrate(m, calib, layers, ALL);
        ModelQuantizer.Result r = ModelQuantizer.quantize(g, layers, int8(layers), acts, ALL);
        Graph q = r.graph();
        assertEquals(Op.QLinearMul, named(q, "mul").op());
        assertEquals(Op.Add, named(q, "add").op(), "a float Add: its result only leaves the graph");
        assertEquals(Set.of("mul"), r.ops().keySet());
        // conv1 and conv2 requantize for the Mul; the Add reads their dequantized values
        assertEquals(Op.QLinearConv, named(q, "conv1").op());
        assertEquals(Op.QLinearConv, named(q, "conv2").op());
        assertEquals(2, QTestGraphs.ops(q).stream().filter(o -> o == Op.DequantizeLinear).count());
        // conv3's output leaves the graph: int32 accumulators back to float, as before
        assertEquals(Op.ConvInteger, named(q, "conv3").op());

        // with the Mul in float, nothing reads conv1 / conv2 in uint8: float outputs, no requantization
        ModelQuantizer.Result lr = ModelQuantizer.quantize(g, layers, int8(layers), acts, LAYERS);
        assertEquals(Op.ConvInteger, named(lr.graph(), "conv1").op());
        assertEquals(Op.Mul, named(lr.graph(), "mul").op());

        Dataset test = QTestGraphs.samples("x", 99, 8, 1, 2, 5, 5);
        for (String out : List.of("y", "y2")) {
            double signal = 0;
            double noise = 0;
            for (int i = 0; i < test.size(); i++) {
                float[] ref = QTestGraphs.run(m, test.samples().get(i)).get(out).toFloatArray();
                float[] got = QTestGraphs.run(m.withGraph(q), test.samples().get(i)).get(out).toFloatArray();
                for (int j = 0; j < ref.length; j++) {
                    signal += (double) ref[j] * ref[j];
                    noise += (double) (ref[j] - got[j]) * (ref[j] - got[j]);
                }
            }
            double sqnr = 10 * Math.log10(signal / noise);
            assertTrue(sqnr > 25, out + " SQNR " + sqnr);
        }
    }

    /**
     * conv1 → Transpose → Reshape → Squeeze → Unsqueeze → conv2: the moves run on uint8 with conv1's parameters,
     * no requantization, and give the float model's result up to int8 rounding.
     */
    @Test
    void shapeOpsBetweenLayersMoveUint8Values() {
        Graph g = Graph.builder("moves")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 3, 3))
                .initializer("w1", random(21, 0.5f, 4, 2, 1, 1)).initializer("w2", random(22, 0.5f, 3, 4, 1, 1))
                .initializer("shape", Tensor.of(new long[] {1, 4, 9, 1}, 4))
                .initializer("axes", Tensor.of(new long[] {3}, 1))
                .addNode(node("conv1", Op.Conv, List.of("x", "w1"), List.of("c1"), "fused_activation", "Relu"))
                .addNode(node("transpose", Op.Transpose, List.of("c1"), List.of("t"), "perm", new long[] {0, 1, 3, 2}))
                .addNode(node("reshape", Op.Reshape, List.of("t", "shape"), List.of("r")))
                .addNode(node("squeeze", Op.Squeeze, List.of("r", "axes"), List.of("s")))
                .addNode(node("unsqueeze", Op.Unsqueeze, List.of("s", "axes"), List.of("u")))
                .addNode(node("conv2", Op.Conv, List.of("u", "w2"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 3, 9, 1))
                .build();
        ModelDef m = new ModelDef(g, Map.of());
        List<Layer> layers = Layers.find(g);
        Map<String, Ranges.Affine> acts = calibrate(m, QTestGraphs.samples("x", 8, 32, 1, 2, 3, 3), layers, ALL);
        ModelQuantizer.Result r = ModelQuantizer.quantize(g, layers, int8(layers), acts, ALL);
        Graph q = r.graph();
        assertEquals(Set.of("transpose", "reshape", "squeeze", "unsqueeze"), r.ops().keySet());
        Node conv1 = named(q, "conv1");
        assertEquals(Op.QLinearConv, conv1.op());
        assertEquals(conv1.output(0), named(q, "transpose").input(0));
        assertEquals(named(q, "unsqueeze").output(0), named(q, "conv2").input(0));
        // conv2 reads conv1's uint8 output as it is: no QuantizeLinear but the input's, no DequantizeLinear
        assertEquals(1, QTestGraphs.ops(q).stream().filter(o -> o == Op.QuantizeLinear).count());
        assertFalse(QTestGraphs.ops(q).contains(Op.DequantizeLinear));
        assertEquals(conv1.input(7), named(q, "conv2").input(2), "conv2's input zero point is conv1's output's");
        Dataset test = QTestGraphs.samples("x", 31, 8, 1, 2, 3, 3);
        double signal = 0;
        double noise = 0;
        for (Map<String, Tensor> feed : test.samples()) {
            float[] ref = QTestGraphs.run(m, feed).get("y").toFloatArray();
            float[] got = QTestGraphs.run(m.withGraph(q), feed).get("y").toFloatArray();
            for (int j = 0; j < ref.length; j++) {
                signal += (double) ref[j] * ref[j];
                noise += (double) (ref[j] - got[j]) * (ref[j] - got[j]);
            }
        }
        double sqnr = 10 * Math.log10(signal / noise);
        assertTrue(sqnr > 25, "SQNR " + sqnr);
    }

    /** conv1 → AveragePool 2x2 (padded, count_include_pad 0) → conv2: QLinearAveragePool with its own range. */
    @Test
    void averagePoolBetweenLayersRequantizes() {
        Graph g = Graph.builder("avg")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 5, 5))
                .initializer("w1", random(41, 0.5f, 4, 2, 3, 3)).initializer("w2", random(42, 0.5f, 3, 4, 1, 1))
                .addNode(node("conv1", Op.Conv, List.of("x", "w1"), List.of("c1"), "pads", new long[] {1, 1, 1, 1}))
                .addNode(node("pool", Op.AveragePool, List.of("c1"), List.of("p"), "kernel_shape", new long[] {2, 2},
                        "pads", new long[] {0, 0, 1, 1}))
                .addNode(node("conv2", Op.Conv, List.of("p", "w2"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 3, 5, 5))
                .build();
        ModelDef m = new ModelDef(g, Map.of());
        List<Layer> layers = Layers.find(g);
        Map<String, Ranges.Affine> acts = calibrate(m, QTestGraphs.samples("x", 9, 32, 1, 2, 5, 5), layers, ALL);
        ModelQuantizer.Result r = ModelQuantizer.quantize(g, layers, int8(layers), acts, ALL);
        Graph q = r.graph();
        Node pool = named(q, "pool");
        assertEquals(Op.QLinearAveragePool, pool.op());
        assertEquals(named(q, "conv1").output(0), pool.input(0));
        assertEquals(acts.get("p").scale(), constant(q, pool.input(3)).getFloat(0));
        assertEquals(List.of(1L, 1L), java.util.Arrays.stream(pool.intsAttr("pads")).boxed().toList().subList(2, 4));
        double signal = 0;
        double noise = 0;
        for (Map<String, Tensor> feed : QTestGraphs.samples("x", 19, 8, 1, 2, 5, 5).samples()) {
            float[] ref = QTestGraphs.run(m, feed).get("y").toFloatArray();
            float[] got = QTestGraphs.run(m.withGraph(q), feed).get("y").toFloatArray();
            for (int j = 0; j < ref.length; j++) {
                signal += (double) ref[j] * ref[j];
                noise += (double) (ref[j] - got[j]) * (ref[j] - got[j]);
            }
        }
        double sqnr = 10 * Math.log10(signal / noise);
        assertTrue(sqnr > 25, "SQNR " + sqnr);
    }
}
