package dev.hedge.kernels.cpu;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Sparse weights W[R][K] (R = output channels) in the layout of the native sparse kernels (hk_sparse.h),
 * built at prepare time from the dense values: blocks of 1x1 (CSR), 1x4, 4x1 or 8x1 whose values are all zero
 * are dropped. Built here from validated dimensions, so every index it holds is in range.
 *
 * <p>8-bit weights keep their raw stored values; a block not stored means raw 0 there, which with a
 * non-zero weight zero point still contributes {@code -zw * (x - zx)} (the kernel adds it for all k).
 */
final class SparseWeights {

    private final ByteBuffer buffer;
    private final int rows;
    private final int cols;
    private final int blocks;
    private final boolean quantized;
    private final boolean k4;
    private final boolean anyZw;
    private final ByteBuffer lanes;

    private SparseWeights(ByteBuffer buffer, int rows, int cols, int blocks, boolean quantized, boolean k4,
            boolean anyZw) {
        this(buffer, rows, cols, blocks, quantized, k4, anyZw, null);
    }

    private SparseWeights(ByteBuffer buffer, int rows, int cols, int blocks, boolean quantized, boolean k4,
            boolean anyZw, ByteBuffer lanes) {
        this.buffer = buffer;
        this.rows = rows;
        this.cols = cols;
        this.blocks = blocks;
        this.quantized = quantized;
        this.k4 = k4;
        this.anyZw = anyZw;
        this.lanes = lanes;
    }

    /**
     * These weights plus, for single-row blocks in the k4 layout, the lane layout of the one-column kernel
     * (hk_sparse.h: no gathers; batch-1 fully connected layers), built once here.
     */
    SparseWeights withGemvLanes() {
        if (!k4 || lanes != null || blockRows() != 1) {
            return this;
        }
        return new SparseWeights(buffer, rows, cols, blocks, quantized, k4, anyZw, Native.sparseGemvLanes(this));
    }

    /** The lane layout of {@link #withGemvLanes}, or null. */
    ByteBuffer gemvLanes() {
        return lanes;
    }

    /** Values of element (r, k) of the dense source, as int (8-bit) or float bits. */
    interface Source {
        float value(int r, int k);
    }

    /**
     * Whether blocks of br x bc are supported and tile an R x K matrix. The k4 layout stores entries of br rows
     * by one group of 4 inputs, so blocks 1, 4 or 8 rows high and 1 or 4 wide keep their rows together (8 x 4
     * blocks: each activation load serves 8 rows); the int16-pair layout has 1x1, 1x4, 4x1 and 8x1 kernels.
     */
    static boolean fits(int br, int bc, int r, int k, boolean k4) {
        boolean shape = k4 ? (br == 1 || br == 4 || br == 8) && (bc == 1 || bc == 4)
                : (br == 1 && bc == 1) || (br == 1 && bc == 4) || (br == 4 && bc == 1) || (br == 8 && bc == 1);
        return shape && r > 0 && k > 0 && r % br == 0 && k % bc == 0;
    }

    /**
     * 8-bit weights; {@code zw} has one zero point per row. {@code k4}: the AVX-512 layout (signed weights
     * only, entries per 4-k group over the dense activation panel), else int16 pairs.
     */
    static SparseWeights int8(Source w, int r, int k, int br, int bc, int[] zw, boolean k4) {
        return k4 ? buildK4(w, r, k, br, bc, zw) : build(w, r, k, br, bc, true, zw);
    }

    static SparseWeights f32(Source w, int r, int k, int br, int bc) {
        return build(w, r, k, br, bc, false, new int[r]);
    }

    private static SparseWeights buildK4(Source w, int r, int k, int br, int bc, int[] zw) {
        if (!fits(br, bc, r, k, true)) {
            throw new IllegalArgumentException("sparse blocks " + br + "x" + bc + " do not tile " + r + " x " + k);
        }
        if (zw.length != r) {
            throw new IllegalArgumentException(zw.length + " zero points for " + r + " rows");
        }
        int nbr = r / br;
        int groups = (k + 3) / 4;
        int[] rowptr = new int[nbr + 1];
        int[] rsum = new int[r];
        IntList col = new IntList();
        IntList vals = new IntList();
        int stored = 0;
        for (int b = 0; b < nbr; b++) {
            for (int g = 0; g < groups; g++) {
                int kEnd = Math.min(k, 4 * g + 4);
                boolean any = false;
                for (int i = 0; i < br && !any; i++) {
                    for (int kk = 4 * g; kk < kEnd && !any; kk++) {
                        any = w.value(b * br + i, kk) != 0;
                    }
                }
                if (!any) {
                    continue;
                }
                col.add(g);
                for (int i = 0; i < br; i++) {
                    int word = 0;
                    for (int kk = 4 * g; kk < kEnd; kk++) {
                        int v = (int) w.value(b * br + i, kk);
                        if (v < -128 || v > 127) {
                            throw new IllegalArgumentException("weight " + v + " is not INT8");
                        }
                        word |= (v & 0xff) << (8 * (kk - 4 * g));
                        rsum[b * br + i] += v;
                    }
                    vals.add(word);
                }
            }
            rowptr[b + 1] = col.size();
        }
        for (int b = 0; b < nbr; b++) {
            for (int kb = 0; kb < k / bc; kb++) {
                boolean any = false;
                for (int i = 0; i < br && !any; i++) {
                    for (int j = 0; j < bc && !any; j++) {
                        any = w.value(b * br + i, kb * bc + j) != 0;
                    }
                }
                stored += any ? 1 : 0;
            }
        }
        return layout(r, k, br, bc, 1, nbr, rowptr, col, vals, zw, rsum, stored, true, true);
    }

