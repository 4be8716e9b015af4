package dev.hedge.kernels.ref.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.ref.RefBackend;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Calls prepared kernels directly, many times, and checks that steady-state runs allocate no heap bytes. */
class RunAllocationTest {

    /** The smallest prepare and run context: given tensors in, freshly allocated tensors out. */
    private static final class Direct implements PrepareContext, RunContext {
        private final Node node;
        private final Tensor[] in;
        private final DType[] types;
        private final int[][] shapes;
        private Tensor[] out;
        private long scratchBytes;
        private ByteBuffer scratch;

        Direct(Node node, Tensor[] in) {
            this.node = node;
            this.in = in;
            this.types = new DType[node.outputs().size()];
            this.shapes = new int[types.length][];
        }

        Kernel prepare() {
            Kernel k = RefBackend.INSTANCE.create(node, List.of());
            k.prepare(this);
            out = new Tensor[types.length];
            for (int i = 0; i < types.length; i++) {
                out[i] = Tensor.allocate(types[i], shapes[i]);
            }
            scratch = ByteBuffer.allocateDirect((int) scratchBytes).order(ByteOrder.LITTLE_ENDIAN);
            return k;
        }

        @Override public Node node() { return node; }
        @Override public int inputCount() { return in.length; }
        @Override public boolean hasInput(int i) { return i < in.length && in[i] != null; }
        @Override public DType inputType(int i) { return in[i].dtype(); }
        @Override public int[] inputShape(int i) { return in[i].shape(); }
        @Override public QuantParams inputQuant(int i) { return null; }
        @Override public Tensor inputValue(int i) { return in[i]; }
        @Override public boolean isConstant(int i) { return false; }
        @Override public int outputCount() { return types.length; }
        @Override public boolean hasOutput(int i) { return i < types.length; }
        @Override public void setOutput(int i, DType d, int... shape) {
            types[i] = d;
            shapes[i] = shape.clone();
        }
        @Override public void setOutputQuant(int i, QuantParams q) { }
        @Override public void setOutputValue(int i, Tensor v) { setOutput(i, v.dtype(), v.shape()); }
        @Override public void setOutputDynamic(int i, DType d) { throw new AssertionError("dynamic output"); }
        @Override public void requestScratch(long bytes) { scratchBytes = Math.max(scratchBytes, bytes); }
        @Override public int threads() { return 1; }
        @Override public List<ValueType> inferSubgraph(Graph g, List<ValueType> t) { throw new AssertionError(); }
        @Override public Tensor input(int i) { return i < in.length ? in[i] : null; }
        @Override public Tensor output(int i) { return i < out.length ? out[i] : null; }
        @Override public Tensor allocateOutput(int i, DType d, int... shape) { throw new AssertionError(); }
        @Override public ByteBuffer scratch() { return scratch; }
        @Override public void parallelFor(int n, IntConsumerTask body) {
            for (int i = 0; i < n; i++) {
                body.run(i);
            }
        }
        @Override public List<Tensor> runSubgraph(Graph g, List<Tensor> t) { throw new AssertionError(); }
    }

    /** A case: the node and its input tensors (null for an omitted input). */
    private record Case(Node node, Tensor[] in) {
    }

