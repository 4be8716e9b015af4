package dev.hedge.kernels.ref.control;

import dev.hedge.ir.Graph;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.Tensor;

/** Helpers shared by If and Loop: shape checks without allocation, and copying subgraph results out. */
final class Subgraphs {

    private Subgraphs() {
    }

    /** Whether {@code t} has exactly this shape (no allocation). */
    static boolean hasShape(Tensor t, int[] shape) {
        if (t.rank() != shape.length) {
            return false;
        }
        for (int d = 0; d < shape.length; d++) {
            if (t.dim(d) != shape[d]) {
                return false;
            }
        }
        return true;
    }

    static boolean sameShape(Tensor a, Tensor b) {
        if (a.rank() != b.rank()) {
            return false;
        }
        for (int d = 0; d < a.rank(); d++) {
            if (a.dim(d) != b.dim(d)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Copies {@code src} into {@code dst} when it has dst's dtype and shape (else returns false and copies
     * nothing, so callers build their error message only when needed).
     */
    static boolean copy(Tensor src, Tensor dst) {
        if (src.dtype() != dst.dtype() || !sameShape(src, dst)) {
            return false;
        }
        if (src.data() != dst.data()) {
            src.copyTo(dst);
        }
        return true;
    }

    /** The shape a body input is declared with, when it is rank 1 ({@code [1]}); else the scalar shape. */
    static int[] scalarShape(ValueInfo declared) {
        return declared.dims() != null && declared.dims().size() == 1 ? new int[] {1} : new int[0];
    }

    static String name(Graph g) {
        return "'" + g.name() + "'";
    }
}
