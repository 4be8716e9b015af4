package dev.hedge.converter.quantize;

import dev.hedge.converter.passes.ActivationFusion;
import dev.hedge.converter.passes.DeadNodeElimination;
import dev.hedge.format.Decoding;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Codebook;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.ref.quant.QuantizeLinearKernel;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites a float graph (after {@link ActivationSplit}) so each layer has the precision decided for it.
 *
 * <ul>
 *   <li>static int8: the layer input is quantized once (QuantizeLinear, uint8 asymmetric per tensor from its
 *       calibrated range) unless another int8 layer already produces it quantized with the same parameters;
 *       the layer becomes QLinearConv / QLinearMatMul (int8 symmetric weights per output channel, int32 bias,
 *       Relu/Clip kept as the output clamp; Gemm weights transposed to [K, N] with alpha folded in), and a
 *       DequantizeLinear gives back the float output under its original name for float consumers (the final
 *       clean-up drops it when only int8 layers read the value). When no static int8 layer reads the output
 *       ({@link QuantOptions#floatOutputs()}, the default),
 *       the layer keeps its int32 accumulators in float instead (ConvInteger / MatMulInteger → Cast →
 *       Mul(x_scale · w_scale) → Add bias → activation, as dynamic int8 but with the calibrated input scale):
 *       requantizing the output would only add a rounding before its float consumers;
 *   <li>dynamic int8: DynamicQuantizeLinear → MatMulInteger / ConvInteger → Cast → Mul(x_scale · w_scale)
 *       (→ Add bias) (→ activation);
 *   <li>weight-only forms: INT8 or INT4 (group-wise) weights + DequantizeLinear, FLOAT16 + Cast, or a
 *       codebook-encoded FLOAT32 tensor; the planner folds them back to float weights at load.
 * </ul>
 * A layer that cannot take its precision (no calibration data reached it, an op or shape QLinear ops do not
 * cover) falls back to int8 weight-only, and its {@link Outcome} says why.
 */
public final class ModelQuantizer {

    /**
     * What became of one layer. {@code value} is the float value carrying its output in the result (absent
     * from the graph when only int8 layers read it); {@code quantized} (with {@code scale} and
     * {@code zeroPoint}) its uint8 form for static int8 layers, else null. {@code constants} are the
     * initializers holding the layer's parameters in the result.
     */
    public record Outcome(String layer, Op op, LayerPrecision requested, LayerPrecision applied, String note,
            List<String> constants, String value, String quantized, float scale, int zeroPoint) {
    }

    /**
     * A non-layer op that runs on uint8 in the result ({@link Int8OpChoice}): node {@code node} was {@code from} (with
     * {@code activation}, a Relu / Clip folded in, or null) and is now {@code to}; {@code value} is the float value
     * it stands for, {@code quantized} (with {@code scale} and {@code zeroPoint}) its uint8 form.
     */
    public record OpOutcome(String node, Op from, String activation, Op to, String value, String quantized,
            float scale, int zeroPoint) {
    }

    /** {@code ops}: the non-layer ops running on uint8, by node name. */
    public record Result(Graph graph, Map<String, Outcome> layers, Map<String, OpOutcome> ops) {

        public Result withGraph(Graph g) {
            return new Result(g, layers, ops);
        }
    }

    /** A uint8 value: its name, the names of its scale and zero-point constants, and their values. */
    private record QValue(String name, String scale, String zeroPoint, float scaleValue, int zeroPointValue) {
    }

    private record DynValue(String name, String scale, String zeroPoint) {
    }

    private final Names names;
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    private final Map<String, LayerPrecision> decisions;
    private final Map<String, Ranges.Affine> activations;
    private final Map<String, List<InputStatistics.Stats>> inputStats;
    private final QuantOptions options;
    private final Map<String, Outcome> outcomes = new LinkedHashMap<>();
    private final Map<String, OpOutcome> opOutcomes = new LinkedHashMap<>();
    /** Values that a static int8 layer or int8 op reads: only those are worth producing in uint8. */
    private final java.util.Set<String> int8Read = new java.util.HashSet<>();
    /** The non-layer ops to run on uint8, by node name. */
    private final Map<String, Int8OpChoice.Candidate> int8Ops;
    /** Relu / Clip nodes folded into an int8 op. */
    private final java.util.Set<String> folded = new java.util.HashSet<>();
    /** Every constant of the model (names are unique across its graphs), for the checks made ahead. */
    private final Map<String, Tensor> constants = new HashMap<>();

    private ModelQuantizer(Graph g, List<Layer> layers, Map<String, LayerPrecision> decisions,
            Map<String, Ranges.Affine> activations, Map<String, List<InputStatistics.Stats>> inputStats,
            QuantOptions options) {
        this.names = new Names(g);
        for (Layer l : layers) {
            this.layers.put(l.name(), l);
        }
        this.decisions = decisions;
        this.activations = activations;
        this.inputStats = twins(layers, inputStats);
        this.options = options;
        Map<String, Node> nodes = new HashMap<>();
        collect(g, nodes);
        java.util.Set<String> uint8Outputs = new java.util.HashSet<>();
        for (Layer l : layers) {
            if (decisions.getOrDefault(l.name(), LayerPrecision.FP32).kind() == LayerPrecision.Kind.INT8
                    && l.int8Capable() && activations.containsKey(l.input())) {
                int8Read.add(l.input());
                Node n = nodes.get(l.name());
                if (n != null && staticFit(n, l, l.bias() == null ? null : constants.get(l.bias())) == null) {
                    uint8Outputs.add(l.output());
                }
            }
        }
        if (options.int8Ops() == QuantOptions.Int8Ops.ALL) {
            int8Ops = Int8OpChoice.choose(g, uint8Outputs, java.util.Set.copyOf(int8Read), activations);
            for (Int8OpChoice.Candidate c : int8Ops.values()) {
                int8Read.addAll(c.dataInputs());
                if (c.activation() != null) {
                    folded.add(c.activation().name());
                }
            }
        } else {
            int8Ops = Map.of();
        }
    }

    private void collect(Graph g, Map<String, Node> nodes) {
        constants.putAll(g.initializers());
        for (Node n : g.nodes()) {
            nodes.put(n.name(), n);
            for (Graph s : n.subgraphs()) {
                collect(s, nodes);
            }
        }
    }

    /**
     * @param activations uint8 parameters of calibrated values (static int8 needs the layer's input and output)
     */
    public static Result quantize(Graph g, List<Layer> layers, Map<String, LayerPrecision> decisions,
            Map<String, Ranges.Affine> activations, QuantOptions options) {
        return quantize(g, layers, decisions, activations, Map.of(), options);
    }

    /**
     * @param inputStats statistics of the layers' inputs over the calibration data, per layer name and weight
     *     ({@link InputStatistics}): with column means, a layer's quantized weights get {@link BiasCorrection bias
     *     correction}; with a Gram matrix, they are rounded with error feedback ({@link Gptq}) instead of to nearest
     */
    public static Result quantize(Graph g, List<Layer> layers, Map<String, LayerPrecision> decisions,
            Map<String, Ranges.Affine> activations, Map<String, List<InputStatistics.Stats>> inputStats,
            QuantOptions options) {
        ModelQuantizer q = new ModelQuantizer(g, layers, decisions, activations, inputStats, options);
        Graph out = q.rewrite(g, new HashMap<>(), new HashMap<>(), new ArrayDeque<>());
        out = new DeadNodeElimination().apply(new ActivationFusion().apply(out));
        return new Result(out, q.outcomes, q.opOutcomes);
    }

    /**
     * The float values whose calibrated ranges static int8 needs beyond the layers' inputs and outputs: the
     * results of the non-layer ops that may run on uint8 ({@link Int8OpChoice}); none with {@code layers} only.
     */
    public static java.util.Set<String> extraRanges(Graph g, QuantOptions options) {
        return options.int8Ops() == QuantOptions.Int8Ops.ALL ? Int8OpChoice.rangesNeeded(g) : java.util.Set.of();
    }

    private Graph rewrite(Graph g, Map<String, QValue> visibleQ, Map<String, DynValue> visibleD,
            Deque<Map<String, Tensor>> scope) {
        scope.push(g.initializers());
        Map<String, QValue> qv = new HashMap<>(visibleQ);
        Map<String, DynValue> dv = new HashMap<>(visibleD);
        Graph.Builder b = g.toBuilder();
        b.nodes().clear();
        for (Node n : g.topologicalOrder()) {
            if (!n.subgraphs().isEmpty()) {
                Node m = n;
                for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                    if (e.getValue() instanceof Attr.GraphValue gv) {
                        m = m.withAttr(e.getKey(), new Attr.GraphValue(rewrite(gv.value(), qv, dv, scope)));
                    }
                }
                b.addNode(m);
                continue;
            }
            if (folded.contains(n.name())) {
                continue; // written with the op it was folded into
            }
            Int8OpChoice.Candidate c = int8Ops.get(n.name());
            if (c != null) {
                int8Op(n, c, b, qv);
                continue;
            }
            Layer l = layers.get(n.name());
            if (l == null) {
                b.addNode(n);
                continue;
            }
            LayerPrecision want = decisions.getOrDefault(l.name(), LayerPrecision.FP32);
            switch (want.kind()) {
                case FP32:
                    b.addNode(n);
                    List<String> consts = new ArrayList<>(l.weights());
                    if (l.bias() != null) {
                        consts.add(l.bias());
                    }
                    record(l, want, want, "", consts, l.output(), null, 0, 0);
                    break;
                case INT8: {
                    String why = staticInt8(n, l, b, qv, scope);
                    if (why != null) {
                        weightOnly(n, l, LayerPrecision.INT8_WEIGHT, want, why, b, scope);
                    }
                    break;
                }
                case INT8_DYNAMIC: {
                    String why = dynamicInt8(n, l, b, dv, scope);
                    if (why != null) {
                        weightOnly(n, l, LayerPrecision.INT8_WEIGHT, want, why, b, scope);
                    }
                    break;
                }
                default:
                    weightOnly(n, l, want, want, "", b, scope);
            }
        }
        scope.pop();
        return b.build();
    }

    private void record(Layer l, LayerPrecision want, LayerPrecision applied, String note, List<String> constants,
            String value, String quantized, float scale, int zp) {
        outcomes.put(l.name(), new Outcome(l.name(), l.op(), want, applied, note, constants, value, quantized, scale,
                zp));
    }

    // ---- static int8 -------------------------------------------------------------------------------------------

    /** Emits the QLinear form; returns null, or why the layer cannot be static int8 (nothing emitted then). */
    private String staticInt8(Node n, Layer l, Graph.Builder b, Map<String, QValue> qv,
            Deque<Map<String, Tensor>> scope) {
        if (!l.int8Capable()) {
            return n.op() + " has no int8 kernel";
        }
        Ranges.Affine xp = activations.get(l.input());
        Ranges.Affine yp = activations.get(l.output());
        if (options.floatOutputs() && xp != null && yp != null && !int8Read.contains(l.output())) {
            // no int8 layer reads the output: requantizing it would only add rounding before its float consumers
            return integerInt8(n, l, b, scope, () -> quantizedInput(l.input(), xp, n.name(), b, qv),
                    LayerPrecision.INT8, "float output");
        }
        Tensor bias = l.bias() == null ? null : Layers.constant(scope, l.bias());
        String unfit = staticFit(n, l, bias);
        if (unfit != null) {
            return unfit;
        }
        Tensor w = l.weightValues().get(0);
        Tensor wk;
        float[] biasValues = null;
        Op qop;
        if (n.op() == Op.Conv) {
            wk = w;
            qop = Op.QLinearConv;
            if (bias != null) {
                biasValues = bias.toFloatArray();
            }
        } else if (n.op() == Op.Gemm) {
            wk = gemmWeight(w, n.intAttr("transB") != 0, n.floatAttr("alpha"));
            int cols = wk.dim(1);
            if (n.hasInput(2)) {
                float beta = n.floatAttr("beta");
                float[] c = bias.toFloatArray();
                biasValues = new float[cols];
                for (int j = 0; j < cols; j++) {
                    biasValues[j] = beta * c[c.length == 1 ? 0 : j];
                }
            }
            qop = Op.QLinearMatMul;
        } else {
            wk = w;
            qop = Op.QLinearMatMul;
        }
        int outAxis = qop == Op.QLinearConv ? 0 : 1;
        WeightQuant.Quantized wq = int8Weights(n, l.name(), 0, wk, outAxis, true);
        float[] corr = BiasCorrection.correction(n, wk,
                WeightQuant.dequantize(wq, options.perTensor() ? -1 : outAxis, 0), outAxis, means(l.name(), 0), 1);
        biasValues = corrected(biasValues, corr);
        QValue xq = quantizedInput(l.input(), xp, n.name(), b, qv);
        String base = l.weights().get(0);
        String wName = names.fresh(base + "/quantized");
        String wScale = names.fresh(base + "/scale");
        String wZp = names.fresh(base + "/zero_point");
        b.initializer(wName, wq.values());
        b.initializer(wScale, Tensor.of(wq.scales(), wq.scaleShape()));
        // symmetric weights: one zero point 0 serves every channel's scale
        b.initializer(wZp, Tensor.allocate(DType.INT8));
        List<String> consts = new ArrayList<>(List.of(wName, wScale, wZp));
        QValue yq = newQValue(l.output(), yp, b);
        String yName = yq.name();
        List<String> inputs = new ArrayList<>(List.of(xq.name(), xq.scale(), xq.zeroPoint(), wName, wScale, wZp,
                yq.scale(), yq.zeroPoint()));
        if (biasValues != null) {
            String bName = names.fresh((l.bias() != null ? l.bias() : l.output() + "/bias") + "/quantized");
            // the input's actual scale: a value that only moved through MaxPool / Flatten... keeps its producer's
            b.initializer(bName, WeightQuant.int32Bias(biasValues, xq.scaleValue(), wq.scales()));
            inputs.add(bName);
            consts.add(bName);
        }
        Map<String, Attr> attrs = new LinkedHashMap<>();
        if (qop == Op.QLinearConv) {
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                if (Op.QLinearConv.attr(e.getKey()) != null) {
                    attrs.put(e.getKey(), e.getValue());
                }
            }
        } else {
            for (String a : List.of("fused_activation", "fused_alpha", "fused_beta")) {
                if (n.hasAttr(a)) {
                    attrs.put(a, n.attrs().get(a));
                }
            }
        }
        b.addNode(new Node(n.name(), qop, inputs, List.of(yName), attrs));
        b.addNode(Node.of(names.fresh(n.name() + "/dequantize"), Op.DequantizeLinear,
                List.of(yName, yq.scale(), yq.zeroPoint()), List.of(l.output())));
        qv.put(l.output(), yq);
        record(l, LayerPrecision.INT8, LayerPrecision.INT8, options.perTensor() ? "per-tensor weights" : "", consts,
                l.output(), yName, yp.scale(), yp.zeroPoint());
        return null;
    }

    // ---- int8 ops between layers -------------------------------------------------------------------------------

    /**
     * Writes a non-layer op on uint8 ({@link Int8OpChoice}), with a DequantizeLinear giving its float value back
     * under the original name for float readers (dropped by the final clean-up when there are none). Falls back
     * to the float node(s) when an input did not come out in uint8 after all.
     */
    private void int8Op(Node n, Int8OpChoice.Candidate c, Graph.Builder b, Map<String, QValue> qv) {
        List<QValue> in = new ArrayList<>();
        for (String v : c.dataInputs()) {
            in.add(qv.get(v));
        }
        Ranges.Affine yp = activations.get(c.output());
        if (in.contains(null) || c.requantizes() && yp == null) {
            b.addNode(n);
            if (c.activation() != null) {
                b.addNode(c.activation());
            }
            return;
        }
        QValue x = in.get(0);
        QValue y;
        Node q;
        if (c.requantizes()) {
            y = newQValue(c.output(), yp, b);
            List<String> inputs = new ArrayList<>(List.of(x.name(), x.scale(), x.zeroPoint()));
            if (c.to() == Op.QLinearAdd || c.to() == Op.QLinearMul) {
                QValue other = in.get(1);
                inputs.addAll(List.of(other.name(), other.scale(), other.zeroPoint()));
            }
            inputs.addAll(List.of(y.scale(), y.zeroPoint()));
            Map<String, Attr> attrs = new LinkedHashMap<>();
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                if (c.to().attr(e.getKey()) != null) {
                    attrs.put(e.getKey(), e.getValue());
                }
            }
            Node act = c.activation();
            if (act != null) {
                float[] ab = act.op() == Op.Clip ? Int8OpChoice.clipBounds(act, constants) : new float[] {0f, 0f};
                attrs.put("fused_activation", new Attr.Str(act.op().name()));
                attrs.put("fused_alpha", new Attr.Float(ab[0]));
                attrs.put("fused_beta", new Attr.Float(ab[1]));
            }
            q = new Node(n.name(), c.to(), inputs, List.of(y.name()), attrs);
        } else {
            // max and moves commute with dequantization: same scale and zero point, no requantization
            y = new QValue(names.fresh(c.output() + "/quantized"), x.scale(), x.zeroPoint(), x.scaleValue(),
                    x.zeroPointValue());
            List<String> inputs = new ArrayList<>(n.inputs());
            inputs.set(0, x.name());
            q = new Node(n.name(), n.op(), inputs, List.of(y.name()), n.attrs());
        }
        b.addNode(q);
        b.addNode(Node.of(names.fresh(n.name() + "/dequantize"), Op.DequantizeLinear,
                List.of(y.name(), y.scale(), y.zeroPoint()), List.of(c.output())));
        qv.put(c.output(), y);
        opOutcomes.put(n.name(), new OpOutcome(n.name(), n.op(),
                c.activation() == null ? null : c.activation().op().name(), c.to(), c.output(), y.name(),
                y.scaleValue(), y.zeroPointValue()));
    }

    /** {@code bias + correction} (either may be null). */
    private static float[] corrected(float[] bias, float[] correction) {
        if (correction == null) {
            return bias;
        }
        float[] out = bias == null ? new float[correction.length] : bias.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += correction[i];
        }
        return out;
    }

    /**
     * Why layer {@code n} cannot be written as QLinearConv / QLinearMatMul (its input and output calibrated), or
     * null when it can; {@code bias} is its constant bias, if any.
     */
    private String staticFit(Node n, Layer l, Tensor bias) {
        FusedActivation act = FusedActivation.of(n);
        if (!Activations.isClamp(act)) {
            return "fused " + act + " is not a clamp";
        }
        if (activations.get(l.input()) == null || activations.get(l.output()) == null) {
            return "no calibration data reached it";
        }
        Tensor w = l.weightValues().get(0);
        if (n.op() == Op.Conv) {
            if (w.rank() < 3 || w.rank() > 5) {
                return "Conv weight rank " + w.rank();
            }
        } else if (n.op() == Op.Gemm) {
            if (n.intAttr("transA") != 0) {
                return "Gemm with transA";
            }
            int cols = n.intAttr("transB") != 0 ? w.dim(0) : w.dim(1);
            if (n.hasInput(2)) {
                if (bias == null) {
                    return "Gemm bias is not a constant";
                }
                if (bias.elementCount() != cols && bias.elementCount() != 1
                        || bias.rank() > 2 || bias.rank() == 2 && bias.dim(0) != 1) {
                    return "Gemm bias of shape " + java.util.Arrays.toString(bias.shape()) + " is not per column";
                }
            }
        } else if (w.rank() != 2) {
            return "MatMul weight of rank " + w.rank();
        }
        return null;
    }

    /** New uint8 form of {@code v} with parameters {@code p}: its name and its scale and zero-point constants. */
    private QValue newQValue(String v, Ranges.Affine p, Graph.Builder b) {
        QValue q = new QValue(names.fresh(v + "/quantized"), names.fresh(v + "/scale"), names.fresh(v + "/zero_point"),
                p.scale(), p.zeroPoint());
        b.initializer(q.scale(), Tensor.of(new float[] {p.scale()}));
        b.initializer(q.zeroPoint(), uint8Scalar(p.zeroPoint()));
        return q;
    }

    /** The uint8 form of a float value: an earlier int8 layer's or op's output, or a new QuantizeLinear. */
    private QValue quantizedInput(String x, Ranges.Affine p, String layer, Graph.Builder b, Map<String, QValue> qv) {
        QValue have = qv.get(x);
        if (have != null) {
            return have;
        }
        QValue q = newQValue(x, p, b);
        b.addNode(Node.of(names.fresh(layer + "/quantize_input"), Op.QuantizeLinear,
                List.of(x, q.scale(), q.zeroPoint()), List.of(q.name())));
        qv.put(x, q);
        return q;
    }

    /** Gemm's B as [K, N] with alpha folded in. */
    private static Tensor gemmWeight(Tensor w, boolean transB, float alpha) {
        float[] v = w.toFloatArray();
        int r = w.dim(0);
        int c = w.dim(1);
        if (!transB && alpha == 1f) {
            return w;
        }
        int k = transB ? c : r;
        int nn = transB ? r : c;
        float[] o = new float[v.length];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < nn; j++) {
                o[i * nn + j] = alpha * (transB ? v[j * c + i] : v[i * c + j]);
            }
        }
        return Tensor.of(o, k, nn);
    }

    private static Tensor uint8Scalar(int v) {
        Tensor t = Tensor.allocate(DType.UINT8);
        t.data().put(0, (byte) v);
        return t;
    }

    // ---- dynamic int8 ------------------------------------------------------------------------------------------

    private String dynamicInt8(Node n, Layer l, Graph.Builder b, Map<String, DynValue> dv,
            Deque<Map<String, Tensor>> scope) {
        if (!l.int8Capable()) {
            return n.op() + " has no int8 kernel";
        }
        return integerInt8(n, l, b, scope, () -> {
            DynValue x = dv.get(l.input());
            if (x == null) {
                x = new DynValue(names.fresh(l.input() + "/dynamic_quantized"),
                        names.fresh(l.input() + "/dynamic_scale"), names.fresh(l.input() + "/dynamic_zero_point"));
                b.addNode(Node.of(names.fresh(n.name() + "/quantize_input"), Op.DynamicQuantizeLinear,
                        List.of(l.input()), List.of(x.name(), x.scale(), x.zeroPoint())));
                dv.put(l.input(), x);
            }
            return new QValue(x.name(), x.scale(), x.zeroPoint(), Float.NaN, 0);
        }, LayerPrecision.INT8_DYNAMIC, "");
    }

    /**
     * MatMulInteger / ConvInteger on the uint8 input {@code input} gives (it is asked for only once the layer is
     * known to fit), int32 accumulators scaled back to float, then the float bias and activation: dynamic int8,
     * and static int8 whose output only float consumers read. Returns null, or why the layer does not fit.
     */
    private String integerInt8(Node n, Layer l, Graph.Builder b, Deque<Map<String, Tensor>> scope,
            java.util.function.Supplier<QValue> input, LayerPrecision applied, String note) {
        Tensor w = l.weightValues().get(0);
        Tensor wk;
        Tensor bias = l.bias() == null ? null : Layers.constant(scope, l.bias());
        int outAxis;
        int maps;
        if (n.op() == Op.Conv) {
            if (w.rank() < 3 || w.rank() > 5) {
                return "Conv weight rank " + w.rank();
            }
            wk = w;
            outAxis = 0;
            maps = w.dim(0);
        } else if (n.op() == Op.Gemm) {
            if (n.intAttr("transA") != 0) {
                return "Gemm with transA";
            }
            if (n.hasInput(2) && bias == null) {
                return "Gemm bias is not a constant";
            }
            wk = gemmWeight(w, n.intAttr("transB") != 0, n.floatAttr("alpha"));
            outAxis = 1;
            maps = wk.dim(1);
        } else {
            if (w.rank() != 2) {
                return "MatMul weight of rank " + w.rank();
            }
            wk = w;
            outAxis = 1;
            maps = w.dim(1);
        }
        WeightQuant.Quantized wq = int8Weights(n, l.name(), 0, wk, outAxis, true);
        float[] corr = BiasCorrection.correction(n, wk,
                WeightQuant.dequantize(wq, options.perTensor() ? -1 : outAxis, 0), outAxis, means(l.name(), 0), 1);
        QValue x = input.get();
        String base = l.weights().get(0);
        String wName = names.fresh(base + "/quantized");
        b.initializer(wName, wq.values());
        // the weight scales broadcast against the output: [N] for a matmul, [1, M, 1, ...] for a conv
        int[] sShape;
        if (options.perTensor()) {
            sShape = new int[0];
        } else if (n.op() == Op.Conv) {
            sShape = new int[w.rank()];
            java.util.Arrays.fill(sShape, 1);
            sShape[1] = maps;
        } else {
            sShape = new int[] {maps};
        }
        String wScale = names.fresh(base + "/scale");
        b.initializer(wScale, Tensor.of(wq.scales(), sShape));
        List<String> consts = new ArrayList<>(List.of(wName, wScale));
        String acc = names.fresh(n.name() + "/int32");
        if (n.op() == Op.Conv) {
            Map<String, Attr> attrs = new LinkedHashMap<>();
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                if (Op.ConvInteger.attr(e.getKey()) != null) {
                    attrs.put(e.getKey(), e.getValue());
                }
            }
            b.addNode(new Node(n.name(), Op.ConvInteger, List.of(x.name(), wName, x.zeroPoint()), List.of(acc), attrs));
        } else {
            b.addNode(Node.of(n.name(), Op.MatMulInteger, List.of(x.name(), wName, x.zeroPoint()), List.of(acc)));
        }
        String accF = names.fresh(n.name() + "/float");
        b.addNode(new Node(names.fresh(n.name() + "/cast"), Op.Cast, List.of(acc), List.of(accF),
                Map.of("to", new Attr.Int(DType.FLOAT32.onnxCode()))));
        String scale = names.fresh(n.name() + "/scale");
        b.addNode(Node.of(names.fresh(n.name() + "/scales"), Op.Mul, List.of(x.scale(), wScale), List.of(scale)));
        FusedActivation act = FusedActivation.of(n);
        boolean hasBias = bias != null || corr != null;
        String last = hasBias || !act.isNone() ? names.fresh(n.name() + "/scaled") : l.output();
        b.addNode(Node.of(names.fresh(n.name() + "/rescale"), Op.Mul, List.of(accF, scale), List.of(last)));
        if (hasBias) {
            String bName = names.fresh((l.bias() != null ? l.bias() : l.output()) + "/bias");
            Tensor bt;
            if (n.op() == Op.Conv) {
                bt = Tensor.of(corrected(bias == null ? null : bias.toFloatArray(), corr), sShapeFor(w.rank(), maps));
            } else {
                float beta = n.op() == Op.Gemm ? n.floatAttr("beta") : 1f;
                Tensor scaledBias = bias == null ? null : beta == 1f ? bias : scaled(bias, beta);
                bt = corr == null ? scaledBias : addPerColumn(scaledBias, corr);
            }
            b.initializer(bName, bt);
            consts.add(bName);
            String out = act.isNone() ? l.output() : names.fresh(n.name() + "/biased");
            b.addNode(Node.of(names.fresh(n.name() + "/add_bias"), Op.Add, List.of(last, bName), List.of(out)));
            last = out;
        }
        if (!act.isNone()) {
            b.addNode(Activations.node(act, names.fresh(n.name() + "/activation"), last, l.output(), b, names));
        }
        record(l, applied, applied, note, consts, l.output(), null, 0, 0);
        return null;
    }

    private static int[] sShapeFor(int rank, int maps) {
        int[] s = new int[rank];
        java.util.Arrays.fill(s, 1);
        s[1] = maps;
        return s;
    }

    /** {@code t + c} with {@code c} per column (last axis); {@code t} null: {@code c} itself. */
    private static Tensor addPerColumn(Tensor t, float[] c) {
        if (t == null) {
            return Tensor.of(c.clone(), c.length);
        }
        int[] shape = t.elementCount() == 1 ? new int[] {c.length} : t.shape();
        float[] v = new float[Tensor.elementCount(shape)];
        float[] src = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = src[src.length == 1 ? 0 : i] + c[i % c.length];
        }
        return Tensor.of(v, shape);
    }

    private static Tensor scaled(Tensor t, float f) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= f;
        }
        return Tensor.of(v, t.shape());
    }

    // ---- weight-only forms -------------------------------------------------------------------------------------

    private void weightOnly(Node n, Layer l, LayerPrecision p, LayerPrecision want, String note, Graph.Builder b,
            Deque<Map<String, Tensor>> scope) {
        List<String> inputs = new ArrayList<>(n.inputs());
        List<String> consts = new ArrayList<>();
        List<Tensor> decoded = new ArrayList<>();
        int biasSlot = InputStatistics.recurrent(n.op()) ? 3 : 2;
        boolean correctable = p.kind() != LayerPrecision.Kind.FP16 && (l.bias() != null || !n.hasInput(biasSlot))
                && (n.op() == Op.Conv || InputStatistics.recurrent(n.op())
                || n.op() == Op.Gemm && Float.isFinite(n.floatAttr("alpha") / n.floatAttr("beta")));
        for (int j = 0; j < l.weights().size(); j++) {
            String name = l.weights().get(j);
            Tensor w = l.weightValues().get(j);
            int slot = n.inputs().indexOf(name);
            // a GRU's candidate gate reads r ⊙ h through R when linear_before_reset is 0: not corrected
            boolean centred = correctable && !(j == 1 && n.op() == Op.GRU && n.intAttr("linear_before_reset") == 0);
            Encoded e = encodeWeight(n, j, name, w, p, b, consts, centred);
            inputs.set(slot, e.value());
            decoded.add(e.decoded());
        }
        Tensor old = l.bias() == null ? null : Layers.constant(scope, l.bias());
        Tensor corrected = correctable ? correctedBias(n, l, decoded, old) : null;
        if (l.bias() != null && p.kind() == LayerPrecision.Kind.FP16) {
            int slot = n.inputs().indexOf(l.bias());
            inputs.set(slot, encodeWeight(n, -1, l.bias(), old, p, b, consts, false).value());
        } else if (corrected != null) {
            String name = names.fresh((l.bias() != null ? l.bias() : l.output() + "/bias") + "/corrected");
            b.initializer(name, corrected);
            consts.add(name);
            while (inputs.size() <= biasSlot) {
                inputs.add("");
            }
            inputs.set(biasSlot, name);
        } else if (l.bias() != null) {
            consts.add(l.bias());
        }
        b.addNode(n.withInputs(inputs));
        record(l, want, p, note, consts, l.output(), null, 0, 0);
    }

    /**
     * The layer's bias with {@link BiasCorrection} for its decoded weights (one per weight input), or null when
     * there is nothing to correct. Recurrent layers: W's correction goes into Wb and R's into Rb of each direction
     * (B {@code [dirs, 2 * gates * hidden]}); a GRU's candidate gate reads {@code r ⊙ h} through R when
     * linear_before_reset is 0, whose mean is not known, so those rows of R are not corrected.
     */
    private Tensor correctedBias(Node n, Layer l, List<Tensor> decoded, Tensor old) {
        if (n.op() == Op.Conv || n.op() == Op.Gemm) {
            Tensor w = l.weightValues().get(0);
            int outAxis = Layers.outputAxis(n, 0, w.rank());
            float factor = n.op() == Op.Gemm ? n.floatAttr("alpha") / n.floatAttr("beta") : 1f;
            float[] corr = Float.isFinite(factor)
                    ? BiasCorrection.correction(n, w, decoded.get(0), outAxis, means(l.name(), 0), factor) : null;
            if (corr == null) {
                return null;
            }
            return n.op() == Op.Conv ? Tensor.of(corrected(old == null ? null : old.toFloatArray(), corr),
                    corr.length) : addPerColumn(old, corr);
        }
        if (!InputStatistics.recurrent(n.op())) {
            return null;
        }
        Tensor w = l.weightValues().get(0);
        Tensor r = l.weightValues().get(1);
        float[] cw = BiasCorrection.correction(n, w, decoded.get(0), 1, means(l.name(), 0), 1);
        float[] cr = BiasCorrection.correction(n, r, decoded.get(1), 1, means(l.name(), 1), 1);
        if (cw == null && cr == null) {
            return null;
        }
        int dirs = w.dim(0);
        int gh = w.dim(1);
        float[] bias = old == null ? new float[dirs * 2 * gh] : old.toFloatArray();
        if (bias.length != dirs * 2 * gh) {
            return null;
        }
        int hidden = r.dim(2);
        boolean skipCandidate = n.op() == Op.GRU && n.intAttr("linear_before_reset") == 0;
        for (int d = 0; d < dirs; d++) {
            for (int i = 0; i < gh; i++) {
                if (cw != null) {
                    bias[d * 2 * gh + i] += cw[d * gh + i];
                }
                if (cr != null && !(skipCandidate && i >= 2 * hidden)) {
                    bias[d * 2 * gh + gh + i] += cr[d * gh + i];
                }
            }
        }
        return Tensor.of(bias, dirs, 2 * gh);
    }

    /**
     * The statistics, with each layer the data never reached given those of a reached layer with the same op and
     * identical weights (the same function on another path, e.g. the other branch of an If): its weights are then
     * rounded the same way, and the file stores the identical payloads once.
     */
    private static Map<String, List<InputStatistics.Stats>> twins(List<Layer> layers,
            Map<String, List<InputStatistics.Stats>> stats) {
        Map<String, List<InputStatistics.Stats>> out = new HashMap<>(stats);
        for (Layer l : layers) {
            if (stats.containsKey(l.name())) {
                continue;
            }
            for (Layer t : layers) {
                if (t.op() == l.op() && stats.containsKey(t.name()) && sameWeights(l, t)) {
                    out.put(l.name(), stats.get(t.name()));
                    break;
                }
            }
        }
        return out;
    }

    private static boolean sameWeights(Layer a, Layer b) {
        if (a.weightValues().size() != b.weightValues().size()) {
            return false;
        }
        for (int i = 0; i < a.weightValues().size(); i++) {
            Tensor x = a.weightValues().get(i);
            Tensor y = b.weightValues().get(i);
            if (!java.util.Arrays.equals(x.shape(), y.shape())
                    || !java.util.Arrays.equals(x.toFloatArray(), y.toFloatArray())) {
                return false;
            }
        }
        return true;
    }

    /** Column means of the rows weight {@code which} of the layer multiplies, per group, or null. */
    private double[][] means(String layer, int which) {
        InputStatistics.Stats st = stats(layer, which);
        return st == null ? null : st.mean();
    }

    private InputStatistics.Stats stats(String layer, int which) {
        List<InputStatistics.Stats> l = inputStats.get(layer);
        return l == null || which < 0 || which >= l.size() ? null : l.get(which);
    }

    /** A stored weight: the float value the layer reads, and the weights it decodes to. */
    private record Encoded(String value, Tensor decoded) {
    }

    /**
     * Stores one weight in form {@code p}; {@code centred}: its bias will be corrected (error feedback may then
     * leave the mean error to the correction).
     */
    private Encoded encodeWeight(Node n, int which, String name, Tensor w, LayerPrecision p, Graph.Builder b,
            List<String> consts, boolean centred) {
        switch (p.kind()) {
            case FP16: {
                String h = names.fresh(name + "/fp16");
                Tensor half = WeightQuant.fp16(w);
                b.initializer(h, half);
                consts.add(h);
                String out = names.fresh(name + "/fp32");
                b.addNode(new Node(names.fresh(name + "/cast"), Op.Cast, List.of(h), List.of(out),
                        Map.of("to", new Attr.Int(DType.FLOAT32.onnxCode()))));
                return new Encoded(out, Tensor.of(half.toFloatArray(), w.shape()));
            }
            case INT8_WEIGHT: case INT8: case INT8_DYNAMIC: {
                int outAxis = Layers.outputAxis(n, which, w.rank());
                WeightQuant.Quantized q = int8Weights(n, n.name(), which, w, outAxis, centred);
                int axis = options.perTensor() ? 0 : outAxis;
                return new Encoded(dequantized(name, q, axis, 0, b, consts),
                        WeightQuant.dequantize(q, options.perTensor() ? -1 : outAxis, 0));
            }
            case INT4: {
                int axis = Layers.reductionAxis(n, which, w.rank());
                int block = Math.min(options.int4Group(), w.dim(axis));
                WeightQuant.Quantized rtn = WeightQuant.int4Blocked(w, axis, block);
                WeightQuant.Quantized q = rtn;
                Tensor g = feedback(n, n.name(), which, centred, w, Layers.outputAxis(n, which, w.rank()), (e, x) -> {
                    float sc = rtn.scales()[WeightQuant.blockOf(w.shape(), axis, block, e)];
                    return QuantizeLinearKernel.quantize((float) x, sc, 0, -8f, 7f) * sc;
                });
                if (g != null) {
                    q = WeightQuant.withScales(g, DType.INT4, rtn.scales(), rtn.scaleShape(),
                            e -> WeightQuant.blockOf(w.shape(), axis, block, e));
                }
                return new Encoded(dequantized(name, q, axis, block, b, consts),
                        WeightQuant.dequantize(q, axis, block));
            }
            case CODEBOOK: {
                String c = names.fresh(name + "/codebook");
                Tensor cb = codebookWeights(n, which, centred, w, p.bits(), options.seed() ^ name.hashCode());
                b.initializer(c, cb);
                consts.add(c);
                return new Encoded(c, Decoding.densify(cb));
            }
            default: throw new AssertionError(p);
        }
    }

    /**
     * INT8 symmetric weights (per output channel along {@code outAxis}, or per tensor): rounded with error
     * feedback when the Gram matrix of weight {@code which}'s inputs is known, else to nearest.
     */
    private WeightQuant.Quantized int8Weights(Node n, String layer, int which, Tensor w, int outAxis,
            boolean centred) {
        int scaleAxis = options.perTensor() ? -1 : outAxis;
        WeightQuant.Quantized rtn = WeightQuant.int8Symmetric(w, scaleAxis);
        Tensor g = feedback(n, layer, which, centred, w, outAxis, (e, x) -> {
            float sc = rtn.scales()[WeightQuant.channelOf(w.shape(), scaleAxis, e)];
            return QuantizeLinearKernel.quantize((float) x, sc, 0, -127f, 127f) * sc;
        });
        return g == null ? rtn : WeightQuant.withScales(g, DType.INT8, rtn.scales(), rtn.scaleShape(),
                e -> WeightQuant.channelOf(w.shape(), scaleAxis, e));
    }

    /**
     * The weights moved onto {@code grid} by error feedback ({@link ErrorFeedback}) when the layer's input
     * statistics are known, else null. Weights that are exactly 0 (pruned) stay 0.
     */
    private Tensor feedback(Node n, String layer, int which, boolean centred, Tensor w, int outAxis,
            ErrorFeedback.FlatGrid grid) {
        InputStatistics.Stats st = stats(layer, which);
        double[][] h = st == null ? null : centred ? st.gram() : st.uncentredGram();
        if (h == null) {
            return null;
        }
        float[] orig = w.toFloatArray();
        return ErrorFeedback.apply(n, w, outAxis, h, (e, x) -> orig[e] == 0 ? 0 : grid.round(e, x));
    }

    /** A codebook tensor: k-means palette, indices of the weights rounded to it (with error feedback if known). */
    private Tensor codebookWeights(Node n, int which, boolean centred, Tensor w, int bits, long seed) {
        float[] v = w.toFloatArray();
        boolean zeros = false;
        for (float x : v) {
            zeros |= x == 0;
        }
        KMeans1D.Result r = KMeans1D.cluster(v, 1 << bits, seed, zeros);
        int[] index = r.index();
        float[] palette = r.palette();
        Tensor g = feedback(n, n.name(), which, centred, w, Layers.outputAxis(n, which, w.rank()),
                (e, x) -> palette[KMeans1D.nearest(palette, (float) x)]);
        if (g != null) {
            float[] gv = g.toFloatArray();
            index = new int[gv.length];
            for (int i = 0; i < gv.length; i++) {
                index[i] = KMeans1D.nearest(palette, gv[i]);
            }
        }
        return pack(w.shape(), palette, index, bits);
    }

    private String dequantized(String name, WeightQuant.Quantized q, int axis, int block, Graph.Builder b,
            List<String> consts) {
        String qn = names.fresh(name + "/quantized");
        String sn = names.fresh(name + "/scale");
        b.initializer(qn, q.values());
        b.initializer(sn, Tensor.of(q.scales(), q.scaleShape()));
        consts.add(qn);
        consts.add(sn);
        String out = names.fresh(name + "/dequantized");
        Map<String, Attr> attrs = new LinkedHashMap<>();
        attrs.put("axis", new Attr.Int(axis));
        if (block > 0) {
            attrs.put("block_size", new Attr.Int(block));
        }
        b.addNode(new Node(names.fresh(name + "/dequantize"), Op.DequantizeLinear, List.of(qn, sn), List.of(out),
                attrs));
        return out;
    }

    /**
     * A FLOAT32 tensor stored as a {@code bits}-bit codebook: a k-means palette with an exact 0 entry when
     * the weights have zeros (pruned weights stay 0) and the indices packed LSB first.
     */
    static Tensor codebook(Tensor w, int bits, long seed) {
        float[] v = w.toFloatArray();
        boolean zeros = false;
        for (float x : v) {
            zeros |= x == 0;
        }
        KMeans1D.Result r = KMeans1D.cluster(v, 1 << bits, seed, zeros);
        return pack(w.shape(), r.palette(), r.index(), bits);
    }

    /** Palette indices packed LSB first into a codebook-encoded FLOAT32 tensor. */
    private static Tensor pack(int[] shape, float[] palette, int[] index, int bits) {
        ByteBuffer packed = ByteBuffer.allocateDirect((int) (((long) index.length * bits + 7) / 8))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < index.length; i++) {
            long bit = (long) i * bits;
            int at = (int) (bit >>> 3);
            int shift = (int) (bit & 7);
            int word = index[i] << shift;
            packed.put(at, (byte) (packed.get(at) | word));
            if (shift + bits > 8) {
                packed.put(at + 1, (byte) (packed.get(at + 1) | (word >>> 8)));
            }
        }
        return Tensor.encoded(DType.FLOAT32, shape, packed, null, null, new Codebook(palette, bits, -1));
    }
}
