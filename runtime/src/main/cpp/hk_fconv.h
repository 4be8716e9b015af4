// Float32 convolution of NCHW images as OUT[M][pixels] = W[M][K] * B[K][pixels] (+ bias, activation), one
// group at a time. Weights are packed once at prepare into strips of FC_MR rows ([strip][k][FC_MR], rows past M
// zero), or for the transposed tile into panels of FT_NC channels. B is the image itself for 1x1 stride-1
// unpadded convolutions; shifted views of a zero-padded copy of the image for other stride-1 convolutions on
// AVX-512 (no im2col); otherwise the im2col of a chunk of output pixels in the caller's scratch. FC_MR x FC_NR
// tiles run over the whole K and apply bias and Relu / Clip in registers before the one store of each output.
#pragma once

#include "hk_direct.h"

namespace hk {

constexpr long FC_MR = 8;
constexpr long FC_NR = 32;
constexpr long FC_FEW_STRIPS = 8;
constexpr long FC_PREFETCH = 256;  // k steps ahead (8 KiB of weights; measured best on cold weights)

// Small images (few pixels, many channels) use the transposed tile: FT_MP pixels broadcast x FT_NC output
// channels in vectors, so that no vector lane idles on a pixel count like 7 x 7 = 49; the weights are then
// packed in panels of FT_NC channels ([panel][k][FT_NC]) and outputs leave by scatter (a few per k-loop).
constexpr long FT_MP = 12;
constexpr long FT_NC = 32;

HK_INLINE long fconv_strips(long M) {
    return (M + FC_MR - 1) / FC_MR;
}

HK_INLINE long fconv_panels(long M) {
    return (M + FT_NC - 1) / FT_NC;
}

inline void fconv_pack_weights_t(const float* w, long M, long K, float* dst) {
    for (long p = 0; p < fconv_panels(M); p++) {
        float* d = dst + p * K * FT_NC;
        for (long k = 0; k < K; k++) {
            for (long j = 0; j < FT_NC; j++) {
                long m = p * FT_NC + j;
                d[k * FT_NC + j] = m < M ? w[m * K + k] : 0.f;
            }
        }
    }
}

// Packs W [M][K] (row-major, as ONNX stores one group's weights) into strips.
inline void fconv_pack_weights(const float* w, long M, long K, float* dst) {
    for (long s = 0; s < fconv_strips(M); s++) {
        float* d = dst + s * K * FC_MR;
        for (long k = 0; k < K; k++) {
            for (long r = 0; r < FC_MR; r++) {
                long m = s * FC_MR + r;
                d[k * FC_MR + r] = m < M ? w[m * K + k] : 0.f;
            }
        }
    }
}

// COL[k][q] = x[c][ih][iw] for pixels p0 + q, q in [0, n); 0 outside the image. ld >= n.
template <int SW>
HK_INLINE void fconv_im2col(const float* x, const Geom& g, long p0, long n, float* d, long ld) {
    const long sw = SW > 0 ? SW : g.sw;
    long k = 0;
    for (long c = 0; c < g.C; c++) {
        for (long i = 0; i < g.KH; i++) {
            for (long j = 0; j < g.KW; j++, k++) {
                float* row = d + k * ld;
                const long off = j * g.dw - g.pl;
                // output columns reading inside the image: [lo, hi)
                const long lo = off >= 0 ? 0 : std::min(g.OW, (-off + sw - 1) / sw);
                const long hi = g.W - off <= 0 ? 0 : std::max(lo, std::min(g.OW, (g.W - off + sw - 1) / sw));
                long q = 0, p = p0;
                while (q < n) {
                    long oh = p / g.OW, ow = p - oh * g.OW;
                    long len = std::min(n - q, g.OW - ow);
                    long ih = oh * g.sh - g.pt + i * g.dh;
                    float* dr = row + q;  // dr[t - ow] for output column t in [ow, ow + len)
                    long e = ow + len;
                    if (ih < 0 || ih >= g.H) {
                        for (long t = 0; t < len; t++) dr[t] = 0.f;
                    } else {
                        const float* src = x + (c * g.H + ih) * g.W;
                        long a = std::min(std::max(ow, lo), e), b = std::max(a, std::min(hi, e));
                        for (long t = ow; t < a; t++) dr[t - ow] = 0.f;
                        for (long t = a; t < b; t++) dr[t - ow] = src[t * sw + off];
                        for (long t = b; t < e; t++) dr[t - ow] = 0.f;
                    }
                    q += len;
                    p += len;
                }
            }
        }
    }
}

HK_INLINE void fconv_im2col_any(const float* x, const Geom& g, long p0, long n, float* d, long ld) {
    if (g.sw == 1) {
        fconv_im2col<1>(x, g, p0, n, d, ld);
    } else if (g.sw == 2) {
        fconv_im2col<2>(x, g, p0, n, d, ld);
    } else {
        fconv_im2col<0>(x, g, p0, n, d, ld);
    }
}

HK_INLINE float fconv_act(float v, int act, float lo, float hi) {
    if (act == 1) return v > 0.f ? v : 0.f;  // NaN gives 0, as the Java Relu
    if (act == 2) return std::min(std::max(v, lo), hi);
    return v;
}

// Portable tile: rows [0, rows) x columns [0, cols) of C, B[k][q] at b + k * ldb.
HK_INLINE void fconv_tile_plain(const float* a, const float* b, long ldb, long K, long rows, long cols,
        const float* bias, int act, float lo, float hi, float* c, long ldc) {
    float acc[FC_MR][FC_NR];
    for (long r = 0; r < FC_MR; r++) {
        for (long q = 0; q < FC_NR; q++) acc[r][q] = 0.f;
    }
    if (cols == FC_NR) {
        for (long k = 0; k < K; k++) {
            const float* bk = b + k * ldb;
            for (long r = 0; r < FC_MR; r++) {
                float av = a[k * FC_MR + r];
                for (long q = 0; q < FC_NR; q++) acc[r][q] += av * bk[q];
            }
        }
    } else {
        for (long k = 0; k < K; k++) {
            const float* bk = b + k * ldb;
            for (long r = 0; r < FC_MR; r++) {
                float av = a[k * FC_MR + r];
                for (long q = 0; q < cols; q++) acc[r][q] += av * bk[q];
            }
        }
    }
    for (long r = 0; r < rows; r++) {
        float bv = bias[r];
        for (long q = 0; q < cols; q++) c[r * ldc + q] = fconv_act(acc[r][q] + bv, act, lo, hi);
    }
}

#if defined(HK_X86)
// 8 x 32 tile: 16 accumulators, two B vectors per k, A broadcast from the packed strip.
// Output runs of one 32-pixel strip in the implicit (padded-width) pixel space: lanes [l0, l0 + len) are the
// output pixels from dst on.
struct FcSeg {
    long l0, len, dst;
};

// IMPLICIT: B row k starts at b + koff[k] (shifted views of the padded image), and the results leave by the
// strip's runs `seg` (junk columns of the padded width are not stored); c is then the strip of channels' first
// output row. Otherwise B row k is b + k * ldb and c the tile's first output.
// HALF: at most 16 columns, one B vector per k (half the multiply-adds of a masked 32-column tile).
template <bool IMPLICIT, bool HALF = false>
HK_T_AVX512 inline void fconv_tile_avx512(const float* a, const float* b, long ldb, long K, long rows, long cols,
        const float* bias, int act, float lo, float hi, float* c, long ldc, const int* koff = nullptr,
        const FcSeg* seg = nullptr, int nseg = 0) {
    const __mmask16 m0 = cols >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? (__mmask16) 0xFFFF : cols <= 16 ? 0 : (__mmask16) ((1u << (cols - 16)) - 1);
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
#define HK_FC_STEP(B0, B1, AP)                                          \
    {                                                                   \
        __m512 av;                                                      \
        av = _mm512_set1_ps((AP)[0]); c00 = _mm512_fmadd_ps(av, B0, c00); if (!HALF) c01 = _mm512_fmadd_ps(av, B1, c01); \
        av = _mm512_set1_ps((AP)[1]); c10 = _mm512_fmadd_ps(av, B0, c10); if (!HALF) c11 = _mm512_fmadd_ps(av, B1, c11); \
        av = _mm512_set1_ps((AP)[2]); c20 = _mm512_fmadd_ps(av, B0, c20); if (!HALF) c21 = _mm512_fmadd_ps(av, B1, c21); \
        av = _mm512_set1_ps((AP)[3]); c30 = _mm512_fmadd_ps(av, B0, c30); if (!HALF) c31 = _mm512_fmadd_ps(av, B1, c31); \
        av = _mm512_set1_ps((AP)[4]); c40 = _mm512_fmadd_ps(av, B0, c40); if (!HALF) c41 = _mm512_fmadd_ps(av, B1, c41); \
        av = _mm512_set1_ps((AP)[5]); c50 = _mm512_fmadd_ps(av, B0, c50); if (!HALF) c51 = _mm512_fmadd_ps(av, B1, c51); \
        av = _mm512_set1_ps((AP)[6]); c60 = _mm512_fmadd_ps(av, B0, c60); if (!HALF) c61 = _mm512_fmadd_ps(av, B1, c61); \
        av = _mm512_set1_ps((AP)[7]); c70 = _mm512_fmadd_ps(av, B0, c70); if (!HALF) c71 = _mm512_fmadd_ps(av, B1, c71); \
    }
    if (HALF) {
        for (long k = 0; k < K; k++) {
            const float* bk = IMPLICIT ? b + koff[k] : b + k * ldb;
            __m512 b0 = _mm512_maskz_loadu_ps(m0, bk);
            HK_FC_STEP(b0, b0, a + k * FC_MR)
        }
    } else if (cols == FC_NR) {
        long k = 0;
        for (; k + 2 <= K; k += 2) {
            const float* bk = IMPLICIT ? b + koff[k] : b + k * ldb;
            const float* bk1 = IMPLICIT ? b + koff[k + 1] : bk + ldb;
            // weights stream from memory once per image when they outgrow the caches: ask ahead
            _mm_prefetch(reinterpret_cast<const char*>(a + (k + FC_PREFETCH) * FC_MR), _MM_HINT_T0);
            __m512 b0 = _mm512_loadu_ps(bk), b1 = _mm512_loadu_ps(bk + 16);
            __m512 b2 = _mm512_loadu_ps(bk1), b3 = _mm512_loadu_ps(bk1 + 16);
            HK_FC_STEP(b0, b1, a + k * FC_MR)
            HK_FC_STEP(b2, b3, a + (k + 1) * FC_MR)
        }
        for (; k < K; k++) {
            const float* bk = IMPLICIT ? b + koff[k] : b + k * ldb;
            __m512 b0 = _mm512_loadu_ps(bk), b1 = _mm512_loadu_ps(bk + 16);
            HK_FC_STEP(b0, b1, a + k * FC_MR)
        }
    } else {
        for (long k = 0; k < K; k++) {
            const float* bk = IMPLICIT ? b + koff[k] : b + k * ldb;
            __m512 b0 = _mm512_maskz_loadu_ps(m0, bk), b1 = _mm512_maskz_loadu_ps(m1, bk + 16);
            HK_FC_STEP(b0, b1, a + k * FC_MR)
        }
    }
#undef HK_FC_STEP
    __m512 acc[FC_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}, {c60, c61},
            {c70, c71}};
    const __m512 zero = _mm512_setzero_ps(), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (long r = 0; r < rows; r++) {
        __m512 bv = _mm512_set1_ps(bias[r]);
        for (int h = 0; h < (HALF ? 1 : 2); h++) {
            __m512 v = _mm512_add_ps(acc[r][h], bv);
            if (act == 1) {
                v = _mm512_max_ps(v, zero);  // v > 0 ? v : 0, NaN gives 0
            } else if (act == 2) {
                v = _mm512_min_ps(vhi, _mm512_max_ps(vlo, v));  // NaN stays NaN
            }
            if (!IMPLICIT) {
                _mm512_mask_storeu_ps(c + r * ldc + 16 * h, h == 0 ? m0 : m1, v);
                continue;
            }
            for (int i = 0; i < nseg; i++) {
                const long l0 = std::max(seg[i].l0, 16L * h), l1 = std::min(seg[i].l0 + seg[i].len, 16L * h + 16);
                if (l1 <= l0) continue;
                const __mmask16 m = (__mmask16) (((1u << (l1 - l0)) - 1) << (l0 - 16 * h));
                // lane l of this half goes to dst + (16 h + l - l0): masked-off lanes are never touched
                _mm512_mask_storeu_ps(c + r * ldc + seg[i].dst - seg[i].l0 + 16 * h, m, v);
            }
        }
    }
}

