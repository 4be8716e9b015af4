// Direct (non-GEMM) quantized kernels on NCHW images: depthwise convolution and max pooling.
#pragma once

#include <type_traits>

#include "hk_requant.h"

namespace hk {

struct Geom {
    long C, H, W;       // input channels and plane
    long KH, KW;
    long sh, sw, dh, dw;
    long pt, pl;        // leading pads (trailing ones follow from the output size)
    long OH, OW;
};

// One output row of a KxK, stride S, undilated window over the int16 plane, taps summed per output.
template <int K, int S>
HK_INLINE void qdw_row(uint32_t* __restrict a, const int16_t* plane, long Wp, long y0, const int16_t* w, long OW) {
    const int16_t* rows[K];
    for (int i = 0; i < K; i++) rows[i] = plane + (y0 + i) * Wp;
    for (long ow = 0; ow < OW; ow++) {
        int32_t s = 0;  // |sum| <= K*K * 255 * 255: no overflow
        for (int i = 0; i < K; i++) {
            for (int j = 0; j < K; j++) s += (int32_t) w[i * K + j] * rows[i][ow * S + j];
        }
        a[ow] = (uint32_t) s;
    }
}

#if defined(HK_X86)
// qdw_row with 16 outputs per vector: each tap's 16 plane values sign-extended to int32 lanes whose upper
// halves meet a zero weight half in vpmaddwd, i.e. one exact int16 x int16 product per lane.
template <int K, int S>
HK_T_AVX512 void qdw_row_avx512(uint32_t* __restrict a, const int16_t* plane, long Wp, long y0, const int16_t* w,
        long OW) {
    static_assert(S == 1 || S == 2, "stride 1 or 2");
    __m512i wv[K * K];
    for (int t = 0; t < K * K; t++) wv[t] = _mm512_set1_epi32((int32_t) (uint16_t) w[t]);
    // stride 2: lanes 0-7 take values 0, 2, .. 14 of a load at the window start, lanes 8-15 values 1, 3, .. 15
    // of a load 15 further (so no load passes the window's last value)
    const __m512i idx = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 14, 12, 10, 8, 6, 4, 2, 0);
    for (long ow = 0; ow < OW; ow += 16) {
        const long n = std::min<long>(16, OW - ow);
        // plane values each tap reads: (n - 1) * S + 1 from its start
        const long span = (n - 1) * S + 1;
        const __mmask16 m0 = (__mmask16) (span >= 16 ? 0xffff : (1u << span) - 1);
        const __mmask16 m1 = (__mmask16) (span <= 15 ? 0 : span >= 31 ? 0xffff : (1u << (span - 15)) - 1);
        __m512i acc = _mm512_setzero_si512();
        for (int i = 0; i < K; i++) {
            const int16_t* r = plane + (y0 + i) * Wp + ow * S;
            for (int j = 0; j < K; j++) {
                __m512i x = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m0, r + j));
                if (S == 2) {
                    __m512i hi = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m1, r + j + 15));
                    x = _mm512_permutex2var_epi32(x, idx, hi);
                }
                acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, wv[i * K + j]));
            }
        }
        _mm512_mask_storeu_epi32(a + ow, (__mmask16) ((1u << n) - 1), acc);
    }
}
#endif

