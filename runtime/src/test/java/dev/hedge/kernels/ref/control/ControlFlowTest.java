package dev.hedge.kernels.ref.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** If and Loop through the planner, with hand-built graphs whose inner ops run on {@link TestOps}. */
class ControlFlowTest {

    private static Model model(Graph g) {
        return Model.of(new ModelDef(g, Map.of()), RuntimeOptions.reference().withBackend(new TestOps()));
    }

    private static ValueInfo dyn(String name, DType dt) {
        return new ValueInfo(name, dt, null);
    }

    private static Node node(String name, Op op, List<String> in, List<String> out) {
        return Node.of(name, op, in, out);
    }

    private static Node ifNode(String name, String cond, List<String> out, Graph then, Graph otherwise) {
        return new Node(name, Op.If, List.of(cond), out, Map.of("then_branch", new Attr.GraphValue(then),
                "else_branch", new Attr.GraphValue(otherwise)));
    }

    private static Node loopNode(String name, List<String> in, List<String> out, Graph body) {
        return new Node(name, Op.Loop, in, out, Map.of("body", new Attr.GraphValue(body)));
    }

    private static Tensor bool(boolean v) {
        return Tensor.of(new boolean[] {v}).reshape();
    }

    private static Tensor i64(long v) {
        return Tensor.scalar(v).reshape();
    }

    // ---------------------------------------------------------------- If

