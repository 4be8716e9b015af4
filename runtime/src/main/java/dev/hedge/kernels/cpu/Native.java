package dev.hedge.kernels.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Checked access to {@link NativeKernels}: every call validates its ISA, sizes, strides, offsets and buffer
 * capacities first and throws {@link IllegalArgumentException} when anything is off, so a bad shape never
 * becomes a native fault. Buffers must be direct with position 0 (Tensor buffers and scratch are).
 */
final class Native {

    /** Instruction-set levels, as in hk_common.h. */
    static final int ISA_SCALAR = 0;
    static final int ISA_AVX2 = 1;
    static final int ISA_AVX512 = 2;
    static final int ISA_NEON = 3;
    static final int ISA_NEON_DOT = 4;
    static final String[] ISA_NAMES = {"scalar", "avx2", "avx512-vnni", "neon", "neon-dotprod"};

    /** Operand roles and output types, as in hk_qgemm.h / hk_requant.h. */
    static final int WHO_ACT = 0;
    static final int WHO_WT = 1;
    static final int OUT_U8 = 0;
    static final int OUT_S8 = 1;
    static final int OUT_S32 = 2;

    private static final int MASK;
    private static final Throwable LOAD_ERROR;

    static {
        int m = 0;
        Throwable err = null;
        try {
            m = NativeKernels.hk_isa_mask();
        } catch (Throwable t) {
            err = t;
        }
        MASK = m;
        LOAD_ERROR = err;
    }

    private Native() {
    }

    /** Why the library cannot be used, or null when it loaded. */
    static Throwable loadError() {
        return LOAD_ERROR;
    }

    /** Bit i set: ISA i runs on this CPU. 0 when the library did not load. */
    static int isaMask() {
        return MASK;
    }

    static void checkIsa(int isa) {
        if (isa < 0 || isa >= ISA_NAMES.length || (MASK & (1 << isa)) == 0) {
            throw new IllegalArgumentException("instruction set " + isa + " is not available on this CPU");
        }
    }

    /** A kernel family code (family | nv << 8) whose ISA this CPU has. */
    static void checkFamily(int code) {
        int family = code & 0xff;
        int nv = (code >> 8) & 0xff;
        if ((code & ~0xffff) != 0 || family > 5 || (nv != 1 && nv != 2 && nv != 4)) {
            throw new IllegalArgumentException("bad kernel family code " + code);
        }
        checkIsa(NativeKernels.hk_family_isa(code));
    }

    /** Bytes of a buffer from {@link #allocate}, 0 for none (what kernels report as packed). */
    static long capacity(ByteBuffer b) {
        return b == null ? 0 : b.capacity();
    }

    static ByteBuffer allocate(long bytes) {
        if (bytes < 0 || bytes > Integer.MAX_VALUE - 128) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes");
        }
        // 64-byte aligned, as the kernels' packed layouts assume for their vector loads; exactly `bytes` long
        int n = (int) Math.max(bytes, 1);
        ByteBuffer b = ByteBuffer.allocateDirect(n + 128).alignedSlice(64);
        return b.limit(n).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** {@code v} rounded up to a multiple of 64: regions of one scratch buffer start aligned as allocate's do. */
    static long align64(long v) {
        return (v + 63) & ~63L;
    }

    // ---- validation helpers ---------------------------------------------------------------------------

    static void positive(String what, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
    }

    static void nonNegative(String what, long v) {
        if (v < 0) {
            throw new IllegalArgumentException(what + " must not be negative, got " + v);
        }
    }

    /** Bytes spanned by a strided 2-D access: the largest index read plus one (elements of 1 byte). */
    static long span(long n0, long s0, long n1, long s1) {
        nonNegative("stride", s0);
        nonNegative("stride", s1);
        if (n0 <= 0 || n1 <= 0) {
            return 0;
        }
        return Math.addExact(Math.addExact(Math.multiplyExact(n0 - 1, s0), Math.multiplyExact(n1 - 1, s1)), 1);
    }

    /** The buffer holds {@code bytes} bytes from {@code off}. */
    static void region(String what, ByteBuffer b, long off, long bytes) {
        if (b == null) {
            throw new IllegalArgumentException(what + ": no buffer");
        }
        if (!b.isDirect()) {
            throw new IllegalArgumentException(what + ": buffer is not direct");
        }
        if (b.position() != 0) {
            throw new IllegalArgumentException(what + ": buffer position is " + b.position() + ", not 0");
        }
        if (off < 0 || bytes < 0 || off > b.capacity() - bytes) {
            throw new IllegalArgumentException(what + ": " + bytes + " bytes at offset " + off
                    + " do not fit a buffer of " + b.capacity());
        }
    }

    // ---- dense 8-bit GEMM -----------------------------------------------------------------------------

    /**
     * The kernel family for weights w[n * sN + k * sK] (n &lt; nOut, k &lt; k) on this ISA; {@code w} null when
     * the weights are only known per run.
     */
    static int chooseFamily(int isa, ByteBuffer w, long woff, boolean wUnsigned, long nOut, long k, long sN,
            long sK, long panelCols) {
        checkIsa(isa);
        positive("output channels", nOut);
        positive("reduction size", k);
        nonNegative("panel columns", panelCols);
        if (w != null) {
            region("weights", w, woff, span(nOut, sN, k, sK));
        }
        int code = NativeKernels.hk_choose_family(isa, w, woff, wUnsigned ? 1 : 0, nOut, k, sN, sK, panelCols);
        checkFamily(code);
        return code;
    }

    static long rowBytes(int code, int who, long rows, long k) {
        checkFamily(code);
        checkWho(who);
        nonNegative("rows", rows);
        nonNegative("reduction size", k);
        checkSizeBound(rows, k);
        return NativeKernels.hk_rpack_bytes(code, who, rows, k);
    }

    static long panelBytes(int code, int who, long cols, long k) {
        checkFamily(code);
        checkWho(who);
        nonNegative("columns", cols);
        nonNegative("reduction size", k);
        checkSizeBound(cols + 64, k);
        return NativeKernels.hk_ppack_bytes(code, who, cols, k);
    }

