package dev.hedge.converter.quantize;

import dev.hedge.converter.passes.GraphPass;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes fused activations that are not a clamp (Sigmoid, Tanh, LeakyRelu, HardSigmoid, HardSwish) explicit
 * again on Conv, Gemm and MatMul, so the layer's pre-activation output is a value calibration can observe and
 * an int8 layer can produce (only Relu and Clip fold into a quantized output's clamp). The layer keeps its
 * node name and writes {@code <output>/preact}; the activation node writes the original output. Results are
 * unchanged; layers that end up in float get their activation fused back by the final clean-up.
 */
public final class ActivationSplit implements GraphPass {

    @Override
    public String name() {
        return "activation-split";
    }

    @Override
    public Result run(Graph g) {
        Map<String, Integer> changes = new LinkedHashMap<>();
        Graph out = split(g, new Names(g), changes);
        return changes.isEmpty() ? Result.unchanged(g) : new Result(out, changes);
    }

    private static Graph split(Graph g, Names names, Map<String, Integer> changes) {
        Graph.Builder b = g.toBuilder();
        b.nodes().clear();
        for (Node n : g.nodes()) {
            if (!n.subgraphs().isEmpty()) {
                Node m = n;
                for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                    if (e.getValue() instanceof Attr.GraphValue gv) {
                        m = m.withAttr(e.getKey(), new Attr.GraphValue(split(gv.value(), names, changes)));
                    }
                }
                b.addNode(m);
                continue;
            }
            FusedActivation act = n.op() == Op.Conv || n.op() == Op.Gemm || n.op() == Op.MatMul
                    ? FusedActivation.of(n) : FusedActivation.NONE;
            if (Activations.isClamp(act)) {
                b.addNode(n);
                continue;
            }
            String pre = names.fresh(n.output(0) + "/preact");
            b.addNode(Activations.withoutActivation(n).withOutputs(List.of(pre)));
            b.addNode(Activations.node(act, names.fresh(n.name() + "/activation"), pre, n.output(0), b, names));
            changes.merge(n.op() + " activations", 1, Integer::sum);
        }
        return b.build();
    }
}
