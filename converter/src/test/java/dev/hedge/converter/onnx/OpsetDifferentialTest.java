package dev.hedge.converter.onnx;

import static dev.hedge.converter.onnx.Onnx.FLOAT;
import static dev.hedge.converter.onnx.Onnx.attr;
import static dev.hedge.converter.onnx.Onnx.dims;
import static dev.hedge.converter.onnx.Onnx.floats;
import static dev.hedge.converter.onnx.Onnx.floatsRaw;
import static dev.hedge.converter.onnx.Onnx.graphBuilder;
import static dev.hedge.converter.onnx.Onnx.in;
import static dev.hedge.converter.onnx.Onnx.int64s;
import static dev.hedge.converter.onnx.Onnx.ints;
import static dev.hedge.converter.onnx.Onnx.model;
import static dev.hedge.converter.onnx.Onnx.node;
import static dev.hedge.converter.onnx.Onnx.out;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each opset normalization checked end to end: a model in the old ONNX form runs on ONNX Runtime (the
 * oracle) and, imported into Hedge's single form, on Hedge's Java backend; the outputs must agree.
 * Cases whose kernels have not landed in the Java backend yet are skipped, naming the missing ops.
 */
class OpsetDifferentialTest {

    private static final double TOLERANCE = 1e-5;

    /** One model: opset, one node, float32 inputs of given shapes, extra initializers. */
    record Case(String name, int opset, NodeProto node, Map<String, long[]> inputs, List<TensorProto> inits) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case c(String name, int opset, NodeProto n, Map<String, long[]> inputs, TensorProto... inits) {
        return new Case(name, opset, n, inputs, List.of(inits));
    }

    private static Map<String, long[]> x(long... shape) {
        return Map.of("x", shape);
    }

