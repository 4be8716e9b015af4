package dev.hedge.converter.passes;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builders for the pass tests' graphs. */
final class TestGraphs {

    private TestGraphs() {
    }

    /** A node; {@code io} is inputs, then "->", then outputs. Attributes as name/value pairs. */
    static Node node(String name, Op op, String io, Object... attrs) {
        String[] parts = io.split("->", -1);
        Map<String, Attr> a = new LinkedHashMap<>();
        for (int i = 0; i < attrs.length; i += 2) {
            a.put((String) attrs[i], attr(attrs[i + 1]));
        }
        return new Node(name, op, names(parts[0]), names(parts[1]), a);
    }

    private static List<String> names(String csv) {
        List<String> l = new ArrayList<>();
        if (!csv.isBlank()) {
            for (String s : csv.split(",", -1)) {
                l.add(s.strip());
            }
        }
        return l;
    }

    private static Attr attr(Object v) {
        if (v instanceof Integer i) {
            return new Attr.Int(i);
        } else if (v instanceof Long l) {
            return new Attr.Int(l);
        } else if (v instanceof Float f) {
            return new Attr.Float(f);
        } else if (v instanceof String s) {
            return new Attr.Str(s);
        } else if (v instanceof long[] l) {
            return new Attr.Ints(l);
        } else if (v instanceof Graph g) {
            return new Attr.GraphValue(g);
        } else if (v instanceof Tensor t) {
            return new Attr.TensorValue(t);
        }
        throw new IllegalArgumentException("attribute value " + v);
    }

    /** Uniform [lo, hi) float32 values. */
    static Tensor random(long seed, float lo, float hi, int... shape) {
        Random r = new Random(seed);
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = lo + r.nextFloat() * (hi - lo);
        }
        return Tensor.of(v, shape);
    }

    static Tensor random(long seed, int... shape) {
        return random(seed, -1, 1, shape);
    }

    static long count(Graph g, Op op) {
        return g.nodes().stream().filter(n -> n.op() == op).count();
    }

    static Node only(Graph g, Op op) {
        List<Node> l = g.nodes().stream().filter(n -> n.op() == op).toList();
        if (l.size() != 1) {
            throw new AssertionError("expected one " + op + " in " + g.nodes());
        }
        return l.get(0);
    }

    static String ops(Graph g) {
        return Arrays.toString(g.nodes().stream().map(n -> n.op().name()).toArray());
    }
}
