package dev.hedge.kernels.cpu;

import java.nio.ByteBuffer;
import java.util.Random;

/**
 * Timing harness for the native kernels, single thread: int8 GEMM (M = N = K = 512, FC variant including
 * activation packing and requantization) per instruction set, and 80 %-sparse vs dense int8 FC layers.
 * Run: {@code runtime/bench-native.sh} (or this class's main with runtime classes, test classes and the
 * javacpp jar on the class path). Prints GOPS = 2 * M * N * K / time (dense-equivalent for sparse).
 */
public final class NativeBench {

    private NativeBench() {
    }

    public static void main(String[] args) {
        if (!NativeBackend.isAvailable()) {
            System.out.println("native kernels unavailable: " + NativeBackend.unavailableReason());
            return;
        }
        System.out.println("CPU instruction sets: " + NativeBackend.supportedIsas());
        if (args.length > 0 && args[0].equals("qelt")) {
            quantizedElementwise();
            return;
        }
        for (String isa : NativeBackend.supportedIsas()) {
            dense(isa, 512, 512, 512);
        }
        String best = new NativeBackend().isa();
        dense(best, 2048, 2048, 2048);
        for (int m : new int[] {1, 16, 64, 128}) {
            sparseVsDense(best, m, 1024, 1024, 0.8);
        }
        sparseConv(best, 576, 96, 28 * 28, 0.8);
        sparseConv(best, 256, 256, 56 * 56, 0.8);
        depthwiseF32(32, 112);
    }

    /** 3x3 stride-1 float depthwise conv through a Model: native backend vs the Java reference. */
    static void depthwiseF32(int c, int hw) {
        Random r = new Random(4);
        dev.hedge.runtime.Tensor w = dev.hedge.runtime.Tensor.allocate(dev.hedge.runtime.DType.FLOAT32, c, 1, 3, 3);
        for (int i = 0; i < w.elementCount(); i++) {
            w.setFloat(i, (float) r.nextGaussian());
        }
        dev.hedge.ir.Graph g = dev.hedge.ir.Graph.builder("dw")
                .addInput(dev.hedge.ir.ValueInfo.of("x", dev.hedge.runtime.DType.FLOAT32, 1, c, hw, hw))
                .initializer("w", w)
                .addNode(dev.hedge.ir.Node.of("dw", dev.hedge.ops.Op.Conv, java.util.List.of("x", "w"), java.util.List.of("y"))
                        .withAttr("group", new dev.hedge.ir.Attr.Int(c))
                        .withAttr("pads", new dev.hedge.ir.Attr.Ints(new long[] {1, 1, 1, 1})))
                .addOutput(new dev.hedge.ir.ValueInfo("y", null, null)).build();
        dev.hedge.runtime.Tensor x = dev.hedge.runtime.Tensor.allocate(dev.hedge.runtime.DType.FLOAT32, 1, c, hw, hw);
        for (int i = 0; i < x.elementCount(); i++) {
            x.setFloat(i, (float) r.nextGaussian());
        }
        double[] t = new double[2];
        for (int pass = 0; pass < 2; pass++) {
            dev.hedge.runtime.RuntimeOptions o = dev.hedge.runtime.RuntimeOptions.reference();
            if (pass == 0) {
                o = o.withBackend(new NativeBackend());
            }
            try (dev.hedge.runtime.Model m = dev.hedge.runtime.Model.of(new dev.hedge.ir.ModelDef(g, java.util.Map.of()), o);
                    dev.hedge.runtime.Session s = m.newSession()) {
                java.util.Map<String, dev.hedge.runtime.Tensor> in = java.util.Map.of("x", x);
                t[pass] = time(() -> s.run(in));
            }
        }
        System.out.printf("fp32 depthwise 3x3 %dx%dx%d: native %.1f us, Java reference %.1f us%n", c, hw, hw,
                t[0] * 1e6, t[1] * 1e6);
    }

