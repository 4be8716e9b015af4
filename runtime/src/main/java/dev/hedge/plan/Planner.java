package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Capability;
import dev.hedge.kernels.Deferred;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.KernelCost;
import dev.hedge.kernels.KernelCosts;
import dev.hedge.kernels.Offer;
import dev.hedge.kernels.Work;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Builds a {@link Plan} for a graph and concrete input types: topological order, kernel choice, output
 * shapes (values computable from shapes alone are computed here, once), liveness and arena offsets.
 */
public final class Planner {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Planner.class);
    /** Plan-time evaluation is skipped for results larger than this (they stay run-time work). */
    private static final long MAX_FOLD_BYTES = 64L << 20;

    private final List<Backend> backends;
    private final int threads;
    private final Function<Tensor, Tensor> decoder;
    private final WorkerPool pool;
    private final KernelCosts costs;
    private final List<String> unavailable;

    /**
     * A planner without a thread pool or kernel costs: kernels run on the calling thread and each node
     * goes to the first backend that offers to run it.
     *
     * @param backends in priority order; the last should run everything (the Java reference backend)
     * @param decoder turns an encoded (sparse / codebook / packed) constant into a dense tensor; applied
     *     lazily, only for constants some step reads densely (a backend's offer may read the stored
     *     encoding, see {@link Offer#readsEncoded})
     */
    public Planner(List<Backend> backends, int threads, Function<Tensor, Tensor> decoder) {
        this(backends, null, threads, null, decoder, List.of());
    }

    /**
     * @param pool intra-op threads (null: none); its size is the thread budget kernels are prepared for
     * @param costs measured kernel costs to choose between backends (null: backend priority only)
     */
    public Planner(List<Backend> backends, WorkerPool pool, KernelCosts costs, Function<Tensor, Tensor> decoder) {
        this(backends, pool, pool == null ? 1 : pool.threads(), costs, decoder, List.of());
    }

    /** @param unavailable backends wanted but not available here, as "name: reason", for {@link Plan#explain} */
    public Planner(List<Backend> backends, WorkerPool pool, KernelCosts costs, Function<Tensor, Tensor> decoder,
            List<String> unavailable) {
        this(backends, pool, pool == null ? 1 : pool.threads(), costs, decoder, unavailable);
    }

    private Planner(List<Backend> backends, WorkerPool pool, int threads, KernelCosts costs,
            Function<Tensor, Tensor> decoder, List<String> unavailable) {
        this.backends = List.copyOf(backends);
        this.pool = pool;
        this.threads = Math.max(1, threads);
        this.costs = costs;
        this.decoder = decoder;
        this.unavailable = List.copyOf(unavailable);
    }

    public int threads() {
        return threads;
    }

    /** The intra-op pool, or null when kernels run on the calling thread only. */
    WorkerPool pool() {
        return pool;
    }

    public List<Backend> backends() {
        return backends;
    }

    /** Backends wanted but not available here, as "name: reason". */
    public List<String> unavailable() {
        return unavailable;
    }

    /** Plans the main graph. */
    public Plan plan(Graph graph, List<ValueType> inputTypes) {
        return plan(graph, inputTypes, Scope.EMPTY);
    }

    /** What a subgraph sees of its enclosing graph at plan time. */
    interface Scope {
        Scope EMPTY = name -> null;

        /** Plan-time slot info of an enclosing value, or null if unknown here. */
        Slot lookup(String name);
    }

    Plan plan(Graph graph, List<ValueType> inputTypes, Scope outer) {
        List<ValueInfo> declared = graph.inputs();
        if (inputTypes.size() != declared.size()) {
            throw new IllegalArgumentException("graph '" + graph.name() + "' has " + declared.size()
                    + " inputs, planned with " + inputTypes.size());
        }
        Map<String, Slot> byName = new LinkedHashMap<>();
        List<Slot> slots = new ArrayList<>();
        Function<String, Slot> newSlot = n -> {
            Slot s = new Slot(slots.size(), n);
            slots.add(s);
            byName.put(n, s);
            return s;
        };
        int[] inputSlots = new int[declared.size()];
        for (int i = 0; i < declared.size(); i++) {
            Slot s = newSlot.apply(declared.get(i).name());
            ValueType t = inputTypes.get(i);
            s.kind = Slot.Kind.INPUT;
            s.dtype = t.dtype();
            s.shape = t.shape() == null ? null : t.shape().clone();
            if (s.shape == null) {
                // a subgraph input whose shape is only known per iteration
                s.kind = Slot.Kind.DYNAMIC;
            }
            s.first = -1;
            inputSlots[i] = s.id;
        }
        for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
            if (byName.containsKey(e.getKey())) {
                continue; // an input with a default value: the input wins (ONNX semantics)
            }
            Slot s = newSlot.apply(e.getKey());
            Tensor t = e.getValue();
            s.kind = Slot.Kind.KNOWN;
            s.constant = true;
            if (t.isEncoded()) {
                s.encoded = t;
            } else {
                s.value = t;
            }
            s.dtype = t.dtype();
            s.shape = t.shape();
            s.quant = t.quant();
        }
        List<String> captureNames = new ArrayList<>();
        for (String free : graph.freeVariables()) {
            if (byName.containsKey(free)) {
                continue;
            }
            Slot o = outer.lookup(free);
            if (o == null) {
                throw new UnsupportedModelException("graph '" + graph.name() + "' reads '" + free
                        + "', which no enclosing graph defines");
            }
            Slot s = newSlot.apply(free);
            s.dtype = o.dtype;
            s.quant = o.quant;
            s.constant = o.constant;
            if (o.kind == Slot.Kind.KNOWN) {
                s.kind = Slot.Kind.KNOWN;
                s.value = dense(o);
                s.encoded = o.encoded;
                s.shape = o.shape;
            } else {
                s.kind = Slot.Kind.CAPTURE;
                s.shape = o.shapeKnown() ? o.shape : null;
                captureNames.add(free);
            }
            s.first = -1;
        }

        List<Node> order = graph.topologicalOrder();
        List<Step> steps = new ArrayList<>();
        for (Node node : order) {
            planNode(graph, node, byName, newSlot, steps, outer, slots);
        }

        String[] outNames = graph.outputNames().toArray(new String[0]);
        int[] outputSlots = new int[outNames.length];
        for (int i = 0; i < outNames.length; i++) {
            Slot s = byName.get(outNames[i]);
            if (s == null) {
                throw new UnsupportedModelException("graph '" + graph.name() + "' output '" + outNames[i]
                        + "' is not produced by any node");
            }
            outputSlots[i] = s.id;
            s.last = Integer.MAX_VALUE;
            dense(s);
        }
        // values read by subgraphs may be looked up by name while running (Frame.runtimeScope)
        for (Step st : steps) {
            for (int id : st.captures) {
                dense(slots.get(id));
            }
        }
        long arena = placeArena(slots, steps);
        return new Plan(graph, slots.toArray(new Slot[0]), steps.toArray(new Step[0]), inputSlots, outputSlots,
                captureNames, arena, this);
    }

    private void planNode(Graph graph, Node node, Map<String, Slot> byName, Function<String, Slot> newSlot,
            List<Step> steps, Scope outer, List<Slot> slotArr) {
        int n = node.inputs().size();
        int[] in = new int[n];
        for (int i = 0; i < n; i++) {
            String name = node.input(i);
            if (name.isEmpty()) {
                in[i] = -1;
                continue;
            }
            Slot s = byName.get(name);
            if (s == null) {
                throw new UnsupportedModelException(node.describe() + " reads '" + name + "', which is not defined"
                        + " before it in graph '" + graph.name() + "'");
            }
            in[i] = s.id;
        }
        Set<String> reads = Graph.nodeReads(node);
        List<Integer> caps = new ArrayList<>();
        for (String r : reads) {
            Slot s = byName.get(r);
            if (s != null && !node.inputs().contains(r)) {
                caps.add(s.id);
            }
        }
        int[] out = new int[node.outputs().size()];
        for (int i = 0; i < out.length; i++) {
            String name = node.output(i);
            if (name.isEmpty()) {
                out[i] = -1;
                continue;
            }
            if (byName.containsKey(name)) {
                throw new UnsupportedModelException(node.describe() + " writes '" + name + "', already defined");
            }
            out[i] = newSlot.apply(name).id;
        }
        Step step = new Step(steps.size(), node, in, out, caps.stream().mapToInt(Integer::intValue).toArray());
        prepareStatic(step, slotArr, byName, outer);
        if (!step.deferred && allOutputsKnown(step, slotArr)) {
            return;
        }
        if (!step.deferred && foldable(step, slotArr)) {
            fold(step, slotArr);
            return;
        }
        steps.add(step);
        int idx = steps.size() - 1;
        for (int id : in) {
            if (id >= 0) {
                slotArr.get(id).last = Math.max(slotArr.get(id).last, idx);
            }
        }
        for (int id : step.captures) {
            slotArr.get(id).last = Math.max(slotArr.get(id).last, idx);
        }
        for (int id : out) {
            if (id >= 0) {
                slotArr.get(id).first = idx;
                slotArr.get(id).last = Math.max(slotArr.get(id).last, idx);
            }
        }
    }

    /** The dense value of a known slot, decoding an encoded constant the first time it is needed. */
    Tensor dense(Slot s) {
        if (s.value == null && s.encoded != null) {
            s.value = decoder.apply(s.encoded);
        }
        return s.value;
    }

    /**
     * Points the step's encoded inputs at their stored form (a view slot per use) when its kernel consumes
     * them, else makes sure their dense form exists.
     */
    private void bindEncodedInputs(Step step, List<Slot> slots) {
        for (int i = 0; i < step.inputs.length; i++) {
            int id = step.inputs[i];
            if (id < 0 || slots.get(id).encoded == null) {
                continue;
            }
            Slot s = slots.get(id);
            if (!step.readsEncoded) {
                dense(s);
                continue;
            }
            Slot v = new Slot(slots.size(), s.name);
            v.kind = Slot.Kind.KNOWN;
            v.constant = true;
            v.encodedView = true;
            v.value = s.encoded;
            v.dtype = s.dtype;
            v.shape = s.shape;
            v.quant = s.quant;
            slots.add(v);
            step.inputs[i] = v.id;
        }
    }

    /** Tries to prepare the step with plan-time knowledge; marks it deferred when that is not enough. */
    private void prepareStatic(Step step, List<Slot> slots, Map<String, Slot> byName, Scope outer) {
        List<ValueType> types = new ArrayList<>();
        for (int id : step.inputs) {
            types.add(id < 0 ? null : new ValueType(slots.get(id).dtype, slots.get(id).shapeKnown() ? slots.get(id).shape : null));
        }
        for (int id : step.inputs) {
            if (id >= 0 && slots.get(id).dtype == null) {
                markDeferred(step, slots);
                return;
            }
        }
        List<Tensor> constants = constants(step.inputs, slots::get, true);
        Scope scope = name -> {
            Slot s = byName.get(name);
            if (s != null) {
                dense(s);
            }
            return s != null ? s : outer.lookup(name);
        };
        Prepared<PlanPrepareContext> p;
        try {
            p = prepare(step.node, types, constants, offer -> new PlanPrepareContext(this, step.node, step.inputs,
                    slots, scope, offer.readsEncoded()));
        } catch (Deferred d) {
            markDeferred(step, slots);
            return;
        } catch (HedgeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new UnsupportedModelException(step.node.describe() + ": " + e.getMessage());
        }
        PlanPrepareContext ctx = p.context();
        step.kernel = p.kernel();
        step.readsEncoded = p.choice().offer().readsEncoded();
        bindEncodedInputs(step, slots);
        step.backend = p.choice().offer().backend().name();
        step.kernelClass = p.choice().offer().kernelClass();
        step.reason = p.choice().reason();
        step.estimateNanos = p.choice().estimateNanos();
        step.packedBytes = ctx.packedBytes();
        step.scratchBytes = ctx.scratchBytes();
        step.dynamicOutputs = ctx.dynamicOutputs();
        step.subplans = ctx.subplans();
        for (int i = 0; i < step.outputs.length; i++) {
            int id = step.outputs[i];
            if (id < 0) {
                continue;
            }
            Slot s = slots.get(id);
            s.dtype = ctx.outputType(i);
            s.quant = ctx.outputQuant(i);
            if (step.dynamicOutputs[i]) {
                s.kind = Slot.Kind.DYNAMIC;
                s.shape = null;
            } else if (ctx.outputValue(i) != null) {
                s.kind = Slot.Kind.KNOWN;
                s.value = ctx.outputValue(i);
                s.shape = s.value.shape();
            } else {
                s.kind = Slot.Kind.ARENA;
                s.shape = ctx.outputShape(i);
                s.bytes = s.dtype.byteSize(Tensor.elementCount(s.shape));
            }
        }
    }

    /** A deferred step reads its encoded constants dense: offers at run time see only the bound values. */
    private void markDeferred(Step step, List<Slot> slots) {
        step.deferred = true;
        step.kernel = null;
        step.readsEncoded = false;
        bindEncodedInputs(step, slots);
        for (int id : step.outputs) {
            if (id >= 0) {
                slots.get(id).kind = Slot.Kind.DYNAMIC;
                slots.get(id).shape = null;
                slots.get(id).dtype = null;
            }
        }
    }

    /** A chosen offer: why, and its estimated time (NaN when not estimated). */
    public record Choice(Offer offer, double estimateNanos, String reason) {
    }

    /** A kernel prepared in its context, and the choice that made it. */
    record Prepared<C extends BasePrepareContext>(Kernel kernel, C context, Choice choice) {
    }

    /**
     * Tries the ranked offers in turn: the first whose kernel exists and prepares wins. An offer whose
     * kernel throws {@link UnsupportedModelException} or a {@link LinkageError} gives way to the next one
     * (ultimately the Java backend); every other exception, {@link Deferred} included, propagates for the
     * caller to report.
     * {@code contexts} makes a fresh context per attempt, giving encoded constants as stored or dense as
     * the offer reads them.
     */
    <C extends BasePrepareContext> Prepared<C> prepare(Node node, List<ValueType> types, List<Tensor> constants,
            Function<Offer, C> contexts) {
        List<Choice> ranked = rank(node, types, constants);
        List<String> declined = new ArrayList<>();
        RuntimeException last = null;
        for (int i = 0; i < ranked.size(); i++) {
            Choice c = ranked.get(i);
            Kernel k;
            C ctx;
            try {
                k = c.offer().factory().get();
                if (k == null) {
                    declined.add(c.offer().backend().name() + " declined");
                    continue;
                }
                ctx = contexts.apply(c.offer());
                k.prepare(ctx);
            } catch (UnsupportedModelException | LinkageError e) {
                // a kernel that cannot take the node, or whose native code is missing: the next offer runs it
                if (i + 1 == ranked.size()) {
                    throw e;
                }
                declined.add(c.offer().backend().name() + ": " + (e instanceof LinkageError ? e.toString()
                        : e.getMessage()));
                last = e instanceof UnsupportedModelException ? (UnsupportedModelException) e
                        : new UnsupportedModelException(node.describe() + ": " + e);
                continue;
            }
            ctx.checkOutputsSet();
            Choice chosen = declined.isEmpty() ? c
                    : new Choice(c.offer(), c.estimateNanos(), c.reason() + "; after " + String.join("; ", declined));
            return new Prepared<>(k, ctx, chosen);
        }
        if (last != null) {
            throw last;
        }
        throw noBackend(node, types);
    }

    /**
     * Every backend's offers for a node, best first: by estimated time when every offer has a measured
     * kernel cost and the node's work is known, else in backend priority order. Offers without a kernel class
     * that come after at least two with one do not block the comparison: they rank after the compared ones. Public so that the
     * converter can ask what a layer would cost in each precision before choosing one.
     */
    public List<Choice> rank(Node node, List<ValueType> types, List<Tensor> constants) {
        List<Offer> offers = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Backend b : backends) {
            try {
                offers.addAll(b.offers(node, types, constants));
            } catch (RuntimeException | LinkageError e) {
                // a broken backend costs its offers, never the plan: the others (Java last) still run the node
                LOG.warn("{}: backend {} failed to make offers: {}", node.describe(), b.name(), e.toString());
                failed.add(b.name() + " failed: " + e);
            }
        }
        if (offers.isEmpty()) {
            throw noBackend(node, types);
        }
        String note = failed.isEmpty() ? "" : "; " + String.join("; ", failed);
        if (offers.size() == 1) {
            return List.of(new Choice(offers.get(0), Double.NaN, "only offer" + note));
        }
        double work = Work.of(node, types);
        double weights = Work.weights(node, types);
        double rows = Work.rows(node, types);
        // the leading offers with a kernel class are compared by cost; offers without one that come after all of
        // them (the Java reference kernels of the quantized ops) stay behind them in priority order
        int costed = 0;
        while (costed < offers.size() && offers.get(costed).kernelClass() != null) {
            costed++;
        }
        if (costed < 2) {
            costed = offers.size();
        }
        // measuring a class is only worth it when every compared offer has one
        boolean measure = !Double.isNaN(work) && offers.subList(0, costed).stream().allMatch(o -> o.kernelClass() != null);
        double[] est = new double[offers.size()];
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < est.length; i++) {
            Offer o = offers.get(i);
            KernelCost cost = null;
            if (costs != null && o.kernelClass() != null && i < costed) {
                cost = costs.get(o.kernelClass());
                if (cost == null && measure) {
                    cost = costs.get(o.kernelClass(), o.backend().benchmark(o.kernelClass()));
                }
            }
            est[i] = cost == null || Double.isNaN(work) ? Double.NaN : estimate(cost, work, weights, rows, threads, o);
            if (cost == null && i < costed) {
                unknown.add(o.kernelClass() == null ? o.backend().name() + " (no kernel class)" : o.kernelClass());
            }
        }
        Integer[] order = new Integer[est.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        boolean estimated = unknown.isEmpty() && !Double.isNaN(work);
        if (estimated) {
            // stable: ties keep priority
            java.util.Arrays.sort(order, 0, costed, (x, y) -> Double.compare(est[x], est[y]));
        }
        List<Choice> l = new ArrayList<>();
        for (int r = 0; r < order.length; r++) {
            int i = order[r];
            String reason;
            if (!estimated) {
                reason = "backend priority (" + (Double.isNaN(work) ? "work unknown: shapes not known"
                        : "no measured cost for " + String.join(", ", unknown)) + ")";
            } else if (r >= costed) {
                reason = "backend priority (no kernel class: after the measured offers)";
            } else {
                reason = explain(offers, est, order, r, costed);
            }
            l.add(new Choice(offers.get(i), est[i], reason + note));
        }
        return l;
    }

    /**
     * The estimated time of one offer for a node, by the same cost model {@link #rank} uses (measuring the
     * offer's kernel class once per host when its backend has a benchmark for it); NaN when the class or the
     * work is unknown. For the converter, which weighs a layer's int8 kernels against its float ones even
     * where the planner has nothing to compare (the int8 node has one classed offer).
     */
    public double estimate(Node node, List<ValueType> types, Offer o) {
        double work = Work.of(node, types);
        if (costs == null || o.kernelClass() == null || Double.isNaN(work)) {
            return Double.NaN;
        }
        KernelCost cost = costs.get(o.kernelClass(), o.backend().benchmark(o.kernelClass()));
        return cost == null ? Double.NaN : estimate(cost, work, Work.weights(node, types),
                Work.rows(node, types), threads, o);
    }

    /** A sparse offer does its density's share of the work over its density's share of the weights. */
    private static double estimate(KernelCost cost, double work, double weights, double rows, int threads,
            Offer o) {
        return cost.estimate(work * o.workScale(), Double.isNaN(weights) ? 0 : weights * o.workScale(),
                Double.isNaN(rows) ? 0 : rows, threads, o.parallel());
    }

    /** Why the offer at rank {@code r} stands where it does, naming the alternatives and their estimates. */
    private static String explain(List<Offer> offers, double[] est, Integer[] order, int r, int compared) {
        Offer me = offers.get(order[r]);
        StringBuilder sb = new StringBuilder();
        sb.append(label(me)).append(' ').append(time(est[order[r]]));
        for (int q = 0; q < compared; q++) {
            if (q == r) {
                continue;
            }
            Offer o = offers.get(order[q]);
            sb.append(q < r ? "; behind " : "; beats ").append(label(o)).append(' ').append(time(est[order[q]]));
        }
        for (int q = r + 1; q < compared; q++) {
            Offer o = offers.get(order[q]);
            if (o.precision() == Capability.Precision.INT8 && me.precision() != Capability.Precision.INT8) {
                sb.append("; int8 kernel slower on this host: stays ").append(me.precision().name().toLowerCase());
                break;
            }
        }
        return sb.toString();
    }

    private static String label(Offer o) {
        return o.kernelClass() + (o.precision() == Capability.Precision.OTHER ? ""
                : "/" + o.precision().name().toLowerCase());
    }

    private static String time(double nanos) {
        return nanos >= 1e6 ? String.format(java.util.Locale.ROOT, "~%.2f ms", nanos / 1e6)
                : String.format(java.util.Locale.ROOT, "~%.1f us", nanos / 1e3);
    }

    /**
     * The value of each constant input, null for the others: as stored (possibly encoded) when
     * {@code stored}, else the value the slot holds (dense, or the stored form for a view slot).
     */
    static List<Tensor> constants(int[] inputs, java.util.function.IntFunction<Slot> slots, boolean stored) {
        List<Tensor> l = new ArrayList<>();
        for (int id : inputs) {
            Slot s = id < 0 ? null : slots.apply(id);
            l.add(s == null || !s.constant || s.kind != Slot.Kind.KNOWN ? null
                    : stored && s.encoded != null ? s.encoded : s.value);
        }
        return l;
    }

    private static UnsupportedModelException noBackend(Node node, List<ValueType> types) {
        StringBuilder sb = new StringBuilder();
        for (ValueType t : types) {
            sb.append(sb.length() == 0 ? "" : ", ").append(t == null ? "-" : t.dtype());
        }
        return new UnsupportedModelException(node.describe() + ": no backend runs " + node.op() + " with inputs ("
                + sb + ")");
    }

    private static boolean allOutputsKnown(Step step, List<Slot> slots) {
        for (int id : step.outputs) {
            if (id >= 0 && slots.get(id).kind != Slot.Kind.KNOWN) {
                return false;
            }
        }
        return true;
    }

    private static boolean foldable(Step step, List<Slot> slots) {
        if (!step.node.subgraphs().isEmpty()) {
            return false;
        }
        for (boolean d : step.dynamicOutputs) {
            if (d) {
                return false;
            }
        }
        for (int id : step.inputs) {
            if (id >= 0 && slots.get(id).kind != Slot.Kind.KNOWN) {
                return false;
            }
        }
        long bytes = 0;
        for (int id : step.outputs) {
            if (id >= 0) {
                bytes += slots.get(id).bytes;
            }
        }
        return bytes <= MAX_FOLD_BYTES;
    }

    /** Runs a step whose inputs are all known now; its outputs become known values. */
    private void fold(Step step, List<Slot> slots) {
        Tensor[] ins = new Tensor[step.inputs.length];
        for (int i = 0; i < ins.length; i++) {
            ins[i] = step.inputs[i] < 0 ? null : slots.get(step.inputs[i]).value;
        }
        Tensor[] outs = new Tensor[step.outputs.length];
        for (int i = 0; i < outs.length; i++) {
            int id = step.outputs[i];
            if (id >= 0) {
                Slot s = slots.get(id);
                outs[i] = Tensor.allocate(s.dtype, s.shape);
                if (s.quant != null) {
                    outs[i] = outs[i].withQuant(s.quant);
                }
            }
        }
        ByteBuffer scratch = ByteBuffer.allocateDirect((int) Math.max(0, step.scratchBytes))
                .order(ByteOrder.LITTLE_ENDIAN);
        SimpleRunContext rc = new SimpleRunContext(step.node, ins, outs, scratch);
        try {
            step.kernel.run(rc);
        } catch (HedgeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new HedgeException(step.node.describe() + " failed while computing a constant: " + e, e);
        }
        for (int i = 0; i < outs.length; i++) {
            int id = step.outputs[i];
            if (id >= 0) {
                Slot s = slots.get(id);
                s.kind = Slot.Kind.KNOWN;
                s.value = outs[i];
                boolean allConst = true;
                for (int in : step.inputs) {
                    allConst &= in < 0 || slots.get(in).constant;
                }
                s.constant = allConst;
                if (allConst && i == 0) {
                    s.encoded = quantizedSource(step.node, ins);
                }
            }
        }
    }

    /**
     * The stored form of weight-only weights: for a DequantizeLinear of a constant 8-bit tensor, that tensor
     * with its scales and zero points attached, offered to kernels that read encoded inputs (the float value is
     * what every other kernel reads); else null.
     */
    private static Tensor quantizedSource(Node node, Tensor[] ins) {
        if (node.op() != Op.DequantizeLinear || ins.length < 2 || ins[0] == null || ins[1] == null
                || (ins[0].dtype() != DType.INT8 && ins[0].dtype() != DType.UINT8) || ins[0].isEncoded()
                || ins[1].dtype() != DType.FLOAT32 || ins[0].rank() == 0) {
            return null;
        }
        int block = node.hasAttr("block_size") ? Math.toIntExact(node.intAttr("block_size")) : 0;
        int axis = node.hasAttr("axis") ? Math.toIntExact(node.intAttr("axis")) : 1;
        axis = axis < 0 ? axis + ins[0].rank() : axis;
        int n = ins[1].elementCount();
        if (block != 0 || axis < 0 || axis >= ins[0].rank() || (n != 1 && n != ins[0].dim(axis))) {
            return null;
        }
        float[] scales = new float[n];
        long[] zps = new long[n];
        for (int i = 0; i < n; i++) {
            scales[i] = ins[1].getFloat(i);
            zps[i] = ins.length > 2 && ins[2] != null ? ins[2].getLong(i) : 0;
        }
        return ins[0].withQuant(new QuantParams(scales, zps, n == 1 ? 0 : axis, 0));
    }

    /** Liveness-based offsets for arena slots and scratch; returns the arena size. */
    private static long placeArena(List<Slot> slots, List<Step> steps) {
        List<ArenaPlanner.Buffer> buffers = new ArrayList<>();
        Map<ArenaPlanner.Buffer, Slot> bySlot = new HashMap<>();
        Map<ArenaPlanner.Buffer, Step> byStep = new HashMap<>();
        int end = steps.size();
        for (Slot s : slots) {
            if ((s.kind == Slot.Kind.ARENA || s.kind == Slot.Kind.INPUT) && s.shape != null) {
                if (s.kind == Slot.Kind.INPUT) {
                    s.bytes = s.dtype.byteSize(Tensor.elementCount(s.shape));
                }
                int first = s.kind == Slot.Kind.INPUT ? -1 : s.first;
                int last = s.last == Integer.MAX_VALUE ? end : Math.max(s.last, first);
                ArenaPlanner.Buffer b = new ArenaPlanner.Buffer(Math.max(s.bytes, 1), first, last);
                buffers.add(b);
                bySlot.put(b, s);
            }
        }
        for (Step st : steps) {
            if (!st.deferred && st.scratchBytes > 0) {
                ArenaPlanner.Buffer b = new ArenaPlanner.Buffer(st.scratchBytes, st.index, st.index);
                buffers.add(b);
                byStep.put(b, st);
            }
        }
        long size = ArenaPlanner.place(buffers);
        for (ArenaPlanner.Buffer b : buffers) {
            Slot s = bySlot.get(b);
            if (s != null) {
                s.offset = b.offset();
            } else {
                byStep.get(b).scratchOffset = b.offset();
            }
        }
        return size;
    }

    /** Input types of a graph from declared infos, with concrete shapes substituted. */
    public static List<ValueType> typesOf(List<ValueInfo> infos, List<int[]> shapes) {
        List<ValueType> l = new ArrayList<>();
        for (int i = 0; i < infos.size(); i++) {
            DType d = infos.get(i).dtype();
            l.add(new ValueType(d, shapes.get(i)));
        }
        return l;
    }
}
