package dev.hedge.converter.onnx;

import static dev.hedge.converter.onnx.Onnx.BOOL;
import static dev.hedge.converter.onnx.Onnx.FLOAT;
import static dev.hedge.converter.onnx.Onnx.INT64;
import static dev.hedge.converter.onnx.Onnx.attr;
import static dev.hedge.converter.onnx.Onnx.dims;
import static dev.hedge.converter.onnx.Onnx.floatsRaw;
import static dev.hedge.converter.onnx.Onnx.in;
import static dev.hedge.converter.onnx.Onnx.ints;
import static dev.hedge.converter.onnx.Onnx.node;
import static dev.hedge.converter.onnx.Onnx.out;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.hedge.converter.Converter;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opset 1-6 forms imported into Hedge's single op form and run on the Java backend. ONNX Runtime has no
 * kernels for most of these versions (Add-6, Gemm-6, BatchNormalization-6, PRelu-6, ...), so each result is
 * checked against a scalar reference written here from the opset-1/6 text of onnx/onnx docs/Changelog.md.
 */
class LegacyOpsetTest {

    private static final double TOL = 1e-6;

    /** A graph input: its run-time shape, and whether the model declares it (else its rank is unknown). */
    record In(String name, int type, int[] shape, boolean declared) {
    }

    private static In x(String name, int... shape) {
        return new In(name, FLOAT, shape, true);
    }

    private static In undeclared(String name, int... shape) {
        return new In(name, FLOAT, shape, false);
    }

