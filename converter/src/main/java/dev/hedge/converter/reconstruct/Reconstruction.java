package dev.hedge.converter.reconstruct;

import dev.hedge.converter.prune.PrunableLayer;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Training-free distillation: refits the weights and bias of the compressed model's layers by least squares
 * so that each layer's outputs on calibration data match the original model's (the teacher's).
 *
 * <p>Layers are taken one by one in graph order. For layer L (a Conv, Gemm or MatMul with constant weights,
 * present under the same node name in both graphs) the calibration batches are run through the
 * <em>already refit</em> compressed model to get L's inputs X (im2col rows for Conv, plus a column of ones for
 * the bias), and through the teacher to get L's inputs there, from which the teacher's pre-activation outputs
 * Y are computed with the teacher's weights. Then, per output channel o with kept weights m (the non-zero
 * weights of the compressed layer; the bias is always free),
 * <pre>  (X_mᵀ X_m + λ I) w = X_mᵀ y_o + λ w0</pre>
 * is solved by Cholesky (LAPACK {@code dposv} via OpenBLAS), where w0 is the layer's current weights: the ridge
 * term pulls towards them rather than towards 0, which keeps under-determined layers (fewer samples than
 * inputs) where they were. {@code λ = damping * trace(XᵀX) / columns}. Pruned weights stay exactly 0.
 *
 * <p>A {@link WeightTransform} (e.g. quantize-dequantize) can then be applied to the refit weights; the bias is
 * re-solved for the transformed weights ({@code b = mean(y - X w)}, the least-squares optimum given w).
 *
 * <p>Errors are reported per layer on the calibration rows as the relative squared error
 * {@code sum (Xw + b - y)^2 / sum y^2} of the compressed layer before and after the refit, both on the compressed
 * model's own inputs. ConvTranspose and layers inside subgraphs are not refit.
 */
public final class Reconstruction {

    /** Turns refit float weights into the weights the layer will really have (e.g. quantize-dequantize). */
    @FunctionalInterface
    public interface WeightTransform {
        /** {@code weight} in the layer's layout and dtype; returns a tensor of the same shape. */
        Tensor apply(Node layer, Tensor weight);
    }

    /**
     * Rounds the weights of one output channel to a grid (e.g. int8 with a per-channel scale), for GPTQ-style
     * quantization with error feedback.
     */
    @FunctionalInterface
    public interface RowQuantizer {
        /**
         * The rounding function of output {@code out} of {@code layer}, given that output's refit weights
         * (out-major, Gemm weights scaled by alpha): maps a weight to its dequantized grid value; must map 0 to 0.
         */
        java.util.function.DoubleUnaryOperator grid(Node layer, int out, double[] weights);
    }

