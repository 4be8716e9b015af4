package dev.hedge.converter.prune;

import dev.hedge.ir.Codebook;
import dev.hedge.ir.Graph;
import dev.hedge.ir.Node;
import dev.hedge.ir.Sparse;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Stores pruned constants as an element bitmap, CSR or block-CSR ({@link Sparse}) when that makes them smaller.
 *
 * <p>The tensor is seen as the matrix {@code [shape[0], prod(shape[1:])]} cut in {@code r x c} blocks; a block
 * is stored when any of its entries is not zero (stored blocks keep their zeros). An entry is zero when its
 * raw value is 0 (for quantized tensors the raw value, whatever the zero point; for codebook tensors, when
 * its palette value is 0). One index type serves {@code row_ptr} (values up to the stored block count) and
 * {@code col_idx} (values below the block-column count): the smallest of UINT8, INT16, UINT16, INT32 that
 * holds both. The payload is the stored values (codebook tensors: their bit-packed indices), then the
 * {@code row_ptr} and {@code col_idx} buffers; each is its own 64-byte-aligned buffer in the .hedge file.
 */
public final class SparseEncoder {

    /** Pseudo block shape standing for the BITMASK format (one bit per element). */
    public static final int[] BITMASK = {0, 0};

    /**
     * Layouts {@link #best} tries by default: the element bitmap, CSR and row blocks, which suit row-wise pruned
     * weights.
     */
    public static final List<int[]> DEFAULT_BLOCKS = List.of(BITMASK, new int[] {1, 1}, new int[] {1, 2},
            new int[] {1, 4}, new int[] {1, 8}, new int[] {1, 16}, new int[] {2, 2}, new int[] {4, 1},
            new int[] {4, 4});

    /** File alignment of every buffer (see docs/format.md). */
    public static final int ALIGNMENT = 64;

    private SparseEncoder() {
    }

    /**
     * An encoding's layout and exact sizes. {@code valueBytes + rowPtrBytes + colIdxBytes} is what the file
     * stores; {@link #alignedBytes()} adds the padding that aligns each of the three buffers.
     */
    public record Encoding(Sparse.Format format, int blockRows, int blockCols, DType indexType, int nnzBlocks,
            long valueBytes, long rowPtrBytes, long colIdxBytes) {

        public long payloadBytes() {
            return valueBytes + rowPtrBytes + colIdxBytes;
        }

        public long alignedBytes() {
            return align(valueBytes) + align(rowPtrBytes) + align(colIdxBytes);
        }

        @Override
        public String toString() {
            String f = switch (format) {
                case CSR -> "CSR";
                case BLOCK_CSR -> "block-CSR " + blockRows + "x" + blockCols;
                case BITMASK -> "bitmask";
            };
            return f + " " + indexType + " indices, " + nnzBlocks + " blocks, " + valueBytes + "+" + rowPtrBytes
                    + "+" + colIdxBytes + " bytes";
        }
    }

    /** One constant: bytes dense and as stored (equal when kept dense, {@code encoding} then null). */
    public record TensorStats(String name, DType dtype, int[] shape, long denseBytes, long storedBytes,
            Encoding encoding) {
    }

    /** The graph with encoded constants, and one line per constant considered. */
    public record Result(Graph graph, List<TensorStats> tensors) {

        public long denseBytes() {
            return tensors.stream().mapToLong(TensorStats::denseBytes).sum();
        }

        public long storedBytes() {
            return tensors.stream().mapToLong(TensorStats::storedBytes).sum();
        }
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /**
     * Bytes a constant occupies in a .hedge file's data section, without alignment padding: the dense payload,
     * or for an encoded one the (packed) values plus {@code row_ptr} plus {@code col_idx}; a codebook's palette
     * lives in the FlatBuffer and is not counted.
     */
    public static long payloadBytes(Tensor t) {
        long b = t.isEncoded() ? t.data().capacity() : t.dtype().byteSize(t.elementCount());
        if (t.sparse() != null) {
            b += t.sparse().rowPtr().limit() + t.sparse().colIdx().limit();
        }
        return b;
    }

