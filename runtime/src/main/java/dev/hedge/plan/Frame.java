package dev.hedge.plan;

import dev.hedge.ir.Graph;
import dev.hedge.kernels.Deferred;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One session's execution state for one plan: the arena, a tensor view per value, a run context per step.
 * Everything is created up front, so running a fully static plan allocates nothing.
 */
public final class Frame {

    private final Plan plan;
    private final Frame parent;
    private final ByteBuffer arena;
    private final Tensor[] values;
    private final StepContext[] contexts;
    private final int[] captureSlots;
    private final int[] captureParentSlots;
    private final ByteBuffer[] dynamicBuffers;
    private final DeferredState[] deferred;
    private final Map<Graph, SubgraphRunner> runners = new IdentityHashMap<>();
    private final List<Tensor> outputView;
    private final Tensor[] outputArray;
    private StepListener listener;

    Frame(Plan plan, Frame parent) {
        this.plan = plan;
        this.parent = parent;
        // the planner's 64-byte aligned offsets are aligned in memory only from an aligned base (vector loads
        // that straddle cache lines cost the native kernels up to a quarter of their time)
        int bytes = (int) Math.max(plan.arenaBytes(), 64);
        this.arena = ByteBuffer.allocateDirect(Math.addExact(bytes, 128)).alignedSlice(64).limit(bytes).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        this.values = new Tensor[plan.slotCount()];
        this.dynamicBuffers = new ByteBuffer[plan.slotCount()];
        for (int i = 0; i < values.length; i++) {
            Slot s = plan.slot(i);
            if (s.kind == Slot.Kind.KNOWN) {
                values[i] = s.value;
            } else if (s.kind == Slot.Kind.ARENA) {
                Tensor t = Tensor.view(s.dtype, s.shape, arena, (int) s.offset);
                values[i] = s.quant != null ? t.withQuant(s.quant) : t;
            }
        }
        this.contexts = new StepContext[plan.steps.length];
        this.deferred = new DeferredState[plan.steps.length];
        for (Step st : plan.steps) {
            ByteBuffer scratch = st.scratchOffset >= 0
                    ? arena.duplicate().position((int) st.scratchOffset)
                            .limit((int) (st.scratchOffset + st.scratchBytes)).slice().order(ByteOrder.LITTLE_ENDIAN)
                    : ByteBuffer.allocateDirect(0);
            contexts[st.index] = new StepContext(st, scratch);
            if (st.deferred) {
                deferred[st.index] = new DeferredState();
            }
        }
        List<String> caps = plan.captureNames;
        this.captureSlots = new int[caps.size()];
        this.captureParentSlots = new int[caps.size()];
        for (int i = 0; i < caps.size(); i++) {
            captureSlots[i] = plan.slotIndex(caps.get(i));
            captureParentSlots[i] = parent == null ? -1 : parent.plan.slotIndex(caps.get(i));
            if (captureParentSlots[i] < 0) {
                throw new HedgeException("subgraph '" + plan.graph.name() + "' captures '" + caps.get(i)
                        + "', which its enclosing graph does not have");
            }
        }
        this.outputArray = new Tensor[plan.outputSlots().length];
        this.outputView = java.util.Collections.unmodifiableList(Arrays.asList(outputArray));
    }

    public Plan plan() {
        return plan;
    }

    /** Observer of step execution, for per-op profiling. */
    public interface StepListener {
        void stepDone(int step, String node, String op, long nanos);
    }

    public void setListener(StepListener l) {
        this.listener = l;
        for (SubgraphRunner r : runners.values()) {
            r.setListener(l);
        }
    }

    /**
     * Binds the inputs (no copy) and runs every step. Input dtypes and shapes must match the plan; the
     * caller checks them and reports errors in the user's terms.
     */
    public List<Tensor> run(List<Tensor> inputs) {
        int[] in = plan.inputSlots();
        for (int i = 0; i < in.length; i++) {
            values[in[i]] = inputs.get(i);
        }
        for (int i = 0; i < captureSlots.length; i++) {
            values[captureSlots[i]] = parent.values[captureParentSlots[i]];
        }
        for (Step st : plan.steps) {
            long t0 = listener != null ? System.nanoTime() : 0;
            try {
                if (st.deferred) {
                    runDeferred(st);
                } else {
                    st.kernel.run(contexts[st.index]);
                }
            } catch (HedgeException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new HedgeException(st.node.describe() + " failed: " + e, e);
            }
            if (listener != null) {
                listener.stepDone(st.index, st.node.name(), st.node.op().name(), System.nanoTime() - t0);
            }
        }
        int[] out = plan.outputSlots();
        for (int i = 0; i < out.length; i++) {
            outputArray[i] = values[out[i]];
        }
        return outputView;
    }

