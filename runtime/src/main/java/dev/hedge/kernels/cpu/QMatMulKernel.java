package dev.hedge.kernels.cpu;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * QLinearMatMul and MatMulInteger on the native 8-bit GEMM (variant FC: activation rows x weight panel).
 * B is packed once at prepare when its value is known, else per run into scratch. Batched operands follow
 * numpy matmul broadcasting; with a 2-D B every batch of A is one GEMM.
 *
 * <p>QLinearMatMul inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point and
 * Hedge's optional INT32 bias (input 8, scale a_scale * b_scale, per column). MatMulInteger: A, B,
 * a_zero_point (scalar or per row), b_zero_point (scalar or per column); INT32 output.
 *
 * <p>Threads: each GEMM's tiles are blocks of output columns (whole packed panels of B) and, when there are
 * few, of rows; results do not depend on the split.
 */
final class QMatMulKernel implements Kernel {

    private final Node node;
    private final int isa;
    private final boolean integer;
    private final int in;  // index of b
    /** Input index of a's zero point in both ops. */
    private static final int A_ZP = 2;
    private final int bZp;
    /** Created for a sparse-encoded constant B, read as stored (NativeBackend.offers). */
    private final boolean sparse;

    // prepared
    private int code;
    private boolean aUnsigned;
    private boolean bUnsigned;
    private long m;
    private long k;
    private long n;
    private int[] outShape;
    private int outSize;
    private ByteBuffer requant;
    private ByteBuffer rowZp;
    private long rowZpStride;
    private ByteBuffer colZp;
    private long colZpStride;
    // batching: out batch index -> A / B batch index
    private int batches;
    private int[] aBatch;
    private int[] bBatch;
    private int bBatches;
    private ByteBuffer packedB; // null: packed per run
    private long packedBBytes;
    private long packedABytes;
    // sparse B: OUT^T[N][rows] = W[N][K] x A^T[K][rows], transposed in and out through scratch when rows > 1
    private SparseInt8 sparseB;
    private int colTiles;
    private int rowTiles;
    private long colBlock;
    private long rowBlock;
    /** The GEMM tiles of each call (batch), made at prepare (the kernel's fields never change at run time). */
    private RunContext.TileTask[] callTasks;
    private Geom plane;
    private int aZeroPoint;
    private long aTBytes;
    private long outTBytes;

    QMatMulKernel(Node node, int isa, boolean sparse) {
        this.node = node;
        this.sparse = sparse;
        this.isa = isa;
        this.integer = node.op() == Op.MatMulInteger;
        this.in = integer ? 1 : 3;
        this.bZp = integer ? 3 : 5;
    }

