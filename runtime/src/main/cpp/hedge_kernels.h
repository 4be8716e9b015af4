// Entry points bound by dev.hedge.kernels.cpu.NativeKernels (JavaCPP). Every buffer is a direct
// ByteBuffer plus a byte offset; the Java side has checked every size and offset against the buffers'
// capacities before calling, so nothing here re-validates.
#pragma once

#include "hk_direct.h"
#include "hk_pack.h"
#include "hk_qdq.h"
#include "hk_sparse.h"

#define HK_PTR(p, off) (reinterpret_cast<uint8_t*>(p) + (off))

inline int hk_isa_mask() {
    return hk::isa_mask();
}

// ---- dense 8-bit GEMM ------------------------------------------------------------------------------------

inline int hk_choose_family(int isa, signed char* w, long woff, int w_unsigned, long n_out, long K, long s_n,
        long s_k, long panel_cols) {
    if (w == nullptr && isa == hk::ISA_AVX2) {
        return hk::F_AVX2_WIDE | 2 << 8;  // weights only known per run: no range scan
    }
    return hk::choose_family(isa, w == nullptr ? nullptr : HK_PTR(w, woff), w_unsigned != 0, n_out, K, s_n, s_k,
            panel_cols);
}

inline int hk_family_isa(int code) {
    return hk::Fam::of(code).isa();
}

inline long hk_rpack_bytes(int code, int who, long rows, long K) {
    return hk::rpack_bytes(hk::Fam::of(code), who, rows, K);
}

inline long hk_ppack_bytes(int code, int who, long cols, long K) {
    return hk::ppack_bytes(hk::Fam::of(code), who, cols, K);
}

inline long hk_im2col_tmp_bytes(int code, long cols) {
    return hk::im2col_tmp_bytes(hk::Fam::of(code), cols);
}

// Generic strided packing (weights at prepare time; run-time weights of MatMulInteger / ConvInteger).
inline void hk_pack_rows(int code, int who, signed char* dst, long doff, signed char* src, long soff, int su,
        long rows, long K, long s_row, long s_k, signed char* zp, long zpoff, long zp_stride) {
    hk::pack_rows(hk::Fam::of(code), who, HK_PTR(dst, doff), HK_PTR(src, soff), su != 0, rows, K, s_row, s_k,
            reinterpret_cast<const int32_t*>(HK_PTR(zp, zpoff)), zp_stride);
}

inline void hk_pack_panel(int code, int who, signed char* dst, long doff, signed char* src, long soff, int su,
        long cols, long K, long s_col, long s_k, signed char* zp, long zpoff, long zp_stride) {
    hk::pack_panel(hk::Fam::of(code), who, HK_PTR(dst, doff), HK_PTR(src, soff), su != 0, cols, K, s_col, s_k,
            reinterpret_cast<const int32_t*>(HK_PTR(zp, zpoff)), zp_stride);
}

inline void hk_pack_act_rows(int code, signed char* dst, long doff, signed char* src, long soff, int su,
        long rows, long K, long lda, signed char* zp, long zpoff, long zp_stride) {
    hk::pack_act_rows(hk::Fam::of(code), HK_PTR(dst, doff), HK_PTR(src, soff), su != 0, rows, K, lda,
            reinterpret_cast<const int32_t*>(HK_PTR(zp, zpoff)), zp_stride);
}

inline void hk_pack_act_im2col(int code, signed char* dst, long doff, signed char* x, long xoff, int xu, long C,
        long H, long W, long KH, long KW, long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW,
        int zx, signed char* tmp, long tmpoff) {
    hk::pack_act_im2col(hk::Fam::of(code), HK_PTR(dst, doff), HK_PTR(x, xoff), xu != 0, C, H, W, KH, KW, sh, sw,
            dh, dw, pt, pl, OH, OW, zx, HK_PTR(tmp, tmpoff));
}

