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
import static dev.hedge.converter.onnx.Onnx.valueInfo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each ONNX version difference the importer normalizes, checked on the imported graph. */
class OpsetNormalizerTest {

    /** Imports one node reading x (and optional initializers) at {@code opset}. */
    private static Graph importNode(int opset, int xType, NodeProto n, TensorProto... inits) throws IOException {
        GraphProto.Builder g = graphBuilder("g").addInput(valueInfo("x", xType, 1, 2, 4, 4));
        for (TensorProto t : inits) {
            g.addInitializer(t);
        }
        g.addNode(n);
        for (String o : n.getOutputList()) {
            if (!o.isEmpty()) {
                g.addOutput(valueInfo(o, FLOAT));
            }
        }
        return OnnxImporter.importModel(model(opset, g.build()), null).graph();
    }

    private static Graph importNode(int opset, NodeProto n, TensorProto... inits) throws IOException {
        return importNode(opset, FLOAT, n, inits);
    }

    private static String refusal(int opset, NodeProto n, TensorProto... inits) {
        return assertThrows(UnsupportedModelException.class, () -> importNode(opset, n, inits)).getMessage();
    }

    private static Node only(Graph g, Op op) {
        List<Node> l = g.nodes().stream().filter(n -> n.op() == op).toList();
        assertEquals(1, l.size(), g.nodes().toString());
        return l.get(0);
    }

    private static long[] constInput(Graph g, Node n, int i) {
        Tensor t = g.initializers().get(n.input(i));
        assertTrue(t != null, "input " + i + " of " + n + " is not a constant");
        return t.toLongArray();
    }

    @Test
    void axesAttributesBecomeInputsBeforeTheirOpset() throws IOException {
        Graph g = importNode(11, node("sq", "Squeeze", in("x"), out("y"), ints("axes", 0)));
        assertArrayEquals(new long[] {0}, constInput(g, only(g, Op.Squeeze), 1));
        g = importNode(12, node("un", "Unsqueeze", in("x"), out("y"), ints("axes", 0, -1)));
        assertArrayEquals(new long[] {0, -1}, constInput(g, only(g, Op.Unsqueeze), 1));
        g = importNode(12, node("rs", "ReduceSum", in("x"), out("y"), ints("axes", 1), attr("keepdims", 0L)));
        Node rs = only(g, Op.ReduceSum);
        assertArrayEquals(new long[] {1}, constInput(g, rs, 1));
        assertEquals(0, rs.intAttr("keepdims"));
        g = importNode(17, node("rm", "ReduceMean", in("x"), out("y"), ints("axes", 2, 3)));
        assertArrayEquals(new long[] {2, 3}, constInput(g, only(g, Op.ReduceMean), 1));
        // no axes attribute: reduce over everything, in both forms
        g = importNode(13, node("rm", "ReduceMax", in("x"), out("y")));
        assertEquals(1, only(g, Op.ReduceMax).inputs().size());
        // at opset 18 the input form is already there
        g = importNode(18, node("rm", "ReduceMean", in("x", "ax"), out("y")), int64s("ax", dims(1), 1));
        assertEquals(List.of("x", "ax"), only(g, Op.ReduceMean).inputs());
    }

    @Test
    void splitSliceAndTopKAttributesBecomeInputs() throws IOException {
        Graph g = importNode(11, node("sp", "Split", in("x"), out("a", "b"), attr("axis", 1L), ints("split", 1, 1)));
        Node sp = only(g, Op.Split);
        assertArrayEquals(new long[] {1, 1}, constInput(g, sp, 1));
        assertEquals(1, sp.intAttr("axis"));
        g = importNode(9, node("sl", "Slice", in("x"), out("y"), ints("starts", 1), ints("ends", 3), ints("axes", 2)));
        Node sl = only(g, Op.Slice);
        assertArrayEquals(new long[] {1}, constInput(g, sl, 1));
        assertArrayEquals(new long[] {3}, constInput(g, sl, 2));
        assertArrayEquals(new long[] {2}, constInput(g, sl, 3));
        assertEquals(4, sl.inputs().size());
        g = importNode(9, node("tk", "TopK", in("x"), out("v", "i"), attr("k", 2L)));
        assertArrayEquals(new long[] {2}, constInput(g, only(g, Op.TopK), 1));
    }

