package dev.hedge.kernels.ref.control;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX Loop. Inputs (M, cond, v_initial...), outputs (final carried values..., scan outputs...); the body
 * takes (iteration_num, cond, carried...) and gives (cond, carried..., scan...).
 *
 * <p>The body's outputs live in its frame and are overwritten by the next iteration, so carried values are
 * copied after each iteration into one of two per-thread buffers (alternating, so a body that swaps or
 * passes values through never reads what it is writing) and scan values are appended to per-thread
 * grow-only buffers. In the steady state a run allocates nothing but the tensors of its dynamic outputs.
 *
 * <p>A final carried value has a static shape when the body, planned with the initial shapes, gives it
 * back unchanged; otherwise, and for every scan output (the trip count is a run-time value), the output is
 * allocated at run time. A loop with neither M nor cond never ends by the spec and is refused, as is one
 * without M whose body passes its condition through unchanged when the condition starts true.
 */
public final class LoopKernel implements Kernel {

    private final Node node;
    private final Graph body;
    private final int carried;
    private final int scans;
    private final boolean hasM;
    private final boolean hasCond;
    /** The body returns its cond input (or a constant true) as its condition. */
    private final boolean condPassesThrough;
    private final int[] iterShape;
    private final int[] condShape;
    /** Per-thread working state; created once per thread, then reused (see class comment). */
    private final ThreadLocal<State> state;

    private boolean[] carriedDynamic;
    private DType[] scanTypes;
    private int[][] scanShapes;

    public LoopKernel(Node node) {
        this.node = node;
        this.body = node.graphAttr("body");
        this.carried = body.inputs().size() - 2;
        this.scans = body.outputs().size() - 1 - carried;
        this.hasM = node.hasInput(0);
        this.hasCond = node.hasInput(1);
        this.iterShape = body.inputs().isEmpty() ? new int[0] : Subgraphs.scalarShape(body.inputs().get(0));
        this.condShape = body.inputs().size() < 2 ? new int[0] : Subgraphs.scalarShape(body.inputs().get(1));
        String condOut = body.outputs().isEmpty() ? "" : body.outputs().get(0).name();
        Tensor constCond = body.initializers().get(condOut);
        this.condPassesThrough = body.inputs().size() >= 2 && condOut.equals(body.inputs().get(1).name())
                || constCond != null && constCond.elementCount() == 1 && constCond.getLong(0) != 0;
        int n = Math.max(0, carried);
        int s = Math.max(0, scans);
        this.state = ThreadLocal.withInitial(() -> new State(n, s, iterShape, condShape));
    }

    @Override
    public void prepare(PrepareContext ctx) {
        if (carried < 0) {
            throw new IllegalArgumentException("body " + Subgraphs.name(body) + " has " + body.inputs().size()
                    + " inputs; it needs at least (iteration_num, cond)");
        }
        if (scans < 0) {
            throw new IllegalArgumentException("body " + Subgraphs.name(body) + " has " + body.outputs().size()
                    + " outputs; it needs cond and the " + carried + " loop-carried values");
        }
        if (node.inputs().size() > 2 + carried) {
            throw new IllegalArgumentException("the node has " + (node.inputs().size() - 2)
                    + " loop-carried inputs, the body " + carried);
        }
        if (node.outputs().size() > carried + scans) {
            throw new IllegalArgumentException("the node has " + node.outputs().size() + " outputs, the body gives "
                    + (carried + scans));
        }
        if (!hasM && !hasCond) {
            throw new UnsupportedModelException(node.describe() + ": a Loop with neither a trip count M nor a"
                    + " condition never ends; Hedge refuses it");
        }
        if (hasM && ctx.inputType(0) != DType.INT64) {
            throw new IllegalArgumentException("M must be INT64, got " + ctx.inputType(0));
        }
        if (hasCond && ctx.inputType(1) != DType.BOOL) {
            throw new IllegalArgumentException("cond must be BOOL, got " + ctx.inputType(1));
        }
        List<ValueType> in = new ArrayList<>();
        in.add(new ValueType(DType.INT64, iterShape.clone()));
        in.add(new ValueType(DType.BOOL, condShape.clone()));
        for (int j = 0; j < carried; j++) {
            if (!ctx.hasInput(2 + j)) {
                throw new UnsupportedModelException(node.describe() + ": loop-carried input " + j
                        + " is omitted (optional values are not supported)");
            }
            in.add(new ValueType(ctx.inputType(2 + j), ctx.inputShape(2 + j)));
        }
        List<ValueType> out = ctx.inferSubgraph(body, in);
        // a null dtype comes from a step the body prepares at run time; checked when it runs
        if (out.get(0).dtype() != null && out.get(0).dtype() != DType.BOOL) {
            throw new IllegalArgumentException("body " + Subgraphs.name(body) + " gives cond as "
                    + out.get(0).dtype() + ", expected BOOL");
        }
        carriedDynamic = new boolean[carried];
        for (int j = 0; j < carried; j++) {
            ValueType i = in.get(2 + j);
            ValueType o = out.get(1 + j);
            if (o.dtype() != null && o.dtype() != i.dtype()) {
                throw new IllegalArgumentException("loop-carried value " + j + " enters the body as " + i.dtype()
                        + " and leaves it as " + o.dtype());
            }
            if (o.dtype() != null && o.shape() != null && Arrays.equals(o.shape(), i.shape())) {
                ctx.setOutput(j, i.dtype(), i.shape());
            } else {
                carriedDynamic[j] = true;
                ctx.setOutputDynamic(j, i.dtype());
            }
        }
        scanTypes = new DType[scans];
        scanShapes = new int[scans][];
        for (int k = 0; k < scans; k++) {
            ValueType o = out.get(1 + carried + k);
            scanTypes[k] = o.dtype();
            scanShapes[k] = o.shape();
            ctx.setOutputDynamic(carried + k, o.dtype());
        }
    }