    static long im2colTmpBytes(int code, long cols) {
        checkFamily(code);
        nonNegative("columns", cols);
        checkSizeBound(cols + 64, 8);
        return NativeKernels.hk_im2col_tmp_bytes(code, cols);
    }

    private static void checkWho(int who) {
        if (who != WHO_ACT && who != WHO_WT) {
            throw new IllegalArgumentException("bad operand role " + who);
        }
    }

    /** Keeps element counts of packed operands far below 2^62 so no native size computation overflows. */
    private static void checkSizeBound(long a, long b) {
        if (a > Integer.MAX_VALUE || b > Integer.MAX_VALUE || Math.multiplyExact(a, b) > (1L << 40)) {
            throw new IllegalArgumentException("operand of " + a + " x " + b + " elements is too large");
        }
    }

    private static void zeroPoints(ByteBuffer zp, long zpoff, long n, long stride) {
        if (stride != 0 && stride != 1) {
            throw new IllegalArgumentException("zero-point stride must be 0 or 1, got " + stride);
        }
        region("zero points", zp, zpoff, 4 * (stride == 0 ? 1 : n));
    }

    static void packRows(int code, int who, ByteBuffer dst, long doff, ByteBuffer src, long soff, boolean su,
            long rows, long k, long sRow, long sK, ByteBuffer zp, long zpoff, long zpStride) {
        positive("rows", rows);
        positive("reduction size", k);
        region("packed rows", dst, doff, rowBytes(code, who, rows, k));
        region("row source", src, soff, span(rows, sRow, k, sK));
        zeroPoints(zp, zpoff, rows, zpStride);
        NativeKernels.hk_pack_rows(code, who, dst, doff, src, soff, su ? 1 : 0, rows, k, sRow, sK, zp, zpoff, zpStride);
    }

    static void packPanel(int code, int who, ByteBuffer dst, long doff, ByteBuffer src, long soff, boolean su,
            long cols, long k, long sCol, long sK, ByteBuffer zp, long zpoff, long zpStride) {
        positive("columns", cols);
        positive("reduction size", k);
        region("packed panel", dst, doff, panelBytes(code, who, cols, k));
        region("panel source", src, soff, span(cols, sCol, k, sK));
        zeroPoints(zp, zpoff, cols, zpStride);
        NativeKernels.hk_pack_panel(code, who, dst, doff, src, soff, su ? 1 : 0, cols, k, sCol, sK, zp, zpoff,
                zpStride);
    }

    static void packActRows(int code, ByteBuffer dst, long doff, ByteBuffer src, long soff, boolean su, long rows,
            long k, long lda, ByteBuffer zp, long zpoff, long zpStride) {
        positive("rows", rows);
        positive("reduction size", k);
        if (lda < k) {
            throw new IllegalArgumentException("row stride " + lda + " is below the row length " + k);
        }
        region("packed activations", dst, doff, rowBytes(code, WHO_ACT, rows, k));
        region("activations", src, soff, span(rows, lda, k, 1));
        zeroPoints(zp, zpoff, rows, zpStride);
        NativeKernels.hk_pack_act_rows(code, dst, doff, src, soff, su ? 1 : 0, rows, k, lda, zp, zpoff, zpStride);
    }

    static void packIm2col(int code, ByteBuffer dst, long doff, ByteBuffer x, long xoff, boolean xu, Geom g, int zx,
            ByteBuffer tmp, long tmpoff) {
        g.check();
        long k = g.reduction();
        long cols = g.outPlane();
        region("packed im2col", dst, doff, panelBytes(code, WHO_ACT, cols, k));
        region("image", x, xoff, g.inBytes(1));
        region("im2col rows", tmp, tmpoff, im2colTmpBytes(code, cols));
        NativeKernels.hk_pack_act_im2col(code, dst, doff, x, xoff, xu ? 1 : 0, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw,
                g.dh, g.dw, g.pt, g.pl, g.oh, g.ow, zx, tmp, tmpoff);
    }

    /** OUT[rows][cols] (row stride ldo) = requant(R x P), channels per column (rowsAreAct) or per row. */
    static void qgemm(int code, boolean rowsAreAct, ByteBuffer r, long roff, long rows, ByteBuffer p, long poff,
            long cols, long k, ByteBuffer q, long qoff, ByteBuffer out, long ooff, long ldo) {
        checkQgemm(code, rowsAreAct, r, roff, rows, p, poff, cols, k, q, qoff, out, ooff, ldo);
        NativeKernels.hk_qgemm(code, rowsAreAct ? 1 : 0, r, roff, rows, p, poff, cols, k, q, qoff, out, ooff, ldo);
    }

    private static void checkQgemm(int code, boolean rowsAreAct, ByteBuffer r, long roff, long rows, ByteBuffer p,
            long poff, long cols, long k, ByteBuffer q, long qoff, ByteBuffer out, long ooff, long ldo) {
        positive("rows", rows);
        positive("columns", cols);
        positive("reduction size", k);
        region("packed rows", r, roff, rowBytes(code, rowsAreAct ? WHO_ACT : WHO_WT, rows, k));
        region("packed panel", p, poff, panelBytes(code, rowsAreAct ? WHO_WT : WHO_ACT, cols, k));
        int osz = Requant.check(q, qoff, rowsAreAct ? cols : rows);
        if (ldo < cols) {
            throw new IllegalArgumentException("output row stride " + ldo + " is below " + cols + " columns");
        }
        region("output", out, ooff, Math.multiplyExact(span(rows, ldo, cols, 1), osz));
    }

    /** Columns per packed panel of a family code (tiles of {@link #qgemmTile} split columns at its multiples). */
    static int panelWidth(int code) {
        checkFamily(code);
        return (int) NativeKernels.hk_fam_nr(code);
    }

    /** Rows per micro-kernel call of a family code (row tiles of {@link #qgemmTile} best split at its multiples). */
    static int rowsPerCall(int code) {
        checkFamily(code);
        return (int) NativeKernels.hk_fam_mr(code);
    }

