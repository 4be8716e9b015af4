package dev.hedge.converter.passes;

import static dev.hedge.converter.passes.TestGraphs.node;
import static dev.hedge.converter.passes.TestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.Converter.PassReport;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PassManagerTest {

    /** A small CNN with everything the pipeline cleans up. */
    static Graph cnn(List<Dim> xDims) {
        Graph.Builder b = Graph.builder("cnn").addInput(new ValueInfo("x", DType.FLOAT32, xDims))
                .initializer("w1", random(1, 4, 3, 3, 3)).initializer("b1", random(2, 4))
                .initializer("w2", random(3, 4, 4, 3, 3))
                .initializer("w3raw", random(4, 36, 5)).initializer("c3", random(5, 5))
                .initializer("flat", Tensor.of(new long[] {0, -1}, 2))
                .initializer("lo", Tensor.scalar(0f).reshape()).initializer("hi", Tensor.scalar(0.5f).reshape())
                .initializer("unused", random(6, 100))
                .addNode(node("conv1", Op.Conv, "x,w1,b1->c1", "pads", new long[] {1, 1, 1, 1}))
                .addNode(node("bn1", Op.BatchNormalization, "c1,s1,o1,m1,v1->n1"))
                .addNode(node("relu", Op.Relu, "n1->r1"))
                .addNode(node("id1", Op.Identity, "r1->i1"))
                .addNode(node("conv2", Op.Conv, "i1,w2->c2", "strides", new long[] {2, 2}, "pads",
                        new long[] {1, 1, 1, 1}))
                .addNode(node("bn2", Op.BatchNormalization, "c2,s2,o2,m2,v2->n2", "epsilon", 1e-3f))
                .addNode(node("clip", Op.Clip, "n2,lo,hi->r2"))
                .addNode(node("drop", Op.Dropout, "r2->d2"))
                .addNode(node("reshape", Op.Reshape, "d2,flat->f"))
                .addNode(node("w3t", Op.Transpose, "w3raw->w3"))
                .addNode(node("gemm", Op.Gemm, "f,w3,c3->g", "transB", 1L))
                .addNode(node("id2", Op.Identity, "g->y"))
                .addNode(node("dead", Op.Neg, "x->nothing"))
                .addOutput(new ValueInfo("y", DType.FLOAT32, null));
        for (int i = 1; i <= 2; i++) {
            b.initializer("s" + i, random(10 + i, 0.5f, 1.5f, 4)).initializer("o" + i, random(20 + i, 4))
                    .initializer("m" + i, random(30 + i, 4)).initializer("v" + i, random(40 + i, 0.2f, 2f, 4));
        }
        return b.build();
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void defaultPipelineReachesAFixedPointWithTheSameResults(Kernels k) {
        Graph g = cnn(List.of(Dim.of(2), Dim.of(3), Dim.of(6), Dim.of(6)));
        PassManager.Outcome o = PassManager.optimize(g, Map.of(), k.options(g));
        Graph f = o.graph();
        assertEquals(List.of(Op.Conv, Op.Conv, Op.Reshape, Op.Gemm), f.nodes().stream().map(Node::op).toList());
        assertEquals("Relu", f.nodes().get(0).stringAttr("fused_activation"));
        assertEquals("Clip", f.nodes().get(1).stringAttr("fused_activation"));
        assertEquals(0.5f, f.nodes().get(1).floatAttr("fused_beta"));
        assertEquals("y", f.nodes().get(3).output(0));
        assertTrue(!f.initializers().containsKey("unused") && !f.initializers().containsKey("w3raw"));
        assertEquals(ValueInfo.of("y", DType.FLOAT32, 2, 5), f.outputs().get(0));
        assertEquals(ValueInfo.of("f", DType.FLOAT32, 2, 36), f.valueInfos().get("f"));

        Map<String, PassReport> reports = new java.util.LinkedHashMap<>();
        for (PassReport r : o.reports()) {
            reports.put(r.pass(), r);
        }
        assertEquals(List.of("identity-elimination", "constant-folding", "batchnorm-folding", "activation-fusion",
                "dead-node-elimination", "shape-inference"), List.copyOf(reports.keySet()));
        int[][] counts = {{13, 10}, {10, 9}, {9, 7}, {7, 5}, {5, 4}, {4, 4}};
        int i = 0;
        for (PassReport r : reports.values()) {
            assertEquals(counts[i][0], r.nodesBefore(), r.toString());
            assertEquals(counts[i++][1], r.nodesAfter(), r.toString());
        }
        assertEquals("removed 2 Identity, 1 Dropout", reports.get("identity-elimination").note());
        assertEquals("folded 1 Transpose", reports.get("constant-folding").note());
        assertEquals("folded 2 BatchNormalization into Conv", reports.get("batchnorm-folding").note());
        assertEquals("fused 1 Relu into Conv, 1 Clip into Conv", reports.get("activation-fusion").note());
        assertEquals("removed 1 nodes, 15 initializers", reports.get("dead-node-elimination").note());

        // a second optimization finds nothing left to do
        PassManager.Outcome again = PassManager.optimize(f, Map.of(), k.options(f));
        assertEquals(f.nodes(), again.graph().nodes());
        k.assertSameOutputs(g, f);
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void inputShapesSpecializeTheModel(Kernels k) {
        Graph g = cnn(List.of(Dim.dynamic("batch"), Dim.of(3), Dim.of(6), Dim.of(6)));
        PassManager.Outcome o = PassManager.optimize(g, Map.of("x", new int[] {1, 3, 6, 6}), k.options(g));
        assertEquals("fix-input-shapes", o.reports().get(0).pass());
        assertEquals("fixed 1 inputs", o.reports().get(0).note());
        assertEquals(ValueInfo.of("x", DType.FLOAT32, 1, 3, 6, 6), o.graph().inputs().get(0));
        assertEquals(ValueInfo.of("y", DType.FLOAT32, 1, 5), o.graph().outputs().get(0));
    }
}
