package dev.hedge.converter.prune;

import static dev.hedge.converter.prune.PruneGraphs.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Structured pruning checked against its definition: the pruned (smaller) model must compute exactly what
 * the original computes when the consumers of the removed channels ignore them (their input weights for
 * those channels set to 0 in the original). The tests make chosen channels' filters small so the L1
 * criterion picks them.
 */
class ChannelPruningTest {

    /** Random weights [m, c, k...] whose output channels in {@code small} are scaled by 0.01. */
    private static Tensor weights(long seed, int[] shape, int outAxis, int... small) {
        Tensor t = PruneGraphs.random(seed, shape);
        long inner = 1;
        for (int d = outAxis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        for (int i = 0; i < t.elementCount(); i++) {
            int ch = (int) ((i / inner) % shape[outAxis]);
            for (int s : small) {
                if (s == ch) {
                    t.setDouble(i, t.getDouble(i) * 0.01);
                }
            }
        }
        return t;
    }

    /** A copy of {@code t} with the entries whose index along {@code axis} is in {@code zero} set to 0. */
    private static Tensor zeroAlong(Tensor t, int axis, int... zero) {
        Tensor r = t.copy();
        int[] s = t.shape();
        long inner = 1;
        for (int d = axis + 1; d < s.length; d++) {
            inner *= s[d];
        }
        for (int i = 0; i < r.elementCount(); i++) {
            int idx = (int) ((i / inner) % s[axis]);
            for (int z : zero) {
                if (z == idx) {
                    r.setDouble(i, 0);
                }
            }
        }
        return r;
    }

    private static Graph withInitializer(Graph g, String name, Tensor t) {
        return g.toBuilder().initializer(name, t).build();
    }

    private static ChannelPruning.Result prune(Graph g, double ratio) {
        return ChannelPruning.prune(g, ChannelPruning.Options.of(ratio).withRuntime(TestRuntime.OPTIONS));
    }

    private static void assertSameOutputs(Graph expected, Graph actual, Map<String, Tensor> in) {
        Tensor a = TestRuntime.run(expected, in);
        Tensor b = TestRuntime.run(actual, in);
        assertArrayEquals(a.shape(), b.shape());
        assertTrue(PruneGraphs.maxAbsDiff(a, b) < 1e-4, "max diff " + PruneGraphs.maxAbsDiff(a, b));
    }

    private static ChannelPruning.LayerStats layer(ChannelPruning.Result r, String name) {
        return r.layers().stream().filter(l -> l.node().equals(name)).findFirst().orElseThrow();
    }

    private static int[] shape(Graph g, String value) {
        return g.valueInfos().get(value).shapeOrNull();
    }

    @Test
    void convBatchNormPoolFlattenGemm() {
        Graph.Builder b = PruneGraphs.graph("x", 1, 3, 6, 6);
        b.initializer("w1", weights(1, new int[] {8, 3, 3, 3}, 0, 2, 5));
        b.initializer("b1", PruneGraphs.random(2, 8));
        b.initializer("s", PruneGraphs.uniform(3, 0.8f, 1.2f, 8));
        b.initializer("sh", PruneGraphs.random(4, 8));
        b.initializer("mu", PruneGraphs.random(5, 8));
        b.initializer("var", PruneGraphs.uniform(6, 0.5f, 1.5f, 8));
        b.initializer("w2", weights(7, new int[] {6, 8, 3, 3}, 0, 4));
        b.initializer("b2", PruneGraphs.random(8, 6));
        b.initializer("fc", PruneGraphs.random(9, 4, 6));
        b.initializer("fcb", PruneGraphs.random(10, 4));
        b.addNode(node("c1", Op.Conv, "x,w1,b1->c1", "pads", new long[] {1, 1, 1, 1}));
        b.addNode(node("bn", Op.BatchNormalization, "c1,s,sh,mu,var->n1"));
        b.addNode(node("r1", Op.Relu, "n1->r1"));
        b.addNode(node("c2", Op.Conv, "r1,w2,b2->c2", "pads", new long[] {1, 1, 1, 1}));
        b.addNode(node("r2", Op.Relu, "c2->r2"));
        b.addNode(node("gap", Op.GlobalAveragePool, "r2->p"));
        b.addNode(node("flat", Op.Flatten, "p->f"));
        b.addNode(node("fc", Op.Gemm, "f,fc,fcb->y", "transB", 1));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph g = b.build();

        ChannelPruning.Result r = prune(g, 0.25);
        Graph masked = withInitializer(g, "w2", zeroAlong(g.initializers().get("w2"), 1, 2, 5));
        masked = withInitializer(masked, "fc", zeroAlong(g.initializers().get("fc"), 1, 4));
        assertSameOutputs(masked, r.graph(), Map.of("x", PruneGraphs.random(11, 1, 3, 6, 6)));
        assertArrayEquals(new int[] {0, 1, 3, 4, 6, 7}, r.keptChannels().get("c1"));
        assertArrayEquals(new int[] {5, 6, 3, 3}, r.graph().initializers().get("w2").shape());
        assertArrayEquals(new int[] {6}, r.graph().initializers().get("var").shape());
        assertArrayEquals(new int[] {4, 5}, r.graph().initializers().get("fc").shape());
        assertArrayEquals(new int[] {1, 6, 6, 6}, shape(r.graph(), "n1"), "shape inference re-run");
        ChannelPruning.LayerStats c1 = layer(r, "c1");
        assertEquals(8, c1.channelsBefore());
        assertEquals(6, c1.channelsAfter());
        assertEquals(36L * 8 * 27, c1.macsBefore());
        assertEquals(36L * 6 * 27, c1.macsAfter());
        assertEquals(36L * 5 * 6 * 9, layer(r, "c2").macsAfter());
        assertEquals(4L * 5, layer(r, "fc").macsAfter());
        assertTrue(layer(r, "fc").note().contains("graph output 'y'"), layer(r, "fc").note());
    }

    @Test
    void residualAddPrunesBothBranchesTogether() {
        Graph.Builder b = PruneGraphs.graph("x", 1, 4, 5, 5);
        long[] pad = {1, 1, 1, 1};
        b.initializer("w0", weights(1, new int[] {8, 4, 3, 3}, 0, 1, 6));
        b.initializer("w1", weights(2, new int[] {8, 8, 3, 3}, 0, 3, 7));
        // the second branch's small channels differ: the tie sums both producers' normalised norms
        b.initializer("w2", weights(3, new int[] {8, 8, 3, 3}, 0, 1, 6));
        b.initializer("w3", PruneGraphs.random(4, 5, 8, 1, 1));
        b.addNode(node("c0", Op.Conv, "x,w0->c0", "pads", pad));
        b.addNode(node("r0", Op.Relu, "c0->r0"));
        b.addNode(node("c1", Op.Conv, "r0,w1->c1", "pads", pad));
        b.addNode(node("r1", Op.Relu, "c1->r1"));
        b.addNode(node("c2", Op.Conv, "r1,w2->c2", "pads", pad));
        b.addNode(node("add", Op.Add, "r0,c2->s"));
        b.addNode(node("r2", Op.Relu, "s->r2"));
        b.addNode(node("c3", Op.Conv, "r2,w3->y"));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph g = b.build();

        ChannelPruning.Result r = prune(g, 0.25);
        assertArrayEquals(new int[] {0, 2, 3, 4, 5, 7}, r.keptChannels().get("c0"));
        assertArrayEquals(r.keptChannels().get("c0"), r.keptChannels().get("c2"), "tied through the Add");
        assertArrayEquals(new int[] {0, 1, 2, 4, 5, 6}, r.keptChannels().get("c1"));
        Graph masked = withInitializer(g, "w1", zeroAlong(g.initializers().get("w1"), 1, 1, 6));
        masked = withInitializer(masked, "w3", zeroAlong(g.initializers().get("w3"), 1, 1, 6));
        masked = withInitializer(masked, "w2", zeroAlong(g.initializers().get("w2"), 1, 3, 7));
        assertSameOutputs(masked, r.graph(), Map.of("x", PruneGraphs.random(5, 1, 4, 5, 5)));
        assertTrue(layer(r, "c0").note().contains("tied with [c2]"), layer(r, "c0").note());
        assertArrayEquals(new int[] {1, 6, 5, 5}, shape(r.graph(), "s"));
    }

    @Test
    void concatOffsetsAndDepthwisePairs() {
        Graph.Builder b = PruneGraphs.graph("x", 1, 3, 5, 5);
        long[] pad = {1, 1, 1, 1};
        b.initializer("wa", weights(1, new int[] {6, 3, 3, 3}, 0, 0, 2, 3));
        b.initializer("wd", PruneGraphs.random(2, 6, 1, 3, 3));
        b.initializer("bd", PruneGraphs.random(3, 6));
        b.initializer("wb", weights(4, new int[] {4, 3, 1, 1}, 0, 1, 2));
        b.initializer("wc", PruneGraphs.random(5, 5, 10, 1, 1));
        b.addNode(node("ca", Op.Conv, "x,wa->a", "pads", pad));
        b.addNode(node("ra", Op.Relu, "a->ra"));
        b.addNode(node("dw", Op.Conv, "ra,wd,bd->d", "pads", pad, "group", 6));
        b.addNode(node("rd", Op.Relu, "d->rd"));
        b.addNode(node("cb", Op.Conv, "x,wb->cb"));
        b.addNode(node("cat", Op.Concat, "rd,cb->cat", "axis", 1));
        b.addNode(node("cc", Op.Conv, "cat,wc->y"));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph g = b.build();

        ChannelPruning.Result r = prune(g, 0.5);
        Graph masked = withInitializer(g, "wc", zeroAlong(g.initializers().get("wc"), 1, 0, 2, 3, 7, 8));
        assertSameOutputs(masked, r.graph(), Map.of("x", PruneGraphs.random(6, 1, 3, 5, 5)));
        Node dw = r.graph().nodes().stream().filter(n -> n.name().equals("dw")).findFirst().orElseThrow();
        assertEquals(3, dw.intAttr("group"));
        assertArrayEquals(new int[] {3, 1, 3, 3}, r.graph().initializers().get("wd").shape());
        assertArrayEquals(new int[] {5, 5, 1, 1}, r.graph().initializers().get("wc").shape());
        assertEquals("depthwise, follows its producer", layer(r, "dw").note());
        assertEquals(3, layer(r, "dw").channelsAfter());
        assertEquals(25L * 3 * 9, layer(r, "dw").macsAfter());
    }

    @Test
    void flattenToGemmDropsEachChannelsFeatureRun() {
        Graph.Builder b = PruneGraphs.graph("x", 2, 2, 4, 4);
        b.initializer("w", weights(1, new int[] {6, 2, 3, 3}, 0, 0, 4));
        b.initializer("k", PruneGraphs.uniform(2, 0.5f, 1.5f, 6, 1, 1));
        b.initializer("fc", PruneGraphs.random(3, 24, 5));
        b.addNode(node("c", Op.Conv, "x,w->c", "pads", new long[] {1, 1, 1, 1}, "strides", new long[] {2, 2}));
        b.addNode(node("m", Op.Mul, "c,k->m"));
        b.addNode(node("r", Op.Relu, "m->r"));
        b.addNode(node("flat", Op.Flatten, "r->f"));
        b.addNode(node("fc", Op.Gemm, "f,fc->y"));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph g = b.build();

        ChannelPruning.Result r = prune(g, 0.34);
        Tensor fc = g.initializers().get("fc");
        Graph masked = withInitializer(g, "fc", zeroAlong(fc, 0, 0, 1, 2, 3, 16, 17, 18, 19));
        assertSameOutputs(masked, r.graph(), Map.of("x", PruneGraphs.random(4, 2, 2, 4, 4)));
        assertArrayEquals(new int[] {16, 5}, r.graph().initializers().get("fc").shape());
        assertArrayEquals(new int[] {4, 1, 1}, r.graph().initializers().get("k").shape());
        assertEquals(2L * 6 * 4 * 18, layer(r, "c").macsBefore());
        assertEquals(2L * 4 * 4 * 18, layer(r, "c").macsAfter());
        assertEquals(2L * 5 * 24, layer(r, "fc").macsBefore());
        assertEquals(2L * 5 * 16, layer(r, "fc").macsAfter());
        assertEquals(r.macsBefore() - 2L * 2 * 4 * 18 - 2L * 5 * 8, r.macsAfter());
    }

    @Test
    void channelsReadByAnOpItCannotRewriteStay() {
        Graph.Builder b = PruneGraphs.graph("x", 1, 3, 4, 4);
        b.initializer("w", weights(1, new int[] {6, 3, 1, 1}, 0, 0, 1));
        b.initializer("w2", weights(2, new int[] {4, 6, 1, 1}, 0, 3));
        b.addNode(node("c", Op.Conv, "x,w->c"));
        b.addNode(node("sm", Op.Softmax, "c->s", "axis", 1));
        b.addNode(node("c2", Op.Conv, "s,w2->y"));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph g = b.build();
        ChannelPruning.Result r = prune(g, 0.5);
        assertNull(r.keptChannels().get("c"));
        assertTrue(layer(r, "c").note().startsWith("not pruned: read by Softmax node 'sm'"), layer(r, "c").note());
        assertSame(g.initializers().get("w"), r.graph().initializers().get("w"));
        assertEquals(6, layer(r, "c").channelsAfter());
    }

    @Test
    void skipListAndOverridesApplyPerProducer() {
        Graph g = PruneGraphs.mlp(3, 2, 8, 16, 12, 4);
        ChannelPruning.Result r = ChannelPruning.prune(g, ChannelPruning.Options.of(0.5)
                .withSkip(Set.of("fc0")).withOverrides(Map.of("fc1", 0.25)).withRuntime(TestRuntime.OPTIONS));
        assertNull(r.keptChannels().get("fc0"));
        assertEquals(9, layer(r, "fc1").channelsAfter());
        assertEquals("not pruned: skipped by request (fc0)", layer(r, "fc0").note());
    }

    @Test
    void ratioZeroIsANoOp() {
        Graph g = PruneGraphs.mlp(3, 2, 8, 16, 12, 4);
        ChannelPruning.Result r = prune(g, 0);
        Map<String, Tensor> in = Map.of("x", PruneGraphs.random(1, 2, 8));
        assertEquals(0, PruneGraphs.maxAbsDiff(TestRuntime.run(g, in), TestRuntime.run(r.graph(), in)), 0);
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            assertSame(e.getValue(), r.graph().initializers().get(e.getKey()));
        }
        assertEquals(r.macsBefore(), r.macsAfter());
        Map<String, Long> expected = new HashMap<>(Map.of("fc0", 2L * 8 * 16, "fc1", 2L * 16 * 12, "fc2", 2L * 12 * 4));
        assertEquals(expected, MacCounter.count(g, Map.of(), TestRuntime.OPTIONS));
        assertEquals(List.of("fc0", "fc1", "fc2"), List.copyOf(MacCounter.count(g, Map.of(), TestRuntime.OPTIONS)
                .keySet()));
    }

