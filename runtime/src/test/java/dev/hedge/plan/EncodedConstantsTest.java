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
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.cpu.SparseEncode;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
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

        @Override
        public Kernel createForEncoded(Node node, List<PrepareContext.ValueType> inputs, List<Tensor> encoded) {
            return consume && node.op() == Op.MatMul && encoded.get(1) != null ? matMul() : null;
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
}