    /**
     * The encoding of dense (or codebook-only) tensor {@code t} in {@code r x c} blocks, or null when the blocks do
     * not tile its matrix or it is a scalar.
     */
    public static Encoding plan(Tensor t, int r, int c) {
        boolean bitmask = r == 0 && c == 0;
        Layout l = bitmask ? Layout.of(t, 1, 1) : Layout.of(t, r, c);
        if (l == null) {
            return null;
        }
        int nnz = 0;
        for (int bi = 0; bi < l.blockRows; bi++) {
            for (int bj = 0; bj < l.blockCols; bj++) {
                nnz += l.blockNonZero(bi, bj) ? 1 : 0;
            }
        }
        return bitmask ? l.bitmaskEncoding(nnz) : l.encoding(nnz);
    }

    /** The smallest encoding (by aligned size) among {@code blocks}, or null when none applies. */
    public static Encoding best(Tensor t, List<int[]> blocks) {
        Encoding best = null;
        for (int[] b : blocks) {
            Encoding e = plan(t, b[0], b[1]);
            if (e != null && (best == null || e.alignedBytes() < best.alignedBytes()
                    || e.alignedBytes() == best.alignedBytes() && e.payloadBytes() < best.payloadBytes())) {
                best = e;
            }
        }
        return best;
    }

    /** {@code t} (dense, or codebook-only) stored in {@code r x c} blocks; quantization parameters are kept. */
    public static Tensor encode(Tensor t, int r, int c) {
        if (r == 0 && c == 0) {
            return encodeBitmask(t);
        }
        Layout l = Layout.of(t, r, c);
        if (l == null) {
            throw new IllegalArgumentException(r + "x" + c + " blocks do not tile the matrix of " + t);
        }
        int nnz = 0;
        boolean[][] keep = new boolean[l.blockRows][l.blockCols];
        for (int bi = 0; bi < l.blockRows; bi++) {
            for (int bj = 0; bj < l.blockCols; bj++) {
                keep[bi][bj] = l.blockNonZero(bi, bj);
                nnz += keep[bi][bj] ? 1 : 0;
            }
        }
        Encoding e = l.encoding(nnz);
        ByteBuffer rowPtr = buffer(e.rowPtrBytes());
        ByteBuffer colIdx = buffer(e.colIdxBytes());
        ByteBuffer values = buffer(e.valueBytes());
        int k = 0;
        long v = 0;
        put(rowPtr, e.indexType(), 0, 0);
        for (int bi = 0; bi < l.blockRows; bi++) {
            for (int bj = 0; bj < l.blockCols; bj++) {
                if (!keep[bi][bj]) {
                    continue;
                }
                put(colIdx, e.indexType(), k++, bj);
                for (int i = 0; i < r; i++) {
                    for (int j = 0; j < c; j++) {
                        l.copyValue(l.flat(bi * r + i, bj * c + j), values, v++);
                    }
                }
            }
            put(rowPtr, e.indexType(), bi + 1, k);
        }
        Sparse s = new Sparse(r * c == 1 ? Sparse.Format.CSR : Sparse.Format.BLOCK_CSR, r, c, e.indexType(), rowPtr,
                colIdx, nnz);
        return Tensor.encoded(t.dtype(), t.shape(), values, t.quant(), s, t.codebook());
    }

    /** {@code t} (dense, or codebook-only) stored as a bitmap of its non-zero elements plus their values. */
    public static Tensor encodeBitmask(Tensor t) {
        Layout l = Layout.of(t, 1, 1);
        if (l == null) {
            throw new IllegalArgumentException("cannot store scalar " + t + " as a bitmask");
        }
        int nnz = 0;
        long cells = (long) l.blockRows * l.blockCols;
        ByteBuffer bitmap = buffer((cells + 7) / 8);
        for (int i = 0; i < l.blockRows; i++) {
            for (int j = 0; j < l.blockCols; j++) {
                if (l.blockNonZero(i, j)) {
                    long bit = (long) i * l.blockCols + j;
                    bitmap.put((int) (bit >>> 3), (byte) (bitmap.get((int) (bit >>> 3)) | 1 << (bit & 7)));
                    nnz++;
                }
            }
        }
        Encoding e = l.bitmaskEncoding(nnz);
        ByteBuffer rowPtr = buffer(e.rowPtrBytes());
        ByteBuffer values = buffer(e.valueBytes());
        long v = 0;
        put(rowPtr, e.indexType(), 0, 0);
        for (int i = 0; i < l.blockRows; i++) {
            for (int j = 0; j < l.blockCols; j++) {
                if (l.blockNonZero(i, j)) {
                    l.copyValue(l.flat(i, j), values, v++);
                }
            }
            put(rowPtr, e.indexType(), i + 1, (int) v);
        }
        Sparse s = new Sparse(Sparse.Format.BITMASK, 1, 1, e.indexType(), rowPtr, bitmap, nnz);
        return Tensor.encoded(t.dtype(), t.shape(), values, t.quant(), s, t.codebook());
    }

