package dev.hedge.kernels.cpu;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.ops.Op;
import dev.hedge.plan.StepBenchmarks;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Workloads that time the native kernel classes for {@link dev.hedge.kernels.KernelCosts}: one-node models
 * planned on the backend alone, their kernel called bare ({@link StepBenchmarks#bare}: what a real step's
 * kernel pays, staging, packing of activations, requantization, but not the frame's per-step dispatch, priced
 * on its own as {@link StepBenchmarks#STEP}, nor a frame run per call). Sizes are square, as for the other
 * backends' sgemm classes, so the per-multiply-add costs compare; the dense products also time one row
 * ({@link KernelBenchmark#rowProblem}) for their per-weight cost.
 */
final class NativeBenchmarks {

    /** Stored fraction of the sparse benchmarks' weights: one 1x4 block in four. */
    static final int KEEP_ONE_BLOCK_IN = 4;
    private static final int BLOCK_COLS = 4;

    private NativeBenchmarks() {
    }

    /** QLinearMatMul [s, s] x [s, s], uint8 activations, int8 constant weights, per-tensor scales. */
    static KernelBenchmark s8gemm(NativeBackend backend) {
        return KernelBenchmark.of(work -> {
            int s = side(work, 1);
            return s8gemm(backend, s, s);
        }, weights -> s8gemm(backend, 1, Math.max(BLOCK_COLS, (int) Math.round(Math.sqrt((double) weights)))));
    }

    /** [m, s] x [s, s]. */
    private static KernelBenchmark.Problem s8gemm(NativeBackend backend, int m, int s) {
        Random r = new Random(1);
        Tensor b = bytes(DType.INT8, r, s, s);
        return problem(backend, qmatmul(b, m), bytes(DType.UINT8, r, m, s), (long) m * s * s, (long) s * s, m);
    }

    /**
     * QLinearConv 3x3, padding 1, c channels in and out over about c pixels (a square im2col product); the one-row
     * problem one output pixel.
     */
    static KernelBenchmark s8conv(NativeBackend backend) {
        return KernelBenchmark.of(work -> {
            int c = Math.max(1, (int) Math.round(Math.cbrt(work / 9.0)));
            int side = Math.max(1, (int) Math.round(Math.sqrt(c)));
            return s8conv(backend, c, side);
        }, weights -> s8conv(backend, Math.max(1, (int) Math.round(Math.sqrt(weights / 9.0))), 1));
    }

    private static KernelBenchmark.Problem s8conv(NativeBackend backend, int c, int side) {
        Random r = new Random(6);
        Tensor w = bytes(DType.INT8, r, c, c, 3, 3);
        Graph g = Graph.builder("bench")
                .addInput(ValueInfo.of("x", DType.UINT8, 1, c, side, side))
                .initializer("xs", Tensor.of(new float[] {0.02f}))
                .initializer("xz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                .initializer("w", w)
                .initializer("ws", Tensor.of(new float[] {0.01f}))
                .initializer("wz", Tensor.ofBytes(DType.INT8, new byte[] {0}))
                .initializer("ys", Tensor.of(new float[] {0.5f}))
                .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                .addNode(new Node("conv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"),
                        List.of("y"), Map.of("pads", new Attr.Ints(new long[] {1, 1, 1, 1}))))
                .addOutput(new ValueInfo("y", null, null))
                .build();
        long pixels = (long) side * side;
        return problem(backend, g, bytes(DType.UINT8, r, 1, c, side, side), 9L * c * c * pixels, 9L * c * c, pixels);
    }

    /**
     * A depthwise 3x3 convolution, padding 1, c channels over about work / 9c pixels (work = 9 c pixels), int8
     * (QLinearConv) or float32 (Conv): the direct kernels, whose int8 form can lose to the float one.
     */
    static KernelBenchmark dwconv(NativeBackend backend, boolean int8) {
        return work -> {
            int c = Math.max(2, (int) Math.round(Math.cbrt(work / 9.0)));
            int side = Math.max(1, (int) Math.round(Math.sqrt(work / (9.0 * c))));
            Random r = new Random(7);
            Map<String, Attr> attrs = Map.of("pads", new Attr.Ints(new long[] {1, 1, 1, 1}),
                    "group", new Attr.Int(c));
            Graph.Builder g = Graph.builder("bench");
            Tensor x;
            if (int8) {
                g.addInput(ValueInfo.of("x", DType.UINT8, 1, c, side, side))
                        .initializer("xs", Tensor.of(new float[] {0.02f}))
                        .initializer("xz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                        .initializer("w", bytes(DType.INT8, r, c, 1, 3, 3))
                        .initializer("ws", Tensor.of(new float[] {0.01f}))
                        .initializer("wz", Tensor.ofBytes(DType.INT8, new byte[] {0}))
                        .initializer("ys", Tensor.of(new float[] {0.5f}))
                        .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                        .addNode(new Node("dw", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"),
                                List.of("y"), attrs));
                x = bytes(DType.UINT8, r, 1, c, side, side);
            } else {
                Tensor w = Tensor.allocate(DType.FLOAT32, c, 1, 3, 3);
                for (int i = 0; i < w.elementCount(); i++) {
                    w.setFloat(i, (float) r.nextGaussian());
                }
                g.addInput(ValueInfo.of("x", DType.FLOAT32, 1, c, side, side))
                        .initializer("w", w)
                        .addNode(new Node("dw", Op.Conv, List.of("x", "w"), List.of("y"), attrs));
                x = Tensor.allocate(DType.FLOAT32, 1, c, side, side);
                for (int i = 0; i < x.elementCount(); i++) {
                    x.setFloat(i, (float) r.nextGaussian());
                }
            }
            g.addOutput(new ValueInfo("y", null, null));
            return problem(backend, g.build(), x, 9L * c * side * side, 0, 0);
        };
    }

    /** The same product with sparse int8 weights ({@link #KEEP_ONE_BLOCK_IN}). */
    static KernelBenchmark sparseS8(NativeBackend backend) {
        return work -> {
            int s = side(work, KEEP_ONE_BLOCK_IN);
            Random r = new Random(2);
            Tensor b = sparse(DType.INT8, r, s);
            return problem(backend, qmatmul(b, s), bytes(DType.UINT8, r, s, s), storedMacs(b, s), 0, 0);
        };
    }

    /** Gemm [s, s] x [s, s]^T in float32 with sparse constant weights. */
    static KernelBenchmark sparseF32(NativeBackend backend) {
        return work -> {
            int s = side(work, KEEP_ONE_BLOCK_IN);
            Random r = new Random(3);
            Tensor w = sparse(DType.FLOAT32, r, s);
            Graph g = Graph.builder("bench")
                    .addInput(ValueInfo.of("x", DType.FLOAT32, s, s))
                    .initializer("w", w)
                    .addNode(new Node("gemm", Op.Gemm, List.of("x", "w"), List.of("y"),
                            Map.of("transB", new Attr.Int(1))))
                    .addOutput(new ValueInfo("y", null, null))
                    .build();
            Tensor x = Tensor.allocate(DType.FLOAT32, s, s);
            for (int i = 0; i < x.elementCount(); i++) {
                x.setFloat(i, (float) r.nextGaussian());
            }
            return problem(backend, g, x, storedMacs(w, s), 0, 0);
        };
    }

    /**
     * A 1x1 Conv as the square product [s, s] x [s, s] (s channels in and out over s pixels), float32 with
     * constant weights: the same product as the other backends' sgemm classes, through the conv kernel.
     */
    static KernelBenchmark convF32(NativeBackend backend) {
        return KernelBenchmark.of(work -> {
            int s = Math.max(1, (int) Math.round(Math.cbrt((double) work)));
            return conv1x1(backend, s, s);
        }, weights -> conv1x1(backend, Math.max(1, (int) Math.round(Math.sqrt((double) weights))), 1));
    }

    /** A 1x1 Conv of s channels in and out over {@code pixels} pixels. */
    private static KernelBenchmark.Problem conv1x1(NativeBackend backend, int s, int pixels) {
        Random r = new Random(4);
        Tensor w = Tensor.allocate(DType.FLOAT32, s, s, 1, 1);
        for (int i = 0; i < w.elementCount(); i++) {
            w.setFloat(i, (float) r.nextGaussian());
        }
        Graph g = Graph.builder("bench")
                .addInput(ValueInfo.of("x", DType.FLOAT32, 1, s, 1, pixels))
                .initializer("w", w)
                .addNode(Node.of("conv", Op.Conv, List.of("x", "w"), List.of("y")))
                .addOutput(new ValueInfo("y", null, null))
                .build();
        Tensor x = Tensor.allocate(DType.FLOAT32, 1, s, 1, pixels);
        for (int i = 0; i < x.elementCount(); i++) {
            x.setFloat(i, (float) r.nextGaussian());
        }
        return problem(backend, g, x, (long) s * s * pixels, (long) s * s, pixels);
    }

    /**
     * QuantizeLinear of a float vector (work = elements). Never compared by the planner (the reference
     * QuantizeLinear has no class); the converter adds it to an int8 layer's estimate for its float boundaries.
     */
    static KernelBenchmark quantize(NativeBackend backend) {
        return work -> {
            // the small problem a layer's worth of outputs, where the per-call cost shows
            int n = (int) (work <= 4096 ? 16 : Math.min(work, 1 << 24));
            Random r = new Random(3);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) r.nextGaussian();
            }
            Graph g = Graph.builder("bench")
                    .addInput(ValueInfo.of("x", DType.FLOAT32, n))
                    .initializer("s", Tensor.of(new float[] {0.02f}))
                    .initializer("z", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                    .addNode(Node.of("q", Op.QuantizeLinear, List.of("x", "s", "z"), List.of("y")))
                    .addOutput(new ValueInfo("y", null, null))
                    .build();
            return problem(backend, g, Tensor.of(v, n), n, 0, 0);
        };
    }

    /** QLinearAdd of a uint8 vector to itself (a residual connection; work = output elements). */
    static KernelBenchmark qelt(NativeBackend backend) {
        return work -> {
            int n = (int) Math.max(64, Math.min(work, 1 << 24));
            Graph g = Graph.builder("bench")
                    .addInput(ValueInfo.of("x", DType.UINT8, n))
                    .initializer("s", Tensor.of(new float[] {0.02f}))
                    .initializer("z", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                    .initializer("ys", Tensor.of(new float[] {0.03f}))
                    .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 120}))
                    .addNode(Node.of("add", Op.QLinearAdd, List.of("x", "s", "z", "x", "s", "z", "ys", "yz"),
                            List.of("y")))
                    .addOutput(new ValueInfo("y", null, null))
                    .build();
            return problem(backend, g, bytes(DType.UINT8, new Random(5), n), n, 0, 0);
        };
    }

    /** QLinearGlobalAveragePool of [1, c, 7, 7] uint8 planes (a classifier head; work = input elements). */
    static KernelBenchmark qpool(NativeBackend backend) {
        return work -> {
            int c = (int) Math.max(1, Math.min(work / 49, 1 << 18));
            Graph g = Graph.builder("bench")
                    .addInput(ValueInfo.of("x", DType.UINT8, 1, c, 7, 7))
                    .initializer("s", Tensor.of(new float[] {0.02f}))
                    .initializer("z", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                    .initializer("ys", Tensor.of(new float[] {0.01f}))
                    .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 120}))
                    .addNode(Node.of("gap", Op.QLinearGlobalAveragePool, List.of("x", "s", "z", "ys", "yz"),
                            List.of("y")))
                    .addOutput(new ValueInfo("y", null, null))
                    .build();
            return problem(backend, g, bytes(DType.UINT8, new Random(6), 1, c, 7, 7), 49L * c, 0, 0);
        };
    }

    /** Side of a square product of about {@code work} stored multiply-adds at density 1/{@code sparsity}. */
    private static int side(long work, int sparsity) {
        int s = (int) Math.round(Math.cbrt((double) work * sparsity));
        // whole 1x4 blocks, and at least one stored block per row
        return Math.max(BLOCK_COLS * sparsity, (s + BLOCK_COLS - 1) / BLOCK_COLS * BLOCK_COLS);
    }

    private static long storedMacs(Tensor sparse, int s) {
        return (long) sparse.sparse().nnzBlocks() * sparse.sparse().blockRows() * sparse.sparse().blockCols() * s;
    }

    private static Graph qmatmul(Tensor b, int rows) {
        return Graph.builder("bench")
                .addInput(ValueInfo.of("a", DType.UINT8, rows, b.dim(0)))
                .initializer("as", Tensor.of(new float[] {0.02f}))
                .initializer("az", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                .initializer("b", b)
                .initializer("bs", Tensor.of(new float[] {0.01f}))
                .initializer("bz", Tensor.ofBytes(DType.INT8, new byte[] {0}))
                .initializer("ys", Tensor.of(new float[] {0.5f}))
                .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128}))
                .addNode(Node.of("mm", Op.QLinearMatMul, List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"),
                        List.of("y")))
                .addOutput(new ValueInfo("y", null, null))
                .build();
    }

    private static KernelBenchmark.Problem problem(NativeBackend backend, Graph g, Tensor input, long work,
            long weights, long rows) {
        return StepBenchmarks.bare(backend, g, input, work, weights, rows);
    }

    private static Tensor bytes(DType t, Random r, int... shape) {
        byte[] v = new byte[Tensor.elementCount(shape)];
        r.nextBytes(v);
        return Tensor.ofBytes(t, v, shape);
    }

    /** An [s, s] constant in 1x4 blocks, one block of every {@link #KEEP_ONE_BLOCK_IN} stored per row. */
    private static Tensor sparse(DType t, Random r, int s) {
        int blocksPerRow = s / BLOCK_COLS;
        int kept = Math.max(1, blocksPerRow / KEEP_ONE_BLOCK_IN);
        ByteBuffer rowPtr = direct(4L * (s + 1));
        ByteBuffer colIdx = direct(4L * s * kept);
        ByteBuffer payload = direct((long) s * kept * BLOCK_COLS * t.byteWidth());
        int nnz = 0;
        for (int row = 0; row < s; row++) {
            rowPtr.putInt(4 * row, nnz);
            for (int j = 0; j < kept; j++) {
                // staggered so that rows do not all read the same columns
                colIdx.putInt(4 * nnz, (j * KEEP_ONE_BLOCK_IN + row % KEEP_ONE_BLOCK_IN) % blocksPerRow);
                for (int c = 0; c < BLOCK_COLS; c++) {
                    int e = nnz * BLOCK_COLS + c;
                    if (t == DType.FLOAT32) {
                        payload.putFloat(4 * e, (float) r.nextGaussian());
                    } else {
                        payload.put(e, (byte) (r.nextInt(255) - 127));
                    }
                }
                nnz++;
            }
        }
        rowPtr.putInt(4 * s, nnz);
        Sparse sp = new Sparse(Sparse.Format.BLOCK_CSR, 1, BLOCK_COLS, DType.INT32, rowPtr, colIdx, nnz);
        return Tensor.encoded(t, new int[] {s, s}, payload, null, sp, null);
    }

    private static ByteBuffer direct(long bytes) {
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
