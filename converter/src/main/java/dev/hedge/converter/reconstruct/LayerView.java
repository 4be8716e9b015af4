package dev.hedge.converter.reconstruct;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Conv / Gemm / MatMul seen as a linear map on rows: output {@code y[row, o] = sum_k x[row, k] * w[o, k] + b[o]}
 * per group. For Conv a row is one output position's receptive field (im2col, in the weight's
 * {@code [C/g, k...]} order); for Gemm a row of A (of Aᵀ with transA) with {@code w = alpha * B'ᵀ} and
 * {@code b = beta * C}; for MatMul a row of A flattened to 2-D (no bias).
 */
final class LayerView {

    final Node node;
    final int groups;
    final int k;
    final int outPerGroup;
    final boolean hasBias;
    final int rows;
    private final int[] in;
    // Conv geometry (spatial rank s): input dims, kernel, output dims, strides, dilations, begin pads
    private int[] inSp;
    private int[] kSp;
    private int[] outSp;
    private int[] stride;
    private int[] dil;
    private int[] pad;
    private int outPositions;

    private LayerView(Node node, int groups, int k, int outPerGroup, boolean hasBias, int rows, int[] in) {
        this.node = node;
        this.groups = groups;
        this.k = k;
        this.outPerGroup = outPerGroup;
        this.hasBias = hasBias;
        this.rows = rows;
        this.in = in;
    }

    /** The view of {@code n} for a data input of shape {@code in}, or a reason it has none (String). */
    static Object of(Graph g, Node n, int[] in) {
        Tensor w = n.hasInput(1) ? g.initializers().get(n.input(1)) : null;
        if (w == null || w.isEncoded() || !w.dtype().isFloat()) {
            return "weights are not a dense float constant";
        }
        if (n.hasInput(2) && !g.initializers().containsKey(n.input(2))) {
            return "bias is not a constant";
        }
        int[] ws = w.shape();
        switch (n.op()) {
            case Conv: {
                int sp = ws.length - 2;
                if (in.length != ws.length) {
                    return "input rank " + in.length + " does not match the weights";
                }
                int group = (int) n.intAttr("group");
                int kk = 1;
                for (int d = 1; d < ws.length; d++) {
                    kk *= ws[d];
                }
                if (n.hasInput(2) && g.initializers().get(n.input(2)).elementCount() != ws[0]) {
                    return "bias is not per channel";
                }
                int[] strides = ints(n.intsAttr("strides"), sp, 1);
                int[] dils = ints(n.intsAttr("dilations"), sp, 1);
                int[] pads = ints(n.intsAttr("pads"), 2 * sp, 0);
                String autoPad = n.stringAttr("auto_pad");
                int[] outSp = new int[sp];
                int[] begin = new int[sp];
                int positions = 1;
                for (int d = 0; d < sp; d++) {
                    int size = in[2 + d];
                    int ext = dils[d] * (ws[2 + d] - 1) + 1;
                    if (autoPad == null || autoPad.equals("NOTSET") || autoPad.equals("VALID")) {
                        boolean valid = "VALID".equals(autoPad);
                        int pb = valid ? 0 : pads[d];
                        int pe = valid ? 0 : pads[sp + d];
                        outSp[d] = Math.floorDiv(size + pb + pe - ext, strides[d]) + 1;
                        begin[d] = pb;
                    } else {
                        outSp[d] = (size + strides[d] - 1) / strides[d];
                        int total = Math.max(0, (outSp[d] - 1) * strides[d] + ext - size);
                        begin[d] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    }
                    positions *= outSp[d];
                }
                LayerView v = new LayerView(n, group, kk, ws[0] / group, true, in[0] * positions, in);
                v.inSp = Arrays.copyOfRange(in, 2, in.length);
                v.kSp = Arrays.copyOfRange(ws, 2, ws.length);
                v.outSp = outSp;
                v.stride = strides;
                v.dil = dils;
                v.pad = begin;
                v.outPositions = positions;
                return v;
            }
            case Gemm: {
                boolean transA = n.intAttr("transA") != 0;
                if (in.length != 2 || ws.length != 2) {
                    return "Gemm operands are not 2-D";
                }
                int kk = transA ? in[0] : in[1];
                int outs = n.intAttr("transB") != 0 ? ws[0] : ws[1];
                if (n.hasInput(2)) {
                    Tensor c = g.initializers().get(n.input(2));
                    if (c.elementCount() != 1 && c.elementCount() != outs) {
                        return "C is neither a scalar nor one value per output";
                    }
                }
                return new LayerView(n, 1, kk, outs, true, transA ? in[1] : in[0], in);
            }
            case MatMul: {
                if (ws.length != 2 || in.length < 1) {
                    return "MatMul weights are not 2-D";
                }
                int r = 1;
                for (int d = 0; d < in.length - 1; d++) {
                    r *= in[d];
                }
                return new LayerView(n, 1, ws[0], ws[1], false, r, in);
            }
            default:
                return n.op() + " is not refit";
        }
    }

    private static int[] ints(long[] v, int n, int dflt) {
        int[] r = new int[n];
        Arrays.fill(r, dflt);
        for (int i = 0; v != null && i < n && i < v.length; i++) {
            r[i] = (int) v[i];
        }
        return r;
    }

    int outputs() {
        return groups * outPerGroup;
    }

    /** Columns of a row: k, plus 1 for the constant 1 of the bias. */
    int width() {
        return k + (hasBias ? 1 : 0);
    }

    /**
     * Rows {@code [r0, r1)} of group {@code gi} into {@code out} ({@code (r1-r0) x width()}), the bias column last.
     */
    void rows(Tensor x, int gi, int r0, int r1, double[] out) {
        int w = width();
        switch (node.op()) {
            case Conv:
                convRows(x, gi, r0, r1, out);
                break;
            case Gemm: {
                boolean transA = node.intAttr("transA") != 0;
                for (int r = r0; r < r1; r++) {
                    for (int j = 0; j < k; j++) {
                        out[(r - r0) * w + j] = x.getDouble(transA ? j * in[1] + r : r * in[1] + j);
                    }
                }
                break;
            }
            default:
                for (int r = r0; r < r1; r++) {
                    for (int j = 0; j < k; j++) {
                        out[(r - r0) * w + j] = x.getDouble(r * k + j);
                    }
                }
        }
        if (hasBias) {
            for (int r = r0; r < r1; r++) {
                out[(r - r0) * w + k] = 1;
            }
        }
    }

    private void convRows(Tensor x, int gi, int r0, int r1, double[] out) {
        int sp = kSp.length;
        int cg = in[1] / groups;
        int kernel = k / cg;
        int inPlane = 1;
        for (int d : inSp) {
            inPlane *= d;
        }
        int w = width();
        int[] o = new int[sp];
        int[] kk = new int[sp];
        for (int r = r0; r < r1; r++) {
            int nIdx = r / outPositions;
            int pos = r % outPositions;
            for (int d = sp - 1; d >= 0; d--) {
                o[d] = pos % outSp[d];
                pos /= outSp[d];
            }
            int base = (r - r0) * w;
            for (int kp = 0; kp < kernel; kp++) {
                int rem = kp;
                for (int d = sp - 1; d >= 0; d--) {
                    kk[d] = rem % kSp[d];
                    rem /= kSp[d];
                }
                int off = 0;
                boolean inside = true;
                for (int d = 0; d < sp && inside; d++) {
                    int p = o[d] * stride[d] - pad[d] + kk[d] * dil[d];
                    inside = p >= 0 && p < inSp[d];
                    off = off * inSp[d] + p;
                }
                for (int c = 0; c < cg; c++) {
                    double v = 0;
                    if (inside) {
                        v = x.getDouble((nIdx * in[1] + gi * cg + c) * inPlane + off);
                    }
                    out[base + c * kernel + kp] = v;
                }
            }
        }
    }

    /** Weights as {@code [outputs][k]}, out-major (for Gemm scaled by alpha). */
    double[] weights(Graph g) {
        return weights(g.initializers().get(node.input(1)));
    }

    /** A weight tensor in this layer's layout as {@code [outputs][k]}, out-major (for Gemm scaled by alpha). */
    double[] weights(Tensor t) {
        if (t.elementCount() != outputs() * k || t.isEncoded()) {
            throw new IllegalArgumentException(node.describe() + ": weights " + t + " do not fit the layer ("
                    + outputs() + " x " + k + ", dense)");
        }
        double[] w = new double[outputs() * k];
        switch (node.op()) {
            case Gemm: {
                double alpha = node.floatAttr("alpha");
                boolean transB = node.intAttr("transB") != 0;
                for (int o = 0; o < outPerGroup; o++) {
                    for (int j = 0; j < k; j++) {
                        w[o * k + j] = alpha * t.getDouble(transB ? o * k + j : j * outPerGroup + o);
                    }
                }
                return w;
            }
            case MatMul:
                for (int o = 0; o < outPerGroup; o++) {
                    for (int j = 0; j < k; j++) {
                        w[o * k + j] = t.getDouble(j * outPerGroup + o);
                    }
                }
                return w;
            default:
                for (int i = 0; i < w.length; i++) {
                    w[i] = t.getDouble(i);
                }
                return w;
        }
    }

    /** Bias per output (for Gemm {@code beta * C}); zeros when absent. */
    double[] bias(Graph g) {
        double[] b = new double[outputs()];
        if (!node.hasInput(2)) {
            return b;
        }
        Tensor t = g.initializers().get(node.input(2));
        double scale = node.op() == Op.Gemm ? node.floatAttr("beta") : 1;
        for (int o = 0; o < b.length; o++) {
            b[o] = scale * t.getDouble(t.elementCount() == 1 ? 0 : o);
        }
        return b;
    }

    /** The weight tensor for out-major {@code w}, in the layer's own layout and dtype. */
    Tensor weightTensor(Graph g, double[] w) {
        Tensor old = g.initializers().get(node.input(1));
        Tensor t = Tensor.allocate(old.dtype(), old.shape());
        switch (node.op()) {
            case Gemm: {
                double alpha = node.floatAttr("alpha");
                boolean transB = node.intAttr("transB") != 0;
                for (int o = 0; o < outPerGroup; o++) {
                    for (int j = 0; j < k; j++) {
                        t.setDouble(transB ? o * k + j : j * outPerGroup + o, w[o * k + j] / alpha);
                    }
                }
                break;
            }
            case MatMul:
                for (int o = 0; o < outPerGroup; o++) {
                    for (int j = 0; j < k; j++) {
                        t.setDouble(j * outPerGroup + o, w[o * k + j]);
                    }
                }
                break;
            default:
                for (int i = 0; i < w.length; i++) {
                    t.setDouble(i, w[i]);
                }
        }
        return t;
    }

    /**
     * {@code g} with this layer's weights replaced by {@code weight} and, when it has a bias, the bias by {@code b}
     * (a new per-output constant; Gemm gets {@code beta = 1}). Constants read by other nodes are left alone.
     */
    Graph write(Graph g, Tensor weight, double[] b) {
        Graph.Builder gb = g.toBuilder();
        List<String> inputs = new ArrayList<>(node.inputs());
        inputs.set(1, own(g, gb, node.input(1), weight));
        Node m = node;
        if (hasBias) {
            DType dt = weight.dtype();
            Tensor bt = Tensor.allocate(dt, outputs());
            for (int o = 0; o < b.length; o++) {
                bt.setDouble(o, b[o]);
            }
            while (inputs.size() < 3) {
                inputs.add("");
            }
            String name = node.hasInput(2) ? node.input(2) : fresh(g, node.name() + "/bias");
            inputs.set(2, own(g, gb, name, bt));
            if (node.op() == Op.Gemm) {
                m = m.withAttr("beta", new Attr.Float(1f));
            }
        }
        m = m.withInputs(inputs);
        gb.nodes().set(gb.nodes().indexOf(node), m);
        return gb.build();
    }

    /** Stores {@code t} under {@code name}, or under a fresh name if another node reads {@code name}. */
    private String own(Graph g, Graph.Builder gb, String name, Tensor t) {
        int readers = 0;
        for (Node n : g.nodes()) {
            if (Graph.nodeReads(n).contains(name)) {
                readers++;
            }
        }
        if (readers > 1 || g.outputNames().contains(name)) {
            name = fresh(g, name + "/refit");
        }
        gb.initializer(name, t);
        return name;
    }

    private static String fresh(Graph g, String hint) {
        java.util.Set<String> used = new java.util.HashSet<>(g.initializers().keySet());
        used.addAll(g.inputNames());
        for (Node n : g.nodes()) {
            used.addAll(n.inputs());
            used.addAll(n.outputs());
        }
        String s = hint;
        for (int i = 1; used.contains(s); i++) {
            s = hint + "_" + i;
        }
        return s;
    }
}