    /**
     * Rows [r0, r1) x columns [c0, c1) of {@link #qgemm}'s product, c0 and c1 (unless the last) multiples of
     * {@link #panelWidth}: a tile
     * for one thread. The operands are checked whole, as qgemm checks them.
     */
    static void qgemmTile(int code, boolean rowsAreAct, ByteBuffer r, long roff, long rows, ByteBuffer p, long poff,
            long cols, long k, ByteBuffer q, long qoff, ByteBuffer out, long ooff, long ldo, long r0, long r1, long c0,
            long c1) {
        checkQgemm(code, rowsAreAct, r, roff, rows, p, poff, cols, k, q, qoff, out, ooff, ldo);
        int nr = panelWidth(code);
        if (r0 < 0 || r0 >= r1 || r1 > rows || c0 < 0 || c0 >= c1 || c1 > cols || c0 % nr != 0
                || (c1 % nr != 0 && c1 != cols)) {
            throw new IllegalArgumentException("tile rows [" + r0 + ", " + r1 + ") x columns [" + c0 + ", " + c1
                    + ") is not inside " + rows + " x " + cols + " on " + nr + "-column panels");
        }
        NativeKernels.hk_qgemm_tile(code, rowsAreAct ? 1 : 0, r, roff, rows, p, poff, cols, k, q, qoff, out, ooff, ldo,
                r0, r1, c0 / nr, (c1 + nr - 1) / nr);
    }

    // ---- direct kernels -------------------------------------------------------------------------------

    static long depthwiseScratchBytes(Geom g) {
        g.check();
        return NativeKernels.hk_qdw_scratch_bytes(g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw);
    }

    /** Depthwise conv of one image; weights are int16 (w - zw) [c * mult][kh * kw]. */
    static void depthwise(int isa, ByteBuffer x, long xoff, boolean xu, int zx, Geom g, long mult, ByteBuffer w,
            long woff, ByteBuffer q, long qoff, ByteBuffer out, long ooff, ByteBuffer scratch, long soff) {
        depthwise(isa, x, xoff, xu, zx, g, mult, w, woff, q, qoff, out, ooff, scratch, soff, 0, g.c);
    }

    /** As above for input channels [c0, c1) only (a tile for one thread; scratch is that thread's). */
    static void depthwise(int isa, ByteBuffer x, long xoff, boolean xu, int zx, Geom g, long mult, ByteBuffer w,
            long woff, ByteBuffer q, long qoff, ByteBuffer out, long ooff, ByteBuffer scratch, long soff, long c0,
            long c1) {
        checkIsa(isa);
        if (c0 < 0 || c0 >= c1 || c1 > g.c) {
            throw new IllegalArgumentException("channels [" + c0 + ", " + c1 + ") outside [0, " + g.c + ")");
        }
        g.check();
        positive("depth multiplier", mult);
        long cout = Math.multiplyExact(g.c, mult);
        region("image", x, xoff, g.inBytes(1));
        region("depthwise weights", w, woff, Math.multiplyExact(cout, 2 * g.kh * g.kw));
        int osz = Requant.check(q, qoff, cout);
        region("output", out, ooff, Math.multiplyExact(Math.multiplyExact(cout, g.outPlane()), osz));
        region("depthwise scratch", scratch, soff, depthwiseScratchBytes(g));
        NativeKernels.hk_qdw(isa, x, xoff, xu ? 1 : 0, zx, g.c, g.h, g.w, mult, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw,
                g.pt, g.pl, g.oh, g.ow, w, woff, q, qoff, out, ooff, scratch, soff, c0, c1);
    }

    /** Depthwise taps above which a float32 sum of (x - zx)(w - zw) could leave the exact integers (2^24). */
    static final long DW_FLOAT_MAX_TAPS = ((1 << 24) - 1) / (255 * 255);

    /**
     * Whether {@link #depthwiseS8F32} runs this depthwise geometry: AVX-512, multiplier 1, stride 1 or column
     * stride 2, and few enough taps that the float sums are exact.
     */
    static boolean depthwiseS8F32Runs(int isa, Geom g, long mult) {
        return isa == ISA_AVX512 && mult == 1 && g.kh * g.kw <= DW_FLOAT_MAX_TAPS
                && (g.sw == 2 || g.sw == 1 && g.sh == 1);
    }

    static long depthwiseS8F32ScratchBytes(Geom g) {
        g.check();
        return NativeKernels.hk_qdwf_scratch_bytes(g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw);
    }

    /**
     * int8 depthwise conv of input channels {@code [c0, c1)} of one image in float lanes (hk_qdwf.h), bit-exact with
     * {@link #depthwise}: weights are floats (w - w_zero_point[c]) [c][kh * kw]; 8-bit output only.
     */
    static void depthwiseS8F32(int isa, ByteBuffer x, long xoff, boolean xu, int zx, Geom g, ByteBuffer w, long woff,
            ByteBuffer q, long qoff, ByteBuffer out, long ooff, ByteBuffer scratch, long soff, long c0, long c1) {
        checkIsa(isa);
        g.check();
        if (!depthwiseS8F32Runs(isa, g, 1)) {
            throw new IllegalArgumentException("float-lane int8 depthwise does not run " + g);
        }
        if (c0 < 0 || c0 >= c1 || c1 > g.c) {
            throw new IllegalArgumentException("channels [" + c0 + ", " + c1 + ") outside [0, " + g.c + ")");
        }
        region("image", x, xoff, g.inBytes(1));
        region("depthwise weights", w, woff, Math.multiplyExact(g.c, 4 * g.kh * g.kw));
        if (Requant.check(q, qoff, g.c) != 1) {
            throw new IllegalArgumentException("float-lane int8 depthwise writes 8-bit outputs only");
        }
        region("output", out, ooff, Math.multiplyExact(g.c, g.outPlane()));
        region("depthwise scratch", scratch, soff, depthwiseS8F32ScratchBytes(g));
        NativeKernels.hk_qdwf(x, xoff, xu ? 1 : 0, zx, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl,
                g.oh, g.ow, w, woff, q, qoff, out, ooff, scratch, soff, c0, c1);
    }