    /**
     * Encodes the weight (input 1) of every Conv / ConvTranspose / Gemm / MatMul of the main graph whose best
     * encoding among {@code blocks} saves at least an eighth of the dense tensor's file bytes (aligned): below
     * that, the load-time decoding and the sparse kernels' overhead cost more than the bytes are worth.
     * Constants read by other nodes too are encoded all the same (the runtime densifies them for any reader).
     */
    public static Result encodeGraph(Graph g, List<int[]> blocks) {
        Set<String> weights = new LinkedHashSet<>();
        for (Node n : g.topologicalOrder()) {
            if (PrunableLayer.isLayerOp(n.op()) && n.hasInput(1) && g.initializers().containsKey(n.input(1))) {
                weights.add(n.input(1));
            }
        }
        Graph.Builder b = g.toBuilder();
        List<TensorStats> stats = new ArrayList<>();
        for (String w : weights) {
            Tensor t = g.initializers().get(w);
            long dense = payloadBytes(t);
            if (t.sparse() != null) {
                stats.add(new TensorStats(w, t.dtype(), t.shape(), dense, dense, null));
                continue;
            }
            Encoding e = best(t, blocks);
            if (e != null && e.alignedBytes() <= align(dense) - align(dense) / 8) {
                b.initializer(w, e.format() == Sparse.Format.BITMASK ? encodeBitmask(t)
                        : encode(t, e.blockRows(), e.blockCols()));
                stats.add(new TensorStats(w, t.dtype(), t.shape(), dense, e.payloadBytes(), e));
            } else {
                stats.add(new TensorStats(w, t.dtype(), t.shape(), dense, dense, null));
            }
        }
        return new Result(b.build(), stats);
    }

    private static ByteBuffer buffer(long bytes) {
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void put(ByteBuffer b, DType type, int i, int value) {
        switch (type) {
            case UINT8: b.put(i, (byte) value); break;
            case INT16: case UINT16: b.putShort(i * 2, (short) value); break;
            case INT32: b.putInt(i * 4, value); break;
            default: throw new IllegalStateException(type.name());
        }
    }

    /** The smallest index type for values up to {@code max}. */
    static DType indexType(long max) {
        if (max <= 255) {
            return DType.UINT8;
        }
        if (max <= Short.MAX_VALUE) {
            return DType.INT16;
        }
        return max <= 65535 ? DType.UINT16 : DType.INT32;
    }

    /** A tensor's matrix view in blocks, with access to raw values (or codebook indices). */
    private static final class Layout {
        final Tensor t;
        final int r;
        final int c;
        final long cols;
        final int blockRows;
        final int blockCols;
        final Codebook cb;
        final long sliceInner;
        final int sliceCount;

        private Layout(Tensor t, int r, int c, long cols) {
            this.t = t;
            this.r = r;
            this.c = c;
            this.cols = cols;
            this.blockRows = t.dim(0) / r;
            this.blockCols = (int) (cols / c);
            this.cb = t.codebook();
            long inner = 1;
            int axis = cb == null ? -1 : cb.axis();
            for (int d = axis + 1; axis >= 0 && d < t.rank(); d++) {
                inner *= t.dim(d);
            }
            this.sliceInner = inner;
            this.sliceCount = axis >= 0 ? t.dim(axis) : 1;
        }

        static Layout of(Tensor t, int r, int c) {
            if (t.sparse() != null) {
                throw new IllegalArgumentException("tensor is already sparse: " + t);
            }
            if (t.rank() == 0 || r < 1 || c < 1) {
                return null;
            }
            long cols = t.dim(0) == 0 ? 0 : (long) t.elementCount() / t.dim(0);
            if (t.dim(0) % r != 0 || cols % c != 0 || cols / c > Integer.MAX_VALUE) {
                return null;
            }
            return new Layout(t, r, c, cols);
        }

        long flat(long row, long col) {
            return row * cols + col;
        }

        boolean blockNonZero(int bi, int bj) {
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < c; j++) {
                    if (!isZero(flat((long) bi * r + i, (long) bj * c + j))) {
                        return true;
                    }
                }
            }
            return false;
        }

