package dev.hedge.kernels.ref.nn;

import java.util.Arrays;

/**
 * Index map for a parameter tensor (scale, bias) broadcast over a block of dimensions: position {@code j}
 * of the row-major block reads parameter element {@code index(j)}. Identity when the shapes already agree.
 */
final class ParamMap {

    private final int[] map;

    private ParamMap(int[] map) {
        this.map = map;
    }

    /**
     * Map for {@code param} (numpy-broadcast, right-aligned) onto {@code block}; null when it does not
     * broadcast. Leading dimensions of size 1 beyond the block's rank are allowed.
     */
    static ParamMap of(int[] param, int[] block) {
        int extra = param.length - block.length;
        for (int i = 0; i < extra; i++) {
            if (param[i] != 1) {
                return null;
            }
        }
        int[] p = extra > 0 ? Arrays.copyOfRange(param, extra, param.length) : param;
        int off = block.length - p.length;
        boolean same = off == 0;
        for (int i = 0; i < p.length; i++) {
            int b = block[off + i];
            if (p[i] != b && p[i] != 1) {
                return null;
            }
            same &= p[i] == b;
        }
        if (same) {
            return new ParamMap(null);
        }
        int n = 1;
        for (int b : block) {
            n *= b;
        }
        int[] pStrides = new int[block.length];
        for (int i = block.length - 1, acc = 1; i >= off; i--) {
            int dim = p[i - off];
            pStrides[i] = dim == 1 ? 0 : acc;
            acc *= dim;
        }
        int[] map = new int[n];
        int[] idx = new int[block.length];
        int o = 0;
        for (int j = 0; j < n; j++) {
            map[j] = o;
            for (int d = block.length - 1; d >= 0; d--) {
                if (++idx[d] < block[d]) {
                    o += pStrides[d];
                    break;
                }
                o -= (idx[d] - 1) * pStrides[d];
                idx[d] = 0;
            }
        }
        return new ParamMap(map);
    }

    int index(int j) {
        return map == null ? j : map[j];
    }

    boolean identity() {
        return map == null;
    }
}
