package dev.hedge.kernels.ref.elementwise;

import dev.hedge.runtime.DType;
import java.util.Set;

/**
 * An elementwise function of one tensor, applied in place to a chunk. Each op overrides the loops of the
 * lanes its dtypes use with its own tight loop (no per-element virtual call).
 */
abstract class UnaryFn {

    /** The input dtypes ONNX allows; the output has the input's dtype. */
    final Set<DType> types;

    UnaryFn(Set<DType> types) {
        this.types = types;
    }

    void f32(float[] x, int n) {
        throw new IllegalStateException("no float loop");
    }

    void f64(double[] x, int n) {
        throw new IllegalStateException("no double loop");
    }

    void i64(long[] x, int n) {
        throw new IllegalStateException("no integer loop");
    }

    /** UINT64 bits; the default is the signed loop, right for functions that do not look at the sign. */
    void u64(long[] x, int n) {
        i64(x, n);
    }

    void bool(int[] x, int n) {
        throw new IllegalStateException("no bool loop");
    }

    final void apply(Lane lane, Object x, int n) {
        switch (lane) {
            case F32: f32((float[]) x, n); break;
            case F64: f64((double[]) x, n); break;
            case I64: i64((long[]) x, n); break;
            case U64: u64((long[]) x, n); break;
            default: bool((int[]) x, n);
        }
    }
}
