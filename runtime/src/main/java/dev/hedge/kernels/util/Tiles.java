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

    public static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
