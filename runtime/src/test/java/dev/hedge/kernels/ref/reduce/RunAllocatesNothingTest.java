package dev.hedge.kernels.ref.reduce;

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

/**
 * Drives the kernels directly (no planner or session around them) and measures the bytes this thread
 * allocates across repeated {@code run} calls after warm-up: it must be none.
 */
class RunAllocatesNothingTest {

    /** A minimal prepare/run context over given tensors; every input counts as known and, if asked, constant. */
    static final class Harness implements PrepareContext, RunContext {
        final Node node;
        final Tensor[] inputs;
        final boolean constants;
        final DType[] outTypes;
        final int[][] outShapes;
        Tensor[] outputs;
        long scratchBytes;
        ByteBuffer scratch;

        Harness(Node node, Tensor[] inputs, boolean constants) {
            this.node = node;
            this.inputs = inputs;
            this.constants = constants;
            this.outTypes = new DType[node.outputs().size()];
            this.outShapes = new int[node.outputs().size()][];
        }

        public Node node() { return node; }
        public int inputCount() { return inputs.length; }
        public boolean hasInput(int i) { return i < inputs.length && inputs[i] != null; }
        public DType inputType(int i) { return inputs[i].dtype(); }
        public int[] inputShape(int i) { return inputs[i].shape(); }
        public QuantParams inputQuant(int i) { return null; }
        public Tensor inputValue(int i) { return inputs[i]; }
        public boolean isConstant(int i) { return constants && i > 0; }
        public int outputCount() { return outTypes.length; }
        public boolean hasOutput(int i) { return i < outTypes.length; }
        public void setOutput(int i, DType d, int... shape) {
            if (i < outTypes.length) {
                outTypes[i] = d;
                outShapes[i] = shape.clone();
            }
        }
        public void setOutputQuant(int i, QuantParams q) { }
        public void setOutputValue(int i, Tensor v) { throw new AssertionError("not expected"); }
        public void setOutputDynamic(int i, DType d) { throw new AssertionError("not expected"); }
        public void requestScratch(long bytes) { scratchBytes = Math.max(scratchBytes, bytes); }
        public int threads() { return 1; }
        public List<ValueType> inferSubgraph(Graph g, List<ValueType> in) { throw new AssertionError(); }

        public Tensor input(int i) { return i < inputs.length ? inputs[i] : null; }
        public Tensor output(int i) { return i < outputs.length ? outputs[i] : null; }
        public Tensor allocateOutput(int i, DType d, int... shape) { throw new AssertionError(); }
        public ByteBuffer scratch() { return scratch; }
        public void parallelFor(int n, IntConsumerTask body) {
            for (int i = 0; i < n; i++) {
                body.run(i);
            }
        }
        public List<Tensor> runSubgraph(Graph g, List<Tensor> in) { throw new AssertionError(); }

        Kernel prepare() {
            Kernel k = RefBackend.INSTANCE.create(node, List.of());
            k.prepare(this);
            outputs = new Tensor[outTypes.length];
            for (int i = 0; i < outTypes.length; i++) {
                outputs[i] = Tensor.allocate(outTypes[i], outShapes[i]);
            }
            scratch = ByteBuffer.allocateDirect((int) scratchBytes).order(ByteOrder.LITTLE_ENDIAN);
            return k;
        }
    }

    static Tensor random(DType d, Random rnd, int... shape) {
        Tensor t = Tensor.allocate(d, shape);
        for (int i = 0; i < t.elementCount(); i++) {
            t.setDouble(i, d.isFloat() ? rnd.nextGaussian() + 2 : rnd.nextInt(100));
        }
        return t;
    }

    static Node node(Op op, int outputs, Map<String, Attr> attrs, int inputs) {
        List<String> in = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            in.add("i" + i);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            out.add("o" + i);
        }
        return new Node("n", op, in, out, attrs);
    }

    @Test
    void steadyStateRunsAllocateNothing() {
        Random rnd = new Random(1);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported());
        Tensor f = random(DType.FLOAT32, rnd, 4, 30, 50);
        Tensor h = random(DType.FLOAT16, rnd, 4, 30, 50);
        Tensor i64 = random(DType.INT64, rnd, 4, 30, 50);
        Tensor ax1 = Tensor.of(new long[] {1}, 1);
        Tensor ax2 = Tensor.of(new long[] {2}, 1);
        Tensor ax02 = Tensor.of(new long[] {0, 2}, 2);
        Tensor c30 = random(DType.FLOAT32, rnd, 30);
        Tensor v30 = random(DType.FLOAT32, rnd, 30);
        Tensor c50 = random(DType.FLOAT32, rnd, 50);
        Map<String, Attr> axis1 = Map.of("axis", new Attr.Int(1));
        Object[][] cases = {
            {node(Op.ReduceMean, 1, Map.of(), 2), new Tensor[] {f, ax2}},
            {node(Op.ReduceSum, 1, Map.of(), 2), new Tensor[] {f, ax1}},
            {node(Op.ReduceLogSumExp, 1, Map.of(), 2), new Tensor[] {h, ax02}},
            {node(Op.ReduceMax, 1, Map.of(), 2), new Tensor[] {i64, ax1}},
            {node(Op.ReduceL2, 1, Map.of(), 2), new Tensor[] {i64, ax02}},
            {node(Op.ArgMax, 1, axis1, 1), new Tensor[] {f}},
            {node(Op.ArgMin, 1, Map.of("axis", new Attr.Int(2)), 1), new Tensor[] {h}},
            {node(Op.TopK, 2, axis1, 2), new Tensor[] {f, Tensor.of(new long[] {7}, 1)}},
            {node(Op.TopK, 2, Map.of(), 2), new Tensor[] {i64, Tensor.of(new long[] {3}, 1)}},
            {node(Op.Softmax, 1, Map.of(), 1), new Tensor[] {f}},
            {node(Op.LogSoftmax, 1, axis1, 1), new Tensor[] {h}},
            {node(Op.Hardmax, 1, axis1, 1), new Tensor[] {f}},
            {node(Op.LayerNormalization, 3, Map.of(), 3), new Tensor[] {f, c50, c50}},
            {node(Op.BatchNormalization, 1, Map.of(), 5), new Tensor[] {f, c30, c30, c30, v30}},
            {node(Op.InstanceNormalization, 1, Map.of(), 3), new Tensor[] {f, c30, c30}},
            {node(Op.GroupNormalization, 1, Map.of("num_groups", new Attr.Int(5)), 3), new Tensor[] {f, c30, c30}},
            {node(Op.LRN, 1, Map.of("size", new Attr.Int(3)), 1), new Tensor[] {f}},
            {node(Op.LpNormalization, 1, axis1, 1), new Tensor[] {f}},
        };
        for (Object[] c : cases) {
            for (boolean constants : new boolean[] {false, true}) {
                Node n = (Node) c[0];
                Harness hs = new Harness(n, (Tensor[]) c[1], constants);
                Kernel k = hs.prepare();
                for (int i = 0; i < 300; i++) {
                    k.run(hs);
                }
                // the JIT may allocate once in a while as it recompiles; a kernel that allocates does so in every window
                long least = Long.MAX_VALUE;
                for (int window = 0; window < 5; window++) {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 20; i++) {
                        k.run(hs);
                    }
                    least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
                }
                assertEquals(0, least, n.op() + " (constant parameters: " + constants + ") allocated " + least
                        + " bytes in 20 runs");
            }
        }
    }
}
