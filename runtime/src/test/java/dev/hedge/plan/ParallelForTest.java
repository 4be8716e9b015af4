package dev.hedge.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.RuntimeOptions;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Intra-op parallelism: the worker pool, and kernels splitting their output over it through a frame. */
class ParallelForTest {

    /**
     * A MatMul test kernel ([m, k] x [k, n]) that is its own tile task: tile t computes a block of rows,
     * each element summing over k in order, so any thread count must give bit-identical results.
     */
    static final class RowsMatMul implements Kernel, RunContext.TileTask {
        int m;
        int k;
        int n;
        final ConcurrentLinkedQueue<Integer> workersSeen;

        RowsMatMul(ConcurrentLinkedQueue<Integer> workersSeen) {
            this.workersSeen = workersSeen;
        }

        @Override
        public void prepare(PrepareContext c) {
            m = c.inputShape(0)[0];
            k = c.inputShape(0)[1];
            n = c.inputShape(1)[1];
            c.setOutput(0, DType.FLOAT32, m, n);
        }

        @Override
        public void run(RunContext c) {
            c.parallelFor(m, this);
        }

        @Override
        public void run(RunContext c, int row, int worker) {
            if (workersSeen != null) {
                workersSeen.add(worker);
                if (worker >= c.threads()) {
                    throw new IllegalStateException("worker " + worker + " of " + c.threads());
                }
            }
            FloatBuffer a = c.input(0).floats();
            FloatBuffer b = c.input(1).floats();
            FloatBuffer y = c.output(0).floats();
            if (Float.isNaN(a.get(row * k))) {
                throw new IllegalArgumentException("NaN in row " + row);
            }
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(row * k + p) * b.get(p * n + j);
                }
                y.put(row * n + j, s);
            }
        }
    }

    static final class Backend1 implements Backend {
        final ConcurrentLinkedQueue<Integer> workersSeen;

        Backend1(ConcurrentLinkedQueue<Integer> workersSeen) {
            this.workersSeen = workersSeen;
        }

        @Override
        public String name() {
            return "rows";
        }

        @Override
        public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
            return node.op() == Op.MatMul ? new RowsMatMul(workersSeen) : null;
        }
    }

    private static Graph matmul() {
        return Graph.builder("mm")
                .addInput(ValueInfo.of("a", DType.FLOAT32, -1, 37))
                .addInput(ValueInfo.of("b", DType.FLOAT32, 37, 19))
                .addNode(Node.of("mm", Op.MatMul, List.of("a", "b"), List.of("y")))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, -1, 19))
                .build();
    }

    private static Model model(int threads, ConcurrentLinkedQueue<Integer> seen) {
        return Model.of(new ModelDef(matmul(), Map.of()),
                RuntimeOptions.reference().withThreads(threads).withBackend(new Backend1(seen)));
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void resultsAreBitIdenticalForAnyThreadCountAndMatchAScalarReference() {
        Random r = new Random(7);
        int m = 53;
        float[] a = random(r, m * 37);
        float[] b = random(r, 37 * 19);
        float[] expected = new float[m * 19];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < 19; j++) {
                float s = 0;
                for (int p = 0; p < 37; p++) {
                    s += a[i * 37 + p] * b[p * 19 + j];
                }
                expected[i * 19 + j] = s;
            }
        }
        for (int threads = 1; threads <= 4; threads++) {
            ConcurrentLinkedQueue<Integer> seen = new ConcurrentLinkedQueue<>();
            try (Model model = model(threads, seen); Session s = model.newSession()) {
                assertEquals(threads, model.threads());
                for (int rep = 0; rep < 20; rep++) {
                    float[] y = s.run(Map.of("a", Tensor.of(a, m, 37), "b", Tensor.of(b, 37, 19))).get("y")
                            .toFloatArray();
                    assertArrayEquals(expected, y, "threads " + threads);
                }
            }
            for (int w : seen) {
                assertTrue(w >= 0 && w < threads, "worker index " + w + " with " + threads + " threads");
            }
        }
    }

    @Test
    void theWorkersReallyShareTheTiles() {
        // with 2 threads and many large tiles, the worker thread (index 1) takes part
        ConcurrentLinkedQueue<Integer> seen = new ConcurrentLinkedQueue<>();
        Random r = new Random(1);
        int m = 4000;
        Tensor a = Tensor.of(random(r, m * 37), m, 37);
        Tensor b = Tensor.of(random(r, 37 * 19), 37, 19);
        try (Model model = model(2, seen); Session s = model.newSession()) {
            for (int rep = 0; rep < 50 && !seen.contains(1); rep++) {
                s.run(Map.of("a", a, "b", b));
            }
        }
        assertTrue(seen.contains(1), "no tile ran on the worker thread");
        assertTrue(seen.contains(0), "no tile ran on the calling thread");
    }

    @Test
    void steadyStateRunsAllocateNothingOnAnyThread() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported());
        Random r = new Random(3);
        int m = 512;
        List<Tensor> in = List.of(Tensor.of(random(r, m * 37), m, 37), Tensor.of(random(r, 37 * 19), 37, 19));
        try (Model model = model(3, null)) {
            Frame frame = model.plan(List.of(new int[] {m, 37}, new int[] {37, 19})).newFrame();
            for (int i = 0; i < 200; i++) {
                frame.run(in);
            }
            List<Long> ids = new ArrayList<>();
            ids.add(Thread.currentThread().getId());
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("hedge-mm-")) {
                    ids.add(t.getId());
                }
            }
            assertEquals(3, ids.size(), "caller plus two workers");
            long[] idArr = ids.stream().mapToLong(Long::longValue).toArray();
            long least = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 5; attempt++) {
                // the measurement allocates its result array on this thread: subtract an empty measurement
                long[] b0 = mx.getThreadAllocatedBytes(idArr);
                long[] b1 = mx.getThreadAllocatedBytes(idArr);
                for (int i = 0; i < 50; i++) {
                    frame.run(in);
                }
                long[] after = mx.getThreadAllocatedBytes(idArr);
                long sum = 0;
                for (int i = 0; i < idArr.length; i++) {
                    sum += (after[i] - b1[i]) - (b1[i] - b0[i]);
                }
                least = Math.min(least, sum);
            }
            assertEquals(0, least, "bytes allocated over 50 runs of 512 tiles on 3 threads");
        }
    }

    @Test
    void aFailingTileFailsTheRunNamingTheNodeAndThePoolStaysUsable() {
        Random r = new Random(5);
        int m = 300;
        float[] a = random(r, m * 37);
        float[] bad = a.clone();
        bad[200 * 37] = Float.NaN;
        Tensor b = Tensor.of(random(r, 37 * 19), 37, 19);
        try (Model model = model(2, null); Session s = model.newSession()) {
            HedgeException e = assertThrows(HedgeException.class,
                    () -> s.run(Map.of("a", Tensor.of(bad, m, 37), "b", b)));
            assertTrue(e.getMessage().contains("mm") && e.getMessage().contains("NaN in row 200"), e.getMessage());
            float[] y = s.run(Map.of("a", Tensor.of(a, m, 37), "b", b)).get("y").toFloatArray();
            for (float v : y) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void concurrentSessionsOfOneModelShareThePoolAndStayCorrect() throws Exception {
        Random r = new Random(11);
        int m = 257;
        float[] a = random(r, m * 37);
        Tensor b = Tensor.of(random(r, 37 * 19), 37, 19);
        float[] expected;
        try (Model one = model(1, null); Session s = one.newSession()) {
            expected = s.run(Map.of("a", Tensor.of(a, m, 37), "b", b)).get("y").toFloatArray();
        }
        try (Model model = model(2, null)) {
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread[] ts = new Thread[3];
            for (int t = 0; t < ts.length; t++) {
                ts[t] = new Thread(() -> {
                    try (Session s = model.newSession()) {
                        Tensor at = Tensor.of(a, m, 37);
                        for (int i = 0; i < 200; i++) {
                            assertArrayEquals(expected, s.run(Map.of("a", at, "b", b)).get("y").toFloatArray());
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join();
            }
            assertEquals(List.of(), errors);
        }
    }

    @Test
    void poolRunsEveryTileExactlyOnceAndNestedLoopsRunInline() {
        try (WorkerPool pool = new WorkerPool(3, "test-pool")) {
            for (int n : new int[] {0, 1, 2, 3, 7, 100, 1000}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                pool.run(n, null, (ctx, tile, worker) -> hits.incrementAndGet(tile));
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "tile " + i + " of " + n);
                }
            }
            AtomicIntegerArray inner = new AtomicIntegerArray(10 * 10);
            pool.run(10, null, (ctx, tile, worker) -> pool.run(10, null,
                    (c2, t2, w2) -> {
                        // a nested loop keeps the worker index of the tile that started it
                        if (w2 != worker) {
                            throw new IllegalStateException("nested worker " + w2 + " in tile of " + worker);
                        }
                        inner.incrementAndGet(tile * 10 + t2);
                    }));
            for (int i = 0; i < 100; i++) {
                assertEquals(1, inner.get(i));
            }
            AtomicIntegerArray plain = new AtomicIntegerArray(64);
            pool.run(64, plain::incrementAndGet);
            for (int i = 0; i < 64; i++) {
                assertEquals(1, plain.get(i));
            }
        }
    }
}
