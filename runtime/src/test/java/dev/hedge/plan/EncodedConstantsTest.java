package dev.hedge.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelCost;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.Offer;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.cpu.SparseEncode;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Backends may consume encoded constants as stored; everything else still sees dense values, decoded lazily. */
class EncodedConstantsTest {

    static final float[] W = {0, 2, 0, 0, 1, 0, 0, 3, 0, 0, 0, 0};

    /** MatMul (consumes an encoded B when `consume`), Identity (dense). Records what kernels saw. */
    static final class TestBackend implements Backend {
        final boolean consume;
        final List<Tensor> seen = new ArrayList<>();

        TestBackend(boolean consume) {
            this.consume = consume;
        }

        @Override
        public String name() {
            return "test";
        }

        /** With `consume`, a MatMul whose B is stored encoded gets an offer that reads it as stored. */
        @Override
        public List<Offer> offers(Node node, List<PrepareContext.ValueType> inputs, List<Tensor> constants) {
            Tensor b = constants.size() > 1 ? constants.get(1) : null;
            if (consume && node.op() == Op.MatMul && b != null && b.isEncoded()) {
                return List.of(new Offer(this, "test.encoded", Capability.Precision.FP32, false, 1, true,
                        this::matMul));
            }
            return Backend.super.offers(node, inputs, constants);
        }

        @Override
        public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
            switch (node.op()) {
                case MatMul: return matMul();
                case Identity: return new Kernel() {
                    public void prepare(PrepareContext c) {
                        seen.add(c.inputValue(0));
                        c.setOutput(0, c.inputType(0), c.inputShape(0));
                    }

                    public void run(RunContext c) {
                        c.input(0).copyTo(c.output(0));
                    }
                };
                default: return null;
            }
        }

