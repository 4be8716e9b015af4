package dev.hedge.kernels.ref.quant;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One node run through the planner and the Java backend: fed inputs run at run time, constants are initializers. */
final class QNode {

    private final Op op;
    private final Map<String, Attr> attrs = new LinkedHashMap<>();
    private final List<String> inputNames = new ArrayList<>();
    private final Map<String, Tensor> feeds = new LinkedHashMap<>();
    private final Map<String, Tensor> constants = new LinkedHashMap<>();
    private int outputs = 1;

    private QNode(Op op) {
        this.op = op;
    }

    static QNode of(Op op) {
        return new QNode(op);
    }

    QNode input(Tensor t) {
        String n = "in" + inputNames.size();
        inputNames.add(n);
        feeds.put(n, t);
        return this;
    }

    QNode constant(Tensor t) {
        String n = "in" + inputNames.size();
        inputNames.add(n);
        constants.put(n, t);
        return this;
    }

    /** A fed input when {@code fed}, else a constant. */
    QNode arg(Tensor t, boolean fed) {
        return fed ? input(t) : constant(t);
    }

    QNode omitted() {
        inputNames.add("");
        return this;
    }

    QNode attr(String name, long v) {
        attrs.put(name, new Attr.Int(v));
        return this;
    }

    QNode attr(String name, float v) {
        attrs.put(name, new Attr.Float(v));
        return this;
    }

    QNode attr(String name, String v) {
        attrs.put(name, new Attr.Str(v));
        return this;
    }

    QNode attr(String name, long[] v) {
        attrs.put(name, new Attr.Ints(v));
        return this;
    }

    QNode outputs(int n) {
        outputs = n;
        return this;
    }

    List<Tensor> run() {
        Graph.Builder b = Graph.builder("q");
        for (var e : feeds.entrySet()) {
            long[] dims = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
            b.addInput(ValueInfo.of(e.getKey(), e.getValue().dtype(), dims));
        }
        constants.forEach(b::initializer);
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            outs.add("y" + i);
            b.addOutput(new ValueInfo("y" + i, null, null));
        }
        b.addNode(new Node("n", op, inputNames, outs, attrs));
        try (Model m = Model.of(new ModelDef(b.build(), Map.of())); Session s = m.newSession()) {
            Map<String, Tensor> r = s.run(feeds);
            List<Tensor> l = new ArrayList<>();
            for (String o : outs) {
                l.add(r.get(o).copy());
            }
            return l;
        }
    }

    Tensor run1() {
        return run().get(0);
    }

    /** A tensor of {@code dtype} holding integer {@code values} (packed for the 4-bit types). */
    static Tensor ints(DType dtype, long[] values, int... shape) {
        Tensor t = Tensor.allocate(dtype, shape);
        for (int i = 0; i < values.length; i++) {
            t.setLong(i, values[i]);
        }
        return t;
    }

    static Tensor floats(DType dtype, float[] values, int... shape) {
        Tensor t = Tensor.allocate(dtype, shape);
        for (int i = 0; i < values.length; i++) {
            t.setFloat(i, values[i]);
        }
        return t;
    }

    static Tensor scalar(DType dtype, long v) {
        Tensor t = Tensor.wrap(dtype, new int[0], ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN));
        t.setLong(0, v);
        return t;
    }
}
