package dev.hedge.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Planner and executor behaviour, with tiny test kernels so it does not depend on the real ones. */
class PlannerTest {

    /** Add (same-shape floats), Relu, Shape and Reshape: enough to exercise folding and liveness. */
    static final class TestBackend implements Backend {
        @Override
        public String name() {
            return "test";
        }

        @Override
        public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
            switch (node.op()) {
                case Add: return new Kernel() {
                    public void prepare(PrepareContext c) {
                        c.setOutput(0, DType.FLOAT32, c.inputShape(0));
                    }

                    public void run(RunContext c) {
                        Tensor a = c.input(0), b = c.input(1), o = c.output(0);
                        for (int i = 0; i < o.elementCount(); i++) {
                            o.setFloat(i, a.getFloat(i) + b.getFloat(i));
                        }
                    }
                };
                case Relu: return new Kernel() {
                    public void prepare(PrepareContext c) {
                        c.setOutput(0, DType.FLOAT32, c.inputShape(0));
                    }

                    public void run(RunContext c) {
                        Tensor a = c.input(0), o = c.output(0);
                        for (int i = 0; i < o.elementCount(); i++) {
                            o.setFloat(i, Math.max(0, a.getFloat(i)));
                        }
                    }
                };
                case Shape: return new Kernel() {
                    public void prepare(PrepareContext c) {
                        int[] s = c.inputShape(0);
                        long[] v = new long[s.length];
                        for (int i = 0; i < s.length; i++) {
                            v[i] = s[i];
                        }
                        c.setOutputValue(0, Tensor.of(v, v.length));
                    }

                    public void run(RunContext c) {
                        Tensor a = c.input(0), o = c.output(0);
                        for (int i = 0; i < a.rank(); i++) {
                            o.setLong(i, a.dim(i));
                        }
                    }
                };
                case Reshape: return new Kernel() {
                    public void prepare(PrepareContext c) {
                        long[] s = c.requireValue(1).toLongArray();
                        int[] shape = new int[s.length];
                        for (int i = 0; i < s.length; i++) {
                            shape[i] = (int) s[i];
                        }
                        c.setOutput(0, c.inputType(0), shape);
                    }

                    public void run(RunContext c) {
                        c.input(0).copyTo(c.output(0));
                    }
                };
                default: return null;
            }
        }
    }

    private static Model model(Graph g) {
        return Model.of(new ModelDef(g, Map.of()), RuntimeOptions.reference().withBackend(new TestBackend()));
    }

    @Test
    void runsAChainAndReusesArenaMemory() {
        Graph g = Graph.builder("g")
                .addInput(ValueInfo.of("x", DType.FLOAT32, -1, 4))
                .initializer("c", Tensor.of(new float[] {1, -2, 3, -4, 5, -6, 7, -8}, 2, 4))
                .addNode(Node.of("a1", Op.Add, List.of("x", "c"), List.of("t1")))
                .addNode(Node.of("r1", Op.Relu, List.of("t1"), List.of("t2")))
                .addNode(Node.of("a2", Op.Add, List.of("t2", "c"), List.of("t3")))
                .addNode(Node.of("r2", Op.Relu, List.of("t3"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, -1, 4))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Tensor x = Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 2, 4);
            Tensor y = s.run(Map.of("x", x)).get("y");
            assertArrayEquals(new float[] {3, 0, 7, 0, 11, 0, 15, 0}, y.toFloatArray());
            Plan p = m.plan(List.of(new int[] {2, 4}));
            assertEquals(4, p.stepCount());
            // four 32-byte values, at most two alive at once: the arena holds two 64-byte slots
            assertTrue(p.arenaBytes() <= 128, "arena " + p.arenaBytes());
            assertTrue(p.unsharedBytes() >= 256);
            // a second run with the same shape reuses everything and gives the same answer
            Tensor y2 = s.run(Map.of("x", x)).get("y");
            assertArrayEquals(new float[] {3, 0, 7, 0, 11, 0, 15, 0}, y2.toFloatArray());
        }
    }

    @Test
    void shapeComputationsAreFoldedAtPlanTime() {
        Graph g = Graph.builder("g")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .addInput(ValueInfo.of("z", DType.FLOAT32, 6))
                .addNode(Node.of("shape", Op.Shape, List.of("x"), List.of("s")))
                .addNode(Node.of("reshape", Op.Reshape, List.of("z", "s"), List.of("y")))
                .addOutput(new ValueInfo("y", DType.FLOAT32, null))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Tensor out = s.run(Map.of("x", Tensor.allocate(DType.FLOAT32, 2, 3),
                    "z", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 6))).get("y");
            assertArrayEquals(new int[] {2, 3}, out.shape());
            Plan p = m.plan(List.of(new int[] {2, 3}, new int[] {6}));
            assertEquals(1, p.stepCount(), "Shape ran at plan time; only Reshape remains");
            assertEquals("test", p.describe().get(0).backend());
        }
    }

    @Test
    void valuesOnlyKnownAtRunTimeDeferThePreparation() {
        Graph g = Graph.builder("g")
                .addInput(ValueInfo.of("z", DType.FLOAT32, 6))
                .addInput(ValueInfo.of("shape", DType.INT64, 2))
                .addNode(Node.of("reshape", Op.Reshape, List.of("z", "shape"), List.of("y")))
                .addNode(Node.of("relu", Op.Relu, List.of("y"), List.of("r")))
                .addOutput(new ValueInfo("r", DType.FLOAT32, null))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Tensor z = Tensor.of(new float[] {-1, 2, -3, 4, -5, 6}, 6);
            Tensor r = s.run(Map.of("z", z, "shape", Tensor.of(new long[] {3, 2}, 2))).get("r");
            assertArrayEquals(new int[] {3, 2}, r.shape());
            assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6}, r.toFloatArray());
            r = s.run(Map.of("z", z, "shape", Tensor.of(new long[] {1, 6}, 2))).get("r");
            assertArrayEquals(new int[] {1, 6}, r.shape());
            assertTrue(m.plan(List.of(new int[] {6}, new int[] {2})).describe().get(0).deferred());
        }
    }

    @Test
    void badInputsAreRejectedWithTheirName() {
        Graph g = Graph.builder("g")
                .addInput(ValueInfo.of("x", DType.FLOAT32, -1, 4))
                .addNode(Node.of("r", Op.Relu, List.of("x"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, -1, 4))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            var e1 = assertThrows(InvalidInputException.class,
                    () -> s.run(Map.of("x", Tensor.allocate(DType.FLOAT32, 2, 5))));
            assertTrue(e1.getMessage().contains("'x' dimension 1 must be 4"), e1.getMessage());
            var e2 = assertThrows(InvalidInputException.class,
                    () -> s.run(Map.of("x", Tensor.allocate(DType.INT64, 2, 4))));
            assertTrue(e2.getMessage().contains("must be FLOAT32"), e2.getMessage());
            var e3 = assertThrows(InvalidInputException.class, () -> s.run(Map.of()));
            assertTrue(e3.getMessage().contains("missing input 'x'"), e3.getMessage());
            var e4 = assertThrows(InvalidInputException.class, () -> s.run(Map.of(
                    "x", Tensor.allocate(DType.FLOAT32, 1, 4), "bogus", Tensor.scalar(1f))));
            assertTrue(e4.getMessage().contains("unknown input 'bogus'"), e4.getMessage());
        }
    }

    @Test
    void arenaPlannerNeverOverlapsLiveBuffers() {
        java.util.Random rnd = new java.util.Random(42);
        for (int trial = 0; trial < 200; trial++) {
            List<ArenaPlanner.Buffer> bufs = new java.util.ArrayList<>();
            for (int i = 0; i < 30; i++) {
                int a = rnd.nextInt(40);
                int b = a + rnd.nextInt(10);
                bufs.add(new ArenaPlanner.Buffer(1 + rnd.nextInt(5000), a, b));
            }
            long size = ArenaPlanner.place(bufs);
            for (ArenaPlanner.Buffer x : bufs) {
                assertTrue(x.offset() % ArenaPlanner.ALIGN == 0);
                assertTrue(x.offset() + x.bytes <= size);
                for (ArenaPlanner.Buffer y : bufs) {
                    if (x != y && x.first <= y.last && y.first <= x.last) {
                        boolean disjoint = x.offset() + x.bytes <= y.offset() || y.offset() + y.bytes <= x.offset();
                        assertTrue(disjoint, "overlap in trial " + trial);
                    }
                }
            }
        }
    }
}