    /**
     * int8 residual Add and classifier-head GlobalAveragePool at MobileNetV2 sizes: the native QLinearAdd /
     * QLinearGlobalAveragePool, the Java reference, and the float path an int8 graph took before (native
     * DequantizeLinear of the operands, native fp32 op, native QuantizeLinear).
     */
    static void quantizedElementwise() {
        int[][] shapes = {{1, 24, 56, 56}, {1, 32, 28, 28}, {1, 64, 14, 14}, {1, 96, 14, 14}, {1, 160, 7, 7}};
        for (int[] shape : shapes) {
            dev.hedge.ir.Graph q = graph(shape, false, true);
            dev.hedge.ir.Graph f = graph(shape, false, false);
            System.out.printf("Add %s: QLinearAdd native %.1f us, Java %.1f us; DQ+Add+Q native %.1f us%n",
                    java.util.Arrays.toString(shape), run(q, shape, true) * 1e6, run(q, shape, false) * 1e6,
                    run(f, shape, true) * 1e6);
        }
        int[] head = {1, 1280, 7, 7};
        System.out.printf("GlobalAveragePool %s: QLinearGlobalAveragePool native %.1f us, Java %.1f us; "
                + "DQ+GAP+Q native %.1f us%n", java.util.Arrays.toString(head), run(graph(head, true, true), head, true) * 1e6,
                run(graph(head, true, true), head, false) * 1e6, run(graph(head, true, false), head, true) * 1e6);
    }

    private static dev.hedge.ir.Graph graph(int[] shape, boolean pool, boolean quantized) {
        long[] dims = java.util.Arrays.stream(shape).asLongStream().toArray();
        dev.hedge.ir.Graph.Builder b = dev.hedge.ir.Graph.builder("q")
                .addInput(dev.hedge.ir.ValueInfo.of("a", dev.hedge.runtime.DType.UINT8, dims))
                .initializer("s", dev.hedge.runtime.Tensor.of(new float[] {0.05f}))
                .initializer("z", dev.hedge.runtime.Tensor.ofBytes(dev.hedge.runtime.DType.UINT8, new byte[] {(byte) 120}))
                .initializer("s2", dev.hedge.runtime.Tensor.of(new float[] {0.07f}))
                .initializer("z2", dev.hedge.runtime.Tensor.ofBytes(dev.hedge.runtime.DType.UINT8, new byte[] {(byte) 110}));
        if (!pool) {
            b.addInput(dev.hedge.ir.ValueInfo.of("b", dev.hedge.runtime.DType.UINT8, dims));
        }
        if (quantized && pool) {
            b.addNode(dev.hedge.ir.Node.of("gap", dev.hedge.ops.Op.QLinearGlobalAveragePool,
                    java.util.List.of("a", "s", "z", "s2", "z2"), java.util.List.of("y")));
        } else if (quantized) {
            b.addNode(dev.hedge.ir.Node.of("add", dev.hedge.ops.Op.QLinearAdd,
                    java.util.List.of("a", "s", "z", "b", "s", "z", "s2", "z2"), java.util.List.of("y")));
        } else {
            b.addNode(dev.hedge.ir.Node.of("da", dev.hedge.ops.Op.DequantizeLinear, java.util.List.of("a", "s", "z"),
                    java.util.List.of("fa")));
            if (pool) {
                b.addNode(dev.hedge.ir.Node.of("gap", dev.hedge.ops.Op.GlobalAveragePool, java.util.List.of("fa"),
                        java.util.List.of("f")));
            } else {
                b.addNode(dev.hedge.ir.Node.of("db", dev.hedge.ops.Op.DequantizeLinear, java.util.List.of("b", "s", "z"),
                        java.util.List.of("fb")));
                b.addNode(dev.hedge.ir.Node.of("add", dev.hedge.ops.Op.Add, java.util.List.of("fa", "fb"),
                        java.util.List.of("f")));
            }
            b.addNode(dev.hedge.ir.Node.of("q", dev.hedge.ops.Op.QuantizeLinear, java.util.List.of("f", "s2", "z2"),
                    java.util.List.of("y")));
        }
        return b.addOutput(new dev.hedge.ir.ValueInfo("y", null, null)).build();
    }