    private static ModelProto model(int opset, List<In> ins, List<TensorProto> inits, NodeProto... nodes) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g");
        for (In i : ins) {
            if (i.declared()) {
                g.addInput(Onnx.valueInfo(i.name(), i.type(), Arrays.stream(i.shape()).boxed().toArray()));
            } else {
                g.addInput(ValueInfoProto.newBuilder().setName(i.name()).setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(i.type()))));
            }
        }
        g.addAllInitializer(inits);
        for (NodeProto n : nodes) {
            g.addNode(n);
        }
        NodeProto last = nodes[nodes.length - 1];
        for (String o : last.getOutputList()) {
            if (!o.isEmpty()) {
                g.addOutput(ValueInfoProto.newBuilder().setName(o));
            }
        }
        return Onnx.model(opset, g.build());
    }

    private static Graph imported(ModelProto m) throws IOException {
        return OnnxImporter.importModel(m, null).graph();
    }

    private static Map<String, Tensor> run(ModelProto m, Map<String, Tensor> feeds) throws IOException {
        ModelDef def = OnnxImporter.importModel(m, null);
        Map<String, Tensor> res = new LinkedHashMap<>();
        try (Model model = Model.of(def); Session s = model.newSession()) {
            s.run(feeds).forEach((k, v) -> res.put(k, v.copy()));
        }
        return res;
    }

    private static Tensor random(long seed, double lo, double hi, int... shape) {
        Random r = new Random(seed);
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return Tensor.of(v, shape);
    }

    private static Map<String, Tensor> feeds(Object... nameAndTensor) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < nameAndTensor.length; i += 2) {
            m.put((String) nameAndTensor[i], (Tensor) nameAndTensor[i + 1]);
        }
        return m;
    }

    private static TensorProto constant(String name, Tensor t) {
        long[] d = Arrays.stream(t.shape()).asLongStream().toArray();
        return floatsRaw(name, d, t.toFloatArray());
    }

    /** Row-major multi-index of flat element {@code flat}. */
    private static int[] index(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    private static int flat(int[] idx, int[] shape) {
        int f = 0;
        for (int d = 0; d < shape.length; d++) {
            f = f * shape[d] + idx[d];
        }
        return f;
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what + " dtype");
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        for (int i = 0; i < expected.elementCount(); i++) {
            double e = expected.getDouble(i);
            double a = actual.getDouble(i);
            assertTrue(Math.abs(e - a) <= TOL * Math.max(1, Math.abs(e)), what + "[" + i + "] = " + a + ", expected "
                    + e);
        }
    }

    /** Expected C = A op B with B's dims lined up with A's from {@code axis}. */
    private static Tensor legacyReference(Tensor a, Tensor b, int axis, DoubleBinaryOperator op) {
        int[] sa = a.shape();
        int[] sb = b.shape();
        float[] c = new float[a.elementCount()];
        for (int i = 0; i < c.length; i++) {
            int[] ia = index(i, sa);
            int[] ib = new int[sb.length];
            for (int d = 0; d < sb.length; d++) {
                ib[d] = sb[d] == 1 ? 0 : ia[axis + d];
            }
            c[i] = (float) op.applyAsDouble(a.getDouble(i), b.getDouble(flat(ib, sb)));
        }
        return Tensor.of(c, sa);
    }

    private static long count(Graph g, Op op) {
        return g.nodes().stream().filter(n -> n.op() == op).count();
    }

    private static Node only(Graph g, Op op) {
        List<Node> l = g.nodes().stream().filter(n -> n.op() == op).toList();
        assertEquals(1, l.size(), g.nodes().toString());
        return l.get(0);
    }

    // ---- legacy broadcasting (Add/Sub/Mul/Div/Pow/And/Or/Xor/Equal/Greater/Less before opset 7) ----

    @Test
    void broadcastWithAxisLinesBUpWithAFromThatAxis() throws IOException {
        Tensor a = random(1, -2, 2, 2, 3, 4, 5);
        Tensor b = random(2, 0.5, 1.5, 3, 4);
        // both ranks declared: B gets trailing 1s by an Unsqueeze with constant axes
        ModelProto m = model(6, List.of(x("a", 2, 3, 4, 5), x("b", 3, 4)), List.of(),
                node("add", "Add", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 1L)));
        Graph g = imported(m);
        Node un = only(g, Op.Unsqueeze);
        assertArrayEquals(new long[] {2}, g.initializers().get(un.input(1)).toLongArray());
        assertFalse(only(g, Op.Add).hasAttr("broadcast"));
        assertClose(legacyReference(a, b, 1, Double::sum), run(m, feeds("a", a, "b", b)).get("c"), "Add-6");
        // a constant B is reshaped in place; Sub-1's consumed_inputs is dropped
        m = model(1, List.of(x("a", 2, 3, 4, 5)), List.of(constant("b", b)), node("sub", "Sub", in("a", "b"),
                out("c"), attr("broadcast", 1L), attr("axis", 1L), ints("consumed_inputs", 0, 0)));
        g = imported(m);
        Node sub = only(g, Op.Sub);
        assertArrayEquals(new int[] {3, 4, 1}, g.initializers().get(sub.input(1)).shape());
        assertEquals(1, g.nodes().size());
        assertClose(legacyReference(a, b, 1, (p, q) -> p - q), run(m, feeds("a", a)).get("c"), "Sub-1");
        // a negative axis counts from A's end
        m = model(6, List.of(x("a", 2, 3, 4, 5)), List.of(constant("b", b)), node("mul", "Mul", in("a", "b"),
                out("c"), attr("broadcast", 1L), attr("axis", -3L)));
        assertClose(legacyReference(a, b, 1, (p, q) -> p * q), run(m, feeds("a", a)).get("c"), "Mul-6 axis -3");
    }

    @Test
    void broadcastWithAxisWhenRanksAreOnlyKnownAtRunTime() throws IOException {
        Tensor a = random(3, -2, 2, 2, 3, 4, 5);
        Tensor b = random(4, 0.5, 1.5, 3, 4);
        // A's rank unknown, B constant: Unsqueeze(B, Range(rank B, rank A - axis))
        ModelProto m = model(6, List.of(undeclared("a", 2, 3, 4, 5)), List.of(constant("b", b)),
                node("mul", "Mul", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 1L)));
        Graph g = imported(m);
        assertEquals(1, count(g, Op.Range));
        assertEquals(1, count(g, Op.Unsqueeze));
        assertClose(legacyReference(a, b, 1, (p, q) -> p * q), run(m, feeds("a", a)).get("c"), "Mul-6");
        // neither rank known: B's rank is computed too
        m = model(6, List.of(undeclared("a", 2, 3, 4, 5), undeclared("b", 3, 4)), List.of(),
                node("div", "Div", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 1L)));
        assertEquals(2, count(imported(m), Op.Shape));
        assertClose(legacyReference(a, b, 1, (p, q) -> p / q), run(m, feeds("a", a, "b", b)).get("c"), "Div-6");
        // B reaching A's last axis needs no 1s: the computed axes are empty
        Tensor b2 = random(5, 0.5, 1.5, 4, 5);
        m = model(6, List.of(undeclared("a", 2, 3, 4, 5)), List.of(constant("b", b2)),
                node("add", "Add", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 2L)));
        assertClose(legacyReference(a, b2, 2, Double::sum), run(m, feeds("a", a)).get("c"), "Add-6 axis 2");
    }

    @Test
    void runTimeAlignmentFoldsAwayWhenTheConverterKnowsTheShapes(@TempDir Path dir) throws Exception {
        // the Caffe2-era pattern: bias-less Conv, then Add(bias, broadcast=1, axis=1) on an output of unknown rank
        Tensor w = random(30, -1, 1, 4, 3, 1, 1);
        Tensor bias = random(31, -1, 1, 4);
        ModelProto m = model(6, List.of(x("x", 1, 3, 2, 5)), List.of(constant("w", w), constant("bias", bias)),
                node("conv", "Conv", in("x", "w"), out("c"), ints("kernel_shape", 1, 1)),
                node("add", "Add", in("c", "bias"), out("s"), attr("broadcast", 1L), attr("axis", 1L)),
                node("relu", "Relu", in("s"), out("y")));
        assertEquals(1, count(imported(m), Op.Range));
        Path file = dir.resolve("legacy.onnx");
        Files.write(file, m.toByteArray());
        ModelDef def = Converter.convert(file, new Converter.Options(true, Map.of())).model();
        for (Node n : def.graph().nodes()) {
            assertFalse(Set.of(Op.Shape, Op.Size, Op.Range, Op.Unsqueeze).contains(n.op()), def.graph().nodes()
                    .toString());
        }
        Tensor xv = random(32, -1, 1, 1, 3, 2, 5);
        float[] y = new float[40];
        for (int i = 0; i < 40; i++) {
            int[] o = index(i, new int[] {1, 4, 2, 5});
            double acc = bias.getDouble(o[1]);
            for (int ch = 0; ch < 3; ch++) {
                acc += w.getDouble(o[1] * 3 + ch) * xv.getDouble(flat(new int[] {0, ch, o[2], o[3]}, xv.shape()));
            }
            y[i] = (float) Math.max(0, acc);
        }
        try (Model model = Model.of(def); Session s = model.newSession()) {
            assertClose(Tensor.of(y, 1, 4, 2, 5), s.run(feeds("x", xv)).get("y"), "converted Conv + Add-6");
        }
    }

    @Test
    void suffixAndOneElementBroadcastNeedNoReshape() throws IOException {
        Tensor a = random(6, 0.5, 2, 2, 3, 4);
        Tensor b = random(7, -1, 1, 3, 4);
        // no axis: B matches A's last dims, as numpy aligns them
        ModelProto m = model(6, List.of(x("a", 2, 3, 4), x("b", 3, 4)), List.of(),
                node("add", "Add", in("a", "b"), out("c"), attr("broadcast", 1L)));
        assertEquals(1, imported(m).nodes().size());
        assertClose(legacyReference(a, b, 1, Double::sum), run(m, feeds("a", a, "b", b)).get("c"), "suffix");
        // a one-element B of any rank and axis becomes a scalar
        Tensor one = Tensor.of(new float[] {1.5f}, 1, 1);
        m = model(1, List.of(x("a", 2, 3, 4)), List.of(constant("e", one)),
                node("pow", "Pow", in("a", "e"), out("c"), attr("broadcast", 1L), attr("axis", 2L)));
        Graph g = imported(m);
        assertEquals(0, g.initializers().get(only(g, Op.Pow).input(1)).rank());
        assertClose(legacyReference(a, Tensor.of(new float[] {1.5f}, 1), 2, Math::pow),
                run(m, feeds("a", a)).get("c"), "Pow-1 one-element exponent");
        // without broadcast the shapes are equal
        Tensor a2 = random(8, -1, 1, 3, 4);
        m = model(6, List.of(x("a", 3, 4), x("b", 3, 4)), List.of(), node("sub", "Sub", in("a", "b"), out("c")));
        assertClose(legacyReference(a2, b, 0, (p, q) -> p - q), run(m, feeds("a", a2, "b", b)).get("c"), "Sub-6");
    }

    @Test
    void legacyBroadcastOfComparisonAndLogicalOps() throws IOException {
        Tensor a = random(9, -1, 1, 2, 3, 2);
        Tensor b = random(10, -1, 1, 3);
        ModelProto m = model(1, List.of(x("a", 2, 3, 2), x("b", 3)), List.of(),
                node("gt", "Greater", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 1L)));
        Tensor c = run(m, feeds("a", a, "b", b)).get("c");
        assertEquals(DType.BOOL, c.dtype());
        Tensor ref = legacyReference(a, b, 1, (p, q) -> p > q ? 1 : 0);
        for (int i = 0; i < ref.elementCount(); i++) {
            assertEquals(ref.getDouble(i), c.getDouble(i), "Greater-1[" + i + "]");
        }
        // Equal-1 on int64, And-1 on bool
        Tensor ia = Tensor.of(new long[] {1, 2, 3, 4, 5, 9, 7, 1, 4, 4, 9, 9}, 2, 3, 2);
        Tensor ib = Tensor.of(new long[] {1, 4, 9}, 3);
        m = model(1, List.of(new In("a", INT64, new int[] {2, 3, 2}, true), new In("b", INT64, new int[] {3}, true)),
                List.of(), node("eq", "Equal", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 1L)));
        c = run(m, feeds("a", ia, "b", ib)).get("c");
        boolean[] expected = {true, false, false, true, false, true, false, true, true, true, true, true};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i] ? 1 : 0, c.getLong(i), "Equal-1[" + i + "]");
        }
        Tensor ba = Tensor.of(new boolean[] {true, true, false, true, true, false}, 2, 3);
        Tensor bb = Tensor.of(new boolean[] {true, false}, 2);
        m = model(1, List.of(new In("a", BOOL, new int[] {2, 3}, true), new In("b", BOOL, new int[] {2}, true)),
                List.of(), node("and", "And", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 0L)));
        c = run(m, feeds("a", ba, "b", bb)).get("c");
        long[] and = {1, 1, 0, 0, 0, 0};
        for (int i = 0; i < and.length; i++) {
            assertEquals(and[i], c.getLong(i), "And-1[" + i + "]");
        }
    }

    @Test
    void shapesThatDoNotFitTheLegacyRuleAreInvalid() {
        ModelProto m = model(6, List.of(x("a", 2, 3), x("b", 3)), List.of(),
                node("add", "Add", in("a", "b"), out("c")));
        String msg = assertThrows(ModelFormatException.class, () -> imported(m)).getMessage();
        assertTrue(msg.contains("node 'add' (op Add-6") && msg.contains("inputs have shapes [2, 3] and [3]"), msg);
        ModelProto sum = model(6, List.of(x("a", 2, 3), x("b", 3)), List.of(),
                node("sum", "Sum", in("a", "b"), out("c")));
        msg = assertThrows(ModelFormatException.class, () -> imported(sum)).getMessage();
        assertTrue(msg.contains("node 'sum' (op Sum-6") && msg.contains("does not broadcast"), msg);
        ModelProto m2 = model(6, List.of(x("a", 2, 3, 4, 5), x("b", 4)), List.of(),
                node("mul", "Mul", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 1L)));
        msg = assertThrows(ModelFormatException.class, () -> imported(m2)).getMessage();
        assertTrue(msg.contains("does not broadcast onto A's [2, 3, 4, 5] from axis 1"), msg);
        ModelProto m3 = model(6, List.of(x("a", 2, 3), x("b", 3, 1)), List.of(),
                node("div", "Div", in("a", "b"), out("c"), attr("broadcast", 1L), attr("axis", 1L)));
        msg = assertThrows(ModelFormatException.class, () -> imported(m3)).getMessage();
        assertTrue(msg.contains("does not fit into A (rank 2) from axis 1"), msg);
        // the attributes belong to opset < 7 only
        ModelProto m4 = model(7, List.of(x("a", 2, 3), x("b", 3)), List.of(),
                node("add", "Add", in("a", "b"), out("c"), attr("broadcast", 1L)));
        msg = assertThrows(UnsupportedModelException.class, () -> imported(m4)).getMessage();
        assertTrue(msg.contains("attribute 'broadcast' is not defined by Add-7"), msg);
    }

    // ---- Gemm, BatchNormalization, PRelu, Dropout ----

    @Test
    void gemm6BroadcastsCAndRequiresIt() throws IOException {
        Tensor a = random(11, -1, 1, 2, 3);
        Tensor b = random(12, -1, 1, 4, 3);
        Tensor cc = random(13, -1, 1, 4);
        ModelProto m = model(6, List.of(x("a", 2, 3)), List.of(constant("b", b), constant("c", cc)),
                node("gemm", "Gemm", in("a", "b", "c"), out("y"), attr("broadcast", 1L), attr("transB", 1L),
                        attr("alpha", 0.5f), attr("beta", 2f)));
        float[] y = new float[8];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 4; j++) {
                double s = 0;
                for (int k = 0; k < 3; k++) {
                    s += a.getDouble(i * 3 + k) * b.getDouble(j * 3 + k);
                }
                y[i * 4 + j] = (float) (0.5 * s + 2 * cc.getDouble(j));
            }
        }
        assertClose(Tensor.of(y, 2, 4), run(m, feeds("a", a)).get("y"), "Gemm-6");
        ModelProto noC = model(1, List.of(x("a", 2, 3)), List.of(constant("b", b)),
                node("gemm", "Gemm", in("a", "b"), out("y"), attr("transB", 1L)));
        String msg = assertThrows(ModelFormatException.class, () -> imported(noC)).getMessage();
        assertTrue(msg.contains("node 'gemm' (op Gemm-1") && msg.contains("input C is required"), msg);
    }

    private static List<TensorProto> bnParams() {
        return List.of(floatsRaw("s", dims(3), 0.5f, 1.5f, 2f), floatsRaw("b", dims(3), 0.1f, -0.2f, 0.3f),
                floatsRaw("m", dims(3), 0.05f, -0.1f, 0.2f), floatsRaw("v", dims(3), 0.9f, 1.2f, 0.4f));
    }

    @Test
    void batchNormalization6InTestModeUsesTheGivenStatistics() throws IOException {
        Tensor xv = random(14, -2, 2, 2, 3, 4);
        float[] s = {0.5f, 1.5f, 2f};
        float[] bias = {0.1f, -0.2f, 0.3f};
        float[] mean = {0.05f, -0.1f, 0.2f};
        float[] var = {0.9f, 1.2f, 0.4f};
        float[] y = new float[xv.elementCount()];
        for (int i = 0; i < y.length; i++) {
            int ch = index(i, xv.shape())[1];
            y[i] = (float) (s[ch] * (xv.getDouble(i) - mean[ch]) / Math.sqrt(var[ch] + 1e-3) + bias[ch]);
        }
        ModelProto m = model(6, List.of(x("x", 2, 3, 4)), bnParams(), node("bn", "BatchNormalization",
                in("x", "s", "b", "m", "v"), out("y"), attr("is_test", 1L), attr("epsilon", 1e-3f),
                attr("momentum", 0.3f)));
        assertClose(Tensor.of(y, 2, 3, 4), run(m, feeds("x", xv)).get("y"), "BatchNormalization-6");
        assertFalse(only(imported(m), Op.BatchNormalization).hasAttr("is_test"));
        m = model(1, List.of(x("x", 2, 3, 4)), bnParams(), node("bn", "BatchNormalization",
                in("x", "s", "b", "m", "v"), out("y"), attr("is_test", 1L), attr("epsilon", 1e-3f),
                ints("consumed_inputs", 0, 0, 0, 1, 1)));
        assertClose(Tensor.of(y, 2, 3, 4), run(m, feeds("x", xv)).get("y"), "BatchNormalization-1");
        ModelProto training = model(6, List.of(x("x", 2, 3, 4)), bnParams(), node("bn", "BatchNormalization",
                in("x", "s", "b", "m", "v"), out("y")));
        String msg = assertThrows(UnsupportedModelException.class, () -> imported(training)).getMessage();
        assertTrue(msg.contains("node 'bn' (op BatchNormalization-6") && msg.contains("is_test=0 (training mode"),
                msg);
        ModelProto stats = model(6, List.of(x("x", 2, 3, 4)), bnParams(), node("bn", "BatchNormalization",
                in("x", "s", "b", "m", "v"), out("y", "mean_out"), attr("is_test", 1L)));
        msg = assertThrows(UnsupportedModelException.class, () -> imported(stats)).getMessage();
        assertTrue(msg.contains("output 1 ('mean_out') is a training-mode statistic"), msg);
    }

    private static Tensor preluReference(Tensor xv, IntFunction<Double> slopeOfChannel) {
        float[] y = new float[xv.elementCount()];
        for (int i = 0; i < y.length; i++) {
            double v = xv.getDouble(i);
            y[i] = (float) (v < 0 ? slopeOfChannel.apply(index(i, xv.shape())[1]) * v : v);
        }
        return Tensor.of(y, xv.shape());
    }

    @Test
    void prelu6SlopeRunsAlongTheChannelAxis() throws IOException {
        Tensor xv = random(15, -2, 2, 2, 3, 4, 5);
        float[] slope = {0.1f, 0.5f, -0.3f};
        Tensor expected = preluReference(xv, ch -> (double) slope[ch]);
        ModelProto m = model(6, List.of(x("x", 2, 3, 4, 5)), List.of(floatsRaw("sl", dims(3), slope)),
                node("p", "PRelu", in("x", "sl"), out("y")));
        Graph g = imported(m);
        assertArrayEquals(new int[] {3, 1, 1}, g.initializers().get(only(g, Op.PRelu).input(1)).shape());
        assertClose(expected, run(m, feeds("x", xv)).get("y"), "PRelu-6 [C] slope");
        // the slope's elements are per channel whatever its shape (PRelu-1, with consumed_inputs)
        m = model(1, List.of(x("x", 2, 3, 4, 5)), List.of(floatsRaw("sl", dims(1, 3), slope)),
                node("p", "PRelu", in("x", "sl"), out("y"), ints("consumed_inputs", 0, 0)));
        assertClose(expected, run(m, feeds("x", xv)).get("y"), "PRelu-1 [1, C] slope");
        // X's rank unknown and the slope an input: aligned at run time
        m = model(6, List.of(undeclared("x", 2, 3, 4, 5), undeclared("sl", 3)), List.of(),
                node("p", "PRelu", in("x", "sl"), out("y")));
        assertClose(expected, run(m, feeds("x", xv, "sl", Tensor.of(slope, 3))).get("y"), "PRelu-6 run-time");
        // one element: shared by every channel
        m = model(6, List.of(x("x", 2, 3, 4, 5)), List.of(floatsRaw("sl", dims(1), 0.25f)),
                node("p", "PRelu", in("x", "sl"), out("y")));
        assertClose(preluReference(xv, ch -> 0.25), run(m, feeds("x", xv)).get("y"), "PRelu-6 shared slope");
    }

    @Test
    void dropout6InTestModeCopiesAndTrainingModeIsRefused() throws IOException {
        Tensor xv = random(16, -1, 1, 2, 3);
        ModelProto m = model(6, List.of(x("x", 2, 3)), List.of(), node("d", "Dropout", in("x"), out("y", "mask"),
                attr("is_test", 1L), attr("ratio", 0.7f)));
        Map<String, Tensor> r = run(m, feeds("x", xv));
        assertClose(xv, r.get("y"), "Dropout-6 output");
        // the mask is typed like the data; test mode leaves it unspecified, Hedge gives ones (nothing dropped)
        assertClose(Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 2, 3), r.get("mask"), "Dropout-6 mask");
        m = model(1, List.of(x("x", 2, 3)), List.of(), node("d", "Dropout", in("x"), out("y"),
                attr("is_test", 0L), attr("ratio", 0f), ints("consumed_inputs", 0)));
        assertClose(xv, run(m, feeds("x", xv)).get("y"), "Dropout-1 training mode with ratio 0");
        ModelProto training = model(6, List.of(x("x", 2, 3)), List.of(), node("d", "Dropout", in("x"), out("y")));
        String msg = assertThrows(UnsupportedModelException.class, () -> imported(training)).getMessage();
        assertTrue(msg.contains("node 'd' (op Dropout-6") && msg.contains("is_test=0 (training mode: random dropout"
                + " with ratio 0.5)"), msg);
    }

    // ---- attribute forms: Cast-1, Concat-1, Reshape-1, Pad-1, Split-1, Tile-1, Upsample-1, Selu-1 ----

    @Test
    void cast1NamesTheTargetType() throws IOException {
        Tensor xv = Tensor.of(new float[] {1.5f, -2.25f, 3f}, 3);
        ModelProto m = model(1, List.of(x("x", 3)), List.of(), node("c", "Cast", in("x"), out("y"),
                attr("to", "DOUBLE")));
        Tensor y = run(m, feeds("x", xv)).get("y");
        assertEquals(DType.FLOAT64, y.dtype());
        assertArrayEquals(new double[] {1.5, -2.25, 3}, y.toDoubleArray());
        m = model(1, List.of(x("x", 3)), List.of(), node("c", "Cast", in("x"), out("y"), attr("to", "int32")));
        y = run(m, feeds("x", xv)).get("y");
        assertEquals(DType.INT32, y.dtype());
        assertArrayEquals(new long[] {1, -2, 3}, y.toLongArray());
        ModelProto bad = model(1, List.of(x("x", 3)), List.of(), node("c", "Cast", in("x"), out("y"),
                attr("to", "REAL")));
        String msg = assertThrows(ModelFormatException.class, () -> imported(bad)).getMessage();
        assertTrue(msg.contains("node 'c' (op Cast-1") && msg.contains("to='REAL' is not an ONNX data type"), msg);
        ModelProto str = model(1, List.of(x("x", 3)), List.of(), node("c", "Cast", in("x"), out("y"),
                attr("to", "STRING")));
        msg = assertThrows(UnsupportedModelException.class, () -> imported(str)).getMessage();
        assertTrue(msg.contains("to=STRING (8)"), msg);
    }

    @Test
    void concat1DefaultsToAxisOneAndReshape1TakesItsShapeAttribute() throws IOException {
        Tensor a = random(17, -1, 1, 2, 3);
        Tensor b = random(18, -1, 1, 2, 2);
        ModelProto m = model(1, List.of(x("a", 2, 3), x("b", 2, 2)), List.of(),
                node("cat", "Concat", in("a", "b"), out("c")));
        float[] c = new float[10];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 5; j++) {
                c[i * 5 + j] = j < 3 ? a.getFloat(i * 3 + j) : b.getFloat(i * 2 + j - 3);
            }
        }
        assertClose(Tensor.of(c, 2, 5), run(m, feeds("a", a, "b", b)).get("c"), "Concat-1");
        Tensor xv = random(19, -1, 1, 2, 3, 4);
        m = model(1, List.of(x("x", 2, 3, 4)), List.of(), node("r", "Reshape", in("x"), out("y"), ints("shape", 0, -1),
                ints("consumed_inputs", 0)));
        Graph g = imported(m);
        assertArrayEquals(new long[] {0, -1}, g.initializers().get(only(g, Op.Reshape).input(1)).toLongArray());
        assertClose(xv.copy().reshape(2, 12), run(m, feeds("x", xv)).get("y"), "Reshape-1");
        ModelProto noShape = model(1, List.of(x("x", 2, 3, 4)), List.of(), node("r", "Reshape", in("x"), out("y")));
        String msg = assertThrows(ModelFormatException.class, () -> imported(noShape)).getMessage();
        assertTrue(msg.contains("node 'r' (op Reshape-1") && msg.contains("'shape'"), msg);
    }

    @Test
    void pad1PaddingsMeanPad2Pads() throws IOException {
        Tensor xv = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        ModelProto m = model(1, List.of(x("x", 2, 3)), List.of(), node("p", "Pad", in("x"), out("y"),
                ints("paddings", 1, 0, 0, 2), attr("value", 9f)));
        float[] y = {9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9};
        assertClose(Tensor.of(y, 3, 5), run(m, feeds("x", xv)).get("y"), "Pad-1 constant");
        m = model(1, List.of(x("x", 2, 3)), List.of(), node("p", "Pad", in("x"), out("y"),
                ints("paddings", 0, 1, 0, 1), attr("mode", "edge")));
        float[] e = {1, 1, 2, 3, 3, 4, 4, 5, 6, 6};
        assertClose(Tensor.of(e, 2, 5), run(m, feeds("x", xv)).get("y"), "Pad-1 edge");
    }

    @Test
    void split1TakesAnExplicitAxisAndConstantLengths() throws IOException {
        Tensor xv = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        ModelProto m = model(1, List.of(x("x", 2, 3)), List.of(), node("s", "Split", in("x"), out("p", "q"),
                attr("axis", 1L), ints("split", 1, 2)));
        Map<String, Tensor> r = run(m, feeds("x", xv));
        assertClose(Tensor.of(new float[] {1, 4}, 2, 1), r.get("p"), "Split-1 first");
        assertClose(Tensor.of(new float[] {2, 3, 5, 6}, 2, 2), r.get("q"), "Split-1 second");
        // the lengths as a second input, typed like the data
        m = model(1, List.of(x("x", 2, 3)), List.of(floatsRaw("len", dims(2), 2, 1)),
                node("s", "Split", in("x", "len"), out("p", "q"), attr("axis", 1L)));
        r = run(m, feeds("x", xv));
        assertClose(Tensor.of(new float[] {1, 2, 4, 5}, 2, 2), r.get("p"), "Split-1 input lengths");
        assertClose(Tensor.of(new float[] {3, 6}, 2, 1), r.get("q"), "Split-1 input lengths");
        ModelProto noAxis = model(1, List.of(x("x", 2, 3)), List.of(), node("s", "Split", in("x"), out("p", "q")));
        String msg = assertThrows(UnsupportedModelException.class, () -> imported(noAxis)).getMessage();
        assertTrue(msg.contains("node 's' (op Split-1") && msg.contains("no default for 'axis'"), msg);
        ModelProto computed = model(1, List.of(x("x", 2, 3), x("len", 2)), List.of(),
                node("s", "Split", in("x", "len"), out("p", "q"), attr("axis", 1L)));
        msg = assertThrows(UnsupportedModelException.class, () -> imported(computed)).getMessage();
        assertTrue(msg.contains("split lengths ('len') are computed"), msg);
        // at opset 2 the axis defaults to 0
        m = model(2, List.of(x("x", 2, 3)), List.of(), node("s", "Split", in("x"), out("p", "q")));
        r = run(m, feeds("x", xv));
        assertClose(Tensor.of(new float[] {1, 2, 3}, 1, 3), r.get("p"), "Split-2 default axis");
    }

    @Test
    void tile1RepeatsAlongOneAxis() throws IOException {
        Tensor xv = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        float[] alongAxis1 = {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6};
        TensorProto tiles = floatsRaw("tiles", dims(1), 2);
        ModelProto m = model(1, List.of(x("x", 2, 3)), List.of(tiles, floatsRaw("axis", dims(1), 1)),
                node("t", "Tile", in("x", "tiles", "axis"), out("y")));
        Graph g = imported(m);
        assertArrayEquals(new long[] {1, 2}, g.initializers().get(only(g, Op.Tile).input(1)).toLongArray());
        assertClose(Tensor.of(alongAxis1, 2, 6), run(m, feeds("x", xv)).get("y"), "Tile-1");
        // rank known at run time only, negative axis
        m = model(1, List.of(undeclared("x", 2, 3)), List.of(tiles, floatsRaw("axis", dims(1), -2)),
                node("t", "Tile", in("x", "tiles", "axis"), out("y")));
        assertClose(Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, 4, 3),
                run(m, feeds("x", xv)).get("y"), "Tile-1 axis -2");
        m = model(1, List.of(undeclared("x", 2, 3)), List.of(tiles, floatsRaw("axis", dims(1), 1)),
                node("t", "Tile", in("x", "tiles", "axis"), out("y")));
        assertClose(Tensor.of(alongAxis1, 2, 6), run(m, feeds("x", xv)).get("y"), "Tile-1 axis 1");
        ModelProto computed = model(1, List.of(x("x", 2, 3), x("tiles", 1)), List.of(floatsRaw("axis", dims(1), 1)),
                node("t", "Tile", in("x", "tiles", "axis"), out("y")));
        String msg = assertThrows(UnsupportedModelException.class, () -> imported(computed)).getMessage();
        assertTrue(msg.contains("node 't' (op Tile-1") && msg.contains("'tiles' ('tiles') is computed"), msg);
    }

    @Test
    void upsample1NearestScalesHeightAndWidth() throws IOException {
        Tensor xv = random(20, -1, 1, 1, 2, 2, 3);
        ModelProto m = model(1, List.of(x("x", 1, 2, 2, 3)), List.of(), node("u", "Upsample", in("x"), out("y"),
                attr("height_scale", 2f), attr("width_scale", 3f)));
        int[] os = {1, 2, 4, 9};
        float[] y = new float[Tensor.elementCount(os)];
        for (int i = 0; i < y.length; i++) {
            int[] o = index(i, os);
            y[i] = xv.getFloat(flat(new int[] {0, o[1], o[2] / 2, o[3] / 3}, xv.shape()));
        }
        assertClose(Tensor.of(y, os), run(m, feeds("x", xv)).get("y"), "Upsample-1");
        ModelProto bilinear = model(1, List.of(x("x", 1, 2, 2, 3)), List.of(), node("u", "Upsample", in("x"),
                out("y"), attr("height_scale", 2f), attr("width_scale", 2f), attr("mode", "bilinear")));
        String msg = assertThrows(UnsupportedModelException.class, () -> imported(bilinear)).getMessage();
        assertTrue(msg.contains("node 'u' (op Upsample-1") && msg.contains("mode='bilinear'"), msg);
    }

    @Test
    void selu1UsesItsOwnDefaults() throws IOException {
        Tensor xv = random(21, -3, 3, 4, 5);
        ModelProto m = model(1, List.of(x("x", 4, 5)), List.of(), node("s", "Selu", in("x"), out("y"),
                ints("consumed_inputs", 0)));
        float[] y = new float[20];
        for (int i = 0; i < 20; i++) {
            float v = xv.getFloat(i);
            y[i] = v > 0 ? 1.0507f * v : 1.0507f * (1.6732f * (float) Math.exp(v) - 1.6732f);
        }
        assertClose(Tensor.of(y, 4, 5), run(m, feeds("x", xv)).get("y"), "Selu-1");
        Node s = only(imported(m), Op.Selu);
        assertEquals(1.6732f, s.floatAttr("alpha"));
        assertEquals(1.0507f, s.floatAttr("gamma"));
    }

    @Test
    void opset1ElementwiseOpsIgnoreConsumedInputs() throws IOException {
        Map<String, DoubleUnaryOperator> unary = new LinkedHashMap<>();
        unary.put("Relu", v -> Math.max(0, v));
        unary.put("Abs", Math::abs);
        unary.put("Neg", v -> -v);
        unary.put("Exp", Math::exp);
        unary.put("Log", Math::log);
        unary.put("Sqrt", Math::sqrt);
        unary.put("Reciprocal", v -> 1 / v);
        unary.put("Floor", Math::floor);
        unary.put("Ceil", Math::ceil);
        unary.put("Sigmoid", v -> 1 / (1 + Math.exp(-v)));
        unary.put("Tanh", Math::tanh);
        Tensor xv = random(22, 0.1, 3, 3, 4);
        for (var e : unary.entrySet()) {
            ModelProto m = model(1, List.of(x("x", 3, 4)), List.of(), node("n", e.getKey(), in("x"), out("y"),
                    ints("consumed_inputs", 0)));
            float[] y = new float[12];
            for (int i = 0; i < 12; i++) {
                y[i] = (float) e.getValue().applyAsDouble(xv.getDouble(i));
            }
            assertClose(Tensor.of(y, 3, 4), run(m, feeds("x", xv)).get("y"), e.getKey() + "-1");
        }
        Tensor zv = random(23, -2, 2, 3, 4);
        Map<NodeProto, DoubleUnaryOperator> withAttrs = new LinkedHashMap<>();
        withAttrs.put(node("n", "LeakyRelu", in("x"), out("y"), attr("alpha", 0.2f), ints("consumed_inputs", 0)),
                v -> v < 0 ? 0.2 * v : v);
        withAttrs.put(node("n", "Elu", in("x"), out("y"), ints("consumed_inputs", 0)),
                v -> v < 0 ? Math.exp(v) - 1 : v);
        withAttrs.put(node("n", "HardSigmoid", in("x"), out("y"), ints("consumed_inputs", 0)),
                v -> Math.max(0, Math.min(1, 0.2 * v + 0.5)));
        withAttrs.put(node("n", "Clip", in("x"), out("y"), attr("min", -0.5f), ints("consumed_inputs", 0)),
                v -> Math.max(-0.5, v));
        for (var e : withAttrs.entrySet()) {
            ModelProto m = model(1, List.of(x("x", 3, 4)), List.of(), e.getKey());
            float[] y = new float[12];
            for (int i = 0; i < 12; i++) {
                y[i] = (float) e.getValue().applyAsDouble(zv.getDouble(i));
            }
            assertClose(Tensor.of(y, 3, 4), run(m, feeds("x", zv)).get("y"), e.getKey().getOpType() + "-1");
        }
        Tensor a = random(24, -2, 2, 3, 4);
        Tensor b = random(25, -2, 2, 3, 4);
        Map<String, DoubleBinaryOperator> variadic = Map.of("Sum", Double::sum, "Max", Math::max, "Min", Math::min,
                "Mean", (p, q) -> (p + q) / 2);
        for (var e : variadic.entrySet()) {
            ModelProto m = model(1, List.of(x("a", 3, 4), x("b", 3, 4)), List.of(), node("n", e.getKey(),
                    in("a", "b"), out("y"), ints("consumed_inputs", 0, 0)));
            assertClose(legacyReference(a, b, 0, e.getValue()), run(m, feeds("a", a, "b", b)).get("y"),
                    e.getKey() + "-1");
        }
    }

    @Test
    void averagePool1ExcludesPadding() throws IOException {
        Tensor xv = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        ModelProto m = model(1, List.of(x("x", 1, 1, 3, 3)), List.of(), node("ap", "AveragePool", in("x"), out("y"),
                ints("kernel_shape", 2, 2), ints("pads", 1, 1, 0, 0), ints("strides", 2, 2)));
        // windows over rows/cols {-1,0} and {1,2}: only real elements count
        float[] y = {1, 2.5f, 5.5f, 7};
        assertClose(Tensor.of(y, 1, 1, 2, 2), run(m, feeds("x", xv)).get("y"), "AveragePool-1");
    }

    // ---- what stays refused ----

    @Test
    void recurrentOpsBeforeOpset7AreRefused() {
        TensorProto w = floatsRaw("w", dims(1, 2, 3), new float[6]);
        TensorProto r = floatsRaw("r", dims(1, 2, 2), new float[4]);
        for (String[] opAndVersion : new String[][] {{"RNN", "1", "6"}, {"GRU", "3", "5"}, {"LSTM", "1", "4"}}) {
            String op = opAndVersion[0];
            int opset = Integer.parseInt(opAndVersion[2]);
            TensorProto wOp = op.equals("RNN") ? w : floatsRaw("w", dims(1, op.equals("GRU") ? 6 : 8, 3),
                    new float[op.equals("GRU") ? 18 : 24]);
            TensorProto rOp = op.equals("RNN") ? r : floatsRaw("r", dims(1, op.equals("GRU") ? 6 : 8, 2),
                    new float[op.equals("GRU") ? 12 : 16]);
            ModelProto m = model(opset, List.of(x("x", 1, 1, 3)), List.of(wOp, rOp), node("rnn", op,
                    in("x", "w", "r"), out("", "h"), attr("hidden_size", 2L)));
            String msg = assertThrows(UnsupportedModelException.class, () -> imported(m)).getMessage();
            assertTrue(msg.contains("node 'rnn' (op " + op + "-" + opAndVersion[1] + ", domain '', opset " + opset
                    + "): " + op + "-" + opAndVersion[1] + " is not supported") && msg.contains("R untransposed"), msg);
        }
    }

    @Test
    void opsAndAttributesAreThoseOfTheModelsOpset() {
        ModelProto acos = model(6, List.of(x("x", 2)), List.of(), node("a", "Acos", in("x"), out("y")));
        String msg = assertThrows(UnsupportedModelException.class, () -> imported(acos)).getMessage();
        assertTrue(msg.contains("op Acos does not exist at opset 6 (it arrived in opset 7)"), msg);
        ModelProto relu6 = model(6, List.of(x("x", 2)), List.of(), node("r", "Relu", in("x"), out("y"),
                ints("consumed_inputs", 0)));
        msg = assertThrows(UnsupportedModelException.class, () -> imported(relu6)).getMessage();
        assertTrue(msg.contains("attribute 'consumed_inputs' is not defined by Relu-6"), msg);
        ModelProto concat4 = model(4, List.of(x("x", 2)), List.of(), node("c", "Concat", in("x", "x"), out("y")));
        assertThrows(ModelFormatException.class, () -> imported(concat4), "Concat-4 requires its axis");
    }

    @Test
    void aModelWithoutOpsetImportMeansOpset1() throws IOException {
        GraphProto g = GraphProto.newBuilder().setName("g").addInput(Onnx.valueInfo("x", BOOL, 3))
                .addNode(node("not", "Not", in("x"), out("y"))).addOutput(ValueInfoProto.newBuilder().setName("y"))
                .build();
        ModelProto m = ModelProto.newBuilder().setIrVersion(2).setGraph(g).build();
        Tensor y = run(m, feeds("x", Tensor.of(new boolean[] {true, false, true}, 3))).get("y");
        assertArrayEquals(new long[] {0, 1, 0}, y.toLongArray());
        assertEquals("1", OnnxImporter.importModel(m, null).metadata().get("source.opset"));
    }
}