        Kernel matMul() {
            return new Kernel() {
                Tensor b;

                public void prepare(PrepareContext c) {
                    seen.add(c.inputValue(1));
                    b = Decoding.densify(c.inputValue(1)); // stands in for packing the stored form
                    c.setOutput(0, DType.FLOAT32, c.inputShape(0)[0], b.dim(1));
                }

                public void run(RunContext c) {
                    Tensor a = c.input(0);
                    Tensor o = c.output(0);
                    int m = a.dim(0);
                    int k = a.dim(1);
                    int n = b.dim(1);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            float s = 0;
                            for (int q = 0; q < k; q++) {
                                s += a.getFloat(i * k + q) * b.getFloat(q * n + j);
                            }
                            o.setFloat(i * n + j, s);
                        }
                    }
                }
            };
        }
    }

    private static Graph graph(boolean identityToo, boolean constantOutput) {
        Tensor w = SparseEncode.blockCsr(Tensor.of(W, 3, 4), 1, 1);
        Graph.Builder b = Graph.builder("g")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, 3))
                .initializer("w", w)
                .addNode(Node.of("mm", Op.MatMul, List.of("x", "w"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 4));
        if (identityToo) {
            b.addNode(Node.of("id", Op.Identity, List.of("w"), List.of("wd"))).addOutput(ValueInfo.of("wd", DType.FLOAT32, 3, 4));
        }
        if (constantOutput) {
            b.addOutput(ValueInfo.of("w", DType.FLOAT32, 3, 4));
        }
        return b.build();
    }

    private static List<Tensor> run(Graph g, TestBackend be, AtomicInteger decodes) {
        Planner p = new Planner(List.of(be), 1, t -> {
            decodes.incrementAndGet();
            return Decoding.densify(t);
        });
        Plan plan = p.plan(g, List.of(new PrepareContext.ValueType(DType.FLOAT32, new int[] {1, 3})));
        return plan.newFrame().run(List.of(Tensor.of(new float[] {1, 2, 3}, 1, 3)));
    }

    @Test
    void aConsumingKernelSeesTheStoredFormAndNothingIsDecoded() {
        TestBackend be = new TestBackend(true);
        AtomicInteger decodes = new AtomicInteger();
        List<Tensor> out = run(graph(false, false), be, decodes);
        assertArrayEquals(new float[] {2, 2, 0, 6}, out.get(0).toFloatArray());
        assertNotNull(be.seen.get(0).sparse(), "MatMul was given the CSR form");
        assertEquals(0, decodes.get(), "no step needed the dense form");
    }

    @Test
    void denseReadersOfTheSameConstantGetItDecodedOnce() {
        TestBackend be = new TestBackend(true);
        AtomicInteger decodes = new AtomicInteger();
        List<Tensor> out = run(graph(true, true), be, decodes);
        assertArrayEquals(new float[] {2, 2, 0, 6}, out.get(0).toFloatArray());
        assertArrayEquals(W, out.get(1).toFloatArray());
        assertArrayEquals(W, out.get(2).toFloatArray(), "a graph output that is an encoded constant comes out dense");
        assertTrue(be.seen.get(0).isEncoded());
        assertFalse(be.seen.get(1).isEncoded(), "Identity reads densely");
        assertEquals(1, decodes.get());
    }

    @Test
    void aDecliningBackendGetsDenseInputs() {
        TestBackend be = new TestBackend(false);
        AtomicInteger decodes = new AtomicInteger();
        List<Tensor> out = run(graph(false, false), be, decodes);
        assertArrayEquals(new float[] {2, 2, 0, 6}, out.get(0).toFloatArray());
        assertFalse(be.seen.get(0).isEncoded());
        assertEquals(1, decodes.get());
    }

    /** A MatMul backend of one capability; its kernel records the B it was given and may reject the node. */
    static final class CapBackend implements Backend {
        final String name;
        final Capability cap;
        final boolean reject;
        final List<Tensor> seen = new ArrayList<>();

        CapBackend(String name, Capability cap, boolean reject) {
            this.name = name;
            this.cap = cap;
            this.reject = reject;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<Capability> capabilities() {
            return List.of(cap);
        }

        @Override
        public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
            TestBackend helper = new TestBackend(false);
            Kernel mm = helper.matMul();
            return new Kernel() {
                public void prepare(PrepareContext c) {
                    seen.add(c.inputValue(1));
                    if (reject) {
                        throw new dev.hedge.runtime.UnsupportedModelException(node.describe() + ": " + name + " declines");
                    }
                    mm.prepare(c);
                }

                public void run(RunContext c) {
                    mm.run(c);
                }
            };
        }
    }

    private static Plan plan(List<Backend> backends, KernelCosts costs, AtomicInteger decodes) {
        Planner p = new Planner(backends, null, costs, t -> {
            decodes.incrementAndGet();
            return Decoding.densify(t);
        });
        return p.plan(graph(false, false), List.of(new PrepareContext.ValueType(DType.FLOAT32, new int[] {1, 3})));
    }

    @Test
    void theSparseOfferCompetesOnCostAtTheWeightsDensityAndOnlyTheDenseWinnerDecodes() {
        // W stores 3 of 12 values: the sparse kernel's cost is taken for a quarter of the work
        Capability sparseCap = Capability.of(Op.MatMul, "t.sparse", DType.FLOAT32).sparse();
        Capability denseCap = Capability.of(Op.MatMul, "t.dense", DType.FLOAT32);
        for (double sparsePerUnit : new double[] {3.0, 5.0}) {
            CapBackend sparse = new CapBackend("sparse", sparseCap, false);
            CapBackend dense = new CapBackend("dense", denseCap, false);
            KernelCosts costs = KernelCosts.fixed(Map.of("t.sparse", new KernelCost(0, sparsePerUnit),
                    "t.dense", new KernelCost(0, 1.0)));
            AtomicInteger decodes = new AtomicInteger();
            Plan plan = plan(List.of(dense, sparse), costs, decodes);
            List<Tensor> out = plan.newFrame().run(List.of(Tensor.of(new float[] {1, 2, 3}, 1, 3)));
            assertArrayEquals(new float[] {2, 2, 0, 6}, out.get(0).toFloatArray());
            Plan.StepInfo st = plan.describe().get(0);
            boolean sparseWins = sparsePerUnit * 0.25 < 1.0;
            assertEquals(sparseWins ? "sparse" : "dense", st.backend(), st.reason());
            assertEquals(sparseWins ? 12 * 0.25 * sparsePerUnit : 12.0, st.estimateNanos(), 1e-9);
            if (sparseWins) {
                assertTrue(sparse.seen.get(0).isEncoded(), "the sparse kernel reads the stored form");
                assertTrue(dense.seen.isEmpty());
                assertEquals(0, decodes.get(), "nobody read W densely");
            } else {
                assertFalse(dense.seen.get(0).isEncoded(), "the dense kernel gets W decoded");
                assertTrue(sparse.seen.isEmpty());
                assertEquals(1, decodes.get());
            }
        }
    }

    @Test
    void aSparseKernelRejectingTheNodeGivesWayToADenseOneThatGetsTheDecodedForm() {
        CapBackend sparse = new CapBackend("sparse", Capability.of(Op.MatMul, "t.sparse", DType.FLOAT32).sparse(), true);
        CapBackend dense = new CapBackend("dense", Capability.of(Op.MatMul, "t.dense", DType.FLOAT32), false);
        KernelCosts costs = KernelCosts.fixed(Map.of("t.sparse", new KernelCost(0, 0.1), "t.dense", new KernelCost(0, 1)));
        AtomicInteger decodes = new AtomicInteger();
        Plan plan = plan(List.of(sparse, dense), costs, decodes);
        assertArrayEquals(new float[] {2, 2, 0, 6},
                plan.newFrame().run(List.of(Tensor.of(new float[] {1, 2, 3}, 1, 3))).get(0).toFloatArray());
        Plan.StepInfo st = plan.describe().get(0);
        assertEquals("dense", st.backend());
        assertTrue(st.reason().contains("after sparse: ") && st.reason().contains("sparse declines"), st.reason());
        assertTrue(sparse.seen.get(0).isEncoded());
        assertFalse(dense.seen.get(0).isEncoded());
        assertEquals(1, decodes.get());
    }

    @Test
    void aSparseCapabilityDoesNotMatchWhenAnotherConstantInputIsEncoded() {
        Node gemm = Node.of("g", Op.Gemm, List.of("x", "w", "c"), List.of("y"));
        Tensor w = SparseEncode.blockCsr(Tensor.of(W, 3, 4), 1, 1);
        Tensor c = SparseEncode.blockCsr(Tensor.of(new float[] {0, 1, 0, 0}, 1, 4), 1, 1);
        List<PrepareContext.ValueType> types = List.of(new PrepareContext.ValueType(DType.FLOAT32, new int[] {1, 3}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {3, 4}),
                new PrepareContext.ValueType(DType.FLOAT32, new int[] {1, 4}));
        Capability cap = Capability.of(Op.Gemm, "t.sparse", DType.FLOAT32).sparse();
        assertTrue(cap.matches(gemm, types, java.util.Arrays.asList(null, w, Tensor.of(new float[4], 1, 4))));
        // its kernel would get every encoded constant as stored, and it only reads sparse weights
        assertFalse(cap.matches(gemm, types, java.util.Arrays.asList(null, w, c)));
    }
}
