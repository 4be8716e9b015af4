package dev.hedge.converter.passes;

import static dev.hedge.converter.passes.TestGraphs.count;
import static dev.hedge.converter.passes.TestGraphs.node;
import static dev.hedge.converter.passes.TestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

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

class IdentityEliminationTest {

    private final IdentityElimination pass = new IdentityElimination();

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void removesIdentitiesAndInferenceDropoutsKeepingOutputNames(Kernels k) {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .initializer("c", random(1, 2, 3)).initializer("off", Tensor.of(new boolean[] {false}))
                .addNode(node("r", Op.Relu, "x->a"))
                .addNode(node("i1", Op.Identity, "a->b"))
                .addNode(node("d1", Op.Dropout, "b->d"))
                .addNode(node("d2", Op.Dropout, "d,,off->e,unusedMask"))
                .addNode(node("add", Op.Add, "e,c->s"))
                .addNode(node("mul", Op.Mul, "b,s->p"))
                .addNode(node("i2", Op.Identity, "p->y"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2, 3)).build();
        GraphPass.Result r = pass.run(g);
        assertEquals(Map.of("Identity", 2, "Dropout", 2), r.changes());
        Graph f = r.graph();
        assertEquals(List.of(Op.Relu, Op.Add, Op.Mul), f.nodes().stream().map(n -> n.op()).toList());
        assertEquals(List.of("y"), f.outputNames());
        assertEquals("y", f.nodes().get(2).output(0), "the Mul now writes the graph output itself");
        assertEquals(List.of("a", "y"), List.of(f.nodes().get(2).input(0), f.nodes().get(2).output(0)));
        k.assertSameOutputs(g, f);
    }

    @Test
    void keepsWhatItMustKeep() {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .addInput(ValueInfo.of("train", DType.BOOL))
                .initializer("w", random(1, 2, 3)).initializer("on", Tensor.of(new boolean[] {true}))
                // input straight to output, and initializer straight to output
                .addNode(node("i1", Op.Identity, "x->y1"))
                .addNode(node("i2", Op.Identity, "w->y2"))
                // an output copied to another output
                .addNode(node("r", Op.Relu, "x->y3"))
                .addNode(node("i3", Op.Identity, "y3->y4"))
                // training mode on, or unknown, or the mask is used
                .addNode(node("d1", Op.Dropout, "x,,on->y5"))
                .addNode(node("d2", Op.Dropout, "x,,train->y6"))
                .addNode(node("d3", Op.Dropout, "x->y7,mask"))
                .addNode(node("n", Op.Not, "mask->y8"))
                .build();
        Graph.Builder b = g.toBuilder();
        for (int i = 1; i <= 8; i++) {
            b.addOutput(new ValueInfo("y" + i, null, null));
        }
        g = b.build();
        GraphPass.Result r = pass.run(g);
        assertEquals(Map.of(), r.changes());
        assertSame(g, r.graph());
    }

    @Test
    void rewiresReadersInsideSubgraphs() {
        Graph then = Graph.builder("then").addNode(node("n", Op.Neg, "b->ty"))
                .addOutput(new ValueInfo("ty", null, null)).build();
        Graph other = Graph.builder("else").addNode(node("i", Op.Identity, "x->ey"))
                .addOutput(new ValueInfo("ey", null, null)).build();
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addNode(node("r", Op.Relu, "x->a"))
                .addNode(node("id", Op.Identity, "a->b"))
                .addNode(node("if", Op.If, "c->y", "then_branch", then, "else_branch", other))
                .addOutput(new ValueInfo("y", null, null)).build();
        Graph f = pass.apply(g);
        assertEquals(0, count(f, Op.Identity));
        Graph newThen = TestGraphs.only(f, Op.If).graphAttr("then_branch");
        assertEquals("a", newThen.nodes().get(0).input(0));
        // else: x straight to the subgraph output, an outer value; kept
        assertEquals(1, TestGraphs.only(f, Op.If).graphAttr("else_branch").nodes().size());
    }
}