    /**
     * @param damping ridge strength relative to the mean diagonal of XᵀX
     * @param layers node names to refit; empty: every layer that changed or whose inputs changed
     * @param outputChannels for layers whose output channels were pruned (structured pruning), the teacher's
     *     channel index of each remaining output channel ({@code ChannelPruning.Result.keptChannels()})
     * @param transform applied after the solve (null: none)
     * @param rowsPerChunk rows of X materialised at once
     * @param obsMask re-choose which weights each output keeps (same count per output) by the Optimal Brain
     *     Surgeon saliency {@code w² / [(XᵀX + λI)⁻¹]_jj} of the teacher's weights on the compressed model's
     *     inputs, instead of keeping the compressed layer's zeros; for element-wise unstructured pruning only
     *     (it does not keep N:M or block patterns), and only where teacher and student layers have one shape
     * @param gptq after the refit, quantize weight by weight along the input axis, spreading each rounding
     *     error over the not-yet-quantized weights of the same output with the inverse Hessian of the (centred)
     *     inputs (GPTQ); pruned weights stay 0; the bias is then re-solved. Applied before {@code transform}.
     */
    public record Options(double damping, Set<String> layers, Map<String, int[]> outputChannels,
            WeightTransform transform, RuntimeOptions runtime, int rowsPerChunk, boolean obsMask, RowQuantizer gptq) {

        public Options {
            layers = Set.copyOf(layers);
            outputChannels = Map.copyOf(outputChannels);
            if (!(damping > 0)) {
                throw new IllegalArgumentException("reconstruction damping must be > 0, got " + damping);
            }
            if (rowsPerChunk < 1) {
                throw new IllegalArgumentException("rowsPerChunk must be >= 1");
            }
        }

        public static Options defaults() {
            return new Options(0.01, Set.of(), Map.of(), null, RuntimeOptions.reference(), 4096, false, null);
        }

        public Options withDamping(double d) {
            return new Options(d, layers, outputChannels, transform, runtime, rowsPerChunk, obsMask, gptq);
        }

        public Options withLayers(Set<String> l) {
            return new Options(damping, l, outputChannels, transform, runtime, rowsPerChunk, obsMask, gptq);
        }

        public Options withOutputChannels(Map<String, int[]> m) {
            return new Options(damping, layers, m, transform, runtime, rowsPerChunk, obsMask, gptq);
        }

        public Options withTransform(WeightTransform t) {
            return new Options(damping, layers, outputChannels, t, runtime, rowsPerChunk, obsMask, gptq);
        }

        public Options withGptq(RowQuantizer q) {
            return new Options(damping, layers, outputChannels, transform, runtime, rowsPerChunk, obsMask, q);
        }

        public Options withObsMask(boolean b) {
            return new Options(damping, layers, outputChannels, transform, runtime, rowsPerChunk, b, gptq);
        }

        public Options withRuntime(RuntimeOptions r) {
            return new Options(damping, layers, outputChannels, transform, r, rowsPerChunk, obsMask, gptq);
        }
    }

    /**
     * One layer: calibration rows used, relative squared error of its outputs against the teacher's before and
     * after the refit (NaN when it was not refit), and a note.
     */
    public record LayerError(String node, Op op, long rows, double relErrorBefore, double relErrorAfter,
            String note) {

        /** Signal-to-quantization-noise ratio in dB before the refit: {@code -10 log10(relErrorBefore)}. */
        public double sqnrBefore() {
            return -10 * Math.log10(relErrorBefore);
        }

        public double sqnrAfter() {
            return -10 * Math.log10(relErrorAfter);
        }
    }

    /** The refit graph and one entry per layer considered, in graph order. */
    public record Result(Graph graph, List<LayerError> layers) {
    }

    private Reconstruction() {
    }

    /**
     * @param teacher the original model's main graph
     * @param student the compressed graph (same node names for the layers)
     * @param calibration input batches (every graph input, batch dimension first)
     */
    public static Result reconstruct(Graph teacher, Graph student, List<Map<String, Tensor>> calibration,
            Options o) {
        if (calibration.isEmpty()) {
            throw new IllegalArgumentException("reconstruction needs calibration data; got no batches");
        }
        Map<String, Node> teacherNodes = new LinkedHashMap<>();
        for (Node n : teacher.nodes()) {
            teacherNodes.put(n.name(), n);
        }
        for (String name : o.layers()) {
            boolean found = student.nodes().stream().anyMatch(n -> n.name().equals(name));
            if (!found) {
                throw new IllegalArgumentException("reconstruction layer '" + name + "' is not a node of the graph");
            }
        }
        List<LayerError> errors = new ArrayList<>();
        Graph cur = student;
        boolean upstreamChanged = false;
        for (Node n : student.topologicalOrder()) {
            if (PrunableLayer.of(student, n) == null) {
                upstreamChanged |= differs(teacher, teacherNodes.get(n.name()), student, n);
                continue;
            }
            Node t = teacherNodes.get(n.name());
            boolean changed = t == null || differs(teacher, t, student, n);
            boolean wanted = o.layers().isEmpty() ? changed || upstreamChanged : o.layers().contains(n.name());
            upstreamChanged |= changed;
            if (!wanted) {
                continue;
            }
            if (t == null || PrunableLayer.of(teacher, t) == null) {
                errors.add(new LayerError(n.name(), n.op(), 0, Double.NaN, Double.NaN,
                        "not refit: the original model has no such layer"));
                continue;
            }
            Node current = find(cur, n.name());
            LayerFit fit = new LayerFit(teacher, t, cur, current, calibration, o);
            errors.add(fit.error);
            cur = fit.graph;
        }
        return new Result(cur, errors);
    }