    @Test
    void pad2MovesPadsAndTypesTheValueLikeTheData() throws IOException {
        Graph g = importNode(10, node("p", "Pad", in("x"), out("y"), ints("pads", 0, 0, 1, 1, 0, 0, 1, 1),
                attr("value", 2.5f)));
        Node p = only(g, Op.Pad);
        assertArrayEquals(new long[] {0, 0, 1, 1, 0, 0, 1, 1}, constInput(g, p, 1));
        Tensor v = g.initializers().get(p.input(2));
        assertEquals(DType.FLOAT32, v.dtype());
        assertEquals(0, v.rank());
        assertEquals(2.5f, v.getFloat(0));
        g = importNode(10, Onnx.DOUBLE, node("p", "Pad", in("x"), out("y"), ints("pads", 0, 0, 1, 1, 0, 0, 1, 1),
                attr("value", 2.5f)));
        assertEquals(DType.FLOAT64, g.initializers().get(only(g, Op.Pad).input(2)).dtype());
        // value 0 is the default of the input form; other modes ignore it
        g = importNode(10, node("p", "Pad", in("x"), out("y"), ints("pads", 0, 0, 1, 1, 0, 0, 1, 1),
                attr("mode", "reflect"), attr("value", 3f)));
        assertEquals(2, only(g, Op.Pad).inputs().size());
        assertEquals("reflect", only(g, Op.Pad).stringAttr("mode"));
    }

