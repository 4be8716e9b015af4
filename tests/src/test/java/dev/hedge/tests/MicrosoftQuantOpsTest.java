package dev.hedge.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.hedge.converter.onnx.OnnxImporter;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * ONNX Runtime-quantized models: the com.microsoft QLinearAdd, QLinearMul, QLinearAveragePool and
 * QLinearGlobalAveragePool imported and run by Hedge (default backends and the Java reference alone) against
 * ONNX Runtime 1.29 on random data. ONNX Runtime rounds in float, Hedge in fixed point (QFixed): every element
 * must agree within one unit, and almost all exactly.
 */
class MicrosoftQuantOpsTest {

    private static TensorProto raw(String name, int type, long[] dims, byte[] b) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(b));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static TensorProto scale(String name, float v) {
        return raw(name, 1, new long[0], ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, v)
                .array());
    }

    private static TensorProto zp(String name, DType t, int v) {
        return raw(name, t.onnxCode(), new long[0], new byte[] {(byte) v});
    }

    private static ValueInfoProto info(String name, DType t, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(t.onnxCode())
                        .setShape(s))).build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    private static float randomScale(Random r) {
        return (float) Math.scalb(1 + r.nextFloat(), -3 - r.nextInt(6));
    }

    private static int randomZp(Random r, DType t) {
        return t == DType.UINT8 ? r.nextInt(256) : r.nextInt(256) - 128;
    }

    /** Runs the model in ONNX Runtime and in Hedge; returns [ort, hedge default, hedge java] output bytes. */
    private static byte[][] run(ModelProto m, Map<String, byte[]> inputs, DType t, long[] shape) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        byte[][] res = new byte[3][];
        Map<String, OnnxTensor> ortIn = new HashMap<>();
        try (OrtSession s = env.createSession(m.toByteArray(), new OrtSession.SessionOptions())) {
            for (var e : inputs.entrySet()) {
                ortIn.put(e.getKey(), OnnxTensor.createTensor(env, ByteBuffer.wrap(e.getValue()), shape,
                        t == DType.UINT8 ? OnnxJavaType.UINT8 : OnnxJavaType.INT8));
            }
            try (OrtSession.Result r = s.run(ortIn)) {
                ByteBuffer b = ((OnnxTensor) r.get(0)).getByteBuffer();
                res[0] = new byte[b.remaining()];
                b.get(res[0]);
            }
        } finally {
            ortIn.values().forEach(OnnxTensor::close);
        }
        ModelDef def = OnnxImporter.importModel(m, null);
        int[] ishape = java.util.Arrays.stream(shape).mapToInt(d -> (int) d).toArray();
        Map<String, Tensor> in = new HashMap<>();
        inputs.forEach((k, v) -> in.put(k, Tensor.ofBytes(t, v, ishape)));
        RuntimeOptions[] options = {RuntimeOptions.defaults(), RuntimeOptions.reference()};
        for (int i = 0; i < 2; i++) {
            try (Model model = Model.of(def, options[i]); Session s = model.newSession()) {
                Tensor y = s.run(in).values().iterator().next();
                res[1 + i] = new byte[y.byteSize()];
                y.data().get(0, res[1 + i]);
            }
        }
        return res;
    }

    @Test
    void microsoftOpsAgreeWithOnnxRuntime() throws Exception {
        Random r = new Random(21);
        int elements = 0;
        int exact = 0;
        for (int trial = 0; trial < 48; trial++) {
            DType t = trial % 2 == 0 ? DType.UINT8 : DType.INT8;
            String op = new String[] {"QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool"}[
                    trial / 2 % 4];
            long[] shape = {1, 1 + r.nextInt(8), 2 + r.nextInt(9), 2 + r.nextInt(9)};
            int n = (int) (shape[1] * shape[2] * shape[3]);
            boolean binary = op.equals("QLinearAdd") || op.equals("QLinearMul");
            NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setDomain("com.microsoft").addOutput("y");
            GraphProto.Builder g = GraphProto.newBuilder().setName("g").addInput(info("a", t, shape))
                    .addInitializer(scale("as", randomScale(r))).addInitializer(zp("az", t, randomZp(r, t)))
                    .addInitializer(scale("cs", randomScale(r) * (op.equals("QLinearMul") ? 8 : 1)))
                    .addInitializer(zp("cz", t, randomZp(r, t)));
            Map<String, byte[]> inputs = new HashMap<>();
            byte[] a = new byte[n];
            r.nextBytes(a);
            inputs.put("a", a);
            if (binary) {
                g.addInput(info("b", t, shape)).addInitializer(scale("bs", randomScale(r)))
                        .addInitializer(zp("bz", t, randomZp(r, t)));
                node.addAllInput(List.of("a", "as", "az", "b", "bs", "bz", "cs", "cz"));
                byte[] b = new byte[n];
                r.nextBytes(b);
                inputs.put("b", b);
            } else {
                node.addAllInput(List.of("a", "as", "az", "cs", "cz"));
                if (op.equals("QLinearAveragePool")) {
                    node.addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 1 + r.nextInt(2), 1))
                            .addAttribute(ints("pads", 1, 0, 0, 1))
                            .addAttribute(AttributeProto.newBuilder().setName("count_include_pad")
                                    .setType(AttributeProto.AttributeType.INT).setI(r.nextInt(2)));
                }
            }
            g.addNode(node).addOutput(info("y", t));
            ModelProto m = ModelProto.newBuilder().setIrVersion(8)
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1))
                    .setGraph(g).build();
            byte[][] res = run(m, inputs, t, shape);
            assertEquals(res[0].length, res[1].length, op);
            for (int i = 0; i < res[0].length; i++) {
                int ort = t == DType.UINT8 ? res[0][i] & 0xff : res[0][i];
                int hedge = t == DType.UINT8 ? res[1][i] & 0xff : res[1][i];
                assertEquals(res[2][i], res[1][i], op + " element " + i + ": native and Java differ");
                assertTrue(Math.abs(ort - hedge) <= 1, op + " " + t + " element " + i + ": ONNX Runtime " + ort
                        + ", Hedge " + hedge);
                exact += ort == hedge ? 1 : 0;
                elements++;
            }
        }
        assertTrue(exact >= 0.95 * elements, exact + " of " + elements + " elements equal to ONNX Runtime's");
        System.out.println("com.microsoft quantized ops: " + exact + " of " + elements
                + " elements equal to ONNX Runtime's, the rest within 1");
    }
}