    /**
     * Runs step {@code i}'s kernel alone on the values the last {@link #run} bound: the bare kernel call, without
     * the per-step dispatch, for timing a kernel class ({@code KernelCosts}). Not for deferred steps.
     */
    public Runnable stepCall(int i) {
        Step st = plan.steps[i];
        if (st.deferred) {
            throw new IllegalStateException(st.node.describe() + " is prepared per run: no bare kernel call");
        }
        StepContext c = contexts[i];
        return () -> st.kernel.run(c);
    }

    /** Whether these inputs (and the current captured values) fit this frame's plan. */
    boolean accepts(List<Tensor> inputs) {
        return accepts(plan, parent, inputs);
    }

    /** Whether {@code plan} fits these inputs and the captured values currently in {@code parent}. */
    static boolean accepts(Plan plan, Frame parent, List<Tensor> inputs) {
        int[] in = plan.inputSlots();
        for (int i = 0; i < in.length; i++) {
            if (!fits(plan.slot(in[i]), inputs.get(i))) {
                return false;
            }
        }
        // indexed: this runs per subgraph call (every Loop iteration) and must not allocate an iterator
        for (int c = 0; c < plan.captureNames.size(); c++) {
            String name = plan.captureNames.get(c);
            int mine = plan.slotIndex(name);
            int theirs = parent == null ? -1 : parent.plan.slotIndex(name);
            if (theirs < 0 || !fits(plan.slot(mine), parent.values[theirs])) {
                return false;
            }
        }
        return true;
    }

    private static boolean fits(Slot s, Tensor t) {
        if (t == null) {
            return false;
        }
        if (s.dtype != null && s.dtype != t.dtype()) {
            return false;
        }
        if (s.shape == null || s.kind == Slot.Kind.DYNAMIC) {
            return true;
        }
        if (s.shape.length != t.rank()) {
            return false;
        }
        for (int d = 0; d < s.shape.length; d++) {
            if (s.shape[d] != t.dim(d)) {
                return false;
            }
        }
        return true;
    }

    private ByteBuffer dynamicBuffer(int slot, long bytes) {
        ByteBuffer b = dynamicBuffers[slot];
        if (b == null || b.capacity() < bytes) {
            long cap = Math.max(bytes, b == null ? 64 : Math.min(Integer.MAX_VALUE, b.capacity() * 2L));
            if (cap > Integer.MAX_VALUE) {
                throw new HedgeException("value '" + plan.slot(slot).name + "' needs " + bytes + " bytes");
            }
            b = ByteBuffer.allocateDirect((int) cap).order(ByteOrder.LITTLE_ENDIAN);
            dynamicBuffers[slot] = b;
        }
        return b;
    }

    Tensor allocateDynamic(int slot, DType dtype, int[] shape) {
        int n = Tensor.elementCount(shape);
        Tensor t = Tensor.view(dtype, shape, dynamicBuffer(slot, dtype.byteSize(n)), 0);
        values[slot] = t;
        return t;
    }

    /** A step prepared per run, because its shapes depend on run-time values. */
    private final class DeferredState {
        Kernel kernel;
        int[][] shapes;
        DType[] types;
        Tensor[] usedValues;
        ByteBuffer scratch = ByteBuffer.allocateDirect(0);
        Tensor[] outputs;
        boolean[] dynamic;
    }

    private void runDeferred(Step st) {
        DeferredState ds = deferred[st.index];
        int n = st.inputs.length;
        if (ds.kernel == null || !sameInputs(st, ds)) {
            List<ValueType> types = new ArrayList<>();
            for (int id : st.inputs) {
                Tensor t = id < 0 ? null : values[id];
                types.add(t == null ? null : new ValueType(t.dtype(), t.shape()));
            }
            // a deferred step's constant inputs are bound dense (Planner.markDeferred): offers see them so
            List<Tensor> constants = Planner.constants(st.inputs, plan::slot, false);
            Kernel k;
            RunPrepareContext pc;
            try {
                Planner.Prepared<RunPrepareContext> p = plan.planner.prepare(st.node, types, constants,
                        offer -> new RunPrepareContext(plan.planner, st.node, st.inputs, values, this));
                k = p.kernel();
                pc = p.context();
            } catch (Deferred d) {
                throw new HedgeException(st.node.describe() + ": cannot be prepared even with all inputs known ("
                        + d.getMessage() + ")");
            } catch (HedgeException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new InvalidInputException(st.node.describe() + ": " + e.getMessage());
            }
            ds.kernel = k;
            ds.shapes = new int[n][];
            ds.types = new DType[n];
            ds.usedValues = new Tensor[n];
            for (int i = 0; i < n; i++) {
                Tensor t = st.inputs[i] < 0 ? null : values[st.inputs[i]];
                if (t != null) {
                    ds.shapes[i] = t.shape();
                    ds.types[i] = t.dtype();
                    if (pc.valueUsed(i)) {
                        ds.usedValues[i] = t.copy();
                    }
                }
            }
            if (ds.scratch.capacity() < pc.scratchBytes()) {
                ds.scratch = ByteBuffer.allocateDirect((int) pc.scratchBytes()).order(ByteOrder.LITTLE_ENDIAN);
            }
            ds.dynamic = pc.dynamicOutputs();
            ds.outputs = new Tensor[st.outputs.length];
            for (int i = 0; i < st.outputs.length; i++) {
                int id = st.outputs[i];
                if (id >= 0 && !ds.dynamic[i]) {
                    Tensor t = allocateDynamic(id, pc.outputType(i), pc.outputShape(i));
                    ds.outputs[i] = pc.outputQuant(i) != null ? t.withQuant(pc.outputQuant(i)) : t;
                }
            }
            contexts[st.index] = new StepContext(st, ds.scratch);
        }
        for (int i = 0; i < st.outputs.length; i++) {
            int id = st.outputs[i];
            if (id >= 0 && !ds.dynamic[i]) {
                values[id] = ds.outputs[i];
            }
        }
        ds.kernel.run(contexts[st.index]);
    }