// MP pixels (npx valid, MP <= FT_MP; the rest repeat the last one and are not stored) x FT_NC channels (nch
// valid) of OUT, b[k * ldb + r] the pixels' im2col values, a the panel's packed weights [k][FT_NC];
// c = OUT + ch0 * P + px0. MP below FT_MP serves images of a few pixels, whose 12-pixel tile would idle.
template <int MP, bool FULL>
HK_T_AVX512 inline void fconv_tile_t_avx512(const float* a, const float* b, long ldb, long K, long npx, long nch,
        const float* bias, int act, float lo, float hi, float* c, long P) {
    static_assert(MP >= 1 && MP <= FT_MP, "pixels per transposed tile");
    long o[FT_MP];
    for (long r = 0; r < FT_MP; r++) o[r] = FULL ? r : std::min(r, npx - 1);
    __m512 x0 = _mm512_setzero_ps(), x1 = _mm512_setzero_ps(), x2 = _mm512_setzero_ps(), x3 = _mm512_setzero_ps();
    __m512 x4 = _mm512_setzero_ps(), x5 = _mm512_setzero_ps(), x6 = _mm512_setzero_ps(), x7 = _mm512_setzero_ps();
    __m512 x8 = _mm512_setzero_ps(), x9 = _mm512_setzero_ps(), x10 = _mm512_setzero_ps(), x11 = _mm512_setzero_ps();
    __m512 y0 = _mm512_setzero_ps(), y1 = _mm512_setzero_ps(), y2 = _mm512_setzero_ps(), y3 = _mm512_setzero_ps();
    __m512 y4 = _mm512_setzero_ps(), y5 = _mm512_setzero_ps(), y6 = _mm512_setzero_ps(), y7 = _mm512_setzero_ps();
    __m512 y8 = _mm512_setzero_ps(), y9 = _mm512_setzero_ps(), y10 = _mm512_setzero_ps(), y11 = _mm512_setzero_ps();
    for (long k = 0; k < K; k++) {
        _mm_prefetch(reinterpret_cast<const char*>(a + (k + FC_PREFETCH / 4) * FT_NC), _MM_HINT_T0);
        const __m512 w0 = _mm512_loadu_ps(a + k * FT_NC), w1 = _mm512_loadu_ps(a + k * FT_NC + 16);
        const float* bk = b + k * ldb;
        __m512 v;
#define HK_FT(R) if (MP > R) { v = _mm512_set1_ps(bk[FULL ? R : o[R]]); x##R = _mm512_fmadd_ps(v, w0, x##R); y##R = _mm512_fmadd_ps(v, w1, y##R); }
        HK_FT(0) HK_FT(1) HK_FT(2) HK_FT(3) HK_FT(4) HK_FT(5) HK_FT(6) HK_FT(7) HK_FT(8) HK_FT(9) HK_FT(10) HK_FT(11)
#undef HK_FT
    }
    __m512 acc[FT_MP][2] = {{x0, y0}, {x1, y1}, {x2, y2}, {x3, y3}, {x4, y4}, {x5, y5}, {x6, y6}, {x7, y7}, {x8, y8},
            {x9, y9}, {x10, y10}, {x11, y11}};
    const __mmask16 m0 = nch >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << nch) - 1);
    const __mmask16 m1 = nch >= 32 ? (__mmask16) 0xFFFF : nch <= 16 ? 0 : (__mmask16) ((1u << (nch - 16)) - 1);
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, bias), b1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32((int) P));
    const __m512 zero = _mm512_setzero_ps(), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (long r = 0; r < npx; r++) {
        for (int h = 0; h < 2; h++) {
            __m512 v = _mm512_add_ps(acc[r][h], h == 0 ? b0 : b1);
            if (act == 1) {
                v = _mm512_max_ps(v, zero);
            } else if (act == 2) {
                v = _mm512_min_ps(vhi, _mm512_max_ps(vlo, v));
            }
            _mm512_mask_i32scatter_ps(c + 16 * h * P + r, h == 0 ? m0 : m1, idx, v, 4);
        }
    }
}

