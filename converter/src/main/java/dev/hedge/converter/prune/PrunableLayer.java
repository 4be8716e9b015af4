package dev.hedge.converter.prune;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A layer whose weight can be pruned: a Conv, ConvTranspose, Gemm or MatMul of the main graph whose weight
 * input is a dense floating-point constant. {@code outAxis} is the weight axis of the output channels (or
 * features), {@code inAxis} the axis of the input channels (the reduction dimension):
 * Conv {@code [M, C/g, k...]}: 0 and 1; ConvTranspose {@code [C, M/g, k...]}: 1 and 0; Gemm B {@code [K, N]}
 * (transB=0): 1 and 0, {@code [N, K]} (transB=1): 0 and 1; MatMul with a constant 2-D right side
 * {@code [K, N]}: 1 and 0.
 */
public record PrunableLayer(Node node, String weight, int outAxis, int inAxis) {

    /** The weight tensor of this layer in {@code g}. */
    public Tensor weightOf(Graph g) {
        return g.initializers().get(weight);
    }

    public String name() {
        return node.name();
    }

    /** The prunable layers of {@code g} in topological order. */
    public static List<PrunableLayer> find(Graph g) {
        List<PrunableLayer> l = new ArrayList<>();
        for (Node n : g.topologicalOrder()) {
            PrunableLayer p = of(g, n);
            if (p != null) {
                l.add(p);
            }
        }
        return l;
    }

    /** {@code n} as a prunable layer of {@code g}, or null when it is not one. */
    public static PrunableLayer of(Graph g, Node n) {
        if (!n.hasInput(1)) {
            return null;
        }
        Tensor w = g.initializers().get(n.input(1));
        if (w == null || w.isEncoded() || !w.dtype().isFloat() || w.elementCount() == 0) {
            return null;
        }
        int rank = w.rank();
        switch (n.op()) {
            case Conv:
                return rank >= 3 ? new PrunableLayer(n, n.input(1), 0, 1) : null;
            case ConvTranspose:
                return rank >= 3 ? new PrunableLayer(n, n.input(1), 1, 0) : null;
            case Gemm:
                if (rank != 2) {
                    return null;
                }
                return n.intAttr("transB") != 0 ? new PrunableLayer(n, n.input(1), 0, 1)
                        : new PrunableLayer(n, n.input(1), 1, 0);
            case MatMul:
                return rank == 2 ? new PrunableLayer(n, n.input(1), 1, 0) : null;
            default:
                return null;
        }
    }

    static boolean isLayerOp(Op op) {
        return op == Op.Conv || op == Op.ConvTranspose || op == Op.Gemm || op == Op.MatMul;
    }
}