    @Override
    public void prepare(PrepareContext ctx) {
        DType ta = ctx.inputType(0);
        DType tb = ctx.inputType(in);
        if (!QuantInputs.isByteType(ta) || !QuantInputs.isByteType(tb)) {
            throw new UnsupportedModelException(node.describe() + ": inputs are " + ta + " x " + tb + ", not 8-bit");
        }
        aUnsigned = ta == DType.UINT8;
        bUnsigned = tb == DType.UINT8;
        int[] as = ctx.inputShape(0);
        int[] bs = ctx.inputShape(in);
        if (as.length == 0 || bs.length == 0) {
            throw new IllegalArgumentException("matmul of a scalar");
        }
        int[] a2 = as.length == 1 ? new int[] {1, as[0]} : as;
        int[] b2 = bs.length == 1 ? new int[] {bs[0], 1} : bs;
        m = a2[a2.length - 2];
        k = a2[a2.length - 1];
        n = b2[b2.length - 1];
        if (b2[b2.length - 2] != k) {
            throw new IllegalArgumentException("cannot multiply " + Arrays.toString(as) + " by "
                    + Arrays.toString(bs));
        }
        int[] batchA = Arrays.copyOf(a2, a2.length - 2);
        int[] batchB = Arrays.copyOf(b2, b2.length - 2);
        int[] batch = broadcast(batchA, batchB);
        outShape = outShape(as, bs, batch);
        batches = Tensor.elementCount(batch);
        bBatches = Tensor.elementCount(batchB);
        aBatch = batchIndex(batch, batchA);
        bBatch = batchIndex(batch, batchB);

        Requant.Output out;
        int[] bias;
        int[] za;
        int[] zb;
        if (integer) {
            za = QuantInputs.zeroPoints(ctx, A_ZP, "a_zero_point", ta, (int) m);
            zb = QuantInputs.zeroPoints(ctx, bZp, "b_zero_point", tb, (int) n);
            out = Requant.Output.int32((int) n);
            bias = new int[(int) n];
        } else {
            float aScale = QuantInputs.scales(ctx, 1, "a_scale", 0)[0];
            za = QuantInputs.zeroPoints(ctx, A_ZP, "a_zero_point", ta, 0);
            float[] bScale = QuantInputs.expand(QuantInputs.scales(ctx, 4, "b_scale", (int) n), (int) n);
            zb = QuantInputs.zeroPoints(ctx, bZp, "b_zero_point", tb, (int) n);
            out = Requant.qlinearOutput(ctx, node, aScale, bScale, (int) n);
            bias = ctx.inputCount() > 8 ? QuantInputs.bias(ctx, 8, "bias", (int) n) : new int[(int) n];
        }
        DType outType = out.type();
        requant = Requant.build(out.mult(), bias, out.zeroPoint(), out.lo(), out.hi(), Requant.outType(outType));
        outSize = outType == DType.INT32 ? 4 : 1;
        // per-row a zero points repeat for every batch of rows
        long rows = batchRows();
        if (za.length == 1) {
            rowZp = QuantInputs.ints(za);
            rowZpStride = 0;
        } else {
            int[] all = new int[Math.toIntExact(rows)];
            for (int r = 0; r < all.length; r++) {
                all[r] = za[(int) (r % m)];
            }
            rowZp = QuantInputs.ints(all);
            rowZpStride = 1;
        }
        colZp = QuantInputs.ints(zb);
        colZpStride = zb.length == 1 ? 0 : 1;

        Tensor b = ctx.inputValue(in);
        if (sparse) {
            if (b == null || b.sparse() == null || bs.length != 2 || za.length != 1) {
                throw new UnsupportedModelException(node.describe() + ": sparse B must be a 2-D constant");
            }
            long mt = batchRows();
            aZeroPoint = za[0];
            sparseB = SparseInt8.of(isa, b, bUnsigned, (int) n, (int) k, true, QuantInputs.expand(zb, (int) n), mt);
            plane = new Geom(k, 1, mt, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, mt);
            // the k4 layout packs activation rows directly and writes the output transposed back
            boolean viaT = mt > 1 && !sparseB.weights().k4();
            aTBytes = viaT ? Native.align64(Math.multiplyExact(k, mt)) : 0;
            outTBytes = viaT ? Native.align64(Math.multiplyExact(n * outSize, mt)) : 0;
            ctx.requestScratch(aTBytes + outTBytes + sparseB.scratchBytes(plane));
            ctx.reportPackedBytes(sparseB.weightBytes() + requant.capacity());
            ctx.setOutput(0, outType, outShape);
            callTasks = new RunContext.TileTask[] {(c, tile, worker) -> sparseB.tile(tile, c.scratch(), 0, requant,
                    c.output(0).data(), 0, n, true)};
            return;
        }
        if (b != null && b.isEncoded()) {
            throw new UnsupportedModelException(node.describe() + ": B is stored encoded");
        }
        long panelCols = n;
        if (b != null) {
            ByteBuffer bb = Staging.direct(b, 0);
            code = -1;
            for (int i = 0; i < bBatches; i++) {
                int c = Native.chooseFamily(isa, bb, i * k * n, bUnsigned, n, k, 1, n, panelCols);
                code = code < 0 || (c & 0xff) == 2 ? c : code; // any batch needing 16-bit products decides
            }
            packedBBytes = Native.panelBytes(code, Native.WHO_WT, n, k);
            packedB = Native.allocate(Math.multiplyExact(packedBBytes, bBatches));
            for (int i = 0; i < bBatches; i++) {
                Native.packPanel(code, Native.WHO_WT, packedB, i * packedBBytes, bb, i * k * n, bUnsigned, n, k, 1, n,
                        colZp, 0, colZpStride);
            }
        } else {
            code = Native.chooseFamily(isa, null, 0, bUnsigned, n, k, 1, n, panelCols);
            packedBBytes = Native.panelBytes(code, Native.WHO_WT, n, k);
            packedB = null;
        }
        packedABytes = Native.rowBytes(code, Native.WHO_ACT, rows, k);
        ctx.requestScratch(packedABytes + (packedB == null ? packedBBytes : 0));
        ctx.reportPackedBytes(Native.capacity(packedB) + requant.capacity());
        int nr = Native.panelWidth(code);
        int mr = Native.rowsPerCall(code);
        int[] split = Tiles.split(ctx.threads(), n, nr, rows, mr, (double) rows * n * k);
        colBlock = (long) Tiles.ceilDiv(Tiles.ceilDiv((int) n, nr), split[0]) * nr;
        colTiles = (int) ((n + colBlock - 1) / colBlock);
        rowBlock = (long) Tiles.ceilDiv(Tiles.ceilDiv((int) rows, mr), split[1]) * mr;
        rowTiles = (int) ((rows + rowBlock - 1) / rowBlock);
        callTasks = new RunContext.TileTask[rows == m ? batches : 1];
        for (int i = 0; i < callTasks.length; i++) {
            int call = i;
            callTasks[i] = (c, tile, worker) -> gemmTile(c, call, rows, tile);
        }
        ctx.setOutput(0, outType, outShape);
    }

