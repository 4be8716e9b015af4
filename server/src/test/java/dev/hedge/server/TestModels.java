package dev.hedge.server;

import dev.hedge.format.HedgeWriter;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Dim;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Small models written as .hedge files for the server tests, with scalar references where tests need them. */
final class TestModels {

    static final float[] AFFINE_W = {1f, -2f, 0.5f, 0f};
    static final float[] AFFINE_B = {0.1f, 0.2f, -0.3f, 0.4f};

    private TestModels() {
    }

    private static ValueInfo dyn(String name, DType dt, long... dims) {
        List<Dim> d = new java.util.ArrayList<>();
        d.add(Dim.dynamic("N"));
        for (long v : dims) {
            d.add(Dim.of(v));
        }
        return new ValueInfo(name, dt, d);
    }

    private static Node node(String name, Op op, List<String> in, List<String> out, Map<String, Attr> attrs) {
        return new Node(name, op, in, out, attrs);
    }

    static Path write(ModelDef m, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        HedgeWriter.write(m, file);
        return file;
    }

    /**
     * x FP32 [N,4] -> y = Relu(x * w + b) [N,4] and s = ReduceSum(x, axis 1, keepdims) [N,1].
     * {@code last} replaces w[3], so two versions of the model give different answers.
     */
    static ModelDef affine(float last) {
        float[] w = AFFINE_W.clone();
        w[3] = last;
        Graph g = Graph.builder("affine")
                .addInput(dyn("x", DType.FLOAT32, 4))
                .addOutput(dyn("y", DType.FLOAT32, 4))
                .addOutput(dyn("s", DType.FLOAT32, 1))
                .initializer("w", Tensor.of(w, 4))
                .initializer("b", Tensor.of(AFFINE_B.clone(), 4))
                .initializer("axes", Tensor.of(new long[] {1}, 1))
                .addNode(Node.of("mul", Op.Mul, List.of("x", "w"), List.of("xw")))
                .addNode(Node.of("add", Op.Add, List.of("xw", "b"), List.of("z")))
                .addNode(Node.of("relu", Op.Relu, List.of("z"), List.of("y")))
                .addNode(Node.of("sum", Op.ReduceSum, List.of("x", "axes"), List.of("s")))
                .build();
        return new ModelDef(g, Map.of("producer", "server tests"));
    }

    /** The scalar reference of {@link #affine}'s y for one row. */
    static float[] affineY(float[] row, float last) {
        float[] w = AFFINE_W.clone();
        w[3] = last;
        float[] y = new float[4];
        for (int i = 0; i < 4; i++) {
            float z = row[i] * w[i] + AFFINE_B[i];
            y[i] = Math.max(0f, z);
        }
        return y;
    }

    /**
     * The Open Inference Protocol's example model: input0 UINT32 [2,2], input1 BOOL [3] ->
     * output0 FP32 [3,2] with output0[i][j] = input1[i] + (input0[0][j] + input0[1][j]).
     */
    static ModelDef protocolExample() {
        Graph g = Graph.builder("mymodel")
                .addInput(ValueInfo.of("input0", DType.UINT32, 2, 2))
                .addInput(ValueInfo.of("input1", DType.BOOL, 3))
                .addOutput(ValueInfo.of("output0", DType.FLOAT32, 3, 2))
                .initializer("ax0", Tensor.of(new long[] {0}, 1))
                .initializer("ax1", Tensor.of(new long[] {1}, 1))
                .addNode(node("c0", Op.Cast, List.of("input0"), List.of("f0"), Map.of("to", new Attr.Int(1))))
                .addNode(node("c1", Op.Cast, List.of("input1"), List.of("f1"), Map.of("to", new Attr.Int(1))))
                .addNode(Node.of("col", Op.ReduceSum, List.of("f0", "ax0"), List.of("colsum")))
                .addNode(Node.of("unsq", Op.Unsqueeze, List.of("f1", "ax1"), List.of("f1c")))
                .addNode(Node.of("add", Op.Add, List.of("f1c", "colsum"), List.of("output0")))
                .build();
        return new ModelDef(g, Map.of("producer", "server tests"));
    }

