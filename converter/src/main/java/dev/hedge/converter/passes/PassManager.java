package dev.hedge.converter.passes;

import dev.hedge.converter.Converter.PassReport;
import dev.hedge.ir.Graph;
import dev.hedge.runtime.RuntimeOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the default pipeline: optional input-shape specialization, shape inference (so folding knows
 * static shapes), then the clean-up passes in rounds until a round changes nothing (at most
 * {@link #MAX_ROUNDS}), then shape inference again on the final graph. Reports one line per pass: the
 * node count (subgraphs included) before its first run, that count changed by what its own runs removed
 * or added, and its changes summed over the rounds.
 */
public final class PassManager {

    public static final int MAX_ROUNDS = 10;

    private PassManager() {
    }

    /** The clean-up passes, in the order a round runs them; folding evaluates with {@code runtime}. */
    public static List<GraphPass> cleanupPasses(RuntimeOptions runtime) {
        return List.of(new IdentityElimination(), new ConstantFolding(runtime), new BatchNormFolding(),
                new ActivationFusion(), new DeadNodeElimination());
    }

    /** The optimized graph and one report per pass. */
    public record Outcome(Graph graph, List<PassReport> reports) {
    }

    /** Specializes inputs to {@code inputShapes} (may be empty) and runs the default pipeline. */
    public static Outcome optimize(Graph g, Map<String, int[]> inputShapes) {
        return optimize(g, inputShapes, RuntimeOptions.reference());
    }

    /** As {@link #optimize(Graph, Map)}, evaluating and planning with {@code runtime}'s backends. */
    public static Outcome optimize(Graph g, Map<String, int[]> inputShapes, RuntimeOptions runtime) {
        Map<GraphPass, Tally> tallies = new LinkedHashMap<>();
        if (!inputShapes.isEmpty()) {
            g = runOnce(new FixInputShapes(inputShapes), g, tallies);
        }
        ShapeInference shapes = new ShapeInference(runtime);
        g = shapes.apply(g);
        List<GraphPass> cleanup = cleanupPasses(runtime);
        for (int round = 0; round < MAX_ROUNDS; round++) {
            boolean changed = false;
            for (GraphPass p : cleanup) {
                Tally t = tallies.computeIfAbsent(p, k -> new Tally());
                GraphPass.Result r = p.run(t.start(g));
                g = t.end(r);
                changed |= r.changed();
            }
            if (!changed) {
                break;
            }
        }
        g = runOnce(shapes, g, tallies);
        List<PassReport> reports = new ArrayList<>();
        for (Map.Entry<GraphPass, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            reports.add(new PassReport(e.getKey().name(), t.before, t.after, e.getKey().note(t.changes.asMap())));
        }
        return new Outcome(g, reports);
    }

    /** Runs {@code passes} once each, in order (for tests and custom pipelines). */
    public static Outcome run(Graph g, List<GraphPass> passes) {
        Map<GraphPass, Tally> tallies = new LinkedHashMap<>();
        for (GraphPass p : passes) {
            g = runOnce(p, g, tallies);
        }
        List<PassReport> reports = new ArrayList<>();
        tallies.forEach((p, t) -> reports.add(new PassReport(p.name(), t.before, t.after, p.note(t.changes.asMap()))));
        return new Outcome(g, reports);
    }

    private static Graph runOnce(GraphPass p, Graph g, Map<GraphPass, Tally> tallies) {
        Tally t = tallies.computeIfAbsent(p, k -> new Tally());
        return t.end(p.run(t.start(g)));
    }

    /**
     * A pass's node counts, its own doing only: before its first run, and that minus the nodes its runs
     * removed (other passes' work between its runs is not its); its summed changes.
     */
    private static final class Tally {
        int before = -1;
        int after;
        private int runBefore;
        final Changes changes = new Changes();

        Graph start(Graph g) {
            runBefore = g.deepNodeCount();
            if (before < 0) {
                before = runBefore;
                after = runBefore;
            }
            return g;
        }

        Graph end(GraphPass.Result r) {
            after += r.graph().deepNodeCount() - runBefore;
            changes.addAll(r.changes());
            return r.graph();
        }
    }
}
