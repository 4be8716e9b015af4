package dev.hedge.converter.prune;

import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Unstructured magnitude pruning of the weights of {@link PrunableLayer}s: weights are set to exactly 0,
 * shapes do not change (the sparse encoder then stores only the rest).
 *
 * <ul>
 *   <li>{@link Mode#THRESHOLD}: every weight with {@code |w| < T} becomes 0.
 *   <li>{@link Mode#SPARSITY}: the {@code floor(s * n)} smallest-magnitude weights become 0 (ties broken by
 *       position, so the count is exact). Per layer, or {@code global}: one magnitude order over all
 *       participating layers, so layers end with different sparsities.
 *   <li>{@link Mode#N_M}: in every run of M consecutive weights along the input-channel axis
 *       ({@link PrunableLayer#inAxis()}) only the N largest magnitudes are kept (2:4); a shorter tail run
 *       keeps at most N.
 * </ul>
 * With {@code blockRows x blockCols} other than 1x1, the unit of pruning is a block of the
 * {@code [shape[0], prod(shape[1:])]} matrix view (the one block-CSR uses), scored by its mean magnitude,
 * so the result encodes compactly as block-CSR; a layer whose matrix the block does not tile is pruned
 * weight by weight (its {@link LayerStats#rule()} says so).
 *
 * <p>Layers are named by node name or weight name. The skip list and per-layer overrides (a sparsity in
 * sparsity mode, a threshold in threshold mode) must name prunable layers. By default the first and the
 * last prunable layer (topological order) are skipped: they are usually the most sensitive and smallest.
 */
public final class MagnitudePruning {

    public enum Mode { THRESHOLD, SPARSITY, N_M }

    /**
     * @param value the threshold (THRESHOLD) or sparsity in [0, 1] (SPARSITY); unused for N_M
     * @param global SPARSITY only: one magnitude order across layers instead of the same sparsity per layer
     * @param overrides per-layer values in the mode's unit; such a layer is pruned on its own
     */
    public record Options(Mode mode, double value, boolean global, int n, int m, int blockRows, int blockCols,
            Map<String, Double> overrides, Set<String> skip, boolean skipFirstLast) {

        public Options {
            overrides = Map.copyOf(overrides);
            skip = Set.copyOf(skip);
            if (mode == Mode.SPARSITY && !(value >= 0 && value <= 1)) {
                throw new IllegalArgumentException("sparsity " + value + " is not in [0, 1]");
            }
            if (mode == Mode.THRESHOLD && !(value >= 0)) {
                throw new IllegalArgumentException("prune threshold " + value + " is not >= 0");
            }
            if (mode == Mode.N_M && (n < 1 || m < 1 || n > m)) {
                throw new IllegalArgumentException("N:M pattern " + n + ":" + m + " needs 1 <= N <= M");
            }
            if (mode == Mode.N_M && !overrides.isEmpty()) {
                throw new IllegalArgumentException("per-layer overrides apply to threshold or sparsity pruning, not N:M");
            }
            if (blockRows < 1 || blockCols < 1) {
                throw new IllegalArgumentException("pruning block " + blockRows + "x" + blockCols + " is not positive");
            }
            if (mode == Mode.N_M && blockRows * blockCols != 1) {
                throw new IllegalArgumentException("N:M pruning works on single weights, not " + blockRows + "x"
                        + blockCols + " blocks");
            }
            for (Map.Entry<String, Double> e : overrides.entrySet()) {
                double v = e.getValue();
                if (mode == Mode.SPARSITY ? !(v >= 0 && v <= 1) : !(v >= 0)) {
                    throw new IllegalArgumentException("override for layer '" + e.getKey() + "': " + v
                            + (mode == Mode.SPARSITY ? " is not a sparsity in [0, 1]" : " is not a threshold >= 0"));
                }
            }
        }

        public static Options sparsity(double s) {
            return new Options(Mode.SPARSITY, s, false, 0, 0, 1, 1, Map.of(), Set.of(), true);
        }

        public static Options threshold(double t) {
            return new Options(Mode.THRESHOLD, t, false, 0, 0, 1, 1, Map.of(), Set.of(), true);
        }

        public static Options nOfM(int n, int m) {
            return new Options(Mode.N_M, 0, false, n, m, 1, 1, Map.of(), Set.of(), true);
        }

        public Options withGlobal(boolean g) {
            return new Options(mode, value, g, n, m, blockRows, blockCols, overrides, skip, skipFirstLast);
        }

        public Options withBlock(int rows, int cols) {
            return new Options(mode, value, global, n, m, rows, cols, overrides, skip, skipFirstLast);
        }

        public Options withOverrides(Map<String, Double> o) {
            return new Options(mode, value, global, n, m, blockRows, blockCols, o, skip, skipFirstLast);
        }

        public Options withSkip(Set<String> s) {
            return new Options(mode, value, global, n, m, blockRows, blockCols, overrides, s, skipFirstLast);
        }

        public Options withSkipFirstLast(boolean b) {
            return new Options(mode, value, global, n, m, blockRows, blockCols, overrides, skip, b);
        }
    }

    /**
     * What happened to one layer. {@code zerosBefore}/{@code zerosAfter} count exact zeros; {@code rule}
     * says how the layer was treated ("sparsity 0.70", "global threshold 0.0123", "2:4", "skipped: first
     * layer", ...).
     */
    public record LayerStats(String node, Op op, String weight, int[] shape, long params, long zerosBefore,
            long zerosAfter, String rule) {

        public double sparsity() {
            return params == 0 ? 0 : (double) zerosAfter / params;
        }

        public boolean pruned() {
            return zerosAfter != zerosBefore;
        }
    }

    /** The pruned graph (same structure, same names) and per-layer statistics in topological order. */
    public record Result(Graph graph, List<LayerStats> layers) {

        /** Zeros over all prunable weights (skipped layers included). */
        public double overallSparsity() {
            long p = 0;
            long z = 0;
            for (LayerStats s : layers) {
                p += s.params();
                z += s.zerosAfter();
            }
            return p == 0 ? 0 : (double) z / p;
        }
    }

    private MagnitudePruning() {
    }

    public static Result prune(Graph g, Options o) {
        List<PrunableLayer> layers = PrunableLayer.find(g);
        Map<String, PrunableLayer> byName = new LinkedHashMap<>();
        for (PrunableLayer l : layers) {
            byName.put(l.name(), l);
            byName.putIfAbsent(l.weight(), l);
        }
        Set<PrunableLayer> skipped = new LinkedHashSet<>();
        Map<PrunableLayer, String> why = new LinkedHashMap<>();
        for (String s : o.skip()) {
            PrunableLayer l = lookup(byName, s, "skip list", layers);
            skipped.add(l);
            why.put(l, "skipped: listed");
        }
        Map<PrunableLayer, Double> overrides = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : o.overrides().entrySet()) {
            overrides.put(lookup(byName, e.getKey(), "override", layers), e.getValue());
        }
        if (o.skipFirstLast() && !layers.isEmpty()) {
            for (PrunableLayer l : List.of(layers.get(0), layers.get(layers.size() - 1))) {
                if (!overrides.containsKey(l) && skipped.add(l)) {
                    why.put(l, l == layers.get(0) ? "skipped: first layer" : "skipped: last layer");
                }
            }
        }
        // weights shared by several layers are pruned once, by the first layer that reads them
        Set<String> seenWeights = new LinkedHashSet<>();
        List<Unit> units = new ArrayList<>();
        for (PrunableLayer l : layers) {
            if (!seenWeights.add(l.weight())) {
                skipped.add(l);
                why.put(l, "skipped: weight shared with an earlier layer");
            }
            if (skipped.contains(l)) {
                continue;
            }
            units.add(new Unit(l, g.initializers().get(l.weight()), o));
        }
        Map<PrunableLayer, String> rules = new LinkedHashMap<>(why);
        switch (o.mode()) {
            case N_M:
                for (Unit u : units) {
                    u.nOfM(o.n(), o.m());
                    rules.put(u.layer, o.n() + ":" + o.m() + u.blockNote());
                }
                break;
            case THRESHOLD:
                for (Unit u : units) {
                    double t = overrides.getOrDefault(u.layer, o.value());
                    u.belowThreshold(t);
                    rules.put(u.layer, (overrides.containsKey(u.layer) ? "override " : "") + "threshold " + fmt(t)
                            + u.blockNote());
                }
                break;
            case SPARSITY:
                List<Unit> pooled = new ArrayList<>();
                for (Unit u : units) {
                    Double ov = overrides.get(u.layer);
                    if (ov == null && o.global()) {
                        pooled.add(u);
                        continue;
                    }
                    double s = ov == null ? o.value() : ov;
                    u.pruneSmallest((long) Math.floor(s * u.score.length + 1e-9));
                    rules.put(u.layer, (ov == null ? "" : "override ") + "sparsity " + fmt(s) + u.blockNote());
                }
                if (!pooled.isEmpty()) {
                    double t = pruneGlobally(pooled, o.value());
                    for (Unit u : pooled) {
                        rules.put(u.layer, "global sparsity " + fmt(o.value()) + " (threshold " + fmt(t) + ")"
                                + u.blockNote());
                    }
                }
                break;
            default:
                throw new IllegalStateException(o.mode().name());
        }
        Graph.Builder b = g.toBuilder();
        Map<String, Integer> reads = readers(g);
        List<LayerStats> stats = new ArrayList<>();
        Map<PrunableLayer, Unit> unitOf = new LinkedHashMap<>();
        for (Unit u : units) {
            unitOf.put(u.layer, u);
        }
        for (PrunableLayer l : layers) {
            Tensor w = g.initializers().get(l.weight());
            long before = zeros(w);
            Unit u = unitOf.get(l);
            long after = before;
            if (u != null && u.changed()) {
                Tensor pruned = u.result();
                after = zeros(pruned);
                String name = l.weight();
                if (reads.getOrDefault(name, 0) > 1) {
                    // another node reads this weight too: leave its copy alone
                    name = freshName(g, name + "/pruned");
                    Node renamed = l.node().withInputs(replaceInput(l.node().inputs(), 1, name));
                    b.nodes().set(b.nodes().indexOf(l.node()), renamed);
                }
                b.initializer(name, pruned);
            }
            stats.add(new LayerStats(l.name(), l.node().op(), l.weight(), w.shape(), w.elementCount(), before, after,
                    rules.getOrDefault(l, "not pruned")));
        }
        return new Result(b.build(), stats);
    }

    private static PrunableLayer lookup(Map<String, PrunableLayer> byName, String name, String what,
            List<PrunableLayer> layers) {
        PrunableLayer l = byName.get(name);
        if (l == null) {
            throw new IllegalArgumentException(what + " names '" + name + "', which is not a prunable layer; the "
                    + "prunable layers are " + layers.stream().map(PrunableLayer::name).toList());
        }
        return l;
    }

    /** Prunes the smallest units across layers; returns the magnitude threshold it came to. */
    private static double pruneGlobally(List<Unit> units, double sparsity) {
        int total = 0;
        for (Unit u : units) {
            total += u.score.length;
        }
        long k = (long) Math.floor(sparsity * total + 1e-9);
        if (k == 0) {
            return 0;
        }
        double[] all = new double[total];
        int at = 0;
        for (Unit u : units) {
            System.arraycopy(u.score, 0, all, at, u.score.length);
            at += u.score.length;
        }
        Arrays.sort(all);
        double t = all[(int) k - 1];
        // everything strictly below t goes; ties at t go in layer order until the count is met
        long below = 0;
        for (Unit u : units) {
            below += u.countBelow(t);
        }
        long ties = k - below;
        for (Unit u : units) {
            ties -= u.pruneAtOrBelow(t, ties);
        }
        return t;
    }

    private static long zeros(Tensor t) {
        long z = 0;
        int n = t.elementCount();
        for (int i = 0; i < n; i++) {
            if (t.getDouble(i) == 0) {
                z++;
            }
        }
        return z;
    }

    private static Map<String, Integer> readers(Graph g) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            for (String v : Graph.nodeReads(n)) {
                m.merge(v, 1, Integer::sum);
            }
        }
        for (String out : g.outputNames()) {
            m.merge(out, 1, Integer::sum);
        }
        return m;
    }

    static List<String> replaceInput(List<String> inputs, int i, String name) {
        List<String> l = new ArrayList<>(inputs);
        l.set(i, name);
        return l;
    }

    static String freshName(Graph g, String hint) {
        Set<String> used = new LinkedHashSet<>(g.inputNames());
        used.addAll(g.initializers().keySet());
        for (Node n : g.nodes()) {
            used.addAll(n.inputs());
            used.addAll(n.outputs());
        }
        String name = hint;
        for (int k = 1; used.contains(name); k++) {
            name = hint + "_" + k;
        }
        return name;
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.4g", v);
    }

    /**
     * One layer's weights cut in pruning units (single weights or blocks of the matrix view), each with a
     * score (mean magnitude) and a pruned flag.
     */
    private static final class Unit {
        final PrunableLayer layer;
        final Tensor weight;
        final double[] w;
        final int br;
        final int bc;
        final long cols;
        final long blockCols;
        final double[] score;
        final boolean[] pruned;
        final boolean blockFallback;

        Unit(PrunableLayer layer, Tensor weight, Options o) {
            this.layer = layer;
            this.weight = weight;
            this.w = weight.toDoubleArray();
            int[] s = weight.shape();
            this.cols = w.length / s[0];
            boolean tiles = s[0] % o.blockRows() == 0 && cols % o.blockCols() == 0;
            this.blockFallback = !tiles;
            this.br = tiles ? o.blockRows() : 1;
            this.bc = tiles ? o.blockCols() : 1;
            this.blockCols = cols / bc;
            int units = w.length / (br * bc);
            this.score = new double[units];
            this.pruned = new boolean[units];
            for (int u = 0; u < units; u++) {
                double sum = 0;
                for (int e : elements(u)) {
                    sum += Math.abs(w[e]);
                }
                score[u] = sum / (br * bc);
            }
        }

        String blockNote() {
            if (br * bc > 1) {
                return " in " + br + "x" + bc + " blocks";
            }
            return blockFallback ? " (weight by weight: the block does not tile " + Arrays.toString(weight.shape())
                    + ")" : "";
        }

        int[] elements(int u) {
            int[] e = new int[br * bc];
            long bi = u / blockCols;
            long bj = u % blockCols;
            int k = 0;
            for (int r = 0; r < br; r++) {
                for (int c = 0; c < bc; c++) {
                    e[k++] = (int) ((bi * br + r) * cols + bj * bc + c);
                }
            }
            return e;
        }

        void belowThreshold(double t) {
            for (int u = 0; u < score.length; u++) {
                pruned[u] |= score[u] < t;
            }
        }

        void pruneSmallest(long k) {
            Integer[] order = new Integer[score.length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Double.compare(score[a], score[b]));
            for (int i = 0; i < k && i < order.length; i++) {
                pruned[order[i]] = true;
            }
        }

        long countBelow(double t) {
            long c = 0;
            for (double s : score) {
                if (s < t) {
                    c++;
                }
            }
            return c;
        }

        /** Prunes every unit below t and at most {@code ties} units equal to t; returns the ties used. */
        long pruneAtOrBelow(double t, long ties) {
            long used = 0;
            for (int u = 0; u < score.length; u++) {
                if (score[u] < t) {
                    pruned[u] = true;
                } else if (score[u] == t && used < ties) {
                    pruned[u] = true;
                    used++;
                }
            }
            return used;
        }

        void nOfM(int n, int m) {
            int[] s = weight.shape();
            int axis = layer.inAxis();
            long outer = 1;
            for (int d = 0; d < axis; d++) {
                outer *= s[d];
            }
            int dim = s[axis];
            long inner = 1;
            for (int d = axis + 1; d < s.length; d++) {
                inner *= s[d];
            }
            for (long o = 0; o < outer; o++) {
                for (long in = 0; in < inner; in++) {
                    for (int start = 0; start < dim; start += m) {
                        int len = Math.min(m, dim - start);
                        Integer[] idx = new Integer[len];
                        for (int j = 0; j < len; j++) {
                            idx[j] = (int) ((o * dim + start + j) * inner + in);
                        }
                        // largest first, earlier position first among equals
                        Arrays.sort(idx, (a, b) -> Double.compare(score[b], score[a]));
                        for (int j = n; j < len; j++) {
                            pruned[idx[j]] = true;
                        }
                    }
                }
            }
        }

        boolean changed() {
            for (int u = 0; u < pruned.length; u++) {
                if (pruned[u]) {
                    for (int e : elements(u)) {
                        if (w[e] != 0) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        Tensor result() {
            Tensor t = weight.copy();
            for (int u = 0; u < pruned.length; u++) {
                if (pruned[u]) {
                    for (int e : elements(u)) {
                        t.setDouble(e, 0);
                    }
                }
            }
            return t;
        }
    }
}
