package dev.hedge.converter.quantize;

import dev.hedge.converter.passes.ActivationFusion;
import dev.hedge.format.Decoding;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.plan.Plan;
import dev.hedge.plan.Planner;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whether each int8 layer (static or dynamic) would run slower than its float form on a host, from the
 * planner's own choice and cost estimate per node ({@link Planner#rank}, {@link Planner#estimate}): the
 * int8 form is the layer's nodes in the quantized graph (the QLinear* / *Integer node and the
 * QuantizeLinear, DequantizeLinear, Cast, Mul and Add nodes it added at its float boundaries, all named
 * after the layer), the float form its node in the float graph, both at the model's input shapes. A
 * statically quantized file has no float alternative at run time, so this is decided at conversion.
 * Both forms are estimated with dense weights. Layers inside If / Loop bodies are not checked (their
 * shapes are only known per run).
 */
public final class SpeedCheck {

    /**
     * One layer's comparison. Nodes whose kernel has no measured cost (the reference kernels of Cast, Mul, Add
     * around an int8 layer with a float output) are left out of the sums and listed as not measured, so an int8
     * sum is a lower bound: int8 loses only when that bound already exceeds a fully estimated float time.
     *
     * @param int8Kernels the kernel classes (or backend and op) of the int8 form's nodes
     * @param int8Unmeasured how many of the int8 form's nodes have no estimate
     * @param floatUnmeasured how many of the float form's nodes have no estimate
     */
    public record Verdict(String layer, double int8Nanos, String int8Kernels, int int8Unmeasured,
            double floatNanos, String floatKernels, int floatUnmeasured, boolean int8Measured) {

        /** Whether the float time is complete and some int8 node (its QLinear* / *Integer kernel) is measured. */
        public boolean estimated() {
            return floatUnmeasured == 0 && int8Measured;
        }

        /** int8 loses: even its measured part takes longer than the float form. */
        public boolean int8Slower() {
            return estimated() && int8Nanos > floatNanos;
        }

        public String describe() {
            return "int8 " + (int8Unmeasured > 0 ? ">= " : "") + time(int8Nanos) + " (" + int8Kernels + ") vs fp32 "
                    + (floatUnmeasured > 0 ? ">= " : "") + time(floatNanos) + " (" + floatKernels + ")";
        }
    }

    private SpeedCheck() {
    }

    /**
     * @param floatGraph the float graph the layers come from (activations may be split: they are fused back,
     *     as in the written file)
     * @param quantized the same graph after {@link ModelQuantizer}
     * @param layers the layers to compare, by name
     * @param inputShapes the main graph's input shapes
     * @param runtime the backends and kernel costs of the host the file will run on
     */
    public static Map<String, Verdict> check(Graph floatGraph, Graph quantized, Collection<String> layers,
            List<int[]> inputShapes, RuntimeOptions runtime) {
        List<Backend> backends = new ArrayList<>(runtime.backends());
        backends.add(RefBackend.INSTANCE);
        Planner planner = new Planner(backends, null, runtime.kernelCosts(), Decoding::densify);
        Graph fp = new ActivationFusion().apply(floatGraph);
        Map<String, Timing> f = times(planner, fp, layers, inputShapes);
        Map<String, Timing> q = times(planner, quantized, layers, inputShapes);
        Map<String, Verdict> out = new LinkedHashMap<>();
        for (String l : layers) {
            Timing a = q.get(l);
            Timing b = f.get(l);
            if (a != null && b != null) {
                out.put(l, new Verdict(l, a.nanos, a.describe(), a.unmeasured, b.nanos,
                        b.describe(), b.unmeasured, a.mainMeasured));
            }
        }
        return out;
    }

    private static final class Timing {
        double nanos;
        int unmeasured;
        /** The layer's own node (named as the layer) has an estimate. */
        boolean mainMeasured;
        final List<String> kernels = new ArrayList<>();
        final List<String> missing = new ArrayList<>();

