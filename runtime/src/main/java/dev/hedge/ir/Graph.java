package dev.hedge.ir;

import dev.hedge.runtime.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable dataflow graph in SSA form: every value name is defined once, by a graph input, an
 * initializer or a node output. Subgraphs (If/Loop bodies) live in node attributes and may read values of
 * enclosing graphs by name. Converter passes are functions {@code Graph -> Graph}; use {@link #toBuilder()}.
 */
public final class Graph {

    private final String name;
    private final List<ValueInfo> inputs;
    private final List<ValueInfo> outputs;
    private final List<Node> nodes;
    private final Map<String, Tensor> initializers;
    private final Map<String, ValueInfo> valueInfos;

    private Graph(Builder b) {
        this.name = b.name;
        this.inputs = List.copyOf(b.inputs);
        this.outputs = List.copyOf(b.outputs);
        this.nodes = List.copyOf(b.nodes);
        this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(b.initializers));
        this.valueInfos = Collections.unmodifiableMap(new LinkedHashMap<>(b.valueInfos));
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public Builder toBuilder() {
        Builder b = new Builder(name);
        b.inputs.addAll(inputs);
        b.outputs.addAll(outputs);
        b.nodes.addAll(nodes);
        b.initializers.putAll(initializers);
        b.valueInfos.putAll(valueInfos);
        return b;
    }

    public String name() {
        return name;
    }

    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<ValueInfo> outputs() {
        return outputs;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Map<String, Tensor> initializers() {
        return initializers;
    }

    /** Known types of intermediate values (from the source model or shape inference). */
    public Map<String, ValueInfo> valueInfos() {
        return valueInfos;
    }

    public List<String> inputNames() {
        return inputs.stream().map(ValueInfo::name).toList();
    }

    public List<String> outputNames() {
        return outputs.stream().map(ValueInfo::name).toList();
    }

    public ValueInfo input(String n) {
        for (ValueInfo v : inputs) {
            if (v.name().equals(n)) {
                return v;
            }
        }
        return null;
    }

    /** Node producing each value. */
    public Map<String, Node> producers() {
        Map<String, Node> m = new HashMap<>();
        for (Node n : nodes) {
            for (String o : n.outputs()) {
                if (!o.isEmpty()) {
                    m.put(o, n);
                }
            }
        }
        return m;
    }

    /** Nodes reading each value, directly or from inside one of their subgraphs. */
    public Map<String, List<Node>> consumers() {
        Map<String, List<Node>> m = new HashMap<>();
        for (Node n : nodes) {
            for (String i : nodeReads(n)) {
                m.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }
        return m;
    }

    /** Values a node reads: its inputs and the free variables of its subgraphs. */
    public static Set<String> nodeReads(Node n) {
        Set<String> s = new LinkedHashSet<>();
        for (String i : n.inputs()) {
            if (!i.isEmpty()) {
                s.add(i);
            }
        }
        for (Graph g : n.subgraphs()) {
            s.addAll(g.freeVariables());
        }
        return s;
    }

    /** Names this graph (or its subgraphs) reads but does not define: they come from enclosing graphs. */
    public Set<String> freeVariables() {
        Set<String> defined = new HashSet<>(inputNames());
        defined.addAll(initializers.keySet());
        for (Node n : nodes) {
            for (String o : n.outputs()) {
                if (!o.isEmpty()) {
                    defined.add(o);
                }
            }
        }
        Set<String> free = new LinkedHashSet<>();
        for (Node n : nodes) {
            for (String i : nodeReads(n)) {
                if (!defined.contains(i)) {
                    free.add(i);
                }
            }
        }
        for (ValueInfo o : outputs) {
            if (!defined.contains(o.name())) {
                free.add(o.name());
            }
        }
        return free;
    }

    /**
     * The nodes in a topological order (stable: source order where the order is already valid). Values not
     * defined here are taken as available (outer scope). Throws on a cycle.
     */
    public List<Node> topologicalOrder() {
        Map<String, Node> prod = producers();
        Map<Node, Integer> pending = new LinkedHashMap<>();
        Map<Node, List<Node>> users = new HashMap<>();
        for (Node n : nodes) {
            int deps = 0;
            Set<Node> seen = new HashSet<>();
            for (String i : nodeReads(n)) {
                Node p = prod.get(i);
                if (p != null && p != n && seen.add(p)) {
                    deps++;
                    users.computeIfAbsent(p, k -> new ArrayList<>()).add(n);
                }
            }
            pending.put(n, deps);
        }
        List<Node> order = new ArrayList<>(nodes.size());
        Deque<Node> ready = new ArrayDeque<>();
        for (Node n : nodes) {
            if (pending.get(n) == 0) {
                ready.add(n);
            }
        }
        while (!ready.isEmpty()) {
            Node n = ready.poll();
            order.add(n);
            for (Node u : users.getOrDefault(n, List.of())) {
                int left = pending.merge(u, -1, Integer::sum);
                if (left == 0) {
                    ready.add(u);
                }
            }
        }
        if (order.size() != nodes.size()) {
            List<String> stuck = new ArrayList<>();
            for (Node n : nodes) {
                if (!order.contains(n)) {
                    stuck.add(n.name());
                }
            }
            throw new IllegalStateException("graph '" + name + "' has a cycle through nodes " + stuck);
        }
        return order;
    }

    /** Total node count including nodes of nested subgraphs. */
    public int deepNodeCount() {
        int c = 0;
        for (Node n : nodes) {
            c++;
            for (Graph g : n.subgraphs()) {
                c += g.deepNodeCount();
            }
        }
        return c;
    }

    @Override
    public String toString() {
        return "Graph '" + name + "' (" + nodes.size() + " nodes, " + initializers.size() + " initializers)";
    }

    /** Mutable builder; the built graph copies everything. */
    public static final class Builder {
        private String name;
        private final List<ValueInfo> inputs = new ArrayList<>();
        private final List<ValueInfo> outputs = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private final Map<String, Tensor> initializers = new LinkedHashMap<>();
        private final Map<String, ValueInfo> valueInfos = new LinkedHashMap<>();

        private Builder(String name) {
            this.name = name == null ? "" : name;
        }

        public Builder name(String n) {
            this.name = n;
            return this;
        }

        public Builder addInput(ValueInfo v) {
            inputs.add(v);
            return this;
        }

        public Builder addOutput(ValueInfo v) {
            outputs.add(v);
            return this;
        }

        public Builder addNode(Node n) {
            nodes.add(n);
            return this;
        }

        public Builder initializer(String n, Tensor t) {
            initializers.put(n, t);
            return this;
        }

        public Builder valueInfo(ValueInfo v) {
            valueInfos.put(v.name(), v);
            return this;
        }

        public List<ValueInfo> inputs() {
            return inputs;
        }

        public List<ValueInfo> outputs() {
            return outputs;
        }

        public List<Node> nodes() {
            return nodes;
        }

        public Map<String, Tensor> initializers() {
            return initializers;
        }

        public Map<String, ValueInfo> valueInfos() {
            return valueInfos;
        }

        public Graph build() {
            return new Graph(this);
        }
    }
}
