package dev.hedge.converter.passes;

import static dev.hedge.converter.passes.TestGraphs.count;
import static dev.hedge.converter.passes.TestGraphs.node;
import static dev.hedge.converter.passes.TestGraphs.only;
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
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BatchNormFoldingTest {

    private final BatchNormFolding pass = new BatchNormFolding();

    /** BatchNormalization parameters for {@code c} channels, named with {@code p}. */
    private static Graph.Builder bnParams(Graph.Builder b, String p, int c, long seed) {
        return b.initializer(p + "scale", random(seed, 0.5f, 2f, c)).initializer(p + "bias", random(seed + 1, c))
                .initializer(p + "mean", random(seed + 2, c)).initializer(p + "var", random(seed + 3, 0.1f, 3f, c));
    }

    private static Node bn(String name, String in, String p, String out) {
        String params = p + "scale," + p + "bias," + p + "mean," + p + "var";
        return node(name, Op.BatchNormalization, in + "," + params + "->" + out, "epsilon", 1e-3f);
    }

    private Graph foldedOnce(Graph g, Map<String, Integer> expected) {
        GraphPass.Result r = pass.run(g);
        assertEquals(expected, r.changes());
        return r.graph();
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void foldsIntoConvWithAndWithoutBias(Kernels k) {
        Graph.Builder b = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 4, 7, 7))
                .initializer("w1", random(10, 6, 4, 3, 3)).initializer("b1", random(11, 6))
                .initializer("w2", random(12, 4, 3, 3, 3))
                .addNode(node("c1", Op.Conv, "x,w1,b1->t1", "pads", new long[] {1, 1, 1, 1}))
                .addNode(bn("bn1", "t1", "a", "u"))
                .addNode(node("c2", Op.Conv, "u,w2->t2", "group", 2L, "strides", new long[] {2, 2},
                        "dilations", new long[] {2, 1}))
                .addNode(bn("bn2", "t2", "b", "y"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 4, 2, 3));
        bnParams(b, "a", 6, 20);
        bnParams(b, "b", 4, 30);
        Graph g = b.build();
        Graph f = foldedOnce(g, Map.of("Conv", 2));
        assertEquals(0, count(f, Op.BatchNormalization));
        assertEquals(2, count(f, Op.Conv));
        assertEquals(3, f.nodes().get(1).inputs().size(), "the bias-less Conv gets a bias");
        k.assertSameOutputs(g, f);
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void foldsIntoGroupedConvTranspose(Kernels k) {
        Graph.Builder b = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 2, 4, 3, 3))
                .initializer("w", random(40, 4, 3, 2, 2)).initializer("bias", random(41, 6))
                .addNode(node("ct", Op.ConvTranspose, "x,w,bias->t", "group", 2L, "strides", new long[] {2, 2}))
                .addNode(bn("bn", "t", "p", "y"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 2, 6, 6, 6));
        Graph g = bnParams(b, "p", 6, 50).build();
        Graph f = foldedOnce(g, Map.of("ConvTranspose", 1));
        assertEquals(1, f.nodes().size());
        k.assertSameOutputs(g, f);
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void foldsIntoGemmRespectingTransBAlphaAndBeta(Kernels k) {
        Graph.Builder b = Graph.builder("g").addInput(ValueInfo.of("a", DType.FLOAT32, 3, 5))
                .initializer("bt", random(60, 4, 5)).initializer("c", random(61, 4)).initializer("b2", random(62, 4, 2))
                .addNode(node("g1", Op.Gemm, "a,bt,c->t1", "transB", 1L, "alpha", 0.7f, "beta", 0.5f))
                .addNode(bn("bn1", "t1", "p", "u"))
                .addNode(node("g2", Op.Gemm, "u,b2->t2"))
                .addNode(bn("bn2", "t2", "q", "y"))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 3, 2));
        bnParams(b, "p", 4, 70);
        Graph g = bnParams(b, "q", 2, 80).build();
        Graph f = foldedOnce(g, Map.of("Gemm", 2));
        assertEquals(2, f.nodes().size());
        Node g1 = f.nodes().get(0);
        assertEquals(1f, g1.floatAttr("beta"));
        assertEquals(0.7f, g1.floatAttr("alpha"));
        assertEquals(1, g1.intAttr("transB"));
        k.assertSameOutputs(g, f);
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void sharedWeightsGetNewNamesAndStayForTheirOtherReaders(Kernels k) {
        Graph.Builder b = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 4, 4))
                .initializer("w", random(90, 2, 2, 1, 1))
                .addNode(node("c1", Op.Conv, "x,w->t1"))
                .addNode(bn("bn", "t1", "p", "y1"))
                .addNode(node("c2", Op.Conv, "x,w->y2"))
                .addOutput(ValueInfo.of("y1", DType.FLOAT32, 1, 2, 4, 4))
                .addOutput(ValueInfo.of("y2", DType.FLOAT32, 1, 2, 4, 4));
        Graph g = bnParams(b, "p", 2, 91).build();
        Graph f = foldedOnce(g, Map.of("Conv", 1));
        assertEquals("w", f.nodes().get(1).input(1));
        assertFalse(f.nodes().get(0).input(1).equals("w"));
        assertSame(g.initializers().get("w"), f.initializers().get("w"));
        k.assertSameOutputs(g, f);
    }

    @Test
    void leavesBatchNormWhenItCannotFold() {
        Graph.Builder b = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 4, 4))
                .addInput(ValueInfo.of("m", DType.FLOAT32, 2))
                .initializer("w", random(1, 2, 2, 1, 1))
                // read twice
                .addNode(node("c1", Op.Conv, "x,w->t1"))
                .addNode(bn("bn1", "t1", "p", "y1"))
                .addNode(node("r", Op.Relu, "t1->y2"))
                // mean is a graph input
                .addNode(node("c2", Op.Conv, "x,w->t2"))
                .addNode(node("bn2", Op.BatchNormalization, "t2,pscale,pbias,m,pvar->y3"))
                // activation already fused
                .addNode(node("c3", Op.Conv, "x,w->t3", "fused_activation", "Relu"))
                .addNode(bn("bn3", "t3", "p", "y4"))
                // producer output is a graph output
                .addNode(node("c4", Op.Conv, "x,w->y5"))
                .addNode(bn("bn4", "y5", "p", "y6"))
                // non-constant weights
                .addNode(node("c5", Op.Conv, "x,y2->t5"))
                .addNode(bn("bn5", "t5", "p", "y7"));
        for (String o : new String[] {"y1", "y2", "y3", "y4", "y5", "y6", "y7"}) {
            b.addOutput(new ValueInfo(o, DType.FLOAT32, null));
        }
        Graph g = bnParams(b, "p", 2, 2).build();
        GraphPass.Result r = pass.run(g);
        assertTrue(r.changes().isEmpty(), r.changes().toString());
        assertSame(g, r.graph());
    }

    @Test
    void foldsInsideSubgraphs() {
        Graph.Builder sub = Graph.builder("then").initializer("w", random(3, 2, 2, 1, 1))
                .addNode(node("c", Op.Conv, "x,w->t")).addNode(bn("bn", "t", "p", "ty"))
                .addOutput(new ValueInfo("ty", DType.FLOAT32, null));
        Graph then = bnParams(sub, "p", 2, 4).build();
        Graph other = Graph.builder("else").addNode(node("n", Op.Neg, "x->ey"))
                .addOutput(new ValueInfo("ey", DType.FLOAT32, null)).build();
        Graph g = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 1, 2, 4, 4))
                .addInput(ValueInfo.of("cond", DType.BOOL))
                .addNode(node("if", Op.If, "cond->y", "then_branch", then, "else_branch", other))
                .addOutput(new ValueInfo("y", DType.FLOAT32, null)).build();
        Graph f = foldedOnce(g, Map.of("Conv", 1));
        Graph folded = only(f, Op.If).graphAttr("then_branch");
        assertEquals(1, folded.nodes().size());
        assertEquals("ty", folded.nodes().get(0).output(0));
    }

    @Test
    void noteNamesWhatWasFolded() {
        assertEquals("folded 3 BatchNormalization into Conv, 1 into Gemm", pass.note(linked("Conv", 3, "Gemm", 1)));
        assertEquals("", pass.note(Map.of()));
    }

    private static Map<String, Integer> linked(String k1, int v1, String k2, int v2) {
        Map<String, Integer> m = new java.util.LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }
}
