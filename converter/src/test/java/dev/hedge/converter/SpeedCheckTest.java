package dev.hedge.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.converter.quantize.QTestGraphs;
import dev.hedge.converter.quantize.QuantOptions;
import dev.hedge.converter.report.LayerRow;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelCost;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.plan.StepBenchmarks;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The converter's int8-or-float decision from kernel costs: a fixed cost table makes the int8 kernel lose on
 * the small layer and win on the large one; the Java float steps of an int8 layer and every step's dispatch are
 * priced from the same table, and a layer whose move would cost its int8 neighbours more conversions than it
 * saves stays int8.
 */
class SpeedCheckTest {

    @TempDir
    Path dir;

    /** An int8 backend whose kernels are the reference ones, under a kernel class the cost table prices. */
    static final class Int8Backend implements Backend {
        @Override
        public String name() {
            return "fake";
        }

        @Override
        public List<Capability> capabilities() {
            return List.of(int8(Op.QLinearMatMul), int8(Op.MatMulInteger));
        }

        private static Capability int8(Op op) {
            return Capability.of(op, "fake.s8gemm").withPrecision(Capability.Precision.INT8);
        }

        @Override
        public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
            return RefBackend.INSTANCE.create(node, inputs);
        }
    }

    /**
     * int8: {@code int8Overhead} ns per call + 0.001 ns per multiply-add; fp32 (the Java sgemm): 0.2 ns per
     * multiply-add; Java elementwise steps (the quantize and Cast / Mul / Add of the int8 form) {@code eltwise} ns
     * per call + 0.1 ns per element; 20 ns per step.
     */
    private static RuntimeOptions host(double int8Overhead, double eltwise) {
        return RuntimeOptions.reference().withBackend(new Int8Backend()).withKernelCosts(KernelCosts.fixed(Map.of(
                "fake.s8gemm", new KernelCost(int8Overhead, 0.001), RefBackend.SGEMM, new KernelCost(0, 0.2),
                StepBenchmarks.JAVA_ELTWISE, new KernelCost(eltwise, 0.1), StepBenchmarks.STEP, new KernelCost(0, 20))));
    }

    private static RuntimeOptions host(double int8Overhead) {
        return host(int8Overhead, 10);
    }

    private Compressor.Result compress(QuantOptions q, RuntimeOptions host) throws Exception {
        // fc1: 64x64 = 4096 multiply-adds (fp32 ~819 ns), fc2: 64x4 = 256 (fp32 ~51 ns)
        ModelDef m = QTestGraphs.mlp(64, 64, 4);
        Dataset calib = QTestGraphs.samples("x", 7, 20, 1, 64);
        CompressionOptions o = CompressionOptions.of(q).withCalibration(calib);
        return Compressor.compress(m, host == null ? o : o.withSpeedCheck(host), dir.resolve("m.hedge"));
    }

    private static LayerRow row(Compressor.Result r, String name) {
        return r.report().layers().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aLayerWhoseInt8KernelLosesKeepsFloatComputeAndTheReportSaysWhy() throws Exception {
        Compressor.Result r = compress(QuantOptions.of(LayerPrecision.INT8), host(500));
        LayerRow fc1 = row(r, "fc1");
        LayerRow fc2 = row(r, "fc2");
        assertEquals("int8", fc1.precision());
        assertTrue(fc1.note().contains("int8 faster on this host"), fc1.note());
        assertEquals("int8-weight", fc2.precision());
        // int8: MatMulInteger 500 + 0.256, Cast, Mul, Add 3 x (10 + 0.4), 4 steps of 20: ~612 ns; fp32: 0.2 * 256
        // + 20 = 71.2 ns, plus what fc1 then adds to give fc2 float: Cast, Mul, Add and Relu of 64 values,
        // 4 x (10 + 6.4 + 20) = 145.6 ns: ~217 ns
        assertTrue(fc2.note().startsWith("kept fp32 (int8-weight, float compute), int8 slower on this host: int8 ~0.6 us"
                + " vs fp32 ~0.2 us (int8: fake.s8gemm + java.eltwise Cast + java.eltwise Mul + java.eltwise Add;"
                + " fp32: java.sgemm; with +~0.1 us of conversions in its neighbours)"), fc2.note());
        assertTrue(r.report().notes().stream().anyMatch(n -> n.startsWith("layer fc2: kept fp32 (int8-weight): int8 ~0.6 us vs fp32 ~0.2 us")),
                r.report().notes().toString());
        assertTrue(r.report().notes().stream().anyMatch(n -> n.startsWith("speed check: 2 int8 layers compared")
                && n.contains("1 kept float compute")), r.report().notes().toString());
        assertEquals("on (int8 against fp32 on this host's kernel costs)", r.report().settings().get("speed_check"));
        // the written file computes fc2 in float: no integer node of it, and its report says why
        try (Model m = Model.load(r.file())) {
            assertTrue(m.graph().nodes().stream().noneMatch(n -> n.name().equals("fc2")
                    && n.op() != Op.Gemm && n.op() != Op.MatMul), m.graph().nodes().toString());
            assertTrue(m.graph().nodes().stream().anyMatch(n -> n.name().equals("fc1")
                    && (n.op() == Op.QLinearMatMul || n.op() == Op.MatMulInteger)), m.graph().nodes().toString());
            assertTrue(m.metadata().get("conversion.report").contains("int8 slower on this host"));
        }
    }

    @Test
    void aLayerWhoseMoveWouldCostItsInt8NeighbourMoreConversionsStaysInt8() throws Exception {
        // fc2 pinned int8; fc1's int8 form, quantize (300 + 6.4 + 20) + product (500 + 4.1 + 20), ~851 ns, loses to
        // its float node (0.2 * 4096 + 20 = 839.2 ns) alone, but in float fc1 would hand fc2 float values, and fc2
        // would need its own quantize (326.4 ns)
        Compressor.Result r = compress(QuantOptions.of(LayerPrecision.INT8)
                .withLayers(Map.of("fc2", LayerPrecision.INT8)), host(500, 300));
        LayerRow fc1 = row(r, "fc1");
        assertEquals("int8", fc1.precision());
        assertTrue(fc1.note().startsWith("int8 faster on this host: int8 ~0.9 us vs fp32 ~1.2 us"), fc1.note());
        assertTrue(fc1.note().contains("with +~0.3 us of conversions in its neighbours"), fc1.note());
        // the same layer without the pinned neighbour: nothing to convert for, so it moves
        Compressor.Result alone = compress(QuantOptions.of(LayerPrecision.INT8), host(500, 300));
        assertEquals("int8-weight", row(alone, "fc1").precision());
    }

    /**
     * The same layers inside an If's then branch (the model's input decides the branch, so both are planned):
     * each branch is probed at the types of what it reads, and its layers are weighed as in the main graph. The
     * input's batch dimension is dynamic: the check plans at the calibration data's shapes.
     */
    @Test
    void layersInsideAnIfBranchAreCheckedToo() throws Exception {
        Graph mlp = QTestGraphs.mlp(64, 64, 4).graph();
        Graph.Builder then = Graph.builder("then");
        mlp.nodes().forEach(then::addNode);
        mlp.initializers().forEach(then::initializer);
        then.addOutput(new ValueInfo("y", null, null));
        Graph other = Graph.builder("else").initializer("zero", Tensor.of(new float[4], 1, 4))
                .addNode(Node.of("keep", Op.Identity, List.of("zero"), List.of("z"))).addOutput(new ValueInfo("z", null, null))
                .build();
        Graph g = Graph.builder("branchy")
                .addInput(new ValueInfo("x", DType.FLOAT32, List.of(Dim.dynamic("batch"), Dim.of(64))))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addNode(Node.of("if", Op.If, List.of("c"), List.of("out"))
                        .withAttr("then_branch", new Attr.GraphValue(then.build()))
                        .withAttr("else_branch", new Attr.GraphValue(other)))
                .addOutput(new ValueInfo("out", null, null)).build();
        Dataset x = QTestGraphs.samples("x", 7, 20, 1, 64);
        List<Map<String, Tensor>> feeds = new java.util.ArrayList<>();
        for (Map<String, Tensor> f : x.samples()) {
            feeds.add(Map.of("x", f.get("x"), "c", Tensor.of(new boolean[] {true})));
        }
        CompressionOptions o = CompressionOptions.of(QuantOptions.of(LayerPrecision.INT8))
                .withCalibration(Dataset.of(feeds)).withSpeedCheck(host(500));
        Compressor.Result r = Compressor.compress(new ModelDef(g, Map.of()), o, dir.resolve("branchy.hedge"));
        assertEquals("int8", row(r, "fc1").precision(), row(r, "fc1").note());
        assertEquals("int8-weight", row(r, "fc2").precision(), row(r, "fc2").note());
        assertTrue(row(r, "fc2").note().startsWith("kept fp32 (int8-weight, float compute), int8 slower on this host: "
                + "int8 ~0.6 us vs fp32 ~0.2 us"), row(r, "fc2").note());
        assertTrue(r.report().notes().stream().anyMatch(n -> n.startsWith("speed check: 2 int8 layers compared")
                && n.contains("1 kept float compute")), r.report().notes().toString());
    }

    @Test
    void withoutACostForTheJavaFloatStepsNothingMoves() throws Exception {
        RuntimeOptions partial = RuntimeOptions.reference().withBackend(new Int8Backend()).withKernelCosts(
                KernelCosts.fixed(Map.of("fake.s8gemm", new KernelCost(500, 0.001), RefBackend.SGEMM,
                        new KernelCost(0, 0.2))));
        Compressor.Result r = compress(QuantOptions.of(LayerPrecision.INT8), partial);
        assertEquals("int8", row(r, "fc1").precision());
        assertEquals("int8", row(r, "fc2").precision());
        assertTrue(r.report().notes().stream().anyMatch(n -> n.contains("not estimated (stay int8): fc2")),
                r.report().notes().toString());
    }

    @Test
    void int8StaysWhereItWins() throws Exception {
        Compressor.Result r = compress(QuantOptions.of(LayerPrecision.INT8), host(0));
        assertEquals("int8", row(r, "fc1").precision());
        assertEquals("int8", row(r, "fc2").precision());
        assertTrue(row(r, "fc2").note().contains("int8 faster on this host"), row(r, "fc2").note());
    }

    @Test
    void dynamicInt8IsCheckedToo() throws Exception {
        Compressor.Result r = compress(QuantOptions.of(LayerPrecision.INT8_DYNAMIC), host(500));
        assertEquals("int8-dynamic", row(r, "fc1").precision());
        assertEquals("int8-weight", row(r, "fc2").precision());
    }

    @Test
    void pinnedLayersFullIntegerTargetsAndTheSwitchLeaveInt8Alone() throws Exception {
        Compressor.Result pinned = compress(QuantOptions.of(LayerPrecision.INT8)
                .withLayers(Map.of("fc*", LayerPrecision.INT8)), host(500));
        assertEquals("int8", row(pinned, "fc2").precision());
        assertTrue(pinned.report().notes().contains("speed check: 2 int8 layers pinned with --layer, not checked"),
                pinned.report().notes().toString());
        Compressor.Result fullInteger = compress(QuantOptions.of(LayerPrecision.INT8).withFloatOutputs(false),
                host(500));
        assertEquals("int8", row(fullInteger, "fc2").precision());
        assertTrue(fullInteger.report().notes().contains("speed check: off (full-integer target: int8 is mandatory)"));
        Compressor.Result off = compress(QuantOptions.of(LayerPrecision.INT8), null);
        assertEquals("int8", row(off, "fc2").precision());
        assertFalse(row(off, "fc2").note().contains("host"), row(off, "fc2").note());
        assertEquals("off", off.report().settings().get("speed_check"));
    }
}