// Depthwise conv of one image: output channel co reads input channel co / mult. Weights are prepared as
// int16 (w - w_zero_point[co]) [Cout][KH*KW]; the padded input plane holds x - x_zero_point (0 outside the
// image), so acc = sum (x - zx)(w - zw) directly and requantization needs no zero-point terms.
// plane: ((OH-1)*sh + (KH-1)*dh + 1) * ((OW-1)*sw + (KW-1)*dw + 1) int16; acc: OW int32. Input channels
// [c0, c1) only (a tile for the caller's threads; x, w, out still address the whole image).
HK_INLINE void qdw_body(int isa, const uint8_t* x, bool x_unsigned, int32_t zx, const Geom& g, long mult,
        const int16_t* w, const Requant& q, uint8_t* out, int16_t* plane, int32_t* acc, long c0, long c1) {
    const long Hp = (g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1;
    const long Wp = (g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
    const int osz = q.out_size();
    for (long ci = c0; ci < c1; ci++) {
        const uint8_t* xs = x + ci * g.H * g.W;
        for (long y = 0; y < Hp; y++) {
            int16_t* d = plane + y * Wp;
            long iy = y - g.pt;
            if (iy < 0 || iy >= g.H) {
                for (long xx = 0; xx < Wp; xx++) d[xx] = 0;
                continue;
            }
            // plane column xx holds image column xx - pl
            const uint8_t* s = xs + iy * g.W;
            long lo = std::min(g.pl, Wp), hi = std::max(lo, std::min(g.pl + g.W, Wp));
            for (long xx = 0; xx < lo; xx++) d[xx] = 0;
            if (x_unsigned) {
                for (long xx = lo; xx < hi; xx++) d[xx] = (int16_t) ((int32_t) s[xx - g.pl] - zx);
            } else {
                for (long xx = lo; xx < hi; xx++) d[xx] = (int16_t) ((int32_t) (int8_t) s[xx - g.pl] - zx);
            }
            for (long xx = hi; xx < Wp; xx++) d[xx] = 0;
        }
        for (long m = 0; m < mult; m++) {
            long co = ci * mult + m;
            const int16_t* wc = w + co * g.KH * g.KW;
            const bool square = g.dh == 1 && g.dw == 1 && g.sh == g.sw && g.KH == g.KW;
            for (long oh = 0; oh < g.OH; oh++) {
                uint32_t* a = reinterpret_cast<uint32_t*>(acc);
                long y0 = oh * g.sh;
#if defined(HK_X86)
                if (isa == ISA_AVX512 && square && g.KH == 3 && g.sh <= 2) {
                    if (g.sh == 1) {
                        qdw_row_avx512<3, 1>(a, plane, Wp, y0, wc, g.OW);
                    } else {
                        qdw_row_avx512<3, 2>(a, plane, Wp, y0, wc, g.OW);
                    }
                } else
#endif
                if (square && g.KH == 3 && g.sh == 1) {
                    qdw_row<3, 1>(a, plane, Wp, y0, wc, g.OW);
                } else if (square && g.KH == 3 && g.sh == 2) {
                    qdw_row<3, 2>(a, plane, Wp, y0, wc, g.OW);
                } else if (square && g.KH == 5 && g.sh == 1) {
                    qdw_row<5, 1>(a, plane, Wp, y0, wc, g.OW);
                } else if (square && g.KH == 5 && g.sh == 2) {
                    qdw_row<5, 2>(a, plane, Wp, y0, wc, g.OW);
                } else {
                    for (long ow = 0; ow < g.OW; ow++) a[ow] = 0;
                    for (long i = 0; i < g.KH; i++) {
                        const int16_t* prow = plane + (y0 + i * g.dh) * Wp;
                        for (long j = 0; j < g.KW; j++) {
                            int32_t wv = wc[i * g.KW + j];
                            const int16_t* p = prow + j * g.dw;
                            for (long ow = 0; ow < g.OW; ow++) a[ow] += (uint32_t) (wv * p[ow * g.sw]);
                        }
                    }
                }
                requant_channel_row(isa, q, acc, (int) g.OW, co, out + ((co * g.OH + oh) * g.OW) * osz);
            }
        }
    }
}

// Max pooling of 8-bit values; windows are clipped to the image. A window holding no image element at all
// (pads at least as large as the kernel) gives 0, as the Java reference does.
template <typename T>
HK_INLINE void maxpool_body(const T* x, const Geom& g, T* out) {
    const T lowest = (T) -1 < 0 ? (T) -128 : (T) 0;
    for (long c = 0; c < g.C; c++) {
        const T* xs = x + c * g.H * g.W;
        for (long oh = 0; oh < g.OH; oh++) {
            T* o = out + (c * g.OH + oh) * g.OW;
            bool any_row = false;
            for (long ow = 0; ow < g.OW; ow++) o[ow] = lowest;
            for (long i = 0; i < g.KH; i++) {
                long ih = oh * g.sh - g.pt + i * g.dh;
                if (ih < 0 || ih >= g.H) continue;
                any_row = true;
                const T* row = xs + ih * g.W;
                for (long j = 0; j < g.KW; j++) {
                    long off = j * g.dw - g.pl;
                    long lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
                    long hi = g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw;
                    hi = std::min(hi, g.OW);
                    if (g.sw == 1) {
                        for (long ow = lo; ow < hi; ow++) o[ow] = std::max(o[ow], row[ow + off]);
                    } else {
                        for (long ow = lo; ow < hi; ow++) o[ow] = std::max(o[ow], row[ow * g.sw + off]);
                    }
                }
            }
            for (long ow = 0; ow < g.OW; ow++) {
                bool any_col = false;
                for (long j = 0; j < g.KW && !any_col; j++) {
                    long iw = ow * g.sw - g.pl + j * g.dw;
                    any_col = iw >= 0 && iw < g.W;
                }
                if (!any_row || !any_col) o[ow] = 0;
            }
        }
    }
}

// Separable 8-bit max pooling (the same maxima as maxpool_body, max being exact): per output row the
// column-wise max over the window's rows inside the image (contiguous, vectorised), then per column the max over
// its taps: a contiguous running max over the taps for windows inside the image, picked at the stride, and
// clipped taps at the borders. A window with no image element gives 0. Rows wider than MAXW take maxpool_body.
// By value: std::max returns a reference, which keeps GCC from vectorising the loops below (alias analysis).
template <typename T>
HK_INLINE T max8(T a, T b) {
    return a > b ? a : b;
}

template <typename T>
HK_INLINE void maxpool_sep(const T* x, const Geom& g, T* out) {
    constexpr long MAXW = 2048;
    if (g.W > MAXW) {
        maxpool_body(x, g, out);
        return;
    }
    T vmax[MAXW];
    T hmax[MAXW];
    const long span = (g.KW - 1) * g.dw;
    const long hn = g.W - span;  // columns whose taps all lie inside the row
    long a = std::min(g.OW, (g.pl + g.sw - 1) / g.sw);
    long top = g.W - 1 - span + g.pl;
    long b = top < 0 ? 0 : std::min(g.OW, top / g.sw + 1);
    if (b < a) b = a;
    for (long c = 0; c < g.C; c++) {
        const T* xs = x + c * g.H * g.W;
        for (long oh = 0; oh < g.OH; oh++) {
            T* o = out + (c * g.OH + oh) * g.OW;
            long ih0 = oh * g.sh - g.pt;
            long i0 = ih0 >= 0 ? 0 : std::min(g.KH, (-ih0 + g.dh - 1) / g.dh);
            long last = g.H - 1 - ih0;
            long i1 = last < 0 ? 0 : std::min(g.KH, last / g.dh + 1);
            if (i1 <= i0) {
                for (long ow = 0; ow < g.OW; ow++) o[ow] = 0;
                continue;
            }
            const T* r = xs + (ih0 + i0 * g.dh) * g.W;
            for (long iw = 0; iw < g.W; iw++) vmax[iw] = r[iw];
            for (long i = i0 + 1; i < i1; i++) {
                r = xs + (ih0 + i * g.dh) * g.W;
                for (long iw = 0; iw < g.W; iw++) vmax[iw] = max8(vmax[iw], r[iw]);
            }
            if (b > a) {
                for (long iw = 0; iw < hn; iw++) hmax[iw] = vmax[iw];
                for (long j = 1; j < g.KW; j++) {
                    const T* v = vmax + j * g.dw;
                    for (long iw = 0; iw < hn; iw++) hmax[iw] = max8(hmax[iw], v[iw]);
                }
                if (g.sw == 1) {
                    for (long ow = a; ow < b; ow++) o[ow] = hmax[ow - g.pl];
                } else if (g.sw == 2) {
                    for (long ow = a; ow < b; ow++) o[ow] = hmax[2 * ow - g.pl];
                } else {
                    for (long ow = a; ow < b; ow++) o[ow] = hmax[ow * g.sw - g.pl];
                }
            }
            for (long ow = 0; ow < g.OW; ow++) {
                if (ow == a) {
                    ow = b;
                    if (ow >= g.OW) break;
                }
                long start = ow * g.sw - g.pl;
                long j0 = start >= 0 ? 0 : std::min(g.KW, (-start + g.dw - 1) / g.dw);
                long lastw = g.W - 1 - start;
                long j1 = lastw < 0 ? 0 : std::min(g.KW, lastw / g.dw + 1);
                if (j1 <= j0) {
                    o[ow] = 0;
                    continue;
                }
                T m = vmax[start + j0 * g.dw];
                for (long j = j0 + 1; j < j1; j++) m = max8(m, vmax[start + j * g.dw]);
                o[ow] = m;
            }
        }
    }
}

// One output row of a KxK, stride S, undilated depthwise window: all taps accumulate in a register per
// output (vectorised over ow), one store per output.
template <int K, int S>
HK_INLINE void fdw_row(float* __restrict o, const float* plane, long Wp, long y0, const float* w, float b, long OW) {
    const float* rows[K];
    for (int i = 0; i < K; i++) rows[i] = plane + (y0 + i) * Wp;
    for (long ow = 0; ow < OW; ow++) {
        float a = b;
        for (int i = 0; i < K; i++) {
            for (int j = 0; j < K; j++) a += w[i * K + j] * rows[i][ow * S + j];
        }
        o[ow] = a;
    }
}

// Float32 depthwise conv of one image (output channel co reads input channel co / mult), bias per output
// channel, then Relu (act 1) or Clip [lo, hi] (act 2). plane: as qdw_plane_elems, floats.
HK_INLINE void fdw_body(const float* x, const Geom& g, long mult, const float* w, const float* bias, int act,
        float lo, float hi, float* out, float* plane) {
    const long Hp = (g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1;
    const long Wp = (g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
    const bool undilated = g.dh == 1 && g.dw == 1 && g.sh == g.sw && g.KH == g.KW;
    for (long ci = 0; ci < g.C; ci++) {
        const float* xs = x + ci * g.H * g.W;
        for (long y = 0; y < Hp; y++) {
            float* d = plane + y * Wp;
            long iy = y - g.pt;
            long lo_x = std::min(g.pl, Wp), hi_x = std::max(lo_x, std::min(g.pl + g.W, Wp));
            if (iy < 0 || iy >= g.H) {
                lo_x = hi_x = Wp;
            }
            for (long xx = 0; xx < lo_x; xx++) d[xx] = 0.f;
            for (long xx = lo_x; xx < hi_x; xx++) d[xx] = xs[iy * g.W + xx - g.pl];
            for (long xx = hi_x; xx < Wp; xx++) d[xx] = 0.f;
        }
        for (long m = 0; m < mult; m++) {
            long co = ci * mult + m;
            const float* wc = w + co * g.KH * g.KW;
            float b = bias != nullptr ? bias[co] : 0.f;
            for (long oh = 0; oh < g.OH; oh++) {
                float* __restrict o = out + (co * g.OH + oh) * g.OW;
                long y0 = oh * g.sh;
                if (undilated && g.KH == 3 && g.sh == 1) {
                    fdw_row<3, 1>(o, plane, Wp, y0, wc, b, g.OW);
                } else if (undilated && g.KH == 3 && g.sh == 2) {
                    fdw_row<3, 2>(o, plane, Wp, y0, wc, b, g.OW);
                } else if (undilated && g.KH == 5 && g.sh == 1) {
                    fdw_row<5, 1>(o, plane, Wp, y0, wc, b, g.OW);
                } else if (undilated && g.KH == 5 && g.sh == 2) {
                    fdw_row<5, 2>(o, plane, Wp, y0, wc, b, g.OW);
                } else {
                    for (long ow = 0; ow < g.OW; ow++) o[ow] = b;
                    for (long i = 0; i < g.KH; i++) {
                        const float* prow = plane + (y0 + i * g.dh) * Wp;
                        for (long j = 0; j < g.KW; j++) {
                            float wv = wc[i * g.KW + j];
                            const float* __restrict p = prow + j * g.dw;
                            for (long ow = 0; ow < g.OW; ow++) o[ow] += wv * p[ow * g.sw];
                        }
                    }
                }
                // NaN as in Java: Relu gives 0, Clip keeps it
                if (act == 1) {
                    for (long ow = 0; ow < g.OW; ow++) o[ow] = o[ow] > 0.f ? o[ow] : 0.f;
                } else if (act == 2) {
                    for (long ow = 0; ow < g.OW; ow++) o[ow] = std::min(std::max(o[ow], lo), hi);
                }
            }
        }
    }
}

#if defined(HK_X86)
HK_T_AVX512 inline void fdw_avx512(const float* x, const Geom& g, long mult, const float* w, const float* bias,
        int act, float lo, float hi, float* out, float* plane) {
    fdw_body(x, g, mult, w, bias, act, lo, hi, out, plane);
}
HK_T_AVX2 inline void fdw_avx2(const float* x, const Geom& g, long mult, const float* w, const float* bias, int act,
        float lo, float hi, float* out, float* plane) {
    fdw_body(x, g, mult, w, bias, act, lo, hi, out, plane);
}
#endif

inline void fdw(int isa, const float* x, const Geom& g, long mult, const float* w, const float* bias, int act,
        float lo, float hi, float* out, float* plane) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return fdw_avx512(x, g, mult, w, bias, act, lo, hi, out, plane);
    if (isa == ISA_AVX2) return fdw_avx2(x, g, mult, w, bias, act, lo, hi, out, plane);
#endif
    (void) isa;
    fdw_body(x, g, mult, w, bias, act, lo, hi, out, plane);
}

#if defined(HK_X86)
HK_T_AVX512 inline void qdw_avx512(const uint8_t* x, bool u, int32_t zx, const Geom& g, long mult,
        const int16_t* w, const Requant& q, uint8_t* out, int16_t* plane, int32_t* acc, long c0, long c1) {
    qdw_body(ISA_AVX512, x, u, zx, g, mult, w, q, out, plane, acc, c0, c1);
}
HK_T_AVX2 inline void qdw_avx2(const uint8_t* x, bool u, int32_t zx, const Geom& g, long mult, const int16_t* w,
        const Requant& q, uint8_t* out, int16_t* plane, int32_t* acc, long c0, long c1) {
    qdw_body(ISA_AVX2, x, u, zx, g, mult, w, q, out, plane, acc, c0, c1);
}
#endif

inline void qdw(int isa, const uint8_t* x, bool u, int32_t zx, const Geom& g, long mult, const int16_t* w,
        const Requant& q, uint8_t* out, int16_t* plane, int32_t* acc, long c0, long c1) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return qdw_avx512(x, u, zx, g, mult, w, q, out, plane, acc, c0, c1);
    if (isa == ISA_AVX2) return qdw_avx2(x, u, zx, g, mult, w, q, out, plane, acc, c0, c1);
#endif
    qdw_body(isa, x, u, zx, g, mult, w, q, out, plane, acc, c0, c1);
}

HK_INLINE bool maxpool_is_2x2(const Geom& g) {
    return g.KH == 2 && g.KW == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 && g.pt == 0 && g.pl == 0
            && 2 * g.OH <= g.H && 2 * g.OW <= g.W;
}

#if defined(HK_X86)
// MaxPool 2 x 2, stride 2, every window inside the image (the common downsampling): up to 32 outputs per step,
// the vertical max of two rows, then each 16-bit word's two bytes (the low byte takes the max; the word's high
// byte is dropped by the narrowing). The separable kernel's per-row set-up cost 1.5 us on 32 planes of 8 x 8.
template <typename T>
HK_T_AVX512 inline void maxpool2x2_avx512(const T* x, const Geom& g, T* out) {
    constexpr bool S = std::is_signed<T>::value;
    for (long c = 0; c < g.C; c++) {
        const T* xs = x + c * g.H * g.W;
        for (long oh = 0; oh < g.OH; oh++) {
            const T* r0 = xs + 2 * oh * g.W;
            T* o = out + (c * g.OH + oh) * g.OW;
            for (long ow = 0; ow < g.OW; ow += 32) {
                const long n = std::min(32L, g.OW - ow);
                const __mmask64 mi = n == 32 ? ~(__mmask64) 0 : (((__mmask64) 1 << (2 * n)) - 1);
                const __m512i a = _mm512_maskz_loadu_epi8(mi, r0 + 2 * ow);
                const __m512i b = _mm512_maskz_loadu_epi8(mi, r0 + g.W + 2 * ow);
                const __m512i v = S ? _mm512_max_epi8(a, b) : _mm512_max_epu8(a, b);
                const __m512i hi = _mm512_srli_epi16(v, 8);
                const __m512i m = S ? _mm512_max_epi8(v, hi) : _mm512_max_epu8(v, hi);
                _mm256_mask_storeu_epi8(o + ow, (__mmask32) ((1ull << n) - 1), _mm512_cvtepi16_epi8(m));
            }
        }
    }
}
#endif

// One build for every ISA: with rows of a hundred bytes the base (SSE2 / NEON) vectors were measured faster
// than AVX2 / AVX-512 ones (ResNet's 3x3 stride-2 pool over 64 x 112 x 112: 128 us against 165 / 191 us).
// 2 x 2 / 2 windows have their own AVX-512 kernel.
template <typename T>
inline void maxpool(int isa, const T* x, const Geom& g, T* out) {
#if defined(HK_X86)
    if (isa == ISA_AVX512 && maxpool_is_2x2(g)) {
        maxpool2x2_avx512(x, g, out);
        return;
    }
#endif
    (void) isa;
    maxpool_sep(x, g, out);
}

inline long qdw_plane_elems(const Geom& g) {
    return ((g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1) * ((g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1);
}

}  // namespace hk
