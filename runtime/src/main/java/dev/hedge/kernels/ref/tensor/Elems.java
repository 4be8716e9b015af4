package dev.hedge.kernels.ref.tensor;

import java.nio.ByteBuffer;

/**
 * Raw element moves on little-endian buffers, by element width in bits (4, 8, 16, 32 or 64). Nothing is
 * converted: data-movement kernels use these for every dtype. Indices are element indices; 4-bit elements
 * are packed two per byte, low nibble first.
 */
final class Elems {

    /** Below this many bytes a plain loop beats the bulk-copy call. */
    private static final int BULK_BYTES = 64;

    private Elems() {
    }

    /** Copies {@code n} consecutive elements. */
    static void copy(ByteBuffer src, int si, ByteBuffer dst, int di, int n, int bits) {
        switch (bits) {
            case 8:
                if (n >= BULK_BYTES) {
                    dst.put(di, src, si, n);
                } else {
                    for (int k = 0; k < n; k++) {
                        dst.put(di + k, src.get(si + k));
                    }
                }
                break;
            case 16:
                if (n * 2 >= BULK_BYTES) {
                    dst.put(di * 2, src, si * 2, n * 2);
                } else {
                    for (int k = 0; k < n; k++) {
                        dst.putShort((di + k) * 2, src.getShort((si + k) * 2));
                    }
                }
                break;
            case 32:
                if (n * 4 >= BULK_BYTES) {
                    dst.put(di * 4, src, si * 4, n * 4);
                } else {
                    for (int k = 0; k < n; k++) {
                        dst.putInt((di + k) * 4, src.getInt((si + k) * 4));
                    }
                }
                break;
            case 64:
                if (n * 8 >= BULK_BYTES) {
                    dst.put(di * 8, src, si * 8, n * 8);
                } else {
                    for (int k = 0; k < n; k++) {
                        dst.putLong((di + k) * 8, src.getLong((si + k) * 8));
                    }
                }
                break;
            case 4:
                copyNibbles(src, si, dst, di, n);
                break;
            default:
                throw new IllegalArgumentException("unsupported element width " + bits);
        }
    }

    private static void copyNibbles(ByteBuffer src, int si, ByteBuffer dst, int di, int n) {
        int k = 0;
        if (((si | di) & 1) == 0 && n >= 2) {
            int bytes = n >> 1;
            dst.put(di >> 1, src, si >> 1, bytes);
            k = bytes << 1;
        }
        for (; k < n; k++) {
            write4(dst, di + k, read4(src, si + k));
        }
    }

    /** Copies {@code n} elements with element strides {@code ss} (source) and {@code ds} (destination). */
    static void copyStrided(ByteBuffer src, int si, int ss, ByteBuffer dst, int di, int ds, int n, int bits) {
        switch (bits) {
            case 8:
                for (int k = 0; k < n; k++, si += ss, di += ds) {
                    dst.put(di, src.get(si));
                }
                break;
            case 16:
                for (int k = 0; k < n; k++, si += ss, di += ds) {
                    dst.putShort(di * 2, src.getShort(si * 2));
                }
                break;
            case 32:
                for (int k = 0; k < n; k++, si += ss, di += ds) {
                    dst.putInt(di * 4, src.getInt(si * 4));
                }
                break;
            case 64:
                for (int k = 0; k < n; k++, si += ss, di += ds) {
                    dst.putLong(di * 8, src.getLong(si * 8));
                }
                break;
            case 4:
                for (int k = 0; k < n; k++, si += ss, di += ds) {
                    write4(dst, di, read4(src, si));
                }
                break;
            default:
                throw new IllegalArgumentException("unsupported element width " + bits);
        }
    }

    /** Copies one element. */
    static void copyOne(ByteBuffer src, int si, ByteBuffer dst, int di, int bits) {
        switch (bits) {
            case 8: dst.put(di, src.get(si)); break;
            case 16: dst.putShort(di * 2, src.getShort(si * 2)); break;
            case 32: dst.putInt(di * 4, src.getInt(si * 4)); break;
            case 64: dst.putLong(di * 8, src.getLong(si * 8)); break;
            case 4: write4(dst, di, read4(src, si)); break;
            default: throw new IllegalArgumentException("unsupported element width " + bits);
        }
    }

    /** The raw bits of element {@code i} (zero-extended). */
    static long read(ByteBuffer b, int i, int bits) {
        switch (bits) {
            case 8: return b.get(i) & 0xffL;
            case 16: return b.getShort(i * 2) & 0xffffL;
            case 32: return b.getInt(i * 4) & 0xffffffffL;
            case 64: return b.getLong(i * 8);
            case 4: return read4(b, i);
            default: throw new IllegalArgumentException("unsupported element width " + bits);
        }
    }

    /** Stores raw bits into element {@code i}. */
    static void write(ByteBuffer b, int i, int bits, long raw) {
        switch (bits) {
            case 8: b.put(i, (byte) raw); break;
            case 16: b.putShort(i * 2, (short) raw); break;
            case 32: b.putInt(i * 4, (int) raw); break;
            case 64: b.putLong(i * 8, raw); break;
            case 4: write4(b, i, (int) raw); break;
            default: throw new IllegalArgumentException("unsupported element width " + bits);
        }
    }

    /** Stores the raw bits {@code raw} into {@code n} consecutive elements. */
    static void fill(ByteBuffer b, int di, int n, int bits, long raw) {
        switch (bits) {
            case 8:
                for (int k = 0; k < n; k++) {
                    b.put(di + k, (byte) raw);
                }
                break;
            case 16:
                for (int k = 0; k < n; k++) {
                    b.putShort((di + k) * 2, (short) raw);
                }
                break;
            case 32:
                for (int k = 0; k < n; k++) {
                    b.putInt((di + k) * 4, (int) raw);
                }
                break;
            case 64:
                for (int k = 0; k < n; k++) {
                    b.putLong((di + k) * 8, raw);
                }
                break;
            case 4:
                for (int k = 0; k < n; k++) {
                    write4(b, di + k, (int) raw);
                }
                break;
            default:
                throw new IllegalArgumentException("unsupported element width " + bits);
        }
    }

    static int read4(ByteBuffer b, int i) {
        int v = b.get(i >> 1);
        return (i & 1) == 0 ? v & 0xf : (v >> 4) & 0xf;
    }

    static void write4(ByteBuffer b, int i, int nib) {
        int v = b.get(i >> 1);
        v = (i & 1) == 0 ? (v & 0xf0) | (nib & 0xf) : (v & 0x0f) | ((nib & 0xf) << 4);
        b.put(i >> 1, (byte) v);
    }
}
