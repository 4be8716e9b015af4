package dev.hedge.converter.quantize;

import dev.hedge.converter.Progress;
import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.eval.Tap;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Runs the float model over the calibration data and gathers {@link ValueStats} for the named float32
 * values (node outputs anywhere in the model, or graph inputs): the range in a first pass and, for the
 * histogram-based methods, a histogram over it in a second.
 */
public final class Calibrator {

    private Calibrator() {
    }

    /** {@code runtime}: backends to run the float model on ahead of the reference kernels. */
    public static Map<String, ValueStats> calibrate(ModelDef model, Dataset data, Set<String> values,
            boolean histograms, RuntimeOptions runtime, Progress progress) {
        return calibrate(model, data, values, Map.of(), histograms, runtime, progress);
    }

    /** As above, also gathering per-channel means of the values in {@code channelAxes} (value → channel axis). */
    public static Map<String, ValueStats> calibrate(ModelDef model, Dataset data, Set<String> values,
            Map<String, Integer> channelAxes, boolean histograms, RuntimeOptions runtime, Progress progress) {
        Map<String, ValueStats> stats = new LinkedHashMap<>();
        for (String v : values) {
            ValueStats s = new ValueStats();
            if (channelAxes.containsKey(v)) {
                s.withChannelMeans(channelAxes.get(v));
            }
            stats.put(v, s);
        }
        boolean[] second = {false};
        Map<String, Integer> inputs = new HashMap<>();
        for (var in : model.graph().inputs()) {
            if (values.contains(in.name())) {
                inputs.put(in.name(), 0);
            }
        }
        Tap tap = new Tap(n -> n.outputs().stream().anyMatch(values::contains), (n, ctx) -> {
            for (int i = 0; i < n.outputs().size(); i++) {
                ValueStats s = stats.get(n.output(i));
                Tensor t = ctx.output(i);
                if (s != null && t != null && t.dtype() == DType.FLOAT32) {
                    if (second[0]) {
                        s.observeHistogram(t);
                    } else {
                        s.observeRange(t);
                    }
                }
            }
        }, runtime);
        int passes = histograms ? 2 : 1;
        try (Model m = Model.of(model, tap.options()); Session session = m.newSession()) {
            for (int pass = 0; pass < passes; pass++) {
                second[0] = pass == 1;
                if (pass == 1) {
                    for (ValueStats s : stats.values()) {
                        if (s.observed()) {
                            s.startHistogram();
                        }
                    }
                }
                String phase = passes == 1 ? "calibration" : pass == 0 ? "calibration (ranges)"
                        : "calibration (histograms)";
                data.run(session, (i, feed, out) -> {
                    for (String in : inputs.keySet()) {
                        Tensor t = feed.get(in);
                        ValueStats s = stats.get(in);
                        if (t != null && t.dtype() == DType.FLOAT32) {
                            if (second[0]) {
                                s.observeHistogram(t);
                            } else {
                                s.observeRange(t);
                            }
                        }
                    }
                    progress.update(phase, i + 1, data.size());
                });
            }
        }
        return stats;
    }
}
