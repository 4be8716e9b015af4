package dev.hedge.converter.passes;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Graph-editing helpers shared by the passes. Graphs are immutable: every helper returns a new graph. */
final class Graphs {

    private Graphs() {
    }

    /**
     * How many times each value is read: once per reading node (inputs or subgraph free variables) and
     * once more if it is a graph output.
     */
    static Map<String, Integer> readCounts(Graph g) {
        Map<String, Integer> m = new HashMap<>();
        for (Node n : g.nodes()) {
            for (String v : Graph.nodeReads(n)) {
                m.merge(v, 1, Integer::sum);
            }
        }
        for (String o : g.outputNames()) {
            m.merge(o, 1, Integer::sum);
        }
        return m;
    }

    static boolean isOutput(Graph g, String v) {
        return g.outputNames().contains(v);
    }

    static boolean isInput(Graph g, String v) {
        return g.inputNames().contains(v);
    }

    static Graph withNodes(Graph g, List<Node> nodes) {
        Graph.Builder b = g.toBuilder();
        b.nodes().clear();
        b.nodes().addAll(nodes);
        return b.build();
    }

    /** Replaces each subgraph attribute by {@code f(subgraph)}; returns {@code g} itself when nothing changed. */
    static Graph mapSubgraphs(Graph g, UnaryOperator<Graph> f) {
        boolean changed = false;
        List<Node> nodes = new ArrayList<>(g.nodes().size());
        for (Node n : g.nodes()) {
            Node m = n;
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                if (e.getValue() instanceof Attr.GraphValue gv) {
                    Graph sub = f.apply(gv.value());
                    if (sub != gv.value()) {
                        m = m.withAttr(e.getKey(), new Attr.GraphValue(sub));
                    }
                }
            }
            changed |= m != n;
            nodes.add(m);
        }
        return changed ? withNodes(g, nodes) : g;
    }

    /**
     * Renames values everywhere in {@code g} and its subgraphs: node inputs and outputs, initializers,
     * value infos and graph outputs (graph inputs are never renamed: callers must not ask for that).
     */
    static Graph rename(Graph g, Map<String, String> renames) {
        if (renames.isEmpty()) {
            return g;
        }
        Graph.Builder b = Graph.builder(g.name());
        for (ValueInfo v : g.inputs()) {
            b.addInput(v);
        }
        for (ValueInfo v : g.outputs()) {
            b.addOutput(v.withName(renames.getOrDefault(v.name(), v.name())));
        }
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            b.initializer(renames.getOrDefault(e.getKey(), e.getKey()), e.getValue());
        }
        for (ValueInfo v : g.valueInfos().values()) {
            b.valueInfo(v.withName(renames.getOrDefault(v.name(), v.name())));
        }
        for (Node n : g.nodes()) {
            Node m = n.withInputs(renameAll(n.inputs(), renames)).withOutputs(renameAll(n.outputs(), renames));
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                if (e.getValue() instanceof Attr.GraphValue gv) {
                    m = m.withAttr(e.getKey(), new Attr.GraphValue(rename(gv.value(), renames)));
                }
            }
            b.addNode(m);
        }
        return b.build();
    }

    private static List<String> renameAll(List<String> names, Map<String, String> renames) {
        List<String> l = new ArrayList<>(names.size());
        for (String s : names) {
            l.add(s.isEmpty() ? s : renames.getOrDefault(s, s));
        }
        return l;
    }

    /**
     * Removes {@code n}, a node that passes {@code in} through unchanged as {@code out}, rewiring readers of
     * {@code out} to {@code in}. When {@code out} is a graph output its name must survive: then {@code in}
     * is renamed to {@code out} instead, which needs {@code in} to be made by a node of this graph and not
     * be a graph output itself. Returns null when the node cannot be removed.
     */
    static Graph bypass(Graph g, Node n, String in, String out) {
        List<Node> rest = new ArrayList<>(g.nodes());
        rest.remove(n);
        Graph without = withNodes(g, rest);
        if (!isOutput(g, out)) {
            return rename(without, Map.of(out, in));
        }
        boolean producedHere = false;
        for (Node p : rest) {
            producedHere |= p.outputs().contains(in);
        }
        if (!producedHere || isOutput(g, in) || isInput(g, in)) {
            return null;
        }
        return rename(without, Map.of(in, out));
    }

    /** Replaces {@code old} by {@code replacement} at the same position and removes the nodes in {@code drop}. */
    static Graph replace(Graph g, Node old, Node replacement, Set<Node> drop) {
        List<Node> l = new ArrayList<>(g.nodes().size());
        for (Node n : g.nodes()) {
            if (n == old) {
                l.add(replacement);
            } else if (!drop.contains(n)) {
                l.add(n);
            }
        }
        return withNodes(g, l);
    }

    /** A value name not used in {@code g} (nor its subgraphs), based on {@code hint}. */
    static String freshName(Graph g, String hint) {
        Set<String> used = new HashSet<>();
        collectNames(g, used);
        String name = hint;
        for (int k = 1; used.contains(name); k++) {
            name = hint + "_" + k;
        }
        return name;
    }

    private static void collectNames(Graph g, Set<String> used) {
        used.addAll(g.inputNames());
        used.addAll(g.initializers().keySet());
        for (Node n : g.nodes()) {
            used.addAll(n.outputs());
            used.addAll(n.inputs());
            for (Graph s : n.subgraphs()) {
                collectNames(s, used);
            }
        }
    }

    /**
     * Element types of the values of {@code g} as far as declarations and {@link TypeRules} tell, with
     * {@code outer} giving those of enclosing graphs.
     */
    static Map<String, DType> types(Graph g, Map<String, DType> outer) {
        Map<String, DType> t = new LinkedHashMap<>(outer);
        for (ValueInfo v : g.valueInfos().values()) {
            if (v.dtype() != null) {
                t.put(v.name(), v.dtype());
            }
        }
        for (ValueInfo v : g.inputs()) {
            if (v.dtype() != null) {
                t.put(v.name(), v.dtype());
            }
        }
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            t.put(e.getKey(), e.getValue().dtype());
        }
        for (Node n : g.topologicalOrder()) {
            DType[] out = TypeRules.of(n, t::get);
            for (int i = 0; i < out.length; i++) {
                if (out[i] != null && !n.output(i).isEmpty()) {
                    t.putIfAbsent(n.output(i), out[i]);
                }
            }
        }
        return t;
    }

    /** A dense constant's values as doubles, or null if {@code name} is not a dense floating-point constant. */
    static double[] floatConstant(Graph g, String name) {
        Tensor t = name.isEmpty() ? null : g.initializers().get(name);
        if (t == null || t.isEncoded() || !t.dtype().isFloat()) {
            return null;
        }
        return t.toDoubleArray();
    }

    /** A new tensor of {@code dtype} and {@code shape} holding {@code v} (rounded to the dtype). */
    static Tensor tensor(DType dtype, int[] shape, double[] v) {
        Tensor t = Tensor.allocate(dtype, shape);
        for (int i = 0; i < v.length; i++) {
            t.setDouble(i, v[i]);
        }
        return t;
    }
}
