package dev.hedge.openblas;

/**
 * Output tiles of one {@code m x n} product, chosen from the shape alone. OpenBLAS rounds differently when
 * the columns of a product are split differently, so the tiles must not depend on the thread count: they
 * are always the same calls, whichever thread makes them, and results are bit-identical for any number of
 * threads. Columns are split first (each column tile reads its own slice of B; measured nearly free), rows
 * only when there are too few columns (a row split re-packs all of B per tile).
 */
final class Tiling {

    /** Multiply-adds below which a tile is not split further (~20 us at 100 GFLOP/s). */
    static final double MIN_TILE_WORK = 1 << 21;
    /** Enough tiles to balance a few threads; every split costs single-thread speed (re-packing, edges). */
    static final int MAX_TILES = 8;
    private static final int N_ALIGN = 64;
    private static final int M_ALIGN = 16;

    final int m;
    final int n;
    final int mBlock;
    final int nBlock;
    final int tilesM;
    final int tilesN;

    Tiling(int m, int n, int k) {
        this(m, n, k, Integer.MAX_VALUE);
    }

    /** @param maxColumns widest column tile allowed (a buffer bound), rounded down to the alignment */
    Tiling(int m, int n, int k, int maxColumns) {
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
            if (nb >= 2 * N_ALIGN) {
                nb = roundUp(ceilDiv(nb, 2), N_ALIGN);
            } else if (mb >= 2 * M_ALIGN) {
                mb = roundUp(ceilDiv(mb, 2), M_ALIGN);
            } else {
                break;
            }
        }
        this.mBlock = mb;
        this.nBlock = nb;
        this.tilesM = ceilDiv(m, mb);
        this.tilesN = ceilDiv(n, nb);
    }

    int count() {
        return tilesM * tilesN;
    }

    int m0(int tile) {
        return (tile / tilesN) * mBlock;
    }

    int m1(int tile) {
        return Math.min(m, m0(tile) + mBlock);
    }

    int n0(int tile) {
        return (tile % tilesN) * nBlock;
    }

    int n1(int tile) {
        return Math.min(n, n0(tile) + nBlock);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
