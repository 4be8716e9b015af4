package dev.hedge.converter.passes;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds an inference BatchNormalization into the Conv, ConvTranspose or Gemm before it:
 * {@code y = s * (x - mean) + b} with {@code s = scale / sqrt(var + epsilon)} per output channel scales
 * the producer's weights and becomes its bias. Only when the producer's output is read by the
 * BatchNormalization alone (and is not a graph output), the producer has no fused activation, and the
 * weights, bias and the normalization's parameters are constants. New weights get new names, so
 * weights shared with other nodes are left alone.
 */
public final class BatchNormFolding implements GraphPass {

    @Override
    public String name() {
        return "batchnorm-folding";
    }

    @Override
    public Result run(Graph g) {
        Changes changes = new Changes();
        Graph cur = changes.inSubgraphs(g, sub -> run(sub));
        boolean again = true;
        while (again) {
            again = false;
            Map<String, Integer> reads = Graphs.readCounts(cur);
            Map<String, Node> producers = cur.producers();
            for (Node bn : cur.nodes()) {
                if (bn.op() != Op.BatchNormalization) {
                    continue;
                }
                Node p = producers.get(bn.input(0));
                if (p == null || reads.getOrDefault(bn.input(0), 0) != 1 || Graphs.isOutput(cur, bn.input(0))) {
                    continue;
                }
                Graph next = fold(cur, p, bn);
                if (next != null) {
                    cur = next;
                    changes.add(p.op().name());
                    again = true;
                    break;
                }
            }
        }
        return new Result(cur, changes.asMap());
    }

