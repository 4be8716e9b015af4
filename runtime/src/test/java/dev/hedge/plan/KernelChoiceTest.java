package dev.hedge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.KernelCost;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.Work;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the planner picks a backend per node: measured costs, priority, fallback, and what the plan says. */
class KernelChoiceTest {

    /** A MatMul backend whose kernel writes {@code mark} everywhere, so the test sees who ran. */
    static class Marking implements Backend {
        final String name;
        final float mark;
        final Capability cap;
        final boolean rejectInPrepare;

        Marking(String name, float mark, Capability cap, boolean rejectInPrepare) {
            this.name = name;
            this.mark = mark;
            this.cap = cap;
            this.rejectInPrepare = rejectInPrepare;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<Capability> capabilities() {
            return cap == null ? List.of() : List.of(cap);
        }

        @Override
        public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
            if (node.op() != Op.MatMul) {
                return null;
            }
            return new Kernel() {
                @Override
                public void prepare(PrepareContext c) {
                    if (rejectInPrepare) {
                        throw new UnsupportedModelException(node.describe() + ": " + name + " cannot do this");
                    }
                    c.setOutput(0, DType.FLOAT32, c.inputShape(0)[0], c.inputShape(1)[1]);
                }

                @Override
                public void run(RunContext c) {
                    Tensor y = c.output(0);
                    for (int i = 0; i < y.elementCount(); i++) {
                        y.setFloat(i, mark);
                    }
                }
            };
        }
    }

