package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;

/** The binary (and, folded pairwise, variadic) ops of one dtype. */
final class BinaryFns {

    private BinaryFns() {
    }

    static final BinaryFn ADD = new BinaryFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] += b[i];
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] += b[i];
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] += b[i];
            }
        }
    };

    static final BinaryFn SUB = new BinaryFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] -= b[i];
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] -= b[i];
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] -= b[i];
            }
        }
    };

    static final BinaryFn MUL = new BinaryFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] *= b[i];
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] *= b[i];
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] *= b[i];
            }
        }
    };

    /** Integer division truncates toward zero; a zero divisor is an error, not an exception from the JVM. */
    static final BinaryFn DIV = new BinaryFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] /= b[i];
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] /= b[i];
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            checkDivisors(b, n);
            for (int i = 0; i < n; i++) {
                a[i] /= b[i];
            }
        }

        @Override void u64(long[] a, long[] b, int n) {
            checkDivisors(b, n);
            for (int i = 0; i < n; i++) {
                a[i] = Long.divideUnsigned(a[i], b[i]);
            }
        }
    };

    /** Mod with fmod=1: C fmod, the result takes the dividend's sign. */
    static final BinaryFn FMOD = new BinaryFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] %= b[i];
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] %= b[i];
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            checkDivisors(b, n);
            for (int i = 0; i < n; i++) {
                a[i] %= b[i];
            }
        }

        @Override void u64(long[] a, long[] b, int n) {
            checkDivisors(b, n);
            for (int i = 0; i < n; i++) {
                a[i] = Long.remainderUnsigned(a[i], b[i]);
            }
        }
    };

    /** Mod with fmod=0 (integers only): the result takes the divisor's sign, like Python's %. */
    static final BinaryFn MOD = new BinaryFn(Types.union(Types.SIGNED_INTS, Types.UNSIGNED_INTS)) {
        @Override void i64(long[] a, long[] b, int n) {
            checkDivisors(b, n);
            for (int i = 0; i < n; i++) {
                a[i] = Math.floorMod(a[i], b[i]);
            }
        }

        @Override void u64(long[] a, long[] b, int n) {
            checkDivisors(b, n);
            for (int i = 0; i < n; i++) {
                a[i] = Long.remainderUnsigned(a[i], b[i]);
            }
        }
    };

    /** Min and Max propagate NaN. */
    static final BinaryFn MIN = new BinaryFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.min(a[i], b[i]);
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.min(a[i], b[i]);
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.min(a[i], b[i]);
            }
        }

        @Override void u64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                if (Long.compareUnsigned(b[i], a[i]) < 0) {
                    a[i] = b[i];
                }
            }
        }
    };

    static final BinaryFn MAX = new BinaryFn(Types.NUMERIC) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.max(a[i], b[i]);
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.max(a[i], b[i]);
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = Math.max(a[i], b[i]);
            }
        }

        @Override void u64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                if (Long.compareUnsigned(b[i], a[i]) > 0) {
                    a[i] = b[i];
                }
            }
        }
    };

    static final BinaryFn PRELU = new BinaryFn(Types.PRELU) {
        @Override void f32(float[] a, float[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = a[i] < 0 ? a[i] * b[i] : a[i];
            }
        }

        @Override void f64(double[] a, double[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = a[i] < 0 ? a[i] * b[i] : a[i];
            }
        }

        @Override void i64(long[] a, long[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = a[i] < 0 ? a[i] * b[i] : a[i];
            }
        }

        @Override void u64(long[] a, long[] b, int n) {
            // unsigned values are never negative
        }
    };

    static final BinaryFn AND = new BinaryFn(Types.BOOL) {
        @Override void bool(int[] a, int[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] &= b[i];
            }
        }
    };

    static final BinaryFn OR = new BinaryFn(Types.BOOL) {
        @Override void bool(int[] a, int[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] |= b[i];
            }
        }
    };

    static final BinaryFn XOR = new BinaryFn(Types.BOOL) {
        @Override void bool(int[] a, int[] b, int n) {
            for (int i = 0; i < n; i++) {
                a[i] ^= b[i];
            }
        }
    };

    /** The function of a binary or variadic node; null when the op is not one of these. */
    static BinaryFn of(Node node) {
        switch (node.op()) {
            case Add: case Sum: case Mean: return ADD;
            case Sub: return SUB;
            case Mul: return MUL;
            case Div: return DIV;
            case Mod: return node.intAttr("fmod") != 0 ? FMOD : MOD;
            case Min: return MIN;
            case Max: return MAX;
            case PRelu: return PRELU;
            case And: return AND;
            case Or: return OR;
            case Xor: return XOR;
            default: return null;
        }
    }
}