    @Override
    public String note(Map<String, Integer> changes) {
        if (changes.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("folded ");
        boolean first = true;
        for (Map.Entry<String, Integer> e : changes.entrySet()) {
            sb.append(first ? e.getValue() + " BatchNormalization into " : ", " + e.getValue() + " into ")
                    .append(e.getKey());
            first = false;
        }
        return sb.toString();
    }

    private static Graph fold(Graph g, Node p, Node bn) {
        if (!Set.of(Op.Conv, Op.ConvTranspose, Op.Gemm).contains(p.op()) || p.outputs().size() != 1
                || !p.stringAttr("fused_activation").isEmpty()) {
            return null;
        }
        if (bn.outputs().size() != 1 || bn.intAttr("training_mode") != 0) {
            return null;
        }
        double[] scale = Graphs.floatConstant(g, bn.input(1));
        double[] bias = Graphs.floatConstant(g, bn.input(2));
        double[] mean = Graphs.floatConstant(g, bn.input(3));
        double[] var = Graphs.floatConstant(g, bn.input(4));
        Tensor w = g.initializers().get(p.input(1));
        if (scale == null || bias == null || mean == null || var == null || w == null || w.isEncoded()
                || !w.dtype().isFloat()) {
            return null;
        }
        int channels = scale.length;
        if (bias.length != channels || mean.length != channels || var.length != channels) {
            return null;
        }
        double eps = bn.floatAttr("epsilon");
        double[] s = new double[channels];
        double[] shift = new double[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = scale[c] / Math.sqrt(var[c] + eps);
            shift[c] = bias[c] - mean[c] * s[c];
        }
        switch (p.op()) {
            case Conv:
            case ConvTranspose:
                return foldConv(g, p, bn, w, s, shift);
            case Gemm:
                return foldGemm(g, p, bn, w, s, shift);
            default:
                return null;
        }
    }

    /** Conv weights [M, C/g, k...]; ConvTranspose weights [C, M/g, k...] with output channel g*(M/g)+j. */
    private static Graph foldConv(Graph g, Node p, Node bn, Tensor w, double[] s, double[] shift) {
        int[] ws = w.shape();
        if (ws.length < 3) {
            return null;
        }
        boolean transpose = p.op() == Op.ConvTranspose;
        int group = (int) p.intAttr("group");
        int outChannels = transpose ? ws[1] * group : ws[0];
        if (outChannels != s.length || group < 1 || transpose && ws[0] % group != 0) {
            return null;
        }
        int inner = 1;
        for (int d = 2; d < ws.length; d++) {
            inner *= ws[d];
        }
        double[] wv = w.toDoubleArray();
        int perGroupIn = transpose ? ws[0] / group : 0;
        for (int i = 0; i < wv.length; i++) {
            int a = i / (ws[1] * inner);
            int b = (i / inner) % ws[1];
            int oc = transpose ? (a / perGroupIn) * ws[1] + b : a;
            wv[i] *= s[oc];
        }
        double[] bv = bias(g, p, outChannels);
        if (bv == null) {
            return null;
        }
        for (int c = 0; c < outChannels; c++) {
            bv[c] = bv[c] * s[c] + shift[c];
        }
        return rewrite(g, p, bn, Graphs.tensor(w.dtype(), ws, wv),
                Graphs.tensor(w.dtype(), new int[] {outChannels}, bv), p.attrs());
    }

    /**
     * Gemm {@code alpha * A' B' + beta * C} with N output features: column n of B' is scaled by s[n], and
     * the new C (beta 1) is {@code beta * C * s + shift}; C must be a constant of shape [], [1], [N] or [1, N].
     */
    private static Graph foldGemm(Graph g, Node p, Node bn, Tensor w, double[] s, double[] shift) {
        int[] ws = w.shape();
        boolean transB = p.intAttr("transB") != 0;
        if (ws.length != 2 || (transB ? ws[0] : ws[1]) != s.length) {
            return null;
        }
        int n = s.length;
        double[] wv = w.toDoubleArray();
        for (int i = 0; i < wv.length; i++) {
            int col = transB ? i / ws[1] : i % ws[1];
            wv[i] *= s[col];
        }
        double[] c = bias(g, p, n);
        if (c == null) {
            return null;
        }
        double beta = p.floatAttr("beta");
        for (int j = 0; j < n; j++) {
            c[j] = beta * c[j] * s[j] + shift[j];
        }
        Map<String, Attr> attrs = new java.util.LinkedHashMap<>(p.attrs());
        attrs.put("beta", new Attr.Float(1f));
        return rewrite(g, p, bn, Graphs.tensor(w.dtype(), ws, wv), Graphs.tensor(w.dtype(), new int[] {n}, c), attrs);
    }

    /** The producer's bias (input 2) broadcast to {@code n} channels, zeros when absent; null if not foldable. */
    private static double[] bias(Graph g, Node p, int n) {
        if (!p.hasInput(2)) {
            return new double[n];
        }
        Tensor t = g.initializers().get(p.input(2));
        double[] v = Graphs.floatConstant(g, p.input(2));
        if (v == null) {
            return null;
        }
        int[] shape = t.shape();
        boolean perChannel = v.length == n && (shape.length == 1 || shape.length == 2 && shape[0] == 1);
        if (v.length == 1 && shape.length <= 2) {
            double[] b = new double[n];
            java.util.Arrays.fill(b, v[0]);
            return b;
        }
        return perChannel ? v : null;
    }

    private static Graph rewrite(Graph g, Node p, Node bn, Tensor w, Tensor b, Map<String, Attr> attrs) {
        String wName = Graphs.freshName(g, p.input(1) + "/bn_folded");
        String bName = Graphs.freshName(g, (p.hasInput(2) ? p.input(2) : p.name() + "/bias") + "/bn_folded");
        if (bName.equals(wName)) {
            bName = wName + "_bias";
        }
        List<String> inputs = new ArrayList<>(List.of(p.input(0), wName, bName));
        Node folded = new Node(p.name(), p.op(), inputs, List.of(bn.output(0)), attrs);
        Graph.Builder b2 = Graphs.replace(g, p, folded, Set.of(bn)).toBuilder();
        b2.initializer(wName, w);
        b2.initializer(bName, b);
        b2.valueInfos().remove(p.output(0));
        return b2.build();
    }
}
