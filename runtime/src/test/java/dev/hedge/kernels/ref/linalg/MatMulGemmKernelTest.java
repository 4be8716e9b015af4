package dev.hedge.kernels.ref.linalg;

import static dev.hedge.kernels.ref.linalg.LinalgTesting.ACTIVATIONS;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.activate;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.addActivation;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.assertClose;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.assertShape;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.attrs;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.product;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.randomFloats;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.roundTo;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** MatMul (numpy broadcasting, 1-D operands) and Gemm (transposes, alpha, beta, C broadcast) against loops. */
class MatMulGemmKernelTest {

    @Property(tries = 300)
    void matMulBroadcastsLikeNumpy(@ForAll Random rnd) {
        int m = rnd.nextInt(9);
        int n = rnd.nextInt(40);
        int k = rnd.nextInt(12);
        if (rnd.nextInt(5) == 0) {
            n = 1;
        }
        int batchRank = rnd.nextInt(4);
        int[] batch = new int[batchRank];
        for (int i = 0; i < batchRank; i++) {
            batch[i] = 1 + rnd.nextInt(3);
        }
        int[] aShape = rnd.nextInt(6) == 0 ? new int[] {k} : operand(rnd, batch, m, k);
        int[] bShape = rnd.nextInt(6) == 0 ? new int[] {k} : operand(rnd, batch, k, n);
        boolean aVec = aShape.length == 1;
        boolean bVec = bShape.length == 1;
        int[] aB = aVec ? new int[0] : Arrays.copyOf(aShape, aShape.length - 2);
        int[] bB = bVec ? new int[0] : Arrays.copyOf(bShape, bShape.length - 2);
        int rank = Math.max(aB.length, bB.length);
        int[] ob = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - aB.length ? 1 : aB[i - rank + aB.length];
            int db = i < rank - bB.length ? 1 : bB[i - rank + bB.length];
            ob[i] = Math.max(da, db);
        }
        int mm = aVec ? 1 : m;
        int nn = bVec ? 1 : n;
        float[] a = randomFloats(rnd, product(aShape));
        float[] b = randomFloats(rnd, product(bShape));
        String[] act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
        LinalgTesting.Attrs at = attrs();
        addActivation(at, act);
        boolean constB = rnd.nextBoolean();
        String what = "MatMul A" + Arrays.toString(aShape) + " B" + Arrays.toString(bShape) + " act=" + act[0]
                + " constB=" + constB;
        Tensor y = LinalgTesting.run(Op.MatMul, at, List.of(Tensor.of(a, aShape), Tensor.of(b, bShape)),
                constB ? Set.of(1) : Set.of(), 1).get(0);
        List<Integer> ys = new ArrayList<>();
        for (int v : ob) {
            ys.add(v);
        }
        if (!aVec) {
            ys.add(mm);
        }
        if (!bVec) {
            ys.add(nn);
        }
        assertShape(what, ys.stream().mapToInt(Integer::intValue).toArray(), y);

