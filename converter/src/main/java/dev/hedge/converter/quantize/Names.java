package dev.hedge.converter.quantize;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import java.util.HashSet;
import java.util.Set;

/**
 * Fresh value and node names, unique across a whole model (its subgraphs included), so that a value can be
 * found by name wherever it lives.
 */
final class Names {

    private final Set<String> used = new HashSet<>();

    Names(Graph main) {
        collect(main);
    }

    private void collect(Graph g) {
        for (ValueInfo v : g.inputs()) {
            used.add(v.name());
        }
        for (ValueInfo v : g.outputs()) {
            used.add(v.name());
        }
        used.addAll(g.initializers().keySet());
        used.addAll(g.valueInfos().keySet());
        for (Node n : g.nodes()) {
            used.add(n.name());
            used.addAll(n.inputs());
            used.addAll(n.outputs());
            for (Graph s : n.subgraphs()) {
                collect(s);
            }
        }
    }

    /** {@code hint} itself if unused, else {@code hint_1}, {@code hint_2}...; the name is then taken. */
    String fresh(String hint) {
        String n = hint;
        for (int i = 1; used.contains(n); i++) {
            n = hint + "_" + i;
        }
        used.add(n);
        return n;
    }
}
