package dev.hedge.kernels.ref.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.api.Test;

/** The quantization kernels driven directly: steady-state runs allocate nothing, with constant or fed parameters. */
class QuantRunAllocationTest {

    /** Minimal prepare/run context over given tensors; inputs past 0 count as constants when asked. */
    private static final class Harness implements PrepareContext, RunContext {
        final Node node;
        final Tensor[] inputs;
        final boolean constants;
        final DType[] outTypes;
        final int[][] outShapes;
        Tensor[] outputs;
        ByteBuffer scratch = ByteBuffer.allocateDirect(0);

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
        public Tensor inputValue(int i) { return constants || i == 0 ? inputs[i] : null; }
        public boolean isConstant(int i) { return constants && i > 0; }
        public int outputCount() { return outTypes.length; }
        public boolean hasOutput(int i) { return i < outTypes.length; }
        public void setOutput(int i, DType d, int... shape) {
            outTypes[i] = d;
            outShapes[i] = shape.clone();
        }
        public void setOutputQuant(int i, QuantParams q) { }
        public void setOutputValue(int i, Tensor v) { throw new AssertionError(); }
        public void setOutputDynamic(int i, DType d) { throw new AssertionError(); }
        public void requestScratch(long bytes) { scratch = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN); }
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
            return k;
        }
    }

    private static Node node(Op op, int inputs, int outputs, Map<String, Attr> attrs) {
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

    private static Tensor bytes(DType t, int seed, int... shape) {
        Tensor x = Tensor.allocate(t, shape);
        for (int i = 0; i < x.elementCount(); i++) {
            x.setLong(i, (i * 31 + seed * 7) % 200 - (t == DType.INT8 ? 100 : 0));
        }
        return x;
    }

    @Test
    void steadyStateRunsAllocateNothing() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Tensor f = Tensor.allocate(DType.FLOAT32, 4, 8, 10);
        for (int i = 0; i < f.elementCount(); i++) {
            f.setFloat(i, (float) Math.sin(i));
        }
        Tensor s8 = Tensor.of(new float[8], 8);
        for (int i = 0; i < 8; i++) {
            s8.setFloat(i, 0.01f * (i + 1));
        }
        Tensor z8 = bytes(DType.INT8, 1, 8);
        Tensor q = bytes(DType.UINT8, 2, 4, 8, 10);
        Tensor x = bytes(DType.UINT8, 3, 2, 4, 9, 9);
        Tensor w = bytes(DType.INT8, 4, 8, 2, 3, 3);
        Tensor a = bytes(DType.UINT8, 5, 3, 6, 10);
        Tensor b = bytes(DType.INT8, 6, 10, 8);
        Tensor sc = Tensor.scalar(0.05f);
        Tensor zu = QNode.scalar(DType.UINT8, 128);
        Tensor zs = QNode.scalar(DType.INT8, 0);
        Tensor bias = Tensor.of(new int[] {1, -2, 3, -4, 5, -6, 7, -8}, 8);
        Map<String, Attr> conv = Map.of("group", new Attr.Int(2), "pads", new Attr.Ints(new long[] {1, 1, 1, 1}),
                "fused_activation", new Attr.Str("Relu"));
        Object[][] cases = {
            {node(Op.QuantizeLinear, 3, 1, Map.of("axis", new Attr.Int(1))), new Tensor[] {f, s8, z8}},
            {node(Op.DequantizeLinear, 3, 1, Map.of()), new Tensor[] {q, sc, zu}},
            {node(Op.DynamicQuantizeLinear, 1, 3, Map.of()), new Tensor[] {f}},
            {node(Op.QLinearConv, 9, 1, conv), new Tensor[] {x, sc, zu, w, s8, Tensor.allocate(DType.INT8, 8), sc, zu,
                bias}},
            {node(Op.ConvInteger, 4, 1, Map.of("group", new Attr.Int(2))), new Tensor[] {x, w, zu, zs}},
            {node(Op.QLinearMatMul, 9, 1, Map.of()), new Tensor[] {a, sc, zu, b, s8, Tensor.allocate(DType.INT8, 8), sc,
                zu, bias}},
            {node(Op.MatMulInteger, 4, 1, Map.of()), new Tensor[] {a, b, zu, zs}},
        };
        for (Object[] c : cases) {
            for (boolean constants : new boolean[] {false, true}) {
                Node n = (Node) c[0];
                Harness hs = new Harness(n, (Tensor[]) c[1], constants);
                Kernel k = hs.prepare();
                for (int i = 0; i < 300; i++) {
                    k.run(hs);
                }
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
