package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import java.util.Set;

/** A comparison of two tensors of one dtype into 0/1: {@code o[i] = a[i] op b[i]}. NaN compares false. */
abstract class CompareFn {

    final Set<DType> types;

    CompareFn(Set<DType> types) {
        this.types = types;
    }

    abstract void f32(float[] a, float[] b, int[] o, int n);

    abstract void f64(double[] a, double[] b, int[] o, int n);

    abstract void i64(long[] a, long[] b, int[] o, int n);

    abstract void u64(long[] a, long[] b, int[] o, int n);

    void bool(int[] a, int[] b, int[] o, int n) {
        throw new IllegalStateException("no bool loop");
    }

    final void apply(Lane lane, Object a, Object b, int[] o, int n) {
        switch (lane) {
            case F32: f32((float[]) a, (float[]) b, o, n); break;
            case F64: f64((double[]) a, (double[]) b, o, n); break;
            case I64: i64((long[]) a, (long[]) b, o, n); break;
            case U64: u64((long[]) a, (long[]) b, o, n); break;
            default: bool((int[]) a, (int[]) b, o, n);
        }
    }

    static final CompareFn EQUAL = new CompareFn(Types.NUMERIC_AND_BOOL) {
        @Override void f32(float[] a, float[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] == b[i] ? 1 : 0;
            }
        }

        @Override void f64(double[] a, double[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] == b[i] ? 1 : 0;
            }
        }

        @Override void i64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] == b[i] ? 1 : 0;
            }
        }

        @Override void u64(long[] a, long[] b, int[] o, int n) {
            i64(a, b, o, n);
        }

        @Override void bool(int[] a, int[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] == b[i] ? 1 : 0;
            }
        }
    };

    static final CompareFn LESS = new CompareFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] < b[i] ? 1 : 0;
            }
        }

        @Override void f64(double[] a, double[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] < b[i] ? 1 : 0;
            }
        }

        @Override void i64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] < b[i] ? 1 : 0;
            }
        }

        @Override void u64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = Long.compareUnsigned(a[i], b[i]) < 0 ? 1 : 0;
            }
        }
    };

    static final CompareFn LESS_OR_EQUAL = new CompareFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] <= b[i] ? 1 : 0;
            }
        }

        @Override void f64(double[] a, double[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] <= b[i] ? 1 : 0;
            }
        }

        @Override void i64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] <= b[i] ? 1 : 0;
            }
        }

        @Override void u64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = Long.compareUnsigned(a[i], b[i]) <= 0 ? 1 : 0;
            }
        }
    };

    static final CompareFn GREATER = new CompareFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] > b[i] ? 1 : 0;
            }
        }

        @Override void f64(double[] a, double[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] > b[i] ? 1 : 0;
            }
        }

        @Override void i64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] > b[i] ? 1 : 0;
            }
        }

        @Override void u64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = Long.compareUnsigned(a[i], b[i]) > 0 ? 1 : 0;
            }
        }
    };

    static final CompareFn GREATER_OR_EQUAL = new CompareFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] >= b[i] ? 1 : 0;
            }
        }

        @Override void f64(double[] a, double[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] >= b[i] ? 1 : 0;
            }
        }

        @Override void i64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = a[i] >= b[i] ? 1 : 0;
            }
        }

        @Override void u64(long[] a, long[] b, int[] o, int n) {
            for (int i = 0; i < n; i++) {
                o[i] = Long.compareUnsigned(a[i], b[i]) >= 0 ? 1 : 0;
            }
        }
    };

    static CompareFn of(Node node) {
        switch (node.op()) {
            case Equal: return EQUAL;
            case Less: return LESS;
            case LessOrEqual: return LESS_OR_EQUAL;
            case Greater: return GREATER;
            case GreaterOrEqual: return GREATER_OR_EQUAL;
            default: return null;
        }
    }
}