    /** Output widths up to which AVX-512 depthwise convolutions (multiplier 1) put channels in vector lanes. */
    static final long DW_CHANNEL_LANES_MAX_WIDTH = 14;

    static long depthwiseF32ScratchBytes(Geom g) {
        g.check();
        long b = Math.max(NativeKernels.hk_fdw_scratch_bytes(g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw),
                g.ow <= DW_CHANNEL_LANES_MAX_WIDTH
                        ? NativeKernels.hk_fdwc_scratch_bytes(g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw) : 0);
        if (g.sh == 1 && g.sw == 1) {
            b = Math.max(b, NativeKernels.hk_fdwf_scratch_bytes(g.oh, g.ow, g.kh, g.kw, g.dh, g.dw));
        }
        if (g.sw == 2) {
            b = Math.max(b, NativeKernels.hk_fdws_scratch_bytes(g.oh, g.ow, g.kh, g.kw, g.sh, g.dh, g.dw));
        }
        return b;
    }

    /** Float32 depthwise conv of one image; weights [c * mult][kh * kw], bias [c * mult] or null. */
    static void depthwiseF32(int isa, ByteBuffer x, long xoff, Geom g, long mult, ByteBuffer w, long woff,
            ByteBuffer bias, long boff, int act, float lo, float hi, ByteBuffer out, long ooff, ByteBuffer scratch,
            long soff) {
        checkIsa(isa);
        g.check();
        positive("depth multiplier", mult);
        if (act < 0 || act > 2) {
            throw new IllegalArgumentException("bad activation " + act);
        }
        long cout = Math.multiplyExact(g.c, mult);
        region("image", x, xoff, g.inBytes(4));
        region("depthwise weights", w, woff, Math.multiplyExact(cout, 4 * g.kh * g.kw));
        if (bias != null) {
            region("bias", bias, boff, 4 * cout);
        }
        region("output", out, ooff, Math.multiplyExact(Math.multiplyExact(cout, g.outPlane()), 4));
        region("depthwise scratch", scratch, soff, depthwiseF32ScratchBytes(g));
        if (isa == ISA_AVX512 && mult == 1 && g.sh == 1 && g.sw == 1) {
            // stride 1: a zero-padded copy of each plane, 16 padded outputs per vector (hk_fdwc.h; measured
            // 1.3-5x faster than the row kernel from 112 down to 7 wide)
            NativeKernels.hk_fdwf(x, xoff, g.c, g.h, g.w, g.kh, g.kw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow, w, woff, bias,
                    boff, act, lo, hi, out, ooff, scratch, soff);
            return;
        }
        if (isa == ISA_AVX512 && mult == 1 && g.sw == 2) {
            // column stride 2: padded rows, even lanes of two loads per tap (hk_fdwc.h; as fast as the row kernel
            // at 112 wide, up to 2x faster below)
            NativeKernels.hk_fdws(x, xoff, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow, w, woff,
                    bias, boff, act, lo, hi, out, ooff, scratch, soff);
            return;
        }
        if (isa == ISA_AVX512 && mult == 1 && g.ow <= DW_CHANNEL_LANES_MAX_WIDTH) {
            // small planes: blocks of 16 channels in vector lanes (hk_fdwc.h; measured 2-5x faster at 14 and 7)
            NativeKernels.hk_fdwc(x, xoff, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow,
                    w, woff, bias, boff, act, lo, hi, out, ooff, scratch, soff);
            return;
        }
        NativeKernels.hk_fdw(isa, x, xoff, g.c, g.h, g.w, mult, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh,
                g.ow, w, woff, bias, boff, act, lo, hi, out, ooff, scratch, soff);
    }

    static void maxPool8(int isa, boolean signed, ByteBuffer x, long xoff, Geom g, ByteBuffer out, long ooff) {
        checkIsa(isa);
        g.check();
        region("image", x, xoff, g.inBytes(1));
        region("output", out, ooff, Math.multiplyExact(g.c, g.outPlane()));
        NativeKernels.hk_maxpool8(isa, signed ? 1 : 0, x, xoff, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw,
                g.pt, g.pl, g.oh, g.ow, out, ooff);
    }

    // ---- 8-bit elementwise and average pooling (hk_qelt.h) --------------------------------------------

    /**
     * QLinearAdd ({@code mul} false) / QLinearMul of output elements {@code [i0, i0 + n)} of {@code total}: a holds
     * {@code total} values; b holds {@code total} ({@code bFull}) or {@code mid} values, {@code b[(i / inner) % mid]}
     * pairing with element i. Parameters as {@code QFixed.Binary}.
     */
    static void qelt(int isa, boolean mul, boolean signed, ByteBuffer a, ByteBuffer b, boolean bFull, long mid,
            long inner, ByteBuffer out, long total, long i0, long n, int ma, int mb, int shift, int za, int zb,
            int zc, int lo, int hi) {
        checkIsa(isa);
        positive("elements", n);
        positive("broadcast length", mid);
        positive("broadcast run", inner);
        if (i0 < 0 || i0 > total - n) {
            throw new IllegalArgumentException("elements [" + i0 + ", " + (i0 + n) + ") outside [0, " + total + ")");
        }
        if (!bFull && Math.multiplyExact(mid, inner) > total) {
            throw new IllegalArgumentException("broadcast of " + mid + " x " + inner + " exceeds " + total
                    + " elements");
        }
        if (shift < 1 || shift > 30 || ma < 0 || mb < 0 || ma > (mul ? 1 << 14 : 1 << 20) || mb > (1 << 20)) {
            throw new IllegalArgumentException("fixed-point parameters out of range: multipliers " + ma + ", " + mb
                    + ", shift " + shift);
        }
        checkZeroPoints(signed, za, zb, zc, lo, hi);
        region("operand a", a, 0, total);
        region("operand b", b, 0, bFull ? total : mid);
        region("output", out, 0, total);
        NativeKernels.hk_qelt(isa, mul ? 1 : 0, signed ? 1 : 0, a, 0, b, 0, bFull ? 1 : 0, mid, inner, out, 0, i0, n,
                ma, mb, shift, za, zb, zc, lo, hi);
    }