    static Stream<Arguments> cases() {
        TensorProto bnS = floatsRaw("s", dims(3), 0.5f, 1.5f, 2f);
        TensorProto bnB = floatsRaw("b", dims(3), 0.1f, -0.2f, 0.3f);
        TensorProto bnM = floatsRaw("m", dims(3), 0.05f, -0.1f, 0.2f);
        TensorProto bnV = floatsRaw("v", dims(3), 0.9f, 1.2f, 0.4f);
        TensorProto u8zp = TensorProto.newBuilder().setName("zp").setDataType(Onnx.UINT8).addDims(1)
                .addInt32Data(100).build();
        List<Case> l = List.of(
                c("Softmax-11 coerces to 2-D at axis 1", 11, node("s", "Softmax", in("x"), out("y")), x(2, 3, 4, 5)),
                c("Softmax-1 axis 2", 7, node("s", "Softmax", in("x"), out("y"), attr("axis", 2L)), x(2, 3, 4, 5)),
                c("LogSoftmax-11 axis 0", 12, node("s", "LogSoftmax", in("x"), out("y"), attr("axis", 0L)),
                        x(2, 3, 4)),
                c("Hardmax-11", 11, node("s", "Hardmax", in("x"), out("y")), x(2, 3, 4)),
                c("ReduceMean-13 axes attribute", 13, node("r", "ReduceMean", in("x"), out("y"), ints("axes", 1, 3),
                        attr("keepdims", 0L)), x(2, 3, 4, 5)),
                c("ReduceSum-11 axes attribute", 11, node("r", "ReduceSum", in("x"), out("y"), ints("axes", -1)),
                        x(2, 3, 4)),
                c("ReduceMax-1 all axes", 8, node("r", "ReduceMax", in("x"), out("y"), attr("keepdims", 0L)),
                        x(2, 3, 4)),
                c("ReduceL2-13 axes attribute", 17, node("r", "ReduceL2", in("x"), out("y"), ints("axes", 0)),
                        x(2, 3)),
                c("TopK-1 k attribute", 9, node("t", "TopK", in("x"), out("v", "i"), attr("k", 2L), attr("axis", 1L)),
                        x(3, 5)),
                c("BatchNormalization-7 spatial", 7, node("bn", "BatchNormalization", in("x", "s", "b", "m", "v"),
                        out("y"), attr("spatial", 1L), attr("epsilon", 1e-3f)), x(2, 3, 4, 4), bnS, bnB, bnM, bnV),
                c("BatchNormalization-9", 9, node("bn", "BatchNormalization", in("x", "s", "b", "m", "v"),
                        out("y")), x(2, 3, 5), bnS, bnB, bnM, bnV),
                c("GroupNormalization-18 per-group scale", 18, node("gn", "GroupNormalization", in("x", "gs", "gb"),
                        out("y"), attr("num_groups", 2L), attr("epsilon", 1e-4f)), x(2, 4, 3, 3),
                        floatsRaw("gs", dims(2), 0.5f, 2f), floatsRaw("gb", dims(2), 1f, -1f)),
                c("Clip-6 bounds", 7, node("c", "Clip", in("x"), out("y"), attr("min", -0.3f), attr("max", 0.4f)),
                        x(3, 4)),
                c("Clip-6 defaults", 10, node("c", "Clip", in("x"), out("y"), attr("max", 0.2f)), x(3, 4)),
                c("Pad-2 constant value", 10, node("p", "Pad", in("x"), out("y"), ints("pads", 0, 1, 2, 1, 0, 2),
                        attr("value", 1.5f)), x(2, 3, 4)),
                c("Pad-2 reflect", 10, node("p", "Pad", in("x"), out("y"), ints("pads", 0, 2, 1, 0, 1, 2),
                        attr("mode", "reflect")), x(2, 3, 4)),
                c("Slice-1", 9, node("s", "Slice", in("x"), out("y"), ints("starts", 1, -3), ints("ends", 1000, -1),
                        ints("axes", 0, 2)), x(3, 4, 5)),
                c("Split-2 split attribute", 11, node("s", "Split", in("x"), out("a", "b"), attr("axis", 1L),
                        ints("split", 1, 3)), x(2, 4)),
                c("Squeeze-11 axes attribute", 11, node("s", "Squeeze", in("x"), out("y"), ints("axes", 0, 2)),
                        x(1, 3, 1, 2)),
                c("Unsqueeze-11 axes attribute", 12, node("s", "Unsqueeze", in("x"), out("y"), ints("axes", 0, -1)),
                        x(3, 2)),
                c("Upsample-7 nearest", 8, node("u", "Upsample", in("x"), out("y"), floats("scales", 1, 1, 2, 3)),
                        x(1, 2, 3, 2)),
                c("Upsample-9 linear", 9, node("u", "Upsample", in("x", "sc"), out("y"), attr("mode", "linear")),
                        x(1, 2, 3, 4), floatsRaw("sc", dims(4), 1, 1, 2, 2)),
                c("Resize-10 nearest downsampling rounds up", 10, node("r", "Resize", in("x", "sc"), out("y")),
                        x(1, 1, 6, 7), floatsRaw("sc", dims(4), 1, 1, 0.6f, 0.5f)),
                c("Resize-10 nearest upsampling rounds down", 10, node("r", "Resize", in("x", "sc"), out("y")),
                        x(1, 1, 3, 2), floatsRaw("sc", dims(4), 1, 1, 2.5f, 3f)),
                c("Resize-10 linear", 10, node("r", "Resize", in("x", "sc"), out("y"), attr("mode", "linear")),
                        x(1, 1, 4, 4), floatsRaw("sc", dims(4), 1, 1, 0.5f, 1.5f)),
                c("Resize-11 sizes with empty scales", 11, node("r", "Resize", in("x", "roi", "sc", "sz"), out("y"),
                        attr("mode", "linear"), attr("coordinate_transformation_mode", "align_corners")),
                        x(1, 1, 3, 4), floatsRaw("roi", dims(0)), floatsRaw("sc", dims(0)),
                        int64s("sz", dims(4), 1, 1, 5, 7)),
                c("Dropout-7 with mask", 7, node("d", "Dropout", in("x"), out("y", "mask"), attr("ratio", 0.3f)),
                        x(2, 3)),
                c("Dropout-10 ratio", 10, node("d", "Dropout", in("x"), out("y", "mask"), attr("ratio", 0.3f)),
                        x(2, 3)),
                c("QuantizeLinear-10 one-element scale", 10, node("q", "QuantizeLinear", in("x", "qs", "zp"),
                        out("y")), x(2, 5), floatsRaw("qs", dims(1), 0.01f), u8zp),
                c("MaxPool-1 one output", 7, node("mp", "MaxPool", in("x"), out("y"), ints("kernel_shape", 2, 2),
                        ints("strides", 2, 1)), x(1, 2, 5, 5)),
                c("AveragePool-10 ceil mode", 10, node("ap", "AveragePool", in("x"), out("y"),
                        ints("kernel_shape", 3, 3), ints("strides", 2, 2), attr("ceil_mode", 1L)), x(1, 2, 6, 6)),
                c("ArgMax-11", 11, node("a", "ArgMax", in("x"), out("y"), attr("axis", -1L)), x(3, 4)),
                c("DepthToSpace-1", 10, node("d", "DepthToSpace", in("x"), out("y"), attr("blocksize", 2L)),
                        x(1, 8, 2, 3)),
                // opsets 1-6, where ONNX Runtime still has kernels for the version
                c("Reshape-1 shape attribute", 1, node("r", "Reshape", in("x"), out("y"), ints("shape", 0, -1, 2)),
                        x(2, 3, 4)),
                c("Softmax-1 at opset 1", 1, node("s", "Softmax", in("x"), out("y")), x(2, 3, 4)),
                c("MaxPool-1 at opset 1", 1, node("mp", "MaxPool", in("x"), out("y"), ints("kernel_shape", 3, 2),
                        ints("pads", 1, 0, 1, 1), ints("strides", 2, 1)), x(1, 2, 5, 4)),
                c("Slice-1 at opset 1", 1, node("s", "Slice", in("x"), out("y"), ints("starts", 1),
                        ints("ends", 3), ints("axes", 1)), x(2, 4, 3)),
                c("ReduceSum-1 at opset 1", 1, node("r", "ReduceSum", in("x"), out("y"), ints("axes", 1),
                        attr("keepdims", 0L)), x(2, 3, 4)),
                c("Pad-2 at opset 2", 2, node("p", "Pad", in("x"), out("y"), ints("pads", 0, 1, 2, 0, 2, 1),
                        attr("mode", "reflect")), x(2, 3, 4)),
                c("Split-2 default axis", 2, node("s", "Split", in("x"), out("a", "b")), x(4, 3)),
                c("Concat-4", 4, node("c", "Concat", in("x", "z"), out("y"), attr("axis", 0L)),
                        Map.of("x", new long[] {2, 3}, "z", new long[] {1, 3})),
                c("Selu-6 defaults", 6, node("s", "Selu", in("x"), out("y")), x(3, 4)),
                c("Elu-6", 6, node("e", "Elu", in("x"), out("y"), attr("alpha", 0.5f)), x(3, 4)),
                c("HardSigmoid-6", 6, node("h", "HardSigmoid", in("x"), out("y"), attr("alpha", 0.3f)), x(3, 4)),
                c("Clip-6 at opset 6", 6, node("c", "Clip", in("x"), out("y"), attr("min", -0.2f)), x(3, 4)),
                c("Sum-6", 6, node("s", "Sum", in("x", "w"), out("y")), x(3, 4),
                        floatsRaw("w", dims(3, 4), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
                c("Mean-6", 6, node("m", "Mean", in("x", "w"), out("y")), x(2, 2),
                        floatsRaw("w", dims(2, 2), 4, 3, 2, 1)),
                c("InstanceNormalization-6", 6, node("in", "InstanceNormalization", in("x", "s", "b"), out("y"),
                        attr("epsilon", 1e-3f)), x(2, 3, 5), floatsRaw("s", dims(3), 0.5f, 1.5f, 2f),
                        floatsRaw("b", dims(3), 0.1f, -0.2f, 0.3f)),
                c("Tile-6", 6, node("t", "Tile", in("x", "reps"), out("y")), x(2, 3),
                        int64s("reps", dims(2), 2, 3)));
        return l.stream().map(Arguments::of);
    }

    private static ModelProto build(Case k) {
        GraphProto.Builder g = graphBuilder("g");
        for (Map.Entry<String, long[]> e : k.inputs().entrySet()) {
            g.addInput(Onnx.valueInfo(e.getKey(), FLOAT, Arrays.stream(e.getValue()).boxed().toArray()));
        }
        g.addAllInitializer(k.inits()).addNode(k.node());
        for (String o : k.node().getOutputList()) {
            if (!o.isEmpty()) {
                g.addOutput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName(o));
            }
        }
        return model(k.opset(), g.build());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oldOpsetFormMatchesOnnxRuntime(Case k) throws Exception {
        ModelProto proto = build(k);
        ModelDef def = OnnxImporter.importModel(proto, null);
        Set<String> missing = new TreeSet<>();
        for (Node n : def.graph().nodes()) {
            if (!RefBackend.INSTANCE.supportedOps().contains(n.op())) {
                missing.add(n.op().name());
            }
        }
        assumeTrue(missing.isEmpty(), "Java backend kernels not available yet: " + missing);
        Random r = new Random(k.name().hashCode());
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : k.inputs().entrySet()) {
            int[] shape = Arrays.stream(e.getValue()).mapToInt(v -> (int) v).toArray();
            float[] v = new float[Tensor.elementCount(shape)];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextFloat() * 2 - 1;
            }
            inputs.put(e.getKey(), Tensor.of(v, shape));
        }
        Map<String, Tensor> expected = onnxRuntime(proto, inputs);
        Map<String, Tensor> actual = new LinkedHashMap<>();
        try (Model m = Model.of(def); Session s = m.newSession()) {
            s.run(inputs).forEach((n, t) -> actual.put(n, t.copy()));
        }
        assertEquals(expected.keySet(), actual.keySet());
        for (String n : expected.keySet()) {
            Tensor e = expected.get(n);
            Tensor a = actual.get(n);
            if (n.equals("mask")) {
                // ONNX Runtime zero-fills Dropout-7..11's inference mask; the ONNX reference keeps everything (ones)
                assertEquals(e.dtype(), a.dtype(), "mask dtype");
                for (int i = 0; i < a.elementCount(); i++) {
                    assertEquals(1.0, a.getDouble(i), "mask[" + i + "]");
                }
                continue;
            }
            assertEquals(e.dtype(), a.dtype(), n + " dtype");
            assertArrayEquals(e.shape(), a.shape(), n + " shape");
            for (int i = 0; i < e.elementCount(); i++) {
                double ev = e.getDouble(i);
                double av = a.getDouble(i);
                assertTrue(Math.abs(ev - av) <= TOLERANCE * Math.max(1, Math.abs(ev)),
                        n + "[" + i + "] = " + av + ", ONNX Runtime gives " + ev);
            }
        }
    }

