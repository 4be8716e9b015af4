package dev.hedge.kernels.ref.linalg;

import static dev.hedge.kernels.ref.linalg.LinalgTesting.ACTIVATIONS;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.activate;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.assertClose;
import static dev.hedge.kernels.ref.linalg.LinalgTesting.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.hedge.kernels.util.FusedActivation;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** {@link Sgemm} against a triple loop in double, over random shapes, layouts and options. */
class SgemmTest {

    /** One random problem: operands stored with padding (offset, leading dimension) in arrays or buffers. */
    static final class Case {
        final int m;
        final int n;
        final int k;
        final boolean ta;
        final boolean tb;
        final float alpha;
        final float beta;
        final int aOff;
        final int lda;
        final int bOff;
        final int ldb;
        final int cOff;
        final int ldc;
        final float[] a;
        final float[] b;
        final float[] c0;
        final float[] bias;
        final String[] act;

        Case(Random r, int m, int n, int k) {
            this.m = m;
            this.n = n;
            this.k = k;
            ta = r.nextBoolean();
            tb = r.nextBoolean();
            alpha = r.nextInt(3) == 0 ? 1f : r.nextFloat() * 4 - 2;
            int bc = r.nextInt(3);
            beta = bc == 0 ? 0f : bc == 1 ? 1f : r.nextFloat() * 2 - 1;
            aOff = r.nextInt(5);
            bOff = r.nextInt(5);
            cOff = r.nextInt(5);
            lda = Math.max(1, ta ? m : k) + r.nextInt(3);
            ldb = Math.max(1, tb ? k : n) + r.nextInt(3);
            ldc = Math.max(1, n) + r.nextInt(3);
            a = randomFloats(r, aOff + lda * (ta ? k : m));
            b = randomFloats(r, bOff + ldb * (tb ? n : k));
            c0 = randomFloats(r, cOff + ldc * m);
            if (beta == 0f) {
                // Must not be read when beta is 0.
                Arrays.fill(c0, Float.NaN);
            }
            bias = r.nextBoolean() ? randomFloats(r, m + 2) : null;
            act = ACTIVATIONS[r.nextInt(ACTIVATIONS.length)];
        }

        FusedActivation activation() {
            return act[0].isEmpty() ? null : FusedActivation.of(new dev.hedge.ir.Node("g", dev.hedge.ops.Op.Gemm,
                    java.util.List.of("a", "b"), java.util.List.of("y"), new LinalgTesting.Attrs()
                            .s("fused_activation", act[0]).f("fused_alpha", Float.parseFloat(act[1]))
                            .f("fused_beta", Float.parseFloat(act[2])).map));
        }

        float a(int i, int p) {
            return ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        float b(int p, int j) {
            return tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        /** Checks every element of C, and that the padding around it is untouched. */
        void check(String what, float[] c) {
            double[] exp = new double[m * n];
            double[] scale = new double[m * n];
            float[] got = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double sc = 0;
                    for (int p = 0; p < k; p++) {
                        double t = (double) a(i, p) * b(p, j);
                        s += t;
                        sc += Math.abs(t);
                    }
                    s *= alpha;
                    sc *= Math.abs(alpha);
                    if (beta != 0f) {
                        s += beta * c0[cOff + i * ldc + j];
                        sc += Math.abs(beta * c0[cOff + i * ldc + j]);
                    }
                    if (bias != null) {
                        s += bias[1 + i];
                        sc += Math.abs(bias[1 + i]);
                    }
                    exp[i * n + j] = activate(act, s);
                    scale[i * n + j] = sc;
                    got[i * n + j] = c[cOff + i * ldc + j];
                }
            }
            assertClose(what + " " + this, exp, scale, k, got);
            for (int i = 0; i < c.length; i++) {
                int row = (i - cOff) / ldc;
                int col = (i - cOff) % ldc;
                boolean inside = i >= cOff && row < m && col < n;
                if (!inside && Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(c0[i])) {
                    throw new AssertionError(what + " " + this + ": wrote outside C at " + i);
                }
            }
        }

        @Override
        public String toString() {
            return "m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb + " alpha=" + alpha + " beta="
                    + beta + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc + " bias=" + (bias != null) + " act="
                    + act[0];
        }
    }

    static FloatBuffer buffer(float[] v) {
        FloatBuffer f = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        f.put(0, v);
        return f;
    }

    static float[] array(FloatBuffer f) {
        float[] v = new float[f.capacity()];
        f.get(0, v);
        return v;
    }

