package dev.hedge.converter.quantize;

import dev.hedge.converter.Progress;
import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.eval.Tap;
import dev.hedge.converter.reconstruct.Blas;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.kernels.ref.quant.ConvShape;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Statistics of the rows each layer multiplies its weights with, over the calibration data: im2col rows for Conv
 * (so padding taps count as the zeros they read), rows of A for Gemm / MatMul, and for LSTM / GRU / RNN the input
 * steps (W) and the previous hidden states (R: initial_h, then the outputs Y but the last step). Per layer, per
 * weight input, per group (Conv groups, recurrent directions): the column means, for {@link BiasCorrection}, and
 * when asked the centred Gram matrix {@code E[(x - μ)(x - μ)ᵀ]}, for error-feedback rounding ({@link Gptq}).
 * Gathered by running the model with a tap on the layers, wherever they are (If/Loop bodies included).
 */
public final class InputStatistics {

    /** Layers whose rows are wider than this get no Gram matrix (it would be too large). */
    public static final int MAX_WIDTH = 2048;

    /**
     * One weight's input statistics, per group: column means ({@code mean[g][j]}) and the centred Gram matrix
     * (row-major {@code k x k}, upper triangle; null when not gathered).
     */
    public record Stats(double[][] mean, double[][] gram) {

        public int width() {
            return mean[0].length;
        }

        /**
         * {@code E[x xᵀ]} (the centred matrix plus {@code μ μᵀ}), for weights whose mean error no bias correction
         * will remove; null when the Gram matrix was not gathered.
         */
        public double[][] uncentredGram() {
            if (gram == null) {
                return null;
            }
            int k = width();
            double[][] u = new double[gram.length][];
            for (int g = 0; g < gram.length; g++) {
                u[g] = gram[g].clone();
                for (int i = 0; i < k; i++) {
                    for (int j = i; j < k; j++) {
                        u[g][i * k + j] += mean[g][i] * mean[g][j];
                    }
                }
            }
            return u;
        }
    }

    /** One weight's accumulated moments, per group. */
    private static final class Acc {
        final int k;
        final double[][] gram;
        final double[][] sum;
        long rows;

        Acc(int groups, int k, boolean gram) {
            this.k = k;
            this.gram = gram ? new double[groups][k * k] : null;
            this.sum = new double[groups][k];
        }

        void add(int group, double[] rows, int count) {
            if (gram != null) {
                Blas.addGram(rows, count, k, gram[group]);
            }
            double[] s = sum[group];
            for (int r = 0; r < count; r++) {
                for (int i = 0; i < k; i++) {
                    s[i] += rows[r * k + i];
                }
            }
        }

        Stats finish() {
            int groups = sum.length;
            double n = Math.max(1, rows);
            double[][] mean = new double[groups][k];
            double[][] c = gram == null ? null : new double[groups][k * k];
            for (int g = 0; g < groups; g++) {
                for (int i = 0; i < k; i++) {
                    mean[g][i] = sum[g][i] / n;
                }
                if (c != null) {
                    for (int i = 0; i < k; i++) {
                        for (int j = i; j < k; j++) {
                            c[g][i * k + j] = gram[g][i * k + j] / n - mean[g][i] * mean[g][j];
                        }
                    }
                }
            }
            return new Stats(mean, c);
        }
    }

    private InputStatistics() {
    }

    /** Whether the op is a recurrent layer (W and R weights, directions as groups). */
    static boolean recurrent(Op op) {
        return op == Op.LSTM || op == Op.GRU || op == Op.RNN;
    }

    /**
     * The width of the rows weight {@code which} of a layer is multiplied with, or -1 when it is not supported.
     */
    static int width(Node n, int which, Tensor w) {
        switch (n.op()) {
            case Conv: return w.elementCount() / w.dim(0);
            case MatMul: return w.rank() == 2 ? w.dim(0) : -1;
            case Gemm: return n.intAttr("transA") != 0 ? -1 : n.intAttr("transB") != 0 ? w.dim(1) : w.dim(0);
            case LSTM: case GRU: case RNN: return w.rank() == 3 ? w.dim(2) : -1;
            default: return -1;
        }
    }

