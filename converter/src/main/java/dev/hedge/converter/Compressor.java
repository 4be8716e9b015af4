package dev.hedge.converter;

import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.eval.Evaluator;
import dev.hedge.converter.eval.Probe;
import dev.hedge.converter.prune.ChannelPruning;
import dev.hedge.converter.prune.MagnitudePruning;
import dev.hedge.converter.prune.PrunableLayer;
import dev.hedge.converter.prune.SparseEncoder;
import dev.hedge.converter.quantize.ActivationSplit;
import dev.hedge.converter.quantize.CalibrationMethod;
import dev.hedge.converter.quantize.InputStatistics;
import dev.hedge.converter.quantize.Calibrator;
import dev.hedge.converter.quantize.Layer;
import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.converter.quantize.Layers;
import dev.hedge.converter.quantize.ModelQuantizer;
import dev.hedge.converter.quantize.QuantOptions;
import dev.hedge.converter.quantize.Ranges;
import dev.hedge.converter.quantize.Smoothing;
import dev.hedge.converter.quantize.SpeedCheck;
import dev.hedge.converter.quantize.ValueStats;
import dev.hedge.converter.quantize.WeightQuant;
import dev.hedge.converter.reconstruct.Reconstruction;
import dev.hedge.converter.report.CompressionReport;
import dev.hedge.converter.report.CompressionReport.MixedPrecisionStep;
import dev.hedge.converter.report.LayerRow;
import dev.hedge.format.Decoding;
import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ops.Op;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The compression pipeline after the clean-up passes: activation split, layer discovery, calibration,
 * quantization, writing, evaluation of the written file against the float model, the mixed-precision loop,
 * and the final write with the report in the file's metadata ({@link ModelDef#META_REPORT}).
 *
 * <p>Every figure comes from executing a written file: each candidate is written to a temporary file, loaded
 * with {@link Model#load} and run through the reference kernels next to the float model.
 */
public final class Compressor {

    /** The written model, its report, and where it was written. */
    public record Result(ModelDef model, CompressionReport report, Path file) {
    }

    private static final int MAX_REPORT_ROUNDS = 4;

    /**
     * Block shapes tried for sparse weights: the encoder's defaults and their transposes (a Gemm weight is
     * stored transposed for QLinearMatMul, turning pruned 1xN row blocks into Nx1 blocks).
     */
    private static final List<int[]> SPARSE_BLOCKS;

    static {
        List<int[]> l = new ArrayList<>(SparseEncoder.DEFAULT_BLOCKS);
        for (int[] b : SparseEncoder.DEFAULT_BLOCKS) {
            if (l.stream().noneMatch(x -> x[0] == b[1] && x[1] == b[0])) {
                l.add(new int[] {b[1], b[0]});
            }
        }
        SPARSE_BLOCKS = List.copyOf(l);
    }

    private final ModelDef floatModel;
    private final CompressionOptions options;
    /** The original float model (activations split): what everything is measured against. */
    private final ModelDef reference;
    private final Path dir;
    private final List<String> notes = new ArrayList<>();
    /** Per layer: what pruning did to it. */
    private final Map<String, String> pruneNotes = new LinkedHashMap<>();
    /** Per layer: reconstruction SQNR before and after the refit. */
    private final Map<String, double[]> refit = new LinkedHashMap<>();
    /** The pruned and refit float model (activations split), which quantization works on. */
    private Graph student;
    private List<Layer> layers;
    /** Layers automatic mixed precision gave their original dense weights back. */
    private final Set<String> densified = new LinkedHashSet<>();

    private Compressor(ModelDef floatModel, CompressionOptions options, Path dir) {
        this.floatModel = floatModel;
        this.options = options;
        this.reference = floatModel.withGraph(new ActivationSplit().apply(floatModel.graph()));
        this.dir = dir;
    }

    /** Compresses a converted float model and writes it to {@code output}. */
    public static Result compress(ModelDef converted, CompressionOptions options, Path output) throws IOException {
        Path dir = output.toAbsolutePath().getParent();
        return new Compressor(converted, options, dir).run(output);
    }

    private Result run(Path output) throws IOException {
        QuantOptions q = options.quant();
        Graph pruned = prune(floatModel.graph());
        Map<String, LayerPrecision> decisions = new LinkedHashMap<>();
        for (Layer l : Layers.find(pruned)) {
            decisions.put(l.name(), q.precisionOf(l.name()));
        }
        pruned = reconstruct(floatModel.graph(), pruned, decisions);
        student = new ActivationSplit().apply(pruned);
        layers = Layers.find(student);
        Map<String, Ranges.Affine> activations = calibrate(decisions, currentStudent(decisions));
        Dataset eval = options.evaluation() != null ? options.evaluation() : options.calibration();
        if (options.evaluation() == null && eval != null) {
            notes.add("evaluated on the calibration data (no --eval given)");
        }
        if (options.mixedPrecision() && eval == null) {
            throw new InvalidInputException("automatic mixed precision needs evaluation data (--eval or --calib)");
        }
        long fp32Bytes = fileSize(floatModel);
        if (options.speedCheck() != null) {
            speedCheck(decisions, activations);
        }

        List<MixedPrecisionStep> steps = new ArrayList<>();
        ModelQuantizer.Result quantized;
        Evaluator.Result evaluation;
        Path candidate = Files.createTempFile(dir, ".hedge-compress-", ".hedge");
        try {
            int maxSteps = 1 + 3 * layers.size();
            while (true) {
                quantized = ModelQuantizer.quantize(current, layers, decisions, activations, inputStats, q);
                quantized = quantized.withGraph(encodeSparse(quantized));
                ModelDef comp = floatModel.withGraph(quantized.graph());
                HedgeWriter.write(comp, candidate);
                evaluation = evaluate(candidate, eval, quantized);
                if (!options.mixedPrecision() || steps.size() >= maxSteps) {
                    break;
                }
                String miss = missesTarget(evaluation);
                if (miss == null) {
                    break;
                }
                MixedPrecisionStep step = raiseWorst(decisions, quantized, evaluation, miss);
                if (step == null) {
                    notes.add("mixed precision: target not reached with every layer "
                            + (options.maxPrecision() == null ? "dense fp32" : "dense and at most "
                            + options.maxPrecision() + " (--max-precision)") + " (" + miss + ")");
                    break;
                }
                steps.add(step);
                if (step.to().equals("dense")) {
                    activations = calibrate(decisions, currentStudent(decisions));
                }
            }
            CompressionReport report = report(quantized, evaluation, candidate, fp32Bytes, steps);
            return writeFinal(floatModel.withGraph(quantized.graph()), report, output);
        } finally {
            Files.deleteIfExists(candidate);
        }
    }

    // ---- pruning and reconstruction ---------------------------------------------------------------------------

    /** Structured then unstructured pruning, as asked. */
    private Graph prune(Graph g) {
        Graph cur = g;
        if (options.channels() != null) {
            options.progress().update("channel pruning", 0, 1);
            ChannelPruning.Result r = ChannelPruning.prune(cur, options.channels().withRuntime(options.runtime()));
            cur = r.graph();
            keptChannels = r.keptChannels();
            for (ChannelPruning.LayerStats s : r.layers()) {
                pruneNotes.merge(s.node(), String.format(Locale.ROOT, "channels %d -> %d (%s)", s.channelsBefore(),
                        s.channelsAfter(), s.note()), (x, y) -> x + "; " + y);
            }
            options.progress().update("channel pruning", 1, 1);
        }
        if (options.prune() != null) {
            MagnitudePruning.Result r = MagnitudePruning.prune(cur, options.prune());
            cur = r.graph();
            for (MagnitudePruning.LayerStats s : r.layers()) {
                pruneNotes.merge(s.node(), s.rule(), (x, y) -> x + "; " + y);
            }
        }
        return cur;
    }

    private Map<String, int[]> keptChannels = Map.of();

    /**
     * Least-squares refit of the changed layers against the original (on by default when there is calibration
     * data and pruning changed the weights; quantization alone relies on error-feedback rounding and bias
     * correction, which cost far less, unless asked); the refit weights are then passed through the layer's own
     * quantizer so the bias is re-solved for the weights the layer will really have.
     */
    private Graph reconstruct(Graph teacher, Graph pruned, Map<String, LayerPrecision> decisions) {
        Boolean asked = options.reconstruct();
        Dataset calib = options.calibration();
        boolean on = asked != null ? asked : calib != null && (options.channels() != null || options.prune() != null);
        if (!on) {
            return pruned;
        }
        if (calib == null) {
            throw new InvalidInputException("reconstruction needs calibration data (--calib)");
        }
        if (!calib.carry().isEmpty()) {
            notes.add("reconstruction skipped: the calibration data carries state between samples");
            return pruned;
        }
        options.progress().update("reconstruction", 0, 1);
        QuantOptions q = options.quant();
        Reconstruction.Options ro = Reconstruction.Options.defaults().withOutputChannels(keptChannels)
                .withObsMask(options.obsMask()).withRuntime(options.runtime())
                .withTransform((node, w) -> WeightQuant.roundTrip(node, w,
                        decisions.getOrDefault(node.name(), LayerPrecision.FP32), q));
        Graph start = pruned;
        if (decisions.values().stream().anyMatch(p -> !p.isFloat32())) {
            // quantization changes every quantized layer, not only the pruned ones: refit them all, starting
            // from their quantized weights so that the error before the refit includes the quantization's
            Set<String> all = new LinkedHashSet<>();
            Map<String, Tensor> quantized = new HashMap<>();
            for (PrunableLayer l : PrunableLayer.find(pruned)) {
                all.add(l.name());
                LayerPrecision p = decisions.getOrDefault(l.name(), LayerPrecision.FP32);
                quantized.put(l.weight(), WeightQuant.roundTrip(l.node(), l.weightOf(pruned), p, q));
            }
            ro = ro.withLayers(all);
            start = replaceConstants(pruned, quantized);
        }
        Reconstruction.Result r = Reconstruction.reconstruct(teacher, start, calib.batches(batchRows()), ro);
        for (Reconstruction.LayerError e : r.layers()) {
            if (!Double.isNaN(e.relErrorAfter())) {
                refit.put(e.node(), new double[] {e.sqnrBefore(), e.sqnrAfter()});
            } else if (!e.note().isEmpty()) {
                pruneNotes.merge(e.node(), e.note(), (x, y) -> x + "; " + y);
            }
        }
        options.progress().update("reconstruction", 1, 1);
        return r.graph();
    }

    /** Samples per reconstruction batch: 64, or 1 when an input has a fixed first (batch) dimension. */
    private int batchRows() {
        for (var in : floatModel.graph().inputs()) {
            if (in.dims() != null && !in.dims().isEmpty() && in.dims().get(0).isFixed()) {
                return 1;
            }
        }
        return 64;
    }

    /** The float graph quantization starts from, as last prepared by {@link #currentStudent}. */
    private Graph current;

    /**
     * The student with the layers mixed precision densified given back their original weights, then, when
     * weights will be quantized and there is calibration data, with activations smoothed between linear layers
     * ({@link Smoothing}); sets {@link #current}.
     */
    private Graph currentStudent(Map<String, LayerPrecision> decisions) {
        Graph g = student;
        if (!densified.isEmpty()) {
            Map<String, Tensor> original = new HashMap<>();
            collectConstants(reference.graph(), original);
            Map<String, Tensor> repl = new HashMap<>();
            for (Layer l : Layers.find(student)) {
                if (densified.contains(l.name())) {
                    for (String w : l.weights()) {
                        repl.put(w, original.get(w));
                    }
                    if (l.bias() != null && original.containsKey(l.bias())) {
                        repl.put(l.bias(), original.get(l.bias()));
                    }
                }
            }
            g = replaceConstants(student, repl);
        }
        // smoothing also helps weight-only forms: like activation-aware weight quantization, it shrinks the
        // channels whose large inputs would amplify their weights' rounding errors
        boolean quantized = decisions.values().stream()
                .anyMatch(p -> !p.isFloat32() && p.kind() != LayerPrecision.Kind.FP16);
        if (quantized && options.calibration() != null && options.quant().smooth()) {
            Map<String, Integer> axes = new HashMap<>();
            for (Smoothing.Pair pair : Smoothing.pairs(g)) {
                Node producer = graphNode(g, pair.producer());
                axes.put(pair.value(), producer.op() == Op.Conv ? 1 : -1);
            }
            if (!axes.isEmpty()) {
                Progress p = options.progress();
                Map<String, ValueStats> stats = Calibrator.calibrate(floatModel.withGraph(g), options.calibration(),
                        axes.keySet(), axes, false, options.runtime(), (ph, d, t) -> p.update("smoothing", d, t));
                Map<String, double[]> absMax = new HashMap<>();
                stats.forEach((k, v) -> {
                    if (v.channelAbsMax() != null) {
                        absMax.put(k, v.channelAbsMax());
                    }
                });
                smoothed.clear();
                g = Smoothing.apply(g, absMax, smoothed);
                smoothedAxes.clear();
                for (String v : smoothed.keySet()) {
                    smoothedAxes.put(v, axes.get(v));
                }
            }
        }
        layers = Layers.find(g);
        current = g;
        return g;
    }

    /** Smoothed values: the factors their channels were divided by, and the channel axis. */
    private final Map<String, float[]> smoothed = new HashMap<>();
    private final Map<String, Integer> smoothedAxes = new HashMap<>();

    /** Whether the student's weights of {@code l} are sparser than the original layer's (and can be given back). */
    private boolean prunedLayer(Layer l) {
        Layer o = referenceLayers().get(l.name());
        if (o == null) {
            return false;
        }
        Tensor ow = o.weightValues().get(0);
        Tensor sw = l.weightValues().get(0);
        return java.util.Arrays.equals(ow.shape(), sw.shape()) && zeroFraction(sw) > zeroFraction(ow);
    }

    /** The original model's layers by name. */
    private Map<String, Layer> referenceLayers() {
        Map<String, Layer> m = new HashMap<>();
        for (Layer l : Layers.find(reference.graph())) {
            m.put(l.name(), l);
        }
        return m;
    }

    /** Stores each layer's main weight sparse (CSR / block-CSR) when that takes fewer file bytes. */
    private Graph encodeSparse(ModelQuantizer.Result q) {
        Map<String, Tensor> all = new HashMap<>();
        collectConstants(q.graph(), all);
        Map<String, Tensor> repl = new HashMap<>();
        for (ModelQuantizer.Outcome o : q.layers().values()) {
            if (o.constants().isEmpty()) {
                continue;
            }
            String name = o.constants().get(0);
            Tensor t = all.get(name);
            if (t == null || t.sparse() != null || t.rank() == 0) {
                continue;
            }
            SparseEncoder.Encoding e = SparseEncoder.best(t, SPARSE_BLOCKS);
            long dense = aligned(SparseEncoder.payloadBytes(t));
            // as SparseEncoder.encodeGraph: worth it only when it saves at least an eighth
            if (e != null && e.alignedBytes() <= dense - dense / 8) {
                repl.put(name, e.format() == Sparse.Format.BITMASK ? SparseEncoder.encodeBitmask(t)
                        : SparseEncoder.encode(t, e.blockRows(), e.blockCols()));
            }
        }
        return repl.isEmpty() ? q.graph() : replaceConstants(q.graph(), repl);
    }

    /** Bytes of a payload padded to the file's 64-byte buffer alignment. */
    private static long aligned(long n) {
        return (n + 63) / 64 * 64;
    }

    /** {@code g} with the named constants replaced wherever (in which subgraph) they live. */
    private static Graph replaceConstants(Graph g, Map<String, Tensor> repl) {
        Graph.Builder b = g.toBuilder();
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            Tensor r = repl.get(e.getKey());
            if (r != null) {
                b.initializer(e.getKey(), r);
            }
        }
        b.nodes().clear();
        for (Node n : g.nodes()) {
            Node m = n;
            for (Map.Entry<String, Attr> a : n.attrs().entrySet()) {
                if (a.getValue() instanceof Attr.GraphValue gv) {
                    m = m.withAttr(a.getKey(), new Attr.GraphValue(replaceConstants(gv.value(), repl)));
                }
            }
            b.addNode(m);
        }
        return b.build();
    }

    // ---- calibration -------------------------------------------------------------------------------------------

    /**
     * Calibrates, when there is something to calibrate: the inputs and outputs of int8-capable layers when any
     * layer may become static int8 (a range per value), and, whenever calibration data is given, the statistics
     * of the inputs of layers whose weights are quantized (column means for bias correction, Gram matrices for
     * error-feedback rounding). Sets {@link #inputStats}.
     */
    private Map<String, Ranges.Affine> calibrate(Map<String, LayerPrecision> decisions, Graph graph) {
        boolean needs = false;
        for (Layer l : layers) {
            LayerPrecision p = decisions.get(l.name());
            needs |= l.int8Capable() && (p.kind() == LayerPrecision.Kind.INT8 || options.mixedPrecision()
                    && (p.kind() == LayerPrecision.Kind.INT4 || p.kind() == LayerPrecision.Kind.CODEBOOK));
        }
        Dataset calib = options.calibration();
        if (needs && calib == null) {
            throw new InvalidInputException("static int8 needs calibration data (--calib); int8-dynamic needs none");
        }
        Map<String, Ranges.Affine> out = new HashMap<>();
        if (needs) {
            Set<String> values = new LinkedHashSet<>();
            for (Layer l : layers) {
                if (l.int8Capable()) {
                    values.add(l.input());
                    values.add(l.output());
                }
            }
            QuantOptions q = options.quant();
            values.addAll(ModelQuantizer.extraRanges(graph, q));
            Map<String, ValueStats> stats = Calibrator.calibrate(floatModel.withGraph(graph), calib, values,
                    q.method() != CalibrationMethod.MINMAX, options.runtime(), options.progress());
            for (Map.Entry<String, ValueStats> e : stats.entrySet()) {
                ValueStats s = e.getValue();
                if (s.observed()) {
                    double[] r = Ranges.choose(s, q.method(), q.percentile());
                    out.put(e.getKey(), Ranges.uint8(r[0], r[1]));
                }
            }
        }
        inputStats = Map.of();
        if (calib != null) {
            Map<String, Layer> quantized = new LinkedHashMap<>();
            Set<String> gram = new LinkedHashSet<>();
            for (Layer l : layers) {
                LayerPrecision p = decisions.get(l.name());
                if (!p.isFloat32() && p.kind() != LayerPrecision.Kind.FP16) {
                    quantized.put(l.name(), l);
                    if (options.errorFeedback()) {
                        gram.add(l.name());
                    }
                }
            }
            if (!quantized.isEmpty()) {
                inputStats = InputStatistics.collect(floatModel.withGraph(graph), calib, quantized, gram,
                        options.runtime(), options.progress());
            }
        }
        return out;
    }

    /**
     * Statistics of the inputs of the layers whose weights are quantized: column means (bias correction) and,
     * with error feedback, Gram matrices.
     */
    private Map<String, List<InputStatistics.Stats>> inputStats = Map.of();

    /** The node named {@code name} anywhere in {@code g}. */
    private static Node graphNode(Graph g, String name) {
        for (Node n : g.nodes()) {
            if (n.name().equals(name)) {
                return n;
            }
            for (Graph sub : n.subgraphs()) {
                Node f = graphNode(sub, name);
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }

    // ---- evaluation --------------------------------------------------------------------------------------------

    private Evaluator.Result evaluate(Path file, Dataset eval, ModelQuantizer.Result q) throws IOException {
        Map<String, Probe> probes = new LinkedHashMap<>();
        Map<String, Probe> byValue = new HashMap<>();
        for (ModelQuantizer.Outcome o : q.layers().values()) {
            byValue.put(o.value(), o.quantized() == null ? Probe.same(o.value())
                    : new Probe(o.value(), o.quantized(), o.scale(), o.zeroPoint(), null, 0));
        }
        // a layer input an int8 op produces may exist only in uint8
        for (ModelQuantizer.OpOutcome o : q.ops().values()) {
            byValue.put(o.value(), new Probe(o.value(), o.quantized(), o.scale(), o.zeroPoint(), null, 0));
        }
        for (Layer l : layers) {
            for (String v : List.of(l.output(), l.input())) {
                Probe p = byValue.getOrDefault(v, Probe.same(v));
                if (smoothed.containsKey(v)) {
                    p = p.withChannelFactors(smoothed.get(v), smoothedAxes.get(v));
                }
                probes.put(v, p);
            }
        }
        Set<String> nodes = new LinkedHashSet<>();
        for (Layer l : layers) {
            nodes.add(l.name());
        }
        if (eval != null) {
            return Evaluator.compare(reference, file, eval, probes, nodes, options.runtime(), options.progress());
        }
        try {
            return Evaluator.compare(reference, file, zeroSample(), probes, nodes, options.runtime(), Progress.NONE);
        } catch (HedgeException e) {
            // dynamic dimensions taken as 1 may not make a valid input (a convolution wider than the signal)
            if (notes.stream().noneMatch(n -> n.startsWith("MACs not measured"))) {
                notes.add("MACs not measured: an all-zero input at the default shapes does not run ("
                        + e.getMessage() + "); give --calib or --eval data");
            }
            return new Evaluator.Result(0, Double.NaN, Double.NaN, Double.NaN, Map.of(), Map.of(), Map.of(), Map.of());
        }
    }

    /** One all-zero sample at the default input shapes: enough to count MACs when there is no data. */
    private Dataset zeroSample() {
        try (Model m = Model.of(reference)) {
            List<int[]> shapes = m.defaultInputShapes(Map.of());
            Map<String, Tensor> feed = new LinkedHashMap<>();
            for (int i = 0; i < shapes.size(); i++) {
                var in = reference.graph().inputs().get(i);
                feed.put(in.name(), Tensor.allocate(in.dtype(), shapes.get(i)));
            }
            return Dataset.of(List.of(feed));
        }
    }

    private String missesTarget(Evaluator.Result e) {
        double t = options.targetAgreement();
        double d = options.maxAccuracyDrop();
        if (!Double.isNaN(t)) {
            if (Double.isNaN(e.agreement())) {
                throw new InvalidInputException("--target-agreement needs a model whose first output is a score "
                        + "vector (top-1 agreement is undefined here)");
            }
            if (e.agreement() < t) {
                return String.format(Locale.ROOT, "top-1 agreement %.4f < %.4f", e.agreement(), t);
            }
        }
        double m = options.maxOutputError();
        if (!Double.isNaN(m)) {
            String first = reference.graph().outputs().get(0).name();
            Evaluator.OutputMetrics om = e.outputs().get(first);
            if (om == null) {
                throw new InvalidInputException("--max-output-error needs a float first output ('" + first + "')");
            }
            if (om.maxAbsError() > m) {
                return String.format(Locale.ROOT, "max |error| of '%s' %.4g > %.4g", first, om.maxAbsError(), m);
            }
        }
        if (!Double.isNaN(d)) {
            if (Double.isNaN(e.accuracyDrop())) {
                throw new InvalidInputException("--max-accuracy-drop needs labelled evaluation data (--labels)");
            }
            if (e.accuracyDrop() > d) {
                return String.format(Locale.ROOT, "accuracy drop %.2f pt > %.2f pt", e.accuracyDrop(), d);
            }
        }
        return null;
    }

    /** The next step up for mixed precision, or null at fp32 or at the --max-precision limit. */
    private LayerPrecision raised(LayerPrecision p) {
        LayerPrecision up = p.raise();
        LayerPrecision cap = options.maxPrecision();
        return up == null || cap != null && up.step() > cap.step() ? null : up;
    }

    /**
     * Raises the precision of the layer adding the most noise: the largest increase of noise-to-signal ratio
     * from its input to its output (noise ratios of successive stages add up, so this is its own share).
     */
    private MixedPrecisionStep raiseWorst(Map<String, LayerPrecision> decisions, ModelQuantizer.Result q,
            Evaluator.Result e, String miss) {
        Layer worst = null;
        double worstNsr = -1;
        for (Layer l : layers) {
            LayerPrecision p = q.layers().get(l.name()).applied();
            if (raised(p) == null && (densified.contains(l.name()) || !prunedLayer(l))) {
                continue;
            }
            Evaluator.ValueMetrics out = e.values().get(l.output());
            if (out == null) {
                continue; // the evaluation data never reaches it (an If branch not taken): raising it changes nothing
            }
            Evaluator.ValueMetrics in = e.values().get(l.input());
            double local = out.nsr() - (in == null ? 0 : in.nsr());
            if (worst == null || local > worstNsr) {
                worst = l;
                worstNsr = local;
            }
        }
        if (worst == null) {
            return null;
        }
        LayerPrecision from = q.layers().get(worst.name()).applied();
        LayerPrecision to = raised(from);
        String fromLabel = from.label();
        String toLabel;
        if (to == null) {
            densified.add(worst.name());
            fromLabel = "sparse";
            toLabel = "dense";
        } else {
            decisions.put(worst.name(), to);
            toLabel = to.label();
        }
        Evaluator.ValueMetrics out = e.values().get(worst.output());
        String sqnr = out == null ? "not measured" : String.format(Locale.ROOT, "output SQNR %.1f dB", out.sqnrDb());
        return new MixedPrecisionStep(worst.name(), fromLabel, toLabel, String.format(Locale.ROOT,
                "%s; largest added noise-to-signal ratio %.3g (%s)", miss, Math.max(0, worstNsr), sqnr));
    }

    // ---- int8 against float speed -------------------------------------------------------------------------

    /** Per layer: the speed check's estimates and what it decided. */
    private final Map<String, String> speedNotes = new LinkedHashMap<>();

    /**
     * Gives int8 weights with float compute to each int8 layer whose int8 nodes the target host's planner
     * estimates slower than its float node ({@link SpeedCheck}): a statically quantized file has no float
     * alternative at run time. int8-weight rather than fp32: the same float kernel at load (the weights are
     * folded), with the int8 file size. Layers pinned with --layer keep their precision; full-integer targets
     * (no float outputs) need int8 everywhere. The check quantizes with weights rounded to nearest (the
     * rounding does not change the nodes or their costs), again after each round that moved a layer, until none
     * moves.
     */
    private void speedCheck(Map<String, LayerPrecision> decisions, Map<String, Ranges.Affine> activations) {
        QuantOptions q = options.quant();
        if (!q.floatOutputs()) {
            notes.add("speed check: off (full-integer target: int8 is mandatory)");
            return;
        }
        ModelQuantizer.Result r = ModelQuantizer.quantize(current, layers, decisions, activations, Map.of(), q);
        List<String> candidates = new ArrayList<>();
        int pinned = 0;
        for (ModelQuantizer.Outcome o : r.layers().values()) {
            LayerPrecision.Kind k = o.applied().kind();
            if (k == LayerPrecision.Kind.INT8 || k == LayerPrecision.Kind.INT8_DYNAMIC) {
                if (q.pinned(o.layer())) {
                    pinned++;
                } else {
                    candidates.add(o.layer());
                }
            }
        }
        if (candidates.isEmpty()) {
            if (pinned > 0) {
                notes.add("speed check: " + pinned + " int8 layers pinned with --layer, not checked");
            }
            return;
        }
        List<int[]> shapes;
        try (Model m = Model.of(reference)) {
            // dynamic dimensions as the calibration data has them (a streaming model's frame), else 1
            Map<String, int[]> seen = new HashMap<>();
            Dataset calib = options.calibration();
            if (calib != null && calib.size() > 0) {
                calib.samples().get(0).forEach((name, t) -> seen.put(name, t.shape()));
            }
            shapes = m.defaultInputShapes(seen);
        }
        int kept = 0;
        Map<String, SpeedCheck.Verdict> last = Map.of();
        // a layer moved to float gives its int8 neighbours a quantize / dequantize boundary: check them again
        List<String> open = new ArrayList<>(candidates);
        while (!open.isEmpty()) {
            last = new HashMap<>(SpeedCheck.check(current, r.graph(), open, shapes, options.speedCheck()));
            // the layers that lose on their own nodes, biggest loss first, each confirmed on the whole graph
            List<SpeedCheck.Verdict> losing = new ArrayList<>();
            for (String l : open) {
                SpeedCheck.Verdict v = last.get(l);
                if (v != null && v.int8Slower()) {
                    losing.add(v);
                }
            }
            losing.sort(java.util.Comparator.comparingDouble(v -> v.floatNanos() - v.int8Nanos()));
            List<String> slower = new ArrayList<>();
            for (SpeedCheck.Verdict local : losing) {
                String l = local.layer();
                Map<String, LayerPrecision> trial = new LinkedHashMap<>(decisions);
                trial.put(l, LayerPrecision.INT8_WEIGHT);
                ModelQuantizer.Result moved = ModelQuantizer.quantize(current, layers, trial, activations, Map.of(), q);
                SpeedCheck.Verdict v = SpeedCheck.confirm(local, r.graph(), moved.graph(), shapes,
                        options.speedCheck());
                last.put(l, v);
                if (v.int8Slower()) {
                    decisions.put(l, LayerPrecision.INT8_WEIGHT);
                    r = moved;
                    speedNotes.put(l, "kept fp32 (int8-weight, float compute), int8 slower on this host: "
                            + v.describe());
                    notes.add("layer " + l + ": kept fp32 (int8-weight): " + v.describe());
                    slower.add(l);
                }
            }
            kept += slower.size();
            if (slower.isEmpty()) {
                break;
            }
            open.removeAll(slower);
        }
        List<String> unknown = new ArrayList<>();
        for (String l : candidates) {
            SpeedCheck.Verdict v = last.get(l);
            if (speedNotes.containsKey(l)) {
                continue; // moved to float above
            }
            if (v == null || !v.estimated()) {
                unknown.add(l);
            } else {
                speedNotes.put(l, "int8 faster on this host: " + v.describe());
            }
        }
        notes.add(String.format(Locale.ROOT, "speed check: %d int8 layers compared with fp32 on this host's kernel "
                + "costs, %d kept float compute%s%s", candidates.size() - unknown.size(), kept,
                unknown.isEmpty() ? "" : "; not estimated (stay int8): " + String.join(", ", unknown),
                pinned == 0 ? "" : "; " + pinned + " pinned with --layer not checked"));
    }

    // ---- report and final write --------------------------------------------------------------------------------

    private CompressionReport report(ModelQuantizer.Result q, Evaluator.Result e, Path file, long fp32Bytes,
            List<MixedPrecisionStep> steps) throws IOException {
        Map<String, Tensor> stored = new HashMap<>();
        long fileBytes;
        try (Model m = Model.load(file)) {
            collectConstants(m.graph(), stored);
            fileBytes = Files.size(file);
        }
        List<LayerRow> rows = new ArrayList<>();
        Map<String, Tensor> original = new HashMap<>();
        collectConstants(reference.graph(), original);
        Map<String, Layer> originalLayers = referenceLayers();
        for (Layer l : layers) {
            ModelQuantizer.Outcome o = q.layers().get(l.name());
            Layer ol = originalLayers.get(l.name());
            long before = 0;
            if (ol != null) {
                for (Tensor t : ol.weightValues()) {
                    before += t.byteSize();
                }
                Tensor bias = ol.bias() == null ? null : original.get(ol.bias());
                if (bias != null) {
                    before += bias.byteSize();
                }
            }
            long after = 0;
            for (String c : o.constants()) {
                Tensor t = stored.get(c);
                if (t != null) {
                    after += payloadBytes(t);
                }
            }
            Tensor mainWeight = o.constants().isEmpty() ? null : stored.get(o.constants().get(0));
            double sparsity = mainWeight == null ? 0 : zeroFraction(mainWeight);
            Evaluator.ValueMetrics vm = e.values().get(l.output());
            long macsBefore = e.macsReference().getOrDefault(l.name(), -1L);
            long macsAfter = e.macsCompressed().getOrDefault(l.name(), -1L);
            if (macsAfter > 0 && mainWeight != null && mainWeight.sparse() != null) {
                macsAfter = Math.round(macsAfter * (1 - sparsity));
            }
            List<String> parts = new ArrayList<>();
            if (pruneNotes.containsKey(l.name())) {
                parts.add(pruneNotes.get(l.name()));
            }
            if (!o.requested().equals(o.applied())) {
                parts.add("asked " + o.requested().label() + ": " + o.note());
            } else if (!o.note().isEmpty()) {
                parts.add(o.note());
            }
            if (densified.contains(l.name())) {
                parts.add("dense again (mixed precision)");
            }
            if (speedNotes.containsKey(l.name())) {
                parts.add(speedNotes.get(l.name()));
            }
            double[] rf = refit.getOrDefault(l.name(), new double[] {Double.NaN, Double.NaN});
            rows.add(new LayerRow(l.name(), l.op().name(), l.params(), sparsity, o.applied().label(),
                    o.applied().bits(), before, after, vm == null ? Double.NaN : vm.sqnrDb(), macsBefore, macsAfter,
                    rf[0], rf[1], String.join("; ", parts)));
        }
        Map<String, Double> evaluation = new LinkedHashMap<>();
        Map<String, double[]> outputs = new LinkedHashMap<>();
        boolean evaluated = options.evaluation() != null || options.calibration() != null;
        if (evaluated) {
            evaluation.put("samples", (double) e.samples());
            if (!Double.isNaN(e.agreement())) {
                evaluation.put("top1_agreement", e.agreement());
            }
            if (!Double.isNaN(e.accuracyReference())) {
                evaluation.put("accuracy_original", e.accuracyReference());
                evaluation.put("accuracy_compressed", e.accuracyCompressed());
                evaluation.put("accuracy_drop_pt", e.accuracyDrop());
            }
            for (Evaluator.OutputMetrics om : e.outputs().values()) {
                outputs.put(om.name(), new double[] {om.sqnrDb(), om.maxAbsError(), om.meanAbsError()});
            }
        } else {
            notes.add("no calibration or evaluation data: accuracy not measured; MACs from one all-zero input");
        }
        List<CompressionReport.Int8Op> int8Ops = new ArrayList<>();
        for (ModelQuantizer.OpOutcome o : q.ops().values()) {
            int8Ops.add(new CompressionReport.Int8Op(o.node(), o.from().name()
                    + (o.activation() == null ? "" : " + " + o.activation()), o.to().name()));
        }
        return new CompressionReport(settings(), rows, fp32Bytes, fileBytes, evaluation, outputs, steps, int8Ops,
                notes);
    }

    private Map<String, String> settings() {
        QuantOptions q = options.quant();
        Map<String, String> s = new LinkedHashMap<>();
        s.put("precision", q.precision().label());
        s.put("weights", q.perTensor() ? "per-tensor" : "per-channel");
        s.put("calibration_method", q.method().label());
        if (q.method() == CalibrationMethod.PERCENTILE) {
            s.put("percentile", Double.toString(q.percentile()));
        }
        if (options.channels() != null) {
            s.put("prune_channels", Double.toString(options.channels().ratio()));
        }
        if (options.prune() != null) {
            MagnitudePruning.Options p = options.prune();
            s.put("prune", p.mode() == MagnitudePruning.Mode.N_M ? p.n() + ":" + p.m()
                    : p.mode().name().toLowerCase(Locale.ROOT) + " " + p.value() + (p.global() ? " global" : "")
                    + (p.blockRows() * p.blockCols() > 1 ? " blocks " + p.blockRows() + "x" + p.blockCols() : ""));
        }
        s.put("reconstruct", refit.isEmpty() ? "off" : options.obsMask() ? "on (OBS mask)" : "on");
        long fed = inputStats.values().stream().filter(l -> l.stream().anyMatch(x -> x != null && x.gram() != null))
                .count();
        s.put("weight_rounding", fed == 0 ? "nearest" : "error feedback (GPTQ) on " + fed + " layers");
        s.put("bias_correction", inputStats.isEmpty() ? "off" : "on");
        s.put("activation_smoothing", smoothed.size() + " layer pairs");
        s.put("int4_group", Integer.toString(q.int4Group()));
        s.put("int8_ops", q.int8Ops().label());
        if (!q.layers().isEmpty()) {
            s.put("layers", q.layers().toString());
        }
        if (options.calibration() != null) {
            s.put("calibration_samples", Integer.toString(options.calibration().size()));
        }
        if (options.evaluation() != null) {
            s.put("evaluation_samples", Integer.toString(options.evaluation().size()));
        }
        if (!Double.isNaN(options.targetAgreement())) {
            s.put("target_agreement", Double.toString(options.targetAgreement()));
        }
        if (!Double.isNaN(options.maxAccuracyDrop())) {
            s.put("max_accuracy_drop_pt", Double.toString(options.maxAccuracyDrop()));
        }
        if (!Double.isNaN(options.maxOutputError())) {
            s.put("max_output_error", Double.toString(options.maxOutputError()));
        }
        if (options.maxPrecision() != null && options.mixedPrecision()) {
            s.put("max_precision", options.maxPrecision().label());
        }
        s.put("speed_check", options.speedCheck() == null ? "off" : !q.floatOutputs() ? "off (full-integer target)"
                : "on (int8 against fp32 on this host's kernel costs)");
        return s;
    }

    /** Writes with the report in the metadata; rewrites until the report states the file's own final size. */
    private Result writeFinal(ModelDef model, CompressionReport report, Path output) throws IOException {
        CompressionReport r = report;
        ModelDef m = model;
        for (int round = 0; round < MAX_REPORT_ROUNDS; round++) {
            m = model.withMetadata(ModelDef.META_REPORT, r.toJson());
            long size = HedgeWriter.write(m, output);
            if (size == r.fileBytesAfter()) {
                break;
            }
            r = r.withFileBytesAfter(size);
        }
        return new Result(m, r, output);
    }

    private long fileSize(ModelDef model) throws IOException {
        Path tmp = Files.createTempFile(dir, ".hedge-fp32-", ".hedge");
        try {
            return HedgeWriter.write(model, tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static void collectConstants(Graph g, Map<String, Tensor> out) {
        out.putAll(g.initializers());
        for (Node n : g.nodes()) {
            for (Graph s : n.subgraphs()) {
                collectConstants(s, out);
            }
        }
    }

    /** Bytes a constant takes in the file: its payload, sparse index buffers and codebook palette. */
    static long payloadBytes(Tensor t) {
        long b = t.byteSize();
        if (t.sparse() != null) {
            b += t.sparse().rowPtr().limit() + t.sparse().colIdx().limit();
        }
        if (t.codebook() != null) {
            b += 4L * t.codebook().paletteSize();
        }
        return b;
    }

    /** Fraction of elements whose stored value is 0. */
    static double zeroFraction(Tensor t) {
        Tensor d = Decoding.densify(t);
        int n = d.elementCount();
        if (n == 0) {
            return 0;
        }
        int zeros = 0;
        for (int i = 0; i < n; i++) {
            if (d.getDouble(i) == 0) {
                zeros++;
            }
        }
        return (double) zeros / n;
    }
}
