package dev.hedge.converter.prune;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Small graph builders for the pruning and reconstruction tests. */
public final class PruneGraphs {

    private PruneGraphs() {
    }

    /** A node; {@code io} is "in1,in2->out". Attributes as name/value pairs (Integer, Float, long[], String). */
    public static Node node(String name, Op op, String io, Object... attrs) {
        String[] parts = io.split("->", -1);
        Map<String, Attr> a = new LinkedHashMap<>();
        for (int i = 0; i < attrs.length; i += 2) {
            Object v = attrs[i + 1];
            Attr at = v instanceof Integer n ? new Attr.Int(n) : v instanceof Float f ? new Attr.Float(f)
                    : v instanceof long[] l ? new Attr.Ints(l) : new Attr.Str((String) v);
            a.put((String) attrs[i], at);
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

    public static Tensor random(long seed, int... shape) {
        Random r = new Random(seed);
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, shape);
    }

    /** Uniform values in [lo, hi). */
    public static Tensor uniform(long seed, float lo, float hi, int... shape) {
        Random r = new Random(seed);
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = lo + (hi - lo) * r.nextFloat();
        }
        return Tensor.of(v, shape);
    }

    public static Graph.Builder graph(String input, int... shape) {
        Graph.Builder b = Graph.builder("t");
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        b.addInput(ValueInfo.of(input, DType.FLOAT32, dims));
        return b;
    }

    /** An MLP x[n,in] -> Gemm(transB=1) -> Relu ... -> y with the given layer widths. */
    public static Graph mlp(long seed, int batch, int... widths) {
        Graph.Builder b = graph("x", batch, widths[0]);
        String cur = "x";
        for (int l = 0; l + 1 < widths.length; l++) {
            String w = "w" + l;
            String bias = "b" + l;
            b.initializer(w, random(seed + l, widths[l + 1], widths[l]));
            b.initializer(bias, random(seed + 100 + l, widths[l + 1]));
            String out = l + 2 == widths.length ? "y" : "h" + l;
            b.addNode(node("fc" + l, Op.Gemm, cur + "," + w + "," + bias + "->" + out, "transB", 1));
            cur = out;
            if (l + 2 < widths.length) {
                b.addNode(node("relu" + l, Op.Relu, cur + "->" + cur + "_r"));
                cur = cur + "_r";
            }
        }
        b.addOutput(new ValueInfo("y", DType.FLOAT32, null));
        return b.build();
    }

    public static double maxAbsDiff(Tensor a, Tensor b) {
        if (a.elementCount() != b.elementCount()) {
            throw new AssertionError(a + " vs " + b);
        }
        double m = 0;
        for (int i = 0; i < a.elementCount(); i++) {
            m = Math.max(m, Math.abs(a.getDouble(i) - b.getDouble(i)));
        }
        return m;
    }
}