// One transposed tile of npx (1..FT_MP) pixels, with the fewest pixel accumulators that hold them.
HK_T_AVX512 inline void fconv_tile_t_any_avx512(const float* a, const float* b, long ldb, long K, long npx,
        long nch, const float* bias, int act, float lo, float hi, float* c, long P) {
    if (npx == FT_MP) {
        fconv_tile_t_avx512<FT_MP, true>(a, b, ldb, K, npx, nch, bias, act, lo, hi, c, P);
    } else if (npx <= 2) {
        fconv_tile_t_avx512<2, false>(a, b, ldb, K, npx, nch, bias, act, lo, hi, c, P);
    } else if (npx <= 4) {
        fconv_tile_t_avx512<4, false>(a, b, ldb, K, npx, nch, bias, act, lo, hi, c, P);
    } else if (npx <= 8) {
        fconv_tile_t_avx512<8, false>(a, b, ldb, K, npx, nch, bias, act, lo, hi, c, P);
    } else {
        fconv_tile_t_avx512<FT_MP, false>(a, b, ldb, K, npx, nch, bias, act, lo, hi, c, P);
    }
}
#endif

// Stride-1 convolutions on AVX-512 skip im2col: the image is copied once into a zero-padded plane of width Wp,
// where the taps of output (oh, ow) are the padded pixels oh * Wp + ow shifted by a fixed offset per k; outputs
// are computed over the padded width and its Wp - OW junk columns are never stored. Measured faster than im2col
// at every width (im2col of narrow images is all per-row overhead), and than the transposed tile at 7 x 7.
HK_INLINE bool fconv_implicit(int isa, const Geom& g, bool transposed) {
    const bool pointwise = g.KH == 1 && g.KW == 1 && g.pt == 0 && g.pl == 0 && g.OH == g.H && g.OW == g.W;
    return isa == ISA_AVX512 && !transposed && !pointwise && g.sh == 1 && g.sw == 1;
}

