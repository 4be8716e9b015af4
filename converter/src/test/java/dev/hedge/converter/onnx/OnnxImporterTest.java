package dev.hedge.converter.onnx;

import static dev.hedge.converter.onnx.Onnx.FLOAT;
import static dev.hedge.converter.onnx.Onnx.INT64;
import static dev.hedge.converter.onnx.Onnx.attr;
import static dev.hedge.converter.onnx.Onnx.dims;
import static dev.hedge.converter.onnx.Onnx.floatsRaw;
import static dev.hedge.converter.onnx.Onnx.floatsTyped;
import static dev.hedge.converter.onnx.Onnx.graph;
import static dev.hedge.converter.onnx.Onnx.graphBuilder;
import static dev.hedge.converter.onnx.Onnx.in;
import static dev.hedge.converter.onnx.Onnx.int64s;
import static dev.hedge.converter.onnx.Onnx.model;
import static dev.hedge.converter.onnx.Onnx.node;
import static dev.hedge.converter.onnx.Onnx.out;
import static dev.hedge.converter.onnx.Onnx.tensor;
import static dev.hedge.converter.onnx.Onnx.valueInfo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxImporterTest {

    private static GraphProto.Builder reluGraph() {
        return graphBuilder("g").addInput(valueInfo("x", FLOAT, 2, 3))
                .addNode(node("relu", "Relu", in("x"), out("y"))).addOutput(valueInfo("y", FLOAT, 2, 3));
    }

    @Test
    void everyHedgeOpHasOnnxVersionsAndEveryOnnxAttributeIsInHedgesTable() {
        for (Op op : Op.values()) {
            if (!op.onnxDomain().isEmpty()) {
                continue;
            }
            OnnxOpVersions.Version first = OnnxOpVersions.first(op.name());
            assertTrue(first != null, op + " has no ONNX version table");
            OnnxOpVersions.Version v27 = OnnxOpVersions.at(op.name(), 27);
            if (op == Op.Upsample) {
                assertTrue(v27.deprecated());
                continue;
            }
            // the newest form is Hedge's form: every attribute it defines must be in the op table, except the
            // ones the normalizer consumes (Range stash_type, Cast round_mode, Q/DQ precision/output_dtype)
            for (String a : v27.attrs()) {
                boolean consumed = a.equals("stash_type") && op == Op.Range || a.equals("round_mode")
                        || a.equals("precision") || a.equals("output_dtype") && op == Op.DequantizeLinear;
                assertTrue(consumed || op.attr(a) != null, op + " lacks ONNX attribute " + a);
            }
        }
    }

    @Test
    void initializersFromRawAndTypedFields() throws IOException {
        TensorProto fp16 = TensorProto.newBuilder().setName("h").setDataType(Onnx.FLOAT16).addDims(2)
                .addInt32Data(Half.fromFloat(1.5f) & 0xffff).addInt32Data(Half.fromFloat(-2f) & 0xffff).build();
        TensorProto i8 = TensorProto.newBuilder().setName("b").setDataType(Onnx.INT8).addDims(3)
                .addInt32Data(-128).addInt32Data(0).addInt32Data(127).build();
        TensorProto dbl = TensorProto.newBuilder().setName("d").setDataType(Onnx.DOUBLE).addDims(1)
                .addDoubleData(Math.PI).build();
        TensorProto bool = TensorProto.newBuilder().setName("t").setDataType(Onnx.BOOL).addDims(2)
                .addInt32Data(1).addInt32Data(0).build();
        GraphProto g = reluGraph()
                .addInitializer(floatsRaw("raw", dims(2, 2), 1, 2, 3, 4))
                .addInitializer(floatsTyped("typed", dims(3), -1, 0.5f, 7))
                .addInitializer(int64s("longs", dims(2), Long.MIN_VALUE, 42))
                .addInitializer(fp16).addInitializer(i8).addInitializer(dbl).addInitializer(bool).build();
        Graph hg = OnnxImporter.importModel(model(13, g), null).graph();
        assertArrayEquals(new float[] {1, 2, 3, 4}, hg.initializers().get("raw").toFloatArray());
        assertArrayEquals(new int[] {2, 2}, hg.initializers().get("raw").shape());
        assertArrayEquals(new float[] {-1, 0.5f, 7}, hg.initializers().get("typed").toFloatArray());
        assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, hg.initializers().get("longs").toLongArray());
        assertEquals(DType.FLOAT16, hg.initializers().get("h").dtype());
        assertArrayEquals(new float[] {1.5f, -2f}, hg.initializers().get("h").toFloatArray());
        assertArrayEquals(new long[] {-128, 0, 127}, hg.initializers().get("b").toLongArray());
        assertEquals(Math.PI, hg.initializers().get("d").getDouble(0));
        assertArrayEquals(new long[] {1, 0}, hg.initializers().get("t").toLongArray());
    }

    @Test
    void rawDataOfTheWrongSizeIsAFormatError() {
        TensorProto bad = TensorProto.newBuilder().setName("w").setDataType(FLOAT).addDims(3)
                .setRawData(ByteString.copyFrom(new byte[8])).build();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImporter.importModel(model(13, reluGraph().addInitializer(bad).build()), null));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("12"), e.getMessage());
    }

    private static TensorProto external(String name, String location, long offset, long length, long... dims) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        if (offset >= 0) {
            b.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)));
        }
        if (length >= 0) {
            b.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(length)));
        }
        for (long d : dims) {
            b.addDims(d);
        }
        return b.build();
    }

    @Test
    void externalDataIsReadFromTheModelFolder(@TempDir Path dir) throws Exception {
        ByteBuffer data = ByteBuffer.allocate(4096 + 24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            data.putFloat(4096 + i * 4, i + 0.25f);
        }
        Files.write(dir.resolve("weights.bin"), data.array());
        GraphProto g = reluGraph().addInitializer(external("w", "weights.bin", 4096, 24, 2, 3))
                .addInitializer(external("v", "weights.bin", 4096 + 8, -1, 4)).build();
        Path onnx = dir.resolve("m.onnx");
        byte[] bytes = model(13, g).toByteArray();
        Files.write(onnx, bytes);
        ModelDef def = OnnxImporter.importFile(onnx);
        assertArrayEquals(new float[] {0.25f, 1.25f, 2.25f, 3.25f, 4.25f, 5.25f},
                def.graph().initializers().get("w").toFloatArray());
        assertArrayEquals(new float[] {2.25f, 3.25f, 4.25f, 5.25f}, def.graph().initializers().get("v").toFloatArray());
        assertEquals("m.onnx", def.metadata().get(ModelDef.META_SOURCE_NAME));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)),
                def.metadata().get(ModelDef.META_SOURCE_DIGEST));
    }

    @Test
    void externalDataMustStayInsideTheModelFolderAndFitItsFile(@TempDir Path dir) throws IOException {
        Path sub = Files.createDirectory(dir.resolve("model"));
        Files.write(dir.resolve("secret.bin"), new byte[64]);
        Files.write(sub.resolve("w.bin"), new byte[16]);
        Files.createSymbolicLink(sub.resolve("link.bin"), dir.resolve("secret.bin"));
        String[][] cases = {
            {"../secret.bin", "outside"},
            {dir.resolve("secret.bin").toString(), "outside"},
            {"link.bin", "outside"},
            {"missing.bin", "does not exist"},
            {"w.bin", "lies outside"},
        };
        for (String[] c : cases) {
            long length = c[0].equals("w.bin") ? -1 : 24;
            GraphProto g = reluGraph().addInitializer(external("w", c[0], 0, length, 6)).build();
            Path onnx = sub.resolve("m.onnx");
            Files.write(onnx, model(13, g).toByteArray());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxImporter.importFile(onnx));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
        GraphProto g = reluGraph().addInitializer(external("w", "w.bin", 0, 20, 4)).build();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImporter.importModel(model(13, g), sub));
        assertTrue(e.getMessage().contains("length 20"), e.getMessage());
    }

    @Test
    void initializersListedAsInputsStayConstants() throws IOException {
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, 2)).addInput(valueInfo("b", FLOAT, 2))
                .addInitializer(floatsRaw("b", dims(2), 1, 2))
                .addNode(node("add", "Add", in("x", "b"), out("y"))).addOutput(valueInfo("y", FLOAT, 2)).build();
        ModelProto m = model(7, g).toBuilder().setIrVersion(3).build();
        Graph hg = OnnxImporter.importModel(m, null).graph();
        assertEquals(java.util.List.of("x"), hg.inputNames());
        assertTrue(hg.initializers().containsKey("b"));
    }

    @Test
    void dimParamsBecomeNamedDynamicDims() throws IOException {
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, "batch", 3, -1))
                .addNode(node("relu", "Relu", in("x"), out("y"))).addOutput(valueInfo("y", FLOAT, "batch", 3, -1))
                .build();
        Graph hg = OnnxImporter.importModel(model(13, g), null).graph();
        java.util.List<Dim> d = hg.inputs().get(0).dims();
        assertEquals(Dim.dynamic("batch"), d.get(0));
        assertEquals(Dim.of(3), d.get(1));
        assertFalse(d.get(2).isFixed());
        assertNull(d.get(2).param());
    }

    @Test
    void constantNodesBecomeInitializersAlsoInSubgraphs() throws IOException {
        GraphProto thenG = graphBuilder("then")
                .addNode(node("k", "Constant", in(), out("tk"), tensor("value", floatsRaw("", dims(2), 5, 6))))
                .addNode(node("add", "Add", in("x", "tk"), out("ty"))).addOutput(valueInfo("ty", FLOAT, 2)).build();
        GraphProto elseG = graphBuilder("else")
                .addNode(node("neg", "Neg", in("x"), out("ey"))).addOutput(valueInfo("ey", FLOAT, 2)).build();
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, 2)).addInput(valueInfo("c", Onnx.BOOL))
                .addNode(node("c1", "Constant", in(), out("one"), attr("value_float", 1f)))
                .addNode(node("c2", "Constant", in(), out("axes"), Onnx.ints("value_ints", 0, 1)))
                .addNode(node("if", "If", in("c"), out("y"), graph("then_branch", thenG), graph("else_branch", elseG)))
                .addOutput(valueInfo("y", FLOAT, 2)).build();
        Graph hg = OnnxImporter.importModel(model(13, g), null).graph();
        assertEquals(1, hg.nodes().size());
        assertEquals(0, hg.initializers().get("one").rank());
        assertEquals(1f, hg.initializers().get("one").getFloat(0));
        assertArrayEquals(new long[] {0, 1}, hg.initializers().get("axes").toLongArray());
        Node ifNode = hg.nodes().get(0);
        Graph then = ifNode.graphAttr("then_branch");
        assertArrayEquals(new float[] {5, 6}, then.initializers().get("tk").toFloatArray());
        assertEquals(1, then.nodes().size());
        assertEquals(java.util.Set.of("x"), then.freeVariables());
        assertEquals(Op.Neg, ifNode.graphAttr("else_branch").nodes().get(0).op());
    }

    @Test
    void sparseInitializersAreDensified() throws IOException {
        SparseTensorProto sp = SparseTensorProto.newBuilder().addDims(2).addDims(3)
                .setValues(floatsTyped("s", dims(2), 7, 9)).setIndices(int64s("", dims(2, 2), 0, 1, 1, 2)).build();
        GraphProto g = reluGraph().addSparseInitializer(sp).build();
        Tensor t = OnnxImporter.importModel(model(13, g), null).graph().initializers().get("s");
        assertArrayEquals(new float[] {0, 7, 0, 0, 0, 9}, t.toFloatArray());
        SparseTensorProto bad = sp.toBuilder().setIndices(int64s("", dims(2), 1, 6)).build();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImporter.importModel(model(13, reluGraph().addSparseInitializer(bad).build()), null));
        assertTrue(e.getMessage().contains("'s'") && e.getMessage().contains("6"), e.getMessage());
    }

    @Test
    void metadataRecordsTheSource() throws IOException {
        ModelProto m = model(13, reluGraph().build()).toBuilder().setModelVersion(3).setDomain("org.example")
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("author").setValue("me")).build();
        ModelDef def = OnnxImporter.importModel(m, null);
        assertEquals("hedge", def.metadata().get(ModelDef.META_PRODUCER));
        assertEquals("test 1", def.metadata().get("source.producer"));
        assertEquals("13", def.metadata().get("source.opset"));
        assertEquals("8", def.metadata().get("source.ir_version"));
        assertEquals("3", def.metadata().get("source.model_version"));
        assertEquals("org.example", def.metadata().get("source.domain"));
        assertEquals("me", def.metadata().get("source.meta.author"));
    }

    @Test
    void everyUnsupportedNodeIsNamedInOneError() {
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, 2, 3))
                .addNode(node("a", "Relu", in("x"), out("r")))
                .addNode(node("fancy", "FancyOp", in("r"), out("f")))
                .addNode(node("att", "Attention", in("f", "f", "f"), out("t")))
                .addNode(node("ms", "FusedGemm", in("t"), out("m")).toBuilder().setDomain("com.microsoft").build())
                .addNode(node("lrelu", "LeakyRelu", in("m"), out("l"), attr("beta", 1f)))
                .addNode(node("gelu", "Gelu", in("l"), out("y")))
                .addOutput(valueInfo("y", FLOAT, 2, 3)).build();
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> OnnxImporter.importModel(model(17, g), null));
        String msg = e.getMessage();
        assertTrue(msg.contains("node 'fancy' (op FancyOp, domain '', opset 17): op type 'FancyOp' is not supported"),
                msg);
        assertTrue(msg.contains("node 'att' (op Attention, domain '', opset 17)"), msg);
        assertTrue(msg.contains("node 'ms' (op FusedGemm, domain 'com.microsoft'") && msg.contains("domain"), msg);
        assertTrue(msg.contains("node 'lrelu' (op LeakyRelu-16, domain '', opset 17): attribute 'beta' is not"
                + " defined by LeakyRelu-16"), msg);
        assertTrue(msg.contains("node 'gelu' (op Gelu, domain '', opset 17): op Gelu does not exist at opset 17"
                + " (it arrived in opset 20)"), msg);
        assertTrue(msg.startsWith("Hedge cannot run this model (5 problem(s)): node 'fancy' (op FancyOp"), msg);
        assertTrue(msg.contains("supported ops (default domain): Abs, Acos"), msg);
        assertFalse(msg.contains("'a'"), msg);
    }

    private static TensorProto bytes(String name, int type, long[] dims, int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type)
                .setRawData(ByteString.copyFrom(b));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static ai.onnx.proto.OnnxMl.NodeProto microsoft(ai.onnx.proto.OnnxMl.NodeProto n) {
        return n.toBuilder().setDomain("com.microsoft").build();
    }

    /** A, B [1, 2, 2, 2] -> QLinearAdd -> QLinearAveragePool 2x1 -> QLinearMul -> QLinearGlobalAveragePool. */
    private static GraphProto.Builder microsoftGraph(AttributeProto... gapAttrs) {
        return graphBuilder("g").addInput(valueInfo("a", Onnx.UINT8, 1, 2, 2, 2))
                .addInput(valueInfo("b", Onnx.UINT8, 1, 2, 2, 2))
                .addInitializer(floatsRaw("half", dims(), 0.5f)).addInitializer(floatsRaw("one", dims(), 1f))
                .addInitializer(bytes("z0", Onnx.UINT8, dims(), 0)).addInitializer(bytes("z10", Onnx.UINT8, dims(), 10))
                .addNode(microsoft(node("add", "QLinearAdd", in("a", "half", "z0", "b", "half", "z0", "one", "z10"),
                        out("s"))))
                .addNode(microsoft(node("pool", "QLinearAveragePool", in("s", "one", "z10", "one", "z10"), out("p"),
                        Onnx.ints("kernel_shape", 2, 1), attr("count_include_pad", 0L))))
                .addNode(microsoft(node("mul", "QLinearMul", in("p", "one", "z10", "p", "one", "z10", "one"),
                        out("m"))))
                .addNode(microsoft(node("gap", "QLinearGlobalAveragePool", in("m", "one", "z0", "one", "z0"), out("y"),
                        gapAttrs)))
                .addOutput(valueInfo("y", Onnx.UINT8, 1, 2, 1, 1));
    }

    @Test
    void microsoftQuantizedOpsImportWhenTheDomainIsImported() throws IOException {
        ModelProto m = model(13, microsoftGraph(attr("channels_last", 0L)).build()).toBuilder()
                .addOpsetImport(ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setDomain("com.microsoft")
                        .setVersion(1)).build();
        ModelDef def = OnnxImporter.importModel(m, null);
        Graph hg = def.graph();
        assertEquals(java.util.List.of(Op.QLinearAdd, Op.QLinearAveragePool, Op.QLinearMul,
                Op.QLinearGlobalAveragePool), hg.nodes().stream().map(Node::op).toList());
        assertArrayEquals(new long[] {2, 1}, hg.nodes().get(1).intsAttr("kernel_shape"));
        assertFalse(hg.nodes().get(3).hasAttr("channels_last"));
        // a = 2 * [1..8], b = 2 * [8..1]: a/2 + b/2 = 9 everywhere -> s = 19; p = 19 (real 9);
        // m = 9 * 9 = 81 (no C_zero_point: 0); y = mean 81.
        Tensor a = Tensor.ofBytes(DType.UINT8, new byte[] {2, 4, 6, 8, 10, 12, 14, 16}, 1, 2, 2, 2);
        Tensor b = Tensor.ofBytes(DType.UINT8, new byte[] {16, 14, 12, 10, 8, 6, 4, 2}, 1, 2, 2, 2);
        try (dev.hedge.runtime.Model model = dev.hedge.runtime.Model.of(def);
                dev.hedge.runtime.Session sess = model.newSession()) {
            Tensor y = sess.run(java.util.Map.of("a", a, "b", b)).get("y");
            assertArrayEquals(new int[] {1, 2, 1, 1}, y.shape());
            assertEquals(81, y.data().get(0) & 0xff);
            assertEquals(81, y.data().get(1) & 0xff);
        }
    }

    @Test
    void microsoftOpsNeedTheDomainImportAndNchw() {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> OnnxImporter.importModel(model(13, microsoftGraph().build()), null));
        assertTrue(e.getMessage().contains("node 'add' (op QLinearAdd, domain 'com.microsoft'")
                && e.getMessage().contains("does not import the 'com.microsoft' domain"), e.getMessage());
        ModelProto nhwc = model(13, microsoftGraph(attr("channels_last", 1L)).build()).toBuilder()
                .addOpsetImport(ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setDomain("com.microsoft")
                        .setVersion(1)).build();
        e = assertThrows(UnsupportedModelException.class, () -> OnnxImporter.importModel(nhwc, null));
        assertTrue(e.getMessage().contains("node 'gap' (op QLinearGlobalAveragePool")
                && e.getMessage().contains("channels_last = 1"), e.getMessage());
        assertTrue(e.getMessage().contains("(1 problem(s))"), e.getMessage());
    }

    @Test
    void modelLocalFunctionsAreNamedAsSuch() {
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, 2))
                .addNode(node("f", "MyGelu", in("x"), out("y")).toBuilder().setDomain("custom").build())
                .addOutput(valueInfo("y", FLOAT, 2)).build();
        ModelProto m = model(17, g).toBuilder()
                .addOpsetImport(ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setDomain("custom").setVersion(1))
                .addFunctions(ai.onnx.proto.OnnxMl.FunctionProto.newBuilder().setName("MyGelu").setDomain("custom")
                        .addInput("a").addOutput("b")
                        .addNode(node("", "Gelu", in("a"), out("b"))))
                .build();
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> OnnxImporter.importModel(m, null));
        assertTrue(e.getMessage().contains("node 'f' (op MyGelu, domain 'custom'") && e.getMessage()
                .contains("MyGelu is a function defined in the model"), e.getMessage());
    }

    @Test
    void attributesOfLaterVersionsAreRefused() {
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, 2, 3))
                .addNode(node("s", "Shape", in("x"), out("s1"), attr("start", 1L)))
                .addNode(node("r", "ReduceMean", in("x"), out("y"), attr("noop_with_empty_axes", 1L)))
                .addOutput(valueInfo("y", FLOAT)).addOutput(valueInfo("s1", INT64, 1)).build();
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> OnnxImporter.importModel(model(13, g), null));
        assertTrue(e.getMessage().contains("node 's' (op Shape-13, domain '', opset 13): attribute 'start' is not"
                + " defined by Shape-13"), e.getMessage());
        assertTrue(e.getMessage().contains("node 'r' (op ReduceMean-13, domain '', opset 13): attribute"
                + " 'noop_with_empty_axes' is not defined by ReduceMean-13"), e.getMessage());
    }

    @Test
    void opsetsOutsideOneToTwentySevenAreRefused() {
        for (int opset : new int[] {0, 28}) {
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> OnnxImporter.importModel(model(opset, reluGraph().build()), null));
            assertTrue(e.getMessage().contains("opset " + opset) && e.getMessage().contains("1 to 27"),
                    e.getMessage());
        }
    }

    @Test
    void unsupportedDataTypesAreNamed() {
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", 8 /* STRING */, 2))
                .addInput(valueInfo("f8", 17, 2))
                .addNode(node("cast", "Cast", in("x"), out("y"), attr("to", 24L)))
                .addOutput(valueInfo("y", FLOAT, 2)).build();
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> OnnxImporter.importModel(model(25, g), null));
        assertTrue(e.getMessage().contains("graph input 'x' has data type STRING (8)"), e.getMessage());
        assertTrue(e.getMessage().contains("graph input 'f8' has data type FLOAT8E4M3FN (17)"), e.getMessage());
        assertTrue(e.getMessage().contains("node 'cast' (op Cast-25, domain '', opset 25): to=FLOAT8E8M0 (24)"),
                e.getMessage());
    }

    @Test
    void anonymousAndDuplicateNodeNamesAreMadeUnique() throws IOException {
        GraphProto g = graphBuilder("g").addInput(valueInfo("x", FLOAT, 2))
                .addNode(node("", "Relu", in("x"), out("a")))
                .addNode(node("n", "Neg", in("a"), out("b")))
                .addNode(node("n", "Abs", in("b"), out("y"))).addOutput(valueInfo("y", FLOAT, 2)).build();
        Graph hg = OnnxImporter.importModel(model(13, g), null).graph();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Node n : hg.nodes()) {
            assertTrue(names.add(n.name()), n.name());
        }
        assertEquals(3, names.size());
    }
}