    /** Scratch of one thread: body inputs, carried buffers (two sets) and scan accumulators. */
    private static final class State {
        final Tensor iter;
        final Tensor cond;
        final List<Tensor> inputs;
        final Tensor[] current;
        final ByteBuffer[][] buffers;
        final Tensor[][] views;
        final ByteBuffer[] scanData;
        final long[] scanBytes;
        final DType[] scanType;
        final int[][] scanShape;

        State(int carried, int scans, int[] iterShape, int[] condShape) {
            iter = Tensor.allocate(DType.INT64, iterShape);
            cond = Tensor.allocate(DType.BOOL, condShape);
            inputs = new ArrayList<>();
            for (int i = 0; i < 2 + carried; i++) {
                inputs.add(null);
            }
            current = new Tensor[carried];
            buffers = new ByteBuffer[2][carried];
            views = new Tensor[2][carried];
            scanData = new ByteBuffer[scans];
            scanBytes = new long[scans];
            scanType = new DType[scans];
            scanShape = new int[scans][];
        }

        /** A tensor of {@code src}'s dtype and shape over buffer set {@code set}, slot {@code j}. */
        Tensor carrySlot(int set, int j, Tensor src) {
            Tensor v = views[set][j];
            if (v != null && v.dtype() == src.dtype() && Subgraphs.sameShape(v, src)) {
                return v;
            }
            int bytes = src.byteSize();
            ByteBuffer b = buffers[set][j];
            if (b == null || b.capacity() < bytes) {
                b = ByteBuffer.allocateDirect(Math.max(bytes, 64)).order(ByteOrder.LITTLE_ENDIAN);
                buffers[set][j] = b;
            }
            v = Tensor.view(src.dtype(), src.shape(), b, 0);
            views[set][j] = v;
            return v;
        }

        void append(int k, Tensor src) {
            int n = src.byteSize();
            long need = scanBytes[k] + n;
            if (need > Integer.MAX_VALUE) {
                throw new IllegalStateException("scan output " + k + " exceeds 2 GiB");
            }
            ByteBuffer b = scanData[k];
            if (b == null || b.capacity() < need) {
                long cap = Math.max(need, b == null ? 256 : Math.min(Integer.MAX_VALUE, 2L * b.capacity()));
                ByteBuffer nb = ByteBuffer.allocateDirect((int) cap).order(ByteOrder.LITTLE_ENDIAN);
                if (b != null) {
                    nb.put(0, b, 0, (int) scanBytes[k]);
                }
                scanData[k] = nb;
                b = nb;
            }
            b.put((int) scanBytes[k], src.data(), 0, n);
            scanBytes[k] = need;
        }
    }

