package dev.hedge.kernels.util;

/**
 * Output tiles of one {@code m x n} matrix product, for {@link dev.hedge.kernels.RunContext#parallelFor}.
 * Chosen from the shape alone, never from the thread count: GEMM libraries round differently when the
 * columns of a product are split differently (OpenBLAS does, measured), so a product is always the same
 * calls, whichever thread makes them, and results are bit-identical for any number of threads.
 *
 * <p>Columns are split first when allowed (each column tile reads its own slice of B: nearly free), rows
 * only when there are too few columns or B is packed whole (a row split re-packs an unpacked B per tile).
 */
public final class Tiles {

    /** Multiply-adds below which a tile is not split further (~20 us at 100 GFLOP/s). */
    public static final double MIN_TILE_WORK = 1 << 21;
    /** Enough tiles to balance a few threads; every split costs single-thread speed (packing, edges). */
    public static final int MAX_TILES = 8;
    private static final int N_ALIGN = 64;
    private static final int M_ALIGN = 16;

    public final int m;
    public final int n;
    public final int mBlock;
    public final int nBlock;
    public final int tilesM;
    public final int tilesN;

    /** Tiles of an {@code m x n} product with inner dimension {@code k}, splitting columns first. */
    public Tiles(int m, int n, int k) {
        this(m, n, k, true, Integer.MAX_VALUE);
    }

    /**
     * @param splitColumns whether columns may be split (false when B is packed whole)
     * @param maxColumns widest column tile allowed (a buffer bound), rounded down to a multiple of 64
     */
    public Tiles(int m, int n, int k, boolean splitColumns, int maxColumns) {
        this.m = m;
        this.n = n;
        double work = (double) m * n * Math.max(k, 1);
        int mb = Math.max(m, 1);
        int nb = Math.max(n, 1);
        if (nb > maxColumns) {
            nb = Math.max(N_ALIGN, maxColumns / N_ALIGN * N_ALIGN);
        }
        while (true) {
            int tiles = ceilDiv(m, mb) * ceilDiv(n, nb);
            if (tiles * 2 > MAX_TILES || work / (tiles * 2.0) < MIN_TILE_WORK) {
                break;
            }
            if (splitColumns && nb >= 2 * N_ALIGN) {
                nb = roundUp(ceilDiv(nb, 2), N_ALIGN);
            } else if (mb >= 2 * M_ALIGN) {
                mb = roundUp(ceilDiv(mb, 2), M_ALIGN);
            } else {
                break;
            }
        }
        this.mBlock = mb;
        this.nBlock = nb;
        this.tilesM = Math.max(1, ceilDiv(m, mb));
        this.tilesN = Math.max(1, ceilDiv(n, nb));
    }

    public int count() {
        return tilesM * tilesN;
    }

    public int m0(int tile) {
        return (tile / tilesN) * mBlock;
    }

    public int m1(int tile) {
        return Math.min(m, m0(tile) + mBlock);
    }

    public int n0(int tile) {
        return (tile % tilesN) * nBlock;
    }

    public int n1(int tile) {
        return Math.min(n, n0(tile) + nBlock);
    }

    /** Tiles for {@code units} independent pieces of {@code workPerUnit} each (channels, images...). */
    public static int pieces(int units, double workPerUnit) {
        double total = units * Math.max(workPerUnit, 1);
        int t = (int) Math.min(MAX_TILES, Math.max(1, total / MIN_TILE_WORK));
        return Math.max(1, Math.min(units, t));
    }

    /**
     * Column tiles and row tiles of a {@code rows x cols} output for {@code threads} threads, tile edges on
     * multiples of {@code colUnit} / {@code rowUnit}. Columns alone as far as the work bound allows (more tiles
     * than threads even out a busy core), unless splitting rows too gives the slowest thread a tenth less work
     * (the elements of its tiles, dealt round-robin): a row split repeats what the columns share, such as an
     * im2col, hence the margin. One tile on one thread. Results must not depend on the split.
     *
     * @return {column tiles, row tiles}; blocks of {@code ceil(units / tiles)} units
     */
    public static int[] split(int threads, long cols, int colUnit, long rows, int rowUnit, double work) {
        if (threads <= 1) {
            return new int[] {1, 1};
        }
        int cu = (int) Math.min(Integer.MAX_VALUE, (cols + colUnit - 1) / colUnit);
        int ru = (int) Math.min(Integer.MAX_VALUE, (rows + rowUnit - 1) / rowUnit);
        int cap = Math.max(1, (int) Math.min(MAX_TILES, work / MIN_TILE_WORK));
        int[] colsOnly = {Math.max(1, Math.min(cu, cap)), 1};
        double colsSpan = span(threads, cols, colUnit, rows, rowUnit, colsOnly[0], 1);
        int[] best = colsOnly;
        double bestSpan = colsSpan;
        for (int rt = 2; rt <= Math.min(ru, cap); rt++) {
            for (int ct = 1; ct <= Math.min(cu, cap / rt); ct++) {
                double s = span(threads, cols, colUnit, rows, rowUnit, ct, rt);
                if (s < bestSpan) {
                    bestSpan = s;
                    best = new int[] {ct, rt};
                }
            }
        }
        return bestSpan < 0.9 * colsSpan ? best : colsOnly;
    }

    private static double span(int threads, long cols, int colUnit, long rows, int rowUnit, int ct, int rt) {
        long cu = (cols + colUnit - 1) / colUnit;
        long ru = (rows + rowUnit - 1) / rowUnit;
        long cb = (cu + ct - 1) / ct;
        long rb = (ru + rt - 1) / rt;
        long tiles = ((cu + cb - 1) / cb) * ((ru + rb - 1) / rb);
        return (double) ((tiles + threads - 1) / threads) * Math.min(cb * colUnit, cols) * Math.min(rb * rowUnit, rows);
    }

    public static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
