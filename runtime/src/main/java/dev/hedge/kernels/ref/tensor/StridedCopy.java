package dev.hedge.kernels.ref.tensor;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A copy between two strided views of the same logical shape, planned once and run without allocating.
 * Transpose, Slice, Concat, Split, Expand, Tile, DepthToSpace and SpaceToDepth are all such copies.
 *
 * <p>At construction, size-1 axes are dropped and axes contiguous in both views are merged, then one of four
 * loops is chosen: contiguous runs (bulk copies), broadcast runs (one source element repeated), a blocked
 * two-axis transpose (the source's and the destination's unit-stride axes differ), or a plain strided loop.
 */
final class StridedCopy {

    private static final int TILE = 32;
    /** Inner lengths below this are copied column by column instead of in tiles. */
    private static final int SHORT_INNER = 8;

    private enum Kind { EMPTY, RUNS, FILL, TILED, STRIDED }

    private final int bits;
    private final Kind kind;
    /** Simplified dims, outermost first; the last one is the inner loop. */
    private final int[] dims;
    private final int[] ss;
    private final int[] ds;
    private final int srcBase;
    private final int dstBase;
    /** Axes walked by the row loop (all but the inner axis, and for TILED also the tile axis). */
    private final int[] rowAxes;
    private final int rows;
    private final int tileAxis;

    /**
     * @param shape logical shape copied
     * @param srcStrides element strides of the source view (may be 0 or negative)
     * @param dstStrides element strides of the destination view
     */
    StridedCopy(int[] shape, int[] srcStrides, int srcBase, int[] dstStrides, int dstBase, int bits) {
        this.bits = bits;
        this.srcBase = srcBase;
        this.dstBase = dstBase;
        int r = shape.length;
        int[] d = new int[r + 1];
        int[] s = new int[r + 1];
        int[] t = new int[r + 1];
        int n = 0;
        boolean empty = false;
        for (int i = 0; i < r; i++) {
            if (shape[i] == 0) {
                empty = true;
            }
            if (shape[i] <= 1) {
                continue;
            }
            if (n > 0 && s[n - 1] == srcStrides[i] * shape[i] && t[n - 1] == dstStrides[i] * shape[i]) {
                d[n - 1] *= shape[i];
                s[n - 1] = srcStrides[i];
                t[n - 1] = dstStrides[i];
            } else {
                d[n] = shape[i];
                s[n] = srcStrides[i];
                t[n] = dstStrides[i];
                n++;
            }
        }
        if (n == 0) {
            // a single element
            d[0] = 1;
            s[0] = 1;
            t[0] = 1;
            n = 1;
        }
        this.dims = Arrays.copyOf(d, n);
        this.ss = Arrays.copyOf(s, n);
        this.ds = Arrays.copyOf(t, n);
        int last = n - 1;
        int tile = -1;
        Kind k;
        if (empty) {
            k = Kind.EMPTY;
        } else if (ss[last] == 1 && ds[last] == 1) {
            k = Kind.RUNS;
        } else if (ss[last] == 0 && ds[last] == 1) {
            k = Kind.FILL;
        } else {
            k = Kind.STRIDED;
            if (ds[last] == 1) {
                for (int i = last - 1; i >= 0; i--) {
                    if (ss[i] == 1) {
                        tile = i;
                        k = Kind.TILED;
                        break;
                    }
                }
            }
        }
        this.kind = k;
        this.tileAxis = tile;
        int[] ra = new int[n];
        int m = 0;
        long count = 1;
        for (int i = 0; i < last; i++) {
            if (i != tile) {
                ra[m++] = i;
                count *= dims[i];
            }
        }
        this.rowAxes = Arrays.copyOf(ra, m);
        this.rows = k == Kind.EMPTY ? 0 : (int) count;
    }

    /** Row-major element strides. */
    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    void run(ByteBuffer src, ByteBuffer dst) {
        int last = dims.length - 1;
        int len = dims[last];
        switch (kind) {
            case EMPTY:
                return;
            case RUNS:
                for (int row = 0; row < rows; row++) {
                    long o = rowOffsets(row);
                    Elems.copy(src, (int) (o >> 32), dst, (int) o, len, bits);
                }
                return;
            case FILL:
                for (int row = 0; row < rows; row++) {
                    long o = rowOffsets(row);
                    Elems.copyStrided(src, (int) (o >> 32), 0, dst, (int) o, 1, len, bits);
                }
                return;
            case TILED:
                runTiled(src, dst, len);
                return;
            case STRIDED:
                for (int row = 0; row < rows; row++) {
                    long o = rowOffsets(row);
                    Elems.copyStrided(src, (int) (o >> 32), ss[last], dst, (int) o, ds[last], len, bits);
                }
                return;
            default:
                throw new AssertionError(kind);
        }
    }

    private void runTiled(ByteBuffer src, ByteBuffer dst, int len) {
        int last = dims.length - 1;
        int nk = dims[tileAxis];
        int dk = ds[tileAxis];
        int sl = ss[last];
        for (int row = 0; row < rows; row++) {
            long o = rowOffsets(row);
            int so = (int) (o >> 32);
            int dOff = (int) o;
            if (len < SHORT_INNER) {
                // a short inner axis (e.g. channels-last with 3 channels): read along the source's unit-stride
                // axis, one stream per inner position, writing with the small stride len
                for (int j = 0; j < len; j++) {
                    Elems.copyStrided(src, so + j * sl, 1, dst, dOff + j, dk, nk, bits);
                }
                continue;
            }
            for (int i0 = 0; i0 < nk; i0 += TILE) {
                int i1 = Math.min(nk, i0 + TILE);
                for (int j0 = 0; j0 < len; j0 += TILE) {
                    int jn = Math.min(len, j0 + TILE) - j0;
                    for (int i = i0; i < i1; i++) {
                        Elems.copyStrided(src, so + i + j0 * sl, sl, dst, dOff + i * dk + j0, 1, jn, bits);
                    }
                }
            }
        }
    }

    /** Source offset (high 32 bits) and destination offset (low 32 bits) of row {@code row}. */
    private long rowOffsets(int row) {
        int so = srcBase;
        int dOff = dstBase;
        int r = row;
        for (int k = rowAxes.length - 1; k >= 0 && r != 0; k--) {
            int a = rowAxes[k];
            int dim = dims[a];
            int idx = r % dim;
            r /= dim;
            so += idx * ss[a];
            dOff += idx * ds[a];
        }
        return ((long) so << 32) | (dOff & 0xffffffffL);
    }
}
