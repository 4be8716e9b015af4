package dev.hedge.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.Model;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test models compute what the tests' scalar references say (so server tests compare against them). */
class TestModelsTest {

    @TempDir
    Path dir;

    @Test
    void affineMatchesItsReference() throws Exception {
        try (Model m = Model.load(TestModels.write(TestModels.affine(3f), dir.resolve("a.hedge")));
                Session s = m.newSession()) {
            float[] x = {1, 2, 3, 4, -1, -2, -3, -4};
            Map<String, Tensor> out = s.run(Map.of("x", Tensor.of(x, 2, 4)));
            float[] y = out.get("y").toFloatArray();
            for (int r = 0; r < 2; r++) {
                float[] row = java.util.Arrays.copyOfRange(x, r * 4, r * 4 + 4);
                assertArrayEquals(TestModels.affineY(row, 3f), java.util.Arrays.copyOfRange(y, r * 4, r * 4 + 4));
            }
            assertArrayEquals(new float[] {10, -10}, out.get("s").toFloatArray(), 1e-6f);
        }
    }

    @Test
    void protocolExampleMatchesItsReference() throws Exception {
        try (Model m = Model.load(TestModels.write(TestModels.protocolExample(), dir.resolve("p.hedge")));
                Session s = m.newSession()) {
            Tensor in0 = Tensor.allocate(DType.UINT32, 2, 2);
            for (int i = 0; i < 4; i++) {
                in0.setLong(i, i + 1);
            }
            Map<String, Tensor> out = s.run(Map.of("input0", in0,
                    "input1", Tensor.of(new boolean[] {true, false, true}, 3)));
            assertArrayEquals(new float[] {5, 7, 4, 6, 5, 7}, out.get("output0").toFloatArray());
        }
    }

    @Test
    void slowAndWorkRun() throws Exception {
        try (Model m = Model.load(TestModels.write(TestModels.slow(64, 2), dir.resolve("s.hedge")));
                Session s = m.newSession()) {
            float v = s.run(Map.of("x", Tensor.of(new float[] {0.5f}, 1, 1))).get("y").toFloatArray()[0];
            float e = (float) Math.tanh(Math.tanh(0.5)) * 64 * 64;
            assertEquals(e, v, e * 1e-4);
        }
        try (Model m = Model.load(TestModels.write(TestModels.work(16), dir.resolve("w.hedge")));
                Session s = m.newSession()) {
            assertEquals(3 * 16, s.run(Map.of("x", Tensor.of(new float[3 * 64], 3, 64))).get("y").elementCount());
        }
    }
}
