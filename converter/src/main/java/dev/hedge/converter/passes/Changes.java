package dev.hedge.converter.passes;

import java.util.LinkedHashMap;
import java.util.Map;

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

    boolean isEmpty() {
        return counts.isEmpty();
    }

    Map<String, Integer> asMap() {
        return counts;
    }
}