HK_INLINE long fconv_scratch_floats(int isa, const Geom& g, bool transposed, long chunk) {
    const long K = g.C * g.KH * g.KW;
    if (fconv_implicit(isa, g, transposed)) {
        const long Hp = g.OH + (g.KH - 1) * g.dh, Wp = g.OW + (g.KW - 1) * g.dw;
        return g.C * Hp * Wp + K + 16;  // padded image, then K int32 offsets
    }
    return K * chunk;
}

#if defined(HK_X86)
HK_T_AVX512 inline void fconv_implicit_avx512(const float* x, const Geom& g, long M, const float* w,
        const float* bias, int act, float lo, float hi, float* out, long p0, long p1, float* scratch) {
    const long K = g.C * g.KH * g.KW, P = g.OH * g.OW;
    const long Hp = g.OH + (g.KH - 1) * g.dh, Wp = g.OW + (g.KW - 1) * g.dw;
    float* xp = scratch;
    int* koff = reinterpret_cast<int*>(scratch + g.C * Hp * Wp);
    for (long c = 0; c < g.C; c++) {
        for (long y = 0; y < Hp; y++) {
            float* d = xp + (c * Hp + y) * Wp;
            const long iy = y - g.pt;
            long a = std::min(g.pl, Wp), e = a;
            if (iy >= 0 && iy < g.H) {
                e = std::min(Wp, g.pl + g.W);
                const float* src = x + (c * g.H + iy) * g.W - g.pl;
                for (long t = a; t < e; t++) d[t] = src[t];
            }
            for (long t = 0; t < a; t++) d[t] = 0.f;
            for (long t = e; t < Wp; t++) d[t] = 0.f;
        }
    }
    long k = 0;
    for (long c = 0; c < g.C; c++) {
        for (long i = 0; i < g.KH; i++) {
            for (long j = 0; j < g.KW; j++) koff[k++] = (int) (c * Hp * Wp + i * g.dh * Wp + j * g.dw);
        }
    }
    const long pp0 = (p0 / g.OW) * Wp + p0 % g.OW, pp1 = ((p1 - 1) / g.OW) * Wp + (p1 - 1) % g.OW + 1;
    const long nq = (pp1 - pp0 + FC_NR - 1) / FC_NR, strips = fconv_strips(M);
    const bool weights_once = nq <= FC_FEW_STRIPS;
    FcSeg seg[FC_NR + 1];
    for (long it = 0; it < nq * strips; it++) {
        const long qi = weights_once ? it % nq : it / strips;
        const long s = weights_once ? it / nq : it % strips;
        const long q = pp0 + qi * FC_NR;
        const long cols = std::min(FC_NR, pp1 - q);
        int ns = 0;
        for (long l = 0; l < cols;) {
            const long pp = q + l, oh = pp / Wp, ow = pp - oh * Wp;
            if (ow >= g.OW) {
                l += Wp - ow;
                continue;
            }
            const long len = std::min(cols - l, g.OW - ow);
            seg[ns++] = FcSeg{l, len, oh * g.OW + ow};
            l += len;
        }
        const long rows = std::min(FC_MR, M - s * FC_MR);
        if (cols <= 16) {
            fconv_tile_avx512<true, true>(w + s * K * FC_MR, xp + q, 0, K, rows, cols, bias + s * FC_MR, act, lo, hi,
                    out + s * FC_MR * P, P, koff, seg, ns);
        } else {
            fconv_tile_avx512<true>(w + s * K * FC_MR, xp + q, 0, K, rows, cols, bias + s * FC_MR, act, lo, hi,
                    out + s * FC_MR * P, P, koff, seg, ns);
        }
    }
}
#endif

