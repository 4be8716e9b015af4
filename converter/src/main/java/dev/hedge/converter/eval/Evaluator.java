package dev.hedge.converter.eval;

import dev.hedge.converter.Progress;
import dev.hedge.converter.data.Dataset;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Runs a reference model and a compressed one side by side on the same data and measures how far apart they
 * are: top-1 agreement of the first output, labelled accuracy of both, SQNR and errors of every output, SQNR of
 * every probed intermediate value (layer outputs and inputs), and the MACs of every layer node in each.
 */
public final class Evaluator {

    /** Agreement between the two models on one output. */
    public record OutputMetrics(String name, double sqnrDb, double maxAbsError, double meanAbsError) {
    }

    /** Power of the reference value and of its difference to the compressed one, summed over the samples. */
    public record ValueMetrics(String value, double signal, double noise, long elements) {
        public double sqnrDb() {
            return Metrics.sqnrDb(signal, noise);
        }

        /** Noise-to-signal ratio (linear). */
        public double nsr() {
            return signal == 0 ? (noise == 0 ? 0 : Double.POSITIVE_INFINITY) : noise / signal;
        }
    }

    /**
     * @param agreement fraction of rows whose argmax agree (NaN when the first output is not a score vector)
     * @param accuracyReference labelled accuracy of the reference (NaN without labels)
     * @param macsReference MACs per run of each layer node of the reference, by node name
     */
    public record Result(int samples, double agreement, double accuracyReference, double accuracyCompressed,
            Map<String, OutputMetrics> outputs, Map<String, ValueMetrics> values, Map<String, Long> macsReference,
            Map<String, Long> macsCompressed) {

        /** Accuracy drop in percentage points (NaN without labels). */
        public double accuracyDrop() {
            return 100 * (accuracyReference - accuracyCompressed);
        }
    }

    private Evaluator() {
    }

