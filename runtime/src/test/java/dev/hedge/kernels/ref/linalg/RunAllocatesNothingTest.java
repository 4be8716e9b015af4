package dev.hedge.kernels.ref.linalg;

import static dev.hedge.kernels.ref.linalg.LinalgTesting.attrs;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.randomFloats;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Kernel convention: once warmed up (per-thread scratch grown, JIT done), {@code run} allocates no heap
 * memory. Measured with the JVM's per-thread allocation counter around many runs of every kernel path.
 */
class RunAllocatesNothingTest {

    /** Just enough of the planner's contexts to prepare and run one kernel. */
    static final class Harness implements PrepareContext, RunContext {
        final Node node;
        final List<Tensor> inputs;
        final Set<Integer> constants;
        final Tensor[] outputs;
        ByteBuffer scratch = ByteBuffer.allocateDirect(0);

        Harness(Node node, List<Tensor> inputs, Set<Integer> constants) {
            this.node = node;
            this.inputs = inputs;
            this.constants = constants;
            this.outputs = new Tensor[node.outputs().size()];
        }

        @Override
        public Node node() {
            return node;
        }

        @Override
        public int inputCount() {
            return inputs.size();
        }

        @Override
        public boolean hasInput(int i) {
            return i < inputs.size() && inputs.get(i) != null;
        }

        @Override
        public DType inputType(int i) {
            return inputs.get(i).dtype();
        }

        @Override
        public int[] inputShape(int i) {
            return inputs.get(i).shape();
        }

        @Override
        public QuantParams inputQuant(int i) {
            return null;
        }

        @Override
        public Tensor inputValue(int i) {
            return constants.contains(i) ? inputs.get(i) : null;
        }

        @Override
        public boolean isConstant(int i) {
            return constants.contains(i);
        }

        @Override
        public int outputCount() {
            return outputs.length;
        }

        @Override
        public boolean hasOutput(int i) {
            return i < outputs.length;
        }

        @Override
        public void setOutput(int i, DType dtype, int... shape) {
            outputs[i] = Tensor.allocate(dtype, shape);
        }

