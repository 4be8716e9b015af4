package dev.hedge.converter.quantize;

import dev.hedge.converter.passes.DeadNodeElimination;
import dev.hedge.converter.passes.GraphPass;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the QDQ form of an already-quantized ONNX model into Hedge's integer ops, keeping the model's own scales
 * and zero points: {@code DequantizeLinear(xq) → Conv / MatMul / Gemm (weights DequantizeLinear(constant wq), bias
 * DequantizeLinear(constant INT32) or float constant) [→ Relu / Clip fused] → QuantizeLinear} becomes one
 * QLinearConv / QLinearMatMul reading xq and writing the QuantizeLinear's output. Gemm needs alpha 1 and no
 * transA; its weights are transposed (with their per-channel parameters) when transB is set. A float bias is
 * quantized with {@code x_scale * w_scale}. A Reshape / Flatten / Squeeze / Unsqueeze / Transpose between the
 * input's DequantizeLinear and the layer is moved onto the quantized input. Patterns that do not fit stay as they
 * are: the Q/DQ nodes run as written (the planner folds the weights' DequantizeLinear at load), which is correct,
 * only not integer arithmetic.
 *
 * <p>Between layers: {@code DequantizeLinear(a), DequantizeLinear(b) → Add / Mul [→ Relu / Clip] →
 * QuantizeLinear} becomes QLinearAdd / QLinearMul (the activation fused), {@code DequantizeLinear(x) →
 * AveragePool / GlobalAveragePool → QuantizeLinear} QLinearAveragePool / QLinearGlobalAveragePool, and
 * {@code DequantizeLinear(x) → MaxPool → QuantizeLinear} with unchanged parameters a MaxPool on the 8-bit values.
 */
public final class QdqFusion implements GraphPass {

    /** Ops between layers with an int8 form: Add / Mul, average pooling (requantizing) and MaxPool. */
    private static final java.util.Set<Op> INT8_OPS = java.util.Set.of(Op.Add, Op.Mul, Op.AveragePool,
            Op.GlobalAveragePool, Op.MaxPool);

    /** Ops that only move or relabel elements: they run on quantized values as well as on floats. */
    private static final java.util.Set<Op> SHAPE_OPS = java.util.Set.of(Op.Reshape, Op.Flatten, Op.Squeeze,
            Op.Unsqueeze, Op.Transpose);

    @Override
    public String name() {
        return "qdq-fusion";
    }

    @Override
    public Result run(Graph g) {
        Map<String, Integer> changes = new LinkedHashMap<>();
        Graph out = fuse(g, changes);
        if (changes.isEmpty()) {
            return Result.unchanged(g);
        }
        return new Result(new DeadNodeElimination().apply(out), changes);
    }

    private Graph fuse(Graph g, Map<String, Integer> changes) {
        Graph.Builder b = g.toBuilder();
        b.nodes().clear();
        Map<String, Node> producers = g.producers();
        Map<String, List<Node>> consumers = g.consumers();
        java.util.Set<Node> dropped = new java.util.HashSet<>();
        List<Node> order = g.topologicalOrder();
        Map<Node, Node> replacement = new LinkedHashMap<>();
        for (Node n : order) {
            if (INT8_OPS.contains(n.op())) {
                List<Node> gone = new ArrayList<>();
                Node fused = matchBetween(n, g, producers, consumers, b, gone);
                if (fused != null) {
                    replacement.put(n, fused);
                    dropped.addAll(gone);
                    changes.merge(n.op().name(), 1, Integer::sum);
                }
                continue;
            }
            if (n.op() != Op.Conv && n.op() != Op.MatMul && n.op() != Op.Gemm) {
                continue;
            }
            Node fused = match(n, g, producers, consumers, b);
            if (fused != null) {
                Node q = consumers.get(n.output(0)).get(0);
                replacement.put(n, fused);
                dropped.add(q);
                changes.merge(n.op().name(), 1, Integer::sum);
            }
        }
        for (Node n : g.nodes()) {
            if (dropped.contains(n)) {
                continue;
            }
            Node m = replacement.getOrDefault(n, n);
            for (Map.Entry<String, Attr> e : m.attrs().entrySet()) {
                if (e.getValue() instanceof Attr.GraphValue gv) {
                    m = m.withAttr(e.getKey(), new Attr.GraphValue(fuse(gv.value(), changes)));
                }
            }
            b.addNode(m);
        }
        return b.build();
    }

    /** The fused node for layer {@code n}, adding any new constants to {@code b}; null when it does not match. */
    private static Node match(Node n, Graph g, Map<String, Node> producers, Map<String, List<Node>> consumers,
            Graph.Builder b) {
        FusedActivation act = FusedActivation.of(n);
        if (!Activations.isClamp(act)) {
            return null;
        }
        Node dqx = producers.get(n.input(0));
        // a shape op between the input's DequantizeLinear and the layer moves before it (it works on uint8 too)
        Node hop = null;
        if (dqx != null && SHAPE_OPS.contains(dqx.op()) && consumers.getOrDefault(n.input(0), List.of()).size() == 1
                && !g.outputNames().contains(n.input(0))) {
            Node before = producers.get(dqx.input(0));
            if (before != null && before.op() == Op.DequantizeLinear) {
                hop = dqx;
                dqx = before;
            }
        }
        Node dqw = producers.get(n.input(1));
        List<Node> outs = consumers.getOrDefault(n.output(0), List.of());
        if (dqx == null || dqx.op() != Op.DequantizeLinear || dqw == null || dqw.op() != Op.DequantizeLinear
                || outs.size() != 1 || outs.get(0).op() != Op.QuantizeLinear || g.outputNames().contains(n.output(0))) {
            return null;
        }
        Node q = outs.get(0);
        Map<String, Tensor> c = g.initializers();
        // activation parameters: per tensor, constant
        Tensor sx = c.get(dqx.input(1));
        Tensor sy = q.hasInput(1) ? c.get(q.input(1)) : null;
        Tensor wq = c.get(dqw.input(0));
        Tensor sw = c.get(dqw.input(1));
        if (sx == null || sx.elementCount() != 1 || sy == null || sy.elementCount() != 1 || wq == null
                || sw == null || sx.dtype() != DType.FLOAT32 || sy.dtype() != DType.FLOAT32
                || sw.dtype() != DType.FLOAT32 || dqw.intAttr("block_size") != 0 || dqx.intAttr("block_size") != 0) {
            return null;
        }
        String xq = dqx.input(0);
        DType xType = g.valueInfos().containsKey(xq) ? g.valueInfos().get(xq).dtype() : typeOf(xq, g, producers);
        if (xType != DType.UINT8 && xType != DType.INT8 || wq.dtype() != DType.UINT8 && wq.dtype() != DType.INT8) {
            return null;
        }
        Tensor zx = dqx.hasInput(2) ? c.get(dqx.input(2)) : Tensor.allocate(xType);
        Tensor zw = dqw.hasInput(2) ? c.get(dqw.input(2)) : Tensor.allocate(wq.dtype());
        Tensor zy = q.hasInput(2) ? c.get(q.input(2)) : Tensor.allocate(DType.UINT8);
        if (zx == null || zw == null || zy == null || zx.elementCount() != 1
                || zy.dtype() != DType.UINT8 && zy.dtype() != DType.INT8) {
            return null;
        }
        int outAxis = n.op() == Op.Conv ? 0 : n.op() == Op.Gemm && n.intAttr("transB") != 0 ? 0 : 1;
        int wAxis = sw.elementCount() == 1 ? outAxis
                : (int) (dqw.intAttr("axis") < 0 ? dqw.intAttr("axis") + wq.rank() : dqw.intAttr("axis"));
        if (wAxis != outAxis || n.op() != Op.Conv && wq.rank() != 2) {
            return null;
        }
        boolean transpose = n.op() == Op.Gemm && n.intAttr("transB") != 0;
        if (n.op() == Op.Gemm && (n.intAttr("transA") != 0 || n.floatAttr("alpha") != 1f)) {
            return null;
        }
        int channels = wq.dim(outAxis);
        String wName = dqw.input(0);
        if (transpose) {
            wName = fresh(wName + "/transposed", g, b);
            b.initializer(wName, transpose(wq));
        }
        // bias: DequantizeLinear of INT32 with scale x_scale * w_scale, or a float constant quantized so
        String bias = null;
        if (n.hasInput(2)) {
            Node dqb = producers.get(n.input(2));
            Tensor fb = c.get(n.input(2));
            if (dqb != null && dqb.op() == Op.DequantizeLinear && c.containsKey(dqb.input(0))
                    && c.get(dqb.input(0)).dtype() == DType.INT32 && c.get(dqb.input(0)).elementCount() == channels) {
                bias = dqb.input(0);
            } else if (fb != null && fb.dtype() == DType.FLOAT32 && (fb.elementCount() == channels
                    || fb.elementCount() == 1)) {
                float beta = n.op() == Op.Gemm ? n.floatAttr("beta") : 1f;
                float[] v = new float[channels];
                float[] src = fb.toFloatArray();
                for (int i = 0; i < channels; i++) {
                    v[i] = beta * src[src.length == 1 ? 0 : i];
                }
                bias = fresh(n.input(2) + "/quantized", g, b);
                b.initializer(bias, WeightQuant.int32Bias(v, sx.getFloat(0), sw.toFloatArray()));
            } else {
                return null;
            }
        }
        if (hop != null) {
            String moved = fresh(hop.output(0) + "/quantized", g, b);
            List<String> hopInputs = new ArrayList<>(hop.inputs());
            hopInputs.set(0, xq);
            b.addNode(new Node(hop.name() + "/quantized", hop.op(), hopInputs, List.of(moved), hop.attrs()));
            xq = moved;
        }
        List<String> inputs = new ArrayList<>(List.of(xq, dqx.input(1), zeroPoint(dqx, 2, zx, g, b), wName,
                dqw.input(1), zeroPoint(dqw, 2, zw, g, b), q.input(1), zeroPoint(q, 2, zy, g, b)));
        if (bias != null) {
            inputs.add(bias);
        }
        Op op = n.op() == Op.Conv ? Op.QLinearConv : Op.QLinearMatMul;
        Map<String, Attr> attrs = new LinkedHashMap<>();
        for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
            if (op.attr(e.getKey()) != null) {
                attrs.put(e.getKey(), e.getValue());
            }
        }
        return new Node(n.name(), op, inputs, List.of(q.output(0)), attrs);
    }

    /**
     * The int8 node for {@code DequantizeLinear(a) [, DequantizeLinear(b)] → Add / Mul [→ Relu / Clip] /
     * AveragePool / GlobalAveragePool / MaxPool → QuantizeLinear} (per-tensor constant parameters, one 8-bit type
     * throughout), or null. {@code gone} receives the nodes it replaces besides {@code n}. MaxPool only when
     * the QuantizeLinear's parameters are the DequantizeLinear's: it then runs on the 8-bit values as they are.
     */
    private static Node matchBetween(Node n, Graph g, Map<String, Node> producers, Map<String, List<Node>> consumers,
            Graph.Builder b, List<Node> gone) {
        boolean binary = n.op() == Op.Add || n.op() == Op.Mul;
        if (binary && n.inputs().size() != 2 || n.outputs().size() != 1 && !(n.outputs().size() == 2
                && n.output(1).isEmpty())) {
            return null;
        }
        List<Node> dqs = new ArrayList<>();
        for (int i = 0; i < (binary ? 2 : 1); i++) {
            Node dq = producers.get(n.input(i));
            if (dq == null || dq.op() != Op.DequantizeLinear) {
                return null;
            }
            dqs.add(dq);
        }
        String last = n.output(0);
        Node act = null;
        List<Node> outs = consumers.getOrDefault(last, List.of());
        if (binary && outs.size() == 1 && !g.outputNames().contains(last)
                && (outs.get(0).op() == Op.Relu || outs.get(0).op() == Op.Clip)) {
            act = outs.get(0);
            float[] ab = clipBounds(act, g);
            if (ab == null) {
                return null;
            }
            last = act.output(0);
            outs = consumers.getOrDefault(last, List.of());
        }
        if (outs.size() != 1 || outs.get(0).op() != Op.QuantizeLinear || g.outputNames().contains(last)) {
            return null;
        }
        Node q = outs.get(0);
        Map<String, Tensor> c = g.initializers();
        DType type = null;
        List<String> inputs = new ArrayList<>();
        List<float[]> params = new ArrayList<>();
        for (Node dq : dqs) {
            Tensor s = c.get(dq.input(1));
            Tensor z = dq.hasInput(2) ? c.get(dq.input(2)) : null;
            DType t = z != null ? z.dtype() : typeOf(dq.input(0), g, producers);
            if (!perTensor(s, z, dq) || t != DType.UINT8 && t != DType.INT8 || type != null && t != type) {
                return null;
            }
            type = t;
            Tensor zv = z != null ? z : Tensor.allocate(t);
            inputs.addAll(List.of(dq.input(0), dq.input(1), zeroPoint(dq, 2, zv, g, b)));
            params.add(new float[] {s.getFloat(0), (float) zv.getDouble(0)});
        }
        Tensor sy = q.hasInput(1) ? c.get(q.input(1)) : null;
        Tensor zy = q.hasInput(2) ? c.get(q.input(2)) : null;
        DType yType = zy != null ? zy.dtype() : q.intAttr("output_dtype") != 0
                ? DType.fromOnnx((int) q.intAttr("output_dtype")) : DType.UINT8;
        if (!perTensor(sy, zy, q) || yType != type) {
            return null;
        }
        Tensor zyv = zy != null ? zy : Tensor.allocate(type);
        Map<String, Attr> attrs = new LinkedHashMap<>();
        if (n.op() == Op.MaxPool) {
            if (sy.getFloat(0) != params.get(0)[0] || zyv.getDouble(0) != params.get(0)[1]) {
                return null;
            }
            List<String> mp = new ArrayList<>(n.inputs());
            mp.set(0, dqs.get(0).input(0));
            gone.add(q);
            return new Node(n.name(), Op.MaxPool, mp, List.of(q.output(0)), n.attrs());
        }
        Op op = switch (n.op()) {
            case Add -> Op.QLinearAdd;
            case Mul -> Op.QLinearMul;
            case AveragePool -> Op.QLinearAveragePool;
            default -> Op.QLinearGlobalAveragePool;
        };
        for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
            if (op.attr(e.getKey()) != null) {
                attrs.put(e.getKey(), e.getValue());
            }
        }
        if (act != null) {
            float[] ab = clipBounds(act, g);
            attrs.put("fused_activation", new Attr.Str(act.op().name()));
            attrs.put("fused_alpha", new Attr.Float(ab[0]));
            attrs.put("fused_beta", new Attr.Float(ab[1]));
            gone.add(act);
        }
        inputs.addAll(List.of(q.input(1), zeroPoint(q, 2, zyv, g, b)));
        gone.add(q);
        return new Node(n.name(), op, inputs, List.of(q.output(0)), attrs);
    }

    /** Whether scale {@code s} and zero point {@code z} (null: absent) are per-tensor constants. */
    private static boolean perTensor(Tensor s, Tensor z, Node node) {
        return s != null && s.dtype() == DType.FLOAT32 && s.elementCount() == 1 && node.intAttr("block_size") == 0
                && (z == null || z.elementCount() == 1) && (!node.hasInput(2) || z != null);
    }

    /** {lo, hi} of a Relu (0, 0, as fused Relu reads them) or of a Clip with constant bounds, else null. */
    private static float[] clipBounds(Node act, Graph g) {
        if (act.op() == Op.Relu) {
            return new float[] {0f, 0f};
        }
        float[] ab = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        for (int i = 1; i <= 2; i++) {
            if (act.hasInput(i)) {
                Tensor t = g.initializers().get(act.input(i));
                if (t == null || t.dtype() != DType.FLOAT32 || t.elementCount() != 1) {
                    return null;
                }
                ab[i - 1] = t.getFloat(0);
            }
        }
        return ab;
    }

    /** The zero-point input of {@code node} at {@code i}, or a new constant holding {@code value}. */
    private static String zeroPoint(Node node, int i, Tensor value, Graph g, Graph.Builder b) {
        if (node.hasInput(i)) {
            return node.input(i);
        }
        String name = fresh(node.name() + "/zero_point", g, b);
        b.initializer(name, value);
        return name;
    }

    private static String fresh(String hint, Graph g, Graph.Builder b) {
        String n = hint;
        for (int i = 1; g.initializers().containsKey(n) || b.initializers().containsKey(n)
                || g.producers().containsKey(n); i++) {
            n = hint + "_" + i;
        }
        return n;
    }

    /** The element type of a value produced by a QuantizeLinear or given as a graph input, or null. */
    private static DType typeOf(String v, Graph g, Map<String, Node> producers) {
        Node p = producers.get(v);
        if (p != null && p.op() == Op.QuantizeLinear) {
            if (p.hasInput(2) && g.initializers().containsKey(p.input(2))) {
                return g.initializers().get(p.input(2)).dtype();
            }
            long dt = p.intAttr("output_dtype");
            return dt != 0 ? DType.fromOnnx((int) dt) : DType.UINT8;
        }
        var in = g.input(v);
        return in != null ? in.dtype() : null;
    }

    private static Tensor transpose(Tensor w) {
        int r = w.dim(0);
        int cols = w.dim(1);
        Tensor t = Tensor.allocate(w.dtype(), cols, r);
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < cols; j++) {
                t.data().put(j * r + i, w.data().get(i * cols + j));
            }
        }
        return t;
    }
}
