package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/** Prepare-time helpers shared by the shape and data-movement kernels. */
final class Prep {

    private Prep() {
    }

    /** The value of integer input {@code i} (its value decides shapes), as longs. */
    static long[] ints(PrepareContext ctx, int i, String what) {
        Tensor t = ctx.requireValue(i);
        if (!t.dtype().isInteger()) {
            throw new IllegalArgumentException(what + " (input " + i + ") must be an integer tensor, got " + t.dtype());
        }
        if (t.rank() > 1) {
            throw new IllegalArgumentException(what + " (input " + i + ") must be 1-D, got shape "
                    + Arrays.toString(t.shape()));
        }
        return t.toLongArray();
    }

    /** A single integer value of input {@code i}: a scalar or a one-element tensor. */
    static long scalarInt(PrepareContext ctx, int i, String what) {
        Tensor t = ctx.requireValue(i);
        if (t.elementCount() != 1) {
            throw new IllegalArgumentException(what + " (input " + i + ") must hold one value, got shape "
                    + Arrays.toString(t.shape()));
        }
        return t.dtype().isFloat() ? (long) t.getDouble(0) : t.getLong(0);
    }

    /** Requires input {@code i} to be INT32 or INT64 (index inputs). */
    static void requireIndexType(PrepareContext ctx, Node node, int i, String what) {
        DType t = ctx.inputType(i);
        if (t != DType.INT32 && t != DType.INT64) {
            throw new UnsupportedModelException(node.describe() + ": " + what + " must be INT32 or INT64, got " + t);
        }
    }

    /** Requires a numeric dtype other than the packed 4-bit ones (arithmetic kernels). */
    static void requireArithmetic(Node node, DType t, String what) {
        if (t == DType.BOOL || t.bits() == 4) {
            throw new UnsupportedModelException(node.describe() + ": " + what + " of type " + t + " is not supported");
        }
    }

    /**
     * Passes input {@code in}'s quantization to output {@code out}: per-tensor parameters unchanged; per-axis
     * ones with the axis mapped by {@code axisMap} (-1: the op does not keep that axis, which is refused).
     */
    static void passQuant(PrepareContext ctx, int out, int in, IntUnaryOperator axisMap) {
        QuantParams q = ctx.inputQuant(in);
        if (q == null) {
            return;
        }
        if (q.isPerTensor()) {
            ctx.setOutputQuant(out, q);
            return;
        }
        int axis = axisMap == null ? -1 : axisMap.applyAsInt(q.axis());
        if (axis < 0) {
            throw new UnsupportedModelException(ctx.node().describe() + ": input " + in
                    + " is quantized per axis (" + q + "), which this op cannot carry through");
        }
        ctx.setOutputQuant(out, new QuantParams(q.scales(), q.zeroPoints(), axis, q.blockSize()));
    }

    /** Resolves an axis against {@code rank} with a message naming the attribute or input. */
    static int axis(long axis, int rank, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(what + " " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    /** Product of dims[from, to), checked. */
    static int product(int[] dims, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= dims[i];
            if (p > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more than 2^31-1 elements");
            }
        }
        return (int) p;
    }

    static int toDim(long v, String what) {
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " " + v + " is not a valid dimension");
        }
        return (int) v;
    }
}
