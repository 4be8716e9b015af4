package dev.hedge.converter.quantize;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/** Finds the compressible layers of a model, in its graph and every subgraph, and knows their weight axes. */
public final class Layers {

    private Layers() {
    }

    public static List<Layer> find(Graph main) {
        List<Layer> out = new ArrayList<>();
        Deque<Map<String, Tensor>> scope = new ArrayDeque<>();
        walk(main, scope, out);
        return out;
    }

    private static void walk(Graph g, Deque<Map<String, Tensor>> scope, List<Layer> out) {
        scope.push(g.initializers());
        for (Node n : g.nodes()) {
            Layer l = layer(n, scope);
            if (l != null) {
                out.add(l);
            }
            for (Graph s : n.subgraphs()) {
                walk(s, scope, out);
            }
        }
        scope.pop();
    }

    /** The constant named {@code name} visible from the innermost scope, or null (a graph input shadows it). */
    static Tensor constant(Deque<Map<String, Tensor>> scope, String name) {
        for (Map<String, Tensor> m : scope) {
            Tensor t = m.get(name);
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    private static Layer layer(Node n, Deque<Map<String, Tensor>> scope) {
        List<Integer> weightInputs;
        int biasInput;
        switch (n.op()) {
            case Conv: case ConvTranspose: case Gemm: weightInputs = List.of(1); biasInput = 2; break;
            case MatMul: weightInputs = List.of(1); biasInput = -1; break;
            case LSTM: case GRU: case RNN: weightInputs = List.of(1, 2); biasInput = 3; break;
            default: return null;
        }
        List<String> names = new ArrayList<>();
        List<Tensor> values = new ArrayList<>();
        for (int i : weightInputs) {
            Tensor t = n.hasInput(i) ? constant(scope, n.input(i)) : null;
            if (t == null || t.dtype() != DType.FLOAT32 || t.isEncoded() || t.rank() < 2) {
                return null;
            }
            names.add(n.input(i));
            values.add(t);
        }
        if (n.op() == Op.Gemm && values.get(0).rank() != 2) {
            return null;
        }
        String bias = null;
        if (biasInput >= 0 && n.hasInput(biasInput)) {
            Tensor b = constant(scope, n.input(biasInput));
            if (b != null && b.dtype() == DType.FLOAT32 && !b.isEncoded()) {
                bias = n.input(biasInput);
            }
        }
        return new Layer(n.name(), n.op(), n.input(0), names, bias, n.output(0), values);
    }

    /**
     * The axis of weight input {@code which} (0 = first weight) holding output channels: per-channel int8
     * scales run along it.
     */
    public static int outputAxis(Node n, int which, int rank) {
        switch (n.op()) {
            case Conv: return 0;
            case ConvTranspose: return 1;
            case Gemm: return n.intAttr("transB") != 0 ? 0 : 1;
            case MatMul: return rank - 1;
            default: return 1; // W [dirs, gates * hidden, in], R [dirs, gates * hidden, hidden]
        }
    }

    /** The axis summed over by the layer (int4 blocks run along it). */
    public static int reductionAxis(Node n, int which, int rank) {
        switch (n.op()) {
            case Conv: return 1;
            case ConvTranspose: return 0;
            case Gemm: return n.intAttr("transB") != 0 ? 1 : 0;
            case MatMul: return rank - 2;
            default: return 2;
        }
    }
}