    /** QLinearGlobalAveragePool of {@code planes} planes of {@code size} bytes; parameters as {@code QFixed.Average}. */
    static void qGlobalAverage(int isa, boolean signed, ByteBuffer x, long planes, long size, long mult, int shift,
            int zx, int zy, int lo, int hi, ByteBuffer out) {
        checkIsa(isa);
        positive("planes", planes);
        positive("plane size", size);
        if (size >= 1 << 23) {
            throw new IllegalArgumentException("plane size " + size + " is 2^23 or more");
        }
        if (shift < 1 || shift > 62 || mult < 0 || mult > 1L << 30) {
            throw new IllegalArgumentException("fixed-point parameters out of range: multiplier " + mult + ", shift "
                    + shift);
        }
        checkZeroPoints(signed, zx, zy, zy, lo, hi);
        region("input", x, 0, Math.multiplyExact(planes, size));
        region("output", out, 0, planes);
        NativeKernels.hk_qgavg(isa, signed ? 1 : 0, x, 0, planes, size, mult, shift, zx, zy, lo, hi, out, 0);
    }

    /**
     * QLinearAveragePool of {@code g.c} planes: {@code table} holds the {@code QFixed.Average} multipliers of the
     * divisors 1 .. kh * kw (int64 each), then their shifts (int32 each).
     */
    static void qAveragePool(boolean signed, ByteBuffer x, Geom g, boolean countPad, ByteBuffer table, int zx,
            int zy, int lo, int hi, ByteBuffer out) {
        g.check();
        if (g.pb < 0 || g.pr < 0) {
            throw new IllegalArgumentException("bad window geometry " + g);
        }
        long taps = Math.multiplyExact(g.kh, g.kw);
        if (taps >= 1 << 23) {
            throw new IllegalArgumentException("windows of " + taps + " taps");
        }
        region("divisor table", table, 0, 12 * taps);
        for (int i = 0; i < taps; i++) {
            long m = table.getLong(8 * i);
            int s = table.getInt((int) (8 * taps) + 4 * i);
            if (m < 0 || m > 1L << 30 || s < 1 || s > 62) {
                throw new IllegalArgumentException("divisor table entry " + i + " out of range: " + m + ", " + s);
            }
        }
        checkZeroPoints(signed, zx, zy, zy, lo, hi);
        region("image", x, 0, g.inBytes(1));
        region("output", out, 0, Math.multiplyExact(g.c, g.outPlane()));
        NativeKernels.hk_qavgpool(signed ? 1 : 0, x, 0, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl,
                g.pb, g.pr, g.oh, g.ow, countPad ? 1 : 0, table, 0, zx, zy, lo, hi, out, 0);
    }

    private static void checkZeroPoints(boolean signed, int z0, int z1, int z2, int lo, int hi) {
        inByteRange(signed, z0);
        inByteRange(signed, z1);
        inByteRange(signed, z2);
        inByteRange(signed, lo);
        inByteRange(signed, hi);
        if (lo > hi) {
            throw new IllegalArgumentException("empty clamp range [" + lo + ", " + hi + "]");
        }
    }

    private static void inByteRange(boolean signed, int z) {
        if (signed ? z < -128 || z > 127 : z < 0 || z > 255) {
            throw new IllegalArgumentException("zero point or clamp bound " + z + " outside the "
                    + (signed ? "INT8" : "UINT8") + " range");
        }
    }

    // ---- quantize / dequantize ------------------------------------------------------------------------

    /** QuantizeLinear of n floats with one scale and zero point, clamped to [lo, hi], to 8-bit values. */
    static void quantize(int isa, ByteBuffer x, long xoff, long n, float scale, int zp, int lo, int hi,
            boolean signed, ByteBuffer out, long ooff) {
        checkIsa(isa);
        nonNegative("element count", n);
        region("input", x, xoff, Math.multiplyExact(n, 4));
        region("output", out, ooff, n);
        NativeKernels.hk_quantize(isa, x, xoff, n, scale, zp, lo, hi, signed ? 1 : 0, out, ooff);
    }

    /** DequantizeLinear of n 8-bit values with one scale and zero point, to floats. */
    static void dequantize(int isa, ByteBuffer x, long xoff, long n, boolean signed, int zp, float scale,
            ByteBuffer out, long ooff) {
        checkIsa(isa);
        nonNegative("element count", n);
        region("input", x, xoff, n);
        region("output", out, ooff, Math.multiplyExact(n, 4));
        NativeKernels.hk_dequantize(isa, x, xoff, n, signed ? 1 : 0, zp, scale, out, ooff);
    }

