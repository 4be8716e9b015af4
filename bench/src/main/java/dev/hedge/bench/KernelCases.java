package dev.hedge.bench;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.Work;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Single-node models for the kernel micro-benchmarks: typical layer shapes of the benchmark CNNs and
 * MLPs, fp32 and (for the int8 kernels) quantized. Each knows its multiply-adds, so results convert to
 * GFLOP/s (fp32: two operations per multiply-add) or GOPS (int8).
 */
public final class KernelCases {

    /** One case: the model, its input, and its dense multiply-adds. */
    public record Case(String name, ModelDef model, Tensor input, double macs, boolean int8) {
    }

    public static final List<String> NAMES = List.of("matmul-512", "conv3x3-64x56", "conv1x1-96x28x576",
            "conv7x7s2-3x224", "conv3x3-256x14", "fc-1280x1000", "qmatmul-512", "qconv3x3-64x56");

    private KernelCases() {
    }

    public static Case get(String name) {
        switch (name) {
            case "matmul-512": return matmul(name, 512, 512, 512);
            case "conv3x3-64x56": return conv(name, 64, 64, 56, 3, 1, false);
            case "conv1x1-96x28x576": return conv(name, 96, 576, 28, 1, 1, false);
            case "conv7x7s2-3x224": return conv(name, 3, 64, 224, 7, 2, false);
            case "conv3x3-256x14": return conv(name, 256, 256, 14, 3, 1, false);
            case "fc-1280x1000": return fc(name, 1280, 1000);
            case "qmatmul-512": return qmatmul(name, 512);
            case "qconv3x3-64x56": return conv(name, 64, 64, 56, 3, 1, true);
            default: throw new IllegalArgumentException("unknown kernel case '" + name + "'; cases: " + NAMES);
        }
    }

    private static Tensor random(Random r, int... shape) {
        float[] v = new float[Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return Tensor.of(v, shape);
    }

    private static Tensor randomBytes(Random r, DType dt, int... shape) {
        byte[] v = new byte[Tensor.elementCount(shape)];
        r.nextBytes(v);
        return Tensor.ofBytes(dt, v, shape);
    }

    private static double work(Node n, int[]... shapes) {
        List<ValueType> t = new ArrayList<>();
        for (int[] s : shapes) {
            t.add(new ValueType(DType.FLOAT32, s));
        }
        return Work.of(n, t);
    }

    private static Case matmul(String name, int m, int k, int n) {
        Random r = new Random(1);
        Node node = Node.of("mm", Op.MatMul, List.of("a", "b"), List.of("y"));
        Graph g = Graph.builder(name).addInput(ValueInfo.of("a", DType.FLOAT32, m, k))
                .initializer("b", random(r, k, n)).addNode(node)
                .addOutput(ValueInfo.of("y", DType.FLOAT32, m, n)).build();
        return new Case(name, new ModelDef(g, Map.of()), random(r, m, k), work(node, new int[] {m, k},
                new int[] {k, n}), false);
    }

    private static Case fc(String name, int in, int out) {
        Random r = new Random(2);
        Node node = new Node("fc", Op.Gemm, List.of("x", "w", "b"), List.of("y"), Map.of("transB", new Attr.Int(1)));
        Graph g = Graph.builder(name).addInput(ValueInfo.of("x", DType.FLOAT32, 1, in))
                .initializer("w", random(r, out, in)).initializer("b", random(r, out)).addNode(node)
                .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, out)).build();
        return new Case(name, new ModelDef(g, Map.of()), random(r, 1, in),
                work(node, new int[] {1, in}, new int[] {out, in}), false);
    }

    private static Case conv(String name, int cin, int cout, int size, int k, int stride, boolean int8) {
        Random r = new Random(3);
        int p = k / 2;
        int out = (size + 2 * p - k) / stride + 1;
        Map<String, Attr> attrs = Map.of("strides", new Attr.Ints(new long[] {stride, stride}),
                "pads", new Attr.Ints(new long[] {p, p, p, p}));
        Graph.Builder g = Graph.builder(name);
        Node node;
        Tensor input;
        if (!int8) {
            node = new Node("conv", Op.Conv, List.of("x", "w", "b"), List.of("y"), attrs);
            g.addInput(ValueInfo.of("x", DType.FLOAT32, 1, cin, size, size))
                    .initializer("w", random(r, cout, cin, k, k)).initializer("b", random(r, cout))
                    .addOutput(ValueInfo.of("y", DType.FLOAT32, 1, cout, out, out));
            input = random(r, 1, cin, size, size);
        } else {
            node = new Node("qconv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"),
                    List.of("y"), attrs);
            g.addInput(ValueInfo.of("x", DType.UINT8, 1, cin, size, size))
                    .initializer("xs", Tensor.scalar(0.02f)).initializer("xz", Tensor.ofBytes(DType.UINT8, new byte[] {
                        (byte) 128}))
                    .initializer("w", randomBytes(r, DType.INT8, cout, cin, k, k)).initializer("ws", Tensor.scalar(0.01f))
                    .initializer("wz", Tensor.ofBytes(DType.INT8, new byte[] {0})).initializer("ys", Tensor.scalar(0.5f))
                    .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                    .addOutput(ValueInfo.of("y", DType.UINT8, 1, cout, out, out));
            input = randomBytes(r, DType.UINT8, 1, cin, size, size);
        }
        g.addNode(node);
        double macs = (double) cout * out * out * cin * k * k;
        return new Case(name, new ModelDef(g.build(), Map.of()), input, macs, int8);
    }

    private static Case qmatmul(String name, int s) {
        Random r = new Random(4);
        Node node = Node.of("qmm", Op.QLinearMatMul, List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"),
                List.of("y"));
        Graph g = Graph.builder(name).addInput(ValueInfo.of("a", DType.UINT8, s, s))
                .initializer("as", Tensor.scalar(0.02f)).initializer("az", Tensor.ofBytes(DType.UINT8, new byte[] {
                    (byte) 128}))
                .initializer("b", randomBytes(r, DType.INT8, s, s)).initializer("bs", Tensor.scalar(0.01f))
                .initializer("bz", Tensor.ofBytes(DType.INT8, new byte[] {0})).initializer("ys", Tensor.scalar(2f))
                .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128})).addNode(node)
                .addOutput(ValueInfo.of("y", DType.UINT8, s, s)).build();
        return new Case(name, new ModelDef(g, Map.of()), randomBytes(r, DType.UINT8, s, s), (double) s * s * s, true);
    }
}
