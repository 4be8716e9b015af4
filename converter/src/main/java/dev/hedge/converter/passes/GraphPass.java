package dev.hedge.converter.passes;

import dev.hedge.ir.Graph;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A graph rewrite: a pure function {@code Graph -> Graph} that keeps the graph's inputs, outputs (names
 * and order) and results. {@link #run} also says what changed, counted per kind of change, for reports.
 */
public interface GraphPass {

    /** Short name for reports, e.g. {@code batchnorm-folding}. */
    String name();

    /** The rewritten graph and the changes made (empty when the graph is unchanged). */
    Result run(Graph g);

    default Graph apply(Graph g) {
        return run(g).graph();
    }

    /** One report line from change counts (summed over several runs). */
    default String note(Map<String, Integer> changes) {
        return Result.describe(changes);
    }

    /** A rewritten graph and what was done to it. */
    record Result(Graph graph, Map<String, Integer> changes) {

        public Result {
            changes = Collections.unmodifiableMap(new LinkedHashMap<>(changes));
        }

        public static Result unchanged(Graph g) {
            return new Result(g, Map.of());
        }

        public boolean changed() {
            return !changes.isEmpty();
        }

        /** "3 Conv, 1 Gemm": counts in insertion order. */
        public static String describe(Map<String, Integer> changes) {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<String, Integer> e : changes.entrySet()) {
                sb.append(sb.length() == 0 ? "" : ", ").append(e.getValue()).append(' ').append(e.getKey());
            }
            return sb.toString();
        }
    }
}