        @Override
        public void setOutputQuant(int i, QuantParams quant) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setOutputValue(int i, Tensor value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setOutputDynamic(int i, DType dtype) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void requestScratch(long bytes) {
            scratch = ByteBuffer.allocateDirect((int) bytes);
        }

        @Override
        public int threads() {
            return 1;
        }

        @Override
        public List<ValueType> inferSubgraph(Graph graph, List<ValueType> in) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Tensor input(int i) {
            return hasInput(i) ? inputs.get(i) : null;
        }

        @Override
        public Tensor output(int i) {
            return outputs[i];
        }

        @Override
        public Tensor allocateOutput(int i, DType dtype, int... shape) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ByteBuffer scratch() {
            return scratch;
        }

        @Override
        public void parallelFor(int n, IntConsumerTask body) {
            for (int i = 0; i < n; i++) {
                body.run(i);
            }
        }

        @Override
        public List<Tensor> runSubgraph(Graph graph, List<Tensor> in) {
            throw new UnsupportedOperationException();
        }
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static long allocatedBytes() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    private final Random rnd = new Random(11);
    private final List<String> failures = new ArrayList<>();

    private Tensor f(DType t, int... shape) {
        return LinalgTesting.tensor(t, randomFloats(rnd, LinalgTesting.product(shape)), shape);
    }

    private void check(String what, Op op, LinalgTesting.Attrs a, int outputs, Set<Integer> constants,
            Tensor... in) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < in.length; i++) {
            names.add(in[i] == null ? "" : "in" + i);
        }
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            outs.add("out" + i);
        }
        Node node = new Node("n", op, names, outs, a.map);
        Harness h = new Harness(node, java.util.Arrays.asList(in), constants);
        Kernel k = LinalgKernelFactory.create(node);
        k.prepare(h);
        for (int i = 0; i < 300; i++) {
            k.run(h);
        }
        // The counter's own cost, measured the same way with nothing in between.
        long idle = -allocatedBytes() + allocatedBytes();
        // Best of three rounds: a one-off JIT event (deoptimisation materialising an object) is not a run.
        long bytes = Long.MAX_VALUE;
        for (int round = 0; round < 3 && bytes != 0; round++) {
            long before = allocatedBytes();
            for (int i = 0; i < 100; i++) {
                k.run(h);
            }
            bytes = Math.min(bytes, allocatedBytes() - before - idle);
        }
        if (bytes != 0) {
            failures.add(what + ": " + bytes + " bytes in 100 runs");
        }
    }

    @Test
    void everyKernelPathRunsWithoutAllocating() {
        DType f32 = DType.FLOAT32;
        DType f16 = DType.FLOAT16;
        for (DType t : new DType[] {f32, f16}) {
            for (Set<Integer> cst : List.of(Set.<Integer>of(), Set.of(1, 2))) {
                String s = " " + t + " constants=" + cst;
                check("Conv im2col" + s, Op.Conv, attrs().ints("pads", 1, 1, 1, 1).s("fused_activation", "Relu"), 1,
                        cst, f(t, 1, 4, 9, 9), f(t, 6, 4, 3, 3), f(t, 6));
                check("Conv pointwise" + s, Op.Conv, attrs(), 1, cst, f(t, 2, 8, 5, 5), f(t, 6, 8, 1, 1), f(t, 6));
                check("Conv pointwise narrow" + s, Op.Conv, attrs(), 1, cst, f(t, 1, 8, 2, 2), f(t, 40, 8, 1, 1),
                        f(t, 40));
                check("Conv depthwise" + s, Op.Conv, attrs().i("group", 4).ints("strides", 2, 2), 1, cst,
                        f(t, 1, 4, 9, 9), f(t, 8, 1, 3, 3), f(t, 8));
                check("ConvTranspose" + s, Op.ConvTranspose, attrs().ints("strides", 2, 2).i("group", 2), 1, cst,
                        f(t, 1, 4, 5, 5), f(t, 4, 3, 3, 3), f(t, 6));
                check("Gemm row bias" + s, Op.Gemm, attrs().i("transB", 1), 1, cst, f(t, 5, 7), f(t, 9, 7),
                        f(t, 5, 1));
                check("Gemm full C" + s, Op.Gemm, attrs().f("beta", 0.5f), 1, cst, f(t, 5, 7), f(t, 7, 9), f(t, 9));
                check("MatMul batched" + s, Op.MatMul, attrs(), 1, cst, f(t, 2, 3, 4, 5), f(t, 3, 5, 6));
                check("MatMul folded" + s, Op.MatMul, attrs(), 1, cst, f(t, 2, 3, 4, 5), f(t, 5, 6));
                check("MatMul vector" + s, Op.MatMul, attrs(), 1, cst, f(t, 4, 5), f(t, 5));
                check("MatMul wide" + s, Op.MatMul, attrs(), 1, cst, f(t, 2, 3, 5), f(t, 5, 300));
            }
            check("MaxPool+Indices " + t, Op.MaxPool, attrs().ints("kernel_shape", 3, 3).i("ceil_mode", 1)
                    .ints("strides", 2, 2), 2, Set.of(), f(t, 1, 3, 8, 8));
            check("AveragePool " + t, Op.AveragePool, attrs().ints("kernel_shape", 2, 2).ints("pads", 1, 1, 1, 1)
                    .i("count_include_pad", 1), 1, Set.of(), f(t, 1, 3, 8, 8));
            check("GlobalAveragePool " + t, Op.GlobalAveragePool, attrs(), 1, Set.of(), f(t, 2, 3, 4, 4));
            check("GlobalMaxPool " + t, Op.GlobalMaxPool, attrs(), 1, Set.of(), f(t, 2, 3, 4, 4));
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
}