    /**
     * @param gram layers (names) whose Gram matrices are wanted too (rows at most {@link #MAX_WIDTH} wide)
     * @return per layer name, per weight input of the layer ({@link Layer#weights()} order; null where not
     *     supported), the statistics; layers the data never reaches are absent
     */
    public static Map<String, List<Stats>> collect(ModelDef model, Dataset data, Map<String, Layer> layers,
            Set<String> gram, RuntimeOptions runtime, Progress progress) {
        Map<String, Acc[]> accs = new HashMap<>();
        Set<String> names = layers.keySet();
        Tap tap = new Tap(n -> names.contains(n.name()), (n, ctx) -> {
            Tensor x = ctx.input(0);
            if (x == null || x.dtype() != DType.FLOAT32) {
                return;
            }
            Layer l = layers.get(n.name());
            Acc[] a = accs.computeIfAbsent(n.name(), key -> new Acc[l.weights().size()]);
            if (recurrent(n.op())) {
                recurrentRows(n, ctx.input(1), ctx.input(2), x, ctx.input(4), ctx.input(5), ctx.output(0), a,
                        gram.contains(n.name()));
                return;
            }
            Tensor w = ctx.input(1);
            int k = w == null ? -1 : width(n, 0, w);
            if (k <= 0) {
                return;
            }
            boolean withGram = gram.contains(n.name()) && k <= MAX_WIDTH;
            float[] xv = x.toFloatArray();
            if (n.op() == Op.Conv) {
                ConvShape g = new ConvShape(n, x.shape(), w.shape());
                if (a[0] == null) {
                    a[0] = new Acc(g.groups, k, withGram);
                }
                int cg = g.channels / g.groups;
                double[] rows = new double[g.outSize() * k];
                for (int b = 0; b < g.batch; b++) {
                    for (int grp = 0; grp < g.groups; grp++) {
                        g.rows(xv, (b * g.channels + grp * cg) * g.inSize(), cg, rows);
                        a[0].add(grp, rows, g.outSize());
                    }
                }
                a[0].rows += (long) g.batch * g.outSize();
            } else {
                if (xv.length % k != 0) {
                    return;
                }
                if (a[0] == null) {
                    a[0] = new Acc(1, k, withGram);
                }
                int r = xv.length / k;
                double[] rows = new double[xv.length];
                for (int i = 0; i < xv.length; i++) {
                    rows[i] = xv[i];
                }
                a[0].add(0, rows, r);
                a[0].rows += r;
            }
        }, runtime);
        try (Model m = Model.of(model, tap.options()); Session s = m.newSession()) {
            data.run(s, (i, feed, out) -> progress.update("input statistics", i + 1, data.size()));
        }
        Map<String, List<Stats>> out = new HashMap<>();
        for (Map.Entry<String, Acc[]> e : accs.entrySet()) {
            List<Stats> l = new ArrayList<>();
            boolean any = false;
            for (Acc a : e.getValue()) {
                l.add(a == null || a.rows == 0 ? null : a.finish());
                any |= a != null && a.rows > 0;
            }
            if (any) {
                out.put(e.getKey(), l);
            }
        }
        return out;
    }

    /**
     * W's rows are the input steps (the same for every direction); R's are, per direction, the hidden state each
     * step starts from: initial_h (zeros when absent) and the outputs of every step but the direction's last.
     * Steps past a batch entry's sequence length are left out. R is skipped when Y is not available.
     */
    private static void recurrentRows(Node n, Tensor w, Tensor r, Tensor x, Tensor lens, Tensor h0, Tensor y,
            Acc[] a, boolean withGram) {
        if (w == null || r == null || w.rank() != 3 || r.rank() != 3 || x.rank() != 3) {
            return;
        }
        int dirs = w.dim(0);
        int in = w.dim(2);
        int hidden = r.dim(2);
        boolean layout1 = n.intAttr("layout") != 0;
        int seq = layout1 ? x.dim(1) : x.dim(0);
        int batch = layout1 ? x.dim(0) : x.dim(1);
        boolean reverse = n.stringAttr("direction").equals("reverse");
        if (x.dim(2) != in) {
            return;
        }
        int[] len = new int[batch];
        for (int b = 0; b < batch; b++) {
            len[b] = lens == null ? seq : (int) Math.max(0, Math.min(seq, lens.getLong(b)));
        }
        float[] xv = x.toFloatArray();
        if (a[0] == null) {
            a[0] = new Acc(dirs, in, withGram && in <= MAX_WIDTH);
        }
        double[] row = new double[in];
        long count = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < len[b]; t++) {
                int off = (layout1 ? b * seq + t : t * batch + b) * in;
                for (int i = 0; i < in; i++) {
                    row[i] = xv[off + i];
                }
                for (int d = 0; d < dirs; d++) {
                    a[0].add(d, row, 1);
                }
                count++;
            }
        }
        a[0].rows += count;
        boolean haveY = y != null && y.rank() == 4 && y.dtype() == DType.FLOAT32;
        if (!haveY && seq > 1 || h0 != null && h0.dtype() != DType.FLOAT32) {
            return;
        }
        if (a[1] == null) {
            a[1] = new Acc(dirs, hidden, withGram && hidden <= MAX_WIDTH);
        }
        float[] hv = h0 == null ? null : h0.toFloatArray();
        float[] yv = haveY ? y.toFloatArray() : null;
        double[] hr = new double[hidden];
        for (int d = 0; d < dirs; d++) {
            boolean backwards = reverse || d == 1;
            for (int b = 0; b < batch; b++) {
                if (len[b] == 0) {
                    continue;
                }
                // the first step reads initial_h; each later step the previous step's output
                for (int i = 0; i < hidden; i++) {
                    hr[i] = hv == null ? 0 : hv[(layout1 ? b * dirs + d : d * batch + b) * hidden + i];
                }
                a[1].add(d, hr, 1);
                for (int s = 0; s + 1 < len[b]; s++) {
                    int t = backwards ? len[b] - 1 - s : s;
                    int off = (layout1 ? (b * seq + t) * dirs + d : (t * dirs + d) * batch + b) * hidden;
                    for (int i = 0; i < hidden; i++) {
                        hr[i] = yv[off + i];
                    }
                    a[1].add(d, hr, 1);
                }
            }
        }
        long steps = 0;
        for (int b = 0; b < batch; b++) {
            steps += len[b];
        }
        a[1].rows += steps;
    }
}
