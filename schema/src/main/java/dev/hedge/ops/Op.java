package dev.hedge.ops;

import static dev.hedge.ops.AttrDef.f;
import static dev.hedge.ops.AttrDef.floats;
import static dev.hedge.ops.AttrDef.graph;
import static dev.hedge.ops.AttrDef.i;
import static dev.hedge.ops.AttrDef.iReq;
import static dev.hedge.ops.AttrDef.ints;
import static dev.hedge.ops.AttrDef.intsReq;
import static dev.hedge.ops.AttrDef.s;
import static dev.hedge.ops.AttrDef.strings;
import static dev.hedge.ops.AttrDef.tensor;

import dev.hedge.schema.fb.OpType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The op vocabulary: one constant per {@link OpType} code, spelled exactly as the FlatBuffers enum and
 * the ONNX op type, with its attribute table and input/output arity. The converter validates imported
 * attributes against this table, the writer and reader encode by it, and kernels read defaults from it.
 *
 * <p>Attributes whose ONNX form changed across opsets (Squeeze axes, Slice starts, Pad pads, Reduce axes,
 * Clip min/max, Split sizes, TopK k, Upsample, opset-10 Resize) are normalised by the importer to their
 * newest input form, so each op here has one meaning.
 *
 * <p>Hedge adds {@code fused_activation} (+ {@code fused_alpha}, {@code fused_beta}) to the ops an
 * activation can be fused into: Relu, LeakyRelu(alpha), Clip(alpha=min, beta=max), Sigmoid,
 * HardSigmoid(alpha, beta), HardSwish, Tanh.
 */
public enum Op {
    Conv(OpType.Conv, 2, 3, 1, 1, conv(), fused()),
    ConvTranspose(OpType.ConvTranspose, 2, 3, 1, 1, conv(), list(ints("output_padding"), ints("output_shape")),
            fused()),
    Gemm(OpType.Gemm, 2, 3, 1, 1, list(f("alpha", 1f), f("beta", 1f), i("transA", 0), i("transB", 0)), fused()),
    MatMul(OpType.MatMul, 2, 2, 1, 1, fused()),

    Add(OpType.Add, 2, 2, 1, 1),
    Sub(OpType.Sub, 2, 2, 1, 1),
    Mul(OpType.Mul, 2, 2, 1, 1),
    Div(OpType.Div, 2, 2, 1, 1),
    Pow(OpType.Pow, 2, 2, 1, 1),
    Mod(OpType.Mod, 2, 2, 1, 1, list(i("fmod", 0))),
    Min(OpType.Min, 1, Arity.N, 1, 1),
    Max(OpType.Max, 1, Arity.N, 1, 1),
    Sum(OpType.Sum, 1, Arity.N, 1, 1),
    Mean(OpType.Mean, 1, Arity.N, 1, 1),

    Equal(OpType.Equal, 2, 2, 1, 1),
    Less(OpType.Less, 2, 2, 1, 1),
    LessOrEqual(OpType.LessOrEqual, 2, 2, 1, 1),
    Greater(OpType.Greater, 2, 2, 1, 1),
    GreaterOrEqual(OpType.GreaterOrEqual, 2, 2, 1, 1),
    Not(OpType.Not, 1, 1, 1, 1),
    And(OpType.And, 2, 2, 1, 1),
    Or(OpType.Or, 2, 2, 1, 1),
    Xor(OpType.Xor, 2, 2, 1, 1),
    Where(OpType.Where, 3, 3, 1, 1),
    IsNaN(OpType.IsNaN, 1, 1, 1, 1),
    IsInf(OpType.IsInf, 1, 1, 1, 1, list(i("detect_negative", 1), i("detect_positive", 1))),

