package dev.hedge.kernels.cpu;

import dev.hedge.format.Decoding;
import dev.hedge.ir.Sparse;
import dev.hedge.kernels.util.Tiles;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;

/**
 * The sparse int8 GEMM of the quantized kernels: OUT[R][P] = requant(W[R][K] x X[K][P]) where X is read from
 * strided activations. On AVX-512 VNNI with signed weights it runs the k4 layout over the dense activation
 * panel; elsewhere the int16-pair layout. Holds the scratch layout; run writes only into scratch and output.
 */
final class SparseInt8 {

    private final int isa;
    private final SparseWeights weights;
    private final long k;
    private final long p;
    private final long ppad;
    private final long panelBytes;
    private final long tmpBytes;
    private final long x2Bytes;
    /** Block rows per tile of {@link #tile}, a multiple of 16 rows; and the tile count. */
    private final int tileBlockRows;
    private final int tiles;

    private SparseInt8(int isa, SparseWeights weights, long p) {
        this.isa = isa;
        this.weights = weights.k4() && p == 1 ? weights.withGemvLanes() : weights;
        this.k = weights.cols();
        this.p = p;
        this.ppad = Native.sparsePad(p);
        if (weights.k4() && p == 1) {
            panelBytes = 0;
            tmpBytes = Native.sparseGemvTmpBytes(this.weights);
            x2Bytes = 0;
        } else if (weights.k4()) {
            panelBytes = Native.panelBytes(Native.k4PanelFamily(p), Native.WHO_ACT, p, k);
            tmpBytes = Native.im2colTmpBytes(Native.k4PanelFamily(p), p);
            x2Bytes = 0;
        } else {
            panelBytes = 0;
            tmpBytes = 0;
            x2Bytes = Native.sparseX2Bytes(k, ppad) + 4 * ppad;
        }
        // tiles of block rows from the stored work alone (never from the thread count), as Tiles does for
        // dense products; 16-row aligned for the transposed output's 16-row groups
        int nbr = weights.blockRowCount();
        int align = Math.max(1, 16 / weights.blockRows());
        double work = 4.0 * weights.entries() * weights.blockRows() * p;
        int want = tiled() ? (int) Math.max(1, Math.min(Tiles.MAX_TILES, work / Tiles.MIN_TILE_WORK)) : 1;
        this.tileBlockRows = Tiles.ceilDiv(Math.max(align, Tiles.ceilDiv(nbr, want)), align) * align;
        this.tiles = Math.max(1, Tiles.ceilDiv(nbr, tileBlockRows));
    }

    /**
     * From an encoded constant whose dense form, seen as W[r][k], is {@code w(r, k) = dense[r * sR + k * sK]}
     * (transposed: the stored matrix is [K][R], so its blocks swap sides).
     */
    static SparseInt8 of(int isa, Tensor encoded, boolean unsigned, int rows, int cols, boolean transposed, int[] zw,
            long p) {
        Tensor dense = Decoding.densify(encoded);
        ByteBuffer d = Staging.direct(dense, 0);
        boolean k4 = isa == Native.ISA_AVX512 && !unsigned;
        // one column runs on the lane layout of single-row blocks (FC 1024 x 1024, 8x4 blocks: 2.6 us, against
        // 3.1 us on 8-row entries)
        int[] blk = k4 && p == 1 ? new int[] {1, 1} : blocks(encoded.sparse(), transposed, rows, cols, k4);
        SparseWeights.Source src = transposed
                ? (r, kk) -> value(d, (long) kk * rows + r, unsigned)
                : (r, kk) -> value(d, (long) r * cols + kk, unsigned);
        return new SparseInt8(isa, SparseWeights.int8(src, rows, cols, blk[0], blk[1], zw, k4), p);
    }

    private static float value(ByteBuffer b, long i, boolean unsigned) {
        int v = b.get((int) i);
        return unsigned ? v & 0xff : v;
    }

    /** The stored block shape in the kernels' orientation when they support it, else 1x1. */
    static int[] blocks(Sparse s, boolean transposed, int rows, int cols, boolean k4) {
        if (s == null) {
            return new int[] {1, 1};
        }
        int br = transposed ? s.blockCols() : s.blockRows();
        int bc = transposed ? s.blockRows() : s.blockCols();
        return SparseWeights.fits(br, bc, rows, cols, k4) ? new int[] {br, bc} : new int[] {1, 1};
    }

    SparseWeights weights() {
        return weights;
    }

    /** Off-heap bytes of the re-laid-out weights, for {@code PrepareContext.reportPackedBytes}. */
    long weightBytes() {
        return weights.bytes();
    }