    /**
     * One LSTM direction with int8 weights over {@code seq} steps (hk_lstm.h; AVX-512 only): x [seq][batch][in]
     * floats from {@code xoff}; wt [in][4 hidden] and rt [hidden][4 hidden] int8; ws, rs, bias [4 hidden] floats;
     * h and c [batch][hidden] floats, read and updated; y (or null) gets h of step t at {@code yoff + 4 t ys}.
     * Scratch: 4 hidden floats.
     */
    static void lstmQ8(int isa, ByteBuffer x, long xoff, long seq, long batch, long in, long hidden, ByteBuffer wt,
            ByteBuffer ws, ByteBuffer rt, ByteBuffer rs, ByteBuffer bias, ByteBuffer h, long hoff, ByteBuffer c,
            long coff, ByteBuffer y, long yoff, long ys, boolean reverse, ByteBuffer scratch, long soff) {
        if (isa != ISA_AVX512) {
            throw new IllegalArgumentException("the int8-weight LSTM kernel needs AVX-512, not " + ISA_NAMES[isa]);
        }
        positive("sequence length", seq);
        positive("batch", batch);
        positive("input size", in);
        positive("hidden size", hidden);
        if (hidden % 16 != 0) {
            throw new IllegalArgumentException("hidden size " + hidden + " is not a multiple of 16");
        }
        long g = Math.multiplyExact(4L, hidden);
        region("x", x, xoff, Math.multiplyExact(Math.multiplyExact(4L * seq, batch), in));
        region("W", wt, 0, Math.multiplyExact(in, g));
        region("R", rt, 0, Math.multiplyExact(hidden, g));
        region("W scales", ws, 0, 4 * g);
        region("R scales", rs, 0, 4 * g);
        region("bias", bias, 0, 4 * g);
        region("h", h, hoff, Math.multiplyExact(4L * batch, hidden));
        region("c", c, coff, Math.multiplyExact(4L * batch, hidden));
        if (y != null) {
            if (ys < batch * hidden) {
                throw new IllegalArgumentException("Y step stride " + ys + " is below batch x hidden");
            }
            region("Y", y, yoff, Math.addExact(Math.multiplyExact(4L * (seq - 1), ys), 4L * batch * hidden));
        }
        region("scratch", scratch, soff, 4 * g);
        NativeKernels.hk_lstm_q8(x, xoff, seq, batch, in, hidden, batch * in, wt, 0, ws, 0, rt, 0, rs, 0, bias, 0, h,
                hoff, c, coff, y, yoff, ys, reverse ? 1 : 0, scratch, soff);
    }

    /** {@code out = a + b} over {@code n} floats from byte offset {@code off} of each buffer (float32). */
    static void addF32(int isa, ByteBuffer a, ByteBuffer b, ByteBuffer out, long off, long n) {
        checkIsa(isa);
        positive("elements", n);
        long bytes = Math.multiplyExact(4L, n);
        region("addend a", a, off, bytes);
        region("addend b", b, off, bytes);
        region("sum", out, off, bytes);
        NativeKernels.hk_fadd(isa, a, off, b, off, out, off, n);
    }

    /** Float32 pooling kinds, as in hk_fpool.h. */
    static final int FPOOL_MAX = 0;
    static final int FPOOL_AVG = 1;
    static final int FPOOL_AVG_PAD = 2;

    /** Float32 MaxPool / AveragePool of planes {@code [p0, p0 + n)} of {@code g.c} planes. */
    static void poolF32(int isa, int kind, ByteBuffer x, Geom g, long p0, long n, ByteBuffer out) {
        checkIsa(isa);
        g.check();
        if (kind < FPOOL_MAX || kind > FPOOL_AVG_PAD) {
            throw new IllegalArgumentException("bad pooling kind " + kind);
        }
        if (p0 < 0 || n < 1 || p0 + n > g.c) {
            throw new IllegalArgumentException("planes [" + p0 + ", " + (p0 + n) + ") outside [0, " + g.c + ")");
        }
        if (g.pb < 0 || g.pr < 0) {
            throw new IllegalArgumentException("bad window geometry " + g);
        }
        long xoff = 4 * p0 * g.inPlane();
        long ooff = 4 * p0 * g.outPlane();
        region("image", x, xoff, 4 * n * g.inPlane());
        region("output", out, ooff, 4 * n * g.outPlane());
        NativeKernels.hk_fpool(isa, kind, x, xoff, n, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb,
                g.pr, g.oh, g.ow, out, ooff);
    }

    /** Float32 GlobalMaxPool / GlobalAveragePool of planes {@code [p0, p0 + n)}, {@code size} elements each. */
    static void globalPoolF32(int isa, boolean max, ByteBuffer x, long p0, long n, long size, ByteBuffer out) {
        checkIsa(isa);
        positive("plane size", size);
        if (p0 < 0 || n < 1) {
            throw new IllegalArgumentException("planes [" + p0 + ", " + (p0 + n) + ")");
        }
        long xoff = Math.multiplyExact(4 * p0, size);
        region("image", x, xoff, Math.multiplyExact(4 * n, size));
        region("output", out, 4 * p0, 4 * n);
        NativeKernels.hk_fgpool(isa, max ? 1 : 0, x, xoff, n, size, out, 4 * p0);
    }

    /**
     * Floats of one group's packed fp32 conv weights ({@code m} rows of {@code k}): strips of 8 rows, or panels
     * of 32 for the transposed (small-image) tile.
     */
    static long convF32PackedFloats(boolean transposed, long m, long k) {
        positive("output channels", m);
        positive("reduction size", k);
        Math.multiplyExact(Math.multiplyExact(m + 32, k), 4L);
        return NativeKernels.hk_fconv_packed_floats(transposed ? 1 : 0, m, k);
    }

    /**
     * Floats of per-call scratch {@link #convF32} needs besides a pointwise geometry: the im2col chunk
     * ({@code k * chunk}), or for stride-1 convolutions on AVX-512 the zero-padded image and tap offsets.
     */
    static long convF32ScratchFloats(int isa, boolean transposed, Geom g, long chunk) {
        checkIsa(isa);
        g.check();
        long n = NativeKernels.hk_fconv_scratch_floats(isa, transposed ? 1 : 0, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw,
                g.dh, g.dw, g.pt, g.pl, g.oh, g.ow, chunk);
        if (n < 0 || n > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("convolution scratch of " + n + " floats is too large for " + g);
        }
        return n;
    }

    /** Packs one group's weights {@code [m][k]} (float32 at {@code woff}) for {@link #convF32}. */
    static void convF32Pack(boolean transposed, ByteBuffer w, long woff, long m, long k, ByteBuffer dst, long doff) {
        long n = convF32PackedFloats(transposed, m, k);
        region("conv weights", w, woff, Math.multiplyExact(4 * m, k));
        region("packed conv weights", dst, doff, 4 * n);
        NativeKernels.hk_fconv_pack(transposed ? 1 : 0, w, woff, m, k, dst, doff);
    }