    Sqrt(OpType.Sqrt, 1, 1, 1, 1),
    Exp(OpType.Exp, 1, 1, 1, 1),
    Log(OpType.Log, 1, 1, 1, 1),
    Neg(OpType.Neg, 1, 1, 1, 1),
    Abs(OpType.Abs, 1, 1, 1, 1),
    Reciprocal(OpType.Reciprocal, 1, 1, 1, 1),
    Erf(OpType.Erf, 1, 1, 1, 1),
    Floor(OpType.Floor, 1, 1, 1, 1),
    Ceil(OpType.Ceil, 1, 1, 1, 1),
    Round(OpType.Round, 1, 1, 1, 1),
    Sign(OpType.Sign, 1, 1, 1, 1),
    Sin(OpType.Sin, 1, 1, 1, 1),
    Cos(OpType.Cos, 1, 1, 1, 1),
    Tan(OpType.Tan, 1, 1, 1, 1),
    Asin(OpType.Asin, 1, 1, 1, 1),
    Acos(OpType.Acos, 1, 1, 1, 1),
    Atan(OpType.Atan, 1, 1, 1, 1),
    Sinh(OpType.Sinh, 1, 1, 1, 1),
    Cosh(OpType.Cosh, 1, 1, 1, 1),
    Asinh(OpType.Asinh, 1, 1, 1, 1),
    Acosh(OpType.Acosh, 1, 1, 1, 1),
    Atanh(OpType.Atanh, 1, 1, 1, 1),

    Relu(OpType.Relu, 1, 1, 1, 1),
    LeakyRelu(OpType.LeakyRelu, 1, 1, 1, 1, list(f("alpha", 0.01f))),
    PRelu(OpType.PRelu, 2, 2, 1, 1),
    Elu(OpType.Elu, 1, 1, 1, 1, list(f("alpha", 1f))),
    Selu(OpType.Selu, 1, 1, 1, 1, list(f("alpha", 1.67326319217681884765625f), f("gamma", 1.05070102214813232421875f))),
    Sigmoid(OpType.Sigmoid, 1, 1, 1, 1),
    HardSigmoid(OpType.HardSigmoid, 1, 1, 1, 1, list(f("alpha", 0.2f), f("beta", 0.5f))),
    HardSwish(OpType.HardSwish, 1, 1, 1, 1),
    Tanh(OpType.Tanh, 1, 1, 1, 1),
    Softplus(OpType.Softplus, 1, 1, 1, 1),
    Softsign(OpType.Softsign, 1, 1, 1, 1),
    /** min and max are inputs 1 and 2 (the importer moves opset-6 attributes there). */
    Clip(OpType.Clip, 1, 3, 1, 1),
    Gelu(OpType.Gelu, 1, 1, 1, 1, list(s("approximate", "none"))),
    Mish(OpType.Mish, 1, 1, 1, 1),
    Celu(OpType.Celu, 1, 1, 1, 1, list(f("alpha", 1f))),
    ThresholdedRelu(OpType.ThresholdedRelu, 1, 1, 1, 1, list(f("alpha", 1f))),

    MaxPool(OpType.MaxPool, 1, 1, 1, 2, pool(), list(i("storage_order", 0))),
    AveragePool(OpType.AveragePool, 1, 1, 1, 1, pool(), list(i("count_include_pad", 0))),
    GlobalAveragePool(OpType.GlobalAveragePool, 1, 1, 1, 1),
    GlobalMaxPool(OpType.GlobalMaxPool, 1, 1, 1, 1),
    LpNormalization(OpType.LpNormalization, 1, 1, 1, 1, list(i("axis", -1), i("p", 2))),

    BatchNormalization(OpType.BatchNormalization, 5, 5, 1, 3,
            list(f("epsilon", 1e-5f), f("momentum", 0.9f), i("training_mode", 0))),
    InstanceNormalization(OpType.InstanceNormalization, 3, 3, 1, 1, list(f("epsilon", 1e-5f))),
    LayerNormalization(OpType.LayerNormalization, 2, 3, 1, 3,
            list(i("axis", -1), f("epsilon", 1e-5f), i("stash_type", 1))),
    GroupNormalization(OpType.GroupNormalization, 3, 3, 1, 1,
            list(f("epsilon", 1e-5f), iReq("num_groups"), i("stash_type", 1))),
    LRN(OpType.LRN, 1, 1, 1, 1, list(f("alpha", 1e-4f), f("beta", 0.75f), f("bias", 1f), iReq("size"))),
    /** {@code coerce_2d=1} keeps the opset &lt; 13 meaning: normalise over all axes from {@code axis} on. */
    Softmax(OpType.Softmax, 1, 1, 1, 1, list(i("axis", -1), i("coerce_2d", 0))),
    LogSoftmax(OpType.LogSoftmax, 1, 1, 1, 1, list(i("axis", -1), i("coerce_2d", 0))),
    Hardmax(OpType.Hardmax, 1, 1, 1, 1, list(i("axis", -1), i("coerce_2d", 0))),

