package dev.hedge.kernels.ref.elementwise;

import dev.hedge.runtime.DType;
import java.util.Set;

/**
 * An elementwise function of two tensors of one dtype, applied in place: {@code a[i] = f(a[i], b[i])}.
 * Each op overrides the loops of the lanes its dtypes use.
 */
abstract class BinaryFn {

    /** The dtypes ONNX allows; both inputs and the output share one. */
    final Set<DType> types;

    BinaryFn(Set<DType> types) {
        this.types = types;
    }

    void f32(float[] a, float[] b, int n) {
        throw new IllegalStateException("no float loop");
    }

    void f64(double[] a, double[] b, int n) {
        throw new IllegalStateException("no double loop");
    }

    void i64(long[] a, long[] b, int n) {
        throw new IllegalStateException("no integer loop");
    }

    /** UINT64 bits; the default is the signed loop, right for wrapping add, sub and mul. */
    void u64(long[] a, long[] b, int n) {
        i64(a, b, n);
    }

    void bool(int[] a, int[] b, int n) {
        throw new IllegalStateException("no bool loop");
    }

    final void apply(Lane lane, Object a, Object b, int n) {
        switch (lane) {
            case F32: f32((float[]) a, (float[]) b, n); break;
            case F64: f64((double[]) a, (double[]) b, n); break;
            case I64: i64((long[]) a, (long[]) b, n); break;
            case U64: u64((long[]) a, (long[]) b, n); break;
            default: bool((int[]) a, (int[]) b, n);
        }
    }

    static void checkDivisors(long[] b, int n) {
        for (int i = 0; i < n; i++) {
            if (b[i] == 0) {
                throw new IllegalArgumentException("integer division by zero");
            }
        }
    }
}
