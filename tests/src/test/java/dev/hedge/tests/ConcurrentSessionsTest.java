package dev.hedge.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.converter.Converter;
import dev.hedge.format.HedgeWriter;
import dev.hedge.io.Npy;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One loaded model shared by several threads, each with its own session, running different batch sizes at
 * the same time (so plans are built concurrently too): every result equals the single-threaded one.
 */
class ConcurrentSessionsTest {

    @TempDir
    Path tmp;

    @Test
    void sessionsOnManyThreadsShareOneModel() throws Exception {
        Path example = Path.of(System.getProperty("hedge.repo", ".."), "examples", "digits-cnn");
        Path file = tmp.resolve("digits.hedge");
        HedgeWriter.write(Converter.convert(example.resolve("model.onnx"), Converter.Options.defaults()).model(), file);
        Tensor x = Npy.read(example.resolve("test_x.npy"));
        int n = 64;
        float[] all = new float[n * 64];
        x.floats().get(0, all);
        float[] expected;
        try (Model m = Model.load(file); Session s = m.newSession()) {
            expected = s.run(Map.of("pixels", Tensor.of(all, n, 1, 8, 8))).get("logits").toFloatArray();
        }
        try (Model shared = Model.load(file)) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int batch = new int[] {1, 2, 4, 8, 16, 64}[t];
                futures.add(pool.submit(() -> {
                    int runs = 0;
                    try (Session s = shared.newSession()) {
                        for (int rep = 0; rep < 5; rep++) {
                            for (int start = 0; start < n; start += batch) {
                                float[] in = new float[batch * 64];
                                System.arraycopy(all, start * 64, in, 0, batch * 64);
                                float[] got = s.run(Map.of("pixels", Tensor.of(in, batch, 1, 8, 8))).get("logits")
                                        .toFloatArray();
                                float[] want = new float[batch * 10];
                                System.arraycopy(expected, start * 10, want, 0, batch * 10);
                                assertArrayEquals(want, got, 1e-5f, "batch " + batch + " rows from " + start);
                                runs++;
                            }
                        }
                    }
                    return runs;
                }));
            }
            int total = 0;
            for (Future<Integer> f : futures) {
                total += f.get();
            }
            pool.shutdown();
            assertEquals(5 * (64 + 32 + 16 + 8 + 4 + 1), total);
        }
    }
}
