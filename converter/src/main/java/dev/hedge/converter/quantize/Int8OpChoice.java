package dev.hedge.converter.quantize;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which non-layer ops between static int8 layers run on uint8 values: Add / Mul (a Relu / Clip that alone reads
 * the result folded in as the fused activation) become QLinearAdd / QLinearMul, AveragePool / GlobalAveragePool
 * their QLinear forms (all requantize to the output's calibrated range); MaxPool and the ops that only move
 * elements (Flatten, Reshape, Squeeze, Unsqueeze, Transpose) run unchanged on uint8 with the input's scale and
 * zero point.
 *
 * <p>An op goes uint8 only where it pays: each uint8 input is already produced in uint8 (by a static int8 layer
 * or another such op) and some static int8 layer or such op reads its result in uint8. Both conditions are
 * solved together: start from every op whose inputs can be uint8, then drop ops whose result nobody reads in
 * uint8 (and, with them, ops that needed their result) until nothing changes.
 */
final class Int8OpChoice {

    /**
     * One op that can run on uint8.
     *
     * @param dataInputs the inputs read in uint8 (the others, such as a Reshape's shape, stay as they are)
     * @param output the float value the op stands for (the activation's output when one is folded in)
     * @param activation the Relu / Clip folded into a QLinearAdd / QLinearMul, or null
     * @param to the op written
     * @param requantizes whether the result gets its own calibrated scale (else it keeps the input's)
     */
    record Candidate(Node node, List<String> dataInputs, String output, Node activation, Op to, boolean requantizes) {
    }

    private Int8OpChoice() {
    }

    /** The float values whose calibrated ranges the int8 ops of {@code g} (and its subgraphs) would need. */
    static Set<String> rangesNeeded(Graph g) {
        Set<String> out = new LinkedHashSet<>();
        for (Candidate c : candidates(g).values()) {
            if (c.requantizes()) {
                out.add(c.output());
            }
        }
        return out;
    }

    /**
     * The ops to run in uint8, by node name.
     *
     * @param uint8Layers output value → whether a static int8 layer can produce it in uint8
     * @param layerReads values static int8 layers read in uint8
     * @param ranges calibrated values
     */
    static Map<String, Candidate> choose(Graph g, Set<String> uint8Layers, Set<String> layerReads,
            Map<String, Ranges.Affine> ranges) {
        Map<String, Candidate> all = candidates(g);
        Map<String, Candidate> chosen = new LinkedHashMap<>();
        Set<String> avail = new HashSet<>(uint8Layers);
        // forward: every op whose inputs can be uint8 (candidates come in topological order, subgraphs after
        // their node, so one pass is enough)
        for (Candidate c : all.values()) {
            if (avail.containsAll(c.dataInputs()) && (!c.requantizes() || ranges.containsKey(c.output()))) {
                chosen.put(c.node().name(), c);
                avail.add(c.output());
            }
        }
        // backward: drop ops whose result no uint8 reader takes, and what depended on them
        boolean changed = true;
        while (changed) {
            changed = false;
            Set<String> read = new HashSet<>(layerReads);
            for (Candidate c : chosen.values()) {
                read.addAll(c.dataInputs());
            }
            for (Candidate c : new ArrayList<>(chosen.values())) {
                if (!read.contains(c.output())) {
                    drop(c, chosen, avail, uint8Layers);
                    changed = true;
                }
            }
        }
        return chosen;
    }

    private static void drop(Candidate c, Map<String, Candidate> chosen, Set<String> avail, Set<String> layers) {
        if (chosen.remove(c.node().name()) == null) {
            return;
        }
        if (!layers.contains(c.output())) {
            avail.remove(c.output());
        }
        for (Candidate d : new ArrayList<>(chosen.values())) {
            if (d.dataInputs().contains(c.output())) {
                drop(d, chosen, avail, layers);
            }
        }
    }

    /** Every node of {@code g} (and its subgraphs) that could run on uint8, in topological order. */
    private static Map<String, Candidate> candidates(Graph g) {
        Map<String, Candidate> out = new LinkedHashMap<>();
        collect(g, new HashMap<>(), out);
        return out;
    }

    private static void collect(Graph g, Map<String, Tensor> outer, Map<String, Candidate> out) {
        Map<String, Tensor> consts = new HashMap<>(outer);
        consts.putAll(g.initializers());
        Map<String, List<Node>> consumers = g.consumers();
        Set<String> outputs = new HashSet<>();
        for (ValueInfo v : g.outputs()) {
            outputs.add(v.name());
        }
        for (Node n : g.topologicalOrder()) {
            Candidate c = candidate(n, consumers, outputs, consts);
            if (c != null) {
                out.put(n.name(), c);
            }
            for (Graph s : n.subgraphs()) {
                collect(s, consts, out);
            }
        }
    }

    private static Candidate candidate(Node n, Map<String, List<Node>> consumers, Set<String> outputs,
            Map<String, Tensor> consts) {
        if (n.outputs().isEmpty() || n.output(0).isEmpty() || !n.subgraphs().isEmpty()) {
            return null;
        }
        String x = n.inputs().isEmpty() ? "" : n.input(0);
        if (x.isEmpty() || consts.containsKey(x)) {
            return null;
        }
        switch (n.op()) {
            case Add: case Mul: {
                if (n.inputs().size() != 2 || n.input(1).isEmpty() || consts.containsKey(n.input(1))) {
                    return null;
                }
                Node act = foldable(n.output(0), consumers, outputs, consts);
                return new Candidate(n, List.of(x, n.input(1)), act == null ? n.output(0) : act.output(0), act,
                        n.op() == Op.Add ? Op.QLinearAdd : Op.QLinearMul, true);
            }
            case GlobalAveragePool:
                return new Candidate(n, List.of(x), n.output(0), null, Op.QLinearGlobalAveragePool, true);
            case AveragePool:
                return new Candidate(n, List.of(x), n.output(0), null, Op.QLinearAveragePool, true);
            case MaxPool:
                // the Indices output has no uint8 meaning to keep
                if (n.outputs().size() > 1 && !n.output(1).isEmpty()) {
                    return null;
                }
                return new Candidate(n, List.of(x), n.output(0), null, Op.MaxPool, false);
            case Flatten: case Reshape: case Squeeze: case Unsqueeze: case Transpose:
                return new Candidate(n, List.of(x), n.output(0), null, n.op(), false);
            default:
                return null;
        }
    }

    /** The Relu / Clip (constant bounds) that alone reads {@code v}, when {@code v} is not a graph output. */
    private static Node foldable(String v, Map<String, List<Node>> consumers, Set<String> outputs,
            Map<String, Tensor> consts) {
        List<Node> readers = consumers.getOrDefault(v, List.of());
        if (readers.size() != 1 || outputs.contains(v)) {
            return null;
        }
        Node a = readers.get(0);
        if (a.op() == Op.Relu) {
            return a;
        }
        if (a.op() == Op.Clip && bound(a, 1, consts) && bound(a, 2, consts)) {
            return a;
        }
        return null;
    }

    private static boolean bound(Node clip, int i, Map<String, Tensor> consts) {
        if (!clip.hasInput(i)) {
            return true;
        }
        Tensor t = consts.get(clip.input(i));
        return t != null && !t.isEncoded() && t.dtype() == DType.FLOAT32 && t.elementCount() == 1;
    }

    /** A folded Clip's bounds {lo, hi} (absent: unbounded). */
    static float[] clipBounds(Node clip, Map<String, Tensor> consts) {
        float lo = clip.hasInput(1) ? consts.get(clip.input(1)).getFloat(0) : Float.NEGATIVE_INFINITY;
        float hi = clip.hasInput(2) ? consts.get(clip.input(2)).getFloat(0) : Float.POSITIVE_INFINITY;
        return new float[] {lo, hi};
    }
}