    Reshape(OpType.Reshape, 2, 2, 1, 1, list(i("allowzero", 0))),
    Flatten(OpType.Flatten, 1, 1, 1, 1, list(i("axis", 1))),
    Transpose(OpType.Transpose, 1, 1, 1, 1, list(ints("perm"))),
    Squeeze(OpType.Squeeze, 1, 2, 1, 1),
    Unsqueeze(OpType.Unsqueeze, 2, 2, 1, 1),
    Concat(OpType.Concat, 1, Arity.N, 1, 1, list(iReq("axis"))),
    Split(OpType.Split, 1, 2, 1, Arity.N, list(i("axis", 0), i("num_outputs"))),
    Slice(OpType.Slice, 3, 5, 1, 1),
    Gather(OpType.Gather, 2, 2, 1, 1, list(i("axis", 0))),
    GatherElements(OpType.GatherElements, 2, 2, 1, 1, list(i("axis", 0))),
    GatherND(OpType.GatherND, 2, 2, 1, 1, list(i("batch_dims", 0))),
    Expand(OpType.Expand, 2, 2, 1, 1),
    Tile(OpType.Tile, 2, 2, 1, 1),
    Pad(OpType.Pad, 2, 4, 1, 1, list(s("mode", "constant"))),
    Shape(OpType.Shape, 1, 1, 1, 1, list(i("start", 0), i("end"))),
    Size(OpType.Size, 1, 1, 1, 1),
    ConstantOfShape(OpType.ConstantOfShape, 1, 1, 1, 1, list(tensor("value"))),
    Range(OpType.Range, 3, 3, 1, 1),
    Cast(OpType.Cast, 1, 1, 1, 1, list(iReq("to"), i("saturate", 1))),
    CastLike(OpType.CastLike, 2, 2, 1, 1, list(i("saturate", 1))),
    Identity(OpType.Identity, 1, 1, 1, 1),
    Dropout(OpType.Dropout, 1, 3, 1, 2, list(i("seed"))),
    DepthToSpace(OpType.DepthToSpace, 1, 1, 1, 1, list(iReq("blocksize"), s("mode", "DCR"))),
    SpaceToDepth(OpType.SpaceToDepth, 1, 1, 1, 1, list(iReq("blocksize"))),
    Resize(OpType.Resize, 1, 4, 1, 1, list(i("antialias", 0), ints("axes"),
            s("coordinate_transformation_mode", "half_pixel"), f("cubic_coeff_a", -0.75f), i("exclude_outside", 0),
            f("extrapolation_value", 0f), s("keep_aspect_ratio_policy", "stretch"), s("mode", "nearest"),
            s("nearest_mode", "round_prefer_floor"))),
    /** Kept for old models only; the importer rewrites it to Resize. */
    Upsample(OpType.Upsample, 2, 2, 1, 1, list(s("mode", "nearest"))),
    NonZero(OpType.NonZero, 1, 1, 1, 1),
    OneHot(OpType.OneHot, 3, 3, 1, 1, list(i("axis", -1))),
    Trilu(OpType.Trilu, 1, 2, 1, 1, list(i("upper", 1))),
    CumSum(OpType.CumSum, 2, 2, 1, 1, list(i("exclusive", 0), i("reverse", 0))),
    ScatterND(OpType.ScatterND, 3, 3, 1, 1, list(s("reduction", "none"))),
    ScatterElements(OpType.ScatterElements, 3, 3, 1, 1, list(i("axis", 0), s("reduction", "none"))),
    EyeLike(OpType.EyeLike, 1, 1, 1, 1, list(i("dtype"), i("k", 0))),
    Einsum(OpType.Einsum, 1, Arity.N, 1, 1, list(new AttrDef("equation", AttrKind.STRING, null, true))),