        String describe() {
            return String.join(" + ", kernels) + (missing.isEmpty() ? "" : "; not measured: " + String.join(", ", missing));
        }
    }

    /** Per layer: the summed estimate of the main-graph nodes named after it. */
    private static Map<String, Timing> times(Planner planner, Graph g, Collection<String> layers,
            List<int[]> inputShapes) {
        Map<String, ValueType> types = types(g, inputShapes);
        Map<String, Timing> out = new HashMap<>();
        if (types == null) {
            return out;
        }
        // values of constants alone (x_scale * w_scale) are computed once at load: they cost nothing per run
        java.util.Set<String> constant = new java.util.HashSet<>(g.initializers().keySet());
        for (Node n : g.topologicalOrder()) {
            if (n.subgraphs().isEmpty() && n.inputs().stream().allMatch(i -> i.isEmpty() || constant.contains(i))) {
                constant.addAll(n.outputs());
                continue;
            }
            String owner = owner(n.name(), layers);
            if (owner == null) {
                continue;
            }
            List<ValueType> ts = new ArrayList<>();
            List<Tensor> cs = new ArrayList<>();
            for (String in : n.inputs()) {
                Tensor c = g.initializers().get(in);
                cs.add(c);
                ts.add(in.isEmpty() ? null : c != null ? new ValueType(c.dtype(), c.shape()) : types.get(in));
            }
            Timing t = out.computeIfAbsent(owner, k -> new Timing());
            double e;
            String label;
            try {
                Planner.Choice c = planner.rank(n, ts, cs).get(0);
                e = Double.isNaN(c.estimateNanos()) ? planner.estimate(n, ts, c.offer()) : c.estimateNanos();
                label = c.offer().kernelClass() != null ? c.offer().kernelClass()
                        : c.offer().backend().name() + " " + n.op();
            } catch (RuntimeException ex) {
                e = Double.NaN;
                label = n.op() + " (no kernel)";
            }
            if (Double.isNaN(e)) {
                t.unmeasured++;
                t.missing.add(label);
            } else {
                t.nanos += e;
                t.mainMeasured |= n.name().equals(owner);
                t.kernels.add(label);
            }
        }
        return out;
    }

    /** The layer a node belongs to: its own name, or the longest layer name it extends with '/'. */
    static String owner(String node, Collection<String> layers) {
        String best = null;
        for (String l : layers) {
            if ((node.equals(l) || node.startsWith(l + "/")) && (best == null || l.length() > best.length())) {
                best = l;
            }
        }
        return best;
    }

    /** The type of every main-graph value at these input shapes, as the reference planner infers them. */
    private static Map<String, ValueType> types(Graph g, List<int[]> inputShapes) {
        List<String> values = new ArrayList<>();
        for (Node n : g.nodes()) {
            for (String o : n.outputs()) {
                if (!o.isEmpty() && !values.contains(o)) {
                    values.add(o);
                }
            }
        }
        Graph.Builder probe = g.toBuilder();
        probe.outputs().clear();
        for (String v : values) {
            probe.addOutput(new ValueInfo(v, null, null));
        }
        Map<String, ValueType> m = new HashMap<>();
        try (Model model = Model.of(new ModelDef(probe.build(), Map.of()), RuntimeOptions.reference())) {
            Plan p = model.plan(inputShapes);
            for (int i = 0; i < values.size(); i++) {
                m.put(values.get(i), new ValueType(p.outputType(i), p.outputShape(i)));
            }
        } catch (RuntimeException e) {
            return null;
        }
        for (int i = 0; i < g.inputs().size(); i++) {
            m.put(g.inputs().get(i).name(), new ValueType(g.inputs().get(i).dtype(), inputShapes.get(i)));
        }
        return m;
    }

    static String time(double nanos) {
        return nanos >= 1e6 ? String.format(Locale.ROOT, "~%.2f ms", nanos / 1e6)
                : String.format(Locale.ROOT, "~%.1f us", nanos / 1e3);
    }
}
