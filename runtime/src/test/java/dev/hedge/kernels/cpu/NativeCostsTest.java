package dev.hedge.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.KernelCost;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.Offer;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The native backend in the cost model: its kernel classes, offers, benchmarks, and choices against Java. */
class NativeCostsTest {

    private NativeBackend nat;

    @BeforeEach
    void needsNative() {
        Assumptions.assumeTrue(NativeBackend.isAvailable(), NativeBackend.unavailableReason());
        nat = new NativeBackend();
    }

    /** x [8, 64] times sparse W [32, 64]^T (transB), a quarter of the 1x4 blocks stored. */
    private static Map<String, Tensor> sparseGemm(Random r) {
        Tensor ws = SparsePropertiesTest.sparseWeights(DType.FLOAT32, r, new int[] {32, 64}, 1, 4, 75);
        return Map.of("w", ws);
    }

    private static Graph gemm(Tensor w) {
        return Graph.builder("g")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 8, 64))
                .initializer("w", w)
                .addNode(Node.of("fc", Op.Gemm, List.of("x", "w"), List.of("y"))
                        .withAttr("transB", new dev.hedge.ir.Attr.Int(1)))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 8, 32))
                .build();
    }

    @Test
    void sparseWeightsGetASparseOfferAtTheirDensityAndDenseOnesNone() {
        Tensor w = sparseGemm(new Random(1)).get("w");
        Node fc = gemm(w).nodes().get(0);
        List<ValueType> types = List.of(new ValueType(DType.FLOAT32, new int[] {8, 64}),
                new ValueType(DType.FLOAT32, new int[] {32, 64}));
        List<Offer> offers = nat.offers(fc, types, Arrays.asList(null, w));
        assertEquals(1, offers.size(), offers.toString());
        Offer o = offers.get(0);
        assertEquals("native.sparse.f32." + nat.isa(), o.kernelClass());
        assertTrue(o.readsEncoded());
        assertEquals(Capability.Precision.FP32, o.precision());
        assertEquals(dev.hedge.kernels.Backend.density(w), o.workScale(), 0);
        assertTrue(o.workScale() < 0.5, "about a quarter stored: " + o.workScale());
        assertTrue(nat.offers(fc, types, Arrays.asList(null, Decoding.densify(w))).isEmpty(),
                "a dense fp32 Gemm is not the native backend's");
        Node qmm = Node.of("q", Op.QLinearMatMul, List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"), List.of("y"));
        List<ValueType> q = List.of(new ValueType(DType.UINT8, new int[] {4, 16}), new ValueType(DType.FLOAT32, new int[0]),
                new ValueType(DType.UINT8, new int[0]), new ValueType(DType.INT8, new int[] {16, 8}),
                new ValueType(DType.FLOAT32, new int[0]), new ValueType(DType.INT8, new int[0]),
                new ValueType(DType.FLOAT32, new int[0]), new ValueType(DType.UINT8, new int[0]));
        List<Offer> qo = nat.offers(qmm, q, Arrays.asList(new Tensor[8]));
        assertEquals(1, qo.size());
        assertEquals("native.s8gemm." + nat.isa(), qo.get(0).kernelClass());
        assertEquals(Capability.Precision.INT8, qo.get(0).precision());
        // the dense int8 GEMM splits its tiles over the intra-op threads, so its estimate shrinks with them
        assertTrue(qo.get(0).parallel() && !qo.get(0).readsEncoded());
    }

    /** Runs the sparse Gemm with fixed costs; returns {backend, output}. */
    private static Object[] run(Tensor w, Tensor x, KernelCosts costs) {
        RuntimeOptions o = RuntimeOptions.reference().withBackend(new NativeBackend()).withKernelCosts(costs);
        try (Model m = Model.of(new ModelDef(gemm(w), Map.of()), o); Session s = m.newSession()) {
            Plan.StepInfo st = m.plan(List.of(new int[] {8, 64})).describe().get(0);
            return new Object[] {st.backend(), s.run(Map.of("x", x)).get("y").toFloatArray(), st.reason()};
        }
    }

    @Test
    void sparseFloatWinsOrLosesAgainstJavaSgemmByMeasuredCostAndBothAgree() {
        Random r = new Random(2);
        Tensor w = sparseGemm(r).get("w");
        Tensor x = Tensor.allocate(DType.FLOAT32, 8, 64);
        for (int i = 0; i < x.elementCount(); i++) {
            x.setFloat(i, (float) r.nextGaussian());
        }
        String sparse = "native.sparse.f32." + new NativeBackend().isa();
        // same cost per multiply-add: the sparse kernel does a quarter of them
        Object[] a = run(w, x, KernelCosts.fixed(Map.of(sparse, new KernelCost(0, 1), RefBackend.SGEMM, new KernelCost(0, 1))));
        assertEquals("native", a[0], (String) a[2]);
        assertTrue(((String) a[2]).contains("beats java.sgemm/fp32"), (String) a[2]);
        // ten times the cost per stored multiply-add: Java's dense product wins
        Object[] b = run(w, x, KernelCosts.fixed(Map.of(sparse, new KernelCost(0, 10), RefBackend.SGEMM, new KernelCost(0, 1))));
        assertEquals("java", b[0], (String) b[2]);
        float[] ya = (float[]) a[1];
        float[] yb = (float[]) b[1];
        for (int i = 0; i < ya.length; i++) {
            assertEquals(yb[i], ya[i], 1e-4 * Math.max(1, Math.abs(yb[i])), "element " + i);
        }
    }

    @Test
    void theInt8GemmBenchmarkRunsTheNativeKernelAndMeasures() {
        KernelBenchmark bm = nat.benchmark("native.s8gemm." + nat.isa());
        assertNotNull(bm);
        try (KernelBenchmark.Problem p = bm.problem(1 << 15)) {
            // a 32 x 32 x 32 product
            assertEquals(32L * 32 * 32, p.work());
            p.run();
        }
        try (KernelBenchmark.Problem p = nat.benchmark("native.sparse.s8." + nat.isa()).problem(1 << 14)) {
            assertTrue(p.work() > 0);
            p.run();
        }
        try (KernelBenchmark.Problem p = nat.benchmark("native.sparse.f32." + nat.isa()).problem(1 << 14)) {
            assertTrue(p.work() > 0);
            p.run();
        }
        // the one-row product: [1, 64] x [64, 64]
        try (KernelBenchmark.Problem p = bm.rowProblem(4096)) {
            assertEquals(4096, p.work());
            assertEquals(4096, p.weights());
            assertEquals(1, p.rows());
            p.run();
        }
        // im2col convolutions are their own class, timed through a 3x3 QLinearConv
        try (KernelBenchmark.Problem p = nat.benchmark("native.s8conv." + nat.isa()).problem(1 << 15)) {
            assertEquals(9L * 15 * 15 * 16, p.work()); // 15 channels over 4 x 4 pixels
            assertEquals(9L * 15 * 15, p.weights());
            p.run();
        }
        // the depthwise kernels, int8 and float, for the converter's speed check: 3x3 taps over c channels
        for (String cls : new String[] {"native.dwconv.s8.", "native.dwconv.f32."}) {
            try (KernelBenchmark.Problem p = nat.benchmark(cls + nat.isa()).problem(1 << 14)) {
                assertEquals(0, p.work() % 9, cls);
                p.run();
            }
        }
        assertNull(nat.benchmark("native.maxpool.8." + nat.isa()), "other direct kernels are not measured");
        KernelCost c = KernelCosts.measure(bm);
        assertTrue(c.nanosPerUnit() > 0 && c.unitsPerSecond() > 1e8, c.toString());
    }
}