    /**
     * Float32 convolution of one image and group, output pixels {@code [p0, p1)}: {@code g.c} input channels at
     * {@code xoff}, {@code m} output channels at {@code ooff}; col (null for a pointwise geometry) holds
     * {@code k * chunk} floats of im2col scratch.
     */
    static void convF32(int isa, boolean transposed, ByteBuffer x, long xoff, Geom g, long m, ByteBuffer w, long woff,
            ByteBuffer bias, long boff, int act, float lo, float hi, ByteBuffer out, long ooff, long p0, long p1,
            ByteBuffer col, long coff, long chunk) {
        checkIsa(isa);
        g.check();
        if (transposed && isa != ISA_AVX512) {
            throw new IllegalArgumentException("the transposed fp32 conv tile needs " + ISA_NAMES[ISA_AVX512]);
        }
        if (act < 0 || act > 2) {
            throw new IllegalArgumentException("bad activation " + act);
        }
        long k = g.reduction();
        long pixels = g.outPlane();
        if (p0 < 0 || p0 >= p1 || p1 > pixels) {
            throw new IllegalArgumentException("pixels [" + p0 + ", " + p1 + ") outside [0, " + pixels + ")");
        }
        if (chunk < 32 || chunk % 32 != 0) {
            throw new IllegalArgumentException("im2col chunk " + chunk + " is not a positive multiple of 32");
        }
        region("image", x, xoff, g.inBytes(4));
        region("packed conv weights", w, woff, 4 * convF32PackedFloats(transposed, m, k));
        region("bias", bias, boff, 4 * m);
        region("output", out, ooff, Math.multiplyExact(4 * m, pixels));
        if (col != null) {
            region("im2col scratch", col, coff, 4 * convF32ScratchFloats(isa, transposed, g, chunk));
        } else if (!g.isPointwise()) {
            throw new IllegalArgumentException("im2col scratch missing for " + g);
        }
        NativeKernels.hk_fconv(isa, transposed ? 1 : 0, x, xoff, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh,
                g.ow, m, w, woff, bias, boff, act, lo, hi, out, ooff, p0, p1, col, coff, chunk);
    }

    // ---- sparse ---------------------------------------------------------------------------------------

    /** Columns of the repacked sparse operand: p rounded up to 64. */
    static long sparsePad(long p) {
        return (p + 63) / 64 * 64;
    }

    static long sparseX2Bytes(long k, long ppad) {
        return Math.multiplyExact(4L * ((k + 1) / 2), ppad);
    }

    /** X2 = int16 pairs of (x - zx) for x[k * sK + p * sP]; s (4 * ppad bytes) gets column sums, or null. */
    static void sparsePackX(int isa, ByteBuffer x, long xoff, boolean xu, int zx, long k, long p, long sK, long sP,
            ByteBuffer x2, long x2off, long ppad, ByteBuffer s, long soff) {
        checkIsa(isa);
        positive("reduction size", k);
        positive("columns", p);
        if (ppad < p || ppad % 64 != 0) {
            throw new IllegalArgumentException("padded columns " + ppad + " must be a multiple of 64 >= " + p);
        }
        region("sparse activations", x, xoff, span(k, sK, p, sP));
        region("repacked activations", x2, x2off, sparseX2Bytes(k, ppad));
        if (s != null) {
            region("column sums", s, soff, 4 * ppad);
        }
        NativeKernels.hk_sq8_pack_x(isa, x, xoff, xu ? 1 : 0, zx, k, p, sK, sP, x2, x2off, ppad, s, soff);
    }

    static void sparseQGemm(int isa, SparseWeights sp, ByteBuffer x2, long x2off, long p, long ppad, ByteBuffer s,
            long soff, ByteBuffer q, long qoff, ByteBuffer out, long ooff, long ldo) {
        checkIsa(isa);
        if (!sp.quantized() || sp.k4()) {
            throw new IllegalArgumentException("sparse weights are not in the 8-bit pair layout");
        }
        positive("columns", p);
        if (ppad < p || ppad % 64 != 0) {
            throw new IllegalArgumentException("padded columns " + ppad + " must be a multiple of 64 >= " + p);
        }
        region("repacked activations", x2, x2off, sparseX2Bytes(sp.cols(), ppad));
        if (sp.anyWeightZeroPoint()) {
            region("column sums", s, soff, 4 * ppad);
        }
        int osz = Requant.check(q, qoff, sp.rows());
        if (ldo < p) {
            throw new IllegalArgumentException("output row stride " + ldo + " is below " + p + " columns");
        }
        region("output", out, ooff, Math.multiplyExact(span(sp.rows(), ldo, p, 1), osz));
        NativeKernels.hk_sq8_gemm(isa, sp.buffer(), 0, x2, x2off, p, ppad, sp.anyWeightZeroPoint() ? s : null, soff,
                q, qoff, out, ooff, ldo);
    }

    /** The family whose CONV-variant activation panel the k4 sparse kernel reads for p columns. */
    static int k4PanelFamily(long p) {
        positive("columns", p);
        return NativeKernels.hk_k4_panel_family(p);
    }

    /**
     * k4 sparse weights x an activation panel of {@link #k4PanelFamily} (AVX-512 VNNI only): OUT[R][p] with row
     * stride ldo, or with {@code transposed} OUT[p][R] with row stride ldo (fully connected layers).
     */
    static void sparseK4Gemm(SparseWeights sp, ByteBuffer panel, long poff, long p, ByteBuffer q, long qoff,
            ByteBuffer out, long ooff, long ldo, boolean transposed, long rb, long re) {
        checkIsa(ISA_AVX512);
        if (!sp.k4()) {
            throw new IllegalArgumentException("sparse weights are not in the k4 layout");
        }
        long nbr = sp.blockRowCount();
        if (rb < 0 || rb > re || re > nbr) {
            throw new IllegalArgumentException("block rows [" + rb + ", " + re + ") outside [0, " + nbr + ")");
        }
        // a transposed output is written 16 rows at a time
        if (transposed && rb * sp.blockRows() % 16 != 0) {
            throw new IllegalArgumentException("block rows from " + rb + " do not start at a multiple of 16 rows");
        }
        region("activation panel", panel, poff, panelBytes(k4PanelFamily(p), WHO_ACT, p, sp.cols()));
        int osz = Requant.check(q, qoff, sp.rows());
        long width = transposed ? sp.rows() : p;
        if (ldo < width) {
            throw new IllegalArgumentException("output row stride " + ldo + " is below " + width + " columns");
        }
        long span = transposed ? span(p, ldo, sp.rows(), 1) : span(sp.rows(), ldo, p, 1);
        region("output", out, ooff, Math.multiplyExact(span, osz));
        NativeKernels.hk_sq8_k4_gemm(sp.buffer(), 0, panel, poff, p, q, qoff, out, ooff, ldo, transposed ? 1 : 0, rb, re);
    }