    @Test
    void squeezeAndTransposeMoveTheChannelAxis() {
        Graph.Builder b = PruneGraphs.graph("x", 2, 3, 4, 4);
        b.initializer("w", weights(1, new int[] {6, 3, 3, 3}, 0, 1, 4));
        b.initializer("axes", Tensor.of(new long[] {2, 3}, 2));
        b.initializer("uaxes", Tensor.of(new long[] {0}, 1));
        b.initializer("fc", PruneGraphs.random(2, 6, 5));
        b.addNode(node("c", Op.Conv, "x,w->c", "pads", new long[] {1, 1, 1, 1}));
        b.addNode(node("gap", Op.GlobalAveragePool, "c->p"));
        b.addNode(node("sq", Op.Squeeze, "p,axes->s"));
        b.addNode(node("un", Op.Unsqueeze, "s,uaxes->u"));
        b.addNode(node("tr", Op.Transpose, "u->t", "perm", new long[] {1, 0, 2}));
        b.addNode(node("mm", Op.MatMul, "t,fc->y"));
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        Graph g = b.build();
        ChannelPruning.Result r = prune(g, 0.34);
        assertArrayEquals(new int[] {0, 2, 3, 5}, r.keptChannels().get("c"));
        Graph masked = withInitializer(g, "fc", zeroAlong(g.initializers().get("fc"), 0, 1, 4));
        assertSameOutputs(masked, r.graph(), Map.of("x", PruneGraphs.random(3, 2, 3, 4, 4)));
        assertArrayEquals(new int[] {4, 5}, r.graph().initializers().get("fc").shape());
    }
}
