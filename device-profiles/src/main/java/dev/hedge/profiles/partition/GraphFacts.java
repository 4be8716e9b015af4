package dev.hedge.profiles.partition;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.plan.Plan;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What partitioning needs to know about a graph planned for concrete input shapes: the dtype and shape of
 * every value, the (dense) constants, and the affine quantization of 8-bit activations, which QOperator
 * graphs carry in the QLinear / Quantize / Dequantize nodes' scale and zero-point inputs.
 */
public final class GraphFacts {

    private final Graph graph;
    private final Map<String, ValueType> types;
    private final Map<String, Tensor> constants;
    private final Map<String, QuantParams> quant;
    private final List<int[]> inputShapes;

    private GraphFacts(Graph graph, Map<String, ValueType> types, Map<String, Tensor> constants,
            Map<String, QuantParams> quant, List<int[]> inputShapes) {
        this.graph = graph;
        this.types = types;
        this.constants = constants;
        this.quant = quant;
        this.inputShapes = inputShapes;
    }

    /**
     * Plans the graph once with every node output made a graph output, so the planner's own shape and
     * dtype inference gives the type of each value.
     */
    public static GraphFacts of(ModelDef def, List<int[]> inputShapes) {
        Graph g = def.graph();
        Map<String, Tensor> constants = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            constants.put(e.getKey(), Decoding.densify(e.getValue()));
        }
        Graph.Builder b = g.toBuilder();
        Set<String> outs = new LinkedHashSet<>(g.outputNames());
        List<ValueInfo> extra = new ArrayList<>();
        for (Node n : g.nodes()) {
            for (String o : n.outputs()) {
                if (!o.isEmpty() && outs.add(o)) {
                    extra.add(new ValueInfo(o, null, null));
                }
            }
        }
        extra.forEach(b::addOutput);
        Map<String, ValueType> types = new HashMap<>();
        try (Model m = Model.of(def.withGraph(b.build()), RuntimeOptions.reference())) {
            Plan p = m.plan(inputShapes);
            List<String> names = new ArrayList<>(outs);
            for (int i = 0; i < names.size(); i++) {
                types.put(names.get(i), new ValueType(p.outputType(i), p.outputShape(i)));
            }
        }
        for (int i = 0; i < g.inputs().size(); i++) {
            types.put(g.inputs().get(i).name(), new ValueType(g.inputs().get(i).dtype(), inputShapes.get(i)));
        }
        for (Map.Entry<String, Tensor> e : constants.entrySet()) {
            types.put(e.getKey(), new ValueType(e.getValue().dtype(), e.getValue().shape()));
        }
        return new GraphFacts(g, types, constants, quantOf(g, constants), List.copyOf(inputShapes));
    }

    /** Per-tensor quantization of 8-bit values, from the nodes that define or read them. */
    private static Map<String, QuantParams> quantOf(Graph g, Map<String, Tensor> constants) {
        Map<String, QuantParams> q = new HashMap<>();
        for (Node n : g.nodes()) {
            switch (n.op()) {
                case QLinearConv:
                case QLinearMatMul:
                    put(q, n.input(0), n.input(1), n.input(2), constants);
                    put(q, n.output(0), n.input(6), n.input(7), constants);
                    break;
                case QLinearAdd:
                case QLinearMul:
                    put(q, n.input(0), n.input(1), n.input(2), constants);
                    put(q, n.input(3), n.input(4), n.input(5), constants);
                    put(q, n.output(0), n.input(6), n.inputs().size() > 7 ? n.input(7) : "", constants);
                    break;
                case QLinearAveragePool:
                case QLinearGlobalAveragePool:
                    put(q, n.input(0), n.input(1), n.input(2), constants);
                    put(q, n.output(0), n.input(3), n.inputs().size() > 4 ? n.input(4) : "", constants);
                    break;
                case QuantizeLinear:
                    put(q, n.output(0), n.input(1), n.input(2), constants);
                    break;
                case DequantizeLinear:
                    put(q, n.input(0), n.input(1), n.input(2), constants);
                    break;
                default:
            }
        }
        // value-preserving ops pass their input's quantization on (to a fixpoint: chains of them)
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Node n : g.nodes()) {
                if (passesQuant(n.op()) && q.containsKey(n.input(0)) && !n.output(0).isEmpty()
                        && !q.containsKey(n.output(0))) {
                    q.put(n.output(0), q.get(n.input(0)));
                    changed = true;
                }
            }
        }
        return q;
    }

    static boolean passesQuant(Op op) {
        return op == Op.MaxPool || op == Op.Reshape || op == Op.Flatten || op == Op.Relu || op == Op.Identity
                || op == Op.GlobalMaxPool || op == Op.Squeeze || op == Op.Unsqueeze || op == Op.Transpose;
    }

    private static void put(Map<String, QuantParams> q, String value, String scale, String zp,
            Map<String, Tensor> constants) {
        Tensor s = constants.get(scale);
        if (value.isEmpty() || s == null || s.elementCount() != 1) {
            return;
        }
        Tensor z = zp.isEmpty() ? null : constants.get(zp);
        if (!zp.isEmpty() && (z == null || z.elementCount() != 1)) {
            return;
        }
        q.put(value, QuantParams.perTensor(s.getFloat(0), z == null ? 0 : z.getLong(0)));
    }

    public Graph graph() {
        return graph;
    }

    public List<int[]> inputShapes() {
        return inputShapes;
    }

    /** The type of a value, or null when the planner could not tell (e.g. a dynamic shape). */
    public ValueType type(String value) {
        return types.get(value);
    }

    public DType dtype(String value) {
        ValueType t = types.get(value);
        return t == null ? null : t.dtype();
    }

    public int[] shape(String value) {
        ValueType t = types.get(value);
        return t == null ? null : t.shape();
    }

    /** The dense value of a constant, or null when the value is not a constant. */
    public Tensor constant(String value) {
        return value.isEmpty() ? null : constants.get(value);
    }

    /** Per-tensor quantization of an 8-bit activation, or null when unknown. */
    public QuantParams quant(String value) {
        return quant.get(value);
    }

    /** Bytes of a value at its planned shape, 0 when unknown. */
    public long bytes(String value) {
        ValueType t = types.get(value);
        if (t == null || t.shape() == null || t.dtype() == null) {
            return 0;
        }
        return t.dtype().byteSize(Tensor.elementCount(t.shape()));
    }

    /** Multiply-accumulates of a node (its output elements for element-wise work), 0 when shapes are unknown. */
    public long macs(Node n) {
        int[] out = shape(n.output(0));
        if (out == null) {
            return 0;
        }
        long outElems = Tensor.elementCount(out);
        switch (n.op()) {
            case Conv:
            case QLinearConv:
            case ConvInteger: {
                int wi = n.op() == Op.QLinearConv ? 3 : 1;
                int[] w = shape(n.input(wi));
                if (w == null) {
                    return outElems;
                }
                long perOut = 1;
                for (int d = 1; d < w.length; d++) {
                    perOut *= w[d];
                }
                return outElems * perOut;
            }
            case Gemm:
            case MatMul:
            case QLinearMatMul:
            case MatMulInteger: {
                int[] a = shape(n.input(0));
                if (a == null || a.length == 0) {
                    return outElems;
                }
                boolean transA = n.op() == Op.Gemm && n.intAttr("transA") != 0;
                long k = transA ? a[a.length - 2] : a[a.length - 1];
                return outElems * k;
            }
            default:
                return outElems;
        }
    }
}