    ReduceMean(OpType.ReduceMean, 1, 2, 1, 1, reduce()),
    ReduceSum(OpType.ReduceSum, 1, 2, 1, 1, reduce()),
    ReduceMax(OpType.ReduceMax, 1, 2, 1, 1, reduce()),
    ReduceMin(OpType.ReduceMin, 1, 2, 1, 1, reduce()),
    ReduceProd(OpType.ReduceProd, 1, 2, 1, 1, reduce()),
    ReduceL2(OpType.ReduceL2, 1, 2, 1, 1, reduce()),
    ReduceL1(OpType.ReduceL1, 1, 2, 1, 1, reduce()),
    ReduceSumSquare(OpType.ReduceSumSquare, 1, 2, 1, 1, reduce()),
    ReduceLogSumExp(OpType.ReduceLogSumExp, 1, 2, 1, 1, reduce()),
    ReduceLogSum(OpType.ReduceLogSum, 1, 2, 1, 1, reduce()),
    ArgMax(OpType.ArgMax, 1, 1, 1, 1, list(i("axis", 0), i("keepdims", 1), i("select_last_index", 0))),
    ArgMin(OpType.ArgMin, 1, 1, 1, 1, list(i("axis", 0), i("keepdims", 1), i("select_last_index", 0))),
    TopK(OpType.TopK, 2, 2, 2, 2, list(i("axis", -1), i("largest", 1), i("sorted", 1))),

    LSTM(OpType.LSTM, 3, 8, 0, 3, rnn(), list(i("input_forget", 0))),
    GRU(OpType.GRU, 3, 6, 0, 2, rnn(), list(i("linear_before_reset", 0))),
    RNN(OpType.RNN, 3, 6, 0, 2, rnn()),

    If(OpType.If, 1, 1, 1, Arity.N, list(graph("then_branch"), graph("else_branch"))),
    /** Inputs: M, cond, loop-carried values. Outputs: final loop-carried values, then scan outputs. */
    Loop(OpType.Loop, 2, Arity.N, 1, Arity.N, list(graph("body"))),

    QuantizeLinear(OpType.QuantizeLinear, 2, 3, 1, 1,
            list(i("axis", 1), i("saturate", 1), i("block_size", 0), i("output_dtype", 0))),
    DequantizeLinear(OpType.DequantizeLinear, 2, 3, 1, 1, list(i("axis", 1), i("block_size", 0))),
    DynamicQuantizeLinear(OpType.DynamicQuantizeLinear, 1, 1, 3, 3),
    QLinearConv(OpType.QLinearConv, 8, 9, 1, 1, conv(), fused()),
    /** Hedge extension: an optional 9th input, an INT32 bias [N] added to the accumulator (Gemm maps here). */
    QLinearMatMul(OpType.QLinearMatMul, 8, 9, 1, 1, fused()),
    MatMulInteger(OpType.MatMulInteger, 2, 4, 1, 1),
    ConvInteger(OpType.ConvInteger, 2, 4, 1, 1, conv()),
    /*
     * Hedge int8 extensions, spelled and ordered like the com.microsoft contrib ops of the same names, so a
     * quantized residual block or classifier head stays in int8 between QLinearConv layers.
     * y = saturate(round((a - a_zp) * a_scale (+|*) (b - b_zp) * b_scale) / y_scale) + y_zp), numpy broadcasting;
     * the kernels compute it in fixed point, within one unit of that real-valued formula.
     */
    /** Inputs: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale[, C_zero_point]. */
    QLinearAdd(OpType.QLinearAdd, 7, 8, 1, 1, fused()),
    /** Inputs as {@link #QLinearAdd}. */
    QLinearMul(OpType.QLinearMul, 7, 8, 1, 1, fused()),
    /** Inputs: X, x_scale, x_zero_point, y_scale[, y_zero_point]; NCHW, attributes as AveragePool. */
    QLinearAveragePool(OpType.QLinearAveragePool, 4, 5, 1, 1, pool(), list(i("count_include_pad", 0))),
    /** Inputs: X, x_scale, x_zero_point, y_scale[, y_zero_point]; NCHW, mean over the spatial axes. */
    QLinearGlobalAveragePool(OpType.QLinearGlobalAveragePool, 4, 5, 1, 1);