    /**
     * Whether the product runs as {@link #tiles} tiles of output rows after {@link #pack} / {@link #packRows}
     * (the k4 layout over more than one column); else {@link #run} / {@link #runRow} do it all at once.
     */
    boolean tiled() {
        return weights.k4() && p > 1;
    }

    int tiles() {
        return tiles;
    }

    /** Packs image x's activation panel at the start of scratch for {@link #tile}. */
    void pack(ByteBuffer x, long xoff, boolean xUnsigned, int zx, Geom g, ByteBuffer scratch, long soff) {
        check(g);
        Native.packIm2col(Native.k4PanelFamily(p), scratch, soff, x, xoff, xUnsigned, g, zx, scratch, soff + panelBytes);
    }

    /** Packs activation rows x[P][K] (fully connected) at the start of scratch for {@link #tile}. */
    void packRows(ByteBuffer x, long xoff, boolean xUnsigned, int zx, ByteBuffer scratch, long soff) {
        Native.sparseK4PackRows(scratch, soff, x, xoff, xUnsigned, zx, p, k, k);
    }

    /**
     * Output rows of tile {@code t} from the panel at scratch offset soff: OUT[R][P] (row stride ldo), or
     * OUT[P][R] when transposed. Tiles write disjoint rows, so threads may run them at once.
     */
    void tile(int t, ByteBuffer scratch, long soff, ByteBuffer requant, ByteBuffer out, long ooff, long ldo,
            boolean transposed) {
        long nbr = weights.blockRowCount();
        long rb = Math.min(nbr, (long) t * tileBlockRows);
        Native.sparseK4Gemm(weights, scratch, soff, p, requant, 0, out, ooff, ldo, transposed, rb,
                Math.min(nbr, rb + tileBlockRows));
    }

    private void check(Geom g) {
        if (g.reduction() != k || g.outPlane() != p) {
            throw new IllegalArgumentException("sparse operand is " + k + " x " + p + ", geometry " + g);
        }
    }

    /** Scratch bytes {@link #run} needs for geometry {@code g}. */
    long scratchBytes(Geom g) {
        if (weights.k4()) {
            return panelBytes + tmpBytes + (p == 1 && !g.isPointwise() ? k : 0);
        }
        return x2Bytes + (g.isPointwise() ? 0 : Math.multiplyExact(k, p));
    }

    /**
     * A fully connected layer of one activation row x[K] in the k4 layout (not {@link #tiled}): OUT[R]; scratch
     * as {@link #scratchBytes} for a 1 x 1 plane.
     */
    void runRow(ByteBuffer x, long xoff, boolean xUnsigned, int zx, ByteBuffer scratch, long soff,
            ByteBuffer requant, ByteBuffer out, long ooff) {
        if (!weights.k4() || p != 1) {
            throw new IllegalStateException("one activation row needs the k4 layout and one column");
        }
        Native.sparseK4Gemv(weights, x, xoff, xUnsigned, zx, scratch, soff, requant, 0, out, ooff);
    }

    /**
     * OUT[R][P] (row stride ldo) for one image x (geometry g, P = its output plane, K = its reduction) with
     * zero point zx, when not {@link #tiled}. Fully connected layers pass their activations transposed to [K][M]
     * with a 1 x M plane.
     */
    void run(ByteBuffer x, long xoff, boolean xUnsigned, int zx, Geom g, ByteBuffer scratch, long soff,
            ByteBuffer requant, ByteBuffer out, long ooff, long ldo) {
        check(g);
        if (tiled()) {
            throw new IllegalStateException("a tiled product runs as pack and tile");
        }
        if (weights.k4() && p == 1) {
            ByteBuffer col = x;
            long colOff = xoff;
            if (!g.isPointwise()) {
                col = scratch;
                colOff = soff + tmpBytes;
                Native.im2col(1, x, xoff, g, zx, scratch, colOff);
            }
            Native.sparseK4Gemv(weights, col, colOff, xUnsigned, zx, scratch, soff, requant, 0, out, ooff);
            return;
        }
        long sOff = soff + Native.sparseX2Bytes(k, ppad);
        ByteBuffer src = x;
        long srcOff = xoff;
        if (!g.isPointwise()) {
            src = scratch;
            srcOff = soff + x2Bytes;
            Native.im2col(1, x, xoff, g, zx, scratch, srcOff);
        }
        Native.sparsePackX(isa, src, srcOff, xUnsigned, zx, k, p, p, 1, scratch, soff, ppad, scratch, sOff);
        Native.sparseQGemm(isa, weights, scratch, soff, p, ppad, scratch, sOff, requant, 0, out, ooff, ldo);
    }
}