        boolean isZero(long e) {
            if (cb != null) {
                int slice = sliceCount == 1 ? 0 : (int) ((e / sliceInner) % sliceCount);
                return cb.entry(slice * (1 << cb.indexBits()) + index(e)) == 0;
            }
            DType dt = t.dtype();
            if (dt.bits() == 4) {
                return ((t.data().get((int) (e >> 1)) >> ((e & 1) * 4)) & 0xf) == 0;
            }
            return switch (dt.byteWidth()) {
                case 1 -> t.data().get((int) e) == 0;
                case 2 -> dt.isFloat() ? t.getDouble((int) e) == 0 : t.data().getShort((int) e * 2) == 0;
                case 4 -> dt.isFloat() ? t.getDouble((int) e) == 0 : t.data().getInt((int) e * 4) == 0;
                default -> dt.isFloat() ? t.getDouble((int) e) == 0 : t.data().getLong((int) e * 8) == 0;
            };
        }

        private int index(long e) {
            int bits = cb.indexBits();
            long p = e * bits;
            int at = (int) (p >>> 3);
            int shift = (int) (p & 7);
            int word = t.data().get(at) & 0xff;
            if (shift + bits > 8) {
                word |= (t.data().get(at + 1) & 0xff) << 8;
            }
            return (word >>> shift) & ((1 << bits) - 1);
        }

        Encoding encoding(int nnz) {
            DType it = indexType(Math.max(nnz, blockCols - 1L));
            long values = (long) nnz * r * c;
            long valueBytes = cb != null ? (values * cb.indexBits() + 7) / 8 : t.dtype().byteSize(values);
            return new Encoding(r * c == 1 ? Sparse.Format.CSR : Sparse.Format.BLOCK_CSR, r, c, it, nnz, valueBytes,
                    (blockRows + 1L) * it.byteWidth(), (long) nnz * it.byteWidth());
        }

        /** The BITMASK layout: rows+1 running counts and one bit per element. */
        Encoding bitmaskEncoding(int nnz) {
            DType it = indexType(nnz);
            long valueBytes = cb != null ? ((long) nnz * cb.indexBits() + 7) / 8 : t.dtype().byteSize(nnz);
            long cells = (long) blockRows * blockCols;
            return new Encoding(Sparse.Format.BITMASK, 1, 1, it, nnz, valueBytes, (blockRows + 1L) * it.byteWidth(),
                    (cells + 7) / 8);
        }

        /** Copies element {@code e} to stored position {@code v} of {@code out}. */
        void copyValue(long e, ByteBuffer out, long v) {
            if (cb != null) {
                int bits = cb.indexBits();
                int idx = index(e);
                for (int b = 0; b < bits; b++) {
                    if ((idx >> b & 1) != 0) {
                        long p = v * bits + b;
                        int at = (int) (p >>> 3);
                        out.put(at, (byte) (out.get(at) | 1 << (p & 7)));
                    }
                }
                return;
            }
            DType dt = t.dtype();
            if (dt.bits() == 4) {
                int nib = (t.data().get((int) (e >> 1)) >> ((e & 1) * 4)) & 0xf;
                int at = (int) (v >> 1);
                out.put(at, (byte) (out.get(at) | nib << ((v & 1) * 4)));
                return;
            }
            int w = dt.byteWidth();
            for (int b = 0; b < w; b++) {
                out.put((int) (v * w + b), t.data().get((int) (e * w + b)));
            }
        }
    }
}
