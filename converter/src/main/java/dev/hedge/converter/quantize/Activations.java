package dev.hedge.converter.quantize;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.List;
import java.util.Map;

/** Fused activations made explicit again: a node computing the activation a layer had fused. */
final class Activations {

    private Activations() {
    }

    /** Whether the activation can stay fused in a QLinearConv / QLinearMatMul (it is a clamp). */
    static boolean isClamp(FusedActivation a) {
        return a.kind() == FusedActivation.Kind.NONE || a.kind() == FusedActivation.Kind.RELU
                || a.kind() == FusedActivation.Kind.CLIP;
    }

    /** The layer node without its fused activation. */
    static Node withoutActivation(Node n) {
        return n.withoutAttr("fused_activation").withoutAttr("fused_alpha").withoutAttr("fused_beta");
    }

    /** A node computing {@code act(in) -> out}; Clip's bounds become initializers of {@code b}. */
    static Node node(FusedActivation act, String name, String in, String out, Graph.Builder b, Names names) {
        switch (act.kind()) {
            case RELU: return Node.of(name, Op.Relu, List.of(in), List.of(out));
            case SIGMOID: return Node.of(name, Op.Sigmoid, List.of(in), List.of(out));
            case TANH: return Node.of(name, Op.Tanh, List.of(in), List.of(out));
            case HARD_SWISH: return Node.of(name, Op.HardSwish, List.of(in), List.of(out));
            case LEAKY_RELU:
                return new Node(name, Op.LeakyRelu, List.of(in), List.of(out),
                        Map.of("alpha", new Attr.Float(act.alpha())));
            case HARD_SIGMOID:
                return new Node(name, Op.HardSigmoid, List.of(in), List.of(out),
                        Map.of("alpha", new Attr.Float(act.alpha()), "beta", new Attr.Float(act.beta())));
            case CLIP: {
                String lo = names.fresh(name + "/min");
                String hi = names.fresh(name + "/max");
                b.initializer(lo, Tensor.of(new float[] {act.alpha()}));
                b.initializer(hi, Tensor.of(new float[] {act.beta()}));
                return Node.of(name, Op.Clip, List.of(in, lo, hi), List.of(out));
            }
            default: throw new IllegalArgumentException("no activation to make explicit: " + act);
        }
    }
}
