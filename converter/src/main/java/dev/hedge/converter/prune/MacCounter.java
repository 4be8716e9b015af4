package dev.hedge.converter.prune;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.runtime.RuntimeOptions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Multiply-accumulate counts of Conv, ConvTranspose, Gemm and MatMul (dense: zero weights are counted; a
 * sparse kernel's work is {@code macs * (1 - sparsity)}). Fused activations and bias adds are not MACs.
 */
public final class MacCounter {

    private MacCounter() {
    }

    /**
     * MACs of every Conv / ConvTranspose / Gemm / MatMul node of the main graph, by node name in topological
     * order, for the given input shapes (see {@link ValueShapes#of}).
     */
    public static Map<String, Long> count(Graph g, Map<String, int[]> inputShapes, RuntimeOptions runtime) {
        return count(g, ValueShapes.of(g, inputShapes, runtime));
    }

    /** As {@link #count(Graph, Map, RuntimeOptions)} with every value's shape already known. */
    public static Map<String, Long> count(Graph g, Map<String, int[]> shapes) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Node n : g.topologicalOrder()) {
            if (!PrunableLayer.isLayerOp(n.op())) {
                continue;
            }
            int[] a = shapes.get(n.input(0));
            int[] b = shapes.get(n.input(1));
            int[] y = shapes.get(n.output(0));
            if (a == null || b == null || y == null) {
                throw new IllegalArgumentException(n.describe() + ": shapes of its inputs and output are not all "
                        + "known statically; give concrete input shapes");
            }
            m.put(n.name(), macs(n, a, b, y));
        }
        return m;
    }

    /**
     * MACs of one node from the shapes of its data input {@code a}, its weight / second input {@code b} and its
     * output {@code y}.
     */
    public static long macs(Node n, int[] a, int[] b, int[] y) {
        switch (n.op()) {
            case Conv: {
                // every output element sums C/g * prod(kernel) products
                long perOutput = 1;
                for (int d = 1; d < b.length; d++) {
                    perOutput *= b[d];
                }
                return elements(y) * perOutput;
            }
            case ConvTranspose: {
                // every input element scatters M/g * prod(kernel) products
                long perInput = 1;
                for (int d = 1; d < b.length; d++) {
                    perInput *= b[d];
                }
                return elements(a) * perInput;
            }
            case Gemm: {
                int k = n.intAttr("transA") != 0 ? a[0] : a[1];
                return elements(y) * k;
            }
            case MatMul: {
                int k = a.length == 1 ? a[0] : a[a.length - 1];
                return elements(y) * k;
            }
            default:
                throw new IllegalArgumentException(n.describe() + ": no MAC count for " + n.op() + " (shapes "
                        + Arrays.toString(a) + ", " + Arrays.toString(b) + ")");
        }
    }

    private static long elements(int[] s) {
        long e = 1;
        for (int d : s) {
            e *= d;
        }
        return e;
    }
}
