package dev.hedge.converter.quantize;

import static dev.hedge.converter.onnx.Onnx.attr;
import static dev.hedge.converter.onnx.Onnx.in;
import static dev.hedge.converter.onnx.Onnx.ints;
import static dev.hedge.converter.onnx.Onnx.node;
import static dev.hedge.converter.onnx.Onnx.out;
import static dev.hedge.converter.onnx.Onnx.valueInfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.hedge.converter.Converter;
import dev.hedge.converter.onnx.Onnx;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An already-quantized (QDQ) ONNX model: imported, its Q/DQ pairs around Conv and MatMul fused into QLinearConv /
 * QLinearMatMul (around Add / Mul / pooling into the int8 ops between layers) with the model's own scales, and its
 * outputs checked against ONNX Runtime on the original file.
 */
class QdqFusionTest {

    @TempDir
    Path dir;

    private static TensorProto raw(String name, int type, long[] dims, byte[] data) {
        return TensorProto.newBuilder().setName(name).setDataType(type).addAllDims(java.util.Arrays.stream(dims)
                .boxed().toList()).setRawData(ByteString.copyFrom(data)).build();
    }

    private static TensorProto floats(String name, long[] dims, float... v) {
        return Onnx.floatsRaw(name, dims, v);
    }

    private static byte[] int32s(int... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putInt(x);
        }
        return b.array();
    }

    /** x → Q → DQ → Conv(DQ(int8 W per channel), DQ(int32 bias)) → Relu → Q → DQ → MatMul(DQ(int8 W)) → Q → DQ. */
    private static GraphProto qdqGraph() {
        Random r = new Random(5);
        byte[] w = new byte[4 * 2 * 3 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = (byte) (r.nextInt(255) - 127);
        }
        float[] sw = {0.004f, 0.006f, 0.003f, 0.005f};
        float sx = 0.02f;
        float[] sb = new float[4];
        for (int i = 0; i < 4; i++) {
            sb[i] = sx * sw[i];
        }
        byte[] w2 = new byte[4 * 5 * 5 * 3];
        for (int i = 0; i < w2.length; i++) {
            w2[i] = (byte) (r.nextInt(255) - 127);
        }
        return Onnx.graphBuilder("qdq")
                .addInput(valueInfo("x", Onnx.FLOAT, 1, 2, 5, 5))
                .addOutput(valueInfo("y", Onnx.FLOAT, 1, 3))
                .addInitializer(floats("sx", new long[0], sx))
                .addInitializer(raw("zx", Onnx.UINT8, new long[0], new byte[] {(byte) 128}))
                .addInitializer(raw("w", Onnx.INT8, new long[] {4, 2, 3, 3}, w))
                .addInitializer(floats("sw", new long[] {4}, sw))
                .addInitializer(raw("zw", Onnx.INT8, new long[] {4}, new byte[4]))
                .addInitializer(raw("b", Onnx.INT32, new long[] {4}, int32s(100, -2000, 300, 4000)))
                .addInitializer(floats("sb", new long[] {4}, sb))
                .addInitializer(floats("sh", new long[0], 0.05f))
                .addInitializer(raw("zh", Onnx.UINT8, new long[0], new byte[] {0}))
                .addInitializer(Onnx.int64s("shape", new long[] {2}, 1, 100))
                .addInitializer(raw("w2", Onnx.INT8, new long[] {100, 3}, w2))
                .addInitializer(floats("sw2", new long[0], 0.002f))
                .addInitializer(floats("sy", new long[0], 0.1f))
                .addInitializer(raw("zy", Onnx.UINT8, new long[0], new byte[] {(byte) 100}))
                .addNode(node("qx", "QuantizeLinear", in("x", "sx", "zx"), out("xq")))
                .addNode(node("dqx", "DequantizeLinear", in("xq", "sx", "zx"), out("xf")))
                .addNode(node("dqw", "DequantizeLinear", in("w", "sw", "zw"), out("wf"), attr("axis", 0L)))
                .addNode(node("dqb", "DequantizeLinear", in("b", "sb"), out("bf"), attr("axis", 0L)))
                .addNode(node("conv", "Conv", in("xf", "wf", "bf"), out("c"), ints("pads", 1, 1, 1, 1)))
                .addNode(node("relu", "Relu", in("c"), out("r")))
                .addNode(node("qh", "QuantizeLinear", in("r", "sh", "zh"), out("hq")))
                .addNode(node("dqh", "DequantizeLinear", in("hq", "sh", "zh"), out("hf")))
                .addNode(node("flat", "Reshape", in("hf", "shape"), out("hflat")))
                .addNode(node("dqw2", "DequantizeLinear", in("w2", "sw2"), out("w2f")))
                .addNode(node("mm", "MatMul", in("hflat", "w2f"), out("m")))
                .addNode(node("qy", "QuantizeLinear", in("m", "sy", "zy"), out("yq")))
                .addNode(node("dqy", "DequantizeLinear", in("yq", "sy", "zy"), out("y")))
                .build();
    }

    @Test
    void qdqConvAndMatMulBecomeIntegerOpsAndMatchOnnxRuntime() throws Exception {
        Path onnx = dir.resolve("qdq.onnx");
        Files.write(onnx, Onnx.model(13, qdqGraph()).toByteArray());
        Converter.Result r = Converter.convert(onnx, Converter.Options.defaults());
        Graph g = r.model().graph();
        List<Op> ops = g.nodes().stream().map(Node::op).toList();
        assertTrue(ops.contains(Op.QLinearConv) && ops.contains(Op.QLinearMatMul), ops.toString());
        assertTrue(!ops.contains(Op.Conv) && !ops.contains(Op.MatMul), ops.toString());
        Node conv = g.nodes().stream().filter(n -> n.op() == Op.QLinearConv).findFirst().orElseThrow();
        assertEquals("Relu", conv.stringAttr("fused_activation"));
        assertEquals("sw", conv.input(4), "the model's own weight scales");
        assertEquals("b", conv.input(8), "the model's own int32 bias");
        assertTrue(r.passes().stream().anyMatch(p -> p.pass().equals("qdq-fusion")));

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (Model m = Model.of(r.model()); Session s = m.newSession();
                OrtSession os = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            Random rnd = new Random(9);
            for (int trial = 0; trial < 8; trial++) {
                float[] x = new float[50];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                float[] hedge = s.run(Map.of("x", Tensor.of(x, 1, 2, 5, 5))).get("y").toFloatArray();
                float[] ort;
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 2, 5, 5});
                        OrtSession.Result res = os.run(Map.of("x", t))) {
                    ort = ((float[][]) res.get(0).getValue())[0];
                }
                // integer arithmetic with the model's scales: the same values as ONNX Runtime's
                for (int i = 0; i < 3; i++) {
                    assertEquals(ort[i], hedge[i], 1e-6f, "trial " + trial + " output " + i);
                }
            }
        }
    }

    /**
     * Between layers: a = DQ(Q(x)), b = DQ(Q(x2)); Add(a, b) → Relu → Q → DQ → MaxPool(2, stride 1) → Q (same
     * parameters) → DQ → GlobalAveragePool → Q → DQ → y; Mul(a, b) → Q → DQ → y2; AveragePool(2) of the max
     * pooled values → Q → DQ → y3.
     */
    private static GraphProto qdqBetweenGraph() {
        return Onnx.graphBuilder("qdq-between")
                .addInput(valueInfo("x", Onnx.FLOAT, 1, 2, 4, 4))
                .addInput(valueInfo("x2", Onnx.FLOAT, 1, 2, 4, 4))
                .addOutput(valueInfo("y", Onnx.FLOAT, 1, 2, 1, 1))
                .addOutput(valueInfo("y2", Onnx.FLOAT, 1, 2, 4, 4))
                .addOutput(valueInfo("y3", Onnx.FLOAT, 1, 2, 2, 2))
                .addInitializer(floats("sa", new long[0], 0.02f))
                .addInitializer(raw("za", Onnx.UINT8, new long[0], new byte[] {(byte) 128}))
                .addInitializer(floats("sb", new long[0], 0.03f))
                .addInitializer(raw("zb", Onnx.UINT8, new long[0], new byte[] {(byte) 120}))
                .addInitializer(floats("sc", new long[0], 0.025f))
                .addInitializer(raw("zc", Onnx.UINT8, new long[0], new byte[] {0}))
                .addInitializer(floats("sg", new long[0], 0.01f))
                .addInitializer(raw("zg", Onnx.UINT8, new long[0], new byte[] {(byte) 3}))
                .addInitializer(floats("sm", new long[0], 0.015f))
                .addInitializer(raw("zm", Onnx.UINT8, new long[0], new byte[] {(byte) 130}))
                .addInitializer(floats("sp", new long[0], 0.02f))
                .addInitializer(raw("zp", Onnx.UINT8, new long[0], new byte[] {(byte) 5}))
                .addNode(node("qa", "QuantizeLinear", in("x", "sa", "za"), out("aq")))
                .addNode(node("dqa", "DequantizeLinear", in("aq", "sa", "za"), out("a")))
                .addNode(node("qb", "QuantizeLinear", in("x2", "sb", "zb"), out("bq")))
                .addNode(node("dqb", "DequantizeLinear", in("bq", "sb", "zb"), out("b")))
                .addNode(node("add", "Add", in("a", "b"), out("s")))
                .addNode(node("relu", "Relu", in("s"), out("r")))
                .addNode(node("qr", "QuantizeLinear", in("r", "sc", "zc"), out("rq")))
                .addNode(node("dqr", "DequantizeLinear", in("rq", "sc", "zc"), out("rf")))
                .addNode(node("maxpool", "MaxPool", in("rf"), out("mp"), ints("kernel_shape", 2, 2)))
                .addNode(node("qmp", "QuantizeLinear", in("mp", "sc", "zc"), out("mpq")))
                .addNode(node("dqmp", "DequantizeLinear", in("mpq", "sc", "zc"), out("mpf")))
                .addNode(node("gap", "GlobalAveragePool", in("mpf"), out("g")))
                .addNode(node("qg", "QuantizeLinear", in("g", "sg", "zg"), out("gq")))
                .addNode(node("dqg", "DequantizeLinear", in("gq", "sg", "zg"), out("y")))
                .addNode(node("mul", "Mul", in("a", "b"), out("m")))
                .addNode(node("qm", "QuantizeLinear", in("m", "sm", "zm"), out("mq")))
                .addNode(node("dqm", "DequantizeLinear", in("mq", "sm", "zm"), out("y2")))
                .addNode(node("avgpool", "AveragePool", in("mpf"), out("p"), ints("kernel_shape", 2, 2)))
                .addNode(node("qp", "QuantizeLinear", in("p", "sp", "zp"), out("pq")))
                .addNode(node("dqp", "DequantizeLinear", in("pq", "sp", "zp"), out("y3")))
                .build();
    }

    @Test
    void qdqAddMulAndPoolingBecomeInt8OpsAndMatchOnnxRuntimeWithinOneStep() throws Exception {
        Path onnx = dir.resolve("qdq-between.onnx");
        Files.write(onnx, Onnx.model(13, qdqBetweenGraph()).toByteArray());
        Converter.Result r = Converter.convert(onnx, Converter.Options.defaults());
        Graph g = r.model().graph();
        Map<String, Op> byName = new java.util.HashMap<>();
        for (Node n : g.nodes()) {
            byName.put(n.name(), n.op());
        }
        assertEquals(Op.QLinearAdd, byName.get("add"));
        assertEquals(Op.QLinearMul, byName.get("mul"));
        assertEquals(Op.MaxPool, byName.get("maxpool"));
        assertEquals(Op.QLinearGlobalAveragePool, byName.get("gap"));
        assertEquals(Op.QLinearAveragePool, byName.get("avgpool"));
        List<Op> ops = g.nodes().stream().map(Node::op).toList();
        assertTrue(!ops.contains(Op.Relu) && !ops.contains(Op.Add) && !ops.contains(Op.Mul)
                && !ops.contains(Op.GlobalAveragePool) && !ops.contains(Op.AveragePool), ops.toString());
        Node add = g.nodes().stream().filter(n -> n.op() == Op.QLinearAdd).findFirst().orElseThrow();
        assertEquals("Relu", add.stringAttr("fused_activation"));
        assertEquals(List.of("aq", "sa", "za", "bq", "sb", "zb", "sc", "zc"), add.inputs(),
                "the model's own scales and zero points");
        Node mp = g.nodes().stream().filter(n -> n.op() == Op.MaxPool).findFirst().orElseThrow();
        assertEquals("rq", mp.input(0), "MaxPool reads the uint8 values");
        // only the QuantizeLinear of the inputs and the DequantizeLinear of the outputs stay
        assertEquals(2, ops.stream().filter(o -> o == Op.QuantizeLinear).count(), ops.toString());
        assertEquals(3, ops.stream().filter(o -> o == Op.DequantizeLinear).count(), ops.toString());

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] steps = {0.01f, 0.015f, 0.02f};
        try (Model m = Model.of(r.model()); Session s = m.newSession();
                OrtSession os = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            Random rnd = new Random(11);
            for (int trial = 0; trial < 8; trial++) {
                float[] x = new float[32];
                float[] x2 = new float[32];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                    x2[i] = (float) rnd.nextGaussian() * 1.5f;
                }
                Map<String, Tensor> hedge = s.run(Map.of("x", Tensor.of(x, 1, 2, 4, 4), "x2", Tensor.of(x2, 1, 2, 4, 4)));
                long[] shape = {1, 2, 4, 4};
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                        OnnxTensor t2 = OnnxTensor.createTensor(env, FloatBuffer.wrap(x2), shape);
                        OrtSession.Result res = os.run(Map.of("x", t, "x2", t2))) {
                    String[] names = {"y", "y2", "y3"};
                    for (int k = 0; k < 3; k++) {
                        float[] want = flat(res.get(names[k]).get().getValue());
                        float[] got = hedge.get(names[k]).toFloatArray();
                        assertEquals(want.length, got.length);
                        // fixed-point requantization: within one step of the output's scale of the real formula
                        for (int i = 0; i < want.length; i++) {
                            assertEquals(want[i], got[i], steps[k] * 1.001f, names[k] + " trial " + trial + " at " + i);
                        }
                    }
                }
            }
        }
    }

    private static float[] flat(Object o) {
        List<Float> out = new java.util.ArrayList<>();
        collect(o, out);
        float[] v = new float[out.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = out.get(i);
        }
        return v;
    }

    private static void collect(Object o, List<Float> out) {
        if (o instanceof float[] f) {
            for (float x : f) {
                out.add(x);
            }
        } else {
            for (Object e : (Object[]) o) {
                collect(e, out);
            }
        }
    }
}
