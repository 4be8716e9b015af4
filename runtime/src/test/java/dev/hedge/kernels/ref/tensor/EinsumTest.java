package dev.hedge.kernels.ref.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Einsum against explicit loops. */
class EinsumTest {

    @Property(tries = 100)
    void batchMatmulMatchesLoops(@ForAll long seed) {
        Random rnd = new Random(seed);
        int b = 1 + rnd.nextInt(3);
        int m = 1 + rnd.nextInt(4);
        int k = 1 + rnd.nextInt(5);
        int n = 1 + rnd.nextInt(4);
        Tensor x = TData.random(DType.FLOAT32, new int[] {b, m, k}, rnd);
        Tensor y = TData.random(DType.FLOAT32, new int[] {b, k, n}, rnd);
        // b appears in both operands, so it must be named in an explicit output to be kept
        Tensor z = OneNode.of(Op.Einsum).attr("equation", "bij, bjk -> bik").input(x).input(y).run1();
        assertArrayEquals(new int[] {b, m, n}, z.shape());
        for (int p = 0; p < b; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        s += x.getDouble((p * m + i) * k + q) * y.getDouble((p * k + q) * n + j);
                    }
                    assertEquals(s, z.getDouble((p * m + i) * n + j), 1e-4);
                }
            }
        }
    }

    @Test
    void diagonalsImplicitOutputAndEllipsisBroadcast() {
        Tensor sq = Tensor.of(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3);
        assertArrayEquals(new long[] {1, 5, 9}, OneNode.of(Op.Einsum).attr("equation", "ii->i").input(sq).run1().toLongArray());
        assertArrayEquals(new long[] {15}, OneNode.of(Op.Einsum).attr("equation", "ii").input(sq).run1().toLongArray());
        // implicit mode: "ij,jk" gives "ik" (j is summed)
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor prod = OneNode.of(Op.Einsum).attr("equation", "ij,jk").input(a).input(a).run1();
        assertArrayEquals(new float[] {7, 10, 15, 22}, prod.toFloatArray());
        // ellipsis dims broadcast: [2,1,2] with [3,2] -> [2,3]
        Tensor u = Tensor.of(new float[] {1, 2, 3, 4}, 2, 1, 2);
        Tensor v = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
        Tensor w = OneNode.of(Op.Einsum).attr("equation", "...j,...j->...").input(u).input(v).run1();
        assertArrayEquals(new int[] {2, 3}, w.shape());
        assertArrayEquals(new float[] {1, 2, 3, 3, 4, 7}, w.toFloatArray());
    }
}
