package dev.hedge.openblas;

import java.nio.Buffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;

/**
 * The OpenBLAS calls Hedge makes, on raw addresses of direct buffers (arena views, the memory-mapped
 * weights, scratch). JavaCPP reads a pointer argument's {@code address} and {@code position} fields, so each
 * thread keeps three reusable pointer objects and re-aims them per call: no allocation, no copy.
 *
 * <p>OpenBLAS is set to one thread of its own once, when this class loads: Hedge's intra-op threads each
 * make single-threaded calls on their own tiles, so the model's thread budget is never exceeded. The
 * setting is process-wide.
 */
final class Blas {

    private static final ThreadLocal<Ptr[]> POINTERS = ThreadLocal.withInitial(
            () -> new Ptr[] {new Ptr(), new Ptr(), new Ptr(), new Ptr()});

    static {
        openblas.blas_set_num_threads(1);
    }

    private Blas() {
    }

    /** Forces the native library to load (and reports why it cannot). */
    static void load() {
        // the static initialiser did the work
    }

    /** Address of element 0 of a direct buffer (its position is ignored). */
    static long address(Buffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        return Ptr.addressOf(direct);
    }

    /**
     * Row-major {@code C = alpha * op(A) * op(B) + beta * C} on float addresses; {@code op(A)} is m x k and
     * {@code op(B)} k x n.
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
            int ldb, float beta, long c, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        Ptr[] p = POINTERS.get();
        openblas.cblas_sgemm(openblas.CblasRowMajor, transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                transB ? openblas.CblasTrans : openblas.CblasNoTrans, m, n, k, alpha, p[0].at(a), lda, p[1].at(b), ldb,
                beta, p[2].at(c), ldc);
    }

    /**
     * Row-major {@code y = alpha * op(A) * x + beta * y}, A stored {@code rows x cols} (leading dimension
     * {@code lda}), x and y with strides {@code incX}, {@code incY}.
     */
    static void sgemv(boolean trans, int rows, int cols, float alpha, long a, int lda, long x, int incX, float beta,
            long y, int incY) {
        if (rows <= 0 || cols <= 0) {
            return;
        }
        Ptr[] p = POINTERS.get();
        openblas.cblas_sgemv(openblas.CblasRowMajor, trans ? openblas.CblasTrans : openblas.CblasNoTrans, rows, cols,
                alpha, p[0].at(a), lda, p[1].at(x), incX, beta, p[2].at(y), incY);
    }

    /**
     * {@link #sgemm}, except that a product with one row or one column goes to {@code sgemv}: OpenBLAS's
     * sgemm packs all of B even for a single row of A, and measured 4 to 10 times slower there.
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
            int ldb, float beta, long c, int ldc) {
        if (m == 1 && k > 0) {
            // y[0, :] = op(B)^T x, x = row 0 of op(A)
            int incX = transA ? lda : 1;
            if (transB) {
                sgemv(false, n, k, alpha, b, ldb, a, incX, beta, c, 1);
            } else {
                sgemv(true, k, n, alpha, b, ldb, a, incX, beta, c, 1);
            }
        } else if (n == 1 && k > 0) {
            // y[:, 0] = op(A) x, x = column 0 of op(B)
            int incX = transB ? 1 : ldb;
            if (transA) {
                sgemv(true, k, m, alpha, a, lda, b, incX, beta, c, ldc);
            } else {
                sgemv(false, m, k, alpha, a, lda, b, incX, beta, c, ldc);
            }
        } else {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
    }

    /** Copies {@code len} floats at native address {@code src} into {@code dst[off..]}. */
    static void read(long src, float[] dst, int off, int len) {
        if (len > 0) {
            POINTERS.get()[3].at(src).get(dst, off, len);
        }
    }

    /** Copies {@code src[off..off+len)} to native address {@code dst}. */
    static void write(float[] src, int off, int len, long dst) {
        if (len > 0) {
            POINTERS.get()[3].at(dst).put(src, off, len);
        }
    }

    /** A float pointer whose address is set per call. */
    private static final class Ptr extends FloatPointer {
        Ptr() {
            super((Pointer) null);
        }

        Ptr at(long addr) {
            address = addr;
            position = 0;
            limit = 0;
            capacity = 0;
            return this;
        }

        static long addressOf(Buffer b) {
            return getDirectBufferAddress(b);
        }
    }
}
