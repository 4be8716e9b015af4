package dev.hedge.converter.passes;

import dev.hedge.ir.Graph;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Counts changes by kind while a pass runs (and across runs, in the pass manager). */
final class Changes {

    private final Map<String, Integer> counts = new LinkedHashMap<>();

    void add(String kind) {
        add(kind, 1);
    }

    void add(String kind, int n) {
        if (n != 0) {
            counts.merge(kind, n, Integer::sum);
        }
    }

    void addAll(Map<String, Integer> other) {
        other.forEach(this::add);
    }

    /**
     * Applies a pass to every If/Loop body of {@code g} first (passes work on one graph level at a time),
     * counting the bodies' changes here.
     */
    Graph inSubgraphs(Graph g, Function<Graph, GraphPass.Result> pass) {
        return Graphs.mapSubgraphs(g, sub -> {
            GraphPass.Result r = pass.apply(sub);
            addAll(r.changes());
            return r.graph();
        });
    }

    boolean isEmpty() {
        return counts.isEmpty();
    }

    Map<String, Integer> asMap() {
        return counts;
    }
}
