package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * The fixed-point arithmetic of the 8-bit elementwise and average-pool ops (QLinearAdd, QLinearMul,
 * QLinearAveragePool, QLinearGlobalAveragePool). This is the definition native kernels must match bit for
 * bit; the integer multipliers and shifts are computed once, here, from the float32 scales.
 *
 * <p>A real multiplier {@code m > 0} (a double computed from the float32 scales) becomes an integer
 * {@code M = round(m * 2^s)} (Math.round, half up) with {@code s = B - 1 - floor(log2 m)} clamped to
 * {@code [1, S]}, so {@code M <= 2^B}; {@code s < 1} (a ratio too large to be meaningful) is refused.
 * With {@code da = a - a_zp}, {@code db = b - b_zp} (each in [-255, 255]), {@code >>} the arithmetic
 * shift (floor) and {@code sat} the clamp to {@code [lo, hi]} (the output type's range narrowed by a fused
 * Relu or Clip as for QLinearConv, {@link Requant#lo}):
 * <pre>
 *   QLinearAdd:  ma = A_scale / C_scale, mb = B_scale / C_scale, one shift s from max(ma, mb), B = 20, S = 30
 *                y = sat(((Ma * da + Mb * db + 2^(s-1)) >> s) + C_zero_point)        int32, cannot overflow
 *   QLinearMul:  m = A_scale * B_scale / C_scale, B = 14, S = 30
 *                y = sat(((M * (da * db) + 2^(s-1)) >> s) + C_zero_point)             int32, cannot overflow
 *   average:     S = sum over the window of (x - x_zp) (padding adds 0), n = the divisor,
 *                m = x_scale / y_scale / n, B = 30, S = 62
 *                y = sat(((S * M + 2^(s-1)) >> s) + y_zero_point)                     int64, n < 2^23
 * </pre>
 * Rounding is half up. The integer multiplier is within 2^-(B-1) of m relatively and the rounding term is
 * exact, so y is within one unit of the real-valued {@code sat(round(f(deq(a), deq(b)) / C_scale) + C_zp)}
 * (it differs only where that value lies within about 0.03 of a rounding tie).
 */
public final class QFixed {

    /** Largest window (or plane) an average may cover, so that the int32 sum of a plane cannot overflow. */
    public static final int MAX_WINDOW = 1 << 23;

    private QFixed() {
    }

    /** {@code M} and {@code s} of one real multiplier; {@code bits} = B, {@code maxShift} = S. */
    public static int shift(double m, int bits, int maxShift, Node node, String what) {
        if (!(m > 0) || Double.isInfinite(m)) {
            throw new IllegalArgumentException(what + " = " + m + " is not a positive finite ratio of scales");
        }
        int s = bits - 1 - Math.getExponent(m);
        if (s < 1) {
            throw new UnsupportedModelException(node.describe() + ": " + what + " = " + m
                    + " is too large for the fixed-point form (at most 2^" + (bits - 2) + ")");
        }
        return Math.min(s, maxShift);
    }

    /** {@code round(m * 2^s)}. */
    public static long multiplier(double m, int s) {
        return Math.round(Math.scalb(m, s));
    }

    /** Rounding term of a shift. */
    public static long half(int s) {
        return 1L << (s - 1);
    }

    /** Parameters of a QLinearAdd / QLinearMul: {@code ma} (the product's multiplier for Mul), {@code mb} (0 for Mul). */
    public record Binary(DType type, int ma, int mb, int shift, int za, int zb, int zc, int lo, int hi) {

        public int add(int a, int b) {
            int acc = ma * (a - za) + mb * (b - zb) + (1 << (shift - 1));
            return Math.max(lo, Math.min(hi, (acc >> shift) + zc));
        }

        public int mul(int a, int b) {
            int acc = ma * ((a - za) * (b - zb)) + (1 << (shift - 1));
            return Math.max(lo, Math.min(hi, (acc >> shift) + zc));
        }
    }

    /**
     * Reads and checks the scale and zero-point inputs of a QLinearAdd / QLinearMul (A at 0, A_scale 1,
     * A_zero_point 2, B 3, B_scale 4, B_zero_point 5, C_scale 6, C_zero_point 7): all per tensor, zero points
     * of A's type. The values must be known at prepare time (otherwise the node is prepared at run time).
     */
    public static Binary binary(PrepareContext ctx, Node node, boolean mul) {
        DType t = ctx.inputType(0);
        QTypes.require8Bit(node, "input A", t);
        if (ctx.inputType(3) != t) {
            throw new UnsupportedModelException(node.describe() + ": input B is " + ctx.inputType(3)
                    + " and A is " + t + "; both must have one type");
        }
        float sa = scale(ctx, 1, "A_scale");
        float sb = scale(ctx, 4, "B_scale");
        float sc = scale(ctx, 6, "C_scale");
        int za = zeroPoint(ctx, 2, "A_zero_point", t);
        int zb = zeroPoint(ctx, 5, "B_zero_point", t);
        int zc = zeroPoint(ctx, 7, "C_zero_point", t);
        FusedActivation act = Requant.activation(node);
        int lo = Requant.lo(act, t, sc, zc);
        int hi = Requant.hi(act, t, sc, zc);
        ctx.setOutputQuant(0, QuantParams.perTensor(sc, zc));
        if (mul) {
            double m = (double) sa * sb / sc;
            int s = shift(m, 14, 30, node, "A_scale * B_scale / C_scale");
            return new Binary(t, (int) multiplier(m, s), 0, s, za, zb, zc, lo, hi);
        }
        double ma = (double) sa / sc;
        double mb = (double) sb / sc;
        int s = Math.min(shift(ma, 20, 30, node, "A_scale / C_scale"), shift(mb, 20, 30, node, "B_scale / C_scale"));
        return new Binary(t, (int) multiplier(ma, s), (int) multiplier(mb, s), s, za, zb, zc, lo, hi);
    }

    /**
     * Parameters of an 8-bit average: per divisor {@code n} in {@code [minCount, maxCount]} the multiplier and
     * shift of {@code x_scale / y_scale / n} (at index {@code n - minCount}); inputs X 0, x_scale 1,
     * x_zero_point 2, y_scale 3, y_zero_point 4.
     */
    public record Average(DType type, int minCount, long[] mult, int[] shift, int zx, int zy, int lo, int hi) {

        public int apply(long sum, int n) {
            int k = n - minCount;
            long v = (sum * mult[k] + (1L << (shift[k] - 1))) >> shift[k];
            return (int) Math.max(lo, Math.min(hi, v + zy));
        }
    }

    public static Average average(PrepareContext ctx, Node node, int minCount, int maxCount) {
        DType t = ctx.inputType(0);
        QTypes.require8Bit(node, "input X", t);
        if (maxCount > MAX_WINDOW) {
            throw new UnsupportedModelException(node.describe() + ": averages over " + maxCount
                    + " elements exceed the supported " + MAX_WINDOW);
        }
        float sx = scale(ctx, 1, "x_scale");
        float sy = scale(ctx, 3, "y_scale");
        int zx = zeroPoint(ctx, 2, "x_zero_point", t);
        int zy = zeroPoint(ctx, 4, "y_zero_point", t);
        int lo = Math.max(1, minCount);
        long[] mult = new long[Math.max(0, maxCount - lo + 1)];
        int[] shift = new int[mult.length];
        for (int n = lo; n <= maxCount; n++) {
            double m = (double) sx / sy / n;
            shift[n - lo] = shift(m, 30, 62, node, "x_scale / y_scale / " + n);
            mult[n - lo] = multiplier(m, shift[n - lo]);
        }
        ctx.setOutputQuant(0, QuantParams.perTensor(sy, zy));
        return new Average(t, lo, mult, shift, zx, zy, (int) QTypes.min(t), (int) QTypes.max(t));
    }

    /** A positive finite per-tensor scale. */
    static float scale(PrepareContext ctx, int i, String what) {
        QTypes.requireScale(ctx.node(), what, ctx.inputType(i));
        Tensor v = ctx.requireValue(i);
        if (v.elementCount() != 1) {
            throw new UnsupportedModelException(ctx.node().describe() + ": " + what + " has shape "
                    + Arrays.toString(v.shape()) + "; only a per-tensor (one-element) scale is supported");
        }
        float s = QTypes.scale(v, 0);
        if (!(s > 0) || Float.isInfinite(s)) {
            throw new IllegalArgumentException(what + " is " + s + ", not a positive finite scale");
        }
        return s;
    }

    /** A per-tensor zero point of type {@code t}, 0 when omitted. */
    static int zeroPoint(PrepareContext ctx, int i, String what, DType t) {
        if (!ctx.hasInput(i)) {
            return 0;
        }
        if (ctx.inputType(i) != t) {
            throw new UnsupportedModelException(ctx.node().describe() + ": " + what + " is " + ctx.inputType(i)
                    + "; expected " + t + " like the data");
        }
        Tensor v = ctx.requireValue(i);
        if (v.elementCount() != 1) {
            throw new UnsupportedModelException(ctx.node().describe() + ": " + what + " has shape "
                    + Arrays.toString(v.shape()) + "; only a per-tensor (one-element) zero point is supported");
        }
        return QTypes.zeroPoint(v, 0);
    }
}
