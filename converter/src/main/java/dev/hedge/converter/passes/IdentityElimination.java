package dev.hedge.converter.passes;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Removes Identity nodes and inference-mode Dropout nodes (no training_mode input, or a constant false
 * one, and no used mask), rewiring their readers to their input. Graph output names stay: an Identity
 * feeding a graph output is removed by renaming its input instead, when that input is made by a node.
 */
public final class IdentityElimination implements GraphPass {

    @Override
    public String name() {
        return "identity-elimination";
    }

    @Override
    public Result run(Graph g) {
        Changes changes = new Changes();
        Graph cur = changes.inSubgraphs(g, sub -> run(sub));
        List<String> candidates = new ArrayList<>();
        for (Node n : cur.nodes()) {
            if (n.op() == Op.Identity || n.op() == Op.Dropout) {
                candidates.add(n.name());
            }
        }
        for (String name : candidates) {
            Node n = find(cur, name);
            if (n == null || n.op() == Op.Dropout && !inferenceDropout(cur, n)) {
                continue;
            }
            Graph next = Graphs.bypass(cur, n, n.input(0), n.output(0));
            if (next != null) {
                cur = next;
                changes.add(n.op().name());
            }
        }
        return new Result(cur, changes.asMap());
    }

    @Override
    public String note(Map<String, Integer> changes) {
        return changes.isEmpty() ? "" : "removed " + Result.describe(changes);
    }

    private static Node find(Graph g, String name) {
        for (Node n : g.nodes()) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        return null;
    }

    /** Dropout copies its input unless training_mode is on; its mask must not be read. */
    private static boolean inferenceDropout(Graph g, Node n) {
        if (n.hasInput(2)) {
            Tensor mode = g.initializers().get(n.input(2));
            if (mode == null || mode.isEncoded() || mode.elementCount() != 1 || mode.getLong(0) != 0) {
                return false;
            }
        }
        String mask = n.output(1);
        return mask.isEmpty() || Graphs.readCounts(g).getOrDefault(mask, 0) == 0;
    }
}