    private static Graph graph() {
        return Graph.builder("g")
                .addInput(ValueInfo.of("a", DType.FLOAT32, 64, 64))
                .initializer("b", Tensor.of(new float[64 * 64], 64, 64))
                .addNode(Node.of("mm", Op.MatMul, List.of("a", "b"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 64, 64))
                .build();
    }

    private static float runMark(Model m) {
        try (Session s = m.newSession()) {
            return s.run(Map.of("a", Tensor.allocate(DType.FLOAT32, 64, 64))).get("y").getFloat(0);
        }
    }

    private static Plan.StepInfo step(Model m) {
        return m.plan(List.of(new int[] {64, 64})).describe().get(0);
    }

    /** The Java backend's MatMul competes too: priced out of every comparison here. */
    private static final Map.Entry<String, KernelCost> JAVA = Map.entry("java.sgemm", new KernelCost(1e9, 1));

    private static Map<String, KernelCost> costs(Object... classAndCost) {
        Map<String, KernelCost> m = new java.util.HashMap<>();
        m.put(JAVA.getKey(), JAVA.getValue());
        for (int i = 0; i < classAndCost.length; i += 2) {
            m.put((String) classAndCost[i], (KernelCost) classAndCost[i + 1]);
        }
        return m;
    }

    private static Model model(KernelCosts costs, Backend... backends) {
        RuntimeOptions o = RuntimeOptions.reference().withKernelCosts(costs);
        for (Backend b : backends) {
            o = o.withBackend(b);
        }
        return Model.of(new ModelDef(graph(), Map.of()), o);
    }

    @Test
    void theCheaperMeasuredKernelWinsOverBackendPriority() {
        Backend slow = new Marking("slow", 1, Capability.of(Op.MatMul, "slow.sgemm", DType.FLOAT32), false);
        Backend fast = new Marking("fast", 2, Capability.of(Op.MatMul, "fast.sgemm", DType.FLOAT32), false);
        KernelCosts costs = KernelCosts.fixed(costs("slow.sgemm", new KernelCost(100, 1.0),
                "fast.sgemm", new KernelCost(100, 0.01)));
        try (Model m = model(costs, slow, fast)) {
            assertEquals(2f, runMark(m));
            Plan.StepInfo s = step(m);
            assertEquals("fast", s.backend());
            assertEquals("fast.sgemm", s.kernelClass());
            // 64^3 = 262144 multiply-adds: 100 ns + 2621.44 ns
            assertEquals(100 + 0.01 * 262144, s.estimateNanos(), 1e-6);
            assertTrue(s.reason().contains("fast.sgemm/fp32 ~2.7 us") && s.reason().contains("beats slow.sgemm"),
                    s.reason());
        }
        // a large fixed cost per call makes the other one cheaper for this small product
        KernelCosts overhead = KernelCosts.fixed(costs("slow.sgemm", new KernelCost(100, 0.02),
                "fast.sgemm", new KernelCost(1e6, 0.01)));
        try (Model m = model(overhead, slow, fast)) {
            assertEquals(1f, runMark(m));
            assertEquals("slow", step(m).backend());
        }
    }

    @Test
    void anInt8KernelThatLosesLeavesTheLayerInFp32AndThePlanSaysSo() {
        Backend int8 = new Marking("native", 8, Capability.of(Op.MatMul, "native.s8gemm", DType.FLOAT32)
                .withPrecision(Capability.Precision.INT8), false);
        Backend fp32 = new Marking("openblas", 32, Capability.of(Op.MatMul, "openblas.sgemm", DType.FLOAT32), false);
        KernelCosts int8Slow = KernelCosts.fixed(costs("native.s8gemm", new KernelCost(0, 0.02),
                "openblas.sgemm", new KernelCost(0, 0.01)));
        try (Model m = model(int8Slow, int8, fp32)) {
            assertEquals(32f, runMark(m));
            Plan.StepInfo s = step(m);
            assertEquals("openblas.sgemm", s.kernelClass());
            assertTrue(s.reason().contains("int8 kernel slower on this host: stays fp32"), s.reason());
            assertTrue(m.plan(List.of(new int[] {64, 64})).explain().contains("stays fp32"));
        }
        KernelCosts int8Fast = KernelCosts.fixed(costs("native.s8gemm", new KernelCost(0, 0.002),
                "openblas.sgemm", new KernelCost(0, 0.01)));
        try (Model m = model(int8Fast, int8, fp32)) {
            assertEquals(8f, runMark(m));
            assertFalse(step(m).reason().contains("stays fp32"), step(m).reason());
        }
    }

    @Test
    void withoutCostsForEveryOfferTheFirstBackendWinsAndThePlanSaysWhy() {
        Backend a = new Marking("a", 1, Capability.of(Op.MatMul, "a.sgemm", DType.FLOAT32), false);
        Backend b = new Marking("b", 2, Capability.of(Op.MatMul, "b.sgemm", DType.FLOAT32), false);
        try (Model m = model(KernelCosts.fixed(Map.of("b.sgemm", new KernelCost(0, 1e-9),
                JAVA.getKey(), JAVA.getValue())), a, b)) {
            assertEquals(1f, runMark(m));
            assertEquals("backend priority (no measured cost for a.sgemm)", step(m).reason());
        }
    }

    @Test
    void aKernelRejectingTheNodeInPrepareFallsBackToTheNextOffer() {
        Backend picky = new Marking("picky", 1, Capability.of(Op.MatMul, "picky.sgemm", DType.FLOAT32), true);
        Backend plain = new Marking("plain", 2, null, false);
        try (Model m = model(KernelCosts.fixed(Map.of()), picky, plain)) {
            assertEquals(2f, runMark(m));
            Plan.StepInfo s = step(m);
            assertEquals("plain", s.backend());
            assertNull(s.kernelClass());
            assertTrue(s.reason().contains("after picky: ") && s.reason().contains("picky cannot do this"),
                    s.reason());
        }
    }

    @Test
    void missingCostsAreMeasuredOnceAndKeptInTheCacheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("costs.properties");
        AtomicInteger problems = new AtomicInteger();
        KernelBenchmark spin = work -> new KernelBenchmark.Problem() {
            final float[] v = new float[(int) Math.min(work, 1 << 20)];
            final long units = work;

            @Override
            public long work() {
                return units;
            }

            @Override
            public void run() {
                // about one multiply-add per unit
                float s = 1;
                for (long i = 0; i < units; i++) {
                    s = s * 0.999f + v[(int) (i & (v.length - 1))];
                }
                v[0] = s;
            }
        };
        Backend measured = new Marking("m", 5, Capability.of(Op.MatMul, "m.sgemm", DType.FLOAT32), false) {
            @Override
            public KernelBenchmark benchmark(String kernelClass) {
                problems.incrementAndGet();
                return "m.sgemm".equals(kernelClass) ? spin : null;
            }
        };
        Backend other = new Marking("o", 6, Capability.of(Op.MatMul, "o.sgemm", DType.FLOAT32), false);
        KernelCosts costs = KernelCosts.measuring(file);
        costs.put("o.sgemm", new KernelCost(0, 1e6));
        costs.put(JAVA.getKey(), JAVA.getValue());
        try (Model m = model(costs, other, measured)) {
            assertEquals(5f, runMark(m));
        }
        KernelCost c = costs.get("m.sgemm");
        assertNotNull(c);
        assertTrue(c.nanosPerUnit() > 0.01 && c.nanosPerUnit() < 100, c.toString());
        assertTrue(Files.readString(file).contains("m.sgemm"));
        // a new table over the same file knows it without measuring
        KernelCosts again = KernelCosts.measuring(file);
        assertEquals(c.nanosPerUnit(), again.get("m.sgemm").nanosPerUnit(), c.nanosPerUnit() * 1e-5);
        assertEquals(1, problems.get());
    }

