package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;
import dev.hedge.runtime.UnsupportedModelException;

/** The unary ops. Float results are computed in double where that is cheap and rounded once. */
final class UnaryFns {

    private static final double SQRT_HALF = 0.7071067811865476;
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;

    private UnaryFns() {
    }

    /** The function of a unary node, with its attributes bound; null when the op is not a unary one here. */
    static UnaryFn of(Node node) {
        switch (node.op()) {
            case Sqrt: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.sqrt(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.sqrt(x[i]);
                    }
                }
            };
            case Exp: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.exp(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.exp(x[i]);
                    }
                }
            };
            case Log: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.log(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.log(x[i]);
                    }
                }
            };
            case Neg: return new UnaryFn(Types.SIGNED) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = -x[i];
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = -x[i];
                    }
                }

                @Override void i64(long[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = -x[i];
                    }
                }
            };
            case Abs: return new UnaryFn(Types.NUMERIC) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.abs(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.abs(x[i]);
                    }
                }

                @Override void i64(long[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.abs(x[i]);
                    }
                }

                @Override void u64(long[] x, int n) {
                    // already non-negative
                }
            };
            case Reciprocal: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = 1f / x[i];
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = 1.0 / x[i];
                    }
                }
            };
            case Erf: return new UnaryFn(Types.NUMERIC) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) MathFns.erfForFloat(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = MathFns.erf(x[i]);
                    }
                }

                @Override void i64(long[] x, int n) {
                    // erf in double truncated back to an integer: 0, or +-1 from |x| = 6 on, where erf rounds to 1
                    for (int i = 0; i < n; i++) {
                        x[i] = (long) MathFns.erf(x[i]);
                    }
                }

                @Override void u64(long[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (long) MathFns.erf(Convert.unsignedToDouble(x[i]));
                    }
                }
            };
            case Floor: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.floor(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.floor(x[i]);
                    }
                }
            };
            case Ceil: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.ceil(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.ceil(x[i]);
                    }
                }
            };
            case Round: return new UnaryFn(Types.FLOATS) {
                // rint: halves to even, as ONNX Round requires
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.rint(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.rint(x[i]);
                    }
                }
            };
            case Sign: return new UnaryFn(Types.NUMERIC) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.signum(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.signum(x[i]);
                    }
                }

                @Override void i64(long[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Long.signum(x[i]);
                    }
                }

                @Override void u64(long[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = x[i] != 0 ? 1 : 0;
                    }
                }
            };
            case Sin: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.sin(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.sin(x[i]);
                    }
                }
            };
            case Cos: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.cos(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.cos(x[i]);
                    }
                }
            };
            case Tan: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.tan(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.tan(x[i]);
                    }
                }
            };
            case Asin: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.asin(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.asin(x[i]);
                    }
                }
            };
            case Acos: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.acos(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.acos(x[i]);
                    }
                }
            };
            case Atan: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.atan(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.atan(x[i]);
                    }
                }
            };
            case Sinh: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.sinh(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.sinh(x[i]);
                    }
                }
            };
            case Cosh: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) Math.cosh(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.cosh(x[i]);
                    }
                }
            };
            case Asinh: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) MathFns.asinh(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = MathFns.asinh(x[i]);
                    }
                }
            };
            case Acosh: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) MathFns.acosh(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = MathFns.acosh(x[i]);
                    }
                }
            };
            case Atanh: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) MathFns.atanh(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = MathFns.atanh(x[i]);
                    }
                }
            };
            case Relu: return new UnaryFn(Types.SIGNED) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.max(x[i], 0f);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.max(x[i], 0.0);
                    }
                }

                @Override void i64(long[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.max(x[i], 0L);
                    }
                }
            };
            case LeakyRelu: return leakyRelu(node.floatAttr("alpha"));
            case Elu: return elu(node.floatAttr("alpha"));
            case Selu: return selu(node.floatAttr("alpha"), node.floatAttr("gamma"));
            case Sigmoid: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) sigmoid(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = sigmoid(x[i]);
                    }
                }
            };
            case HardSigmoid: return hardSigmoid(node.floatAttr("alpha"), node.floatAttr("beta"));
            case HardSwish: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        float v = x[i];
                        x[i] = v * Math.max(0f, Math.min(1f, v * (1f / 6) + 0.5f));
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        double v = x[i];
                        x[i] = v * Math.max(0.0, Math.min(1.0, v / 6 + 0.5));
                    }
                }
            };
            case Tanh: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) MathFns.tanhForFloat(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = Math.tanh(x[i]);
                    }
                }
            };
            case Softplus: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) softplus(x[i]);
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = softplus(x[i]);
                    }
                }
            };
            case Softsign: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = x[i] / (1f + Math.abs(x[i]));
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = x[i] / (1.0 + Math.abs(x[i]));
                    }
                }
            };
            case Gelu: return gelu(node);
            case Mish: return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = (float) (x[i] * MathFns.tanhForFloat(softplus(x[i])));
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] = x[i] * Math.tanh(softplus(x[i]));
                    }
                }
            };
            case Celu: return celu(node.floatAttr("alpha"));
            case ThresholdedRelu: return thresholdedRelu(node.floatAttr("alpha"));
            case Not: return new UnaryFn(Types.BOOL) {
                @Override void bool(int[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        x[i] ^= 1;
                    }
                }
            };
            default:
                return null;
        }
    }

    static double sigmoid(double v) {
        // never exp of a large positive number: no overflow to inf/inf
        if (v >= 0) {
            return 1 / (1 + Math.exp(-v));
        }
        double e = Math.exp(v);
        return e / (1 + e);
    }

    static double softplus(double v) {
        // log(1 + e^v) without overflow for large v
        return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
    }

    private static UnaryFn leakyRelu(float alpha) {
        return new UnaryFn(Types.FLOATS) {
            @Override void f32(float[] x, int n) {
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    x[i] = v >= 0 ? v : alpha * v;
                }
            }

            @Override void f64(double[] x, int n) {
                double a = alpha;
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    x[i] = v >= 0 ? v : a * v;
                }
            }
        };
    }

    private static UnaryFn elu(float alpha) {
        return new UnaryFn(Types.FLOATS) {
            @Override void f32(float[] x, int n) {
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    x[i] = v >= 0 ? v : (float) (alpha * Math.expm1(v));
                }
            }

            @Override void f64(double[] x, int n) {
                double a = alpha;
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    x[i] = v >= 0 ? v : a * Math.expm1(v);
                }
            }
        };
    }

    private static UnaryFn selu(float alpha, float gamma) {
        return new UnaryFn(Types.FLOATS) {
            @Override void f32(float[] x, int n) {
                double a = alpha;
                double g = gamma;
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    x[i] = (float) (v > 0 ? g * v : g * a * Math.expm1(v));
                }
            }

            @Override void f64(double[] x, int n) {
                double a = alpha;
                double g = gamma;
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    x[i] = v > 0 ? g * v : g * a * Math.expm1(v);
                }
            }
        };
    }

    private static UnaryFn hardSigmoid(float alpha, float beta) {
        return new UnaryFn(Types.FLOATS) {
            @Override void f32(float[] x, int n) {
                for (int i = 0; i < n; i++) {
                    x[i] = Math.max(0f, Math.min(1f, alpha * x[i] + beta));
                }
            }

            @Override void f64(double[] x, int n) {
                double a = alpha;
                double b = beta;
                for (int i = 0; i < n; i++) {
                    x[i] = Math.max(0.0, Math.min(1.0, a * x[i] + b));
                }
            }
        };
    }

    private static UnaryFn celu(float alpha) {
        return new UnaryFn(Types.FLOATS) {
            @Override void f32(float[] x, int n) {
                double a = alpha;
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    x[i] = (float) (v > 0 ? v : a * Math.expm1(v / a));
                }
            }

            @Override void f64(double[] x, int n) {
                double a = alpha;
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    x[i] = v > 0 ? v : a * Math.expm1(v / a);
                }
            }
        };
    }

    private static UnaryFn thresholdedRelu(float alpha) {
        return new UnaryFn(Types.FLOATS) {
            @Override void f32(float[] x, int n) {
                for (int i = 0; i < n; i++) {
                    x[i] = x[i] > alpha ? x[i] : 0f;
                }
            }

            @Override void f64(double[] x, int n) {
                double a = alpha;
                for (int i = 0; i < n; i++) {
                    x[i] = x[i] > a ? x[i] : 0.0;
                }
            }
        };
    }

    private static UnaryFn gelu(Node node) {
        String mode = node.stringAttr("approximate");
        if ("none".equals(mode)) {
            return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        double v = x[i];
                        x[i] = (float) (0.5 * v * (1 + MathFns.erfForFloat(v * SQRT_HALF)));
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        double v = x[i];
                        x[i] = 0.5 * v * (1 + MathFns.erf(v * SQRT_HALF));
                    }
                }
            };
        }
        if ("tanh".equals(mode)) {
            return new UnaryFn(Types.FLOATS) {
                @Override void f32(float[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        double v = x[i];
                        x[i] = (float) (0.5 * v * (1 + MathFns.tanhForFloat(geluTanhArg(v))));
                    }
                }

                @Override void f64(double[] x, int n) {
                    for (int i = 0; i < n; i++) {
                        double v = x[i];
                        x[i] = 0.5 * v * (1 + Math.tanh(geluTanhArg(v)));
                    }
                }
            };
        }
        throw new UnsupportedModelException(node.describe() + ": approximate='" + mode
                + "' is not one of 'none', 'tanh'");
    }

    private static double geluTanhArg(double v) {
        return SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
    }
}
