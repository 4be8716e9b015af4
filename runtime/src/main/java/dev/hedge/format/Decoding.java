package dev.hedge.format;

import dev.hedge.ir.Codebook;
import dev.hedge.ir.Sparse;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;

/**
 * Decodes encoded constants (sparse, codebook, or both) to dense tensors for kernels that need dense data.
 *
 * <ul>
 *   <li>CSR / block-CSR: the stored blocks are placed in a zero-filled tensor of the same dtype (packed
 *       INT4/UINT4 included); entries not stored are raw 0.
 *   <li>Codebook: each value is its palette entry (per slice of the codebook axis when it has one),
 *       converted to the tensor's float dtype (for FLOAT32 the palette values themselves).
 *   <li>Sparse + codebook: the stored values are codebook indices.
 * </ul>
 * Quantization parameters are kept. The encoding is validated again first (a tensor may have been built in
 * memory, not read from a verified file), so no index out of range ever reaches an array.
 */
public final class Decoding {

    private Decoding() {
    }

    public static Tensor densify(Tensor t) {
        if (!t.isEncoded()) {
            return t;
        }
        DType dt = t.dtype();
        int[] shape = t.shape();
        String where = "encoded constant " + Encodings.describe(dt, shape);
        Encodings.checkDecodedSize(where, dt, shape);
        Sparse s = t.sparse();
        Codebook cb = t.codebook();
        ByteBuffer payload = t.data();
        long payloadBytes = payload.capacity();
        int n = t.elementCount();
        int bits = 0;
        if (cb != null) {
            bits = cb.indexBits();
            Encodings.checkCodebook(where, dt, shape, cb.paletteSize(), bits, cb.axis());
            long need = Encodings.packedBytes(n, bits);
            if (s == null && payloadBytes != need) {
                throw new ModelFormatException(where + ": payload has " + payloadBytes + " bytes; " + n + " "
                        + bits + "-bit codebook indices need " + need);
            }
        }
        if (s != null) {
            Encodings.checkSparse(where, dt, shape, s, payloadBytes, bits);
        }
        Tensor out = Tensor.allocate(dt, shape);
        Palette palette = cb == null ? null : new Palette(cb, shape);
        if (s == null) {
            for (int e = 0; e < n; e++) {
                out.setDouble(e, palette.value(unpack(payload, e, bits), e));
            }
        } else if (s.format() == Sparse.Format.BITMASK) {
            int rows = shape[0];
            long cols = n == 0 ? 0 : n / rows;
            int w = dt.byteWidth();
            int v = 0;
            for (int r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    if (!s.bit(r, c, cols)) {
                        continue;
                    }
                    int flat = (int) (r * cols + c);
                    if (palette != null) {
                        out.setDouble(flat, palette.value(unpack(payload, v, bits), flat));
                    } else if (dt.bits() == 4) {
                        out.setLong(flat, (payload.get(v >> 1) >> ((v & 1) * 4)) & 0xf);
                    } else {
                        copy(payload, v, out.data(), flat, w);
                    }
                    v++;
                }
            }
        } else {
            int br = s.blockRows();
            int bc = s.blockCols();
            int blockRows = shape[0] / br;
            long cols = n == 0 ? 0 : n / shape[0];
            int w = dt.byteWidth();
            for (int bi = 0; bi < blockRows; bi++) {
                int end = s.index(s.rowPtr(), bi + 1);
                for (int k = s.index(s.rowPtr(), bi); k < end; k++) {
                    int bj = s.index(s.colIdx(), k);
                    for (int r = 0; r < br; r++) {
                        for (int c = 0; c < bc; c++) {
                            int v = (k * br + r) * bc + c;
                            int flat = (int) ((long) (bi * br + r) * cols + (long) bj * bc + c);
                            if (palette != null) {
                                out.setDouble(flat, palette.value(unpack(payload, v, bits), flat));
                            } else if (dt.bits() == 4) {
                                out.setLong(flat, (payload.get(v >> 1) >> ((v & 1) * 4)) & 0xf);
                            } else {
                                copy(payload, v, out.data(), flat, w);
                            }
                        }
                    }
                }
            }
        }
        return t.quant() == null ? out : out.withQuant(t.quant());
    }

    /** Index {@code i} of {@code bits}-bit indices packed LSB first. */
    private static int unpack(ByteBuffer b, long i, int bits) {
        long p = i * bits;
        int at = (int) (p >>> 3);
        int shift = (int) (p & 7);
        int word = b.get(at) & 0xff;
        if (shift + bits > 8) {
            word |= (b.get(at + 1) & 0xff) << 8;
        }
        return (word >>> shift) & ((1 << bits) - 1);
    }

    private static void copy(ByteBuffer from, int i, ByteBuffer to, int j, int width) {
        switch (width) {
            case 1: to.put(j, from.get(i)); break;
            case 2: to.putShort(j * 2, from.getShort(i * 2)); break;
            case 4: to.putInt(j * 4, from.getInt(i * 4)); break;
            case 8: to.putLong(j * 8, from.getLong(i * 8)); break;
            default: throw new IllegalStateException("element width " + width);
        }
    }

    /** Palette lookup; with a codebook axis, element {@code e}'s palette is that of its slice. */
    private static final class Palette {
        private final Codebook cb;
        private final int size;
        private final int axisDim;
        private final long inner;

        Palette(Codebook cb, int[] shape) {
            this.cb = cb;
            this.size = 1 << cb.indexBits();
            this.axisDim = cb.axis() >= 0 ? shape[cb.axis()] : 1;
            long in = 1;
            for (int d = cb.axis() + 1; cb.axis() >= 0 && d < shape.length; d++) {
                in *= shape[d];
            }
            this.inner = in;
        }

        float value(int index, long e) {
            int slice = axisDim == 1 ? 0 : (int) ((e / inner) % axisDim);
            return cb.entry(slice * size + index);
        }
    }
}
