package dev.hedge.converter.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.converter.Progress;
import dev.hedge.converter.data.Dataset;
import dev.hedge.converter.quantize.QTestGraphs;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Tensor;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Evaluation figures for perturbations whose effect is known exactly. */
class EvaluatorTest {

    @Test
    void scalingALayerByOnePercentGivesFortyDecibels() {
        ModelDef ref = QTestGraphs.mlp();
        Graph g = ref.graph();
        float[] w2 = g.initializers().get("w2").toFloatArray();
        float[] b2 = g.initializers().get("b2").toFloatArray();
        for (int i = 0; i < w2.length; i++) {
            w2[i] *= 1.01f;
        }
        for (int i = 0; i < b2.length; i++) {
            b2[i] *= 1.01f;
        }
        // fc2 computes 1.01 y: noise 0.01 y, so SQNR 10 log10(1 / 0.0001) = 40 dB; fc1 is untouched
        ModelDef comp = ref.withGraph(g.toBuilder().initializer("w2", Tensor.of(w2, 4, 8))
                .initializer("b2", Tensor.of(b2, 4)).build());
        Dataset data = QTestGraphs.samples("x", 3, 20, 1, 6);
        Evaluator.Result r = Evaluator.compare(ref, comp, data, Map.of("h", Probe.same("h"), "y", Probe.same("y")),
                Set.of("fc1", "fc2"), RuntimeOptions.reference(), Progress.NONE);
        assertEquals(40, r.values().get("y").sqnrDb(), 1e-3);
        assertEquals(Double.POSITIVE_INFINITY, r.values().get("h").sqnrDb());
        assertEquals(40, r.outputs().get("y").sqnrDb(), 1e-3);
        assertEquals(1.0, r.agreement(), 0.0, "scaling keeps the argmax");
        assertEquals(48L, r.macsReference().get("fc1"));
        assertEquals(32L, r.macsCompressed().get("fc2"));
    }

    @Test
    void quantizedAndRescaledProbesAreDecodedBeforeComparing() {
        ModelDef ref = QTestGraphs.mlp();
        Dataset data = QTestGraphs.samples("x", 4, 5, 1, 6);
        // the same model, probed as if its 'h' were stored with channel factors of 1: identical values
        float[] ones = new float[8];
        java.util.Arrays.fill(ones, 1f);
        Evaluator.Result same = Evaluator.compare(ref, ref, data, Map.of("h", Probe.same("h").withChannelFactors(ones,
                -1)), Set.of(), RuntimeOptions.reference(), Progress.NONE);
        assertEquals(Double.POSITIVE_INFINITY, same.values().get("h").sqnrDb());
        // factors of 2 on a value that was not rescaled: the decoded value is 2h, noise = h, SQNR 0 dB
        float[] twos = new float[8];
        java.util.Arrays.fill(twos, 2f);
        Evaluator.Result doubled = Evaluator.compare(ref, ref, data, Map.of("h", Probe.same("h").withChannelFactors(
                twos, -1)), Set.of(), RuntimeOptions.reference(), Progress.NONE);
        assertEquals(0, doubled.values().get("h").sqnrDb(), 1e-9);
        assertTrue(Double.isNaN(doubled.accuracyReference()), "no labels, no accuracy");
    }
}
