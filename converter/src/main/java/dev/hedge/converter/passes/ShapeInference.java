package dev.hedge.converter.passes;

import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.plan.Plan;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Records the element type and shape of every value of the main graph in {@link Graph#valueInfos()}, as
 * the runtime planner computes them. Dynamic input dimensions are planned with a probe size; the shape of
 * any value that depends on a dynamic input (through data or through its shape) is then recorded with its
 * rank only (all dimensions dynamic), so only facts true for every input size are recorded. Declared value
 * infos and graph outputs are completed, never contradicted (a named dynamic dimension keeps its name).
 * Subgraph values are not recorded. When the graph cannot be planned (an input of unknown rank, a missing
 * kernel), nothing changes.
 */
public final class ShapeInference implements GraphPass {

    /** Sizes tried for dynamic dimensions, in order, until the graph plans. */
    private static final int[] PROBES = {1, 64, 512};

    private final RuntimeOptions runtime;

    /** Plans with the runtime's default backends. */
    public ShapeInference() {
        this(RuntimeOptions.reference());
    }

    /** Plans with these backends (the Java reference backend is always the fallback). */
    public ShapeInference(RuntimeOptions runtime) {
        this.runtime = runtime;
    }

    @Override
    public String name() {
        return "shape-inference";
    }

    @Override
    public String note(Map<String, Integer> changes) {
        return changes.isEmpty() ? "nothing inferred" : Result.describe(changes);
    }

    @Override
    public Result run(Graph g) {
        for (ValueInfo in : g.inputs()) {
            if (in.dims() == null || in.dtype() == null) {
                return Result.unchanged(g);
            }
        }
        List<String> values = new ArrayList<>(g.outputNames());
        Set<String> seen = new HashSet<>(values);
        for (Node n : g.nodes()) {
            for (String o : n.outputs()) {
                if (!o.isEmpty() && seen.add(o)) {
                    values.add(o);
                }
            }
        }
        Graph.Builder probe = g.toBuilder();
        probe.outputs().clear();
        for (String v : values) {
            probe.addOutput(new ValueInfo(v, null, null));
        }
        Plan plan = plan(probe.build());
        if (plan == null) {
            return Result.unchanged(g);
        }
        Set<String> dynamic = dependsOnDynamicInputs(g);
        Changes changes = new Changes();
        Graph.Builder b = g.toBuilder();
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            DType t = plan.outputType(i);
            int[] shape = plan.outputShape(i);
            List<Dim> dims = null;
            if (shape != null) {
                dims = new ArrayList<>();
                for (int d : shape) {
                    dims.add(dynamic.contains(v) ? Dim.dynamic(null) : Dim.of(d));
                }
            }
            if (t == null && dims == null) {
                continue;
            }
            changes.add(dims == null ? "types only" : dynamic.contains(v) ? "ranks" : "static shapes");
            if (!g.initializers().containsKey(v) && !Graphs.isInput(g, v)) {
                ValueInfo declared = g.valueInfos().get(v);
                b.valueInfo(declared == null ? new ValueInfo(v, t, dims) : complete(declared, t, dims));
            }
            int out = g.outputNames().indexOf(v);
            if (out >= 0) {
                b.outputs().set(out, complete(g.outputs().get(out), t, dims));
            }
        }
        return new Result(b.build(), changes.asMap());
    }

    private Plan plan(Graph g) {
        for (int probe : PROBES) {
            List<int[]> shapes = new ArrayList<>();
            for (ValueInfo in : g.inputs()) {
                shapes.add(in.dims().stream().mapToInt(d -> d.isFixed() ? (int) d.value() : probe).toArray());
            }
            try (Model m = Model.of(new ModelDef(g, Map.of()), runtime)) {
                return m.plan(shapes);
            } catch (RuntimeException e) {
                // this probe size does not fit the model (or a kernel is missing): try the next one
            }
        }
        return null;
    }

    /** Values reachable from an input with a dynamic dimension. */
    private static Set<String> dependsOnDynamicInputs(Graph g) {
        Set<String> dyn = new LinkedHashSet<>();
        for (ValueInfo in : g.inputs()) {
            if (!in.isStatic()) {
                dyn.add(in.name());
            }
        }
        for (Node n : g.topologicalOrder()) {
            boolean reads = false;
            for (String r : Graph.nodeReads(n)) {
                reads |= dyn.contains(r);
            }
            if (reads) {
                for (String o : n.outputs()) {
                    if (!o.isEmpty()) {
                        dyn.add(o);
                    }
                }
            }
        }
        return dyn;
    }

    /** A declared value info with what it lacks (type, rank, fixed sizes) filled in; declared facts are kept. */
    private static ValueInfo complete(ValueInfo declared, DType t, List<Dim> dims) {
        DType type = declared.dtype() != null ? declared.dtype() : t;
        List<Dim> d = declared.dims();
        if (d == null) {
            d = dims;
        } else if (dims != null && dims.size() == d.size()) {
            List<Dim> merged = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) {
                merged.add(d.get(i).isFixed() || !dims.get(i).isFixed() ? d.get(i) : dims.get(i));
            }
            d = merged;
        }
        return new ValueInfo(declared.name(), type, d);
    }
}