    /** then: a + a ([2]); else: concat(a, a) ([4]) or a * a ([2]) depending on {@code sameShapes}. */
    private static Graph ifGraph(boolean sameShapes) {
        Graph then = Graph.builder("then")
                .addNode(node("t", Op.Add, List.of("a", "a"), List.of("t_out")))
                .addOutput(dyn("t_out", DType.FLOAT32))
                .build();
        Graph otherwise = Graph.builder("else")
                .addNode(sameShapes ? node("e", Op.Mul, List.of("a", "a"), List.of("e_out"))
                        : new Node("e", Op.Concat, List.of("a", "a"), List.of("e_out"), Map.of("axis", new Attr.Int(0))))
                .addOutput(dyn("e_out", DType.FLOAT32))
                .build();
        return Graph.builder("main")
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("a", DType.FLOAT32, 2))
                .addNode(ifNode("if", "c", List.of("y"), then, otherwise))
                .addOutput(dyn("y", DType.FLOAT32))
                .build();
    }

    @Test
    void ifWithARunTimeConditionRunsEitherBranch() {
        Tensor a = Tensor.of(new float[] {2, 3}, 2);
        try (Model m = model(ifGraph(false)); Session s = m.newSession()) {
            for (int rep = 0; rep < 3; rep++) {
                Tensor y = s.run(Map.of("c", bool(true), "a", a)).get("y");
                assertArrayEquals(new float[] {4, 6}, y.toFloatArray());
                y = s.run(Map.of("c", bool(false), "a", a)).get("y");
                assertArrayEquals(new float[] {2, 3, 2, 3}, y.toFloatArray());
            }
            Plan p = m.plan(List.of(new int[0], new int[] {2}));
            assertNull(p.outputShape(0), "branches disagree on the shape: the output is dynamic");
        }
        try (Model m = model(ifGraph(true)); Session s = m.newSession()) {
            assertArrayEquals(new float[] {4, 6}, s.run(Map.of("c", bool(true), "a", a)).get("y").toFloatArray());
            assertArrayEquals(new float[] {4, 9}, s.run(Map.of("c", bool(false), "a", a)).get("y").toFloatArray());
            assertArrayEquals(new int[] {2}, m.plan(List.of(new int[0], new int[] {2})).outputShape(0),
                    "both branches give [2]: the output is static");
        }
    }

    @Test
    void ifWithAKnownConditionPlansOnlyThatBranch() {
        for (boolean c : new boolean[] {true, false}) {
            // the branch not taken adds [2] and [3], which the planner would refuse
            Graph good = Graph.builder(c ? "then" : "else")
                    .addNode(node("g", Op.Add, List.of("a", "a"), List.of("g_out")))
                    .addOutput(dyn("g_out", DType.FLOAT32))
                    .build();
            Graph bad = Graph.builder(c ? "else" : "then")
                    .initializer("three", Tensor.of(new float[] {1, 2, 3}, 3))
                    .addNode(node("b", Op.Add, List.of("a", "three"), List.of("b_out")))
                    .addOutput(dyn("b_out", DType.FLOAT32))
                    .build();
            Graph g = Graph.builder("main")
                    .addInput(ValueInfo.of("a", DType.FLOAT32, 2))
                    .initializer("c", bool(c))
                    .addNode(ifNode("if", "c", List.of("y"), c ? good : bad, c ? bad : good))
                    .addOutput(dyn("y", DType.FLOAT32))
                    .build();
            try (Model m = model(g); Session s = m.newSession()) {
                Tensor y = s.run(Map.of("a", Tensor.of(new float[] {1, 5}, 2))).get("y");
                assertArrayEquals(new float[] {2, 10}, y.toFloatArray());
                assertArrayEquals(new int[] {2}, m.plan(List.of(new int[] {2})).outputShape(0));
            }
        }
    }

    @Test
    void aBranchMayReturnAnEnclosingValueAsItIs() {
        Graph then = Graph.builder("then").addOutput(dyn("a", DType.FLOAT32)).build();
        Graph otherwise = Graph.builder("else").initializer("k", Tensor.of(new float[] {9, 9}, 2))
                .addOutput(dyn("k", DType.FLOAT32)).build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("a", DType.FLOAT32, 2))
                .addNode(ifNode("if", "c", List.of("y"), then, otherwise))
                .addNode(node("double", Op.Add, List.of("y", "y"), List.of("z")))
                .addOutput(dyn("z", DType.FLOAT32))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Tensor a = Tensor.of(new float[] {1, 2}, 2);
            assertArrayEquals(new float[] {2, 4}, s.run(Map.of("c", bool(true), "a", a)).get("z").toFloatArray());
            assertArrayEquals(new float[] {18, 18}, s.run(Map.of("c", bool(false), "a", a)).get("z").toFloatArray());
            assertArrayEquals(new int[] {2}, m.plan(List.of(new int[0], new int[] {2})).outputShape(0));
        }
    }

    @Test
    void aBranchInvalidForThesePlannedShapesFailsOnlyWhenTaken() {
        Graph good = Graph.builder("then")
                .addNode(node("g", Op.Add, List.of("a", "a"), List.of("g_out")))
                .addOutput(dyn("g_out", DType.FLOAT32))
                .build();
        Graph bad = Graph.builder("else")
                .initializer("three", Tensor.of(new float[] {1, 2, 3}, 3))
                .addNode(node("b", Op.Add, List.of("a", "three"), List.of("b_out")))
                .addOutput(dyn("b_out", DType.FLOAT32))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("a", DType.FLOAT32, 2))
                .addNode(ifNode("if", "c", List.of("y"), good, bad))
                .addOutput(dyn("y", DType.FLOAT32))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Tensor a = Tensor.of(new float[] {1, 5}, 2);
            assertArrayEquals(new float[] {2, 10}, s.run(Map.of("c", bool(true), "a", a)).get("y").toFloatArray());
            var e = assertThrows(HedgeException.class, () -> s.run(Map.of("c", bool(false), "a", a)));
            assertTrue(e.getMessage().contains("Add node 'b'") && e.getMessage().contains("cannot combine"),
                    e.getMessage());
            assertArrayEquals(new float[] {2, 10}, s.run(Map.of("c", bool(true), "a", a)).get("y").toFloatArray());
            assertArrayEquals(new int[] {2}, m.plan(List.of(new int[0], new int[] {2})).outputShape(0),
                    "only the branch that can run decides the output shape");
        }
        Graph bothBad = Graph.builder("main")
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("a", DType.FLOAT32, 2))
                .addNode(ifNode("if", "c", List.of("y"), bad, bad))
                .addOutput(dyn("y", DType.FLOAT32))
                .build();
        try (Model m = model(bothBad); Session s = m.newSession()) {
            var e = assertThrows(HedgeException.class,
                    () -> s.run(Map.of("c", bool(true), "a", Tensor.of(new float[] {1, 5}, 2))));
            assertTrue(e.getMessage().contains("Add node 'b'"), e.getMessage());
        }
    }

    @Test
    void ifBranchesWithDifferentTypesAreRefused() {
        Graph then = Graph.builder("then").initializer("x", Tensor.of(new float[] {1}, 1))
                .addOutput(dyn("x", DType.FLOAT32)).build();
        Graph otherwise = Graph.builder("else").initializer("z", Tensor.of(new long[] {1}, 1))
                .addOutput(dyn("z", DType.INT64)).build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addNode(ifNode("if", "c", List.of("y"), then, otherwise))
                .addOutput(dyn("y", DType.FLOAT32))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            var e = assertThrows(HedgeException.class, () -> s.run(Map.of("c", bool(true))));
            assertTrue(e.getMessage().contains("If node 'if'") && e.getMessage().contains("FLOAT32 in then_branch"),
                    e.getMessage());
        }
    }

    // ---------------------------------------------------------------- Loop

    @Test
    void loopStopsOnItsConditionAndStacksScanOutputs() {
        // acc += i; cond = (i + 1) < 3; scan i
        Graph body = Graph.builder("body")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("c_in", DType.BOOL))
                .addInput(ValueInfo.of("acc_in", DType.INT64, 1))
                .initializer("one", i64(1))
                .initializer("three", i64(3))
                .addNode(node("next", Op.Add, List.of("i", "one"), List.of("i1")))
                .addNode(node("cmp", Op.Less, List.of("i1", "three"), List.of("c_out")))
                .addNode(node("acc", Op.Add, List.of("acc_in", "i"), List.of("acc_out")))
                .addNode(node("scan", Op.Identity, List.of("i"), List.of("i_scan")))
                .addOutput(dyn("c_out", DType.BOOL))
                .addOutput(dyn("acc_out", DType.INT64))
                .addOutput(dyn("i_scan", DType.INT64))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("M", DType.INT64))
                .addInput(ValueInfo.of("cond", DType.BOOL))
                .initializer("acc0", Tensor.of(new long[] {100}, 1))
                .addNode(loopNode("loop", List.of("M", "cond", "acc0"), List.of("acc", "is"), body))
                .addOutput(dyn("acc", DType.INT64))
                .addOutput(dyn("is", DType.INT64))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            for (int rep = 0; rep < 2; rep++) {
                Map<String, Tensor> r = s.run(Map.of("M", i64(1000), "cond", bool(true)));
                assertArrayEquals(new long[] {103}, r.get("acc").toLongArray());
                assertArrayEquals(new int[] {3}, r.get("is").shape());
                assertArrayEquals(new long[] {0, 1, 2}, r.get("is").toLongArray());
                // M bounds it first
                r = s.run(Map.of("M", i64(2), "cond", bool(true)));
                assertArrayEquals(new long[] {101}, r.get("acc").toLongArray());
                assertArrayEquals(new long[] {0, 1}, r.get("is").toLongArray());
                // false from the start: no iteration, the initial value, an empty scan
                r = s.run(Map.of("M", i64(5), "cond", bool(false)));
                assertArrayEquals(new long[] {100}, r.get("acc").toLongArray());
                assertArrayEquals(new int[] {0}, r.get("is").shape());
            }
            Plan p = m.plan(List.of(new int[0], new int[0]));
            assertArrayEquals(new int[] {1}, p.outputShape(0), "carried shape does not change: static");
            assertNull(p.outputShape(1), "scan outputs depend on the trip count");
        }
    }

    @Test
    void nestedIfInsideLoopReadsValuesFromTwoLevelsUp() {
        // x = a * a (computed at run time in main), k = 10 (a constant of main); the If inside the body reads
        // both, and the body's carried value s: s += (i < 2 ? x : k), scanning each new s
        Graph then = Graph.builder("then")
                .addNode(node("tx", Op.Add, List.of("s_in", "x"), List.of("then_out")))
                .addOutput(dyn("then_out", DType.FLOAT32))
                .build();
        Graph otherwise = Graph.builder("else")
                .addNode(node("ek", Op.Add, List.of("s_in", "k"), List.of("else_out")))
                .addOutput(dyn("else_out", DType.FLOAT32))
                .build();
        Graph body = Graph.builder("body")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("s_in", DType.FLOAT32, 2))
                .initializer("two", i64(2))
                .addNode(node("lt", Op.Less, List.of("i", "two"), List.of("early")))
                .addNode(ifNode("pick", "early", List.of("s_new"), then, otherwise))
                .addNode(node("copy", Op.Identity, List.of("s_new"), List.of("s_scan")))
                .addOutput(dyn("c", DType.BOOL))
                .addOutput(dyn("s_new", DType.FLOAT32))
                .addOutput(dyn("s_scan", DType.FLOAT32))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("a", DType.FLOAT32, 2))
                .addInput(ValueInfo.of("M", DType.INT64))
                .initializer("k", Tensor.of(new float[] {10}, 1))
                .initializer("s0", Tensor.of(new float[] {0, 0}, 2))
                .addNode(node("sq", Op.Mul, List.of("a", "a"), List.of("x")))
                .addNode(loopNode("loop", List.of("M", "", "s0"), List.of("s", "trace"), body))
                .addOutput(dyn("s", DType.FLOAT32))
                .addOutput(dyn("trace", DType.FLOAT32))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Map<String, Tensor> r = s.run(Map.of("a", Tensor.of(new float[] {1, 2}, 2), "M", i64(4)));
            assertArrayEquals(new float[] {22, 28}, r.get("s").toFloatArray());
            assertArrayEquals(new int[] {4, 2}, r.get("trace").shape());
            assertArrayEquals(new float[] {1, 4, 2, 8, 12, 18, 22, 28}, r.get("trace").toFloatArray());
            // a new value of the outer input is seen by the inner branch
            r = s.run(Map.of("a", Tensor.of(new float[] {3, 0}, 2), "M", i64(3)));
            assertArrayEquals(new float[] {28, 10}, r.get("s").toFloatArray());
        }
    }

    @Test
    void carriedValuesThatSwapDoNotClobberEachOther() {
        Graph body = Graph.builder("body")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("p", DType.FLOAT32, 2))
                .addInput(ValueInfo.of("q", DType.FLOAT32, 2))
                .addNode(node("scan", Op.Identity, List.of("p"), List.of("p_seen")))
                .addOutput(dyn("c", DType.BOOL))
                .addOutput(dyn("q", DType.FLOAT32))
                .addOutput(dyn("p", DType.FLOAT32))
                .addOutput(dyn("p_seen", DType.FLOAT32))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("M", DType.INT64))
                .addInput(ValueInfo.of("p0", DType.FLOAT32, 2))
                .addInput(ValueInfo.of("q0", DType.FLOAT32, 2))
                .addNode(loopNode("loop", List.of("M", "", "p0", "q0"), List.of("pf", "qf", "ps"), body))
                .addOutput(dyn("pf", DType.FLOAT32))
                .addOutput(dyn("qf", DType.FLOAT32))
                .addOutput(dyn("ps", DType.FLOAT32))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Map<String, Tensor> r = s.run(Map.of("M", i64(3), "p0", Tensor.of(new float[] {1, 2}, 2),
                    "q0", Tensor.of(new float[] {3, 4}, 2)));
            assertArrayEquals(new float[] {3, 4}, r.get("pf").toFloatArray());
            assertArrayEquals(new float[] {1, 2}, r.get("qf").toFloatArray());
            assertArrayEquals(new float[] {1, 2, 3, 4, 1, 2}, r.get("ps").toFloatArray());
        }
    }

    @Test
    void aCarriedValueThatGrowsGivesADynamicOutput() {
        Graph body = Graph.builder("body")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(new ValueInfo("v", DType.FLOAT32, null))
                .initializer("seven", Tensor.of(new float[] {7}, 1))
                .addNode(new Node("grow", Op.Concat, List.of("v", "seven"), List.of("v_out"),
                        Map.of("axis", new Attr.Int(0))))
                .addOutput(dyn("c", DType.BOOL))
                .addOutput(dyn("v_out", DType.FLOAT32))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("M", DType.INT64))
                .initializer("v0", Tensor.of(new float[] {1}, 1))
                .addNode(loopNode("loop", List.of("M", "", "v0"), List.of("v"), body))
                .addOutput(dyn("v", DType.FLOAT32))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            assertArrayEquals(new float[] {1, 7, 7, 7}, s.run(Map.of("M", i64(3))).get("v").toFloatArray());
            assertArrayEquals(new float[] {1, 7}, s.run(Map.of("M", i64(1))).get("v").toFloatArray());
            assertNull(m.plan(List.of(new int[0])).outputShape(0));
        }
    }

    @Test
    void nestedLoopsKeepTheirOwnState() {
        // total += sum_{j < i + 1} j, for i < 3  → 0 + 1 + 3 = 4; scan the inner sums
        Graph inner = Graph.builder("inner")
                .addInput(ValueInfo.of("j", DType.INT64))
                .addInput(ValueInfo.of("cj", DType.BOOL))
                .addInput(ValueInfo.of("sum_in", DType.INT64, 1))
                .addNode(node("add", Op.Add, List.of("sum_in", "j"), List.of("sum_out")))
                .addOutput(dyn("cj", DType.BOOL))
                .addOutput(dyn("sum_out", DType.INT64))
                .build();
        Graph outer = Graph.builder("outer")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("ci", DType.BOOL))
                .addInput(ValueInfo.of("total_in", DType.INT64, 1))
                .initializer("one", i64(1))
                .addNode(node("n", Op.Add, List.of("i", "one"), List.of("n_in")))
                .addNode(loopNode("innerLoop", List.of("n_in", "", "zero"), List.of("inner_sum"), inner))
                .addNode(node("tot", Op.Add, List.of("total_in", "inner_sum"), List.of("total_out")))
                .addNode(node("keep", Op.Identity, List.of("inner_sum"), List.of("sums")))
                .addOutput(dyn("ci", DType.BOOL))
                .addOutput(dyn("total_out", DType.INT64))
                .addOutput(dyn("sums", DType.INT64))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("M", DType.INT64))
                .initializer("zero", Tensor.of(new long[] {0}, 1))
                .addNode(loopNode("outerLoop", List.of("M", "", "zero"), List.of("total", "sums"), outer))
                .addOutput(dyn("total", DType.INT64))
                .addOutput(dyn("sums", DType.INT64))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            Map<String, Tensor> r = s.run(Map.of("M", i64(3)));
            assertArrayEquals(new long[] {4}, r.get("total").toLongArray());
            assertArrayEquals(new long[] {0, 1, 3}, r.get("sums").toLongArray());
            assertArrayEquals(new long[] {10}, s.run(Map.of("M", i64(4))).get("total").toLongArray());
        }
    }

    @Test
    void loopsThatCannotEndAreRefused() {
        Graph body = Graph.builder("body")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("v", DType.FLOAT32, 1))
                .addNode(node("id", Op.Identity, List.of("v"), List.of("v_out")))
                .addOutput(dyn("c", DType.BOOL))
                .addOutput(dyn("v_out", DType.FLOAT32))
                .build();
        Graph neither = Graph.builder("main")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1))
                .addNode(loopNode("forever", List.of("", "", "x"), List.of("y"), body))
                .addOutput(dyn("y", DType.FLOAT32))
                .build();
        try (Model m = model(neither); Session s = m.newSession()) {
            var e = assertThrows(UnsupportedModelException.class,
                    () -> s.run(Map.of("x", Tensor.of(new float[] {1}, 1))));
            assertTrue(e.getMessage().contains("Loop node 'forever'") && e.getMessage().contains("never ends"),
                    e.getMessage());
        }
        Graph whileTrue = Graph.builder("main")
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1))
                .addNode(loopNode("spin", List.of("", "c", "x"), List.of("y"), body))
                .addOutput(dyn("y", DType.FLOAT32))
                .build();
        try (Model m = model(whileTrue); Session s = m.newSession()) {
            Tensor x = Tensor.of(new float[] {5}, 1);
            assertArrayEquals(new float[] {5}, s.run(Map.of("c", bool(false), "x", x)).get("y").toFloatArray());
            var e = assertThrows(HedgeException.class, () -> s.run(Map.of("c", bool(true), "x", x)));
            assertTrue(e.getMessage().contains("Loop node 'spin'") && e.getMessage().contains("would never end"),
                    e.getMessage());
        }
    }

    @Test
    void iterationsAllocateNothing() {
        // acc = i < 5 ? acc * 0.5 : acc, through an If, scanning acc
        Graph halve = Graph.builder("halve")
                .addNode(node("mul", Op.Mul, List.of("acc_in", "half"), List.of("halved")))
                .addOutput(dyn("halved", DType.FLOAT32))
                .build();
        Graph keep = Graph.builder("keep")
                .addNode(node("same", Op.Identity, List.of("acc_in"), List.of("kept")))
                .addOutput(dyn("kept", DType.FLOAT32))
                .build();
        Graph body = Graph.builder("body")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("acc_in", DType.FLOAT32, 4))
                .initializer("half", Tensor.of(new float[] {0.5f}, 1))
                .initializer("five", i64(5))
                .addNode(node("early", Op.Less, List.of("i", "five"), List.of("lt")))
                .addNode(ifNode("pick", "lt", List.of("acc_out"), halve, keep))
                .addNode(node("scan", Op.Identity, List.of("acc_out"), List.of("acc_scan")))
                .addOutput(dyn("c", DType.BOOL))
                .addOutput(dyn("acc_out", DType.FLOAT32))
                .addOutput(dyn("acc_scan", DType.FLOAT32))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("M", DType.INT64))
                .addInput(ValueInfo.of("a", DType.FLOAT32, 4))
                .addNode(loopNode("loop", List.of("M", "", "a"), List.of("acc", "scan"), body))
                .addOutput(dyn("acc", DType.FLOAT32))
                .addOutput(dyn("scan", DType.FLOAT32))
                .build();
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 4);
        try (Model m = model(g); Session s = m.newSession()) {
            Map<String, Tensor> few = Map.of("M", i64(10), "a", a);
            Map<String, Tensor> many = Map.of("M", i64(2000), "a", a);
            for (int i = 0; i < 5; i++) {
                s.run(few);
                s.run(many);
            }
            long t0 = mx.getCurrentThreadAllocatedBytes();
            s.run(few);
            long t1 = mx.getCurrentThreadAllocatedBytes();
            Tensor scan = s.run(many).get("scan");
            long t2 = mx.getCurrentThreadAllocatedBytes();
            assertArrayEquals(new int[] {2000, 4}, scan.shape());
            assertEquals(0.5f, scan.getFloat(0));
            assertEquals(1f / 32, scan.getFloat(1999 * 4));
            long extra = (t2 - t1) - (t1 - t0);
            assertTrue(extra < 512, "1990 more iterations allocated " + extra + " more bytes");
        }
    }

    @Test
    void loopOutputsAreValidatedAgainstTheBody() {
        Graph body = Graph.builder("body")
                .addInput(ValueInfo.of("i", DType.INT64))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addInput(ValueInfo.of("v", DType.FLOAT32, 1))
                .addOutput(dyn("c", DType.BOOL))
                .addOutput(dyn("i", DType.INT64))
                .build();
        Graph g = Graph.builder("main")
                .addInput(ValueInfo.of("M", DType.INT64))
                .initializer("v0", Tensor.of(new float[] {1}, 1))
                .addNode(loopNode("loop", List.of("M", "", "v0"), List.of("v"), body))
                .addOutput(dyn("v", DType.FLOAT32))
                .build();
        try (Model m = model(g); Session s = m.newSession()) {
            var e = assertThrows(HedgeException.class, () -> s.run(Map.of("M", i64(1))));
            assertTrue(e.getMessage().contains("enters the body as FLOAT32 and leaves it as INT64"), e.getMessage());
        }
    }
}
