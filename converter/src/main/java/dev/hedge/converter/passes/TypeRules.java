package dev.hedge.converter.passes;

import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.function.Function;

/**
 * Element types of a node's outputs as far as they follow from its input types and attributes, without
 * shapes or kernels. The importer uses them to type the constants it creates (Clip-6 bounds, Pad-2 value),
 * passes to check a value is floating point; null means unknown.
 */
public final class TypeRules {

    private TypeRules() {
    }

    /** Output types of {@code n} given its inputs' types ({@code typeOf} may return null). */
    public static DType[] of(Node n, Function<String, DType> typeOf) {
        DType[] out = new DType[n.outputs().size()];
        DType in0 = n.hasInput(0) ? typeOf.apply(n.input(0)) : null;
        switch (n.op()) {
            case Equal: case Less: case LessOrEqual: case Greater: case GreaterOrEqual: case Not: case And:
            case Or: case Xor: case IsNaN: case IsInf:
                out[0] = DType.BOOL;
                break;
            case Shape: case Size: case NonZero: case ArgMax: case ArgMin:
                out[0] = DType.INT64;
                break;
            case TopK: case MaxPool:
                out[0] = in0;
                if (out.length > 1) {
                    out[1] = DType.INT64;
                }
                break;
            case Cast:
                out[0] = DType.fromOnnx((int) n.intAttr("to"));
                break;
            case CastLike: case Where:
                out[0] = typeOf.apply(n.input(1));
                break;
            case OneHot:
                out[0] = typeOf.apply(n.input(2));
                break;
            case ConstantOfShape: {
                Tensor v = n.tensorAttr("value");
                out[0] = v == null ? DType.FLOAT32 : v.dtype();
                break;
            }
            case EyeLike:
                out[0] = n.hasAttr("dtype") ? DType.fromOnnx((int) n.intAttr("dtype")) : in0;
                break;
            case QuantizeLinear: {
                long od = n.intAttr("output_dtype");
                out[0] = od != 0 ? DType.fromOnnx((int) od) : n.hasInput(2) ? typeOf.apply(n.input(2)) : DType.UINT8;
                break;
            }
            case DequantizeLinear:
                out[0] = typeOf.apply(n.input(1));
                break;
            case DynamicQuantizeLinear:
                out[0] = DType.UINT8;
                out[1] = DType.FLOAT32;
                out[2] = DType.UINT8;
                break;
            case MatMulInteger: case ConvInteger:
                out[0] = DType.INT32;
                break;
            case QLinearConv: case QLinearMatMul:
                out[0] = typeOf.apply(n.input(7));
                break;
            case Dropout:
                out[0] = in0;
                if (out.length > 1) {
                    out[1] = DType.BOOL;
                }
                break;
            case If: case Loop:
                break;
            case Split: case LSTM: case GRU: case RNN:
                java.util.Arrays.fill(out, in0);
                break;
            default:
                // every other op keeps its first input's element type in its first output
                if (out.length > 0) {
                    out[0] = in0;
                }
        }
        return out;
    }
}