    private static Case node(Op op, int outputs, Map<String, Attr> attrs, Tensor... in) {
        List<String> ins = new ArrayList<>();
        for (int i = 0; i < in.length; i++) {
            ins.add(in[i] == null ? "" : "i" + i);
        }
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            outs.add("o" + i);
        }
        return new Case(new Node("n", op, ins, outs, attrs), in);
    }

    private static Tensor longs(long... v) {
        return Tensor.of(v, v.length);
    }

    @Test
    void steadyStateRunsAllocateNothing() {
        Random rnd = new Random(3);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported());
        Tensor f = TData.random(DType.FLOAT32, new int[] {2, 6, 10, 12}, rnd);
        Tensor i4 = TData.random(DType.INT4, new int[] {3, 7, 5}, rnd);
        Tensor idx = Tensor.of(new long[] {0, -1, 3, 2, 5, 1}, 2, 3);
        Tensor idx32 = Tensor.of(new int[] {1, 0, 2, 2}, 2, 2);
        Tensor mat = TData.random(DType.FLOAT32, new int[] {4, 4}, rnd);
        Case[] cases = {
            node(Op.Transpose, 1, Map.of("perm", new Attr.Ints(new long[] {0, 2, 3, 1})), f),
            node(Op.Transpose, 1, Map.of(), i4),
            node(Op.Reshape, 1, Map.of(), f, longs(12, -1)),
            node(Op.Slice, 1, Map.of(), f, longs(1, 9), longs(5, 0), longs(1, 3), longs(2, -2)),
            node(Op.Concat, 1, Map.of("axis", new Attr.Int(1)), f, f, f),
            node(Op.Split, 3, Map.of("axis", new Attr.Int(2)), f, longs(3, 3, 4)),
            node(Op.Gather, 1, Map.of("axis", new Attr.Int(1)), f, idx),
            node(Op.GatherElements, 1, Map.of("axis", new Attr.Int(1)), mat, idx32),
            node(Op.GatherND, 1, Map.of(), f, Tensor.of(new long[] {1, 2, 0, 5}, 2, 2)),
            node(Op.Expand, 1, Map.of(), Tensor.of(new float[] {1, 2, 3}, 3, 1), longs(2, 3, 8)),
            node(Op.Tile, 1, Map.of(), i4, longs(2, 1, 3)),
            node(Op.Pad, 1, Map.of(), f, longs(0, 1, 2, 3, 0, 2, 1, 0), Tensor.of(new float[] {7}, new int[0])),
            node(Op.Pad, 1, Map.of("mode", new Attr.Str("reflect")), f, longs(0, 0, 2, 3, 0, 0, 1, 4)),
            node(Op.DepthToSpace, 1, Map.of("blocksize", new Attr.Int(2), "mode", new Attr.Str("CRD")),
                    TData.random(DType.FLOAT32, new int[] {1, 8, 5, 6}, rnd)),
            node(Op.SpaceToDepth, 1, Map.of("blocksize", new Attr.Int(2)), f),
            node(Op.Resize, 1, Map.of(), f, null, Tensor.of(new float[] {1, 1, 2, 1.5f}, 4)),
            node(Op.Resize, 1, Map.of("mode", new Attr.Str("linear")), f, null, Tensor.of(new float[] {1, 1, 0.5f, 2}, 4)),
            node(Op.Resize, 1, Map.of("mode", new Attr.Str("cubic"), "antialias", new Attr.Int(1)), f, null, null,
                    longs(2, 6, 4, 5)),
            node(Op.ConstantOfShape, 1, Map.of(), longs(3, 4)),
            node(Op.Range, 1, Map.of(), Tensor.of(new float[] {1}, new int[0]), Tensor.of(new float[] {9}, new int[0]),
                    Tensor.of(new float[] {0.5f}, new int[0])),
            node(Op.EyeLike, 1, Map.of("k", new Attr.Int(1)), mat),
            node(Op.OneHot, 1, Map.of(), idx, longs(6), Tensor.of(new float[] {0, 1}, 2)),
            node(Op.Trilu, 1, Map.of(), f, Tensor.of(new long[] {-1}, new int[0])),
            node(Op.CumSum, 1, Map.of("reverse", new Attr.Int(1)), f, Tensor.of(new int[] {2}, new int[0])),
            node(Op.ScatterND, 1, Map.of("reduction", new Attr.Str("add")), mat, Tensor.of(new long[] {1, 3}, 2, 1),
                    TData.random(DType.FLOAT32, new int[] {2, 4}, rnd)),
            node(Op.ScatterElements, 1, Map.of("axis", new Attr.Int(1)), mat, idx32,
                    TData.random(DType.FLOAT32, new int[] {2, 2}, rnd)),
            node(Op.Dropout, 2, Map.of(), f),
            node(Op.Einsum, 1, Map.of("equation", new Attr.Str("ij,jk->ik")), mat, mat),
        };
        for (Case c : cases) {
            Node n = c.node();
            Tensor[] in = c.in();
            Direct d = new Direct(n, in);
            Kernel k = d.prepare();
            for (int i = 0; i < 300; i++) {
                k.run(d);
            }
            // the JIT may allocate now and then while recompiling; an allocating kernel does so in every window
            long least = Long.MAX_VALUE;
            for (int w = 0; w < 5; w++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20; i++) {
                    k.run(d);
                }
                least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
            }
            assertEquals(0, least, n + " allocated " + least + " bytes in 20 runs");
        }
    }
}