    /** Seconds per run of the graph on the native backend (or the Java reference alone). */
    private static double run(dev.hedge.ir.Graph g, int[] shape, boolean nativeBackend) {
        Random r = new Random(9);
        java.util.Map<String, dev.hedge.runtime.Tensor> in = new java.util.LinkedHashMap<>();
        for (dev.hedge.ir.ValueInfo v : g.inputs()) {
            byte[] bytes = new byte[dev.hedge.runtime.Tensor.elementCount(shape)];
            r.nextBytes(bytes);
            in.put(v.name(), dev.hedge.runtime.Tensor.ofBytes(dev.hedge.runtime.DType.UINT8, bytes, shape));
        }
        dev.hedge.runtime.RuntimeOptions o = dev.hedge.runtime.RuntimeOptions.reference()
                .withKernelCosts(dev.hedge.kernels.KernelCosts.fixed(java.util.Map.of()));
        if (nativeBackend) {
            o = o.withBackend(new NativeBackend());
        }
        try (dev.hedge.runtime.Model m = dev.hedge.runtime.Model.of(new dev.hedge.ir.ModelDef(g, java.util.Map.of()), o);
                dev.hedge.runtime.Session s = m.newSession()) {
            return time(() -> s.run(in));
        }
    }

    private static ByteBuffer randomBytes(Random r, long n) {
        ByteBuffer b = Native.allocate(n);
        byte[] v = new byte[(int) n];
        r.nextBytes(v);
        b.put(0, v);
        return b;
    }

    private static ByteBuffer requant(int n, int outType) {
        float[] mult = new float[n];
        java.util.Arrays.fill(mult, 1e-4f);
        return Requant.build(mult, new int[n], 3, outType == Native.OUT_U8 ? 0 : -128, outType == Native.OUT_U8 ? 255 : 127,
                outType);
    }