        int batches = product(ob);
        double[] exp = new double[batches * mm * nn];
        double[] scale = new double[exp.length];
        int[] idx = new int[rank];
        for (int bi = 0; bi < batches; bi++) {
            int ao = batchOffset(idx, aB, rank) * mm * k;
            int bo = batchOffset(idx, bB, rank) * k * nn;
            for (int i = 0; i < mm; i++) {
                for (int j = 0; j < nn; j++) {
                    double s = 0;
                    double sc = 0;
                    for (int p = 0; p < k; p++) {
                        double t = (double) a[ao + i * k + p] * b[bo + p * nn + j];
                        s += t;
                        sc += Math.abs(t);
                    }
                    exp[(bi * mm + i) * nn + j] = activate(act, s);
                    scale[(bi * mm + i) * nn + j] = sc;
                }
            }
            LinalgTesting.next(idx, ob);
        }
        assertClose(what, exp, scale, k, y.toFloatArray());
    }

    /** A random matrix operand shape with some of the trailing batch dims (some of them 1). */
    private static int[] operand(Random rnd, int[] batch, int rows, int cols) {
        int keep = rnd.nextInt(batch.length + 1);
        int[] s = new int[keep + 2];
        for (int i = 0; i < keep; i++) {
            s[i] = rnd.nextInt(3) == 0 ? 1 : batch[batch.length - keep + i];
        }
        s[keep] = rows;
        s[keep + 1] = cols;
        return s;
    }

    /** Offset, in matrices, of broadcast batch index {@code idx} in an operand with batch dims {@code dims}. */
    private static int batchOffset(int[] idx, int[] dims, int rank) {
        int o = 0;
        for (int i = 0; i < dims.length; i++) {
            int v = idx[rank - dims.length + i];
            o = o * dims[i] + (dims[i] == 1 ? 0 : v);
        }
        return o;
    }

    @Property(tries = 300)
    void gemmMatchesDefinition(@ForAll Random rnd) {
        int m = rnd.nextInt(12);
        int n = rnd.nextInt(45);
        int k = rnd.nextInt(20);
        boolean ta = rnd.nextBoolean();
        boolean tb = rnd.nextBoolean();
        float alpha = rnd.nextBoolean() ? 1f : rnd.nextFloat() * 2 - 1;
        float beta = rnd.nextInt(4) == 0 ? 0f : rnd.nextBoolean() ? 1f : rnd.nextFloat() * 2 - 1;
        int[][] cShapes = {null, {}, {1}, {n}, {1, n}, {m, 1}, {m, n}, {1, 1}};
        int[] cs = cShapes[rnd.nextInt(cShapes.length)];
        float[] a = randomFloats(rnd, m * k);
        float[] b = randomFloats(rnd, k * n);
        float[] c = cs == null ? null : randomFloats(rnd, product(cs));
        String[] act = ACTIVATIONS[rnd.nextInt(ACTIVATIONS.length)];
        LinalgTesting.Attrs at = attrs().i("transA", ta ? 1 : 0).i("transB", tb ? 1 : 0).f("alpha", alpha)
                .f("beta", beta);
        addActivation(at, act);
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(ta ? Tensor.of(a, k, m) : Tensor.of(a, m, k));
        inputs.add(tb ? Tensor.of(b, n, k) : Tensor.of(b, k, n));
        if (c != null) {
            inputs.add(Tensor.of(c, cs));
        }
        Set<Integer> constants = rnd.nextBoolean() ? Set.of(1) : rnd.nextBoolean() ? Set.of(1, 2) : Set.of();
        String what = "Gemm m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb + " alpha=" + alpha
                + " beta=" + beta + " C" + (cs == null ? "-" : Arrays.toString(cs)) + " act=" + act[0] + " constants="
                + constants;
        Tensor y = LinalgTesting.run(Op.Gemm, at, inputs, constants, 1).get(0);
        assertShape(what, new int[] {m, n}, y);
        double[] exp = new double[m * n];
        double[] scale = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                double sc = 0;
                for (int p = 0; p < k; p++) {
                    double t = (double) (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                    s += t;
                    sc += Math.abs(t);
                }
                s *= alpha;
                sc *= Math.abs(alpha);
                if (c != null) {
                    int ci = cs.length < 2 ? (cs.length == 1 && cs[0] == n ? j : 0)
                            : (cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j);
                    s += (double) beta * c[ci];
                    sc += Math.abs(beta * c[ci]);
                }
                exp[i * n + j] = activate(act, s);
                scale[i * n + j] = sc;
            }
        }
        assertClose(what, exp, scale, k, y.toFloatArray());
    }

    @Property(tries = 40)
    void halfAndDoublePrecisionComputeThroughFloat32(@ForAll Random rnd) {
        DType t = rnd.nextBoolean() ? DType.FLOAT16 : rnd.nextBoolean() ? DType.FLOAT64 : DType.BFLOAT16;
        int m = 1 + rnd.nextInt(5);
        int n = 1 + rnd.nextInt(40);
        int k = 1 + rnd.nextInt(10);
        float[] a = roundTo(t, randomFloats(rnd, m * k));
        float[] b = roundTo(t, randomFloats(rnd, k * n));
        boolean gemm = rnd.nextBoolean();
        Tensor y = LinalgTesting.run(gemm ? Op.Gemm : Op.MatMul, attrs(), List.of(tensor(t, a, m, k),
                tensor(t, b, k, n)), rnd.nextBoolean() ? Set.of(1) : Set.of(), 1).get(0);
        assertEquals(t, y.dtype());
        double[] exp = new double[m * n];
        double[] scale = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                for (int p = 0; p < k; p++) {
                    exp[i * n + j] += (double) a[i * k + p] * b[p * n + j];
                    scale[i * n + j] += Math.abs((double) a[i * k + p] * b[p * n + j]);
                }
            }
        }
        double rounding = t == DType.FLOAT16 ? 1e-3 : t == DType.BFLOAT16 ? 8e-3 : 0;
        assertClose((gemm ? "Gemm " : "MatMul ") + t, exp, scale, k, rounding, y.toFloatArray());
    }

    @Example
    void rejectsBadShapesAndTypes() {
        Tensor a = Tensor.of(new float[6], 2, 3);
        Tensor b = Tensor.of(new float[8], 2, 4);
        HedgeException e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.MatMul, attrs(),
                List.of(a, b), Set.of(), 1));
        assertTrue(e.getMessage().contains("MatMul node 'n'") && e.getMessage().contains("inner dimensions"),
                e.getMessage());
        e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.Gemm, attrs(), List.of(a, b), Set.of(), 1));
        assertTrue(e.getMessage().contains("Gemm node 'n'") && e.getMessage().contains("inner dimensions"),
                e.getMessage());
        e = assertThrows(HedgeException.class, () -> LinalgTesting.run(Op.Gemm, attrs().i("transA", 1),
                List.of(a, b, Tensor.of(new float[3], 3)), Set.of(), 1));
        assertTrue(e.getMessage().contains("cannot be broadcast"), e.getMessage());
        Tensor ai = Tensor.of(new int[6], 2, 3);
        Tensor bi = Tensor.of(new int[6], 3, 2);
        e = assertThrows(UnsupportedModelException.class, () -> LinalgTesting.run(Op.MatMul, attrs(),
                List.of(ai, bi), Set.of(), 1));
        assertTrue(e.getMessage().contains("INT32"), e.getMessage());
    }
}
