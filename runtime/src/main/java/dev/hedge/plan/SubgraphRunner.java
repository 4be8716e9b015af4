package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one subgraph (If branch, Loop body) inside a frame. Keeps a frame per input-shape signature; the
 * common case (same shapes as last time) costs one comparison and no allocation.
 */
final class SubgraphRunner {

    private static final int MAX_FRAMES = 8;

    private final Frame parent;
    private final Graph graph;
    private final List<Frame> frames = new ArrayList<>();
    private Frame last;
    private Frame.StepListener listener;

    SubgraphRunner(Frame parent, Graph graph) {
        this.parent = parent;
        this.graph = graph;
    }

    void setListener(Frame.StepListener l) {
        this.listener = l;
        for (Frame f : frames) {
            f.setListener(l);
        }
    }

    List<Tensor> run(List<Tensor> inputs) {
        if (inputs.size() != graph.inputs().size()) {
            throw new IllegalArgumentException("subgraph '" + graph.name() + "' takes " + graph.inputs().size()
                    + " inputs, given " + inputs.size());
        }
        Frame f = last;
        if (f == null || !f.accepts(inputs)) {
            f = find(inputs);
            last = f;
        }
        return f.run(inputs);
    }

    private Frame find(List<Tensor> inputs) {
        for (Frame f : frames) {
            if (f.accepts(inputs)) {
                return f;
            }
        }
        Plan plan = null;
        for (Plan p : parent.plan().subplans.getOrDefault(graph, List.of())) {
            if (Frame.accepts(p, parent, inputs)) {
                plan = p;
                break;
            }
        }
        if (plan == null) {
            List<ValueType> types = new ArrayList<>();
            for (Tensor t : inputs) {
                types.add(new ValueType(t.dtype(), t.shape()));
            }
            plan = parent.plan().planner.plan(graph, types, parent.runtimeScope());
        }
        Frame f = new Frame(plan, parent);
        f.setListener(listener);
        if (frames.size() >= MAX_FRAMES) {
            frames.remove(0);
        }
        frames.add(f);
        return f;
    }
}
