package dev.hedge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The four-term cost fit, its file form, and the weights and rows a node's estimate is per. */
class KernelCostFitTest {

    @TempDir
    Path dir;

    /** (work, weights, rows) of the four problems {@link KernelCosts#measure} times for a linear-algebra class. */
    private static final double[][] PROBLEMS = {
        {4096, 256, 16}, {1 << 24, 65536, 256}, {4096, 4096, 1}, {65536, 65536, 1}};

    private static double[] times(KernelCost c) {
        double[] t = new double[PROBLEMS.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = c.estimate(PROBLEMS[i][0], PROBLEMS[i][1], PROBLEMS[i][2], 1, false);
        }
        return t;
    }

    @Test
    void theFitRecoversEachTermFromTheFourProblems() {
        KernelCost truth = new KernelCost(250, 0.0025, 0.004, 15);
        KernelCost fit = KernelCosts.fit(PROBLEMS, times(truth));
        assertEquals(250, fit.overheadNanos(), 1e-6);
        assertEquals(0.0025, fit.nanosPerUnit(), 1e-12);
        assertEquals(0.004, fit.nanosPerWeight(), 1e-12);
        assertEquals(15, fit.nanosPerRow(), 1e-9);
    }

    @Test
    void aTermThatNoiseMakesNegativeIsDroppedAndTheRestRefitted() {
        double[] t = times(new KernelCost(200, 0.003, 0, 10));
        // the one-row products measured faster than the square rate allows: no weight term, and still a positive
        // overhead and per-unit cost close to the others'
        t[3] -= 60;
        KernelCost fit = KernelCosts.fit(PROBLEMS, t);
        assertEquals(0, fit.nanosPerWeight());
        assertTrue(fit.overheadNanos() > 100 && fit.nanosPerUnit() > 0.0025 && fit.nanosPerUnit() < 0.0035,
                fit.toString());
        // two problems: overhead and per unit only
        KernelCost two = KernelCosts.fit(new double[][] {{4096, 0, 0}, {1 << 24, 0, 0}},
                new double[] {100 + 4096 * 0.5, 100 + (1 << 24) * 0.5});
        assertEquals(100, two.overheadNanos(), 1e-6);
        assertEquals(0.5, two.nanosPerUnit(), 1e-12);
        assertEquals(0, two.nanosPerWeight() + two.nanosPerRow());
    }

    @Test
    void theFileKeepsAllFourTermsAndReadsOldTwoTermLines() throws Exception {
        Path file = dir.resolve("costs.properties");
        Files.writeString(file, "old.class=100.0 0.5\n");
        KernelCosts costs = KernelCosts.measuring(file);
        assertEquals(new KernelCost(100, 0.5, 0, 0), costs.get("old.class"));
        KernelCost c = new KernelCost(12.5, 0.25, 0.125, 3);
        costs.put("new.class", c);
        // a measurement saves the table; a benchmark without one-row problems fits no weight or row term
        KernelCost measured = costs.get("spin.class", KernelBenchmark.of(KernelCostFitTest::spin, w -> null));
        assertEquals(0, measured.nanosPerWeight() + measured.nanosPerRow());
        KernelCosts again = KernelCosts.measuring(file);
        assertEquals(c, again.get("new.class"));
        assertEquals(measured.nanosPerUnit(), again.get("spin.class").nanosPerUnit(), measured.nanosPerUnit() * 1e-5);
        assertEquals(new KernelCost(100, 0.5, 0, 0), again.get("old.class"));
    }

    private static KernelBenchmark.Problem spin(long work) {
        return new KernelBenchmark.Problem() {
            final float[] v = new float[1024];

            @Override
            public long work() {
                return work;
            }

            @Override
            public void run() {
                float s = 1;
                for (long i = 0; i < work; i++) {
                    s = s * 0.999f + v[(int) (i & 1023)];
                }
                v[0] = s;
            }
        };
    }

    @Test
    void weightsAndRowsOfTheLinearAlgebraOps() {
        Node fc = new Node("fc", Op.Gemm, List.of("x", "w"), List.of("y"), Map.of("transB", new Attr.Int(1)));
        List<ValueType> in = List.of(new ValueType(DType.FLOAT32, new int[] {3, 64}),
                new ValueType(DType.FLOAT32, new int[] {256, 64}));
        assertEquals(3.0 * 64 * 256, Work.of(fc, in));
        assertEquals(256.0 * 64, Work.weights(fc, in));
        assertEquals(3, Work.rows(fc, in), 1e-9);
        Node conv = new Node("c", Op.Conv, List.of("x", "w"), List.of("y"),
                Map.of("pads", new Attr.Ints(new long[] {1, 1, 1, 1})));
        List<ValueType> cin = List.of(new ValueType(DType.FLOAT32, new int[] {1, 16, 8, 8}),
                new ValueType(DType.FLOAT32, new int[] {32, 16, 3, 3}));
        assertEquals(32.0 * 16 * 9, Work.weights(conv, cin));
        assertEquals(64, Work.rows(conv, cin), 1e-9);
        Node relu = Node.of("r", Op.Relu, List.of("x"), List.of("y"));
        assertEquals(0, Work.weights(relu, cin.subList(0, 1)));
        assertEquals(0, Work.rows(relu, cin.subList(0, 1)));
    }
}
