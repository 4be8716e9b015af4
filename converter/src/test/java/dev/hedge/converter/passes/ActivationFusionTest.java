package dev.hedge.converter.passes;

import static dev.hedge.converter.passes.TestGraphs.count;
import static dev.hedge.converter.passes.TestGraphs.node;
import static dev.hedge.converter.passes.TestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ActivationFusionTest {

    private final ActivationFusion pass = new ActivationFusion();

    /** A chain x -> Conv -> act1 -> ConvTranspose -> act2 -> Gemm ... covering every producer and activation. */
    private static Graph chain() {
        return Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 5, 5))
                .initializer("w1", random(1, 3, 2, 3, 3)).initializer("b1", random(2, 3))
                .initializer("w2", random(3, 3, 2, 2, 2))
                .initializer("w3", random(4, 2, 2, 1, 1))
                .initializer("shape", Tensor.of(new long[] {1, -1}, 2))
                .initializer("w4", random(5, 72, 6)).initializer("c4", random(6, 6))
                .initializer("w5", random(7, 6, 4)).initializer("w6", random(8, 4, 3))
                .initializer("w7", random(9, 3, 3))
                .initializer("lo", Tensor.scalar(-0.25f).reshape()).initializer("hi", Tensor.scalar(0.3f).reshape())
                .addNode(node("conv", Op.Conv, "x,w1,b1->t1", "pads", new long[] {1, 1, 1, 1}))
                .addNode(node("relu", Op.Relu, "t1->a1"))
                .addNode(node("convT", Op.ConvTranspose, "a1,w2->t2", "strides", new long[] {1, 1}))
                .addNode(node("hsig", Op.HardSigmoid, "t2->a2", "alpha", 0.3f, "beta", 0.4f))
                .addNode(node("conv2", Op.Conv, "a2,w3->t3"))
                .addNode(node("leaky", Op.LeakyRelu, "t3->a3", "alpha", 0.2f))
                .addNode(node("flat", Op.Reshape, "a3,shape->f"))
                .addNode(node("gemm", Op.Gemm, "f,w4,c4->t4", "alpha", 0.5f))
                .addNode(node("clip", Op.Clip, "t4,lo,hi->a4"))
                .addNode(node("mm", Op.MatMul, "a4,w5->t5"))
                .addNode(node("sig", Op.Sigmoid, "t5->a5"))
                .addNode(node("mm2", Op.MatMul, "a5,w6->t6"))
                .addNode(node("hswish", Op.HardSwish, "t6->a6"))
                .addNode(node("gemm2", Op.Gemm, "a6,w7->t7"))
                .addNode(node("tanh", Op.Tanh, "t7->y"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 3)).build();
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void fusesEveryActivationIntoEveryProducer(Kernels k) {
        Graph g = chain();
        GraphPass.Result r = pass.run(g);
        Map<String, Integer> expected = new LinkedHashMap<>();
        expected.put("Relu into Conv", 1);
        expected.put("HardSigmoid into ConvTranspose", 1);
        expected.put("LeakyRelu into Conv", 1);
        expected.put("Clip into Gemm", 1);
        expected.put("Sigmoid into MatMul", 1);
        expected.put("HardSwish into MatMul", 1);
        expected.put("Tanh into Gemm", 1);
        assertEquals(expected, r.changes());
        Graph f = r.graph();
        assertEquals(8, f.nodes().size(), TestGraphs.ops(f));
        Node convT = f.nodes().get(1);
        assertEquals("HardSigmoid", convT.stringAttr("fused_activation"));
        assertEquals(0.3f, convT.floatAttr("fused_alpha"));
        assertEquals(0.4f, convT.floatAttr("fused_beta"));
        Node gemm = f.nodes().get(4);
        assertEquals("Clip", gemm.stringAttr("fused_activation"));
        assertEquals(-0.25f, gemm.floatAttr("fused_alpha"));
        assertEquals(0.3f, gemm.floatAttr("fused_beta"));
        assertEquals(0.2f, f.nodes().get(2).floatAttr("fused_alpha"));
        assertEquals("y", f.nodes().get(7).output(0));
        k.assertSameOutputs(g, f);
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void clipWithoutBoundsIsUnbounded(Kernels k) {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .initializer("w", random(1, 3, 4)).initializer("hi", Tensor.scalar(0.1f).reshape())
                .addNode(node("mm", Op.MatMul, "x,w->t"))
                .addNode(node("clip", Op.Clip, "t,,hi->y"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2, 4)).build();
        Graph f = pass.apply(g);
        assertEquals(1, f.nodes().size());
        assertEquals(Float.NEGATIVE_INFINITY, f.nodes().get(0).floatAttr("fused_alpha"));
        k.assertSameOutputs(g, f);
    }

    @Test
    void leavesActivationsItMustNotFuse() {
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .addInput(ValueInfo.of("lo", DType.FLOAT32))
                .addInput(ValueInfo.of("i", DType.INT32, 2, 3))
                .initializer("w", random(1, 3, 3))
                .initializer("wi", Tensor.of(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3))
                .initializer("lo64", Tensor.of(new double[] {0}))
                // producer output read twice
                .addNode(node("m1", Op.MatMul, "x,w->t1")).addNode(node("r1", Op.Relu, "t1->y1"))
                .addNode(node("n1", Op.Neg, "t1->y2"))
                // Clip bound not constant / not float32
                .addNode(node("m2", Op.MatMul, "x,w->t2")).addNode(node("c2", Op.Clip, "t2,lo->y3"))
                .addNode(node("m3", Op.MatMul, "x,w->t3")).addNode(node("c3", Op.Clip, "t3,lo64->y4"))
                // producer output is a graph output
                .addNode(node("m4", Op.MatMul, "x,w->y5")).addNode(node("r4", Op.Relu, "y5->y6"))
                // already fused
                .addNode(node("m5", Op.MatMul, "x,w->t5", "fused_activation", "Tanh"))
                .addNode(node("r5", Op.Relu, "t5->y7"))
                // integer producer
                .addNode(node("m6", Op.MatMul, "i,wi->t6")).addNode(node("r6", Op.Relu, "t6->y8"))
                // not an activation Hedge fuses
                .addNode(node("m7", Op.MatMul, "x,w->t7")).addNode(node("e7", Op.Elu, "t7->y9"))
                .build();
        Graph.Builder b = g.toBuilder();
        for (String o : new String[] {"y1", "y2", "y3", "y4", "y5", "y6", "y7", "y8", "y9"}) {
            b.addOutput(new ValueInfo(o, null, null));
        }
        g = b.build();
        GraphPass.Result r = pass.run(g);
        assertTrue(r.changes().isEmpty(), r.changes().toString());
        assertSame(g, r.graph());
    }

    @Test
    void fusesInsideSubgraphsKnowingOuterTypes() {
        Graph body = Graph.builder("then").initializer("w", random(1, 3, 3))
                .addNode(node("mm", Op.MatMul, "x,w->t")).addNode(node("relu", Op.Relu, "t->ty"))
                .addOutput(new ValueInfo("ty", null, null)).build();
        Graph other = Graph.builder("else").addNode(node("n", Op.Neg, "x->ey"))
                .addOutput(new ValueInfo("ey", null, null)).build();
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 3))
                .addInput(ValueInfo.of("c", DType.BOOL))
                .addNode(node("if", Op.If, "c->y", "then_branch", body, "else_branch", other))
                .addOutput(new ValueInfo("y", null, null)).build();
        Graph f = pass.apply(g);
        Graph then = TestGraphs.only(f, Op.If).graphAttr("then_branch");
        assertEquals(0, count(then, Op.Relu));
        assertEquals("Relu", then.nodes().get(0).stringAttr("fused_activation"));
        assertEquals("ty", then.nodes().get(0).output(0));
    }
}
