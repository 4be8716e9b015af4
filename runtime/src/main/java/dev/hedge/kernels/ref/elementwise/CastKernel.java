package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.kernels.util.Shapes;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;

/**
 * Cast (to = attribute) and CastLike (to = input 1's dtype) between any two Hedge dtypes. Each element is
 * converted with one rounding: floats are read exactly as double and rounded to nearest even into the
 * target float type; integers are read exactly as long. Float to integer truncates toward zero and keeps
 * the low bits of the integer (8.0 to INT4 is -8, as the ONNX tests expect); NaN becomes 0 and
 * infinities the target's extreme values. Anything to BOOL is "not zero" (NaN is true).
 */
final class CastKernel implements Kernel {

    private static final String[] ONNX_TYPE_NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16",
        "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128",
        "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
        "FLOAT8E8M0", "UINT2", "INT2"};

    private final Node node;
    private DType from;
    private DType to;
    private int size;
    /** What +inf and -inf become in an integer target. */
    private long maxValue;
    private long minValue;

    CastKernel(Node node) {
        this.node = node;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        Checks.present(ctx, 0);
        from = ctx.inputType(0);
        if (node.op() == Op.CastLike) {
            Checks.present(ctx, 1);
            to = ctx.inputType(1);
        } else {
            long code = node.intAttr("to");
            to = code == (int) code ? DType.fromOnnx((int) code) : null;
            if (to == null) {
                String name = code >= 0 && code < ONNX_TYPE_NAMES.length ? ONNX_TYPE_NAMES[(int) code] : "unknown";
                throw new UnsupportedModelException(node.describe() + ": cast to ONNX type " + code + " (" + name
                        + ") is not supported");
            }
        }
        int bits = to.bits();
        if (to.isSigned()) {
            maxValue = (1L << (bits - 1)) - 1;
            minValue = -(1L << (bits - 1));
        } else {
            maxValue = bits == 64 ? -1L : (1L << bits) - 1;
            minValue = 0;
        }
        int[] shape = ctx.inputShape(0);
        size = Shapes.product(shape);
        ctx.setOutput(0, to, shape);
    }

    @Override
    public void run(RunContext ctx) {
        Tensor x = ctx.input(0);
        Tensor y = ctx.output(0);
        if (from == to) {
            x.copyTo(y);
            return;
        }
        int chunk = Math.max(1, Math.min(Lane.CHUNK, size));
        if (from == DType.INT32 && to == DType.FLOAT32) {
            // the int32 accumulators of ConvInteger / MatMulInteger on their way to the float rescale: bulk
            // copies and a vectorised conversion ((float) int rounds as (float) long does)
            java.nio.IntBuffer xi = x.ints();
            java.nio.FloatBuffer yf = y.floats();
            int[] v = ScratchArrays.ints(0, chunk);
            float[] f = ScratchArrays.floats(0, chunk);
            for (int s = 0; s < size; s += chunk) {
                int n = Math.min(chunk, size - s);
                xi.get(s, v, 0, n);
                for (int i = 0; i < n; i++) {
                    f[i] = v[i];
                }
                yf.put(s, f, 0, n);
            }
            return;
        }
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            if (Lane.of(from) == Lane.F32 && Lane.of(to) == Lane.F32) {
                // between float, half and bfloat16 the source is exact in float: one rounding, cheaper
                float[] f = ScratchArrays.floats(0, chunk);
                Access.loadFloats(x, s, 1, f, 0, n);
                Access.storeFloats(f, 0, y, s, n);
            } else if (from.isFloat()) {
                double[] d = ScratchArrays.doubles(0, chunk);
                Access.loadDoubles(x, s, 1, d, 0, n);
                if (to.isFloat() || to == DType.BOOL) {
                    Access.storeDoubles(d, 0, y, s, n);
                } else {
                    long[] l = ScratchArrays.longs(0, chunk);
                    for (int i = 0; i < n; i++) {
                        l[i] = toInteger(d[i]);
                    }
                    Access.storeLongs(l, 0, y, s, n);
                }
            } else {
                long[] l = ScratchArrays.longs(0, chunk);
                Access.loadLongs(x, s, 1, l, 0, n);
                boolean unsigned = from == DType.UINT64;
                if (to == DType.FLOAT32 || to == DType.FLOAT16) {
                    // (float) long rounds once; below 2^24 it is exact, and FLOAT16 overflows far below that
                    float[] f = ScratchArrays.floats(0, chunk);
                    for (int i = 0; i < n; i++) {
                        f[i] = unsigned ? Convert.unsignedToFloat(l[i]) : (float) l[i];
                    }
                    Access.storeFloats(f, 0, y, s, n);
                } else if (to.isFloat()) {
                    double[] d = ScratchArrays.doubles(0, chunk);
                    for (int i = 0; i < n; i++) {
                        d[i] = unsigned ? Convert.unsignedToDouble(l[i]) : (double) l[i];
                    }
                    Access.storeDoubles(d, 0, y, s, n);
                } else {
                    Access.storeLongs(l, 0, y, s, n);
                }
            }
        }
    }

    private long toInteger(double v) {
        if (v != v) {
            return 0;
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? maxValue : minValue;
        }
        return Convert.truncWrap(v);
    }
}
