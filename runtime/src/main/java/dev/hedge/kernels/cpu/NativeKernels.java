package dev.hedge.kernels.cpu;

import java.nio.ByteBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI binding of the C++ kernels in {@code src/main/cpp} (built by the javacpp Maven plugin). Raw and
 * unchecked: every buffer must be direct and every offset and size must already have been validated against
 * the buffers' capacities; {@link Native} does that and is the only caller. Buffers are ByteBuffers plus byte
 * offsets so that a call allocates nothing.
 */
@Platform(include = {"hedge_kernels.h", "hk_fpool.h", "hk_fconv.h", "hk_fdwc.h", "hk_qdwf.h", "hk_lstm.h", "hk_feltwise.h", "hk_qelt.h"}, compiler = "cpp17")
final class NativeKernels {

    static {
        Loader.load();
    }

    private NativeKernels() {
    }

    static native int hk_isa_mask();

    static native int hk_choose_family(int isa, ByteBuffer w, long woff, int wUnsigned, long nOut, long k, long sN,
            long sK, long panelCols);

    static native int hk_family_isa(int code);

    static native long hk_rpack_bytes(int code, int who, long rows, long k);

    static native long hk_ppack_bytes(int code, int who, long cols, long k);

    static native long hk_im2col_tmp_bytes(int code, long cols);

    static native void hk_pack_rows(int code, int who, ByteBuffer dst, long doff, ByteBuffer src, long soff, int su,
            long rows, long k, long sRow, long sK, ByteBuffer zp, long zpoff, long zpStride);

    static native void hk_pack_panel(int code, int who, ByteBuffer dst, long doff, ByteBuffer src, long soff, int su,
            long cols, long k, long sCol, long sK, ByteBuffer zp, long zpoff, long zpStride);

    static native void hk_pack_act_rows(int code, ByteBuffer dst, long doff, ByteBuffer src, long soff, int su,
            long rows, long k, long lda, ByteBuffer zp, long zpoff, long zpStride);

    static native void hk_pack_act_im2col(int code, ByteBuffer dst, long doff, ByteBuffer x, long xoff, int xu,
            long c, long h, long w, long kh, long kw, long sh, long sw, long dh, long dw, long pt, long pl, long oh,
            long ow, int zx, ByteBuffer tmp, long tmpoff);

    static native void hk_qgemm(int code, int rowsAreAct, ByteBuffer r, long roff, long rows, ByteBuffer p,
            long poff, long cols, long k, ByteBuffer q, long qoff, ByteBuffer out, long ooff, long ldo);

    static native void hk_qgemm_tile(int code, int rowsAreAct, ByteBuffer r, long roff, long rows, ByteBuffer p,
            long poff, long cols, long k, ByteBuffer q, long qoff, ByteBuffer out, long ooff, long ldo, long rb, long re,
            long jb, long je);

    static native long hk_fam_nr(int code);

    static native long hk_fam_mr(int code);

    static native long hk_qdw_scratch_bytes(long oh, long ow, long kh, long kw, long sh, long sw, long dh, long dw);

    static native void hk_qdw(int isa, ByteBuffer x, long xoff, int xu, int zx, long c, long h, long w, long mult,
            long kh, long kw, long sh, long sw, long dh, long dw, long pt, long pl, long oh, long ow, ByteBuffer wt,
            long woff, ByteBuffer q, long qoff, ByteBuffer out, long ooff, ByteBuffer scratch, long soff, long c0,
            long c1);

    static native void hk_lstm_q8(ByteBuffer x, long xoff, long seq, long batch, long in, long hidden, long xs,
            ByteBuffer wt, long wtoff, ByteBuffer ws, long wsoff, ByteBuffer rt, long rtoff, ByteBuffer rs, long rsoff,
            ByteBuffer bias, long boff, ByteBuffer h, long hoff, ByteBuffer c, long coff, ByteBuffer y, long yoff,
            long ys, int reverse, ByteBuffer scratch, long soff);

    static native long hk_qdwf_scratch_bytes(long oh, long ow, long kh, long kw, long sh, long sw, long dh, long dw);

    static native void hk_qdwf(ByteBuffer x, long xoff, int xu, int zx, long c, long h, long w, long kh, long kw,
            long sh, long sw, long dh, long dw, long pt, long pl, long oh, long ow, ByteBuffer wt, long woff,
            ByteBuffer q, long qoff, ByteBuffer out, long ooff, ByteBuffer scratch, long soff, long c0, long c1);

    static native long hk_fdw_scratch_bytes(long oh, long ow, long kh, long kw, long sh, long sw, long dh, long dw);

    static native void hk_fdw(int isa, ByteBuffer x, long xoff, long c, long h, long w, long mult, long kh, long kw,
            long sh, long sw, long dh, long dw, long pt, long pl, long oh, long ow, ByteBuffer wt, long woff,
            ByteBuffer bias, long boff, int act, float lo, float hi, ByteBuffer out, long ooff, ByteBuffer scratch,
            long soff);

    static native void hk_maxpool8(int isa, int isSigned, ByteBuffer x, long xoff, long c, long h, long w, long kh,
            long kw, long sh, long sw, long dh, long dw, long pt, long pl, long oh, long ow, ByteBuffer out,
            long ooff);

    static native void hk_quantize(int isa, ByteBuffer x, long xoff, long n, float scale, int zp, float lo, float hi,
            int isSigned, ByteBuffer out, long ooff);

    static native void hk_dequantize(int isa, ByteBuffer x, long xoff, long n, int isSigned, int zp, float scale,
            ByteBuffer out, long ooff);

    static native void hk_fpool(int isa, int kind, ByteBuffer x, long xoff, long planes, long h, long w, long kh,
            long kw, long sh, long sw, long dh, long dw, long pt, long pl, long pb, long pr, long oh, long ow,
            ByteBuffer out, long ooff);