inline void hk_qgemm(int code, int rows_are_act, signed char* R, long roff, long rows, signed char* P, long poff,
        long cols, long K, signed char* q, long qoff, signed char* out, long ooff, long ldo) {
    hk::qgemm(hk::Fam::of(code), rows_are_act != 0, HK_PTR(R, roff), rows, HK_PTR(P, poff), cols, K,
            hk::Requant::from(reinterpret_cast<signed char*>(HK_PTR(q, qoff))), HK_PTR(out, ooff), ldo);
}

// Rows [rb, re) and column panels [jb, je) of hk_qgemm's product (bounds checked by the Java caller).
inline void hk_qgemm_tile(int code, int rows_are_act, signed char* R, long roff, long rows, signed char* P, long poff,
        long cols, long K, signed char* q, long qoff, signed char* out, long ooff, long ldo, long rb, long re, long jb,
        long je) {
    hk::qgemm(hk::Fam::of(code), rows_are_act != 0, HK_PTR(R, roff), rows, HK_PTR(P, poff), cols, K,
            hk::Requant::from(reinterpret_cast<signed char*>(HK_PTR(q, qoff))), HK_PTR(out, ooff), ldo, rb, re, jb,
            je);
}

// Columns per packed panel and rows per micro-kernel call of a kernel family code.
inline long hk_fam_nr(int code) {
    return hk::Fam::of(code).nr;
}

inline long hk_fam_mr(int code) {
    return hk::Fam::of(code).mr;
}

// ---- direct kernels -----------------------------------------------------------------------------------

inline long hk_qdw_scratch_bytes(long OH, long OW, long KH, long KW, long sh, long sw, long dh, long dw) {
    hk::Geom g{};
    g.OH = OH, g.OW = OW, g.KH = KH, g.KW = KW, g.sh = sh, g.sw = sw, g.dh = dh, g.dw = dw;
    return hk::align64(2 * hk::qdw_plane_elems(g)) + hk::align64(4 * OW);
}