    @Override
    public void run(RunContext ctx) {
        State st = state.get();
        long trips = Long.MAX_VALUE;
        if (hasM) {
            Tensor m = ctx.input(0);
            if (m.elementCount() != 1) {
                throw new IllegalArgumentException(node.describe() + ": M must hold one element, got "
                        + Arrays.toString(m.shape()));
            }
            trips = m.getLong(0);
        }
        boolean cond = true;
        if (hasCond) {
            Tensor c = ctx.input(1);
            if (c.elementCount() != 1) {
                throw new IllegalArgumentException(node.describe() + ": cond must hold one element, got "
                        + Arrays.toString(c.shape()));
            }
            cond = c.getLong(0) != 0;
            if (!hasM && cond && condPassesThrough) {
                throw new IllegalArgumentException(node.describe() + ": cond is true and the body passes it"
                        + " through unchanged, with no trip count M: the loop would never end");
            }
        }
        Tensor iter = st.iter;
        Tensor condIn = st.cond;
        for (int j = 0; j < carried; j++) {
            st.current[j] = ctx.input(2 + j);
        }
        Arrays.fill(st.scanBytes, 0);
        long it = 0;
        int set = 0;
        while (it < trips && cond) {
            iter.setLong(0, it);
            condIn.setLong(0, 1);
            st.inputs.set(0, iter);
            st.inputs.set(1, condIn);
            for (int j = 0; j < carried; j++) {
                st.inputs.set(2 + j, st.current[j]);
            }
            List<Tensor> outs = ctx.runSubgraph(body, st.inputs);
            if (hasCond) {
                Tensor c = outs.get(0);
                if (c.dtype() != DType.BOOL || c.elementCount() != 1) {
                    throw new IllegalArgumentException(node.describe() + ": the body's cond output is " + c
                            + ", expected one BOOL");
                }
                cond = c.getLong(0) != 0;
            }
            for (int j = 0; j < carried; j++) {
                Tensor src = outs.get(1 + j);
                if (src.dtype() != st.current[j].dtype()) {
                    throw new IllegalArgumentException(node.describe() + ": loop-carried value " + j + " leaves the"
                            + " body as " + src.dtype() + ", it entered as " + st.current[j].dtype());
                }
                Tensor dst = st.carrySlot(set, j, src);
                src.copyTo(dst);
                st.current[j] = dst;
            }
            for (int k = 0; k < scans; k++) {
                Tensor src = outs.get(1 + carried + k);
                if (it == 0) {
                    st.scanType[k] = src.dtype();
                    if (st.scanShape[k] == null || !Subgraphs.hasShape(src, st.scanShape[k])) {
                        st.scanShape[k] = src.shape();
                    }
                } else if (src.dtype() != st.scanType[k] || !Subgraphs.hasShape(src, st.scanShape[k])) {
                    throw new IllegalArgumentException(node.describe() + ": scan output " + k + " is " + src
                            + " in iteration " + it + " but " + st.scanType[k] + Arrays.toString(st.scanShape[k])
                            + " in iteration 0");
                }
                st.append(k, src);
            }
            set ^= 1;
            it++;
        }
        finish(ctx, st, it);
    }

    private void finish(RunContext ctx, State st, long iterations) {
        int outs = node.outputs().size();
        for (int j = 0; j < carried && j < outs; j++) {
            if (node.output(j).isEmpty()) {
                continue;
            }
            Tensor v = st.current[j];
            Tensor dst = carriedDynamic[j] ? ctx.allocateOutput(j, v.dtype(), v.shape()) : ctx.output(j);
            if (!Subgraphs.copy(v, dst)) {
                throw new IllegalStateException(node.describe() + " loop-carried output " + j + " is " + v
                        + " but was planned as " + dst);
            }
        }
        for (int k = 0; k < scans && carried + k < outs; k++) {
            if (node.output(carried + k).isEmpty()) {
                continue;
            }
            int[] elem = iterations > 0 ? st.scanShape[k] : scanShapes[k];
            DType dt = iterations > 0 ? st.scanType[k] : scanTypes[k];
            if (dt == null) {
                throw new IllegalStateException(node.describe() + ": scan output " + k + " has no iteration and"
                        + " its type is only known once the body runs");
            }
            int[] shape;
            if (elem == null) {
                shape = new int[] {0};
            } else {
                shape = new int[elem.length + 1];
                shape[0] = Math.toIntExact(iterations);
                System.arraycopy(elem, 0, shape, 1, elem.length);
            }
            Tensor dst = ctx.allocateOutput(carried + k, dt, shape);
            if (st.scanBytes[k] > 0) {
                dst.data().put(0, st.scanData[k], 0, (int) st.scanBytes[k]);
            }
        }
    }
}
