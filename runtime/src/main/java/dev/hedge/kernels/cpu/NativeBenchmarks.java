package dev.hedge.kernels.cpu;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.KernelBenchmark;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.ops.Op;
import dev.hedge.plan.Frame;
import dev.hedge.plan.Plan;
import dev.hedge.plan.Planner;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Workloads that time the native kernel classes for {@link dev.hedge.kernels.KernelCosts}: one-node models
 * planned on the backend alone and run through a frame, so the time includes what a real step pays
 * (staging, packing of activations, requantization). Sizes are square, as for the other backends' sgemm
 * classes, so the per-multiply-add costs compare.
 */
final class NativeBenchmarks {

    /** Stored fraction of the sparse benchmarks' weights: one 1x4 block in four. */
    static final int KEEP_ONE_BLOCK_IN = 4;
    private static final int BLOCK_COLS = 4;

    private NativeBenchmarks() {
    }

    /** QLinearMatMul [s, s] x [s, s], uint8 activations, int8 constant weights, per-tensor scales. */
    static KernelBenchmark s8gemm(NativeBackend backend) {
        return work -> {
            int s = side(work, 1);
            Random r = new Random(1);
            Tensor b = bytes(DType.INT8, r, s, s);
            return problem(backend, qmatmul(b), bytes(DType.UINT8, r, s, s), (long) s * s * s);
        };
    }

    /** The same product with sparse int8 weights ({@link #KEEP_ONE_BLOCK_IN}). */
    static KernelBenchmark sparseS8(NativeBackend backend) {
        return work -> {
            int s = side(work, KEEP_ONE_BLOCK_IN);
            Random r = new Random(2);
            Tensor b = sparse(DType.INT8, r, s);
            return problem(backend, qmatmul(b), bytes(DType.UINT8, r, s, s), storedMacs(b, s));
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
            return problem(backend, g, x, storedMacs(w, s));
        };
    }

    /**
     * A 1x1 Conv as the square product [s, s] x [s, s] (s channels in and out over s pixels), float32 with
     * constant weights: the same product as the other backends' sgemm classes, through the conv kernel.
     */
    static KernelBenchmark convF32(NativeBackend backend) {
        return work -> {
            int s = Math.max(1, (int) Math.round(Math.cbrt((double) work)));
            Random r = new Random(4);
            Tensor w = Tensor.allocate(DType.FLOAT32, s, s, 1, 1);
            for (int i = 0; i < w.elementCount(); i++) {
                w.setFloat(i, (float) r.nextGaussian());
            }
            Graph g = Graph.builder("bench")
                    .addInput(ValueInfo.of("x", DType.FLOAT32, 1, s, 1, s))
                    .initializer("w", w)
                    .addNode(Node.of("conv", Op.Conv, List.of("x", "w"), List.of("y")))
                    .addOutput(new ValueInfo("y", null, null))
                    .build();
            Tensor x = Tensor.allocate(DType.FLOAT32, 1, s, 1, s);
            for (int i = 0; i < x.elementCount(); i++) {
                x.setFloat(i, (float) r.nextGaussian());
            }
            return problem(backend, g, x, (long) s * s * s);
        };
    }

    /**
     * QuantizeLinear of a float vector (work = elements). Never compared by the planner (the reference
     * QuantizeLinear has no class); the converter adds it to an int8 layer's estimate for its float boundaries.
     */
    static KernelBenchmark quantize(NativeBackend backend) {
        return work -> {
            int n = (int) Math.max(64, Math.min(work, 1 << 24));
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
            return problem(backend, g, Tensor.of(v, n), n);
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
            return problem(backend, g, bytes(DType.UINT8, new Random(5), n), n);
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
            return problem(backend, g, bytes(DType.UINT8, new Random(6), 1, c, 7, 7), 49L * c);
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

    private static Graph qmatmul(Tensor b) {
        return Graph.builder("bench")
                .addInput(ValueInfo.of("a", DType.UINT8, b.dim(0), b.dim(0)))
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

    private static KernelBenchmark.Problem problem(NativeBackend backend, Graph g, Tensor input, long work) {
        Planner planner = new Planner(List.of(backend), 1, Decoding::densify);
        Plan plan = planner.plan(g, List.of(new ValueType(input.dtype(), input.shape())));
        String ran = plan.describe().get(0).backend();
        if (!ran.equals(backend.name())) {
            throw new IllegalStateException("benchmark " + g.nodes().get(0).describe() + " planned on " + ran);
        }
        Frame f = plan.newFrame();
        List<Tensor> in = List.of(input);
        return new KernelBenchmark.Problem() {
            @Override
            public long work() {
                return work;
            }

            @Override
            public void run() {
                f.run(in);
            }
        };
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
