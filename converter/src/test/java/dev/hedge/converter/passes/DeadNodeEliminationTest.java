package dev.hedge.converter.passes;

import static dev.hedge.converter.passes.TestGraphs.node;
import static dev.hedge.converter.passes.TestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DeadNodeEliminationTest {

    private final DeadNodeElimination pass = new DeadNodeElimination();

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void removesUnreadNodesAndInitializers(Kernels k) {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .addInput(ValueInfo.of("unused", DType.FLOAT32, 1))
                .initializer("w", random(1, 3, 4)).initializer("dead", random(2, 3, 4))
                .initializer("orphan", random(3, 7))
                .addNode(node("mm", Op.MatMul, "x,w->y"))
                .addNode(node("mm2", Op.MatMul, "x,dead->z"))
                .addNode(node("relu", Op.Relu, "z->zz"))
                .addNode(node("d", Op.Dropout, "y->y2,mask"))
                .valueInfo(ValueInfo.of("zz", DType.FLOAT32, 2, 4))
                .valueInfo(ValueInfo.of("y", DType.FLOAT32, 2, 4))
                .addOutput(ValueInfo.of("y2", DType.FLOAT32, 2, 4)).build();
        GraphPass.Result r = pass.run(g);
        assertEquals(Map.of("nodes", 2, "unused outputs", 1, "initializers", 2), r.changes());
        Graph f = r.graph();
        assertEquals(List.of("mm", "d"), f.nodes().stream().map(Node::name).toList());
        assertEquals(List.of("y2"), f.nodes().get(1).outputs());
        assertEquals(List.of("w"), List.copyOf(f.initializers().keySet()));
        assertEquals(List.of("x", "unused"), f.inputNames());
        assertFalse(f.valueInfos().containsKey("zz"));
        assertTrue(f.valueInfos().containsKey("y"));
        k.assertSameOutputs(g, f);
    }

    @Test
    void valuesReadBySubgraphsAreLiveAndSubgraphsAreCleanedToo() {
        Graph then = Graph.builder("then").initializer("junk", random(1, 2))
                .addNode(node("n", Op.Neg, "k->ty")).addNode(node("waste", Op.Relu, "k->w"))
                .addOutput(new ValueInfo("ty", null, null)).build();
        Graph other = Graph.builder("else").addNode(node("i", Op.Relu, "x->ey"))
                .addOutput(new ValueInfo("ey", null, null)).build();
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addNode(node("k", Op.Relu, "x->k"))
                .addNode(node("if", Op.If, "c->y", "then_branch", then, "else_branch", other))
                .addOutput(new ValueInfo("y", null, null)).build();
        GraphPass.Result r = pass.run(g);
        assertEquals(Map.of("nodes", 1, "initializers", 1), r.changes());
        assertEquals(2, r.graph().nodes().size());
        Graph t = TestGraphs.only(r.graph(), Op.If).graphAttr("then_branch");
        assertEquals(1, t.nodes().size());
        assertTrue(t.initializers().isEmpty());
    }

    @Test
    void keepsTheOutputCountOfSplitIfAndLoop() {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 4))
                .addNode(node("s", Op.Split, "x->a,b,c"))
                .addOutput(new ValueInfo("a", null, null)).build();
        GraphPass.Result r = pass.run(g);
        assertTrue(r.changes().isEmpty());
        assertSame(g, r.graph());
    }
}
