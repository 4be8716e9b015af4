package dev.hedge.ir;

import java.nio.ByteBuffer;

/**
 * Sparse storage of a constant seen as a matrix {@code [shape[0], prod(shape[1:])]} cut in blocks of
 * {@code blockRows x blockCols} (1x1 is plain CSR). {@code rowPtr} has {@code rows / blockRows + 1}
 * entries and {@code colIdx} one block-column index per stored block, both as {@code indexType}
 * (INT32, INT16 or UINT8) little-endian values.
 */
public record Sparse(Format format, int blockRows, int blockCols, dev.hedge.runtime.DType indexType,
        ByteBuffer rowPtr, ByteBuffer colIdx, int nnzBlocks) {

    /**
     * CSR and BLOCK_CSR store one block-column index per stored block; BITMASK (1x1 blocks) stores a row-major
     * bitmap of the whole matrix instead ({@code colIdx}, LSB first, {@code ceil(rows*cols/8)} bytes) and keeps
     * {@code rowPtr} as in CSR. Codes equal the FlatBuffers {@code SparseFormat} values.
     */
    public enum Format {
        CSR, BLOCK_CSR, BITMASK;

        public byte code() {
            return (byte) ordinal();
        }

        public static Format fromCode(int code) {
            if (code < 0 || code >= values().length) {
                throw new IllegalArgumentException("unknown sparse format code " + code);
            }
            return values()[code];
        }
    }

    /** Whether element (row, col) of a BITMASK encoding is stored. */
    public boolean bit(long row, long col, long cols) {
        long i = row * cols + col;
        return (colIdx.get((int) (i >>> 3)) >> (int) (i & 7) & 1) != 0;
    }

    /** Index {@code i} of an index buffer of {@link #indexType()}. */
    public int index(ByteBuffer b, int i) {
        switch (indexType) {
            case INT32: return b.getInt(i * 4);
            case INT16: return b.getShort(i * 2);
            case UINT16: return b.getShort(i * 2) & 0xffff;
            case UINT8: return b.get(i) & 0xff;
            default: throw new IllegalStateException("bad sparse index type " + indexType);
        }
    }
}