// Output pixels [p0, p1) of one image and group: x the group's input channels, w its packed strips,
// bias M floats, out the group's first output row (row stride = OH * OW). col: K * chunk floats of scratch,
// chunk a multiple of FC_NR (unused when the convolution is pointwise).
HK_INLINE void fconv_body(int isa, const float* x, const Geom& g, long M, const float* w, const float* bias, int act,
        float lo, float hi, float* out, long p0, long p1, float* col, long chunk, bool transposed) {
    (void) isa, (void) transposed;  // only the x86 paths read them
    const long K = g.C * g.KH * g.KW;
    const long P = g.OH * g.OW;
    const bool pointwise = g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0
            && g.OH == g.H && g.OW == g.W;
    const long strips = fconv_strips(M);
#if defined(HK_X86)
    if (fconv_implicit(isa, g, transposed)) {
        fconv_implicit_avx512(x, g, M, w, bias, act, lo, hi, out, p0, p1, col);
        return;
    }
#endif
    for (long c0 = p0; c0 < p1; c0 += chunk) {
        long n = std::min(chunk, p1 - c0);
        const float* b;
        long ldb;
        if (pointwise) {
            b = x + c0;
            ldb = P;
        } else {
            fconv_im2col_any(x, g, c0, n, col, chunk);
            b = col;
            ldb = chunk;
        }
#if defined(HK_X86)
        if (transposed) {  // AVX-512 only (the Java side asks for it only then)
            for (long pn = 0; pn < fconv_panels(M); pn++) {
                const long nch = std::min(FT_NC, M - pn * FT_NC);
                const float* a = w + pn * K * FT_NC;
                for (long q = 0; q < n; q += FT_MP) {
                    const long npx = std::min(FT_MP, n - q);
                    float* c = out + pn * FT_NC * P + c0 + q;
                    fconv_tile_t_any_avx512(a, b + q, ldb, K, npx, nch, bias + pn * FT_NC, act, lo, hi, c, P);
                }
            }
            continue;
        }
#endif
        // Few pixel strips (small images, large weights): each strip of weights is read once, for all of them.
        // Otherwise a strip of pixels stays in cache while every strip of weights passes.
        const long nq = (n + FC_NR - 1) / FC_NR;
        const bool weights_once = nq <= FC_FEW_STRIPS;
        for (long i = 0; i < nq * strips; i++) {
            const long qi = weights_once ? i % nq : i / strips;
            const long s = weights_once ? i / nq : i % strips;
            const long q = qi * FC_NR;
            const long cols = std::min(FC_NR, n - q);
            const long rows = std::min(FC_MR, M - s * FC_MR);
            const float* a = w + s * K * FC_MR;
            float* c = out + s * FC_MR * P + c0 + q;
#if defined(HK_X86)
            if (isa == ISA_AVX512) {
                if (cols <= 16) {
                    fconv_tile_avx512<false, true>(a, b + q, ldb, K, rows, cols, bias + s * FC_MR, act, lo, hi, c, P);
                } else {
                    fconv_tile_avx512<false>(a, b + q, ldb, K, rows, cols, bias + s * FC_MR, act, lo, hi, c, P);
                }
                continue;
            }
#endif
            fconv_tile_plain(a, b + q, ldb, K, rows, cols, bias + s * FC_MR, act, lo, hi, c, P);
        }
    }
}

