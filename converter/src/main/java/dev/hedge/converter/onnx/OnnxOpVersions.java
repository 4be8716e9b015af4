package dev.hedge.converter.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ONNX default-domain definitions of the ops Hedge imports: for each op, every version from opset 1
 * up to opset 27, and the attributes each version defines (from onnx/onnx {@code docs/Changelog.md}). The
 * importer uses it to know which version of an op a model means and to
 * reject attributes that version does not define.
 */
final class OnnxOpVersions {

    /** One version of an op: its since-version and attribute names; {@code attrs == null} when deprecated. */
    record Version(String op, int since, Set<String> attrs) {
        boolean deprecated() {
            return attrs == null;
        }

        @Override
        public String toString() {
            return op + "-" + since;
        }
    }

    private static final Map<String, List<Version>> VERSIONS = new HashMap<>();

    static {
        op("Abs", 1, "consumed_inputs", 6, "", 13, "=");
        op("Acos", 7, "", 22, "=");
        op("Acosh", 9, "", 22, "=");
        op("Add", 1, "axis broadcast consumed_inputs", 6, "axis broadcast", 7, "", 13, "=", 14, "=");
        op("And", 1, "axis broadcast", 7, "");
        op("ArgMax", 1, "axis keepdims", 11, "=", 12, "axis keepdims select_last_index", 13, "=");
        op("ArgMin", 1, "axis keepdims", 11, "=", 12, "axis keepdims select_last_index", 13, "=");
        op("Asin", 7, "", 22, "=");
        op("Asinh", 9, "", 22, "=");
        op("Atan", 7, "", 22, "=");
        op("Atanh", 9, "", 22, "=");
        op("AveragePool", 1, "auto_pad kernel_shape pads strides",
                7, "auto_pad count_include_pad kernel_shape pads strides",
                10, "auto_pad ceil_mode count_include_pad kernel_shape pads strides", 11, "=",
                19, "auto_pad ceil_mode count_include_pad dilations kernel_shape pads strides", 22, "=");
        op("BatchNormalization", 1, "consumed_inputs epsilon is_test momentum spatial",
                6, "epsilon is_test momentum spatial", 7, "epsilon momentum spatial", 9, "epsilon momentum",
                14, "epsilon momentum training_mode", 15, "=");
        op("Cast", 1, "to", 6, "to", 9, "=", 13, "=", 19, "saturate to", 21, "=", 23, "=", 24, "round_mode saturate to",
                25, "=");
        op("CastLike", 15, "", 19, "saturate", 21, "=", 23, "=", 24, "round_mode saturate", 25, "=");
        op("Ceil", 1, "consumed_inputs", 6, "", 13, "=");
        op("Celu", 12, "alpha");
        op("Clip", 1, "consumed_inputs max min", 6, "max min", 11, "", 12, "=", 13, "=");
        op("Concat", 1, "axis", 4, "axis", 11, "=", 13, "=");
        op("Constant", 1, "value", 9, "=", 11, "sparse_value value",
                12, "sparse_value value value_float value_floats value_int value_ints value_string value_strings",
                13, "=", 19, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("ConstantOfShape", 9, "value", 20, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("Conv", 1, "auto_pad dilations group kernel_shape pads strides", 11, "=", 22, "=");
        op("ConvInteger", 10, "auto_pad dilations group kernel_shape pads strides");
        op("ConvTranspose", 1, "auto_pad dilations group kernel_shape output_padding output_shape pads strides",
                11, "=", 22, "=");
        op("Cos", 7, "", 22, "=");
        op("Cosh", 9, "", 22, "=");
        op("CumSum", 11, "exclusive reverse", 14, "=");
        op("DepthToSpace", 1, "blocksize", 11, "blocksize mode", 13, "=");
        op("DequantizeLinear", 10, "", 13, "axis", 19, "=", 21, "axis block_size",
                23, "axis block_size output_dtype", 24, "=", 25, "=");
        op("Div", 1, "axis broadcast consumed_inputs", 6, "axis broadcast", 7, "", 13, "=", 14, "=");
        op("Dropout", 1, "consumed_inputs is_test ratio", 6, "is_test ratio", 7, "ratio", 10, "=", 12, "seed",
                13, "=", 22, "=");
        op("DynamicQuantizeLinear", 11, "");
        op("Einsum", 12, "equation");
        op("Elu", 1, "alpha consumed_inputs", 6, "alpha", 22, "=");
        op("Equal", 1, "axis broadcast", 7, "", 11, "=", 13, "=", 19, "=");
        op("Erf", 9, "", 13, "=");
        op("Exp", 1, "consumed_inputs", 6, "", 13, "=");
        op("Expand", 8, "", 13, "=");
        op("EyeLike", 9, "dtype k", 22, "=");
        op("Flatten", 1, "axis", 9, "=", 11, "=", 13, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("Floor", 1, "consumed_inputs", 6, "", 13, "=");
        op("GRU", 1, "activation_alpha activation_beta activations clip direction hidden_size output_sequence",
                3, "activation_alpha activation_beta activations clip direction hidden_size linear_before_reset "
                        + "output_sequence",
                7, "activation_alpha activation_beta activations clip direction hidden_size linear_before_reset",
                14, "activation_alpha activation_beta activations clip direction hidden_size layout "
                        + "linear_before_reset",
                22, "=");
        op("Gather", 1, "axis", 11, "=", 13, "=");
        op("GatherElements", 11, "axis", 13, "=");
        op("GatherND", 11, "", 12, "batch_dims", 13, "=");
        op("Gelu", 20, "approximate");
        op("Gemm", 1, "alpha beta broadcast transA transB", 6, "=", 7, "alpha beta transA transB", 9, "=", 11, "=",
                13, "=");
        op("GlobalAveragePool", 1, "", 22, "=");
        op("GlobalMaxPool", 1, "", 22, "=");
        op("Greater", 1, "axis broadcast", 7, "", 9, "=", 13, "=");
        op("GreaterOrEqual", 12, "", 16, "=");
        op("GroupNormalization", 18, "epsilon num_groups", 21, "epsilon num_groups stash_type");
        op("HardSigmoid", 1, "alpha beta consumed_inputs", 6, "alpha beta", 22, "=");
        op("HardSwish", 14, "", 22, "=");
        op("Hardmax", 1, "axis", 11, "=", 13, "=");
        op("Identity", 1, "", 13, "=", 14, "=", 16, "=", 19, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("If", 1, "else_branch then_branch", 11, "=", 13, "=", 16, "=", 19, "=", 21, "=", 23, "=", 24, "=",
                25, "=");
        op("InstanceNormalization", 1, "consumed_inputs epsilon", 6, "epsilon", 22, "=");
        op("IsInf", 10, "detect_negative detect_positive", 20, "=");
        op("IsNaN", 9, "", 13, "=", 20, "=");
        op("LRN", 1, "alpha beta bias size", 13, "=");
        op("LSTM", 1, "activation_alpha activation_beta activations clip direction hidden_size input_forget "
                + "output_sequence",
                7, "activation_alpha activation_beta activations clip direction hidden_size input_forget",
                14, "activation_alpha activation_beta activations clip direction hidden_size input_forget layout",
                22, "=");
        op("LayerNormalization", 17, "axis epsilon stash_type");
        op("LeakyRelu", 1, "alpha consumed_inputs", 6, "alpha", 16, "=");
        op("Less", 1, "axis broadcast", 7, "", 9, "=", 13, "=");
        op("LessOrEqual", 12, "", 16, "=");
        op("Log", 1, "consumed_inputs", 6, "", 13, "=");
        op("LogSoftmax", 1, "axis", 11, "=", 13, "=");
        op("Loop", 1, "body", 11, "=", 13, "=", 16, "=", 19, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("LpNormalization", 1, "axis p", 22, "=");
        op("MatMul", 1, "", 9, "=", 13, "=");
        op("MatMulInteger", 10, "");
        op("Max", 1, "consumed_inputs", 6, "", 8, "=", 12, "=", 13, "=");
        op("MaxPool", 1, "auto_pad kernel_shape pads strides", 8, "auto_pad kernel_shape pads storage_order strides",
                10, "auto_pad ceil_mode dilations kernel_shape pads storage_order strides", 11, "=", 12, "=",
                22, "=");
        op("Mean", 1, "consumed_inputs", 6, "", 8, "=", 13, "=");
        op("Min", 1, "consumed_inputs", 6, "", 8, "=", 12, "=", 13, "=");
        op("Mish", 18, "", 22, "=");
        op("Mod", 10, "fmod", 13, "=");
        op("Mul", 1, "axis broadcast consumed_inputs", 6, "axis broadcast", 7, "", 13, "=", 14, "=");
        op("Neg", 1, "consumed_inputs", 6, "", 13, "=");
        op("NonZero", 9, "", 13, "=");
        op("Not", 1, "");
        op("OneHot", 9, "axis", 11, "=");
        op("Or", 1, "axis broadcast", 7, "");
        op("PRelu", 1, "consumed_inputs", 6, "", 7, "", 9, "=", 16, "=");
        op("Pad", 1, "mode paddings value", 2, "mode pads value", 11, "mode", 13, "=", 18, "=", 19, "=", 21, "=",
                23, "=", 24, "=", 25, "=");
        op("Pow", 1, "axis broadcast", 7, "", 12, "=", 13, "=", 15, "=");
        op("QLinearConv", 10, "auto_pad dilations group kernel_shape pads strides");
        op("QLinearMatMul", 10, "", 21, "=");
        op("QuantizeLinear", 10, "", 13, "axis", 19, "axis saturate", 21, "axis block_size output_dtype saturate",
                23, "axis block_size output_dtype precision saturate", 24, "=", 25, "=");
        op("RNN", 1, "activation_alpha activation_beta activations clip direction hidden_size output_sequence",
                7, "activation_alpha activation_beta activations clip direction hidden_size",
                14, "activation_alpha activation_beta activations clip direction hidden_size layout", 22, "=");
        op("Range", 11, "", 27, "stash_type");
        op("Reciprocal", 1, "consumed_inputs", 6, "", 13, "=");
        op("ReduceL1", 1, "axes keepdims", 11, "=", 13, "=", 18, "keepdims noop_with_empty_axes");
        op("ReduceL2", 1, "axes keepdims", 11, "=", 13, "=", 18, "keepdims noop_with_empty_axes");
        op("ReduceLogSum", 1, "axes keepdims", 11, "=", 13, "=", 18, "keepdims noop_with_empty_axes");
        op("ReduceLogSumExp", 1, "axes keepdims", 11, "=", 13, "=", 18, "keepdims noop_with_empty_axes");
        op("ReduceMax", 1, "axes keepdims", 11, "=", 12, "=", 13, "=", 18, "keepdims noop_with_empty_axes", 20, "=");
        op("ReduceMean", 1, "axes keepdims", 11, "=", 13, "=", 18, "keepdims noop_with_empty_axes");
        op("ReduceMin", 1, "axes keepdims", 11, "=", 12, "=", 13, "=", 18, "keepdims noop_with_empty_axes", 20, "=");
        op("ReduceProd", 1, "axes keepdims", 11, "=", 13, "=", 18, "keepdims noop_with_empty_axes");
        op("ReduceSum", 1, "axes keepdims", 11, "=", 13, "keepdims noop_with_empty_axes");
        op("ReduceSumSquare", 1, "axes keepdims", 11, "=", 13, "=", 18, "keepdims noop_with_empty_axes");
        op("Relu", 1, "consumed_inputs", 6, "", 13, "=", 14, "=");
        op("Reshape", 1, "consumed_inputs shape", 5, "", 13, "=", 14, "allowzero", 19, "=", 21, "=", 23, "=",
                24, "=", 25, "=");
        op("Resize", 10, "mode",
                11, "coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value mode "
                        + "nearest_mode",
                13, "=",
                18, "antialias axes coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value "
                        + "keep_aspect_ratio_policy mode nearest_mode",
                19, "=");
        op("Round", 11, "", 22, "=");
        op("ScatterElements", 11, "axis", 13, "=", 16, "axis reduction", 18, "=");
        op("ScatterND", 11, "", 13, "=", 16, "reduction", 18, "=");
        op("Selu", 1, "alpha consumed_inputs gamma", 6, "alpha gamma", 22, "=");
        op("Shape", 1, "", 13, "=", 15, "end start", 19, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("Sigmoid", 1, "consumed_inputs", 6, "", 13, "=");
        op("Sign", 9, "", 13, "=");
        op("Sin", 7, "", 22, "=");
        op("Sinh", 9, "", 22, "=");
        op("Size", 1, "", 13, "=", 19, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("Slice", 1, "axes ends starts", 10, "", 11, "=", 13, "=");
        op("Softmax", 1, "axis", 11, "=", 13, "=");
        op("Softplus", 1, "", 22, "=");
        op("Softsign", 1, "", 22, "=");
        op("SpaceToDepth", 1, "blocksize", 13, "=");
        op("Split", 1, "axis split", 2, "axis split", 11, "=", 13, "axis", 18, "axis num_outputs");
        op("Sqrt", 1, "consumed_inputs", 6, "", 13, "=");
        op("Squeeze", 1, "axes", 11, "=", 13, "", 21, "=", 23, "=", 24, "=", 25, "=");
        op("Sub", 1, "axis broadcast consumed_inputs", 6, "axis broadcast", 7, "", 13, "=", 14, "=");
        op("Sum", 1, "consumed_inputs", 6, "", 8, "=", 13, "=");
        op("Tan", 7, "", 22, "=");
        op("Tanh", 1, "consumed_inputs", 6, "", 13, "=");
        op("ThresholdedRelu", 10, "alpha", 22, "=");
        op("Tile", 1, "", 6, "", 13, "=");
        op("TopK", 1, "axis k", 10, "axis", 11, "axis largest sorted", 24, "=");
        op("Transpose", 1, "perm", 13, "=", 21, "=", 23, "=", 24, "=", 25, "=");
        op("Trilu", 14, "upper");
        op("Unsqueeze", 1, "axes", 11, "=", 13, "", 21, "=", 23, "=", 24, "=", 25, "=");
        op("Upsample", 1, "height_scale mode width_scale", 7, "mode scales", 9, "mode", 10, null);
        op("Where", 9, "", 16, "=");
        op("Xor", 1, "axis broadcast", 7, "");
    }

    private OnnxOpVersions() {
    }

    /** "=" repeats the previous version's attributes; null marks a deprecated version. */
    private static void op(String name, Object... sinceAndAttrs) {
        List<Version> l = new ArrayList<>();
        Set<String> prev = null;
        for (int i = 0; i < sinceAndAttrs.length; i += 2) {
            int since = (Integer) sinceAndAttrs[i];
            String attrs = (String) sinceAndAttrs[i + 1];
            Set<String> set;
            if (attrs == null) {
                set = null;
            } else if (attrs.equals("=")) {
                set = prev;
            } else {
                set = attrs.isEmpty() ? Set.of() : Set.copyOf(new LinkedHashSet<>(Arrays.asList(attrs.split(" "))));
            }
            l.add(new Version(name, since, set));
            prev = set;
        }
        VERSIONS.put(name, List.copyOf(l));
    }

    /**
     * The version of {@code op} in force at default-domain {@code opset}, or null when Hedge does not know
     * the op or the op does not exist yet at that opset.
     */
    static Version at(String op, int opset) {
        List<Version> l = VERSIONS.get(op);
        if (l == null) {
            return null;
        }
        Version found = null;
        for (Version v : l) {
            if (v.since() <= opset) {
                found = v;
            }
        }
        return found;
    }

    /** The first version Hedge knows of {@code op} (for "introduced in opset N" messages), or null. */
    static Version first(String op) {
        List<Version> l = VERSIONS.get(op);
        return l == null ? null : l.get(0);
    }
}