    /**
     * A model whose cost is set by {@code size} and {@code reps}: x FP32 [1,1] is expanded to [size,size],
     * passed through Tanh {@code reps} times and summed to y [1,1].
     */
    static ModelDef slow(int size, int reps) {
        Graph.Builder b = Graph.builder("slow")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, 1))
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, 1))
                .initializer("shape", Tensor.of(new long[] {size, size}, 2))
                .addNode(Node.of("expand", Op.Expand, List.of("x", "shape"), List.of("t0")));
        for (int i = 0; i < reps; i++) {
            b.addNode(Node.of("tanh" + i, Op.Tanh, List.of("t" + i), List.of("t" + (i + 1))));
        }
        b.addNode(Node.of("sum", Op.ReduceSum, List.of("t" + reps), List.of("y")));
        return new ModelDef(b.build(), Map.of("producer", "server tests"));
    }

    /**
     * x FP32 [N,64] -> y = Tanh(x W) [N,k] computed as ReduceSum(Unsqueeze(x) * W, axis 1): a few hundred
     * microseconds per row, batchable along N.
     */
    static ModelDef work(int k) {
        float[] w = new float[64 * k];
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.1);
        }
        Graph g = Graph.builder("work")
                .addInput(dyn("x", DType.FLOAT32, 64))
                .addOutput(dyn("y", DType.FLOAT32, k))
                .initializer("W", Tensor.of(w, 64, k))
                .initializer("ax2", Tensor.of(new long[] {2}, 1))
                .initializer("ax1", Tensor.of(new long[] {1}, 1))
                .addNode(Node.of("unsq", Op.Unsqueeze, List.of("x", "ax2"), List.of("x3")))
                .addNode(Node.of("mul", Op.Mul, List.of("x3", "W"), List.of("p")))
                .addNode(node("sum", Op.ReduceSum, List.of("p", "ax1"), List.of("h"),
                        Map.of("keepdims", new Attr.Int(0))))
                .addNode(Node.of("tanh", Op.Tanh, List.of("h"), List.of("y")))
                .build();
        return new ModelDef(g, Map.of("producer", "server tests"));
    }

    /**
     * An image model for the browser test: pixels FP32 [N,1,8,8] -> logits [N,10] with logits[k] the sum of
     * image row k (k < 8), so a bright row 5 reads as class 5. It carries a per-layer compression report in the
     * metadata, as converted models do.
     */
    static ModelDef digits8() {
        float[] w = new float[64 * 10];
        for (int p = 0; p < 64; p++) {
            w[p * 10 + p / 8] = 1f;
        }
        Graph g = Graph.builder("digits")
                .addInput(new ValueInfo("pixels", DType.FLOAT32, List.of(Dim.dynamic("N"), Dim.of(1), Dim.of(8),
                        Dim.of(8))))
                .addOutput(dyn("logits", DType.FLOAT32, 10))
                .initializer("W", Tensor.of(w, 64, 10))
                .initializer("ax2", Tensor.of(new long[] {2}, 1))
                .initializer("ax1", Tensor.of(new long[] {1}, 1))
                .addNode(node("flat", Op.Flatten, List.of("pixels"), List.of("x"), Map.of("axis", new Attr.Int(1))))
                .addNode(Node.of("unsq", Op.Unsqueeze, List.of("x", "ax2"), List.of("x3")))
                .addNode(Node.of("mul", Op.Mul, List.of("x3", "W"), List.of("p")))
                .addNode(node("sum", Op.ReduceSum, List.of("p", "ax1"), List.of("logits"),
                        Map.of("keepdims", new Attr.Int(0))))
                .build();
        String report = "{\"layers\":["
                + "{\"layer\":\"dense_1\",\"op\":\"MatMul\",\"params\":640,\"dtype\":\"int8\","
                + "\"bytes_before\":2560,\"bytes_after\":640,\"max_abs_error\":0.0012},"
                + "{\"layer\":\"bias\",\"op\":\"Add\",\"params\":10,\"dtype\":\"fp32\","
                + "\"bytes_before\":40,\"bytes_after\":40,\"max_abs_error\":0}],"
                + "\"total_bytes_before\":2600,\"total_bytes_after\":680}";
        return new ModelDef(g, Map.of("producer", "server tests", ModelDef.META_REPORT, report));
    }
}
