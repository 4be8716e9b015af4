package dev.hedge.profiles.partition;

import dev.hedge.converter.Converter;
import dev.hedge.io.Npy;
import dev.hedge.ir.ModelDef;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** The bundled example model, converted (fp32), and slices of its held-out samples. */
public final class Digits {

    private Digits() {
    }

    public static Path dir() {
        return Path.of(System.getProperty("hedge.repo", "..")).resolve("examples/digits-cnn");
    }

    public static ModelDef converted() throws IOException {
        return Converter.convert(dir().resolve("model.onnx"), new Converter.Options(true, Map.of())).model();
    }

    /** The first {@code n} test samples, float32 [n, 1, 8, 8]. */
    public static Tensor samples(int n) throws IOException {
        Tensor all = Npy.read(dir().resolve("test_x.npy"));
        float[] v = all.toFloatArray();
        float[] head = java.util.Arrays.copyOf(v, n * 64);
        return Tensor.of(head, n, 1, 8, 8);
    }
}