#if defined(HK_X86)
HK_T_AVX512 inline void fconv_avx512(const float* x, const Geom& g, long M, const float* w, const float* bias,
        int act, float lo, float hi, float* out, long p0, long p1, float* col, long chunk, bool transposed) {
    fconv_body(ISA_AVX512, x, g, M, w, bias, act, lo, hi, out, p0, p1, col, chunk, transposed);
}
HK_T_AVX2 inline void fconv_avx2(const float* x, const Geom& g, long M, const float* w, const float* bias, int act,
        float lo, float hi, float* out, long p0, long p1, float* col, long chunk) {
    fconv_body(ISA_AVX2, x, g, M, w, bias, act, lo, hi, out, p0, p1, col, chunk, false);
}
#endif

// transposed: the weights are in panels (fconv_pack_weights_t); AVX-512 only.
inline void fconv(int isa, const float* x, const Geom& g, long M, const float* w, const float* bias, int act,
        float lo, float hi, float* out, long p0, long p1, float* col, long chunk, bool transposed) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return fconv_avx512(x, g, M, w, bias, act, lo, hi, out, p0, p1, col, chunk, transposed);
    if (isa == ISA_AVX2) return fconv_avx2(x, g, M, w, bias, act, lo, hi, out, p0, p1, col, chunk);