    private static Node find(Graph g, String name) {
        for (Node n : g.nodes()) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        throw new IllegalStateException("node '" + name + "' vanished");
    }

    /** Whether a node computes something else in the student than in the teacher (op, inputs' constants). */
    private static boolean differs(Graph teacher, Node t, Graph student, Node s) {
        if (t == null || t.op() != s.op() || !t.attrs().keySet().equals(s.attrs().keySet())) {
            return true;
        }
        for (int i = 0; i < Math.max(t.inputs().size(), s.inputs().size()); i++) {
            Tensor a = t.hasInput(i) ? teacher.initializers().get(t.input(i)) : null;
            Tensor b = s.hasInput(i) ? student.initializers().get(s.input(i)) : null;
            if ((a == null) != (b == null) || a != null && !sameValues(a, b)) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameValues(Tensor a, Tensor b) {
        if (a == b) {
            return true;
        }
        if (a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape()) || a.isEncoded() || b.isEncoded()
                || a.quant() != b.quant()) {
            return false;
        }
        return a.data().duplicate().clear().equals(b.data().duplicate().clear());
    }

    /** Runs the ancestors of one value for a list of batches. */
    static final class Probe implements AutoCloseable {
        private final Model model;
        private final Session session;

        Probe(Graph g, String value, RuntimeOptions runtime) {
            this.model = Model.of(new ModelDef(upTo(g, value), Map.of()), runtime);
            this.session = model.newSession();
        }

        /** The value for one batch (a copy). */
        Tensor run(Map<String, Tensor> batch) {
            return session.run(batch).values().iterator().next().copy();
        }

        @Override
        public void close() {
            session.close();
            model.close();
        }
    }

    /** The part of {@code g} that computes {@code value}, with {@code value} as its only output. */
    static Graph upTo(Graph g, String value) {
        Map<String, Node> prod = g.producers();
        Set<Node> need = new HashSet<>();
        List<String> todo = new ArrayList<>(List.of(value));
        while (!todo.isEmpty()) {
            Node p = prod.get(todo.remove(todo.size() - 1));
            if (p != null && need.add(p)) {
                todo.addAll(Graph.nodeReads(p));
            }
        }
        Graph.Builder b = g.toBuilder();
        b.nodes().removeIf(n -> !need.contains(n));
        b.outputs().clear();
        b.addOutput(new ValueInfo(value, null, null));
        return b.build();
    }

    /** Accumulates the normal equations of one layer over the calibration data, solves them, writes back. */
    private static final class LayerFit {
        Graph graph;
        LayerError error;

        LayerFit(Graph teacher, Node t, Graph student, Node s, List<Map<String, Tensor>> calibration, Options o) {
            graph = student;
            Accumulator acc = null;
            String reason = null;
            try (Probe ts = new Probe(teacher, t.input(0), o.runtime());
                    Probe ss = new Probe(student, s.input(0), o.runtime())) {
                for (Map<String, Tensor> batch : calibration) {
                    Tensor xt = ts.run(batch);
                    Tensor xs = ss.run(batch);
                    Object tv = LayerView.of(teacher, t, xt.shape());
                    Object sv = LayerView.of(student, s, xs.shape());
                    if (tv instanceof String r) {
                        reason = r;
                        break;
                    }
                    if (sv instanceof String r) {
                        reason = r;
                        break;
                    }
                    LayerView tl = (LayerView) tv;
                    LayerView sl = (LayerView) sv;
                    if (acc == null) {
                        int[] map = o.outputChannels().get(s.name());
                        reason = compatible(tl, sl, map);
                        if (reason != null) {
                            break;
                        }
                        acc = new Accumulator(teacher, tl, student, sl, map, o.rowsPerChunk());
                    }
                    acc.add(xt, tl, xs, sl);
                }
            }
            if (reason != null) {
                error = new LayerError(s.name(), s.op(), 0, Double.NaN, Double.NaN, "not refit: " + reason);
                return;
            }
            acc.solve(o);
            if (o.gptq() != null) {
                acc.afterTransform(acc.gptq(o.gptq(), o.damping()));
                acc.note = "refit, GPTQ-quantized, bias re-solved";
            }
            Tensor weight = acc.sl.weightTensor(student, acc.newW);
            if (o.transform() != null) {
                weight = o.transform().apply(s, weight);
                acc.afterTransform(acc.sl.weights(weight));
            }
            error = new LayerError(s.name(), s.op(), acc.rows, acc.errBefore, acc.errAfter, acc.note);
            graph = acc.sl.write(student, weight, acc.newB);
        }

        private static String compatible(LayerView t, LayerView s, int[] map) {
            if (t.rows != s.rows) {
                return "the original layer sees " + t.rows + " rows per batch, the compressed one " + s.rows;
            }
            if (map == null && t.outputs() != s.outputs()) {
                return "output channels differ (" + t.outputs() + " vs " + s.outputs() + ") and no channel map was given";
            }
            if (map != null && map.length != s.outputs()) {
                return "channel map has " + map.length + " entries for " + s.outputs() + " outputs";
            }
            if (s.groups > 1 && t.groups != s.groups && map == null) {
                return "grouping differs";
            }
            return null;
        }
    }

    /** Per group: XᵀX, Xᵀ Y and yᵀy of the compressed layer's rows against the teacher's outputs. */
    private static final class Accumulator {
        final LayerView sl;
        final int[] map;
        final int chunk;
        final double[] tw;
        final double[] tb;
        final double[] sw;
        final double[] sb;
        final double[][] gram;
        final double[][] cross;
        final double[] yy;
        long rows;
        double errBefore;
        double errAfter;
        String note = "refit";
        double[] newW;
        double[] newB;

        Accumulator(Graph teacher, LayerView tl, Graph student, LayerView sl, int[] map, int chunk) {
            this.sl = sl;
            this.map = map;
            this.chunk = chunk;
            this.tw = tl.weights(teacher);
            this.tb = tl.bias(teacher);
            this.sw = sl.weights(student);
            this.sb = sl.bias(student);
            int w = sl.width();
            gram = new double[sl.groups][w * w];
            cross = new double[sl.groups][w * sl.outPerGroup];
            yy = new double[sl.outputs()];
        }

        int teacherChannel(int o) {
            return map == null ? o : map[o];
        }

        void add(Tensor xt, LayerView tl, Tensor xs, LayerView sl) {
            int w = sl.width();
            int tk = tl.width();
            int mg = sl.outPerGroup;
            double[] xsb = new double[chunk * w];
            double[] xtb = new double[chunk * tk];
            double[] tOut = new double[chunk * tl.outPerGroup];
            double[] y = new double[chunk * mg];
            double[] twg = new double[tl.outPerGroup * tk];
            for (int r0 = 0; r0 < sl.rows; r0 += chunk) {
                int r1 = Math.min(sl.rows, r0 + chunk);
                int n = r1 - r0;
                // teacher outputs for the columns of each student group, computed per teacher group needed
                for (int gi = 0; gi < sl.groups; gi++) {
                    sl.rows(xs, gi, r0, r1, xsb);
                    int lastTg = -1;
                    for (int j = 0; j < mg; j++) {
                        int tc = teacherChannel(gi * mg + j);
                        int tg = tc / tl.outPerGroup;
                        if (tg != lastTg) {
                            tl.rows(xt, tg, r0, r1, xtb);
                            for (int oo = 0; oo < tl.outPerGroup; oo++) {
                                int src = (tg * tl.outPerGroup + oo) * tl.k;
                                System.arraycopy(tw, src, twg, oo * tk, tl.k);
                                if (tl.hasBias) {
                                    twg[oo * tk + tl.k] = tb[tg * tl.outPerGroup + oo];
                                }
                            }
                            Blas.timesTransposed(xtb, twg, n, tk, tl.outPerGroup, tOut);
                            lastTg = tg;
                        }
                        int col = tc - tg * tl.outPerGroup;
                        double s2 = 0;
                        for (int r = 0; r < n; r++) {
                            double v = tOut[r * tl.outPerGroup + col];
                            y[r * mg + j] = v;
                            s2 += v * v;
                        }
                        yy[gi * mg + j] += s2;
                    }
                    Blas.addGram(xsb, n, w, gram[gi]);
                    Blas.addCross(xsb, y, n, w, mg, cross[gi]);
                }
            }
            rows += sl.rows;
        }

        /** Squared error of out-major weights {@code w} (with bias b) for output o, from the accumulated sums. */
        double sqErr(int gi, int j, double[] wv, double[] bv) {
            int w = sl.width();
            int k = sl.k;
            int o = gi * sl.outPerGroup + j;
            double[] h = gram[gi];
            double[] v = new double[w];
            System.arraycopy(wv, o * k, v, 0, k);
            if (sl.hasBias) {
                v[k] = bv[o];
            }
            double quad = 0;
            double lin = 0;
            for (int a = 0; a < w; a++) {
                if (v[a] == 0) {
                    continue;
                }
                double row = 0;
                for (int b = 0; b < w; b++) {
                    row += h[a <= b ? a * w + b : b * w + a] * v[b];
                }
                quad += v[a] * row;
                lin += v[a] * cross[gi][a * sl.outPerGroup + j];
            }
            return Math.max(0, quad - 2 * lin + yy[o]);
        }

        void solve(Options o) {
            int w = sl.width();
            int k = sl.k;
            int mg = sl.outPerGroup;
            newW = sw.clone();
            newB = sb.clone();
            double totalY = 0;
            double before = 0;
            for (int gi = 0; gi < sl.groups; gi++) {
                for (int j = 0; j < mg; j++) {
                    before += sqErr(gi, j, sw, sb);
                    totalY += yy[gi * mg + j];
                }
            }
            int retries = 0;
            boolean obs = o.obsMask() && map == null && tw.length == sw.length;
            if (obs) {
                Arrays.fill(newW, 0);
            }
            for (int gi = 0; gi < sl.groups; gi++) {
                double[] h = gram[gi];
                double trace = 0;
                for (int a = 0; a < w; a++) {
                    trace += h[a * w + a];
                }
                double lambda = Math.max(o.damping() * trace / w, 1e-12);
                double[] inverseDiagonal = obs ? inverseDiagonal(h, w, lambda) : null;
                for (int j = 0; j < mg; j++) {
                    int out = gi * mg + j;
                    int[] idx = obs ? obsKept(out, inverseDiagonal) : kept(out);
                    int m = idx.length;
                    double lam = lambda;
                    for (int attempt = 0; ; attempt++) {
                        double[] a = new double[m * m];
                        double[] rhs = new double[m];
                        for (int p = 0; p < m; p++) {
                            for (int q = p; q < m; q++) {
                                int x = idx[p];
                                int y = idx[q];
                                a[p * m + q] = h[x <= y ? x * w + y : y * w + x];
                            }
                            a[p * m + p] += lam;
                            rhs[p] = cross[gi][idx[p] * mg + j] + lam * (obs ? anchor(out, idx[p]) : start(out, idx[p]));
                        }
                        if (Blas.solveSpd(a, rhs, m, 1)) {
                            for (int p = 0; p < m; p++) {
                                if (idx[p] < k) {
                                    newW[out * k + idx[p]] = rhs[p];
                                } else {
                                    newB[out] = rhs[p];
                                }
                            }
                            break;
                        }
                        if (attempt == 6) {
                            throw new IllegalStateException(sl.node.describe() + ": normal equations of output "
                                    + out + " stay singular with ridge " + lam);
                        }
                        lam *= 10;
                        retries++;
                    }
                }
            }
            note = obs ? "refit, OBS mask" : o.obsMask() ? "refit (no OBS mask: layer shapes differ)" : "refit";
            if (retries > 0) {
                note += " (ridge raised " + retries + " times)";
            }
            errBefore = totalY == 0 ? 0 : before / totalY;
            errAfter = totalY == 0 ? 0 : totalError(newW, newB) / totalY;
        }

        double totalError(double[] wv, double[] bv) {
            double e = 0;
            for (int gi = 0; gi < sl.groups; gi++) {
                for (int j = 0; j < sl.outPerGroup; j++) {
                    e += sqErr(gi, j, wv, bv);
                }
            }
            return e;
        }

        /**
         * GPTQ on the refit weights: per group, {@code U = chol((Hc + λI)⁻¹)} (upper) of the centred input Gram
         * matrix; per output, weights are rounded in input order and each error {@code (w_j - q_j) / U_jj} is
         * taken off the later weights along row j of U. Returns the quantized out-major weights.
         */
        double[] gptq(RowQuantizer q, double damping) {
            int w = sl.width();
            int k = sl.k;
            int mg = sl.outPerGroup;
            double[] result = newW.clone();
            for (int gi = 0; gi < sl.groups; gi++) {
                double[] h = gram[gi];
                double[] hc = new double[k * k];
                double count = sl.hasBias ? h[k * w + k] : 0;
                double trace = 0;
                for (int a = 0; a < k; a++) {
                    for (int b = a; b < k; b++) {
                        hc[a * k + b] = h[a * w + b] - (count > 0 ? h[a * w + k] * h[b * w + k] / count : 0);
                    }
                    trace += hc[a * k + a];
                }
                double lambda = Math.max(damping * trace / Math.max(k, 1), 1e-12);
                double[] u = null;
                for (double lam = lambda; u == null; lam *= 10) {
                    double[] a = hc.clone();
                    for (int p = 0; p < k; p++) {
                        a[p * k + p] += lam;
                    }
                    double[] inv = new double[k * k];
                    for (int p = 0; p < k; p++) {
                        inv[p * k + p] = 1;
                    }
                    if (Blas.solveSpd(a, inv, k, k) && Blas.cholesky(inv, k)) {
                        u = inv;
                    } else if (lam > lambda * 1e6) {
                        throw new IllegalStateException(sl.node.describe() + ": inverse Hessian is not positive "
                                + "definite even with ridge " + lam);
                    }
                }
                for (int j = 0; j < mg; j++) {
                    int out = gi * mg + j;
                    double[] row = java.util.Arrays.copyOfRange(result, out * k, out * k + k);
                    java.util.function.DoubleUnaryOperator round = q.grid(sl.node, out, row.clone());
                    for (int c = 0; c < k; c++) {
                        if (row[c] == 0 && newW[out * k + c] == 0) {
                            continue;
                        }
                        double qv = round.applyAsDouble(row[c]);
                        double err = (row[c] - qv) / u[c * k + c];
                        row[c] = qv;
                        for (int d = c + 1; d < k; d++) {
                            if (newW[out * k + d] != 0) {
                                row[d] -= err * u[c * k + d];
                            }
                        }
                    }
                    System.arraycopy(row, 0, result, out * k, k);
                }
            }
            return result;
        }

        /** Diagonal of {@code (H + λI)⁻¹} (upper-triangle H of size w), by a Cholesky solve against I. */
        private double[] inverseDiagonal(double[] h, int w, double lambda) {
            for (double lam = lambda; ; lam *= 10) {
                double[] a = new double[w * w];
                for (int p = 0; p < w; p++) {
                    for (int q = p; q < w; q++) {
                        a[p * w + q] = h[p * w + q];
                    }
                    a[p * w + p] += lam;
                }
                double[] eye = new double[w * w];
                for (int p = 0; p < w; p++) {
                    eye[p * w + p] = 1;
                }
                if (Blas.solveSpd(a, eye, w, w)) {
                    double[] d = new double[w];
                    for (int p = 0; p < w; p++) {
                        d[p] = eye[p * w + p];
                    }
                    return d;
                }
                if (lam > lambda * 1e6) {
                    throw new IllegalStateException(sl.node.describe() + ": XᵀX stays singular with ridge " + lam);
                }
            }
        }

        /** As many columns as the compressed output keeps, chosen by OBS saliency of the teacher's weights. */
        private int[] obsKept(int out, double[] inverseDiagonal) {
            int k = sl.k;
            int count = 0;
            Integer[] order = new Integer[k];
            for (int c = 0; c < k; c++) {
                order[c] = c;
                count += sw[out * k + c] != 0 ? 1 : 0;
            }
            Arrays.sort(order, (a, b) -> Double.compare(saliency(out, b, inverseDiagonal),
                    saliency(out, a, inverseDiagonal)));
            int[] idx = new int[count + (sl.hasBias ? 1 : 0)];
            for (int i = 0; i < count; i++) {
                idx[i] = order[i];
            }
            Arrays.sort(idx, 0, count);
            if (sl.hasBias) {
                idx[count] = k;
            }
            return idx;
        }

        private double saliency(int out, int col, double[] inverseDiagonal) {
            double v = tw[out * sl.k + col];
            return v * v / inverseDiagonal[col];
        }

        /** Ridge anchor with an OBS mask: the teacher's weight (and the compressed layer's bias). */
        private double anchor(int out, int col) {
            return col < sl.k ? tw[out * sl.k + col] : sb[out];
        }

        private double start(int out, int col) {
            return col < sl.k ? sw[out * sl.k + col] : sb[out];
        }

        /** Columns solved for output {@code out}: its non-zero weights, and the bias. */
        private int[] kept(int out) {
            int k = sl.k;
            int[] idx = new int[sl.width()];
            int m = 0;
            for (int c = 0; c < k; c++) {
                if (sw[out * k + c] != 0) {
                    idx[m++] = c;
                }
            }
            if (sl.hasBias) {
                idx[m++] = k;
            }
            return Arrays.copyOf(idx, m);
        }

        /** Takes the transformed weights and re-solves the bias for them: {@code b = mean(y - X w)}. */
        void afterTransform(double[] transformed) {
            if (transformed.length != newW.length) {
                throw new IllegalArgumentException(sl.node.describe() + ": the weight transform changed the "
                        + "number of weights from " + newW.length + " to " + transformed.length);
            }
            newW = transformed;
            int w = sl.width();
            int k = sl.k;
            int mg = sl.outPerGroup;
            if (sl.hasBias) {
                for (int gi = 0; gi < sl.groups; gi++) {
                    double[] h = gram[gi];
                    double count = h[k * w + k];
                    for (int j = 0; j < mg; j++) {
                        int out = gi * mg + j;
                        double s = cross[gi][k * mg + j];
                        for (int c = 0; c < k; c++) {
                            s -= h[c * w + k] * newW[out * k + c];
                        }
                        newB[out] = count > 0 ? s / count : newB[out];
                    }
                }
            }
            note = "refit, transformed, bias re-solved";
            double totalY = Arrays.stream(yy).sum();
            errAfter = totalY == 0 ? 0 : totalError(newW, newB) / totalY;
        }
    }
}
