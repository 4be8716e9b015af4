package dev.hedge.converter.passes;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes nodes whose outputs nothing reads, initializers nothing reads, trailing optional outputs nothing
 * reads (MaxPool indices, Dropout mask...), and value infos of values that no longer exist. A value read
 * by a subgraph (as a free variable) is read by the node holding that subgraph. Graph inputs are kept.
 */
public final class DeadNodeElimination implements GraphPass {

    private static final Set<Op> TRIMMABLE = Set.of(Op.MaxPool, Op.Dropout, Op.BatchNormalization,
            Op.LayerNormalization, Op.LSTM, Op.GRU, Op.RNN);

    @Override
    public String name() {
        return "dead-node-elimination";
    }

    @Override
    public Result run(Graph g) {
        Changes changes = new Changes();
        Graph cur = changes.inSubgraphs(g, sub -> run(sub));
        Set<String> live = new HashSet<>(cur.outputNames());
        List<Node> order = cur.topologicalOrder();
        List<Node> kept = new ArrayList<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            Node n = order.get(i);
            boolean used = false;
            for (String o : n.outputs()) {
                used |= !o.isEmpty() && live.contains(o);
            }
            if (!used) {
                changes.add("nodes");
                continue;
            }
            live.addAll(Graph.nodeReads(n));
            kept.add(trimOutputs(n, live, changes));
        }
        Collections.reverse(kept);
        Graph.Builder b = cur.toBuilder();
        b.nodes().clear();
        b.nodes().addAll(kept);
        Set<String> defined = new HashSet<>(cur.inputNames());
        for (Map.Entry<String, Tensor> e : cur.initializers().entrySet()) {
            if (live.contains(e.getKey())) {
                defined.add(e.getKey());
            } else {
                b.initializers().remove(e.getKey());
                changes.add("initializers");
            }
        }
        for (Node n : kept) {
            defined.addAll(n.outputs());
        }
        for (ValueInfo v : cur.valueInfos().values()) {
            if (!defined.contains(v.name())) {
                b.valueInfos().remove(v.name());
            }
        }
        return changes.isEmpty() && b.valueInfos().size() == cur.valueInfos().size() ? Result.unchanged(g)
                : new Result(b.build(), changes.asMap());
    }

    @Override
    public String note(Map<String, Integer> changes) {
        return changes.isEmpty() ? "" : "removed " + Result.describe(changes);
    }

    /**
     * Drops trailing optional outputs nobody reads. Only for ops whose extra outputs are by-products: the
     * output count of Split, If or Loop is part of their meaning.
     */
    private static Node trimOutputs(Node n, Set<String> live, Changes changes) {
        if (!TRIMMABLE.contains(n.op())) {
            return n;
        }
        int keep = n.outputs().size();
        while (keep > Math.max(1, n.op().minOutputs()) && !live.contains(n.output(keep - 1))) {
            keep--;
        }
        if (keep == n.outputs().size()) {
            return n;
        }
        changes.add("unused outputs", n.outputs().size() - keep);
        return n.withOutputs(n.outputs().subList(0, keep));
    }
}