    /** Runs the public entry point with each operand independently an array or a buffer. */
    static float[] runPublic(Case c, Random r) {
        boolean aBuf = r.nextBoolean();
        boolean bBuf = r.nextBoolean();
        boolean cBuf = r.nextBoolean();
        float[] cArr = c.c0.clone();
        FloatBuffer cb = cBuf ? buffer(cArr) : null;
        Sgemm.sgemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, aBuf ? null : c.a, aBuf ? buffer(c.a) : null, c.aOff, c.lda,
                bBuf ? null : c.b, bBuf ? buffer(c.b) : null, c.bOff, c.ldb, c.beta, cBuf ? null : cArr, cb, c.cOff,
                c.ldc, c.bias, 1, c.activation());
        return cBuf ? array(cb) : cArr;
    }

    /** Runs the blocked product directly with the chosen micro-kernels (no transposed-result path). */
    static float[] runKernels(Case c, boolean fma) {
        float[] cArr = c.c0.clone();
        Sgemm.multiply(fma, c.ta, c.tb, c.m, c.n, c.k, c.alpha, c.a, null, c.aOff, c.lda, c.b, null, c.bOff, c.ldb,
                null, c.beta, cArr, null, c.cOff, c.ldc, false, c.bias, 1, c.activation());
        return cArr;
    }

    static float[] runPacked(Case c, Random r) {
        boolean aBuf = r.nextBoolean();
        float[] cArr = c.c0.clone();
        boolean bBuf = r.nextBoolean();
        Sgemm.PackedB pb = Sgemm.pack(c.tb, c.k, c.n, bBuf ? null : c.b, bBuf ? buffer(c.b) : null, c.bOff, c.ldb);
        Sgemm.sgemm(c.ta, c.m, c.alpha, aBuf ? null : c.a, aBuf ? buffer(c.a) : null, c.aOff, c.lda, pb, c.beta,
                cArr, null, c.cOff, c.ldc, c.bias, 1, c.activation());
        return cArr;
    }

    @Property(tries = 300)
    void smallProblems(@ForAll Random r) {
        Case c = new Case(r, r.nextInt(40), r.nextInt(70), r.nextInt(40));
        c.check("public", runPublic(c, r));
        c.check("multiply-add kernels", runKernels(c, false));
        c.check("fma kernels", runKernels(c, true));
    }

    @Property(tries = 40)
    void wideProblems(@ForAll Random r) {
        // Rows of at least Sgemm.WIDE columns take the vectorised micro-kernel.
        Case c = new Case(r, 1 + r.nextInt(10), Sgemm.WIDE + r.nextInt(800), 1 + r.nextInt(50));
        c.check("public", runPublic(c, r));
        c.check("multiply-add kernels", runKernels(c, false));
        c.check("fma kernels", runKernels(c, true));
    }

    @Property(tries = 60)
    void packedRightHandSide(@ForAll Random r) {
        Case c = new Case(r, r.nextInt(20), 1 + r.nextInt(600), 1 + r.nextInt(300));
        Sgemm.PackedB pb = Sgemm.pack(c.tb, c.k, c.n, c.b, null, c.bOff, c.ldb);
        assertEquals(c.k, pb.k());
        assertEquals(c.n, pb.n());
        c.check("packed", runPacked(c, r));
    }

    @Example
    void crossesEveryBlockBoundary() {
        Random r = new Random(7);
        int[][] shapes = {{7, 1100, 500}, {301, 45, 250}, {1, 600, 1000}, {95, 1, 490}, {64, 64, 64}, {0, 5, 5},
            {5, 0, 5}, {5, 5, 0}};
        for (int[] s : shapes) {
            Case c = new Case(r, s[0], s[1], s[2]);
            c.check("public", runPublic(c, r));
            c.check("multiply-add kernels", runKernels(c, false));
            c.check("fma kernels", runKernels(c, true));
            c.check("packed", runPacked(c, r));
        }
    }

    @Example
    void rejectsInconsistentOperands() {
        float[] a = new float[4];
        assertThrows(IllegalArgumentException.class,
                () -> Sgemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 1, a, 0, 2, 0f, a, 0, 2));
        assertThrows(IllegalArgumentException.class,
                () -> Sgemm.sgemm(false, false, -1, 2, 2, 1f, a, 0, 2, a, 0, 2, 0f, a, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> Sgemm.sgemm(false, false, 2, 2, 2, 1f, a, null, 0, 2,
                null, null, 0, 2, 0f, a, null, 0, 2, null, 0, null));
    }
}
