package dev.hedge.kernels.util;

import dev.hedge.ir.Node;
import java.nio.FloatBuffer;

/**
 * The activation fused into a Conv/Gemm/MatMul node by the converter ({@code fused_activation} and its
 * {@code fused_alpha}/{@code fused_beta}). Resolved once at prepare time.
 */
public final class FusedActivation {

    public enum Kind { NONE, RELU, LEAKY_RELU, CLIP, SIGMOID, HARD_SIGMOID, HARD_SWISH, TANH }

    public static final FusedActivation NONE = new FusedActivation(Kind.NONE, 0, 0);

    private final Kind kind;
    private final float alpha;
    private final float beta;

    public FusedActivation(Kind kind, float alpha, float beta) {
        this.kind = kind;
        this.alpha = alpha;
        this.beta = beta;
    }

    /** Reads the node's fused activation; throws on a name outside {@link dev.hedge.ops.Op#FUSABLE_ACTIVATIONS}. */
    public static FusedActivation of(Node node) {
        if (!node.op().acceptsFusedActivation()) {
            return NONE;
        }
        String name = node.stringAttr("fused_activation");
        if (name == null || name.isEmpty()) {
            return NONE;
        }
        float a = node.floatAttr("fused_alpha");
        float b = node.floatAttr("fused_beta");
        switch (name) {
            case "Relu": return new FusedActivation(Kind.RELU, a, b);
            case "LeakyRelu": return new FusedActivation(Kind.LEAKY_RELU, a, b);
            case "Clip": return new FusedActivation(Kind.CLIP, a, b);
            case "Sigmoid": return new FusedActivation(Kind.SIGMOID, a, b);
            case "HardSigmoid": return new FusedActivation(Kind.HARD_SIGMOID, a, b);
            case "HardSwish": return new FusedActivation(Kind.HARD_SWISH, a, b);
            case "Tanh": return new FusedActivation(Kind.TANH, a, b);
            default:
                throw new IllegalArgumentException("unknown fused_activation '" + name + "'");
        }
    }

    public Kind kind() {
        return kind;
    }

    public float alpha() {
        return alpha;
    }

    public float beta() {
        return beta;
    }

    public boolean isNone() {
        return kind == Kind.NONE;
    }

    public float apply(float x) {
        switch (kind) {
            case NONE: return x;
            case RELU: return x > 0 ? x : 0f;
            case LEAKY_RELU: return x >= 0 ? x : alpha * x;
            case CLIP: return Math.min(Math.max(x, alpha), beta);
            case SIGMOID: return (float) (1.0 / (1.0 + Math.exp(-x)));
            case HARD_SIGMOID: return Math.max(0f, Math.min(1f, alpha * x + beta));
            case HARD_SWISH: return x * Math.max(0f, Math.min(1f, x / 6f + 0.5f));
            case TANH: return (float) Math.tanh(x);
            default: throw new AssertionError(kind);
        }
    }

    public void apply(float[] v, int from, int to) {
        if (kind == Kind.NONE) {
            return;
        }
        if (kind == Kind.RELU) {
            // Branch-free: on real data the sign is unpredictable, and a mispredicted branch per element
            // cost more than the convolution it followed (measured).
            for (int i = from; i < to; i++) {
                v[i] = Math.max(v[i], 0f);
            }
            return;
        }
        switch (kind) {
            // one branch-free loop per kind, so that C2 vectorises them (a switch per element does not)
            case CLIP: {
                float lo = alpha;
                float hi = beta;
                for (int i = from; i < to; i++) {
                    v[i] = Math.min(Math.max(v[i], lo), hi);
                }
                return;
            }
            case LEAKY_RELU: {
                float a = alpha;
                for (int i = from; i < to; i++) {
                    float x = v[i];
                    v[i] = Math.max(x, 0f) + a * Math.min(x, 0f);
                }
                return;
            }
            case HARD_SIGMOID: {
                float a = alpha;
                float b = beta;
                for (int i = from; i < to; i++) {
                    v[i] = Math.max(0f, Math.min(1f, a * v[i] + b));
                }
                return;
            }
            case HARD_SWISH:
                for (int i = from; i < to; i++) {
                    float x = v[i];
                    v[i] = x * Math.max(0f, Math.min(1f, x / 6f + 0.5f));
                }
                return;
            default:
                for (int i = from; i < to; i++) {
                    v[i] = apply(v[i]);
                }
        }
    }

    public void apply(FloatBuffer v, int from, int to) {
        if (kind == Kind.NONE) {
            return;
        }
        for (int i = from; i < to; i++) {
            v.put(i, apply(v.get(i)));
        }
    }

    @Override
    public String toString() {
        return kind == Kind.NONE ? "none" : kind.name().toLowerCase();
    }
}
