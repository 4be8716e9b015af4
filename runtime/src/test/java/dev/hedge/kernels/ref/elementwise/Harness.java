package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Runs one node through the real planner and Java backend, and provides the test-side reference
 * machinery: random shapes that broadcast, random values per dtype, and index mapping written
 * independently of the kernels.
 */
final class Harness {

    private Harness() {
    }

    /** Runs {@code op} on {@code inputs} (null: omitted optional input) and returns a copy of output 0. */
    static Tensor run(Op op, Map<String, Attr> attrs, Tensor... inputs) {
        return run(op, attrs, new boolean[inputs.length], inputs);
    }

    /** As {@link #run(Op, Map, Tensor...)}; inputs with {@code constant[i]} become initializers (folded). */
    static Tensor run(Op op, Map<String, Attr> attrs, boolean[] constant, Tensor... inputs) {
        Graph.Builder b = Graph.builder("g");
        List<String> names = new ArrayList<>();
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) {
                names.add("");
                continue;
            }
            String n = "x" + i;
            names.add(n);
            if (constant[i]) {
                b.initializer(n, inputs[i]);
            } else {
                b.addInput(ValueInfo.of(n, inputs[i].dtype(), Arrays.stream(inputs[i].shape()).asLongStream().toArray()));
                feeds.put(n, inputs[i]);
            }
        }
        b.addNode(new Node("node", op, names, List.of("y"), attrs));
        b.addOutput(new ValueInfo("y", null, null));
        try (Model m = Model.of(new ModelDef(b.build(), Map.of())); Session s = m.newSession()) {
            return s.run(feeds).get("y").copy();
        }
    }

    /**
     * A random output shape of rank 0..4 with dims 0..5 (mostly non-zero); one time in four one dim is
     * long (up to 1200), so chunk boundaries fall inside rows.
     */
    static int[] randomShape(Random r) {
        int rank = r.nextInt(5);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = r.nextInt(20) == 0 ? 0 : 1 + r.nextInt(5);
        }
        if (rank > 0 && r.nextInt(4) == 0) {
            s[r.nextInt(rank)] = 200 + r.nextInt(1000);
        }
        return s;
    }

    /** A shape that broadcasts to {@code out}: leading dims dropped, some dims set to 1. */
    static int[] broadcastable(int[] out, Random r) {
        int pattern = r.nextInt(4);
        if (pattern == 0) {
            return out.clone();
        }
        if (pattern == 1) {
            return r.nextBoolean() || out.length == 0 ? new int[0] : new int[] {1};
        }
        int drop = r.nextInt(out.length + 1);
        int[] s = Arrays.copyOfRange(out, drop, out.length);
        for (int i = 0; i < s.length; i++) {
            if (r.nextInt(3) == 0) {
                s[i] = 1;
            }
        }
        return s;
    }

    /** Independent numpy broadcast of shapes. */
    static int[] broadcast(int[]... shapes) {
        int rank = 0;
        for (int[] s : shapes) {
            rank = Math.max(rank, s.length);
        }
        int[] out = new int[rank];
        Arrays.fill(out, 1);
        for (int[] s : shapes) {
            for (int i = 0; i < s.length; i++) {
                int d = rank - s.length + i;
                if (s[i] != 1) {
                    out[d] = s[i];
                }
            }
        }
        return out;
    }

    static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** The flat index into an input of shape {@code in} for the output element with multi-index {@code idx}. */
    static int sourceIndex(int[] in, int[] idx) {
        int off = idx.length - in.length;
        int flat = 0;
        for (int i = 0; i < in.length; i++) {
            int k = in[i] == 1 ? 0 : idx[off + i];
            flat = flat * in[i] + k;
        }
        return flat;
    }

    /** Multi-index of flat element {@code flat} of {@code shape}. */
    static int[] unflatten(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    /** A tensor of random values of {@code t}, with special values mixed in for floats. */
    static Tensor random(DType t, int[] shape, Random r) {
        Tensor x = Tensor.allocate(t, shape);
        for (int i = 0; i < x.elementCount(); i++) {
            if (t.isFloat()) {
                x.setDouble(i, randomFloat(r));
            } else if (t == DType.BOOL) {
                x.setLong(i, r.nextInt(2));
            } else {
                x.setLong(i, randomInt(t, r));
            }
        }
        return x;
    }

    static double randomFloat(Random r) {
        switch (r.nextInt(16)) {
            case 0: return 0.0;
            case 1: return -0.0;
            case 2: return Double.NaN;
            case 3: return r.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            case 4: return (r.nextInt(21) - 10) * 0.5;
            case 5: return r.nextGaussian() * 1e4;
            default: return r.nextGaussian() * 3;
        }
    }

    /** Random bits over the whole range of {@code t}, or small values, equally often. */
    static long randomInt(DType t, Random r) {
        if (r.nextBoolean()) {
            return t.isSigned() ? r.nextInt(19) - 9 : r.nextInt(10);
        }
        return r.nextLong();
    }

    /** Element {@code i} as the exact value its dtype denotes (UINT64 unsigned), for integer dtypes and BOOL. */
    static BigInteger exact(Tensor t, int i) {
        long v = t.getLong(i);
        if (t.dtype() == DType.UINT64 && v < 0) {
            return BigInteger.valueOf(v).add(BigInteger.ONE.shiftLeft(64));
        }
        return BigInteger.valueOf(v);
    }

    /** {@code v} reduced into the range of integer dtype {@code t} (two's complement wrap). */
    static long wrap(BigInteger v, DType t) {
        int bits = t.bits();
        BigInteger m = v.mod(BigInteger.ONE.shiftLeft(bits));
        if (t.isSigned() && m.testBit(bits - 1)) {
            m = m.subtract(BigInteger.ONE.shiftLeft(bits));
        }
        return m.longValue();
    }

    /** The value a float-typed tensor stores for {@code v}, computed the way the test expects: via float. */
    static double roundTo(DType t, double v) {
        switch (t) {
            case FLOAT64: return v;
            case FLOAT32: return (float) v;
            case FLOAT16: return Half.toFloat(Half.fromFloat((float) v));
            case BFLOAT16: return Half.bf16ToFloat(Half.floatToBf16((float) v));
            default: throw new IllegalArgumentException(t.toString());
        }
    }

    static boolean sameFloat(double expected, double actual) {
        return Double.compare(expected, actual) == 0 || (Double.isNaN(expected) && Double.isNaN(actual))
                || (expected == 0 && actual == 0);
    }
}