    private static Map<String, Tensor> onnxRuntime(ModelProto proto, Map<String, Tensor> inputs) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (OrtSession s = env.createSession(proto.toByteArray(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> in = new LinkedHashMap<>();
            List<OnnxTensor> open = new ArrayList<>();
            try {
                for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
                    long[] shape = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
                    OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().toFloatArray()), shape);
                    open.add(t);
                    in.put(e.getKey(), t);
                }
                try (OrtSession.Result r = s.run(in)) {
                    for (Map.Entry<String, OnnxValue> e : r) {
                        out.put(e.getKey(), toTensor((OnnxTensor) e.getValue()));
                    }
                }
            } finally {
                open.forEach(OnnxTensor::close);
            }
        }
        return out;
    }

    private static Tensor toTensor(OnnxTensor t) {
        int[] shape = Arrays.stream(t.getInfo().getShape()).mapToInt(v -> (int) v).toArray();
        switch (t.getInfo().type) {
            case FLOAT: {
                FloatBuffer b = t.getFloatBuffer();
                float[] v = new float[b.remaining()];
                b.get(v);
                return Tensor.of(v, shape);
            }
            case INT64: {
                var b = t.getLongBuffer();
                long[] v = new long[b.remaining()];
                b.get(v);
                return Tensor.of(v, shape);
            }
            case BOOL: case UINT8: case INT8: {
                ByteBuffer b = t.getByteBuffer();
                byte[] v = new byte[b.remaining()];
                b.get(v);
                DType d = t.getInfo().type == ai.onnxruntime.OnnxJavaType.BOOL ? DType.BOOL
                        : t.getInfo().type == ai.onnxruntime.OnnxJavaType.UINT8 ? DType.UINT8 : DType.INT8;
                return Tensor.ofBytes(d, v, shape);
            }
            default:
                throw new IllegalArgumentException("unexpected ONNX Runtime output type " + t.getInfo().type);
        }
    }
}
