package dev.hedge.converter.quantize;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.kernels.util.FusedActivation;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Activation smoothing between two linear layers (SmoothQuant's migration, folded into the producer): when a
 * Conv / Gemm / MatMul P feeds, through at most a ReLU (or LeakyRelu, both commute with positive scales), only
 * a Conv / Gemm / MatMul C, channel j of the value between them is divided by
 * {@code s_j = sqrt(max|x_j| / max|w_j|)} (P's output channel j and bias scaled by {@code 1/s_j}) and C's input
 * channel j weights multiplied by {@code s_j}. The model computes the same; the value's channels, whose ranges
 * can differ by orders of magnitude, move closer together, so one uint8 scale per tensor loses less on the small
 * ones, while C's weights absorb the rest (their scales are per output channel).
 */
public final class Smoothing {

    /** Pairs whose activation ranges are already within this factor are left alone. */
    private static final double MIN_SPREAD = 2;

    private Smoothing() {
    }

    /** A producer → consumer pair: the value between them and its channel axis. */
    public record Pair(String producer, String consumer, String value) {
    }

    /** The pairs of {@code g} (and its subgraphs) that can be smoothed. */
    public static List<Pair> pairs(Graph g) {
        List<Pair> out = new ArrayList<>();
        collect(g, out);
        return out;
    }

    private static void collect(Graph g, List<Pair> out) {
        Map<String, List<Node>> consumers = g.consumers();
        for (Node p : g.nodes()) {
            for (Graph s : p.subgraphs()) {
                collect(s, out);
            }
            if (!linear(p, g) || !homogeneous(p)) {
                continue;
            }
            String y = p.output(0);
            List<Node> cs = consumers.getOrDefault(y, List.of());
            if (cs.size() != 1 || g.outputNames().contains(y)) {
                continue;
            }
            Node c = cs.get(0);
            if (!linear(c, g) || !c.input(0).equals(y) || c.inputs().subList(1, c.inputs().size()).contains(y)
                    || c.op() == Op.Conv && c.intAttr("group") != 1 || p.op() == Op.Conv && p.intAttr("group") != 1
                    || c.op() == Op.Gemm && c.intAttr("transA") != 0) {
                continue;
            }
            out.add(new Pair(p.name(), c.name(), y));
        }
    }

    /** A Conv / Gemm / MatMul with a constant weight (2-D unless Conv) and a constant per-channel bias or none. */
    private static boolean linear(Node n, Graph g) {
        if (n.op() != Op.Conv && n.op() != Op.Gemm && n.op() != Op.MatMul) {
            return false;
        }
        Tensor w = g.initializers().get(n.input(1));
        if (w == null || w.isEncoded() || (n.op() == Op.Conv ? w.rank() < 3 : w.rank() != 2)) {
            return false;
        }
        if (!n.hasInput(2)) {
            return true;
        }
        Tensor b = g.initializers().get(n.input(2));
        return b != null && !b.isEncoded() && b.elementCount() == outChannels(n, w);
    }

    private static boolean homogeneous(Node n) {
        FusedActivation a = FusedActivation.of(n);
        return a.kind() == FusedActivation.Kind.NONE || a.kind() == FusedActivation.Kind.RELU
                || a.kind() == FusedActivation.Kind.LEAKY_RELU;
    }

    private static int outChannels(Node n, Tensor w) {
        return n.op() == Op.Conv ? w.dim(0) : n.op() == Op.Gemm && n.intAttr("transB") != 0 ? w.dim(0) : w.dim(1);
    }

    /**
     * Applies the migration to every pair whose value has channel maxima in {@code absMax} (by value name).
     * {@code divisors} receives, per smoothed value, the factors its channels were divided by (the original
     * value is the new one times them).
     */
    public static Graph apply(Graph g, Map<String, double[]> absMax, Map<String, float[]> divisors) {
        Graph cur = g;
        for (Pair pair : pairs(g)) {
            double[] x = absMax.get(pair.value());
            if (x != null) {
                float[][] used = new float[1][];
                Graph next = smooth(cur, pair, x, used);
                if (next != cur) {
                    divisors.put(pair.value(), used[0]);
                    cur = next;
                }
            }
        }
        return cur;
    }

    private static Graph smooth(Graph g, Pair pair, double[] xMax, float[][] used) {
        if (g.nodes().stream().noneMatch(n -> n.name().equals(pair.producer()))) {
            Graph.Builder b = g.toBuilder();
            b.nodes().clear();
            boolean changed = false;
            for (Node n : g.nodes()) {
                Node m = n;
                for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                    if (e.getValue() instanceof Attr.GraphValue gv) {
                        Graph s = smooth(gv.value(), pair, xMax, used);
                        if (s != gv.value()) {
                            m = m.withAttr(e.getKey(), new Attr.GraphValue(s));
                            changed = true;
                        }
                    }
                }
                b.addNode(m);
            }
            return changed ? b.build() : g;
        }
        Map<String, Node> byName = new HashMap<>();
        for (Node n : g.nodes()) {
            byName.put(n.name(), n);
        }
        Node p = byName.get(pair.producer());
        Node c = byName.get(pair.consumer());
        Tensor wp = g.initializers().get(p.input(1));
        Tensor wc = g.initializers().get(c.input(1));
        int channels = outChannels(p, wp);
        if (xMax.length != channels) {
            return g;
        }
        double[] wMax = inputColumnMax(c, wc, channels);
        if (wMax == null) {
            return g;
        }
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (double v : xMax) {
            if (v > 0) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (hi == 0 || hi / lo < MIN_SPREAD) {
            return g;
        }
        float[] s = new float[channels];
        for (int j = 0; j < channels; j++) {
            s[j] = xMax[j] > 0 && wMax[j] > 0 ? (float) Math.sqrt(xMax[j] / wMax[j]) : 1f;
        }
        used[0] = s;
        Graph.Builder b = g.toBuilder();
        String pw = p.input(1) + "/smoothed";
        String cw = c.input(1) + "/smoothed";
        b.initializer(pw, scaleOutput(p, wp, s));
        b.initializer(cw, scaleInput(c, wc, s));
        List<String> pin = new ArrayList<>(p.inputs());
        pin.set(1, pw);
        if (p.hasInput(2)) {
            String pb = p.input(2) + "/smoothed";
            float[] bias = g.initializers().get(p.input(2)).toFloatArray();
            for (int j = 0; j < channels; j++) {
                bias[j] /= s[j];
            }
            b.initializer(pb, Tensor.of(bias, g.initializers().get(p.input(2)).shape()));
            pin.set(2, pb);
        }
        List<String> cin = new ArrayList<>(c.inputs());
        cin.set(1, cw);
        b.nodes().clear();
        for (Node n : g.nodes()) {
            b.addNode(n == p ? p.withInputs(pin) : n == c ? c.withInputs(cin) : n);
        }
        return b.build();
    }

    /** Largest |w| of the consumer's weights per input channel, or null when the layout does not fit. */
    private static double[] inputColumnMax(Node c, Tensor w, int channels) {
        float[] v = w.toFloatArray();
        double[] m = new double[channels];
        int[] s = w.shape();
        if (c.op() == Op.Conv) {
            if (s[1] != channels) {
                return null;
            }
            int k = v.length / s[0] / s[1];
            for (int e = 0; e < v.length; e++) {
                int j = (e / k) % channels;
                m[j] = Math.max(m[j], Math.abs(v[e]));
            }
            return m;
        }
        boolean rowsAreInputs = !(c.op() == Op.Gemm && c.intAttr("transB") != 0);
        if ((rowsAreInputs ? s[0] : s[1]) != channels) {
            return null;
        }
        for (int e = 0; e < v.length; e++) {
            int j = rowsAreInputs ? e / s[1] : e % s[1];
            m[j] = Math.max(m[j], Math.abs(v[e]));
        }
        return m;
    }

    /** Producer weights with output channel j divided by s[j]. */
    private static Tensor scaleOutput(Node p, Tensor w, float[] s) {
        float[] v = w.toFloatArray();
        int[] sh = w.shape();
        if (p.op() == Op.Conv || p.op() == Op.Gemm && p.intAttr("transB") != 0) {
            int k = v.length / sh[0];
            for (int e = 0; e < v.length; e++) {
                v[e] /= s[e / k];
            }
        } else {
            for (int e = 0; e < v.length; e++) {
                v[e] /= s[e % sh[1]];
            }
        }
        return Tensor.of(v, sh);
    }

    /** Consumer weights with input channel j multiplied by s[j]. */
    private static Tensor scaleInput(Node c, Tensor w, float[] s) {
        float[] v = w.toFloatArray();
        int[] sh = w.shape();
        if (c.op() == Op.Conv) {
            int k = v.length / sh[0] / sh[1];
            for (int e = 0; e < v.length; e++) {
                v[e] *= s[(e / k) % sh[1]];
            }
        } else if (c.op() == Op.Gemm && c.intAttr("transB") != 0) {
            for (int e = 0; e < v.length; e++) {
                v[e] *= s[e % sh[1]];
            }
        } else {
            for (int e = 0; e < v.length; e++) {
                v[e] *= s[e / sh[1]];
            }
        }
        return Tensor.of(v, sh);
    }
}