    /** The k4 activation panel of m activation rows of k bytes (row stride lda), zero point zx (AVX-512 VNNI). */
    static void sparseK4PackRows(ByteBuffer dst, long doff, ByteBuffer x, long xoff, boolean xu, int zx, long m,
            long k, long lda) {
        checkIsa(ISA_AVX512);
        positive("rows", m);
        positive("reduction size", k);
        if (lda < k) {
            throw new IllegalArgumentException("row stride " + lda + " is below " + k);
        }
        int code = k4PanelFamily(m);
        region("activation panel", dst, doff, panelBytes(code, WHO_ACT, m, k));
        region("activations", x, xoff, span(m, lda, k, 1));
        NativeKernels.hk_sq8_k4_pack_fc(code, dst, doff, x, xoff, xu ? 1 : 0, zx, m, k, lda);
    }

    static long sparseGemvTmpBytes(SparseWeights sp) {
        return NativeKernels.hk_sq8_k4_gemv_tmp_bytes(sp.cols(), sp.rows());
    }

    /** k4 sparse weights x one activation column x[K] (AVX-512 VNNI only); out holds R contiguous values. */
    static void sparseK4Gemv(SparseWeights sp, ByteBuffer x, long xoff, boolean xu, int zx, ByteBuffer tmp,
            long tmpoff, ByteBuffer q, long qoff, ByteBuffer out, long ooff) {
        checkIsa(ISA_AVX512);
        if (!sp.k4()) {
            throw new IllegalArgumentException("sparse weights are not in the k4 layout");
        }
        region("activations", x, xoff, sp.cols());
        region("gemv scratch", tmp, tmpoff, sparseGemvTmpBytes(sp));
        int osz = Requant.check(q, qoff, sp.rows());
        region("output", out, ooff, Math.multiplyExact((long) sp.rows(), osz));
        NativeKernels.hk_sq8_k4_gemv(sp.buffer(), 0, sp.gemvLanes(), 0, x, xoff, xu ? 1 : 0, zx, tmp, tmpoff, q, qoff,
                out, ooff);
    }

    /** The one-column kernel's lane layout of k4 weights in single-row blocks (AVX-512 VNNI only). */
    static ByteBuffer sparseGemvLanes(SparseWeights sp) {
        checkIsa(ISA_AVX512);
        if (!sp.k4() || sp.buffer().getInt(8) != 1) {
            throw new IllegalArgumentException("lane layout needs k4 weights in single-row blocks");
        }
        long bytes = NativeKernels.hk_sq8_k4_gemv_layout(sp.buffer(), 0, null, 0);
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sparse weights of " + sp.rows() + " x " + sp.cols() + " are too large");
        }
        ByteBuffer b = allocate(bytes);
        NativeKernels.hk_sq8_k4_gemv_layout(sp.buffer(), 0, b, 0);
        return b;
    }

    /** OUT[r][p] = act(bias[r] + sum W[r][k] X[k][p]) in fp32; X rows are ldx floats apart. */
    static void sparseF32Gemm(int isa, SparseWeights sp, ByteBuffer x, long xoff, long ldx, long p, ByteBuffer bias,
            long boff, int act, float lo, float hi, ByteBuffer out, long ooff, long ldo) {
        checkIsa(isa);
        if (sp.quantized()) {
            throw new IllegalArgumentException("sparse weights are 8-bit, not float");
        }
        positive("columns", p);
        if (ldx < p || ldo < p) {
            throw new IllegalArgumentException("row strides " + ldx + " / " + ldo + " are below " + p + " columns");
        }
        if (act < 0 || act > 2) {
            throw new IllegalArgumentException("bad activation " + act);
        }
        region("activations", x, xoff, Math.multiplyExact(span(sp.cols(), ldx, p, 1), 4));
        if (bias != null) {
            region("bias", bias, boff, 4L * sp.rows());
        }
        region("output", out, ooff, Math.multiplyExact(span(sp.rows(), ldo, p, 1), 4));
        NativeKernels.hk_sf32_gemm(isa, sp.buffer(), 0, x, xoff, ldx, p, bias, boff, act, lo, hi, out, ooff, ldo);
    }

    // ---- layout helpers -------------------------------------------------------------------------------

    static void transpose(int esize, ByteBuffer src, long soff, long rows, long cols, ByteBuffer dst, long doff) {
        if (esize != 1 && esize != 4) {
            throw new IllegalArgumentException("element size " + esize);
        }
        nonNegative("rows", rows);
        nonNegative("columns", cols);
        long bytes = Math.multiplyExact(Math.multiplyExact(rows, cols), esize);
        region("transpose source", src, soff, bytes);
        region("transpose target", dst, doff, bytes);
        NativeKernels.hk_transpose(esize, src, soff, rows, cols, dst, doff);
    }

    /** Plain im2col [c * kh * kw][oh * ow] of 1-byte (padding byte {@code pad}) or fp32 (padding 0) images. */
    static void im2col(int esize, ByteBuffer x, long xoff, Geom g, int pad, ByteBuffer dst, long doff) {
        if (esize != 1 && esize != 4) {
            throw new IllegalArgumentException("element size " + esize);
        }
        g.check();
        region("image", x, xoff, g.inBytes(esize));
        region("im2col", dst, doff, Math.multiplyExact(Math.multiplyExact(g.reduction(), g.outPlane()), esize));
        NativeKernels.hk_im2col(esize, x, xoff, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh,
                g.ow, esize == 4 ? 0 : pad, dst, doff);
    }
}
