package dev.hedge.bench;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Graph;
import dev.hedge.ir.ModelDef;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.ir.ValueInfo;
import dev.hedge.kernels.PrepareContext.ValueType;
import dev.hedge.kernels.Work;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    /**
     * One case: the model, its input, and its dense multiply-adds; {@code stored} the multiply-adds over
     * stored weights when the weights are sparse-encoded (else {@code macs}).
     */
    public record Case(String name, ModelDef model, Tensor input, double macs, boolean int8, double stored) {
        Case(String name, ModelDef model, Tensor input, double macs, boolean int8) {
            this(name, model, input, macs, int8, macs);
        }

        public boolean sparse() {
            return stored != macs;
        }
    }

    public static final List<String> NAMES = List.of("matmul-512", "conv3x3-64x56", "conv1x1-96x28x576",
            "conv7x7s2-3x224", "conv3x3-256x14", "fc-1280x1000", "qmatmul-512", "qconv3x3-64x56");

    /** Stored fraction of the weights of the sparse cases: 80 % of the 1x4 blocks (output row x 4 inputs) zero. */
    public static final double SPARSE_DENSITY = 0.2;

    /**
     * Dense int8 layers and the same layers with 80 %-sparse weights, for the sparse against dense comparison:
     * each sparse case is named after its dense one plus {@link #sparseSuffix} of its block shape.
     */
    public static final List<String> SPARSE_PAIRS = List.of("qfc-1024-b1", "qfc-1024-b64", "qconv1x1-96x28x576");

    /**
     * Block heights of the sparse cases (output rows x 4 inputs along the reduction): 1x4 blocks keep the most
     * freedom in pruning; 8x4 blocks let the kernel load each activation group once for eight rows.
     */
    public static final List<Integer> SPARSE_BLOCK_ROWS = List.of(1, 8);

    /** {@code -sparse80} for 1x4 blocks, {@code -sparse80-8x4} for 8x4. */
    public static String sparseSuffix(int blockRows) {
        return blockRows == 1 ? "-sparse80" : "-sparse80-" + blockRows + "x4";
    }

    /** The sparse counterpart's name of a {@link #SPARSE_PAIRS} case with blocks of {@code blockRows} x 4. */
    public static String sparseName(String dense, int blockRows) {
        return dense + sparseSuffix(blockRows);
    }

    /** {@link #get}, plus the sparse comparison cases. */
    public static Case getAny(String name) {
        int br = 0;
        String base = name;
        for (int rows : SPARSE_BLOCK_ROWS) {
            if (name.endsWith(sparseSuffix(rows)) && (br == 0 || sparseSuffix(rows).length() > sparseSuffix(br).length())) {
                br = rows;
                base = name.substring(0, name.length() - sparseSuffix(rows).length());
            }
        }
        switch (base) {
            case "qfc-1024-b1": return qfc(name, 1, 1024, 1024, br);
            case "qfc-1024-b64": return qfc(name, 64, 1024, 1024, br);
            case "qconv1x1-96x28x576": return qconv1x1(name, 96, 576, 28, br);
            default: return get(name);
        }
    }

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

    /**
     * int8 [rows][cols] weights (the kernel's orientation: rows = outputs) with br x 4 blocks zero at rate 1 -
     * {@link #SPARSE_DENSITY}; the same seed and block height give the same weights to a dense case and its sparse
     * counterpart.
     */
    private static byte[] blockSparseBytes(Random r, int rows, int cols, int br) {
        byte[] w = new byte[rows * cols];
        for (int i = 0; i < rows; i += br) {
            for (int j = 0; j < cols; j += 4) {
                if (r.nextDouble() >= SPARSE_DENSITY) {
                    continue;
                }
                for (int a = i; a < Math.min(rows, i + br); a++) {
                    for (int b = 0; b < 4; b++) {
                        int v = r.nextInt(255) - 127;
                        w[a * cols + j + b] = (byte) (v == 0 ? 1 : v);
                    }
                }
            }
        }
        return w;
    }

    /**
     * A [d0][d1] int8 constant holding {@code m} (row-major over [d0][d1]), block-CSR encoded with br x bc blocks
     * when {@code encode}, dropping all-zero blocks.
     */
    private static Tensor int8Constant(byte[] m, int[] shape, int br, int bc, boolean encode) {
        if (!encode) {
            return Tensor.ofBytes(DType.INT8, m.clone(), shape);
        }
        int rows = shape[0];
        int cols = m.length / rows;
        int brows = rows / br;
        int bcols = cols / bc;
        ByteBuffer rowPtr = direct(4L * (brows + 1));
        ByteBuffer colIdx = direct(4L * brows * bcols);
        ByteBuffer payload = direct((long) m.length);
        int nnz = 0;
        for (int i = 0; i < brows; i++) {
            rowPtr.putInt(4 * i, nnz);
            for (int j = 0; j < bcols; j++) {
                boolean any = false;
                for (int a = 0; a < br && !any; a++) {
                    for (int b = 0; b < bc && !any; b++) {
                        any = m[(i * br + a) * cols + j * bc + b] != 0;
                    }
                }
                if (!any) {
                    continue;
                }
                colIdx.putInt(4 * nnz, j);
                for (int a = 0; a < br; a++) {
                    for (int b = 0; b < bc; b++) {
                        payload.put(nnz * br * bc + a * bc + b, m[(i * br + a) * cols + j * bc + b]);
                    }
                }
                nnz++;
            }
        }
        rowPtr.putInt(4 * brows, nnz);
        Sparse sp = new Sparse(Sparse.Format.BLOCK_CSR, br, bc, DType.INT32, rowPtr, exact(colIdx, 4L * nnz), nnz);
        return Tensor.encoded(DType.INT8, shape, exact(payload, (long) nnz * br * bc), null, sp, null);
    }

    /** The first {@code bytes} of b in a buffer of exactly that size (encodings are checked for exact sizes). */
    private static ByteBuffer exact(ByteBuffer b, long bytes) {
        ByteBuffer e = direct(bytes);
        e.put(0, b, 0, (int) bytes);
        return e;
    }

    private static ByteBuffer direct(long bytes) {
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long nonZero(byte[] w) {
        long n = 0;
        for (byte b : w) {
            n += b != 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * QLinearMatMul [m, k] x [k, n]; B stored [k][n], so the kernel's br x 4 blocks are 4 x br blocks of B. br:
     * the sparse block height, 0 for the dense case (whose weights are those of the 1x4 sparse one).
     */
    private static Case qfc(String name, int m, int k, int n, int br) {
        boolean sparse = br > 0;
        Random r = new Random(5);
        byte[] wt = blockSparseBytes(r, n, k, Math.max(1, br));
        byte[] b = new byte[k * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                b[j * n + i] = wt[i * k + j];
            }
        }
        Node node = Node.of("qfc", Op.QLinearMatMul, List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz"),
                List.of("y"));
        Graph g = Graph.builder(name).addInput(ValueInfo.of("a", DType.UINT8, m, k))
                .initializer("as", Tensor.scalar(0.02f)).initializer("az", Tensor.ofBytes(DType.UINT8, new byte[] {
                    (byte) 128}))
                .initializer("b", int8Constant(b, new int[] {k, n}, 4, Math.max(1, br), sparse)).initializer("bs", Tensor.scalar(0.01f))
                .initializer("bz", Tensor.ofBytes(DType.INT8, new byte[] {0})).initializer("ys", Tensor.scalar(2f))
                .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128})).addNode(node)
                .addOutput(ValueInfo.of("y", DType.UINT8, m, n)).build();
        double macs = (double) m * k * n;
        return new Case(name, new ModelDef(g, Map.of()), randomBytes(r, DType.UINT8, m, k), macs, true,
                sparse ? (double) m * nonZero(wt) : macs);
    }

    /** QLinearConv 1x1 of cin -> cout channels over size x size pixels; br as {@link #qfc}. */
    private static Case qconv1x1(String name, int cin, int cout, int size, int br) {
        boolean sparse = br > 0;
        Random r = new Random(6);
        byte[] w = blockSparseBytes(r, cout, cin, Math.max(1, br));
        Node node = new Node("qconv", Op.QLinearConv, List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz"),
                List.of("y"), Map.of());
        Graph g = Graph.builder(name).addInput(ValueInfo.of("x", DType.UINT8, 1, cin, size, size))
                .initializer("xs", Tensor.scalar(0.02f)).initializer("xz", Tensor.ofBytes(DType.UINT8, new byte[] {
                    (byte) 128}))
                .initializer("w", int8Constant(w, new int[] {cout, cin, 1, 1}, Math.max(1, br), 4, sparse))
                .initializer("ws", Tensor.scalar(0.01f))
                .initializer("wz", Tensor.ofBytes(DType.INT8, new byte[] {0})).initializer("ys", Tensor.scalar(0.5f))
                .initializer("yz", Tensor.ofBytes(DType.UINT8, new byte[] {(byte) 128})).addNode(node)
                .addOutput(ValueInfo.of("y", DType.UINT8, 1, cout, size, size)).build();
        double macs = (double) cout * cin * size * size;
        return new Case(name, new ModelDef(g, Map.of()), randomBytes(r, DType.UINT8, 1, cin, size, size), macs, true,
                sparse ? (double) nonZero(w) * size * size : macs);
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
