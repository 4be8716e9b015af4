package dev.hedge.kernels.cpu;

import dev.hedge.kernels.PrepareContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Reads and checks the scale / zero-point / bias inputs of quantized nodes at prepare time. */
final class QuantInputs {

    private QuantInputs() {
    }

    /** Element count of input {@code i} when its shape is known at create time, else -1. */
    static long count(java.util.List<PrepareContext.ValueType> types, int i) {
        if (i >= types.size() || types.get(i) == null || types.get(i).shape() == null) {
            return -1;
        }
        long n = 1;
        for (int d : types.get(i).shape()) {
            n *= d;
        }
        return n;
    }

    /** Float scales of input {@code i}: 1 value, or {@code n} (per channel) when {@code n > 0}. */
    static float[] scales(PrepareContext ctx, int i, String name, int n) {
        Tensor t = ctx.requireValue(i);
        if (t.dtype() != DType.FLOAT32 || t.isEncoded()) {
            throw new IllegalArgumentException(name + " must be a dense FLOAT32 tensor, got " + t);
        }
        checkCount(name, t, n);
        float[] v = t.toFloatArray();
        for (float s : v) {
            if (!Float.isFinite(s)) {
                throw new IllegalArgumentException(name + " holds " + s + ", not a finite scale");
            }
        }
        return v;
    }

    /** Zero points of input {@code i} of type {@code dtype}; 0 when the input is omitted. */
    static int[] zeroPoints(PrepareContext ctx, int i, String name, DType dtype, int n) {
        if (!ctx.hasInput(i)) {
            return new int[] {0};
        }
        Tensor t = ctx.requireValue(i);
        if (t.dtype() != dtype || t.isEncoded()) {
            throw new IllegalArgumentException(name + " must be a dense " + dtype + " tensor like its data, got " + t);
        }
        checkCount(name, t, n);
        return t.toIntArray();
    }

    /** INT32 bias of {@code n} values at input {@code i}, or zeros when omitted. */
    static int[] bias(PrepareContext ctx, int i, String name, int n) {
        if (!ctx.hasInput(i)) {
            return new int[n];
        }
        Tensor t = ctx.requireValue(i);
        if (t.dtype() != DType.INT32 || t.isEncoded() || t.elementCount() != n || t.rank() != 1) {
            throw new IllegalArgumentException(name + " must be INT32[" + n + "], got " + t);
        }
        return t.toIntArray();
    }

    private static void checkCount(String name, Tensor t, int n) {
        int c = t.elementCount();
        if (t.rank() > 1 || (c != 1 && (n <= 0 || c != n))) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + "; expected one value"
                    + (n > 0 ? " or " + n : ""));
        }
    }

    /** Broadcasts 1 value to n. */
    static float[] expand(float[] v, int n) {
        if (v.length == n) {
            return v;
        }
        float[] r = new float[n];
        Arrays.fill(r, v[0]);
        return r;
    }

    static int[] expand(int[] v, int n) {
        if (v.length == n) {
            return v;
        }
        int[] r = new int[n];
        Arrays.fill(r, v[0]);
        return r;
    }

    static boolean isByteType(DType t) {
        return t == DType.UINT8 || t == DType.INT8;
    }

    /** Direct little-endian int32 array. */
    static ByteBuffer ints(int[] v) {
        ByteBuffer b = Native.allocate(4L * v.length);
        for (int i = 0; i < v.length; i++) {
            b.putInt(4 * i, v[i]);
        }
        return b;
    }
}