inline void hk_qdw(int isa, signed char* x, long xoff, int xu, int zx, long C, long H, long W, long mult, long KH,
        long KW, long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW, signed char* w, long woff,
        signed char* q, long qoff, signed char* out, long ooff, signed char* scratch, long soff, long c0, long c1) {
    hk::Geom g{C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    uint8_t* s = HK_PTR(scratch, soff);
    int16_t* plane = reinterpret_cast<int16_t*>(s);
    int32_t* acc = reinterpret_cast<int32_t*>(s + hk::align64(2 * hk::qdw_plane_elems(g)));
    hk::qdw(isa, HK_PTR(x, xoff), xu != 0, zx, g, mult, reinterpret_cast<const int16_t*>(HK_PTR(w, woff)),
            hk::Requant::from(reinterpret_cast<signed char*>(HK_PTR(q, qoff))), HK_PTR(out, ooff), plane, acc, c0, c1);
}

inline long hk_fdw_scratch_bytes(long OH, long OW, long KH, long KW, long sh, long sw, long dh, long dw) {
    hk::Geom g{};
    g.OH = OH, g.OW = OW, g.KH = KH, g.KW = KW, g.sh = sh, g.sw = sw, g.dh = dh, g.dw = dw;
    return 4 * hk::qdw_plane_elems(g);
}

inline void hk_fdw(int isa, signed char* x, long xoff, long C, long H, long W, long mult, long KH, long KW, long sh,
        long sw, long dh, long dw, long pt, long pl, long OH, long OW, signed char* w, long woff, signed char* bias,
        long boff, int act, float lo, float hi, signed char* out, long ooff, signed char* scratch, long soff) {
    hk::Geom g{C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    hk::fdw(isa, reinterpret_cast<const float*>(HK_PTR(x, xoff)), g, mult,
            reinterpret_cast<const float*>(HK_PTR(w, woff)),
            bias == nullptr ? nullptr : reinterpret_cast<const float*>(HK_PTR(bias, boff)), act, lo, hi,
            reinterpret_cast<float*>(HK_PTR(out, ooff)), reinterpret_cast<float*>(HK_PTR(scratch, soff)));
}

inline void hk_maxpool8(int isa, int is_signed, signed char* x, long xoff, long C, long H, long W, long KH,
        long KW, long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW, signed char* out,
        long ooff) {
    hk::Geom g{C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    if (is_signed) {
        hk::maxpool(isa, reinterpret_cast<const int8_t*>(HK_PTR(x, xoff)), g,
                reinterpret_cast<int8_t*>(HK_PTR(out, ooff)));
    } else {
        hk::maxpool(isa, HK_PTR(x, xoff), g, HK_PTR(out, ooff));
    }
}

// ---- quantize / dequantize ----------------------------------------------------------------------------

inline void hk_quantize(int isa, signed char* x, long xoff, long n, float scale, int zp, float lo, float hi,
        int is_signed, signed char* out, long ooff) {
    hk::quantize(isa, reinterpret_cast<const float*>(HK_PTR(x, xoff)), n, scale, zp, lo, hi, is_signed != 0,
            HK_PTR(out, ooff));
}

inline void hk_dequantize(int isa, signed char* x, long xoff, long n, int is_signed, int zp, float scale,
        signed char* out, long ooff) {
    hk::dequantize(isa, HK_PTR(x, xoff), n, is_signed != 0, zp, scale,
            reinterpret_cast<float*>(HK_PTR(out, ooff)));
}

// ---- sparse -------------------------------------------------------------------------------------------

inline void hk_sq8_pack_x(int isa, signed char* x, long xoff, int xu, int zx, long K, long P, long s_k, long s_p,
        signed char* x2, long x2off, long Ppad, signed char* S, long soff) {
    hk::sq8_pack_x(isa, HK_PTR(x, xoff), xu != 0, zx, K, P, s_k, s_p,
            reinterpret_cast<int16_t*>(HK_PTR(x2, x2off)), Ppad,
            S == nullptr ? nullptr : reinterpret_cast<int32_t*>(HK_PTR(S, soff)));
}

inline void hk_sq8_gemm(int isa, signed char* sp, long spoff, signed char* x2, long x2off, long P, long Ppad,
        signed char* S, long soff, signed char* q, long qoff, signed char* out, long ooff, long ldo) {
    hk::sq8_gemm(isa, hk::SparseHdr::from(reinterpret_cast<signed char*>(HK_PTR(sp, spoff))),
            reinterpret_cast<const int16_t*>(HK_PTR(x2, x2off)), P, Ppad,
            S == nullptr ? nullptr : reinterpret_cast<const int32_t*>(HK_PTR(S, soff)),
            hk::Requant::from(reinterpret_cast<signed char*>(HK_PTR(q, qoff))), HK_PTR(out, ooff), ldo);
}

inline int hk_k4_panel_family(long P) {
    return hk::k4_panel_family(P);
}

inline void hk_sq8_k4_gemm(signed char* sp, long spoff, signed char* panel, long poff, long P, signed char* q,
        long qoff, signed char* out, long ooff, long ldo, int out_t, long rb, long re) {
    hk::sq8_k4_gemm(hk::SparseHdr::from(reinterpret_cast<signed char*>(HK_PTR(sp, spoff))), HK_PTR(panel, poff), P,
            hk::Requant::from(reinterpret_cast<signed char*>(HK_PTR(q, qoff))), HK_PTR(out, ooff), ldo, out_t != 0,
            rb, re);
}

inline void hk_sq8_k4_pack_fc(int code, signed char* dst, long doff, signed char* x, long xoff, int xu, int zx,
        long M, long K, long lda) {
    hk::sq8_k4_pack_fc(code, HK_PTR(dst, doff), HK_PTR(x, xoff), xu != 0, zx, M, K, lda);
}

inline long hk_sq8_k4_gemv_tmp_bytes(long K, long R) {
    return hk::gemv_tmp_bytes(K, R);
}

// The lane layout of single-row k4 weights for one activation column: its size when dst is null.
inline long hk_sq8_k4_gemv_layout(signed char* sp, long spoff, signed char* dst, long doff) {
    return hk::gemv_layout(hk::SparseHdr::from(reinterpret_cast<signed char*>(HK_PTR(sp, spoff))),
            dst == nullptr ? nullptr : HK_PTR(dst, doff));
}

inline void hk_sq8_k4_gemv(signed char* sp, long spoff, signed char* lanes, long loff, signed char* x, long xoff,
        int xu, int zx, signed char* tmp, long tmpoff, signed char* q, long qoff, signed char* out, long ooff) {
    hk::sq8_k4_gemv(hk::SparseHdr::from(reinterpret_cast<signed char*>(HK_PTR(sp, spoff))),
            lanes == nullptr ? nullptr : HK_PTR(lanes, loff), HK_PTR(x, xoff), xu != 0, zx, HK_PTR(tmp, tmpoff),
            hk::Requant::from(reinterpret_cast<signed char*>(HK_PTR(q, qoff))), HK_PTR(out, ooff));
}

inline void hk_sf32_gemm(int isa, signed char* sp, long spoff, signed char* x, long xoff, long ldx, long P,
        signed char* bias, long boff, int act, float lo, float hi, signed char* out, long ooff, long ldo) {
    hk::sf32_gemm(isa, hk::SparseHdr::from(reinterpret_cast<signed char*>(HK_PTR(sp, spoff))),
            reinterpret_cast<const float*>(HK_PTR(x, xoff)), ldx, P,
            bias == nullptr ? nullptr : reinterpret_cast<const float*>(HK_PTR(bias, boff)), act, lo, hi,
            reinterpret_cast<float*>(HK_PTR(out, ooff)), ldo);
}

// ---- layout helpers -----------------------------------------------------------------------------------

// dst[c][r] = src[r][c] in 32x32 tiles.
template <typename T>
inline void transpose_tiles(const T* s, long rows, long cols, T* d) {
    const long B = 32;
    for (long r0 = 0; r0 < rows; r0 += B) {
        for (long c0 = 0; c0 < cols; c0 += B) {
            long r1 = std::min(rows, r0 + B), c1 = std::min(cols, c0 + B);
            for (long r = r0; r < r1; r++) {
                for (long c = c0; c < c1; c++) d[c * rows + r] = s[r * cols + c];
            }
        }
    }
}

// Elements of `esize` bytes (1 or 4).
inline void hk_transpose(int esize, signed char* src, long soff, long rows, long cols, signed char* dst,
        long doff) {
    if (esize == 4) {
        transpose_tiles(reinterpret_cast<const uint32_t*>(HK_PTR(src, soff)), rows, cols,
                reinterpret_cast<uint32_t*>(HK_PTR(dst, doff)));
    } else {
        transpose_tiles(HK_PTR(src, soff), rows, cols, HK_PTR(dst, doff));
    }
}

// im2col of one NCHW image of 1-byte or 4-byte elements: dst[(c, i, j)][(oh, ow)]; outside the image the
// element is `pad` (its low esize bytes).
template <typename T>
inline void im2col_plain(const T* xs, long C, long H, long W, long KH, long KW, long sh, long sw, long dh, long dw,
        long pt, long pl, long OH, long OW, T pad, T* d) {
    long P = OH * OW;
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < KH; i++) {
            for (long j = 0; j < KW; j++) {
                T* row = d + ((c * KH + i) * KW + j) * P;
                for (long oh = 0; oh < OH; oh++) {
                    long ih = oh * sh - pt + i * dh;
                    for (long ow = 0; ow < OW; ow++) {
                        long iw = ow * sw - pl + j * dw;
                        row[oh * OW + ow] = ih < 0 || ih >= H || iw < 0 || iw >= W ? pad : xs[(c * H + ih) * W + iw];
                    }
                }
            }
        }
    }
}

inline void hk_im2col(int esize, signed char* x, long xoff, long C, long H, long W, long KH, long KW, long sh,
        long sw, long dh, long dw, long pt, long pl, long OH, long OW, int pad, signed char* dst, long doff) {
    if (esize == 4) {
        float p;
        std::memcpy(&p, &pad, 4);
        im2col_plain(reinterpret_cast<const float*>(HK_PTR(x, xoff)), C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW,
                p, reinterpret_cast<float*>(HK_PTR(dst, doff)));
    } else {
        im2col_plain(HK_PTR(x, xoff), C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, (uint8_t) pad,
                HK_PTR(dst, doff));
    }
}
