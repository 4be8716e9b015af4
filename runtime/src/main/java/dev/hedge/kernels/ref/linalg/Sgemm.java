package dev.hedge.kernels.ref.linalg;

import dev.hedge.kernels.util.FusedActivation;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Single-precision matrix multiply in pure Java, the fallback GEMM of every Hedge kernel:
 * {@code C = act(alpha * op(A) * op(B) + beta * C + bias)}, all matrices row-major.
 *
 * <p><b>Operands.</b> Every matrix is passed as a pair {@code (float[] arr, FloatBuffer buf)} of which exactly
 * one is non-null, plus an element offset and a leading dimension (the distance in elements between two
 * rows of the stored matrix). {@code op(A)} is {@code m x k} and is A itself, or A transposed when
 * {@code transA}; likewise {@code op(B)} is {@code k x n}. Only absolute buffer access is used, so buffer
 * positions never move. Convenience overloads cover the all-array and all-buffer cases; a constant
 * right-hand side can be packed once with {@link #pack} and reused ({@link PackedB}).
 *
 * <p><b>Semantics.</b> As BLAS: when {@code beta == 0} the old contents of C are not read (NaNs in C do not
 * propagate). {@code bias} (nullable) adds {@code bias[biasOff + i]} to every element of row i of C, then
 * {@code act} (nullable) is applied, both after alpha and beta.
 *
 * <p><b>Threads.</b> Stateless apart from per-thread packing buffers, so any number of threads may call it
 * at once; callers parallelise by giving threads disjoint row or column ranges of C. Steady-state calls
 * allocate nothing.
 *
 * <p><b>How it is fast.</b> HotSpot C2 auto-vectorises a counted loop only when its body is small and every
 * array in it is indexed from the same base, and different arrays cannot be told apart from different
 * rows of one array. So B is packed per block into separate row arrays ({@code kc} rows of up to
 * {@value #NC} columns), C is accumulated into separate row arrays, and the micro-kernel updates three
 * rows of C with three rows of B per pass over the block width ({@code c_q[j] += a_q0 b_0[j] + a_q1 b_1[j]
 * + a_q2 b_2[j]}, fused multiply-adds): nine vector FMAs per three vector loads, with the C rows in L1 and
 * the packed B block ({@value #KC} x {@value #NC}) in L2. A is read as scalars (one per
 * {@code nc} multiply-adds), so it is never packed. Without hardware FMA, {@link Math#fma} is a slow
 * software routine, so a multiply-add kernel of depth two is used instead. Vectorisation pays only on long
 * rows, so a product narrower than {@value #WIDE} columns but taller than wide is computed transposed
 * ({@code C^T = op(B)^T op(A)^T}, stored back transposed).
 */
public final class Sgemm {

    /** Most columns per block: the length of the vectorised inner loops. */
    static final int NC = 512;
    /**
     * Blocks at least this wide use the vectorised micro-kernel, narrower ones a separate one (see
     * {@link #microKernel}). C2 vectorises only the unrolled main loop, so shorter rows gain little anyway.
     */
    static final int WIDE = 256;
    /** Depth per block; a multiple of both kernel depths (2 and 3). */
    static final int KC = 240;
    /** Rows of C per micro-kernel call. */
    private static final int MR = 3;

    /** Whether the JVM compiles {@link Math#fma} to a hardware instruction. */
    static final boolean HARDWARE_FMA = detectFma();
    /** Depth steps per micro-kernel call: three with FMA, two without. */
    static final int DEPTH = HARDWARE_FMA ? 3 : 2;

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    private Sgemm() {
    }

    /** Per-thread packing buffers; each array is separate so the kernels vectorise (see class comment). */
    private static final class Work {
        final float[][] b = new float[KC][];
        final float[] c0 = new float[NC];
        final float[] c1 = new float[NC];
        final float[] c2 = new float[NC];
        final float[] tmp = new float[NC];
        final float[] a = new float[9];

        float[] bRow(int p) {
            float[] r = b[p];
            if (r == null) {
                r = new float[NC];
                b[p] = r;
            }
            return r;
        }
    }

    /**
     * A right-hand side {@code op(B)} ({@code k x n}) packed once, e.g. constant weights at prepare time.
     * Immutable and shareable between threads.
     */
    public static final class PackedB {
        private final int k;
        private final int n;
        private final int kPad;
        /** Row p of column block jb is {@code rows[jb * kPad + p]}; rows k..kPad are zero. */
        private final float[][] rows;

        private PackedB(int k, int n, int kPad, float[][] rows) {
            this.k = k;
            this.n = n;
            this.kPad = kPad;
            this.rows = rows;
        }

        public int k() {
            return k;
        }

        public int n() {
            return n;
        }

        /** Heap bytes of the packed values (array headers aside). */
        public long bytes() {
            long t = 0;
            for (float[] r : rows) {
                t += 4L * r.length;
            }
            return t;
        }
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C} on arrays. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, null, aOff, lda, b, null, bOff, ldb, beta, c, null, cOff, ldc,
                null, 0, null);
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C} on buffers. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            FloatBuffer a, int aOff, int lda, FloatBuffer b, int bOff, int ldb, float beta,
            FloatBuffer c, int cOff, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, null, a, aOff, lda, null, b, bOff, ldb, beta, null, c, cOff, ldc,
                null, 0, null);
    }

    /**
     * The general form: {@code C = act(alpha * op(A) * op(B) + beta * C + bias)}, each matrix an array or a
     * buffer (the other null). {@code bias} and {@code act} may be null.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] aArr, FloatBuffer aBuf, int aOff, int lda,
            float[] bArr, FloatBuffer bBuf, int bOff, int ldb,
            float beta, float[] cArr, FloatBuffer cBuf, int cOff, int ldc,
            float[] bias, int biasOff, FusedActivation act) {
        checkDims(m, n, k);
        checkOperand("A", aArr, aBuf, transA ? m : k, lda);
        checkOperand("B", bArr, bBuf, transB ? k : n, ldb);
        checkOperand("C", cArr, cBuf, n, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (n < WIDE && m > n) {
            // C^T = op(B)^T op(A)^T: the long side of C becomes the vector loop.
            multiply(HARDWARE_FMA, !transB, !transA, n, m, k, alpha, bArr, bBuf, bOff, ldb, aArr, aBuf, aOff, lda,
                    null, beta, cArr, cBuf, cOff, ldc, true, bias, biasOff, act);
        } else {
            multiply(HARDWARE_FMA, transA, transB, m, n, k, alpha, aArr, aBuf, aOff, lda, bArr, bBuf, bOff, ldb,
                    null, beta, cArr, cBuf, cOff, ldc, false, bias, biasOff, act);
        }
    }

    /** {@code C = act(alpha * op(A) * B + beta * C + bias)} with a packed right-hand side. */
    public static void sgemm(boolean transA, int m, float alpha, float[] aArr, FloatBuffer aBuf, int aOff, int lda,
            PackedB b, float beta, float[] cArr, FloatBuffer cBuf, int cOff, int ldc,
            float[] bias, int biasOff, FusedActivation act) {
        checkDims(m, b.n, b.k);
        checkOperand("A", aArr, aBuf, transA ? m : b.k, lda);
        checkOperand("C", cArr, cBuf, b.n, ldc);
        if (m == 0 || b.n == 0) {
            return;
        }
        multiply(HARDWARE_FMA, transA, false, m, b.n, b.k, alpha, aArr, aBuf, aOff, lda, null, null, 0, 0, b,
                beta, cArr, cBuf, cOff, ldc, false, bias, biasOff, act);
    }

    /**
     * Whether packing a constant right-hand side once pays for an {@code m x n} product. Not when the product
     * is narrow and tall: {@link #sgemm} then computes it transposed, with long vector loops, which beats a
     * pre-packed but narrow product (measured 56 vs 12 GFLOP/s at 1000x64x512).
     */
    public static boolean packingPays(int m, int n) {
        return n >= WIDE || m <= n;
    }

    /** Packs {@code op(B)} ({@code k x n}) from an array or a buffer (the other null). */
    public static PackedB pack(boolean transB, int k, int n, float[] bArr, FloatBuffer bBuf, int bOff, int ldb) {
        checkDims(1, n, k);
        checkOperand("B", bArr, bBuf, transB ? k : n, ldb);
        int kPad = roundUp(k, 6);
        int width = blockWidth(n);
        int blocks = n == 0 ? 0 : (n + width - 1) / width;
        float[][] rows = new float[blocks * kPad][];
        for (int jb = 0; jb < blocks; jb++) {
            int jc = jb * width;
            int nc = Math.min(width, n - jc);
            for (int p = 0; p < kPad; p++) {
                float[] r = new float[nc];
                if (p < k) {
                    for (int j = 0; j < nc; j++) {
                        int idx = transB ? bOff + (jc + j) * ldb + p : bOff + p * ldb + jc + j;
                        r[j] = bArr != null ? bArr[idx] : bBuf.get(idx);
                    }
                }
                rows[jb * kPad + p] = r;
            }
        }
        return new PackedB(k, n, kPad, rows);
    }

    /**
     * The blocked product. {@code cTrans}: C is stored transposed (element (i, j) of the computed product
     * lives at {@code cOff + j * ldc + i}); bias then indexes columns of the computed product.
     */
    static void multiply(boolean fma, boolean ta, boolean tb, int m, int n, int k, float alpha,
            float[] aArr, FloatBuffer aBuf, int aOff, int lda,
            float[] bArr, FloatBuffer bBuf, int bOff, int ldb, PackedB packed,
            float beta, float[] cArr, FloatBuffer cBuf, int cOff, int ldc, boolean cTrans,
            float[] bias, int biasOff, FusedActivation act) {
        Work w = WORK.get();
        int kr = fma ? 3 : 2;
        float[] a = w.a;
        int width = blockWidth(n);
        for (int jc = 0; jc < n; jc += width) {
            int nc = Math.min(width, n - jc);
            boolean wide = nc >= WIDE;
            int pc = 0;
            do {
                int kc = Math.min(KC, k - pc);
                float[][] bp;
                int b0;
                if (packed != null) {
                    bp = packed.rows;
                    b0 = (jc / width) * packed.kPad + pc;
                } else {
                    packB(w, tb, bArr, bBuf, bOff, ldb, pc, kc, roundUp(kc, kr), jc, nc);
                    bp = w.b;
                    b0 = 0;
                }
                boolean first = pc == 0;
                boolean last = pc + kc >= k;
                float[] c0 = w.c0;
                float[] c1 = w.c1;
                float[] c2 = w.c2;
                for (int i = 0; i < m; i += MR) {
                    int r = Math.min(MR, m - i);
                    for (int q = 0; q < r; q++) {
                        float[] cr = q == 0 ? c0 : q == 1 ? c1 : c2;
                        if (first) {
                            Arrays.fill(cr, 0, nc, 0f);
                        } else {
                            loadC(cr, cArr, cBuf, cOff, ldc, cTrans, i + q, jc, nc);
                        }
                    }
                    for (int p = 0; p < kc; p += kr) {
                        for (int q = 0; q < r; q++) {
                            for (int s = 0; s < kr; s++) {
                                int kk = pc + p + s;
                                float v = 0f;
                                if (p + s < kc) {
                                    int idx = ta ? aOff + kk * lda + i + q : aOff + (i + q) * lda + kk;
                                    v = alpha * (aArr != null ? aArr[idx] : aBuf.get(idx));
                                }
                                a[q * 3 + s] = v;
                            }
                        }
                        int bi = b0 + p;
                        float[] x2 = fma ? bp[bi + 2] : null;
                        if (wide) {
                            microKernel(fma, r, nc, a, bp[bi], bp[bi + 1], x2, c0, c1, c2);
                        } else {
                            narrowKernel(kr, r, nc, a, bp[bi], bp[bi + 1], x2, c0, c1, c2);
                        }
                    }
                    for (int q = 0; q < r; q++) {
                        float[] cr = q == 0 ? c0 : q == 1 ? c1 : c2;
                        if (first && beta != 0f) {
                            loadC(w.tmp, cArr, cBuf, cOff, ldc, cTrans, i + q, jc, nc);
                            float[] old = w.tmp;
                            for (int j = 0; j < nc; j++) {
                                cr[j] += beta * old[j];
                            }
                        }
                        if (last) {
                            if (bias != null) {
                                if (cTrans) {
                                    for (int j = 0; j < nc; j++) {
                                        cr[j] += bias[biasOff + jc + j];
                                    }
                                } else {
                                    float bv = bias[biasOff + i + q];
                                    for (int j = 0; j < nc; j++) {
                                        cr[j] += bv;
                                    }
                                }
                            }
                            if (act != null) {
                                act.apply(cr, 0, nc);
                            }
                        }
                        storeC(cr, cArr, cBuf, cOff, ldc, cTrans, i + q, jc, nc);
                    }
                }
                pc += kc;
            } while (pc < k);
        }
    }

    /** Packs rows pc..pc+kc, columns jc..jc+nc of op(B) into {@code w.b}, zeroing rows kc..kcPad. */
    private static void packB(Work w, boolean tb, float[] bArr, FloatBuffer bBuf, int bOff, int ldb,
            int pc, int kc, int kcPad, int jc, int nc) {
        if (!tb) {
            for (int p = 0; p < kc; p++) {
                float[] dst = w.bRow(p);
                int src = bOff + (pc + p) * ldb + jc;
                if (bArr != null) {
                    System.arraycopy(bArr, src, dst, 0, nc);
                } else {
                    bBuf.get(src, dst, 0, nc);
                }
            }
        } else {
            // Transposed: 16 columns at a time, so each packed row is written in runs and each source row read
            // in runs, rather than one element per row and per column.
            for (int p = 0; p < kc; p++) {
                w.bRow(p);
            }
            float[][] b = w.b;
            for (int j0 = 0; j0 < nc; j0 += 16) {
                int jn = Math.min(16, nc - j0);
                int src0 = bOff + (jc + j0) * ldb + pc;
                for (int p = 0; p < kc; p++) {
                    float[] row = b[p];
                    int src = src0 + p;
                    if (bArr != null) {
                        for (int jj = 0; jj < jn; jj++) {
                            row[j0 + jj] = bArr[src + jj * ldb];
                        }
                    } else {
                        for (int jj = 0; jj < jn; jj++) {
                            row[j0 + jj] = bBuf.get(src + jj * ldb);
                        }
                    }
                }
            }
        }
        for (int p = kc; p < kcPad; p++) {
            Arrays.fill(w.bRow(p), 0, nc, 0f);
        }
    }

    private static void loadC(float[] dst, float[] cArr, FloatBuffer cBuf, int cOff, int ldc, boolean cTrans,
            int row, int jc, int nc) {
        if (!cTrans) {
            int src = cOff + row * ldc + jc;
            if (cArr != null) {
                System.arraycopy(cArr, src, dst, 0, nc);
            } else {
                cBuf.get(src, dst, 0, nc);
            }
        } else {
            int src = cOff + jc * ldc + row;
            for (int j = 0; j < nc; j++, src += ldc) {
                dst[j] = cArr != null ? cArr[src] : cBuf.get(src);
            }
        }
    }

    private static void storeC(float[] src, float[] cArr, FloatBuffer cBuf, int cOff, int ldc, boolean cTrans,
            int row, int jc, int nc) {
        if (!cTrans) {
            int dst = cOff + row * ldc + jc;
            if (cArr != null) {
                System.arraycopy(src, 0, cArr, dst, nc);
            } else {
                cBuf.put(dst, src, 0, nc);
            }
        } else {
            int dst = cOff + jc * ldc + row;
            for (int j = 0; j < nc; j++, dst += ldc) {
                if (cArr != null) {
                    cArr[dst] = src[j];
                } else {
                    cBuf.put(dst, src[j]);
                }
            }
        }
    }

    /**
     * {@code c_q[0..n) += sum_s a[q * 3 + s] * x_s[0..n)} for rows q < r and depths s < 3 (FMA) or 2.
     *
     * <p>All six loops live in one method on purpose: its bytecode is then larger than C2's inlining limit
     * for hot calls (FreqInlineSize, 325 bytes), so it is compiled on its own, where its loops vectorise;
     * inlined into {@code multiply} they were not (measured 16 instead of 58 GFLOP/s). Each loop body is kept
     * this small for the same reason: larger ones exceed C2's unrolling budget and stay scalar; and the
     * multiply-add sums are written {@code c = c + a*x + b*y}, which vectorises, unlike {@code c += a*x + b*y}
     * (measured 95 vs 25-40 GFLOP/s). It is only
     * called with rows of at least {@value #WIDE} columns: C2 limits unrolling to the loop's profiled trip
     * count, and a method first compiled while seeing short rows never vectorises (measured 15-20 instead of
     * 60-90 GFLOP/s on 512-wide rows after a warm-up on narrow ones).
     */
    private static void microKernel(boolean fma, int r, int n, float[] a, float[] x0, float[] x1, float[] x2,
            float[] c0, float[] c1, float[] c2) {
        if (fma) {
            float a00 = a[0], a01 = a[1], a02 = a[2];
            if (r == 3) {
                float a10 = a[3], a11 = a[4], a12 = a[5];
                float a20 = a[6], a21 = a[7], a22 = a[8];
                for (int j = 0; j < n; j++) {
                    float x = x0[j], y = x1[j], z = x2[j];
                    c0[j] = Math.fma(a02, z, Math.fma(a01, y, Math.fma(a00, x, c0[j])));
                    c1[j] = Math.fma(a12, z, Math.fma(a11, y, Math.fma(a10, x, c1[j])));
                    c2[j] = Math.fma(a22, z, Math.fma(a21, y, Math.fma(a20, x, c2[j])));
                }
            } else if (r == 2) {
                float a10 = a[3], a11 = a[4], a12 = a[5];
                for (int j = 0; j < n; j++) {
                    float x = x0[j], y = x1[j], z = x2[j];
                    c0[j] = Math.fma(a02, z, Math.fma(a01, y, Math.fma(a00, x, c0[j])));
                    c1[j] = Math.fma(a12, z, Math.fma(a11, y, Math.fma(a10, x, c1[j])));
                }
            } else {
                for (int j = 0; j < n; j++) {
                    c0[j] = Math.fma(a02, x2[j], Math.fma(a01, x1[j], Math.fma(a00, x0[j], c0[j])));
                }
            }
        } else {
            float a00 = a[0], a01 = a[1];
            if (r == 3) {
                float a10 = a[3], a11 = a[4];
                float a20 = a[6], a21 = a[7];
                for (int j = 0; j < n; j++) {
                    float x = x0[j], y = x1[j];
                    c0[j] = c0[j] + a00 * x + a01 * y;
                    c1[j] = c1[j] + a10 * x + a11 * y;
                    c2[j] = c2[j] + a20 * x + a21 * y;
                }
            } else if (r == 2) {
                float a10 = a[3], a11 = a[4];
                for (int j = 0; j < n; j++) {
                    float x = x0[j], y = x1[j];
                    c0[j] = c0[j] + a00 * x + a01 * y;
                    c1[j] = c1[j] + a10 * x + a11 * y;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    c0[j] = c0[j] + a00 * x0[j] + a01 * x1[j];
                }
            }
        }
    }

    /**
     * {@link #microKernel}'s update for rows narrower than {@value #WIDE} columns: one depth step at a time
     * with separate multiply and add. A method of its own so that short rows never shape the wide kernel's
     * profile; too short to gain from vectorisation, so kept simple.
     */
    private static void narrowKernel(int depth, int r, int n, float[] a, float[] x0, float[] x1, float[] x2,
            float[] c0, float[] c1, float[] c2) {
        for (int s = 0; s < depth; s++) {
            float[] x = s == 0 ? x0 : s == 1 ? x1 : x2;
            float a0 = a[s];
            if (r == 3) {
                float a1 = a[3 + s];
                float a2 = a[6 + s];
                for (int j = 0; j < n; j++) {
                    float v = x[j];
                    c0[j] += a0 * v;
                    c1[j] += a1 * v;
                    c2[j] += a2 * v;
                }
            } else if (r == 2) {
                float a1 = a[3 + s];
                for (int j = 0; j < n; j++) {
                    float v = x[j];
                    c0[j] += a0 * v;
                    c1[j] += a1 * v;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    c0[j] += a0 * x[j];
                }
            }
        }
    }

    /**
     * {@code c[0..n) += a[0] x0[0..n) + ... + a[DEPTH-1] x_{DEPTH-1}[0..n)}: one row of the micro-kernel, for
     * direct kernels (depthwise convolution) that want its vectorised loop. Arrays are indexed from 0;
     * {@code x2} is unused when {@link #DEPTH} is 2.
     */
    static void rowUpdate(int n, float[] a, float[] x0, float[] x1, float[] x2, float[] c) {
        if (n >= WIDE) {
            microKernel(HARDWARE_FMA, 1, n, a, x0, x1, x2, c, null, null);
        } else {
            narrowKernel(DEPTH, 1, n, a, x0, x1, x2, c, null, null);
        }
    }

    /**
     * Column block width for {@code n} columns: blocks of at most {@value #NC} and as even as possible, so that
     * every block of an {@code n >= WIDE} problem is at least {@value #WIDE} wide.
     */
    static int blockWidth(int n) {
        int blocks = Math.max(1, (n + NC - 1) / NC);
        return Math.max(1, (n + blocks - 1) / blocks);
    }

    private static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    private static void checkDims(int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative GEMM size m=" + m + " n=" + n + " k=" + k);
        }
    }

    private static void checkOperand(String name, float[] arr, FloatBuffer buf, int cols, int ld) {
        if ((arr == null) == (buf == null)) {
            throw new IllegalArgumentException("GEMM operand " + name + ": pass exactly one of array and buffer");
        }
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("GEMM operand " + name + ": leading dimension " + ld
                    + " is less than its " + cols + " columns");
        }
    }

    private static boolean detectFma() {
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return bean != null && Boolean.parseBoolean(bean.getVMOption("UseFMA").getValue());
        } catch (RuntimeException | LinkageError e) {
            // Not HotSpot or no management module: assume no FMA; the multiply-add kernels are always safe.
            return false;
        }
    }
}
