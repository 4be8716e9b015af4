package dev.hedge.kernels.ref.rnn;

import java.util.List;
import java.util.Locale;

/**
 * One activation function of a recurrent op (the {@code activations} attribute), with its alpha/beta.
 * Names are matched case-insensitively, as ONNX Runtime does.
 */
public final class Activation {

    enum Kind { RELU, TANH, SIGMOID, AFFINE, LEAKY_RELU, THRESHOLDED_RELU, SCALED_TANH, HARD_SIGMOID, ELU, SOFTSIGN,
        SOFTPLUS }

    final Kind kind;
    final float alpha;
    final float beta;

    Activation(Kind kind, float alpha, float beta) {
        this.kind = kind;
        this.alpha = alpha;
        this.beta = beta;
    }

    static final Activation SIGMOID = new Activation(Kind.SIGMOID, 0, 0);
    static final Activation TANH = new Activation(Kind.TANH, 0, 0);

    /**
     * Resolves the activation names with their alpha/beta lists. As in ONNX Runtime, the lists are consumed
     * in order only by the functions that take the parameter (Affine, LeakyRelu, ThresholdedRelu,
     * ScaledTanh, HardSigmoid and Elu take alpha; Affine, ScaledTanh and HardSigmoid take beta); a missing
     * value takes the default of the corresponding ONNX operator.
     */
    static Activation[] parse(List<String> names, float[] alphas, float[] betas) {
        Activation[] out = new Activation[names.size()];
        int ai = 0;
        int bi = 0;
        for (int i = 0; i < out.length; i++) {
            String n = names.get(i).toLowerCase(Locale.ROOT);
            Kind k;
            float defA = 0;
            float defB = 0;
            boolean usesA = false;
            boolean usesB = false;
            switch (n) {
                case "relu": k = Kind.RELU; break;
                case "tanh": k = Kind.TANH; break;
                case "sigmoid": k = Kind.SIGMOID; break;
                case "affine": k = Kind.AFFINE; usesA = true; usesB = true; defA = 1f; break;
                case "leakyrelu": k = Kind.LEAKY_RELU; usesA = true; defA = 0.01f; break;
                case "thresholdedrelu": k = Kind.THRESHOLDED_RELU; usesA = true; defA = 1f; break;
                case "scaledtanh": k = Kind.SCALED_TANH; usesA = true; usesB = true; defA = 1f; defB = 1f; break;
                case "hardsigmoid": k = Kind.HARD_SIGMOID; usesA = true; usesB = true; defA = 0.2f; defB = 0.5f; break;
                case "elu": k = Kind.ELU; usesA = true; defA = 1f; break;
                case "softsign": k = Kind.SOFTSIGN; break;
                case "softplus": k = Kind.SOFTPLUS; break;
                default:
                    throw new IllegalArgumentException("activation '" + names.get(i) + "' is not one of Relu, Tanh,"
                            + " Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign,"
                            + " Softplus");
            }
            float a = defA;
            float b = defB;
            if (usesA && alphas != null && ai < alphas.length) {
                a = alphas[ai++];
            }
            if (usesB && betas != null && bi < betas.length) {
                b = betas[bi++];
            }
            out[i] = new Activation(k, a, b);
        }
        return out;
    }

    /** Scalar form, for reference and tests. */
    public float apply(float x) {
        switch (kind) {
            case RELU: return Math.max(0f, x);
            case TANH: return (float) Math.tanh(x);
            case SIGMOID: return sigmoid(x);
            case AFFINE: return alpha * x + beta;
            case LEAKY_RELU: return x >= 0 ? x : alpha * x;
            case THRESHOLDED_RELU: return x >= alpha ? x : 0f;
            case SCALED_TANH: return alpha * (float) Math.tanh(beta * x);
            case HARD_SIGMOID: return Math.min(Math.max(alpha * x + beta, 0f), 1f);
            case ELU: return x >= 0 ? x : alpha * (float) Math.expm1(x);
            case SOFTSIGN: return x / (1f + Math.abs(x));
            case SOFTPLUS: return softplus(x);
            default: throw new AssertionError(kind);
        }
    }

    /** Clips {@code a[off..off+n)} to [-clip, clip] (when clip is finite) and applies the function in place. */
    void apply(float[] a, int off, int n, float clip) {
        int end = off + n;
        if (clip < Float.POSITIVE_INFINITY) {
            for (int i = off; i < end; i++) {
                a[i] = Math.max(-clip, Math.min(clip, a[i]));
            }
        }
        switch (kind) {
            case TANH:
                for (int i = off; i < end; i++) {
                    a[i] = (float) Math.tanh(a[i]);
                }
                break;
            case SIGMOID:
                for (int i = off; i < end; i++) {
                    a[i] = sigmoid(a[i]);
                }
                break;
            case RELU:
                for (int i = off; i < end; i++) {
                    a[i] = Math.max(0f, a[i]);
                }
                break;
            default:
                for (int i = off; i < end; i++) {
                    a[i] = apply(a[i]);
                }
        }
    }

    private static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    private static float softplus(float x) {
        // log(1 + e^x) without overflow for large x
        return x > 0 ? x + (float) Math.log1p(Math.exp(-x)) : (float) Math.log1p(Math.exp(x));
    }

    @Override
    public String toString() {
        return kind + "(" + alpha + ", " + beta + ")";
    }
}
