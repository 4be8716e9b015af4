package dev.hedge.kernels.ref.tensor;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a one-node graph and runs it on the Java backend. Inputs are graph inputs (so the kernel's run()
 * does the work) unless added with {@link #constant}, which makes them initializers the planner may fold.
 */
final class OneNode {

    private final Op op;
    private final Map<String, Attr> attrs = new LinkedHashMap<>();
    private final List<String> inputNames = new ArrayList<>();
    private final Map<String, Tensor> feeds = new LinkedHashMap<>();
    private final Map<String, Tensor> constants = new LinkedHashMap<>();
    private int outputs = 1;

    private OneNode(Op op) {
        this.op = op;
    }

    static OneNode of(Op op) {
        return new OneNode(op);
    }

    OneNode input(Tensor t) {
        String n = "in" + inputNames.size();
        inputNames.add(n);
        feeds.put(n, t);
        return this;
    }

    OneNode constant(Tensor t) {
        String n = "in" + inputNames.size();
        inputNames.add(n);
        constants.put(n, t);
        return this;
    }

    OneNode omitted() {
        inputNames.add("");
        return this;
    }

    OneNode attr(String name, long v) {
        attrs.put(name, new Attr.Int(v));
        return this;
    }

    OneNode attr(String name, float v) {
        attrs.put(name, new Attr.Float(v));
        return this;
    }

    OneNode attr(String name, String v) {
        attrs.put(name, new Attr.Str(v));
        return this;
    }

    OneNode attr(String name, long[] v) {
        attrs.put(name, new Attr.Ints(v));
        return this;
    }

    OneNode attr(String name, Tensor v) {
        attrs.put(name, new Attr.TensorValue(v));
        return this;
    }

    OneNode outputs(int n) {
        outputs = n;
        return this;
    }

    Graph graph() {
        Graph.Builder b = Graph.builder("test");
        for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
            b.addInput(new ValueInfo(e.getKey(), e.getValue().dtype(), null));
        }
        for (Map.Entry<String, Tensor> e : constants.entrySet()) {
            b.initializer(e.getKey(), e.getValue());
        }
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            outs.add("out" + i);
            b.addOutput(new ValueInfo("out" + i, null, null));
        }
        b.addNode(new Node("n", op, inputNames, outs, attrs));
        return b.build();
    }

    /** Runs once; the outputs are copies (session views do not outlive the session). */
    List<Tensor> run() {
        try (Model m = Model.of(new ModelDef(graph(), Map.of())); Session s = m.newSession()) {
            Map<String, Tensor> r = s.run(feeds);
            List<Tensor> l = new ArrayList<>();
            for (int i = 0; i < outputs; i++) {
                l.add(r.get("out" + i).copy());
            }
            return l;
        }
    }

    Tensor run1() {
        return run().get(0);
    }
}
