package dev.hedge.converter.passes;

import static dev.hedge.converter.passes.TestGraphs.node;
import static dev.hedge.converter.passes.TestGraphs.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ShapeInferenceTest {

    private static Graph model(List<Dim> xDims) {
        return Graph.builder("g").addInput(new ValueInfo("x", DType.FLOAT32, xDims))
                .initializer("w", random(1, 4, 3, 3, 3)).initializer("v", random(2, 5, 4))
                .initializer("flat", Tensor.of(new long[] {0, -1}, 2))
                .addNode(node("conv", Op.Conv, "x,w->c", "strides", new long[] {2, 2}))
                .addNode(node("relu", Op.Relu, "c->r"))
                .addNode(node("reshape", Op.Reshape, "r,flat->f"))
                .addNode(node("vt", Op.Transpose, "v->vt"))
                .addOutput(new ValueInfo("f", null, null))
                .addOutput(new ValueInfo("vt", DType.FLOAT32, List.of(Dim.dynamic("a"), Dim.of(5)))).build();
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void recordsEveryShapeOfAStaticGraph(Kernels k) {
        Graph g = model(List.of(Dim.of(2), Dim.of(3), Dim.of(9), Dim.of(9)));
        GraphPass.Result r = new ShapeInference(k.options(g)).run(g);
        Graph f = r.graph();
        assertEquals(ValueInfo.of("c", DType.FLOAT32, 2, 4, 4, 4), f.valueInfos().get("c"));
        assertEquals(ValueInfo.of("r", DType.FLOAT32, 2, 4, 4, 4), f.valueInfos().get("r"));
        assertEquals(ValueInfo.of("f", DType.FLOAT32, 2, 64), f.valueInfos().get("f"));
        assertEquals(ValueInfo.of("f", DType.FLOAT32, 2, 64), f.outputs().get(0), "undeclared output completed");
        assertEquals(new ValueInfo("vt", DType.FLOAT32, List.of(Dim.of(4), Dim.of(5))), f.outputs().get(1));
        assertEquals(Map.of("static shapes", 4), r.changes());
        assertEquals(g.nodes(), f.nodes());
    }

    @ParameterizedTest
    @EnumSource(Kernels.class)
    void valuesDependingOnADynamicInputGetTheirRankOnly(Kernels k) {
        Graph g = model(List.of(Dim.dynamic("batch"), Dim.of(3), Dim.of(9), Dim.of(9)));
        Graph f = new ShapeInference(k.options(g)).apply(g);
        ValueInfo c = f.valueInfos().get("c");
        assertEquals(DType.FLOAT32, c.dtype());
        assertEquals(4, c.dims().size());
        assertTrue(c.dims().stream().noneMatch(Dim::isFixed), c.toString());
        assertEquals(2, f.valueInfos().get("f").dims().size());
        // the weights' transpose does not depend on the input: exact
        assertEquals(ValueInfo.of("vt", DType.FLOAT32, 4, 5), f.valueInfos().get("vt"));
    }

    @Test
    void leavesTheGraphAloneWhenItCannotPlan() {
        Graph unknownRank = Graph.builder("g").addInput(new ValueInfo("x", DType.FLOAT32, null))
                .addNode(node("r", Op.Relu, "x->y")).addOutput(new ValueInfo("y", null, null)).build();
        assertSame(unknownRank, new ShapeInference(Kernels.SCALAR_REFERENCE.options()).apply(unknownRank));
        Graph invalid = Graph.builder("g").addInput(ValueInfo.of("x", DType.FLOAT32, 3))
                .initializer("s", Tensor.of(new long[] {2}, 1))
                .addNode(node("r", Op.Reshape, "x,s->y")).addOutput(new ValueInfo("y", null, null)).build();
        GraphPass.Result r = new ShapeInference(Kernels.SCALAR_REFERENCE.options()).run(invalid);
        assertTrue(r.changes().isEmpty());
        assertSame(invalid, r.graph());
    }

    @Test
    void fixInputShapesSpecializesAndChecks() {
        Graph g = model(List.of(Dim.dynamic("batch"), Dim.of(3), Dim.dynamic(null), Dim.of(9)));
        Graph f = new FixInputShapes(Map.of("x", new int[] {2, 3, 9, 9})).apply(g);
        assertEquals(ValueInfo.of("x", DType.FLOAT32, 2, 3, 9, 9), f.inputs().get(0));
        String msg = assertThrows(InvalidInputException.class,
                () -> new FixInputShapes(Map.of("images", new int[] {1})).apply(g)).getMessage();
        assertTrue(msg.contains("'images'") && msg.contains("[x]"), msg);
        msg = assertThrows(InvalidInputException.class,
                () -> new FixInputShapes(Map.of("x", new int[] {2, 3, 9})).apply(g)).getMessage();
        assertTrue(msg.contains("rank 4") && msg.contains("rank 3"), msg);
        msg = assertThrows(InvalidInputException.class,
                () -> new FixInputShapes(Map.of("x", new int[] {2, 4, 9, 9})).apply(g)).getMessage();
        assertTrue(msg.contains("dimension 1 is fixed to 3"), msg);
    }
}