    @Test
    void theJavaBackendOffersItsProductsUnderAMeasurableClass() {
        Node mm = Node.of("mm", Op.MatMul, List.of("a", "b"), List.of("y"));
        List<PrepareContext.ValueType> f32 = List.of(new PrepareContext.ValueType(DType.FLOAT32, new int[] {4, 8}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {8, 16}));
        var offers = dev.hedge.kernels.ref.RefBackend.INSTANCE.offers(mm, f32, java.util.Arrays.asList(null, null));
        assertEquals(1, offers.size());
        assertEquals("java.sgemm", offers.get(0).kernelClass());
        try (KernelBenchmark.Problem p = dev.hedge.kernels.ref.RefBackend.INSTANCE.benchmark("java.sgemm")
                .problem(4096)) {
            assertEquals(4096, p.work());
            p.run();
        }
        Node relu = Node.of("r", Op.Relu, List.of("a"), List.of("y"));
        var reluOffers = dev.hedge.kernels.ref.RefBackend.INSTANCE.offers(relu, f32.subList(0, 1), List.of());
        assertNull(reluOffers.get(0).kernelClass());
        Node dw = new Node("dw", Op.Conv, List.of("x", "w"), List.of("y"), Map.of("group", new dev.hedge.ir.Attr.Int(8)));
        var dwOffers = dev.hedge.kernels.ref.RefBackend.INSTANCE.offers(dw, List.of(
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {1, 8, 9, 9}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {8, 1, 3, 3})), java.util.Arrays.asList(null, null));
        assertNull(dwOffers.get(0).kernelClass(), "depthwise is a direct kernel, not sgemm");
    }

    @Test
    void capabilitiesMatchOpDtypesAndWeightEncoding() {
        Node mm = Node.of("mm", Op.MatMul, List.of("a", "b"), List.of("y"));
        List<PrepareContext.ValueType> f32 = List.of(new PrepareContext.ValueType(DType.FLOAT32, new int[] {4, 8}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {8, 16}));
        Capability dense = Capability.of(Op.MatMul, "x", DType.FLOAT32, DType.FLOAT32);
        assertTrue(dense.matches(mm, f32, java.util.Arrays.asList(null, null)));
        assertFalse(Capability.of(Op.MatMul, "x", DType.UINT8).matches(mm, f32, java.util.Arrays.asList(null, null)));
        assertFalse(Capability.of(Op.Gemm, "x", DType.FLOAT32).matches(mm, f32, java.util.Arrays.asList(null, null)));
        // an 8x16 matrix in 2x4 blocks, 4 of 16 blocks stored: density 1/4
        Sparse sp = new Sparse(Sparse.Format.BLOCK_CSR, 2, 4, DType.INT32, ByteBuffer.allocate(20),
                ByteBuffer.allocate(16), 4);
        Tensor sparseW = Tensor.encoded(DType.FLOAT32, new int[] {8, 16}, ByteBuffer.allocate(4 * 32), null, sp, null);
        Capability sparse = dense.sparse();
        assertFalse(sparse.matches(mm, f32, java.util.Arrays.asList(null, Tensor.allocate(DType.FLOAT32, 8, 16))));
        assertTrue(sparse.matches(mm, f32, java.util.Arrays.asList(null, sparseW)));
        assertEquals(0.25, Backend.density(sparseW), 1e-12);
        assertEquals(4.0 * 8 * 16, Work.of(mm, f32));
    }

    @Test
    void workCountsMultiplyAddsOfConvolutionsAndProducts() {
        Node conv = new Node("c", Op.Conv, List.of("x", "w"), List.of("y"),
                Map.of("strides", new dev.hedge.ir.Attr.Ints(new long[] {2, 2}), "pads", new dev.hedge.ir.Attr.Ints(new long[] {1, 1, 1, 1})));
        List<PrepareContext.ValueType> t = List.of(
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {1, 3, 224, 224}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {32, 3, 3, 3}));
        // 112 x 112 outputs per map, 32 maps, 27 multiply-adds each
        assertEquals(112.0 * 112 * 32 * 27, Work.of(conv, t));
        Node gemm = new Node("g", Op.Gemm, List.of("a", "b"), List.of("y"), Map.of("transB", new dev.hedge.ir.Attr.Int(1)));
        assertEquals(2.0 * 10 * 5, Work.of(gemm, List.of(
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {2, 5}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {10, 5}))));
        Node mm = Node.of("m", Op.MatMul, List.of("a", "b"), List.of("y"));
        assertEquals(3.0 * 4 * 2 * 5 * 6, Work.of(mm, List.of(
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {3, 1, 2, 5}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {4, 5, 6}))));
        assertTrue(Double.isNaN(Work.of(mm, List.of(new PrepareContext.ValueType(DType.FLOAT32, null),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {4, 5, 6})))));
        assertThrows(IllegalArgumentException.class, () -> new KernelCost(-1, 1));
    }
}