    /** Rows packed per GEMM: all of A at once when B has no batch dimensions. */
    private long batchRows() {
        return bBatches == 1 && isSingleA() ? Math.multiplyExact(m, batches) : m;
    }

    private boolean isSingleA() {
        // A's batches line up with the output's when B has no batch dimensions
        for (int i = 0; i < batches; i++) {
            if (aBatch[i] != i) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void run(RunContext ctx) {
        Tensor out = ctx.output(0);
        if (m == 0 || n == 0 || batches == 0) {
            return;
        }
        ByteBuffer o = out.data();
        if (k == 0) {
            throw new IllegalArgumentException("empty reduction");
        }
        ByteBuffer a = Staging.direct(ctx.input(0), 0);
        ByteBuffer scratch = ctx.scratch();
        if (sparseB != null) {
            long mt = plane.ow;
            if (sparseB.tiled()) {
                sparseB.packRows(a, 0, aUnsigned, aZeroPoint, scratch, 0);
                ctx.parallelFor(sparseB.tiles(), callTasks[0]);
                return;
            }
            if (sparseB.weights().k4()) {
                sparseB.runRow(a, 0, aUnsigned, aZeroPoint, scratch, 0, requant, o, 0);
                return;
            }
            ByteBuffer xs = a;
            if (mt > 1) {
                Native.transpose(1, a, 0, mt, k, scratch, 0);
                xs = scratch;
            }
            sparseB.run(xs, 0, aUnsigned, aZeroPoint, plane, scratch, aTBytes + outTBytes, requant,
                    mt > 1 ? scratch : o, mt > 1 ? aTBytes : 0, mt);
            if (mt > 1) {
                Native.transpose(outSize, scratch, aTBytes, n, mt, o, 0);
            }
            return;
        }
        ByteBuffer bSrc = packedB == null ? Staging.direct(ctx.input(in), 1) : null;
        long rows = batchRows();
        int lastB = -1;
        for (int i = 0; i < callTasks.length; i++) {
            if (packedB == null && bBatch[i] != lastB) {
                Native.packPanel(code, Native.WHO_WT, scratch, packedABytes, bSrc, bBatch[i] * k * n, bUnsigned, n, k, 1,
                        n, colZp, 0, colZpStride);
                lastB = bBatch[i];
            }
            Native.packActRows(code, scratch, 0, a, aBatch[i] * m * k, aUnsigned, rows, k, k, rowZp, 0, rowZpStride);
            ctx.parallelFor(colTiles * rowTiles, callTasks[i]);
        }
    }

    /** A tile of GEMM call {@code i}: its rows of A are packed at the start of scratch, B packed or after them. */
    private void gemmTile(RunContext ctx, int i, long rows, int tile) {
        ByteBuffer scratch = ctx.scratch();
        ByteBuffer b = packedB != null ? packedB : scratch;
        long bOff = packedB != null ? bBatch[i] * packedBBytes : packedABytes;
        long c0 = (tile % colTiles) * colBlock;
        long r0 = (long) (tile / colTiles) * rowBlock;
        Native.qgemmTile(code, true, scratch, 0, rows, b, bOff, n, k, requant, 0, ctx.output(0).data(),
                i * m * n * outSize, n, r0, Math.min(rows, r0 + rowBlock), c0, Math.min(n, c0 + colBlock));
    }


    private static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
            int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("batch dimensions " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** For each batch index of {@code out}, the flat index into {@code src} under broadcasting. */
    private static int[] batchIndex(int[] out, int[] src) {
        int total = Tensor.elementCount(out);
        int[] idx = new int[total];
        int off = out.length - src.length;
        for (int f = 0; f < total; f++) {
            int rem = f;
            int s = 0;
            int stride = 1;
            for (int d = out.length - 1; d >= 0; d--) {
                int coord = rem % out[d];
                rem /= out[d];
                int sd = d - off;
                if (sd >= 0) {
                    if (src[sd] != 1) {
                        s += coord * stride;
                    }
                    stride *= src[sd];
                }
            }
            idx[f] = s;
        }
        return idx;
    }

    private static int[] outShape(int[] as, int[] bs, int[] batch) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = as.length == 1 ? -1 : as[as.length - 2];
        s[batch.length + 1] = bs.length == 1 ? -1 : bs[bs.length - 1];
        return Arrays.stream(s).filter(d -> d >= 0).toArray();
    }
}
