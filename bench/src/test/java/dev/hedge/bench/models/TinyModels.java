package dev.hedge.bench.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small ONNX models for tests of the bench tooling. */
public final class TinyModels {

    private TinyModels() {
    }

    /** input [1, 16] -> Gemm 16x32 -> Relu -> Gemm 32x4 -> "logits" [1, 4]. */
    public static Path mlp(Path dir) throws IOException {
        OnnxGraph g = new OnnxGraph("tiny_mlp", 5);
        g.input("input", 1, 16);
        String x = g.relu(g.linear("input", 16, 32));
        x = g.linear(x, 32, 4);
        g.rename(x, "logits");
        g.output("logits", 1, 4);
        Path p = dir.resolve("tiny-mlp.onnx");
        Files.write(p, g.model().toByteArray());
        return p;
    }
}
