package dev.hedge.converter.quantize;

import dev.hedge.converter.data.Dataset;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Small models and data for the compression tests. */
public final class QTestGraphs {

    private QTestGraphs() {
    }

    public static Tensor random(long seed, float scale, int... shape) {
        Random r = new Random(seed);
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * scale;
        }
        return Tensor.of(v, shape);
    }

    public static Node node(String name, Op op, List<String> in, List<String> out, Object... attrs) {
        Map<String, Attr> a = new LinkedHashMap<>();
        for (int i = 0; i < attrs.length; i += 2) {
            Object v = attrs[i + 1];
            a.put((String) attrs[i], v instanceof Integer n ? new Attr.Int(n) : v instanceof Float f ? new Attr.Float(f)
                    : v instanceof String s ? new Attr.Str(s) : v instanceof long[] l ? new Attr.Ints(l)
                    : new Attr.GraphValue((Graph) v));
        }
        return new Node(name, op, in, out, a);
    }

    /**
     * x[N, 6] → Gemm(W1 [6, 8], b1, Relu) → h → Gemm(W2 [4, 8] transposed, b2, alpha 0.5, beta 2) → y[N, 4].
     */
    public static ModelDef mlp() {
        return mlp(6, 8, 4);
    }

    /** The same shape of model with other sizes. */
    public static ModelDef mlp(int in, int hidden, int out) {
        Graph g = Graph.builder("mlp")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, in))
                .initializer("w1", random(1, 0.5f, in, hidden)).initializer("b1", random(2, 0.1f, hidden))
                .initializer("w2", random(3, 0.5f, out, hidden)).initializer("b2", random(4, 0.1f, out))
                .addNode(node("fc1", Op.Gemm, List.of("x", "w1", "b1"), List.of("h"), "fused_activation", "Relu"))
                .addNode(node("fc2", Op.Gemm, List.of("h", "w2", "b2"), List.of("y"), "transB", 1, "alpha", 0.5f,
                        "beta", 2f))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, out))
                .build();
        return new ModelDef(g, Map.of());
    }

    /** {@code n} samples of one input with a single row each. */
    public static Dataset samples(String input, long seed, int n, int... shape) {
        List<Map<String, Tensor>> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(Map.of(input, random(seed * 1000 + i, 1f, shape)));
        }
        return Dataset.of(l);
    }

    public static Map<String, Tensor> run(ModelDef m, Map<String, Tensor> feed) {
        try (Model model = Model.of(m); Session s = model.newSession()) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            s.run(feed).forEach((k, v) -> out.put(k, v.copy()));
            return out;
        }
    }

    public static List<Op> ops(Graph g) {
        return g.nodes().stream().map(Node::op).toList();
    }

    public static Map<String, Ranges.Affine> calibrate(ModelDef m, Dataset d, List<Layer> layers) {
        java.util.Set<String> values = new java.util.LinkedHashSet<>();
        for (Layer l : layers) {
            values.add(l.input());
            values.add(l.output());
        }
        Map<String, ValueStats> stats = Calibrator.calibrate(m, d, values, false,
                dev.hedge.runtime.RuntimeOptions.reference(), dev.hedge.converter.Progress.NONE);
        Map<String, Ranges.Affine> out = new LinkedHashMap<>();
        stats.forEach((k, s) -> {
            if (s.observed()) {
                out.put(k, Ranges.uint8(s.min(), s.max()));
            }
        });
        return out;
    }
}