    /** Runs body until ~0.5 s (after warm-up) and returns seconds per call. */
    private static double time(Runnable body) {
        for (int i = 0; i < 5; i++) {
            body.run();
        }
        long n = 1;
        while (true) {
            long t0 = System.nanoTime();
            for (long i = 0; i < n; i++) {
                body.run();
            }
            long dt = System.nanoTime() - t0;
            if (dt > 300_000_000L) {
                double best = dt / 1e9 / n;
                for (int rep = 0; rep < 3; rep++) {
                    t0 = System.nanoTime();
                    for (long i = 0; i < n; i++) {
                        body.run();
                    }
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9 / n);
                }
                return best;
            }
            n *= 2;
        }
    }

    static void dense(String isaName, int m, int n, int k) {
        int isa = NativeBackend.withIsa(isaName).isaIndex();
        Random r = new Random(1);
        ByteBuffer a = randomBytes(r, (long) m * k);
        ByteBuffer b = randomBytes(r, (long) k * n);
        ByteBuffer zp = QuantInputs.ints(new int[] {0});
        int code = Native.chooseFamily(isa, b, 0, false, n, k, 1, n, n);
        ByteBuffer pb = Native.allocate(Native.panelBytes(code, Native.WHO_WT, n, k));
        Native.packPanel(code, Native.WHO_WT, pb, 0, b, 0, false, n, k, 1, n, zp, 0, 0);
        ByteBuffer pa = Native.allocate(Native.rowBytes(code, Native.WHO_ACT, m, k));
        ByteBuffer q = requant(n, Native.OUT_U8);
        ByteBuffer out = Native.allocate((long) m * n);
        double s = time(() -> {
            Native.packActRows(code, pa, 0, a, 0, true, m, k, k, zp, 0, 0);
            Native.qgemm(code, true, pa, 0, m, pb, 0, n, k, q, 0, out, 0, n);
        });
        double gops = 2.0 * m * n * k / s / 1e9;
        System.out.printf("int8 GEMM %-12s M=N=K=%-5d %8.3f ms  %7.1f GOPS%n", isaName, m, s * 1e3, gops);
    }

    /** FC y[m][n] = x[m][k] w[k][n] with 80 % of the weight blocks zero: dense GEMM vs each sparse layout. */
    static void sparseVsDense(String isaName, int m, int n, int k, double sparsity) {
        int isa = NativeBackend.withIsa(isaName).isaIndex();
        Random r = new Random(2);
        ByteBuffer x = randomBytes(r, (long) m * k);
        ByteBuffer zp = QuantInputs.ints(new int[] {0});
        ByteBuffer q = requant(n, Native.OUT_U8);
        ByteBuffer out = Native.allocate((long) m * n);
        int[][] shapes = {{1, 1}, {1, 4}, {8, 1}};
        System.out.printf("FC %dx%d, batch %d, %.0f%% sparse:%n", k, n, m, sparsity * 100);
        // dense weights with the same zeros as the 1x4 case, for a like-for-like dense time
        for (int[] bs : shapes) {
            byte[][] w = blockSparse(r, n, k, bs[0], bs[1], sparsity);
            ByteBuffer wkn = Native.allocate((long) k * n); // dense B[k][n]
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < k; j++) {
                    wkn.put(j * n + i, w[i][j]);
                }
            }
            if (bs[0] == 1 && bs[1] == 1) {
                int code = Native.chooseFamily(isa, wkn, 0, false, n, k, 1, n, n);
                ByteBuffer pb = Native.allocate(Native.panelBytes(code, Native.WHO_WT, n, k));
                Native.packPanel(code, Native.WHO_WT, pb, 0, wkn, 0, false, n, k, 1, n, zp, 0, 0);
                ByteBuffer pa = Native.allocate(Native.rowBytes(code, Native.WHO_ACT, m, k));
                double s = time(() -> {
                    Native.packActRows(code, pa, 0, x, 0, true, m, k, k, zp, 0, 0);
                    Native.qgemm(code, true, pa, 0, m, pb, 0, n, k, q, 0, out, 0, n);
                });
                System.out.printf("  dense          %9.1f us  %7.1f GOPS%n", s * 1e6, 2.0 * m * n * k / s / 1e9);
            }
            boolean k4 = isa == Native.ISA_AVX512;
            SparseWeights sw0 = SparseWeights.int8((rr, kk) -> w[rr][kk], n, k, bs[0], bs[1], new int[n], k4);
            SparseWeights sw = k4 && m == 1 ? sw0.withGemvLanes() : sw0;
            long ppad = Native.sparsePad(m);
            ByteBuffer x2 = Native.allocate(Native.sparseX2Bytes(k, ppad));
            ByteBuffer cT = Native.allocate((long) n * m);
            ByteBuffer panel = Native.allocate(Native.panelBytes(Native.k4PanelFamily(m), Native.WHO_ACT, m, k));
            ByteBuffer tmp = Native.allocate(Math.max(Native.im2colTmpBytes(Native.k4PanelFamily(m), m),
                    k4 ? Native.sparseGemvTmpBytes(sw) : 0));
            double s = time(() -> {
                if (k4 && m == 1) {
                    Native.sparseK4Gemv(sw, x, 0, true, 0, tmp, 0, q, 0, out, 0);
                } else if (k4) {
                    Native.sparseK4PackRows(panel, 0, x, 0, true, 0, m, k, k);
                    Native.sparseK4Gemm(sw, panel, 0, m, q, 0, out, 0, n, true, 0, sw.blockRowCount());
                } else {
                    Native.sparsePackX(isa, x, 0, true, 0, k, m, 1, k, x2, 0, ppad, null, 0);
                    Native.sparseQGemm(isa, sw, x2, 0, m, ppad, null, 0, q, 0, m == 1 ? out : cT, 0, m);
                }
                if (m > 1 && !k4) {
                    Native.transpose(1, cT, 0, n, m, out, 0);
                }
            });
            System.out.printf("  sparse %dx%d    %9.1f us  %7.1f GOPS dense-equivalent (%d blocks)%n", bs[0], bs[1],
                    s * 1e6, 2.0 * m * n * k / s / 1e9, sw.blocks());
        }
    }

    /** 1x1 conv, Cout x Cin weights 80 % sparse, over a 56x56 plane: dense GEMM vs sparse. */
    static void sparseConv(String isaName, int cout, int cin, int plane, double sparsity) {
        int isa = NativeBackend.withIsa(isaName).isaIndex();
        Random r = new Random(3);
        ByteBuffer x = randomBytes(r, (long) cin * plane);
        ByteBuffer zp = QuantInputs.ints(new int[] {0});
        ByteBuffer q = requant(cout, Native.OUT_U8);
        ByteBuffer out = Native.allocate((long) cout * plane);
        System.out.printf("1x1 conv %d->%d over %d pixels, %.0f%% sparse:%n", cin, cout, plane, sparsity * 100);
        byte[][] w = blockSparse(r, cout, cin, 1, 4, sparsity);
        ByteBuffer wb = Native.allocate((long) cout * cin);
        for (int i = 0; i < cout; i++) {
            wb.put(i * cin, w[i]);
        }
        int code = Native.chooseFamily(isa, wb, 0, false, cout, cin, cin, 1, plane);
        ByteBuffer pw = Native.allocate(Native.rowBytes(code, Native.WHO_WT, cout, cin));
        Native.packRows(code, Native.WHO_WT, pw, 0, wb, 0, false, cout, cin, cin, 1, zp, 0, 0);
        Geom g = new Geom(cin, 1, plane, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, plane);
        ByteBuffer panel = Native.allocate(Native.panelBytes(code, Native.WHO_ACT, plane, cin));
        ByteBuffer tmp = Native.allocate(Native.im2colTmpBytes(code, plane));
        double sd = time(() -> {
            Native.packIm2col(code, panel, 0, x, 0, true, g, 0, tmp, 0);
            Native.qgemm(code, false, pw, 0, cout, panel, 0, plane, cin, q, 0, out, 0, plane);
        });
        double ops = 2.0 * cout * cin * plane;
        System.out.printf("  dense          %9.1f us  %7.1f GOPS%n", sd * 1e6, ops / sd / 1e9);
        double sp = time(() -> Native.packIm2col(code, panel, 0, x, 0, true, g, 0, tmp, 0));
        System.out.printf("  (activation packing alone %.1f us)%n", sp * 1e6);
        for (int[] bs : new int[][] {{1, 1}, {1, 4}, {8, 1}}) {
            byte[][] ws = blockSparse(r, cout, cin, bs[0], bs[1], sparsity);
            boolean k4 = isa == Native.ISA_AVX512;
            SparseWeights sw = SparseWeights.int8((rr, kk) -> ws[rr][kk], cout, cin, bs[0], bs[1], new int[cout], k4);
            long ppad = Native.sparsePad(plane);
            ByteBuffer x2 = Native.allocate(Native.sparseX2Bytes(cin, ppad));
            double s = time(() -> {
                if (k4) {
                    Native.packIm2col(Native.k4PanelFamily(plane), panel, 0, x, 0, true, g, 0, tmp, 0);
                    Native.sparseK4Gemm(sw, panel, 0, plane, q, 0, out, 0, plane, false, 0, sw.blockRowCount());
                } else {
                    Native.sparsePackX(isa, x, 0, true, 0, cin, plane, plane, 1, x2, 0, ppad, null, 0);
                    Native.sparseQGemm(isa, sw, x2, 0, plane, ppad, null, 0, q, 0, out, 0, plane);
                }
            });
            System.out.printf("  sparse %dx%d    %9.1f us  %7.1f GOPS dense-equivalent%n", bs[0], bs[1], s * 1e6,
                    ops / s / 1e9);
        }
    }

    /** Random int8 rows x cols with the given fraction of br x bc blocks all zero (others nonzero). */
    static byte[][] blockSparse(Random r, int rows, int cols, int br, int bc, double sparsity) {
        byte[][] w = new byte[rows][cols];
        for (int i = 0; i < rows; i += br) {
            for (int j = 0; j < cols; j += bc) {
                if (r.nextDouble() < sparsity) {
                    continue;
                }
                for (int a = 0; a < br; a++) {
                    for (int b = 0; b < bc; b++) {
                        int v = r.nextInt(255) - 127;
                        w[i + a][j + b] = (byte) (v == 0 ? 1 : v);
                    }
                }
            }
        }
        return w;
    }
}
