package dev.hedge.converter.prune;

import static dev.hedge.converter.prune.PruneGraphs.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MagnitudePruningTest {

    private static final Graph MLP = PruneGraphs.mlp(1, 3, 16, 32, 24, 8);

    private static double[] w(Graph g, String name) {
        return g.initializers().get(name).toDoubleArray();
    }

    private static int zeros(double[] v) {
        int z = 0;
        for (double x : v) {
            z += x == 0 ? 1 : 0;
        }
        return z;
    }

    @Test
    void sparsityPerLayerRemovesExactlyTheSmallestMagnitudes() {
        MagnitudePruning.Result r = MagnitudePruning.prune(MLP,
                MagnitudePruning.Options.sparsity(0.6).withSkipFirstLast(false));
        for (String name : List.of("w0", "w1", "w2")) {
            double[] before = w(MLP, name);
            double[] after = w(r.graph(), name);
            int k = (int) Math.floor(0.6 * before.length);
            assertEquals(k, zeros(after), name);
            // reference: the k-th smallest magnitude separates pruned from kept
            double[] mags = Arrays.stream(before).map(Math::abs).sorted().toArray();
            for (int i = 0; i < before.length; i++) {
                if (after[i] == 0) {
                    assertTrue(Math.abs(before[i]) <= mags[k - 1], name + "[" + i + "]");
                } else {
                    assertEquals(before[i], after[i], 0, "kept weights are unchanged");
                    assertTrue(Math.abs(before[i]) >= mags[k - 1]);
                }
            }
        }
        assertEquals(0.6, r.layers().get(1).sparsity(), 0.01);
    }

    @Test
    void firstAndLastLayersAreSkippedByDefault() {
        MagnitudePruning.Result r = MagnitudePruning.prune(MLP, MagnitudePruning.Options.sparsity(0.5));
        assertEquals(0, zeros(w(r.graph(), "w0")));
        assertEquals(0, zeros(w(r.graph(), "w2")));
        assertEquals(24 * 32 / 2, zeros(w(r.graph(), "w1")));
        assertEquals("skipped: first layer", r.layers().get(0).rule());
        assertEquals("skipped: last layer", r.layers().get(2).rule());
        assertSame(MLP.initializers().get("w0"), r.graph().initializers().get("w0"));
    }

    @Test
    void thresholdZeroesEverythingBelowIt() {
        MagnitudePruning.Result r = MagnitudePruning.prune(MLP,
                MagnitudePruning.Options.threshold(0.8).withSkipFirstLast(false));
        for (String name : List.of("w0", "w1", "w2")) {
            double[] before = w(MLP, name);
            double[] after = w(r.graph(), name);
            for (int i = 0; i < before.length; i++) {
                assertEquals(Math.abs(before[i]) < 0.8 ? 0 : before[i], after[i], 0);
            }
        }
    }

    @Test
    void globalSparsityUsesOneThresholdAcrossLayers() {
        MagnitudePruning.Result r = MagnitudePruning.prune(MLP,
                MagnitudePruning.Options.sparsity(0.7).withGlobal(true).withSkipFirstLast(false));
        double maxPruned = 0;
        double minKept = Double.MAX_VALUE;
        int total = 0;
        int pruned = 0;
        for (String name : List.of("w0", "w1", "w2")) {
            double[] before = w(MLP, name);
            double[] after = w(r.graph(), name);
            total += before.length;
            for (int i = 0; i < before.length; i++) {
                if (after[i] == 0) {
                    pruned++;
                    maxPruned = Math.max(maxPruned, Math.abs(before[i]));
                } else {
                    minKept = Math.min(minKept, Math.abs(before[i]));
                }
            }
        }
        assertEquals((int) Math.floor(0.7 * total), pruned);
        assertTrue(maxPruned <= minKept);
        assertTrue(r.layers().get(0).rule().startsWith("global sparsity 0.7"));
        assertEquals(0.7, r.overallSparsity(), 1e-3);
    }

    @Test
    void overridesAndSkipListNameLayersByNodeOrWeight() {
        MagnitudePruning.Result r = MagnitudePruning.prune(MLP, MagnitudePruning.Options.sparsity(0.5)
                .withOverrides(Map.of("fc0", 0.25)).withSkip(Set.of("w1")));
        assertEquals(16 * 32 / 4, zeros(w(r.graph(), "w0")), "the override wins over the first-layer skip");
        assertEquals(0, zeros(w(r.graph(), "w1")));
        assertEquals("skipped: listed", r.layers().get(1).rule());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MagnitudePruning.prune(MLP,
                MagnitudePruning.Options.sparsity(0.5).withSkip(Set.of("fc9"))));
        assertTrue(e.getMessage().contains("'fc9'") && e.getMessage().contains("[fc0, fc1, fc2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MagnitudePruning.Options.sparsity(1.5));
    }

    @Test
    void twoOfFourKeepsTheTwoLargestOfEveryFourAlongTheInputAxis() {
        // Gemm transB=1 [N,K] (K contiguous), Gemm transB=0 [K,N] (K strided) and Conv [M,C,kh,kw] (C strided)
        Graph.Builder b = PruneGraphs.graph("x", 2, 12);
        b.initializer("wt", PruneGraphs.random(5, 6, 12));
        b.initializer("wn", PruneGraphs.random(6, 6, 10));
        b.initializer("wc", PruneGraphs.random(7, 3, 8, 2, 2));
        b.addNode(node("a", Op.Gemm, "x,wt->h", "transB", 1));
        b.addNode(node("b", Op.Gemm, "h,wn->y"));
        b.addNode(node("r", Op.Reshape, "y,shape->img"));
        b.initializer("shape", Tensor.of(new long[] {2, 5, 2, 1}, 4));
        b.addNode(node("c", Op.Conv, "z,wc->out"));
        b.addInput(ValueInfo.of("z", DType.FLOAT32, 1, 8, 3, 3));
        b.addOutput(ValueInfo.of("out", DType.FLOAT32, 1, 3, 2, 2));
        Graph g = b.build();
        MagnitudePruning.Result r = MagnitudePruning.prune(g,
                MagnitudePruning.Options.nOfM(2, 4).withSkipFirstLast(false));
        checkNofM(w(g, "wt"), w(r.graph(), "wt"), 6, 12, 1, 2, 4);
        checkNofM(w(g, "wn"), w(r.graph(), "wn"), 1, 6, 10, 2, 4);
        checkNofM(w(g, "wc"), w(r.graph(), "wc"), 3, 8, 4, 2, 4);
        assertEquals("2:4", r.layers().get(0).rule());
    }

    /** Weights [outer, dim, inner]: each run of m along dim keeps its n largest (the tail run of 2 keeps 2). */
    private static void checkNofM(double[] before, double[] after, int outer, int dim, int inner, int n, int m) {
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                for (int s = 0; s < dim; s += m) {
                    List<Double> mags = new ArrayList<>();
                    int kept = 0;
                    int len = Math.min(m, dim - s);
                    for (int j = 0; j < len; j++) {
                        mags.add(Math.abs(before[(o * dim + s + j) * inner + in]));
                    }
                    mags.sort(null);
                    double cut = mags.get(Math.max(0, len - n));
                    for (int j = 0; j < len; j++) {
                        int i = (o * dim + s + j) * inner + in;
                        if (after[i] != 0) {
                            kept++;
                            assertEquals(before[i], after[i], 0);
                            assertTrue(Math.abs(before[i]) >= cut);
                        }
                    }
                    assertEquals(Math.min(n, len), kept);
                }
            }
        }
    }

    @Test
    void blockPruningRemovesWholeRowBlocks() {
        MagnitudePruning.Result r = MagnitudePruning.prune(MLP,
                MagnitudePruning.Options.sparsity(0.5).withBlock(1, 4).withSkipFirstLast(false));
        double[] after = w(r.graph(), "w1");
        assertEquals(24 * 32 / 2, zeros(after));
        for (int i = 0; i < after.length; i += 4) {
            int z = zeros(Arrays.copyOfRange(after, i, i + 4));
            assertTrue(z == 0 || z == 4, "block at " + i + " is partly pruned");
        }
        assertTrue(r.layers().get(1).rule().endsWith("in 1x4 blocks"));
        SparseEncoder.Encoding e = SparseEncoder.best(r.graph().initializers().get("w1"), SparseEncoder.DEFAULT_BLOCKS);
        assertTrue(e.blockCols() >= 4, "block pruning encodes best as block-CSR: " + e);
    }

    @Test
    void keepingEverythingIsANoOp() {
        Tensor x = PruneGraphs.random(9, 3, 16);
        Tensor before = TestRuntime.run(MLP, Map.of("x", x));
        for (MagnitudePruning.Options o : List.of(MagnitudePruning.Options.sparsity(0),
                MagnitudePruning.Options.threshold(0), MagnitudePruning.Options.nOfM(4, 4))) {
            MagnitudePruning.Result r = MagnitudePruning.prune(MLP, o.withSkipFirstLast(false));
            for (String name : List.of("w0", "w1", "w2")) {
                assertSame(MLP.initializers().get(name), r.graph().initializers().get(name), o.toString());
            }
            assertFalse(r.layers().stream().anyMatch(MagnitudePruning.LayerStats::pruned));
            assertEquals(0, PruneGraphs.maxAbsDiff(before, TestRuntime.run(r.graph(), Map.of("x", x))), 0);
        }
    }

    @Test
    void prunedModelComputesWithTheZeroedWeights() {
        Tensor x = PruneGraphs.random(9, 3, 16);
        MagnitudePruning.Result r = MagnitudePruning.prune(MLP, MagnitudePruning.Options.sparsity(0.5));
        // reference: x -> relu(x W0ᵀ + b0) -> relu(. W1ᵀ + b1) -> . W2ᵀ + b2, in plain Java
        double[] h = x.toDoubleArray();
        int[] widths = {16, 32, 24, 8};
        for (int l = 0; l < 3; l++) {
            double[] wv = w(r.graph(), "w" + l);
            double[] bv = w(r.graph(), "b" + l);
            double[] next = new double[3 * widths[l + 1]];
            for (int n = 0; n < 3; n++) {
                for (int o = 0; o < widths[l + 1]; o++) {
                    double s = bv[o];
                    for (int i = 0; i < widths[l]; i++) {
                        s += h[n * widths[l] + i] * wv[o * widths[l] + i];
                    }
                    next[n * widths[l + 1] + o] = l < 2 ? Math.max(0, s) : s;
                }
            }
            h = next;
        }
        Tensor y = TestRuntime.run(r.graph(), Map.of("x", x));
        for (int i = 0; i < h.length; i++) {
            assertEquals(h[i], y.getDouble(i), 1e-4);
        }
    }
}
