package dev.hedge.format;

import dev.hedge.ir.Sparse;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import java.util.EnumSet;
import java.util.Set;

/**
 * Consistency rules of quantization parameters and of sparse and codebook encodings, shared by the file
 * verifier and by {@link Decoding} (which re-checks tensors built in memory). Every failure is a
 * {@link ModelFormatException} starting with {@code where}.
 */
final class Encodings {

    static final Set<DType> SPARSE_INDEX_TYPES = EnumSet.of(DType.INT32, DType.INT16, DType.UINT16, DType.UINT8);

    private Encodings() {
    }

    static String describe(DType dtype, int[] shape) {
        StringBuilder sb = new StringBuilder(dtype.name()).append('[');
        for (int i = 0; i < shape.length; i++) {
            sb.append(i > 0 ? "," : "").append(shape[i]);
        }
        return sb.append(']').toString();
    }

    static long elements(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** Bytes of {@code count} indices of {@code bits} bits each, packed LSB first. */
    static long packedBytes(long count, int bits) {
        return (count * bits + 7) / 8;
    }

    /** The decoded (dense) size must fit one buffer. */
    static void checkDecodedSize(String where, DType dtype, int[] shape) {
        long bytes = dtype.byteSize(elements(shape));
        if (bytes > Integer.MAX_VALUE) {
            throw new ModelFormatException(where + ": " + describe(dtype, shape) + " decodes to " + bytes
                    + " bytes, more than the 2^31-1 a tensor can hold");
        }
    }

    static void checkQuant(String where, DType dtype, int[] shape, float[] scales, long[] zeroPoints, int axis,
            int blockSize) {
        String q = where + ": quantization ";
        if (scales.length == 0) {
            throw new ModelFormatException(q + "has no scales");
        }
        if (zeroPoints.length != 0 && zeroPoints.length != scales.length) {
            throw new ModelFormatException(q + "has " + scales.length + " scales but " + zeroPoints.length
                    + " zero points");
        }
        for (int i = 0; i < scales.length; i++) {
            if (!(scales[i] > 0) || Float.isInfinite(scales[i])) {
                throw new ModelFormatException(q + "scale[" + i + "] = " + scales[i]
                        + " is not a finite positive number");
            }
        }
        if (dtype == DType.BOOL) {
            throw new ModelFormatException(q + "on a BOOL tensor");
        }
        long lo;
        long hi;
        switch (dtype) {
            case INT4: lo = -8; hi = 7; break;
            case UINT4: lo = 0; hi = 15; break;
            case INT8: lo = Byte.MIN_VALUE; hi = Byte.MAX_VALUE; break;
            case UINT8: lo = 0; hi = 255; break;
            case INT16: lo = Short.MIN_VALUE; hi = Short.MAX_VALUE; break;
            case UINT16: lo = 0; hi = 65535; break;
            case INT32: lo = Integer.MIN_VALUE; hi = Integer.MAX_VALUE; break;
            case UINT32: lo = 0; hi = 0xffffffffL; break;
            case INT64: case UINT64: lo = Long.MIN_VALUE; hi = Long.MAX_VALUE; break;
            default: lo = 0; hi = 0; // float tensors: scale only
        }
        for (int i = 0; i < zeroPoints.length; i++) {
            if (zeroPoints[i] < lo || zeroPoints[i] > hi) {
                throw new ModelFormatException(q + "zero_point[" + i + "] = " + zeroPoints[i] + " is outside the "
                        + dtype + " range [" + lo + ", " + hi + "]");
            }
        }
        if (blockSize < 0) {
            throw new ModelFormatException(q + "block_size " + blockSize + " is negative");
        }
        if (scales.length == 1) {
            return; // per tensor: the axis does not matter
        }
        int rank = shape.length;
        if (axis < -rank || axis >= rank) {
            throw new ModelFormatException(q + "axis " + axis + " is out of range for " + describe(dtype, shape));
        }
        int a = axis < 0 ? axis + rank : axis;
        long expected;
        String rule;
        if (blockSize > 0) {
            long blocks = (shape[a] + (long) blockSize - 1) / blockSize;
            expected = shape[a] == 0 ? 0 : elements(shape) / shape[a] * blocks;
            rule = "blocks of " + blockSize + " along axis " + axis;
        } else {
            expected = shape[a];
            rule = "axis " + axis;
        }
        if (scales.length != expected) {
            throw new ModelFormatException(q + "has " + scales.length + " scales; " + rule + " of "
                    + describe(dtype, shape) + " needs " + expected + " (or 1)");
        }
    }

    /** Palette and axis rules; the index payload size is checked by the caller (it depends on sparsity). */
    static void checkCodebook(String where, DType dtype, int[] shape, int paletteLength, int bits, int axis) {
        String c = where + ": codebook ";
        if (bits < 1 || bits > 8) {
            throw new ModelFormatException(c + "index_bits " + bits + " is not in 1..8");
        }
        if (!dtype.isFloat()) {
            throw new ModelFormatException(c + "on a " + dtype + " tensor; codebook values are floats");
        }
        if (axis < -1 || axis >= shape.length) {
            throw new ModelFormatException(c + "axis " + axis + " is out of range for " + describe(dtype, shape)
                    + " (-1 means one palette)");
        }
        long expected = (1L << bits) * (axis >= 0 ? shape[axis] : 1);
        if (paletteLength != expected) {
            throw new ModelFormatException(c + "palette has " + paletteLength + " entries; " + bits + "-bit indices"
                    + (axis >= 0 ? " with one palette per slice of axis " + axis : "") + " on "
                    + describe(dtype, shape) + " need " + expected);
        }
    }

    /**
     * Sparse structure rules. {@code payloadBytes} is the size of the value payload; {@code codebookBits} is
     * the codebook index width when the stored values are codebook indices, else 0. Returns the number of
     * index entries scanned.
     */
    static long checkSparse(String where, DType dtype, int[] shape, Sparse s, long payloadBytes, int codebookBits) {
        String p = where + ": sparse ";
        if (shape.length == 0) {
            throw new ModelFormatException(p + "encoding of a scalar");
        }
        int br = s.blockRows();
        int bc = s.blockCols();
        if (s.format() != Sparse.Format.BLOCK_CSR && (br != 1 || bc != 1)) {
            throw new ModelFormatException(p + s.format() + " with " + br + "x" + bc + " blocks (its blocks are 1x1)");
        }
        if (br < 1 || bc < 1) {
            throw new ModelFormatException(p + "block size " + br + "x" + bc + " is not positive");
        }
        if (!SPARSE_INDEX_TYPES.contains(s.indexType())) {
            throw new ModelFormatException(p + "index type " + s.indexType() + " is not one of "
                    + SPARSE_INDEX_TYPES);
        }
        long rows = shape[0];
        long cols = 1;
        for (int i = 1; i < shape.length; i++) {
            cols *= shape[i];
            if (cols > Integer.MAX_VALUE) {
                throw new ModelFormatException(p + "matrix of " + describe(dtype, shape)
                        + " has more than 2^31-1 columns");
            }
        }
        if (rows % br != 0 || cols % bc != 0) {
            throw new ModelFormatException(p + br + "x" + bc + " blocks do not tile the " + rows + "x" + cols
                    + " matrix of " + describe(dtype, shape));
        }
        long blockRows = rows / br;
        long blockCols = cols / bc;
        long nnz = s.nnzBlocks();
        if (nnz < 0 || nnz > blockRows * blockCols) {
            throw new ModelFormatException(p + "nnz_blocks " + nnz + " is not in 0.." + blockRows * blockCols);
        }
        int w = s.indexType().byteWidth();
        long rowPtrBytes = s.rowPtr().limit();
        long colIdxBytes = s.colIdx().limit();
        if (rowPtrBytes != (blockRows + 1) * w) {
            throw new ModelFormatException(p + "row_ptr has " + rowPtrBytes + " bytes; " + blockRows
                    + " block rows need " + (blockRows + 1) + " " + s.indexType() + " entries ("
                    + (blockRows + 1) * w + " bytes)");
        }
        boolean bitmask = s.format() == Sparse.Format.BITMASK;
        long colIdxNeeded = bitmask ? (blockRows * blockCols + 7) / 8 : nnz * w;
        if (colIdxBytes != colIdxNeeded) {
            throw new ModelFormatException(p + (bitmask ? "bitmap has " + colIdxBytes + " bytes; a " + blockRows + "x"
                    + blockCols + " matrix needs " : "col_idx has " + colIdxBytes + " bytes; " + nnz + " blocks need ")
                    + colIdxNeeded);
        }
        long values = nnz * br * bc;
        long needed = codebookBits > 0 ? packedBytes(values, codebookBits) : dtype.byteSize(values);
        if (payloadBytes != needed) {
            throw new ModelFormatException(p + "values have " + payloadBytes + " bytes; " + nnz + " blocks of "
                    + br + "x" + bc + (codebookBits > 0 ? " " + codebookBits + "-bit codebook indices"
                    : " " + dtype) + " need " + needed);
        }
        int prev = s.index(s.rowPtr(), 0);
        if (prev != 0) {
            throw new ModelFormatException(p + "row_ptr[0] = " + prev + ", expected 0");
        }
        for (int r = 0; r < blockRows; r++) {
            int next = s.index(s.rowPtr(), r + 1);
            if (next < prev || next > nnz) {
                throw new ModelFormatException(p + "row_ptr[" + (r + 1) + "] = " + next + " is not in row_ptr["
                        + r + "] = " + prev + " .. nnz_blocks = " + nnz);
            }
            if (bitmask) {
                long set = 0;
                for (long c = 0; c < blockCols; c++) {
                    if (s.bit(r, c, blockCols)) {
                        set++;
                    }
                }
                if (set != next - prev) {
                    throw new ModelFormatException(p + "bitmap row " + r + " has " + set + " bits set, row_ptr says "
                            + (next - prev));
                }
                prev = next;
                continue;
            }
            int last = -1;
            for (int k = prev; k < next; k++) {
                int col = s.index(s.colIdx(), k);
                if (col < 0 || col >= blockCols) {
                    throw new ModelFormatException(p + "col_idx[" + k + "] = " + col + " is not below the "
                            + blockCols + " block columns");
                }
                if (col <= last) {
                    throw new ModelFormatException(p + "col_idx[" + k + "] = " + col + " in block row " + r
                            + " does not increase (previous " + last + ")");
                }
                last = col;
            }
            prev = next;
        }
        if (prev != nnz) {
            throw new ModelFormatException(p + "row_ptr ends at " + prev + ", expected nnz_blocks = " + nnz);
        }
        if (bitmask) {
            long tail = blockRows * blockCols;
            for (long i = tail; i < colIdxBytes * 8; i++) {
                if ((s.colIdx().get((int) (i >>> 3)) >> (int) (i & 7) & 1) != 0) {
                    throw new ModelFormatException(p + "bitmap has bits set past the matrix end (bit " + i + ")");
                }
            }
            return blockRows + 1 + colIdxBytes;
        }
        return blockRows + 1 + nnz;
    }
}
