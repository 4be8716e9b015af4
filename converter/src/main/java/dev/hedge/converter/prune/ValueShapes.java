package dev.hedge.converter.prune;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The static shape of every value of a main graph, as the runtime planner computes it for given input shapes. */
public final class ValueShapes {

    private ValueShapes() {
    }

    /**
     * Shapes of the graph inputs, initializers and every node output the planner knows before running.
     *
     * @param inputShapes shapes for inputs with dynamic dimensions (others use the declared shape; remaining
     *     dynamic dims are 1)
     * @throws IllegalArgumentException when the graph cannot be planned for these shapes (the planner's message)
     */
    public static Map<String, int[]> of(Graph g, Map<String, int[]> inputShapes, RuntimeOptions runtime) {
        List<String> values = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            for (String o : n.outputs()) {
                if (!o.isEmpty() && seen.add(o)) {
                    values.add(o);
                }
            }
        }
        for (String o : g.outputNames()) {
            if (seen.add(o)) {
                values.add(o);
            }
        }
        Graph.Builder probe = g.toBuilder();
        probe.outputs().clear();
        for (String v : values) {
            probe.addOutput(new ValueInfo(v, null, null));
        }
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (Model m = Model.of(new ModelDef(probe.build(), Map.of()), runtime)) {
            List<int[]> ins = m.defaultInputShapes(inputShapes);
            for (int i = 0; i < ins.size(); i++) {
                shapes.put(g.inputs().get(i).name(), ins.get(i).clone());
            }
            Plan plan;
            try {
                plan = m.plan(ins);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("cannot plan graph '" + g.name() + "' to learn its shapes: "
                        + e.getMessage(), e);
            }
            for (int i = 0; i < values.size(); i++) {
                int[] s = plan.outputShape(i);
                if (s != null) {
                    shapes.put(values.get(i), s);
                }
            }
        }
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            shapes.putIfAbsent(e.getKey(), e.getValue().shape());
        }
        return shapes;
    }
}