    static native void hk_fgpool(int isa, int isMax, ByteBuffer x, long xoff, long planes, long size, ByteBuffer out,
            long ooff);

    static native void hk_fadd(int isa, ByteBuffer a, long aoff, ByteBuffer b, long boff, ByteBuffer out, long ooff,
            long n);

    static native void hk_qelt(int isa, int isMul, int isSigned, ByteBuffer a, long aoff, ByteBuffer b, long boff,
            int bfull, long mid, long inner, ByteBuffer out, long ooff, long i0, long n, int ma, int mb, int shift,
            int za, int zb, int zc, int lo, int hi);

    static native void hk_qgavg(int isa, int isSigned, ByteBuffer x, long xoff, long planes, long size, long mult,
            int shift, int zx, int zy, int lo, int hi, ByteBuffer out, long ooff);

    static native void hk_qavgpool(int isSigned, ByteBuffer x, long xoff, long planes, long h, long w, long kh, long kw,
            long sh, long sw, long dh, long dw, long pt, long pl, long pb, long pr, long oh, long ow, int countPad,
            ByteBuffer table, long toff, int zx, int zy, int lo, int hi, ByteBuffer out, long ooff);

    static native long hk_fdws_scratch_bytes(long oh, long ow, long kh, long kw, long sh, long dh, long dw);

    static native void hk_fdws(ByteBuffer x, long xoff, long c, long h, long w, long kh, long kw, long sh, long dh,
            long dw, long pt, long pl, long oh, long ow, ByteBuffer wt, long woff, ByteBuffer bias, long boff, int act,
            float lo, float hi, ByteBuffer out, long ooff, ByteBuffer scratch, long soff);

    static native long hk_fdwf_scratch_bytes(long oh, long ow, long kh, long kw, long dh, long dw);

    static native void hk_fdwf(ByteBuffer x, long xoff, long c, long h, long w, long kh, long kw, long dh, long dw,
            long pt, long pl, long oh, long ow, ByteBuffer wt, long woff, ByteBuffer bias, long boff, int act, float lo,
            float hi, ByteBuffer out, long ooff, ByteBuffer scratch, long soff);

    static native long hk_fdwc_scratch_bytes(long oh, long ow, long kh, long kw, long sh, long sw, long dh, long dw);

    static native void hk_fdwc(ByteBuffer x, long xoff, long c, long h, long w, long kh, long kw, long sh, long sw,
            long dh, long dw, long pt, long pl, long oh, long ow, ByteBuffer wt, long woff, ByteBuffer bias, long boff,
            int act, float lo, float hi, ByteBuffer out, long ooff, ByteBuffer scratch, long soff);

    static native long hk_fconv_packed_floats(int transposed, long m, long k);

    static native long hk_fconv_scratch_floats(int isa, int transposed, long c, long h, long w, long kh, long kw,
            long sh, long sw, long dh, long dw, long pt, long pl, long oh, long ow, long chunk);

    static native void hk_fconv_pack(int transposed, ByteBuffer w, long woff, long m, long k, ByteBuffer dst,
            long doff);

    static native void hk_fconv(int isa, int transposed, ByteBuffer x, long xoff, long c, long h, long w, long kh, long kw, long sh,
            long sw, long dh, long dw, long pt, long pl, long oh, long ow, long m, ByteBuffer wt, long woff,
            ByteBuffer bias, long boff, int act, float lo, float hi, ByteBuffer out, long ooff, long p0, long p1,
            ByteBuffer col, long coff, long chunk);

    static native void hk_sq8_pack_x(int isa, ByteBuffer x, long xoff, int xu, int zx, long k, long p, long sK,
            long sP, ByteBuffer x2, long x2off, long ppad, ByteBuffer s, long soff);

    static native void hk_sq8_gemm(int isa, ByteBuffer sp, long spoff, ByteBuffer x2, long x2off, long p, long ppad,
            ByteBuffer s, long soff, ByteBuffer q, long qoff, ByteBuffer out, long ooff, long ldo);

    static native int hk_k4_panel_family(long p);

    static native void hk_sq8_k4_gemm(ByteBuffer sp, long spoff, ByteBuffer panel, long poff, long p, ByteBuffer q,
            long qoff, ByteBuffer out, long ooff, long ldo, int outT, long rb, long re);

    static native void hk_sq8_k4_pack_fc(int code, ByteBuffer dst, long doff, ByteBuffer x, long xoff, int xu, int zx,
            long m, long k, long lda);

    static native long hk_sq8_k4_gemv_tmp_bytes(long k, long r);

    static native long hk_sq8_k4_gemv_layout(ByteBuffer sp, long spoff, ByteBuffer dst, long doff);

    static native void hk_sq8_k4_gemv(ByteBuffer sp, long spoff, ByteBuffer lanes, long loff, ByteBuffer x, long xoff,
            int xu, int zx, ByteBuffer tmp, long tmpoff, ByteBuffer q, long qoff, ByteBuffer out, long ooff);

    static native void hk_sf32_gemm(int isa, ByteBuffer sp, long spoff, ByteBuffer x, long xoff, long ldx, long p,
            ByteBuffer bias, long boff, int act, float lo, float hi, ByteBuffer out, long ooff, long ldo);

    static native void hk_transpose(int esize, ByteBuffer src, long soff, long rows, long cols, ByteBuffer dst,
            long doff);

    static native void hk_im2col(int esize, ByteBuffer x, long xoff, long c, long h, long w, long kh, long kw,
            long sh, long sw, long dh, long dw, long pt, long pl, long oh, long ow, int pad, ByteBuffer dst, long doff);
}
