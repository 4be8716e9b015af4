package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Deferred;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
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

    /** Plan-time evaluation is skipped for results larger than this (they stay run-time work). */
    private static final long MAX_FOLD_BYTES = 64L << 20;

    private final List<Backend> backends;
    private final int threads;
    private final Function<Tensor, Tensor> decoder;

    /**
     * @param backends in priority order; the last should run everything (the Java reference backend)
     * @param decoder turns an encoded (sparse / codebook / packed) constant into a dense tensor; applied
     *     lazily, only for constants some step reads densely (a backend may consume the stored encoding,
     *     see {@link Backend#createForEncoded})
     */
    public Planner(List<Backend> backends, int threads, Function<Tensor, Tensor> decoder) {
        this.backends = List.copyOf(backends);
        this.threads = Math.max(1, threads);
        this.decoder = decoder;
    }

    public int threads() {
        return threads;
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
    private Tensor dense(Slot s) {
        if (s.value == null && s.encoded != null) {
            s.value = decoder.apply(s.encoded);
        }
        return s.value;
    }

    /** Per input: the stored form of an encoded constant, else null; null when the step has none. */
    private static List<Tensor> encodedInputs(Step step, List<Slot> slots) {
        List<Tensor> l = null;
        for (int i = 0; i < step.inputs.length; i++) {
            int id = step.inputs[i];
            if (id >= 0 && slots.get(id).encoded != null) {
                if (l == null) {
                    l = new ArrayList<>(java.util.Collections.nCopies(step.inputs.length, null));
                }
                l.set(i, slots.get(id).encoded);
            }
        }
        return l;
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
                bindEncodedInputs(step, slots);
                markDeferred(step, slots);
                return;
            }
        }
        Kernel k = createKernel(step.node, types, step, encodedInputs(step, slots));
        bindEncodedInputs(step, slots);
        Scope scope = name -> {
            Slot s = byName.get(name);
            if (s != null) {
                dense(s);
            }
            return s != null ? s : outer.lookup(name);
        };
        PlanPrepareContext ctx = new PlanPrepareContext(this, step.node, step.inputs, slots, scope);
        try {
            k.prepare(ctx);
        } catch (Deferred d) {
            markDeferred(step, slots);
            return;
        } catch (HedgeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new UnsupportedModelException(step.node.describe() + ": " + e.getMessage());
        }
        ctx.checkOutputsSet();
        step.kernel = k;
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

    private void markDeferred(Step step, List<Slot> slots) {
        step.deferred = true;
        step.kernel = null;
        for (int id : step.outputs) {
            if (id >= 0) {
                slots.get(id).kind = Slot.Kind.DYNAMIC;
                slots.get(id).shape = null;
                slots.get(id).dtype = null;
            }
        }
    }

    /**
     * The first kernel a backend offers. With encoded constant inputs ({@code encoded} non-null) each
     * backend is first asked whether it consumes them as stored; {@code step}, when given, records the choice.
     */
    Kernel createKernel(Node node, List<ValueType> types, Step step, List<Tensor> encoded) {
        for (Backend b : backends) {
            Kernel k = encoded == null ? null : b.createForEncoded(node, types, encoded);
            boolean readsEncoded = k != null;
            if (k == null) {
                k = b.create(node, types);
            }
            if (k != null) {
                if (step != null) {
                    step.backend = b.name();
                    step.readsEncoded = readsEncoded;
                }
                return k;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (ValueType t : types) {
            sb.append(sb.length() == 0 ? "" : ", ").append(t == null ? "-" : t.dtype());
        }
        throw new UnsupportedModelException(node.describe() + ": no backend runs " + node.op() + " with inputs ("
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
            }
        }
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
