package dev.hedge.converter.quantize;

import dev.hedge.converter.passes.ActivationFusion;
import dev.hedge.format.Decoding;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.KernelCost;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.Work;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.plan.Plan;
import dev.hedge.plan.Planner;
import dev.hedge.plan.StepBenchmarks;
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
 * after the layer), the float form its node in the float graph, both at the model's input shapes. Every node
 * also pays the plan's per-step cost ({@link StepBenchmarks#STEP}); the Java reference's elementwise steps,
 * which the planner does not price (nothing competes with them), are priced as {@link StepBenchmarks#JAVA_ELTWISE}.
 * A layer that loses this comparison is then {@linkplain #confirm confirmed} on the whole graph: moving it to
 * float adds quantize / dequantize steps to its int8 neighbours and removes its own. A statically quantized file
 * has no float alternative at run time, so this is decided at conversion. Both forms are estimated with dense
 * weights. Layers inside If branches are checked in their branch, probed at the types of the values it reads
 * from outside (a branch that cannot be planned at the model's input shapes is left out); layers inside Loop
 * bodies are not (how often a body runs is known per run only).
 */
public final class SpeedCheck {

    /** Java reference ops priced per element as {@link StepBenchmarks#JAVA_ELTWISE}. */
    private static final java.util.Set<Op> ELEMENTWISE = java.util.EnumSet.of(Op.Cast, Op.Mul, Op.Add, Op.Sub,
            Op.Div, Op.Relu, Op.Clip, Op.LeakyRelu, Op.QuantizeLinear, Op.DequantizeLinear, Op.DynamicQuantizeLinear);

    /**
     * One layer's comparison. Nodes whose kernel has no measured cost are left out of the sums and listed as not
     * measured, so an int8 sum is a lower bound: int8 loses only when that bound already exceeds a fully
     * estimated float time.
     *
     * @param int8Kernels the kernel classes (or backend and op) of the int8 form's nodes
     * @param int8Unmeasured how many of the int8 form's nodes have no estimate
     * @param floatUnmeasured how many of the float form's nodes have no estimate
     * @param conversionNanos what moving the layer to float changes elsewhere in the graph (quantize / dequantize
     *     steps its int8 neighbours gain or lose); 0 until {@link #confirm}ed, NaN when some such step has no
     *     estimate
     */
    public record Verdict(String layer, double int8Nanos, String int8Kernels, int int8Unmeasured,
            double floatNanos, String floatKernels, int floatUnmeasured, boolean int8Measured,
            double conversionNanos) {

        /** Whether the float time is complete and some int8 node (its QLinear* / *Integer kernel) is measured. */
        public boolean estimated() {
            return floatUnmeasured == 0 && int8Measured && !Double.isNaN(conversionNanos);
        }

        /** int8 loses: even its measured part takes longer than the float form with its conversions. */
        public boolean int8Slower() {
            return estimated() && int8Nanos > floatTotalNanos();
        }

        /** The float form's time with the conversions it brings to its neighbours. */
        public double floatTotalNanos() {
            return floatNanos + (Double.isNaN(conversionNanos) ? 0 : conversionNanos);
        }

        public String describe() {
            String conv = conversionNanos == 0 ? "" : Double.isNaN(conversionNanos)
                    ? "; conversions in its neighbours not estimated"
                    : "; with " + signed(conversionNanos) + " of conversions in its neighbours";
            return "int8 " + (int8Unmeasured > 0 ? ">= " : "") + time(int8Nanos) + " vs fp32 "
                    + (floatUnmeasured > 0 ? ">= " : "") + time(floatTotalNanos()) + " (int8: " + int8Kernels
                    + "; fp32: " + floatKernels + conv + ")";
        }

        Verdict withConversions(double nanos) {
            return new Verdict(layer, int8Nanos, int8Kernels, int8Unmeasured, floatNanos, floatKernels,
                    floatUnmeasured, int8Measured, nanos);
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
        Estimator est = new Estimator(runtime);
        Graph fp = new ActivationFusion().apply(floatGraph);
        Map<String, Timing> f = byLayer(est.nodes(fp, inputShapes), layers);
        Map<String, Timing> q = byLayer(est.nodes(quantized, inputShapes), layers);
        Map<String, Verdict> out = new LinkedHashMap<>();
        for (String l : layers) {
            Timing a = q.get(l);
            Timing b = f.get(l);
            if (a != null && b != null) {
                out.put(l, new Verdict(l, a.nanos, a.describe(), a.unmeasured, b.nanos,
                        b.describe(), b.unmeasured, a.mainMeasured, 0));
            }
        }
        return out;
    }

    /**
     * The verdict on a layer that lost {@link #check}, weighed on the whole graph: {@code current} is the
     * quantized graph with the layer int8, {@code moved} the one with it in float. The layer's int8 time is its
     * nodes in {@code current}, its float time that of {@code local} (the float graph's node: its weights are
     * constants there, as they are once folded at load), and what the
     * move changes elsewhere (its int8 neighbours' new or vanished quantize / dequantize steps) the conversion
     * time; when one of those steps has no estimate, the verdict is not estimated (int8 stays).
     */
    public static Verdict confirm(Verdict local, Graph current, Graph moved, List<int[]> inputShapes,
            RuntimeOptions runtime) {
        Estimator est = new Estimator(runtime);
        List<NodeTime> a = est.nodes(current, inputShapes);
        List<NodeTime> b = est.nodes(moved, inputShapes);
        if (a == null || b == null) {
            return local.withConversions(Double.NaN);
        }
        List<String> layer = List.of(local.layer());
        Timing i8 = byLayer(a, layer).get(local.layer());
        if (i8 == null) {
            return local.withConversions(Double.NaN);
        }
        // nodes the move leaves as they were cancel out; what remains outside the layer is conversion
        Map<String, NodeTime> before = new HashMap<>();
        for (NodeTime t : a) {
            if (owner(t.name, layer) == null) {
                before.put(t.key(), t);
            }
        }
        double delta = 0;
        for (NodeTime t : b) {
            if (owner(t.name, layer) != null) {
                continue;
            }
            NodeTime same = before.remove(t.key());
            double was = same == null ? 0 : same.nanos;
            if (Double.isNaN(t.nanos) || Double.isNaN(was)) {
                if (same == null || !t.label.equals(same.label)) {
                    delta = Double.NaN;
                }
                continue;
            }
            delta += t.nanos - was;
        }
        for (NodeTime t : before.values()) {
            delta -= t.nanos; // NaN when a vanished step had no estimate
        }
        return new Verdict(local.layer(), i8.nanos, i8.describe(), i8.unmeasured, local.floatNanos(),
                local.floatKernels(), local.floatUnmeasured(), i8.mainMeasured, delta);
    }

    /** One main-graph node's estimate (NaN: no measured cost) and the kernel it would run on. */
    private record NodeTime(String name, Op op, String inputs, double nanos, String label) {
        /** Equal for the same node with the same input types in two graphs. */
        String key() {
            return name + "|" + op + "|" + inputs;
        }
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

    private static Map<String, Timing> byLayer(List<NodeTime> nodes, Collection<String> layers) {
        Map<String, Timing> out = new HashMap<>();
        if (nodes == null) {
            return out;
        }
        for (NodeTime n : nodes) {
            String owner = owner(n.name, layers);
            if (owner == null) {
                continue;
            }
            Timing t = out.computeIfAbsent(owner, k -> new Timing());
            if (Double.isNaN(n.nanos)) {
                t.unmeasured++;
                t.missing.add(n.label);
            } else {
                t.nanos += n.nanos;
                t.mainMeasured |= n.name.equals(owner);
                t.kernels.add(n.label);
            }
        }
        return out;
    }

    /** Per-node estimates as the host's planner would make them. */
    private static final class Estimator {
        final Planner planner;
        final KernelCosts costs;
        /** A frame's cost per step, 0 when it has no measurement (a fixed table without it). */
        final double stepNanos;

        Estimator(RuntimeOptions runtime) {
            List<Backend> backends = new ArrayList<>(runtime.backends());
            backends.add(RefBackend.INSTANCE);
            costs = runtime.kernelCosts();
            planner = new Planner(backends, null, costs, Decoding::densify);
            KernelCost step = costs.get(StepBenchmarks.STEP, StepBenchmarks.of(StepBenchmarks.STEP));
            stepNanos = step == null ? 0 : step.nanosPerUnit();
        }

        /**
         * Every non-constant node in order, an If's branches in its place (each probed on its own at the types of
         * what it reads; a branch that cannot be planned at these shapes, never taken with them, is left out);
         * null when the graph cannot be planned at these shapes.
         */
        List<NodeTime> nodes(Graph g, List<int[]> inputShapes) {
            Map<String, ValueType> types = types(g, inputShapes);
            if (types == null) {
                return null;
            }
            List<NodeTime> out = new ArrayList<>();
            collect(g, types, out);
            return out;
        }

        private void collect(Graph g, Map<String, ValueType> types, List<NodeTime> out) {
            // values of constants alone (x_scale * w_scale) are computed once at load: they cost nothing per run
            java.util.Set<String> constant = new java.util.HashSet<>(g.initializers().keySet());
            for (Node n : g.topologicalOrder()) {
                if (n.subgraphs().isEmpty() && n.inputs().stream().allMatch(i -> i.isEmpty() || constant.contains(i))) {
                    constant.addAll(n.outputs());
                    continue;
                }
                if (n.op() == Op.If) {
                    for (Graph body : n.subgraphs()) {
                        Probe p = probe(body, g, types);
                        Map<String, ValueType> inner = p == null ? null : types(p.graph(), p.shapes());
                        if (inner != null) {
                            collect(p.graph(), inner, out);
                        }
                    }
                    continue;
                }
                out.add(estimate(g, n, types));
            }
        }

        private NodeTime estimate(Graph g, Node n, Map<String, ValueType> types) {
            List<ValueType> ts = new ArrayList<>();
            List<Tensor> cs = new ArrayList<>();
            StringBuilder key = new StringBuilder();
            for (String in : n.inputs()) {
                Tensor c = g.initializers().get(in);
                cs.add(c);
                ValueType t = in.isEmpty() ? null : c != null ? new ValueType(c.dtype(), c.shape()) : types.get(in);
                ts.add(t);
                key.append(t == null ? "-" : t.dtype() + java.util.Arrays.toString(t.shape())).append(';');
            }
            double e;
            String label;
            try {
                Planner.Choice c = planner.rank(n, ts, cs).get(0);
                e = Double.isNaN(c.estimateNanos()) ? planner.estimate(n, ts, c.offer()) : c.estimateNanos();
                label = c.offer().kernelClass() != null ? c.offer().kernelClass()
                        : c.offer().backend().name() + " " + n.op();
                if (Double.isNaN(e) && c.offer().kernelClass() == null && c.offer().backend() == RefBackend.INSTANCE
                        && ELEMENTWISE.contains(n.op())) {
                    KernelCost k = costs.get(StepBenchmarks.JAVA_ELTWISE, StepBenchmarks.of(StepBenchmarks.JAVA_ELTWISE));
                    double work = Work.of(n, ts);
                    if (k != null && !Double.isNaN(work)) {
                        e = k.estimate(work, 1, false);
                        label = StepBenchmarks.JAVA_ELTWISE + " " + n.op();
                    }
                }
            } catch (RuntimeException ex) {
                e = Double.NaN;
                label = n.op() + " (no kernel)";
            }
            return new NodeTime(n.name(), n.op(), key.toString(), Double.isNaN(e) ? e : e + stepNanos, label);
        }
    }

    /** A branch as a graph of its own: what it reads from outside becomes inputs (or initializers, for constants). */
    private record Probe(Graph graph, List<int[]> shapes) {
    }

    private static Probe probe(Graph body, Graph outer, Map<String, ValueType> types) {
        if (!body.inputs().isEmpty()) {
            return null;
        }
        Graph.Builder b = body.toBuilder();
        List<int[]> shapes = new ArrayList<>();
        for (String v : body.freeVariables()) {
            Tensor c = outer.initializers().get(v);
            if (c != null) {
                b.initializer(v, c);
                continue;
            }
            ValueType t = types.get(v);
            if (t == null || t.dtype() == null || t.shape() == null) {
                return null;
            }
            long[] dims = new long[t.shape().length];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = t.shape()[i];
            }
            b.addInput(ValueInfo.of(v, t.dtype(), dims));
            shapes.add(t.shape());
        }
        return new Probe(b.build(), shapes);
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

    private static String signed(double nanos) {
        return (nanos < 0 ? "-" : "+") + time(Math.abs(nanos));
    }

    static String time(double nanos) {
        return nanos >= 1e6 ? String.format(Locale.ROOT, "~%.2f ms", nanos / 1e6)
                : String.format(Locale.ROOT, "~%.1f us", nanos / 1e3);
    }
}
