package dev.hedge.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import dev.hedge.converter.onnx.TensorProtos;
import dev.hedge.ir.ModelDef;
import dev.hedge.kernels.cpu.NativeBackend;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import dev.hedge.tests.conformance.ConformanceRunner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native backend on the quantized ops: the ONNX conformance tests of QLinearConv, QLinearMatMul,
 * ConvInteger, MatMulInteger and 8-bit MaxPool, and random QLinearConv / QLinearMatMul models that must
 * match ONNX Runtime bit for bit.
 */
class NativeQuantTest {

    @BeforeAll
    static void needsNative() {
        Assumptions.assumeTrue(NativeBackend.isAvailable(), NativeBackend.unavailableReason());
    }

    private static RuntimeOptions nativeFirst() {
        return RuntimeOptions.reference().withBackend(new NativeBackend());
    }

    @Test
    void conformanceTestsOfTheQuantizedOpsPass() throws Exception {
        Path root = Path.of(System.getProperty("hedge.shared", "../shared")).resolve("conformance/node-onnx-1.22");
        Assumptions.assumeTrue(Files.isDirectory(root), "conformance data not found at " + root.toAbsolutePath());
        List<String> names = List.of("test_qlinearconv", "test_qlinearmatmul_2D_uint8_float32",
                "test_qlinearmatmul_2D_int8_float32", "test_qlinearmatmul_3D_uint8_float32",
                "test_qlinearmatmul_3D_int8_float32", "test_convinteger_with_padding", "test_convinteger_without_padding",
                "test_matmulinteger", "test_maxpool_2d_uint8");
        List<String> report = new ArrayList<>();
        for (String name : names) {
            Path dir = root.resolve(name);
            ModelDef def = OnnxImporter.importFile(dir.resolve("model.onnx"));
            Counting counting = new Counting();
            try (Model model = Model.of(def, RuntimeOptions.reference().withBackend(counting)); Session s = model.newSession();
                    Stream<Path> sets = Files.list(dir)) {
                for (Path set : sets.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).toList()) {
                    Map<String, Tensor> in = new LinkedHashMap<>();
                    List<String> inNames = def.graph().inputNames();
                    for (int i = 0; Files.exists(set.resolve("input_" + i + ".pb")); i++) {
                        in.put(inNames.get(i), TensorProtos.toTensor(TensorProtos.readProto(set.resolve("input_" + i + ".pb")), null));
                    }
                    Map<String, Tensor> out = s.run(in);
                    // scales given as graph inputs defer the preparation to run time: count kernels instead
                    assertTrue(counting.created >= def.graph().nodes().size() && counting.declined == 0,
                            name + ": every node ran natively");
                    Tensor want = TensorProtos.toTensor(TensorProtos.readProto(set.resolve("output_0.pb")), null);
                    String diff = ConformanceRunner.compare(want, out.get(def.graph().outputNames().get(0)));
                    assertNull(diff, name + "/" + set.getFileName() + ": " + diff);
                    report.add(name + "/" + set.getFileName());
                }
            }
        }
        System.out.println("native conformance: " + report.size() + " data sets passed: " + report);
        assertEquals(names.size(), report.size());
    }

    /** The native backend, counting the kernels it hands out. */
    static final class Counting implements dev.hedge.kernels.Backend {
        final NativeBackend inner = new NativeBackend();
        int created;
        int declined;

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public dev.hedge.kernels.Kernel create(dev.hedge.ir.Node node, List<dev.hedge.kernels.PrepareContext.ValueType> in) {
            dev.hedge.kernels.Kernel k = inner.create(node, in);
            created += k != null ? 1 : 0;
            declined += k == null ? 1 : 0;
            return k;
        }
    }

    // ---- differential against ONNX Runtime -----------------------------------------------------------

    private static TensorProto tensor(String name, int onnxType, long[] dims, ByteBuffer data) {
        byte[] b = new byte[data.capacity()];
        data.get(0, b);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(onnxType).setRawData(ByteString.copyFrom(b));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static TensorProto floats(String name, float... v) {
        ByteBuffer b = le(4 * v.length);
        for (int i = 0; i < v.length; i++) {
            b.putFloat(4 * i, v[i]);
        }
        return tensor(name, 1, v.length == 1 ? new long[0] : new long[] {v.length}, b);
    }

    private static TensorProto bytes(String name, DType t, long[] dims, byte[] v) {
        ByteBuffer b = le(v.length);
        b.put(0, v);
        return tensor(name, t.onnxCode(), dims, b);
    }

    private static ValueInfoProto info(String name, DType t, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(t.onnxCode()).setShape(s)))
                .build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    private static byte[] random(Random r, int n) {
        byte[] v = new byte[n];
        r.nextBytes(v);
        return v;
    }

    private static int zp(Random r, DType t) {
        return t == DType.UINT8 ? r.nextInt(256) : r.nextInt(256) - 128;
    }

    private static float scale(Random r) {
        return (float) Math.scalb(1 + r.nextFloat(), -3 - r.nextInt(8));
    }

    /** Runs a one-node model in ONNX Runtime and in Hedge (native backend) and returns both outputs' bytes. */
    private static byte[][] both(GraphProto graph, String input, DType inType, long[] shape, byte[] x) throws Exception {
        ModelProto m = ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(graph).build();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        byte[] ort;
        try (OrtSession s = env.createSession(m.toByteArray(), new OrtSession.SessionOptions());
                OnnxTensor in = OnnxTensor.createTensor(env, ByteBuffer.wrap(x), shape,
                        inType == DType.UINT8 ? OnnxJavaType.UINT8 : OnnxJavaType.INT8);
                OrtSession.Result r = s.run(Map.of(input, in))) {
            ByteBuffer b = ((OnnxTensor) r.get(0)).getByteBuffer();
            ort = new byte[b.remaining()];
            b.get(ort);
        }
        ModelDef def = OnnxImporter.importModel(m, null);
        int[] ishape = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ishape[i] = (int) shape[i];
        }
        try (Model model = Model.of(def, nativeFirst()); Session s = model.newSession()) {
            assertEquals("native", model.plan(List.of(ishape)).describe().get(0).backend());
            Tensor y = s.run(Map.of(input, Tensor.ofBytes(inType, x, ishape))).values().iterator().next();
            byte[] h = new byte[y.byteSize()];
            y.data().get(0, h);
            return new byte[][] {ort, h};
        }
    }

    @Test
    void qlinearConvMatchesOnnxRuntimeBitForBit() throws Exception {
        Random r = new Random(11);
        int mismatches = 0;
        for (int trial = 0; trial < 40; trial++) {
            DType tx = r.nextBoolean() ? DType.UINT8 : DType.INT8;
            DType ty = tx; // ONNX Runtime's QLinearConv has one type for x and y
            boolean depthwise = trial % 4 == 0;
            int cin = depthwise ? 3 + r.nextInt(6) : 1 + r.nextInt(12);
            int group = depthwise ? cin : 1;
            int cout = depthwise ? cin : 1 + r.nextInt(20);
            int k = 1 + 2 * r.nextInt(2);
            int h = k + r.nextInt(12);
            int w = k + r.nextInt(12);
            int stride = 1 + r.nextInt(2);
            int pad = r.nextInt(k);
            long[] xs = {1, cin, h, w};
            long[] ws = {cout, cin / group, k, k};
            byte[] wv = random(r, cout * (cin / group) * k * k);
            float[] wScale = new float[cout];
            for (int i = 0; i < cout; i++) {
                wScale[i] = scale(r);
            }
            int[] bias = new int[cout];
            ByteBuffer bb = le(4 * cout);
            for (int i = 0; i < cout; i++) {
                bias[i] = r.nextInt(4001) - 2000;
                bb.putInt(4 * i, bias[i]);
            }
            NodeProto node = NodeProto.newBuilder().setOpType("QLinearConv")
                    .addAllInput(List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b")).addOutput("y")
                    .addAttribute(ints("strides", stride, stride)).addAttribute(ints("pads", pad, pad, pad, pad))
                    .addAttribute(ints("kernel_shape", k, k))
                    .addAttribute(AttributeProto.newBuilder().setName("group").setType(AttributeProto.AttributeType.INT).setI(group))
                    .build();
            GraphProto g = GraphProto.newBuilder().setName("g").addNode(node)
                    .addInitializer(floats("xs", scale(r))).addInitializer(bytes("xz", tx, new long[0], new byte[] {(byte) zp(r, tx)}))
                    .addInitializer(bytes("w", DType.INT8, ws, wv)).addInitializer(floats("ws", wScale))
                    .addInitializer(bytes("wz", DType.INT8, new long[] {cout}, new byte[cout]))
                    .addInitializer(floats("ys", scale(r) * (4 + r.nextInt(40))))
                    .addInitializer(bytes("yz", ty, new long[0], new byte[] {(byte) zp(r, ty)}))
                    .addInitializer(tensor("b", 6, new long[] {cout}, bb))
                    .addInput(info("x", tx, xs)).addOutput(info("y", ty)).build();
            byte[][] res = both(g, "x", tx, xs, random(r, cin * h * w));
            assertEquals(res[0].length, res[1].length);
            for (int i = 0; i < res[0].length; i++) {
                mismatches += res[0][i] != res[1][i] ? 1 : 0;
            }
        }
        assertEquals(0, mismatches, "elements differing from ONNX Runtime");
    }

    @Test
    void qlinearMatMulMatchesOnnxRuntimeBitForBit() throws Exception {
        Random r = new Random(12);
        int mismatches = 0;
        int total = 0;
        for (int trial = 0; trial < 40; trial++) {
            DType ta = r.nextBoolean() ? DType.UINT8 : DType.INT8;
            DType tb = DType.INT8;
            DType ty = ta;
            int m = 1 + r.nextInt(40);
            int k = 1 + r.nextInt(100);
            int n = 1 + r.nextInt(70);
            boolean perColumn = r.nextBoolean();
            float[] bScale = new float[perColumn ? n : 1];
            for (int i = 0; i < bScale.length; i++) {
                bScale[i] = scale(r);
            }
            NodeProto node = NodeProto.newBuilder().setOpType("QLinearMatMul")
                    .addAllInput(List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz")).addOutput("y").build();
            GraphProto g = GraphProto.newBuilder().setName("g").addNode(node)
                    .addInitializer(floats("as", scale(r))).addInitializer(bytes("az", ta, new long[0], new byte[] {(byte) zp(r, ta)}))
                    .addInitializer(bytes("b", tb, new long[] {k, n}, random(r, k * n))).addInitializer(floats("bs", bScale))
                    .addInitializer(bytes("bz", tb, perColumn ? new long[] {n} : new long[0], new byte[perColumn ? n : 1]))
                    .addInitializer(floats("ys", scale(r) * (4 + r.nextInt(40))))
                    .addInitializer(bytes("yz", ty, new long[0], new byte[] {(byte) zp(r, ty)}))
                    .addInput(info("a", ta, m, k)).addOutput(info("y", ty)).build();
            byte[][] res = both(g, "a", ta, new long[] {m, k}, random(r, m * k));
            assertEquals(res[0].length, res[1].length);
            for (int i = 0; i < res[0].length; i++) {
                mismatches += res[0][i] != res[1][i] ? 1 : 0;
            }
            total += res[0].length;
        }
        assertTrue(total > 0);
        assertEquals(0, mismatches, "elements (of " + total + ") differing from ONNX Runtime");
    }
}
