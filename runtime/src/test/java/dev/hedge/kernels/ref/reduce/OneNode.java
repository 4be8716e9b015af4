package dev.hedge.kernels.ref.reduce;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one node through the real planner and the Java backend. Data inputs are graph inputs (so the planner
 * cannot fold the node and {@code run()} is exercised); constants are initializers.
 */
public final class OneNode {

    private final Op op;
    private final Map<String, Attr> attrs = new LinkedHashMap<>();
    private final List<String> inputNames = new ArrayList<>();
    private final Map<String, Tensor> graphInputs = new LinkedHashMap<>();
    private final Map<String, Tensor> constants = new LinkedHashMap<>();
    private final List<String> outputs = new ArrayList<>();

    private OneNode(Op op) {
        this.op = op;
    }

    public static OneNode of(Op op) {
        return new OneNode(op);
    }

    public OneNode attr(String name, long v) {
        attrs.put(name, new Attr.Int(v));
        return this;
    }

    public OneNode attr(String name, float v) {
        attrs.put(name, new Attr.Float(v));
        return this;
    }

    /** A data input fed at run time. */
    public OneNode input(Tensor t) {
        String n = "in" + inputNames.size();
        inputNames.add(n);
        graphInputs.put(n, t);
        return this;
    }

    /** A constant input (initializer). */
    public OneNode constant(Tensor t) {
        String n = "c" + inputNames.size();
        inputNames.add(n);
        constants.put(n, t);
        return this;
    }

    public OneNode omitted() {
        inputNames.add("");
        return this;
    }

    public OneNode outputs(String... names) {
        outputs.addAll(Arrays.asList(names));
        return this;
    }

    /** Runs twice (the second run must reuse the prepared plan and agree) and returns copies of the outputs. */
    public List<Tensor> run() {
        if (outputs.isEmpty()) {
            outputs.add("y");
        }
        Graph.Builder b = Graph.builder("t");
        for (var e : graphInputs.entrySet()) {
            long[] dims = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
            b.addInput(ValueInfo.of(e.getKey(), e.getValue().dtype(), dims));
        }
        constants.forEach(b::initializer);
        b.addNode(new Node("n", op, inputNames, outputs, attrs));
        for (String o : outputs) {
            if (!o.isEmpty()) {
                b.addOutput(new ValueInfo(o, null, null));
            }
        }
        try (Model m = Model.of(new ModelDef(b.build(), Map.of())); Session s = m.newSession()) {
            List<Tensor> first = collect(s.run(graphInputs));
            List<Tensor> second = collect(s.run(graphInputs));
            for (int i = 0; i < first.size(); i++) {
                if (!first.get(i).data().equals(second.get(i).data())) {
                    throw new AssertionError("second run differs in output " + i);
                }
            }
            return first;
        }
    }

    private List<Tensor> collect(Map<String, Tensor> res) {
        List<Tensor> l = new ArrayList<>();
        for (String o : outputs) {
            if (!o.isEmpty()) {
                l.add(res.get(o).copy());
            }
        }
        return l;
    }
}