#endif
    (void) transposed;
    fconv_body(isa, x, g, M, w, bias, act, lo, hi, out, p0, p1, col, chunk, false);
}

}  // namespace hk

// ---- entry points (bound by NativeKernels) -------------------------------------------------------------

inline long hk_fconv_packed_floats(int transposed, long M, long K) {
    return transposed ? hk::fconv_panels(M) * K * hk::FT_NC : hk::fconv_strips(M) * K * hk::FC_MR;
}

inline long hk_fconv_scratch_floats(int isa, int transposed, long C, long H, long W, long KH, long KW, long sh,
        long sw, long dh, long dw, long pt, long pl, long OH, long OW, long chunk) {
    hk::Geom g{C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    return hk::fconv_scratch_floats(isa, g, transposed != 0, chunk);
}

inline void hk_fconv_pack(int transposed, signed char* w, long woff, long M, long K, signed char* dst, long doff) {
    const float* s = reinterpret_cast<const float*>(reinterpret_cast<uint8_t*>(w) + woff);
    float* d = reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(dst) + doff);
    if (transposed) {
        hk::fconv_pack_weights_t(s, M, K, d);
    } else {
        hk::fconv_pack_weights(s, M, K, d);
    }
}

// One group of one image: C input channels at x + xoff, M output channels at out + ooff, pixels [p0, p1);
// bias: M floats. transposed: weights packed in panels, AVX-512 only.
inline void hk_fconv(int isa, int transposed, signed char* x, long xoff, long C, long H, long W, long KH, long KW,
        long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW, long M, signed char* w, long woff,
        signed char* bias, long boff, int act, float lo, float hi, signed char* out, long ooff, long p0, long p1,
        signed char* col, long coff, long chunk) {
    hk::Geom g{C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    auto f = [](signed char* p, long off) { return reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(p) + off); };
    hk::fconv(isa, f(x, xoff), g, M, f(w, woff), f(bias, boff), act, lo, hi, f(out, ooff), p0, p1,
            col == nullptr ? nullptr : f(col, coff), chunk, transposed != 0);
}