    /**
     * @param probes reference value name → where to find it in the compressed model
     * @param layerNodes node names whose MACs to count (in both models)
     * @param runtime backends both models run on ahead of the reference kernels
     */
    public static Result compare(ModelDef reference, Path compressedFile, Dataset data, Map<String, Probe> probes,
            Set<String> layerNodes, RuntimeOptions runtime, Progress progress) throws IOException {
        ModelDef def;
        try (Model m = Model.load(compressedFile)) {
            def = m.definition();
        }
        return compare(reference, def, options -> {
            try {
                return Model.load(compressedFile, options);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, data, probes, layerNodes, runtime, progress);
    }

    /** As above with an in-memory compressed model. */
    public static Result compare(ModelDef reference, ModelDef compressed, Dataset data, Map<String, Probe> probes,
            Set<String> layerNodes, RuntimeOptions runtime, Progress progress) {
        return compare(reference, compressed, options -> Model.of(compressed, options), data, probes, layerNodes,
                runtime, progress);
    }

    private static Result compare(ModelDef reference, ModelDef compressed, Function<RuntimeOptions, Model> open,
            Dataset data, Map<String, Probe> probes, Set<String> layerNodes, RuntimeOptions runtime,
            Progress progress) {
        Set<String> compressedValues = definedValues(compressed.graph());
        Map<String, String> compressedName = new HashMap<>();
        Map<String, Probe> byCompressedName = new HashMap<>();
        for (Map.Entry<String, Probe> e : probes.entrySet()) {
            Probe p = e.getValue();
            if (compressedValues.contains(p.value())) {
                compressedName.put(p.value(), e.getKey());
                byCompressedName.put(p.value(), new Probe(p.value(), null, 0, 0, p.channelFactors(),
                        p.channelAxis()));
            } else if (p.quantized() != null && compressedValues.contains(p.quantized())) {
                compressedName.put(p.quantized(), e.getKey());
                byCompressedName.put(p.quantized(), p);
            }
        }
        Map<String, float[]> refValues = new HashMap<>();
        Map<String, float[]> compValues = new HashMap<>();
        Map<String, Long> macsRef = new LinkedHashMap<>();
        Map<String, Long> macsComp = new LinkedHashMap<>();
        Tap refTap = new Tap(n -> layerNodes.contains(n.name()) || n.outputs().stream().anyMatch(probes::containsKey),
                (n, ctx) -> observe(n, ctx, probes.keySet(), Map.of(), Map.of(), refValues, layerNodes, macsRef),
                runtime);
        Tap compTap = new Tap(n -> layerNodes.contains(n.name())
                || n.outputs().stream().anyMatch(compressedName::containsKey),
                (n, ctx) -> observe(n, ctx, compressedName.keySet(), compressedName, byCompressedName, compValues,
                        layerNodes, macsComp), runtime);
        Map<String, double[]> acc = new LinkedHashMap<>();
        List<ValueInfo> outs = reference.graph().outputs();
        Map<String, double[]> outAcc = new LinkedHashMap<>();
        for (ValueInfo o : outs) {
            outAcc.put(o.name(), new double[4]); // signal, noise, max |error|, sum |error|
        }
        Map<String, long[]> outCount = new HashMap<>();
        long rows = 0;
        long agree = 0;
        long correctRef = 0;
        long correctComp = 0;
        boolean classification = true;
        try (Model ref = Model.of(reference, refTap.options());
                Model comp = open.apply(compTap.options());
                Session rs = ref.newSession(); Session cs = comp.newSession()) {
            Dataset.Cursor rc = data.cursor(rs);
            Dataset.Cursor cc = data.cursor(cs);
            for (int i = 0; i < data.size(); i++) {
                refValues.clear();
                compValues.clear();
                Map<String, float[]> ro = copyOutputs(rc.run(i));
                Map<String, Tensor> co = cc.run(i);
                for (ValueInfo o : outs) {
                    float[] a = ro.get(o.name());
                    Tensor bt = co.get(o.name());
                    if (a == null || bt == null || !bt.dtype().isFloat()) {
                        continue;
                    }
                    float[] b = bt.toFloatArray();
                    double[] s = outAcc.get(o.name());
                    for (int k = 0; k < a.length; k++) {
                        double d = (double) a[k] - b[k];
                        s[0] += (double) a[k] * a[k];
                        s[1] += d * d;
                        s[2] = Math.max(s[2], Math.abs(d));
                        s[3] += Math.abs(d);
                    }
                    outCount.computeIfAbsent(o.name(), k -> new long[1])[0] += a.length;
                }
                // top-1 over the last axis of the first output
                ValueInfo first = outs.get(0);
                Tensor ft = co.get(first.name());
                float[] fa = ro.get(first.name());
                if (fa != null && ft != null && ft.rank() >= 1 && ft.dim(-1) > 1 && ft.dtype().isFloat()) {
                    float[] fb = ft.toFloatArray();
                    int width = ft.dim(-1);
                    for (int r = 0; r < fa.length / width; r++) {
                        int ia = argmax(fa, r * width, width);
                        int ib = argmax(fb, r * width, width);
                        rows++;
                        agree += ia == ib ? 1 : 0;
                        if (data.hasLabels()) {
                            correctRef += ia == data.labels()[i] ? 1 : 0;
                            correctComp += ib == data.labels()[i] ? 1 : 0;
                        }
                    }
                } else {
                    classification = false;
                }
                for (Map.Entry<String, float[]> e : refValues.entrySet()) {
                    float[] b = compValues.get(e.getKey());
                    float[] a = e.getValue();
                    if (b == null || b.length != a.length) {
                        continue;
                    }
                    double[] s = acc.computeIfAbsent(e.getKey(), k -> new double[3]);
                    for (int k = 0; k < a.length; k++) {
                        double d = (double) a[k] - b[k];
                        s[0] += (double) a[k] * a[k];
                        s[1] += d * d;
                    }
                    s[2] += a.length;
                }
                progress.update("evaluation", i + 1, data.size());
            }
        }
        Map<String, OutputMetrics> om = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> e : outAcc.entrySet()) {
            double[] s = e.getValue();
            long n = outCount.getOrDefault(e.getKey(), new long[1])[0];
            om.put(e.getKey(), new OutputMetrics(e.getKey(), Metrics.sqnrDb(s[0], s[1]), s[2], n == 0 ? 0 : s[3] / n));
        }
        Map<String, ValueMetrics> vm = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> e : acc.entrySet()) {
            double[] s = e.getValue();
            vm.put(e.getKey(), new ValueMetrics(e.getKey(), s[0], s[1], (long) s[2]));
        }
        boolean cls = classification && rows > 0;
        double agreement = cls ? (double) agree / rows : Double.NaN;
        double accRef = cls && data.hasLabels() ? (double) correctRef / rows : Double.NaN;
        double accComp = cls && data.hasLabels() ? (double) correctComp / rows : Double.NaN;
        return new Result(data.size(), agreement, accRef, accComp, om, vm, macsRef, macsComp);
    }

