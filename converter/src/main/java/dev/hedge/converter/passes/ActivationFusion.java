package dev.hedge.converter.passes;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fuses an activation into the Conv, ConvTranspose, Gemm or MatMul producing its input, through
 * {@code fused_activation} / {@code fused_alpha} / {@code fused_beta} (see
 * {@link dev.hedge.kernels.util.FusedActivation}): Relu, LeakyRelu(alpha), Clip with constant bounds
 * (alpha = min, beta = max), Sigmoid, HardSigmoid(alpha, beta), HardSwish, Tanh. Only when the producer's
 * output is float32, read by the activation alone and not a graph output, and the producer has no fused
 * activation yet.
 */
public final class ActivationFusion implements GraphPass {

    private static final Set<Op> PRODUCERS = Set.of(Op.Conv, Op.ConvTranspose, Op.Gemm, Op.MatMul);

    @Override
    public String name() {
        return "activation-fusion";
    }

    @Override
    public Result run(Graph g) {
        return run(g, Map.of());
    }

    private Result run(Graph g, Map<String, DType> outerTypes) {
        Changes changes = new Changes();
        Map<String, DType> types = Graphs.types(g, outerTypes);
        Graph cur = changes.inSubgraphs(g, sub -> run(sub, types));
        boolean again = true;
        while (again) {
            again = false;
            Map<String, Integer> reads = Graphs.readCounts(cur);
            Map<String, Node> producers = cur.producers();
            for (Node a : cur.nodes()) {
                String t = a.input(0);
                Node p = producers.get(t);
                if (p == null || !PRODUCERS.contains(p.op()) || !p.stringAttr("fused_activation").isEmpty()
                        || p.outputs().size() != 1 || reads.getOrDefault(t, 0) != 1 || Graphs.isOutput(cur, t)
                        || types.get(t) != DType.FLOAT32) {
                    continue;
                }
                float[] params = activation(cur, a);
                if (params == null) {
                    continue;
                }
                Map<String, Attr> attrs = new LinkedHashMap<>(p.attrs());
                attrs.put("fused_activation", new Attr.Str(a.op().name()));
                attrs.put("fused_alpha", new Attr.Float(params[0]));
                attrs.put("fused_beta", new Attr.Float(params[1]));
                Node fused = new Node(p.name(), p.op(), p.inputs(), List.of(a.output(0)), attrs);
                Graph.Builder b = Graphs.replace(cur, p, fused, Set.of(a)).toBuilder();
                b.valueInfos().remove(t);
                cur = b.build();
                changes.add(a.op().name() + " into " + p.op().name());
                again = true;
                break;
            }
        }
        return new Result(cur, changes.asMap());
    }

    @Override
    public String note(Map<String, Integer> changes) {
        return changes.isEmpty() ? "" : "fused " + Result.describe(changes);
    }

    /** {alpha, beta} for a fusable activation node, or null. */
    private static float[] activation(Graph g, Node a) {
        switch (a.op()) {
            case Relu: case Sigmoid: case HardSwish: case Tanh:
                return new float[] {0f, 0f};
            case LeakyRelu:
                return new float[] {a.floatAttr("alpha"), 0f};
            case HardSigmoid:
                return new float[] {a.floatAttr("alpha"), a.floatAttr("beta")};
            case Clip: {
                Float lo = bound(g, a, 1, Float.NEGATIVE_INFINITY);
                Float hi = bound(g, a, 2, Float.POSITIVE_INFINITY);
                return lo == null || hi == null ? null : new float[] {lo, hi};
            }
            default:
                return null;
        }
    }

    /** A Clip bound: absent means unbounded; present it must be a one-element float32 constant. */
    private static Float bound(Graph g, Node clip, int i, float absent) {
        if (!clip.hasInput(i)) {
            return absent;
        }
        var t = g.initializers().get(clip.input(i));
        if (t == null || t.isEncoded() || t.dtype() != DType.FLOAT32 || t.elementCount() != 1) {
            return null;
        }
        return t.getFloat(0);
    }
}
