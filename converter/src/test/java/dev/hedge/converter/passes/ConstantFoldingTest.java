package dev.hedge.converter.passes;

import static dev.hedge.converter.passes.TestGraphs.count;
import static dev.hedge.converter.passes.TestGraphs.node;
import static dev.hedge.converter.passes.TestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ConstantFoldingTest {

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void foldsChainsOfConstantNodes(Kernels k) {
        Tensor w = random(1, 4, 3);
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .initializer("w", w).initializer("bias", random(2, 4))
                .addNode(node("t", Op.Transpose, "w->wt"))
                .addNode(node("neg", Op.Neg, "wt->nw"))
                .addNode(node("mm", Op.MatMul, "x,nw->m"))
                .addNode(node("add", Op.Add, "m,bias->y"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2, 4)).build();
        ConstantFolding pass = new ConstantFolding(k.options(g));
        GraphPass.Result r = pass.run(g);
        assertEquals(Map.of("Transpose", 1, "Neg", 1), r.changes());
        Graph f = r.graph();
        assertEquals(List.of(Op.MatMul, Op.Add), f.nodes().stream().map(n -> n.op()).toList());
        Tensor nw = f.initializers().get("nw");
        assertArrayEquals(new int[] {3, 4}, nw.shape());
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(-w.getFloat(i * 3 + j), nw.getFloat(j * 4 + i));
            }
        }
        k.assertSameOutputs(g, f);
    }

    @Test
    void foldsShapeOfStaticValuesAndKeepsDynamicOnes() {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 6))
                .addInput(new ValueInfo("d", DType.FLOAT32, List.of(dev.hedge.ir.Dim.dynamic("n"),
                        dev.hedge.ir.Dim.of(2))))
                .initializer("flat", Tensor.of(new long[] {-1}, 1))
                .addNode(node("s", Op.Shape, "x->sx"))
                .addNode(node("r1", Op.Reshape, "x,flat->f"))
                .addNode(node("r2", Op.Reshape, "f,sx->y"))
                .addNode(node("sd", Op.Shape, "d->yd"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2, 6))
                .addOutput(ValueInfo.of("yd", DType.INT64, 2)).build();
        GraphPass.Result r = new ConstantFolding().run(g);
        assertEquals(Map.of("Shape", 1), r.changes());
        assertArrayEquals(new long[] {2, 6}, r.graph().initializers().get("sx").toLongArray());
        assertEquals(1, count(r.graph(), Op.Shape));
    }

    @Test
    void shapeFoldingFollowsStartAndEnd() {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3, 4, 5))
                .addNode(node("s1", Op.Shape, "x->a", "start", 1L, "end", -1L))
                .addNode(node("s2", Op.Shape, "x->b", "start", -10L))
                .addNode(node("s3", Op.Shape, "x->c", "start", 3L, "end", 1L))
                .addNode(node("sz", Op.Size, "x->d"))
                .addOutput(new ValueInfo("a", null, null)).addOutput(new ValueInfo("b", null, null))
                .addOutput(new ValueInfo("c", null, null)).addOutput(new ValueInfo("d", null, null)).build();
        Graph f = new ConstantFolding().apply(g);
        assertEquals(0, f.nodes().size());
        assertArrayEquals(new long[] {3, 4}, f.initializers().get("a").toLongArray());
        assertArrayEquals(new long[] {2, 3, 4, 5}, f.initializers().get("b").toLongArray());
        assertEquals(0, f.initializers().get("c").elementCount());
        assertEquals(120, f.initializers().get("d").getLong(0));
        assertEquals(0, f.initializers().get("d").rank());
    }

    @Test
    void skipsResultsThatWouldBloatTheModel() {
        Graph g = Graph.builder("g")
                .initializer("big", Tensor.of(new long[] {1024, 1024, 8}, 3))
                .initializer("grow", Tensor.of(new long[] {600, 1000}, 2))
                .initializer("small", Tensor.of(new long[] {10, 10}, 2))
                .addNode(node("c1", Op.ConstantOfShape, "big->y1"))
                .addNode(node("c2", Op.ConstantOfShape, "grow->y2"))
                .addNode(node("c3", Op.ConstantOfShape, "small->y3"))
                .addOutput(new ValueInfo("y1", null, null)).addOutput(new ValueInfo("y2", null, null))
                .addOutput(new ValueInfo("y3", null, null)).build();
        GraphPass.Result r = new ConstantFolding(Kernels.SCALAR_REFERENCE.options()).run(g);
        assertEquals(Map.of("ConstantOfShape", 1), r.changes());
        assertEquals(List.of("c1", "c2"), r.graph().nodes().stream().map(n -> n.name()).toList());
        assertEquals(100, r.graph().initializers().get("y3").elementCount());
    }

    @Test
    void leavesControlFlowDequantizeAndUnrunnableNodes() {
        Graph then = Graph.builder("then").addNode(node("n", Op.Neg, "w->ty"))
                .addOutput(new ValueInfo("ty", null, null)).build();
        Graph other = Graph.builder("else").addNode(node("r", Op.Relu, "x->ey"))
                .addOutput(new ValueInfo("ey", null, null)).build();
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2))
                .initializer("w", random(1, 2)).initializer("cond", Tensor.of(new boolean[] {true}))
                .initializer("q", Tensor.ofBytes(DType.INT8, new byte[] {1, 2}, 2))
                .initializer("scale", Tensor.scalar(0.5f).reshape())
                .initializer("bad", Tensor.of(new long[] {2, 3}, 2))
                .addNode(node("if", Op.If, "cond->y1", "then_branch", then, "else_branch", other))
                .addNode(node("dq", Op.DequantizeLinear, "q,scale->y2"))
                .addNode(node("rs", Op.Reshape, "w,bad->y3"))
                .addNode(node("drop", Op.Dropout, "w->y4"))
                .addOutput(new ValueInfo("y1", null, null)).addOutput(new ValueInfo("y2", null, null))
                .addOutput(new ValueInfo("y3", null, null)).addOutput(new ValueInfo("y4", null, null)).build();
        GraphPass.Result r = new ConstantFolding(Kernels.SCALAR_REFERENCE.options()).run(g);
        // only the Neg inside the If reads constants alone (w, from the enclosing graph)
        assertEquals(Map.of("Neg", 1), r.changes());
        assertEquals(4, r.graph().nodes().size());
        Graph newThen = TestGraphs.only(r.graph(), Op.If).graphAttr("then_branch");
        assertEquals(0, newThen.nodes().size());
        Tensor ty = newThen.initializers().get("ty");
        assertEquals(-g.initializers().get("w").getFloat(1), ty.getFloat(1));
    }

    @Test
    void inputsWithDefaultValuesAreNotConstants() {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2))
                .initializer("x", random(1, 2))
                .addNode(node("n", Op.Neg, "x->y")).addOutput(new ValueInfo("y", null, null)).build();
        GraphPass.Result r = new ConstantFolding(Kernels.SCALAR_REFERENCE.options()).run(g);
        assertTrue(r.changes().isEmpty());
        assertSame(g, r.graph());
    }
}