    private boolean sameInputs(Step st, DeferredState ds) {
        for (int i = 0; i < st.inputs.length; i++) {
            Tensor t = st.inputs[i] < 0 ? null : values[st.inputs[i]];
            if (t == null) {
                if (ds.shapes[i] != null) {
                    return false;
                }
                continue;
            }
            if (t.dtype() != ds.types[i] || ds.shapes[i] == null || t.rank() != ds.shapes[i].length) {
                return false;
            }
            for (int d = 0; d < t.rank(); d++) {
                if (t.dim(d) != ds.shapes[i][d]) {
                    return false;
                }
            }
            Tensor used = ds.usedValues[i];
            if (used != null && !used.data().equals(t.data())) {
                return false;
            }
        }
        return true;
    }

    Tensor value(int slot) {
        return values[slot];
    }

    SubgraphRunner runner(Graph g) {
        SubgraphRunner r = runners.get(g);
        if (r == null) {
            r = new SubgraphRunner(this, g);
            r.setListener(listener);
            runners.put(g, r);
        }
        return r;
    }

    /** Plan-time view of the current values, for planning a subgraph at run time. */
    Planner.Scope runtimeScope() {
        return name -> {
            int id = plan.slotIndex(name);
            if (id < 0) {
                return null;
            }
            Slot orig = plan.slot(id);
            Tensor t = values[id];
            Slot s = new Slot(-1, name);
            if (orig.kind == Slot.Kind.KNOWN) {
                s.kind = Slot.Kind.KNOWN;
                s.value = orig.value;
                s.constant = orig.constant;
            } else {
                s.kind = Slot.Kind.CAPTURE;
            }
            s.dtype = t != null ? t.dtype() : orig.dtype;
            s.shape = t != null ? t.shape() : null;
            s.quant = t != null ? t.quant() : orig.quant;
            return s;
        };
    }

    Frame parent() {
        return parent;
    }

    /** Per-step run context; bound once, reads the current tensors of its slots. */
    private final class StepContext implements RunContext {
        private final Step step;
        private final ByteBuffer scratch;

        StepContext(Step step, ByteBuffer scratch) {
            this.step = step;
            this.scratch = scratch;
        }

        @Override
        public Tensor input(int i) {
            if (i >= step.inputs.length || step.inputs[i] < 0) {
                return null;
            }
            return values[step.inputs[i]];
        }

        @Override
        public Tensor output(int i) {
            if (i >= step.outputs.length || step.outputs[i] < 0) {
                return null;
            }
            return values[step.outputs[i]];
        }

        @Override
        public Tensor allocateOutput(int i, DType dtype, int... shape) {
            if (i >= step.outputs.length || step.outputs[i] < 0) {
                return Tensor.allocate(dtype, shape); // unused optional output: throwaway
            }
            return allocateDynamic(step.outputs[i], dtype, shape);
        }

        @Override
        public ByteBuffer scratch() {
            return scratch;
        }

        @Override
        public void parallelFor(int n, IntConsumerTask body) {
            WorkerPool pool = plan.planner.pool();
            if (pool == null) {
                for (int i = 0; i < n; i++) {
                    body.run(i);
                }
            } else {
                pool.run(n, body);
            }
        }

        @Override
        public void parallelFor(int n, TileTask task) {
            WorkerPool pool = plan.planner.pool();
            if (pool == null) {
                for (int i = 0; i < n; i++) {
                    task.run(this, i, 0);
                }
            } else {
                pool.run(n, this, task);
            }
        }

        @Override
        public int threads() {
            return plan.planner.threads();
        }

        @Override
        public List<Tensor> runSubgraph(Graph graph, List<Tensor> inputs) {
            return runner(graph).run(inputs);
        }
    }
}