    private static SparseWeights build(Source w, int r, int k, int br, int bc, boolean q8, int[] zw) {
        if (!fits(br, bc, r, k, false)) {
            throw new IllegalArgumentException("sparse blocks " + br + "x" + bc + " do not tile " + r + " x " + k);
        }
        if (zw.length != r) {
            throw new IllegalArgumentException(zw.length + " zero points for " + r + " rows");
        }
        int nbr = r / br;
        int[] rowptr = new int[nbr + 1];
        IntList col = new IntList();
        IntList vals = new IntList();
        int ep = q8 ? (bc == 4 ? 2 : 1) : bc;
        for (int b = 0; b < nbr; b++) {
            for (int kb = 0; kb < k / bc; kb++) {
                boolean any = false;
                for (int i = 0; i < br && !any; i++) {
                    for (int j = 0; j < bc && !any; j++) {
                        any = w.value(b * br + i, kb * bc + j) != 0;
                    }
                }
                if (!any) {
                    continue;
                }
                int k0 = kb * bc;
                if (q8) {
                    col.add(k0 / 2);
                    for (int q = 0; q < ep; q++) {
                        for (int i = 0; i < br; i++) {
                            int lo = 0;
                            int hi = 0;
                            for (int j = 0; j < bc; j++) {
                                int kk = k0 + j;
                                if (kk / 2 == k0 / 2 + q) {
                                    int v = (int) w.value(b * br + i, kk);
                                    if ((kk & 1) == 0) {
                                        lo = v;
                                    } else {
                                        hi = v;
                                    }
                                }
                            }
                            vals.add((lo & 0xffff) | (hi << 16));
                        }
                    }
                } else {
                    col.add(k0);
                    for (int j = 0; j < bc; j++) {
                        for (int i = 0; i < br; i++) {
                            vals.add(Float.floatToRawIntBits(w.value(b * br + i, k0 + j)));
                        }
                    }
                }
            }
            rowptr[b + 1] = col.size();
        }
        return layout(r, k, br, bc, ep, nbr, rowptr, col, vals, zw, null, col.size(), q8, false);
    }

    private static SparseWeights layout(int r, int k, int br, int bc, int ep, int nbr, int[] rowptr, IntList col,
            IntList vals, int[] zw, int[] rsum, int stored, boolean q8, boolean k4) {
        int nent = col.size();
        long offRp = 64;
        long offCol = offRp + Native.align64(4L * (nbr + 1));
        long offW = offCol + Native.align64(4L * nent + 4);
        long offZw = offW + Native.align64(4L * vals.size() + 4);
        long offRs = offZw + Native.align64(4L * r + 4);
        long total = offRs + (rsum == null ? 0 : Native.align64(4L * r + 4));
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sparse weights of " + r + " x " + k + " are too large");
        }
        ByteBuffer b = Native.allocate(total);
        boolean anyZw = false;
        for (int z : zw) {
            anyZw |= z != 0;
        }
        int[] h = {r, k, br, ep, nbr, nent, (int) offRp, (int) offCol, (int) offW, (int) offZw, anyZw ? 1 : 0,
            rsum == null ? 0 : (int) offRs};
        for (int i = 0; i < h.length; i++) {
            b.putInt(4 * i, h[i]);
        }
        for (int i = 0; i <= nbr; i++) {
            b.putInt((int) offRp + 4 * i, rowptr[i]);
        }
        for (int i = 0; i < nent; i++) {
            b.putInt((int) offCol + 4 * i, col.get(i));
        }
        for (int i = 0; i < vals.size(); i++) {
            b.putInt((int) offW + 4 * i, vals.get(i));
        }
        for (int i = 0; i < r; i++) {
            b.putInt((int) offZw + 4 * i, zw[i]);
            if (rsum != null) {
                b.putInt((int) offRs + 4 * i, rsum[i]);
            }
        }
        return new SparseWeights(b, r, k, stored, q8, k4, anyZw);
    }

    /** Growable int array (the weights can have millions of entries). */
    private static final class IntList {
        private int[] a = new int[64];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, Math.multiplyExact(n, 2));
            }
            a[n++] = v;
        }

        int get(int i) {
            return a[i];
        }

        int size() {
            return n;
        }
    }


    ByteBuffer buffer() {
        return buffer;
    }

    int rows() {
        return rows;
    }

    int cols() {
        return cols;
    }

    /** Stored blocks. */
    int blocks() {
        return blocks;
    }

    /** Off-heap bytes of this layout (and of the one-column lane layout, when built). */
    long bytes() {
        return buffer.capacity() + (lanes == null ? 0 : lanes.capacity());
    }

    /** Rows of a block row of the kernels' layout (BR in hk_sparse.h). */
    int blockRows() {
        return buffer.getInt(8);
    }

    /** Block rows of the kernels' layout (nbr in hk_sparse.h). */
    int blockRowCount() {
        return buffer.getInt(16);
    }

    /** Entries of the kernels' layout (in k4: groups of 4 inputs by a block row holding a stored weight). */
    int entries() {
        return buffer.getInt(20);
    }

    boolean quantized() {
        return quantized;
    }

    /** The AVX-512 layout over the dense activation panel (see hk_sparse.h). */
    boolean k4() {
        return k4;
    }

    boolean anyWeightZeroPoint() {
        return anyZw;
    }
}