    @Test
    void pad2OnAValueOfUnknownTypeCastsTheValueLikeIt() throws IOException {
        // an input declared without a type: the importer cannot tell the value's element type
        GraphProto gp = graphBuilder("g").addInput(Onnx.valueInfo("x", FLOAT, 4))
                .addInput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName("u").build())
                .addNode(node("p", "Pad", in("u"), out("y"), ints("pads", 1, 1), attr("value", 1f)))
                .addOutput(valueInfo("y", FLOAT, 6)).build();
        Graph hg = OnnxImporter.importModel(model(10, gp), null).graph();
        Node cast = only(hg, Op.CastLike);
        Node pad = only(hg, Op.Pad);
        assertEquals(List.of(cast.input(0), "u"), cast.inputs());
        assertEquals(cast.output(0), pad.input(2));
        assertEquals(1f, hg.initializers().get(cast.input(0)).getFloat(0));
    }

    @Test
    void clip6BoundsBecomeTypedInputsWithTheFloatRangeAsDefaults() throws IOException {
        Graph g = importNode(10, node("c", "Clip", in("x"), out("y"), attr("min", 0f), attr("max", 6f)));
        Node c = only(g, Op.Clip);
        assertEquals(0f, g.initializers().get(c.input(1)).getFloat(0));
        assertEquals(6f, g.initializers().get(c.input(2)).getFloat(0));
        g = importNode(10, Onnx.DOUBLE, node("c", "Clip", in("x"), out("y"), attr("max", 6f)));
        c = only(g, Op.Clip);
        assertEquals(DType.FLOAT64, g.initializers().get(c.input(1)).dtype());
        assertEquals(-Float.MAX_VALUE, g.initializers().get(c.input(1)).getDouble(0));
        assertEquals(6.0, g.initializers().get(c.input(2)).getDouble(0));
    }

    @Test
    void softmaxBefore13FlattensAtAxisOne() throws IOException {
        Graph g = importNode(11, node("s", "Softmax", in("x"), out("y")));
        Node s = only(g, Op.Softmax);
        assertEquals(1, s.intAttr("axis"));
        assertEquals(1, s.intAttr("coerce_2d"));
        g = importNode(12, node("s", "LogSoftmax", in("x"), out("y"), attr("axis", 2L)));
        assertEquals(2, only(g, Op.LogSoftmax).intAttr("axis"));
        assertEquals(1, only(g, Op.LogSoftmax).intAttr("coerce_2d"));
        g = importNode(13, node("s", "Hardmax", in("x"), out("y")));
        assertEquals(-1, only(g, Op.Hardmax).intAttr("axis"));
        assertEquals(0, only(g, Op.Hardmax).intAttr("coerce_2d"));
    }

    private static TensorProto[] bnParams() {
        return new TensorProto[] {floatsRaw("s", dims(2), 1, 1), floatsRaw("b", dims(2), 0, 0),
            floatsRaw("m", dims(2), 0, 0), floatsRaw("v", dims(2), 1, 1)};
    }

    @Test
    void batchNormalizationLegacyFormsAreCheckedAndDropped() throws IOException {
        Graph g = importNode(7, node("bn", "BatchNormalization", in("x", "s", "b", "m", "v"), out("y"),
                attr("spatial", 1L)), bnParams());
        Node bn = only(g, Op.BatchNormalization);
        assertFalse(bn.hasAttr("spatial"));
        assertEquals(List.of("y"), bn.outputs());
        String msg = refusal(7, node("bn", "BatchNormalization", in("x", "s", "b", "m", "v"), out("y"),
                attr("spatial", 0L)), bnParams());
        assertTrue(msg.contains("node 'bn' (op BatchNormalization-7") && msg.contains("spatial=0"), msg);
        msg = refusal(9, node("bn", "BatchNormalization", in("x", "s", "b", "m", "v"),
                out("y", "mean", "var", "sm", "sv")), bnParams());
        assertTrue(msg.contains("output 1 ('mean') is a training-mode statistic"), msg);
        // unused training outputs (empty names) are fine
        g = importNode(9, node("bn", "BatchNormalization", in("x", "s", "b", "m", "v"), out("y", "", "")),
                bnParams());
        assertEquals(List.of("y"), only(g, Op.BatchNormalization).outputs());
        msg = refusal(9, node("bn", "BatchNormalization", in("x", "s", "b", "m", "v"), out("y"),
                attr("is_test", 1L)), bnParams());
        assertTrue(msg.contains("attribute 'is_test' is not defined by BatchNormalization-9"), msg);
    }

    @Test
    void dropoutRatioIsDroppedAndTheOpset7MaskIsCastLikeTheData() throws IOException {
        Graph g = importNode(10, node("d", "Dropout", in("x"), out("y", "mask"), attr("ratio", 0.3f)));
        Node d = only(g, Op.Dropout);
        assertTrue(d.attrs().isEmpty());
        assertEquals(List.of("y", "mask"), d.outputs());
        g = importNode(7, node("d", "Dropout", in("x"), out("y", "mask")));
        d = only(g, Op.Dropout);
        Node cast = only(g, Op.CastLike);
        assertEquals(List.of(d.output(1), "x"), cast.inputs());
        assertEquals(List.of("mask"), cast.outputs());
        g = importNode(7, node("d", "Dropout", in("x"), out("y")));
        assertEquals(1, g.nodes().size());
    }

    @Test
    void upsampleBecomesAsymmetricResizeAndIsDeprecatedFromOpset10() throws IOException {
        Graph g = importNode(8, node("u", "Upsample", in("x"), out("y"), floats("scales", 1, 1, 2, 2)));
        Node r = only(g, Op.Resize);
        assertEquals("", r.input(1));
        assertArrayEquals(new float[] {1, 1, 2, 2}, g.initializers().get(r.input(2)).toFloatArray());
        assertEquals("asymmetric", r.stringAttr("coordinate_transformation_mode"));
        assertEquals("nearest", r.stringAttr("mode"));
        assertEquals("floor", r.stringAttr("nearest_mode"));
        g = importNode(9, node("u", "Upsample", in("x", "sc"), out("y"), attr("mode", "linear")),
                floatsRaw("sc", dims(4), 1, 1, 2, 2));
        r = only(g, Op.Resize);
        assertEquals(List.of("x", "", "sc"), r.inputs());
        assertEquals("linear", r.stringAttr("mode"));
        String msg = refusal(9, node("u", "Upsample", in("x", "sc"), out("y"), attr("mode", "bilinear")),
                floatsRaw("sc", dims(4), 1, 1, 2, 2));
        assertTrue(msg.contains("mode='bilinear'"), msg);
        msg = refusal(10, node("u", "Upsample", in("x", "sc"), out("y")), floatsRaw("sc", dims(4), 1, 1, 2, 2));
        assertTrue(msg.contains("node 'u' (op Upsample-10, domain '', opset 10): Upsample is deprecated since opset"
                + " 10; use Resize"), msg);
        msg = refusal(9, node("u", "Upsample", in("x", "sc"), out("y")), floatsRaw("sc", dims(4), 1, 1, 0.5f, 2));
        assertTrue(msg.contains("scale 0.5 is below 1"), msg);
    }

    @Test
    void resize10RoundsDownWhenEnlargingAndUpWhenShrinking() throws IOException {
        Graph g = importNode(10, node("r", "Resize", in("x", "sc"), out("y")), floatsRaw("sc", dims(4), 1, 1, 2, 3));
        Node r = only(g, Op.Resize);
        assertEquals(List.of("x", "", "sc"), r.inputs());
        assertEquals("asymmetric", r.stringAttr("coordinate_transformation_mode"));
        assertEquals("floor", r.stringAttr("nearest_mode"));
        g = importNode(10, node("r", "Resize", in("x", "sc"), out("y")), floatsRaw("sc", dims(4), 1, 1, 0.5f, 0.5f));
        assertEquals("ceil", only(g, Op.Resize).stringAttr("nearest_mode"));
        g = importNode(10, node("r", "Resize", in("x", "sc"), out("y"), attr("mode", "linear")),
                floatsRaw("sc", dims(4), 1, 1, 0.5f, 2));
        assertEquals("linear", only(g, Op.Resize).stringAttr("mode"));
        String msg = refusal(10, node("r", "Resize", in("x", "sc"), out("y")),
                floatsRaw("sc", dims(4), 1, 1, 0.5f, 2));
        assertTrue(msg.contains("enlarges some axes and shrinks others"), msg);
        GraphProto gp = graphBuilder("g").addInput(valueInfo("x", FLOAT, 1, 1, 2, 2))
                .addInput(valueInfo("sc", FLOAT, 4)).addNode(node("r", "Resize", in("x", "sc"), out("y")))
                .addOutput(valueInfo("y", FLOAT)).build();
        msg = assertThrows(UnsupportedModelException.class, () -> OnnxImporter.importModel(model(10, gp), null))
                .getMessage();
        assertTrue(msg.contains("node 'r' (op Resize-10") && msg.contains("needs constant scales"), msg);
    }

    @Test
    void resize11EmptyScalesAndRoiAreOmitted() throws IOException {
        TensorProto empty = floatsRaw("empty", dims(0));
        Graph g = importNode(11, node("r", "Resize", in("x", "roi", "empty", "sizes"), out("y"),
                attr("coordinate_transformation_mode", "align_corners"), attr("mode", "linear")),
                floatsRaw("roi", dims(8), 0, 0, 0, 0, 1, 1, 1, 1), empty, int64s("sizes", dims(4), 1, 2, 8, 8));
        Node r = only(g, Op.Resize);
        assertEquals(List.of("x", "", "", "sizes"), r.inputs());
        assertEquals("align_corners", r.stringAttr("coordinate_transformation_mode"));
        g = importNode(11, node("r", "Resize", in("x", "roi", "sc"), out("y"),
                attr("coordinate_transformation_mode", "tf_crop_and_resize")),
                floatsRaw("roi", dims(8), 0, 0, 0, 0, 1, 1, 1, 1), floatsRaw("sc", dims(4), 1, 1, 2, 2));
        assertEquals(List.of("x", "roi", "sc"), only(g, Op.Resize).inputs());
        String msg = refusal(11, node("r", "Resize", in("x", "", "sc"), out("y"),
                attr("coordinate_transformation_mode", "tf_half_pixel_for_nn")), floatsRaw("sc", dims(4), 1, 1, 2, 2));
        assertTrue(msg.contains("tf_half_pixel_for_nn"), msg);
        msg = refusal(13, node("r", "Resize", in("x", "", "sc"), out("y"), attr("antialias", 1L)),
                floatsRaw("sc", dims(4), 1, 1, 2, 2));
        assertTrue(msg.contains("attribute 'antialias' is not defined by Resize-13"), msg);
    }

    @Test
    void groupNormalization18ScaleAndBiasAreRepeatedPerChannel() throws IOException {
        Graph g = importNode(18, node("gn", "GroupNormalization", in("x", "s", "b"), out("y"),
                attr("num_groups", 2L), attr("epsilon", 1e-3f)),
                floatsRaw("s", dims(2), 1, 2), floatsRaw("b", dims(2), 3, 4));
        Node gn = only(g, Op.GroupNormalization);
        assertEquals(2, gn.intAttr("num_groups"));
        assertEquals(1e-3f, gn.floatAttr("epsilon"));
        assertTrue(!gn.input(1).equals("s") && !gn.input(2).equals("b"), gn.toString());
        assertEquals(1, only(g, Op.Shape).intAttr("start"));
        assertEquals(2, g.nodes().stream().filter(n -> n.op() == Op.Expand).count());
        g = importNode(21, node("gn", "GroupNormalization", in("x", "s", "b"), out("y"), attr("num_groups", 2L)),
                floatsRaw("s", dims(2), 1, 2), floatsRaw("b", dims(2), 3, 4));
        assertEquals(List.of("x", "s", "b"), only(g, Op.GroupNormalization).inputs());
        assertEquals(1, g.nodes().size());
    }

    @Test
    void convTranspose1AutoPadSameIsRefused() {
        TensorProto w = floatsRaw("w", dims(2, 1, 1, 1), 1, 1);
        String msg = refusal(10, node("ct", "ConvTranspose", in("x", "w"), out("y"), attr("auto_pad", "SAME_UPPER"),
                ints("strides", 2, 2)), w);
        assertTrue(msg.contains("node 'ct' (op ConvTranspose-1") && msg.contains("SAME_UPPER"), msg);
    }

    @Test
    void castChecksTargetTypeAndDropsRoundMode() throws IOException {
        Graph g = importNode(25, node("c", "Cast", in("x"), out("y"), attr("to", 10L), attr("round_mode", "down")));
        Node c = only(g, Op.Cast);
        assertEquals(10, c.intAttr("to"));
        assertFalse(c.hasAttr("round_mode"));
        String msg = refusal(13, node("c", "Cast", in("x"), out("y"), attr("to", 8L)));
        assertTrue(msg.contains("to=STRING (8)"), msg);
    }

    @Test
    void quantizeLinearOpset10ScalesAreScalarsAndPrecisionCastsTheScale() throws IOException {
        TensorProto zp = TensorProto.newBuilder().setName("zp").setDataType(Onnx.UINT8).addDims(1)
                .addInt32Data(128).build();
        Graph g = importNode(10, node("q", "QuantizeLinear", in("x", "sc", "zp"), out("y")),
                floatsRaw("sc", dims(1), 0.5f), zp);
        Node q = only(g, Op.QuantizeLinear);
        assertEquals(0, g.initializers().get(q.input(1)).rank());
        assertEquals(0, g.initializers().get(q.input(2)).rank());
        assertEquals(128, g.initializers().get(q.input(2)).getLong(0));
        g = importNode(23, node("q", "QuantizeLinear", in("x", "sc"), out("y"), attr("precision", 10L)),
                floatsRaw("sc", dims(), 0.5f));
        q = only(g, Op.QuantizeLinear);
        Node cast = only(g, Op.Cast);
        assertEquals(10, cast.intAttr("to"));
        assertEquals(List.of("sc"), cast.inputs());
        assertEquals(cast.output(0), q.input(1));
        assertFalse(q.hasAttr("precision"));
        // precision equal to the scale's type changes nothing
        g = importNode(23, node("q", "QuantizeLinear", in("x", "sc"), out("y"), attr("precision", 1L)),
                floatsRaw("sc", dims(), 0.5f));
        assertEquals(1, g.nodes().size());
    }

    @Test
    void dequantizeLinearOutputDtypeCastsTheScale() throws IOException {
        TensorProto zp = TensorProto.newBuilder().setName("zp").setDataType(Onnx.INT8).addInt32Data(0).build();
        Graph g = importNode(23, Onnx.INT8, node("dq", "DequantizeLinear", in("x", "sc", "zp"), out("y"),
                attr("output_dtype", 10L)), floatsRaw("sc", dims(), 0.5f), zp);
        Node dq = only(g, Op.DequantizeLinear);
        Node cast = only(g, Op.Cast);
        assertEquals(cast.output(0), dq.input(1));
        assertEquals(DType.FLOAT16.onnxCode(), cast.intAttr("to"));
        assertFalse(dq.hasAttr("output_dtype"));
        String msg = refusal(19, node("dq", "DequantizeLinear", in("x", "sc"), out("y"), attr("block_size", 2L)),
                floatsRaw("sc", dims(), 0.5f));
        assertTrue(msg.contains("attribute 'block_size' is not defined by DequantizeLinear-19"), msg);
    }

    @Test
    void rangeStashTypeIsCheckedAndHalfPrecisionRangeBefore27IsRefused() throws IOException {
        TensorProto[] f16 = new TensorProto[3];
        String[] names = {"a", "l", "d"};
        for (int i = 0; i < 3; i++) {
            f16[i] = TensorProto.newBuilder().setName(names[i]).setDataType(Onnx.FLOAT16)
                    .addInt32Data(dev.hedge.runtime.Half.fromFloat(i + 1) & 0xffff).build();
        }
        String msg = refusal(26, node("r", "Range", in("a", "l", "d"), out("y")), f16);
        assertTrue(msg.contains("node 'r' (op Range-11") && msg.contains("FLOAT16"), msg);
        Graph g = importNode(27, node("r", "Range", in("a", "l", "d"), out("y"), attr("stash_type", 1L)), f16);
        assertFalse(only(g, Op.Range).hasAttr("stash_type"));
        msg = refusal(27, node("r", "Range", in("a", "l", "d"), out("y"), attr("stash_type", 10L)), f16);
        assertTrue(msg.contains("stash_type=10"), msg);
    }

    @Test
    void maxPoolIndicesAndStorageOrderOnlyFromOpset8() throws IOException {
        String msg = refusal(7, node("mp", "MaxPool", in("x"), out("y"), ints("kernel_shape", 2, 2),
                attr("storage_order", 1L)));
        assertTrue(msg.contains("attribute 'storage_order' is not defined by MaxPool-1"), msg);
        Graph g = importNode(12, node("mp", "MaxPool", in("x"), out("y", "idx"), ints("kernel_shape", 2, 2),
                ints("dilations", 1, 1), attr("ceil_mode", 1L)));
        assertEquals(2, only(g, Op.MaxPool).outputs().size());
        msg = refusal(11, node("ap", "AveragePool", in("x"), out("y"), ints("kernel_shape", 2, 2),
                ints("dilations", 2, 2)));
        assertTrue(msg.contains("attribute 'dilations' is not defined by AveragePool-11"), msg);
    }
}
