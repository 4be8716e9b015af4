package dev.hedge.kernels.ref.elementwise;

import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;

/**
 * Pow(X, Y): the output has X's type; Y may be any numeric type. Float bases compute in double;
 * integer bases to integer exponents use exact repeated squaring (wrapping like the integer type),
 * to float exponents the double result truncated toward zero. Float bases raised to a constant 2, 3 or
 * 0.5 skip Math.pow (the common x^2 of variances, x^3 of tanh-GELU, x^0.5 of norms).
 */
final class PowKernel implements Kernel {

    /** A constant exponent computed without Math.pow, to the same accuracy (within an ulp of double). */
    private enum Shortcut { NONE, SQUARE, CUBE, SQRT }

    private Lane lane;
    private Broadcast bc;
    /** The exponent is read as double (float base, or float exponent of an integer base). */
    private boolean doubleExponent;
    private boolean unsignedExponent;
    private Shortcut shortcut;

    @Override
    public void prepare(PrepareContext ctx) {
        Checks.present(ctx, 0);
        Checks.present(ctx, 1);
        DType base = Checks.type(ctx, 0, Types.POW_BASE);
        DType exp = Checks.type(ctx, 1, Types.NUMERIC);
        bc = Broadcast.of(ctx.inputShape(0), ctx.inputShape(1));
        lane = Lane.of(base);
        doubleExponent = base.isFloat() || exp.isFloat();
        unsignedExponent = exp == DType.UINT64;
        // only a model constant: asking for a run-time value would re-prepare the node whenever it changes
        Tensor e = base.isFloat() && ctx.isConstant(1) ? ctx.inputValue(1) : null;
        double c = e != null && e.elementCount() == 1 ? e.getDouble(0) : Double.NaN;
        shortcut = c == 2 ? Shortcut.SQUARE : c == 3 ? Shortcut.CUBE : c == 0.5 ? Shortcut.SQRT : Shortcut.NONE;
        ctx.setOutput(0, base, bc.outShape());
    }

    @Override
    public void run(RunContext ctx) {
        int size = bc.size();
        Tensor x = ctx.input(0);
        Tensor y = ctx.input(1);
        Tensor out = ctx.output(0);
        Object a = lane.scratch(0, size);
        int chunk = Math.min(Lane.CHUNK, Math.max(1, size));
        Object b = doubleExponent ? ScratchArrays.doubles(1, chunk) : ScratchArrays.longs(1, chunk);
        for (int s = 0; s < size; s += Lane.CHUNK) {
            int n = Math.min(Lane.CHUNK, size - s);
            bc.load(0, x, s, n, a);
            if (shortcut != Shortcut.NONE) {
                shortcut(a, n);
            } else {
                bc.load(1, y, s, n, b);
                pow(a, b, n);
            }
            Access.store(a, 0, out, s, n);
        }
    }

    private void shortcut(Object a, int n) {
        if (a instanceof float[] f) {
            for (int i = 0; i < n; i++) {
                f[i] = (float) shortcut(f[i]);
            }
        } else {
            double[] d = (double[]) a;
            for (int i = 0; i < n; i++) {
                d[i] = shortcut(d[i]);
            }
        }
    }

    private double shortcut(double v) {
        switch (shortcut) {
            case SQUARE: return v * v;
            case CUBE: return v * v * v;
            // pow(-0, 0.5) is +0 and pow(-inf, 0.5) is +inf, where sqrt gives -0 and NaN
            default: return v == 0 ? 0.0 : v == Double.NEGATIVE_INFINITY ? Double.POSITIVE_INFINITY : Math.sqrt(v);
        }
    }

    private void pow(Object a, Object b, int n) {
        if (a instanceof float[] f) {
            double[] e = (double[]) b;
            for (int i = 0; i < n; i++) {
                f[i] = (float) Math.pow(f[i], e[i]);
            }
        } else if (a instanceof double[] d) {
            double[] e = (double[]) b;
            for (int i = 0; i < n; i++) {
                d[i] = Math.pow(d[i], e[i]);
            }
        } else if (doubleExponent) {
            long[] l = (long[]) a;
            double[] e = (double[]) b;
            for (int i = 0; i < n; i++) {
                l[i] = Convert.truncWrap(Math.pow(l[i], e[i]));
            }
        } else {
            long[] l = (long[]) a;
            long[] e = (long[]) b;
            for (int i = 0; i < n; i++) {
                l[i] = intPow(l[i], e[i], unsignedExponent);
            }
        }
    }

    /** base^exp modulo 2^64. Negative exponents truncate 1/base^|exp| toward zero, as integer division does. */
    static long intPow(long base, long exp, boolean unsignedExp) {
        if (exp < 0 && !unsignedExp) {
            if (base == 0) {
                throw new IllegalArgumentException("0 raised to the negative power " + exp);
            }
            if (base == 1) {
                return 1;
            }
            if (base == -1) {
                return (exp & 1) == 0 ? 1 : -1;
            }
            return 0;
        }
        long r = 1;
        long b = base;
        for (long e = exp; e != 0; e >>>= 1) {
            if ((e & 1) != 0) {
                r *= b;
            }
            b *= b;
        }
        return r;
    }
}
