package dev.hedge.kernels.ref.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Runs single nodes through the real planner and compares with scalar references computed in double. */
final class LinalgTesting {

    private LinalgTesting() {
    }

    /** Builds node attributes fluently. */
    static final class Attrs {
        final Map<String, Attr> map = new LinkedHashMap<>();

        Attrs i(String name, long v) {
            map.put(name, new Attr.Int(v));
            return this;
        }

        Attrs f(String name, float v) {
            map.put(name, new Attr.Float(v));
            return this;
        }

        Attrs s(String name, String v) {
            map.put(name, new Attr.Str(v));
            return this;
        }

        Attrs ints(String name, int... v) {
            map.put(name, new Attr.Ints(Arrays.stream(v).asLongStream().toArray()));
            return this;
        }
    }

    static Attrs attrs() {
        return new Attrs();
    }

    /**
     * Runs one node. Inputs are named {@code in0, in1, ...} ({@code null} = omitted); those whose index is
     * in {@code constants} become initializers, the others graph inputs. Returns copies of the outputs.
     */
    static List<Tensor> run(Op op, Attrs attrs, List<Tensor> inputs, Set<Integer> constants, int outputs) {
        List<String> in = new ArrayList<>();
        Graph.Builder b = Graph.builder("test");
        Map<String, Tensor> feed = new LinkedHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (t == null) {
                in.add("");
                continue;
            }
            String name = "in" + i;
            in.add(name);
            if (constants.contains(i)) {
                b.initializer(name, t);
            } else {
                b.addInput(ValueInfo.of(name, t.dtype(), Arrays.stream(t.shape()).asLongStream().toArray()));
                feed.put(name, t);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            out.add("out" + i);
            b.addOutput(new ValueInfo("out" + i, null, null));
        }
        b.addNode(new Node("n", op, in, out, attrs.map));
        try (Model m = Model.of(new ModelDef(b.build(), Map.of())); Session s = m.newSession()) {
            Map<String, Tensor> res = s.run(feed);
            List<Tensor> copies = new ArrayList<>();
            for (String o : out) {
                copies.add(res.get(o).copy());
            }
            return copies;
        }
    }

    static float[] randomFloats(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }

    /** Fused activations the converter may set, with parameters as the converter would. */
    static final String[][] ACTIVATIONS = {
        {"", "0", "0"}, {"Relu", "0", "0"}, {"LeakyRelu", "0.1", "0"}, {"Clip", "-0.5", "0.5"},
        {"Sigmoid", "0", "0"}, {"HardSigmoid", "0.2", "0.5"}, {"HardSwish", "0", "0"}, {"Tanh", "0", "0"},
    };

    static void addActivation(Attrs a, String[] act) {
        if (!act[0].isEmpty()) {
            a.s("fused_activation", act[0]).f("fused_alpha", Float.parseFloat(act[1]))
                    .f("fused_beta", Float.parseFloat(act[2]));
        }
    }

    /** The activation in double, written independently of {@code FusedActivation}. */
    static double activate(String[] act, double x) {
        double a = Double.parseDouble(act[1]);
        double b = Double.parseDouble(act[2]);
        switch (act[0]) {
            case "": return x;
            case "Relu": return Math.max(0, x);
            case "LeakyRelu": return x >= 0 ? x : a * x;
            case "Clip": return Math.min(Math.max(x, a), b);
            case "Sigmoid": return 1 / (1 + Math.exp(-x));
            case "HardSigmoid": return Math.max(0, Math.min(1, a * x + b));
            case "HardSwish": return x * Math.max(0, Math.min(1, x / 6 + 0.5));
            case "Tanh": return Math.tanh(x);
            default: throw new AssertionError(act[0]);
        }
    }

    /**
     * Asserts {@code actual} matches {@code expected} within float32 rounding: each element may differ by
     * {@code 1e-5 + 3e-7 * terms} times its scale (the sum of absolute values of the terms summed for it).
     */
    static void assertClose(String what, double[] expected, double[] scale, int terms, float[] actual) {
        assertClose(what, expected, scale, terms, 0, actual);
    }

    /** As above, plus {@code outputRounding} times the expected magnitude (for narrow output types). */
    static void assertClose(String what, double[] expected, double[] scale, int terms, double outputRounding,
            float[] actual) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double rel = 1e-5 + 3e-7 * terms;
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * (scale[i] + 1) + 1e-6 + outputRounding * Math.abs(expected[i]);
            if (Double.isNaN(expected[i]) ? !Float.isNaN(actual[i]) : !(Math.abs(actual[i] - expected[i]) <= tol)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (tolerance " + tol
                        + ")");
            }
        }
    }

    static void assertShape(String what, int[] expected, Tensor t) {
        assertArrayEquals(expected, t.shape(), what + ": shape " + Arrays.toString(t.shape()));
    }

    /** Flat row-major offset of {@code idx} in {@code shape}. */
    static int offset(int[] shape, int[] idx) {
        int o = 0;
        for (int d = 0; d < shape.length; d++) {
            o = o * shape[d] + idx[d];
        }
        return o;
    }

    /** Advances a mixed-radix counter; false when it wraps to all zeros. */
    static boolean next(int[] idx, int[] shape) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                return true;
            }
            idx[d] = 0;
        }
        return false;
    }

    static int product(int[] s) {
        int p = 1;
        for (int v : s) {
            p *= v;
        }
        return p;
    }

    static Tensor tensor(DType t, float[] v, int... shape) {
        Tensor x = Tensor.allocate(t, shape);
        for (int i = 0; i < v.length; i++) {
            x.setDouble(i, v[i]);
        }
        return x;
    }

    /** The values of {@code v} as stored in dtype {@code t} (rounding as the tensor would). */
    static float[] roundTo(DType t, float[] v) {
        Tensor x = tensor(t, v, v.length);
        return x.toFloatArray();
    }
}