    /** Marks an unbounded input or output count. */
    public static final int VARIADIC = Arity.N;

    /** The activations {@code fused_activation} may name. */
    public static final List<String> FUSABLE_ACTIVATIONS =
            List.of("Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh");

    private static final Map<Integer, Op> BY_CODE = new HashMap<>();
    private static final Map<String, Op> BY_NAME = new HashMap<>();

    static {
        for (Op op : values()) {
            BY_CODE.put(op.code, op);
            BY_NAME.put(op.name(), op);
        }
    }

    private final int code;
    private final int minInputs;
    private final int maxInputs;
    private final int minOutputs;
    private final int maxOutputs;
    private final Map<String, AttrDef> attrs;

    @SafeVarargs
    Op(int code, int minInputs, int maxInputs, int minOutputs, int maxOutputs, List<AttrDef>... attrLists) {
        this.code = code;
        this.minInputs = minInputs;
        this.maxInputs = maxInputs;
        this.minOutputs = minOutputs;
        this.maxOutputs = maxOutputs;
        Map<String, AttrDef> m = new LinkedHashMap<>();
        for (List<AttrDef> l : attrLists) {
            for (AttrDef d : l) {
                m.put(d.name(), d);
            }
        }
        this.attrs = Collections.unmodifiableMap(m);
    }

    /** The FlatBuffers {@link OpType} code. */
    public int code() {
        return code;
    }

    /** The ONNX domain that defines this op: "" (default) or "com.microsoft" for Hedge's int8 extensions. */
    public String onnxDomain() {
        return code >= OpType.QLinearAdd && code <= OpType.QLinearGlobalAveragePool ? "com.microsoft" : "";
    }

    public int minInputs() {
        return minInputs;
    }

    public int maxInputs() {
        return maxInputs;
    }

    public int minOutputs() {
        return minOutputs;
    }

    public int maxOutputs() {
        return maxOutputs;
    }

    /** Attribute table, in declaration order. */
    public Map<String, AttrDef> attrs() {
        return attrs;
    }

    /** The attribute definition, or {@code null} when this op has no such attribute. */
    public AttrDef attr(String name) {
        return attrs.get(name);
    }

    /** Whether an activation can be fused into this op through {@code fused_activation}. */
    public boolean acceptsFusedActivation() {
        return attrs.containsKey("fused_activation");
    }

    public static Op fromCode(int code) {
        Op op = BY_CODE.get(code);
        if (op == null) {
            throw new IllegalArgumentException("unknown op code " + code);
        }
        return op;
    }

    /** The op with this ONNX op type name, or {@code null}. */
    public static Op byName(String name) {
        return BY_NAME.get(name);
    }

    /** All op names, sorted, for error messages and the generated supported-ops table. */
    /** The default-domain (ONNX) op names, sorted. */
    public static List<String> names() {
        List<String> l = new ArrayList<>();
        for (Op op : values()) {
            if (op.onnxDomain().isEmpty()) {
                l.add(op.name());
            }
        }
        Collections.sort(l);
        return l;
    }

    /** Holder so enum constants can name the bound before the enum's own statics exist. */
    private static final class Arity {
        static final int N = Integer.MAX_VALUE;
    }

    private static List<AttrDef> list(AttrDef... defs) {
        return Arrays.asList(defs);
    }

    private static List<AttrDef> conv() {
        return list(s("auto_pad", "NOTSET"), ints("dilations"), i("group", 1), ints("kernel_shape"), ints("pads"),
                ints("strides"));
    }

    private static List<AttrDef> pool() {
        return list(s("auto_pad", "NOTSET"), i("ceil_mode", 0), ints("dilations"), intsReq("kernel_shape"),
                ints("pads"), ints("strides"));
    }

    private static List<AttrDef> reduce() {
        return list(i("keepdims", 1), i("noop_with_empty_axes", 0));
    }

    private static List<AttrDef> rnn() {
        return list(floats("activation_alpha"), floats("activation_beta"), strings("activations"), f("clip"),
                s("direction", "forward"), i("hidden_size"), i("layout", 0));
    }

    private static List<AttrDef> fused() {
        return list(s("fused_activation", ""), f("fused_alpha", 0f), f("fused_beta", 0f));
    }
}