    private static Map<String, float[]> copyOutputs(Map<String, Tensor> out) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : out.entrySet()) {
            if (e.getValue().dtype().isFloat()) {
                m.put(e.getKey(), e.getValue().toFloatArray());
            }
        }
        return m;
    }

    private static void observe(Node n, RunContext ctx, Set<String> wanted, Map<String, String> rename,
            Map<String, Probe> probes, Map<String, float[]> sink, Set<String> layerNodes, Map<String, Long> macs) {
        for (int i = 0; i < n.outputs().size(); i++) {
            String name = n.output(i);
            Tensor t = ctx.output(i);
            if (t == null || !wanted.contains(name)) {
                continue;
            }
            String key = rename.getOrDefault(name, name);
            Probe q = probes.get(name);
            float[] v;
            if (q != null && q.quantized() != null) {
                v = new float[t.elementCount()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = (float) (t.getLong(k) - q.zeroPoint()) * q.scale();
                }
            } else if (t.dtype().isFloat()) {
                v = t.toFloatArray();
            } else {
                continue;
            }
            if (q != null && q.channelFactors() != null) {
                unscale(v, t, q);
            }
            sink.put(key, v);
        }
        if (layerNodes.contains(n.name())) {
            long m = Macs.of(n, ctx);
            if (m >= 0) {
                macs.put(n.name(), m);
            }
        }
    }

    /** Multiplies each channel by its factor: the value as the reference model has it. */
    private static void unscale(float[] v, Tensor t, Probe p) {
        int axis = p.channelAxis() < 0 ? p.channelAxis() + t.rank() : p.channelAxis();
        if (axis < 0 || axis >= t.rank() || t.dim(axis) != p.channelFactors().length) {
            return;
        }
        int inner = 1;
        for (int d = axis + 1; d < t.rank(); d++) {
            inner *= t.dim(d);
        }
        float[] f = p.channelFactors();
        for (int k = 0; k < v.length; k++) {
            v[k] *= f[(k / inner) % f.length];
        }
    }

    private static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }

    /** Every value a graph (or its subgraphs) defines or takes as input. */
    static Set<String> definedValues(Graph g) {
        Set<String> s = new HashSet<>();
        collect(g, s);
        return s;
    }

    private static void collect(Graph g, Set<String> s) {
        for (ValueInfo v : g.inputs()) {
            s.add(v.name());
        }
        for (Node n : g.nodes()) {
            s.addAll(n.outputs());
            for (Graph sub : n.subgraphs()) {
                collect(sub, s);
            }
        }
    }

    /** Decibel helpers. */
    public static final class Metrics {
        private Metrics() {
        }

        /** 10 log10(signal / noise); +inf for no noise. */
        public static double sqnrDb(double signal, double noise) {
            if (noise == 0) {
                return Double.POSITIVE_INFINITY;
            }
            return 10 * Math.log10(signal / noise);
        }
    }
}
