// Float32 depthwise convolution for small planes (AVX-512), channels in vector lanes: a row of 7 or 14 outputs
// leaves most lanes of a row-vectorised kernel idle and pays per-channel overheads, so blocks of 16 channels are
// transposed into a padded [y][x][16] plane, every output is then one vector over the block's channels (taps in
// the same order as hk::fdw: bias first, then row by row), and the results are transposed back to NCHW.
// Depth multiplier 1 only (the Java side checks). Stride 1 at any size: fdwf_avx512 below.
#pragma once

#include "hk_direct.h"

namespace hk {

constexpr long DWC_LANES = 16;

HK_INLINE long dwc_padded_h(const Geom& g) {
    return (g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1;
}

HK_INLINE long dwc_padded_w(const Geom& g) {
    return (g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
}

// Scratch floats: the padded input block, the output block and the block's weights.
HK_INLINE long dwc_scratch_floats(const Geom& g) {
    return (dwc_padded_h(g) * dwc_padded_w(g) + g.OH * g.OW + g.KH * g.KW) * DWC_LANES;
}

// Stride 1, any plane: the channel is copied into a zero-padded plane of width Wp = OW + (KW - 1) * dw, where
// output (oh, ow) is padded pixel oh * Wp + ow and each tap a fixed shift of it, so 16 consecutive padded
// outputs are one vector per tap (junk columns of the padded width are computed and not copied out).
HK_INLINE long dwf_padded_w(const Geom& g) {
    return g.OW + (g.KW - 1) * g.dw;
}

HK_INLINE long dwf_scratch_floats(const Geom& g) {
    const long Hp = g.OH + (g.KH - 1) * g.dh, Wp = dwf_padded_w(g);
    const long nv = (g.OH * Wp + DWC_LANES - 1) / DWC_LANES;
    return Hp * Wp + DWC_LANES + nv * DWC_LANES;
}

// Column stride 2: each channel is copied into a zero-padded plane (rows DWS_SLACK wider, so that the last
// vector's loads stay inside), and 16 outputs of a row take the even lanes of two loads per tap.
constexpr long DWS_SLACK = 32;

HK_INLINE long dws_row(const Geom& g) {
    return round_up((g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1 + DWS_SLACK, DWC_LANES);
}

HK_INLINE long dws_scratch_floats(const Geom& g) {
    return ((g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1) * dws_row(g);
}

#if defined(HK_X86)
HK_T_AVX512 inline void fdwc_avx512(const float* x, const Geom& g, const float* w, const float* bias, int act, float lo,
        float hi, float* out, float* scratch) {
    const long Hp = dwc_padded_h(g), Wp = dwc_padded_w(g), P = g.OH * g.OW, taps = g.KH * g.KW;
    float* tin = scratch;
    float* tout = tin + Hp * Wp * DWC_LANES;
    float* wt = tout + P * DWC_LANES;
    const __m512 zero = _mm512_setzero_ps(), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (long c0 = 0; c0 < g.C; c0 += DWC_LANES) {
        const long nc = std::min(DWC_LANES, g.C - c0);
        const __mmask16 m = nc == DWC_LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << nc) - 1);
        for (long i = 0; i < Hp * Wp; i++) _mm512_storeu_ps(tin + i * DWC_LANES, zero);
        // image rows land at padded row iy + pt, column ix + pl (rows or columns past the window are not needed)
        const long h = std::min(g.H, Hp - g.pt), wdt = std::min(g.W, Wp - g.pl);
        for (long c = 0; c < nc; c++) {
            const float* xs = x + (c0 + c) * g.H * g.W;
            for (long iy = 0; iy < h; iy++) {
                float* d = tin + ((iy + g.pt) * Wp + g.pl) * DWC_LANES + c;
                const float* s = xs + iy * g.W;
                for (long ix = 0; ix < wdt; ix++) d[ix * DWC_LANES] = s[ix];
            }
        }
        for (long t = 0; t < taps; t++) {
            for (long c = 0; c < DWC_LANES; c++) wt[t * DWC_LANES + c] = c < nc ? w[(c0 + c) * taps + t] : 0.f;
        }
        const __m512 vb = bias != nullptr ? _mm512_maskz_loadu_ps(m, bias + c0) : zero;
        for (long oh = 0; oh < g.OH; oh++) {
            for (long ow = 0; ow < g.OW; ow++) {
                __m512 acc = vb;
                for (long i = 0; i < g.KH; i++) {
                    const float* row = tin + ((oh * g.sh + i * g.dh) * Wp + ow * g.sw) * DWC_LANES;
                    for (long j = 0; j < g.KW; j++) {
                        acc = _mm512_fmadd_ps(_mm512_loadu_ps(wt + (i * g.KW + j) * DWC_LANES),
                                _mm512_loadu_ps(row + j * g.dw * DWC_LANES), acc);
                    }
                }
                if (act == 1) {
                    acc = _mm512_max_ps(acc, zero);  // NaN gives 0, as the Java Relu
                } else if (act == 2) {
                    acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
                }
                _mm512_storeu_ps(tout + (oh * g.OW + ow) * DWC_LANES, acc);
            }
        }
        for (long c = 0; c < nc; c++) {
            float* o = out + (c0 + c) * P;
            const float* s = tout + c;
            for (long p = 0; p < P; p++) o[p] = s[p * DWC_LANES];
        }
    }
}

// n floats from s to d, 16 at a time (the tail masked).
HK_T_AVX512 inline void dwf_copy(float* d, const float* s, long n) {
    long t = 0;
    for (; t + DWC_LANES <= n; t += DWC_LANES) _mm512_storeu_ps(d + t, _mm512_loadu_ps(s + t));
    if (t < n) {
        const __mmask16 m = (__mmask16) ((1u << (n - t)) - 1);
        _mm512_mask_storeu_ps(d + t, m, _mm512_maskz_loadu_ps(m, s + t));
    }
}

HK_T_AVX512 inline void dwf_zero(float* d, long n) {
    long t = 0;
    for (; t + DWC_LANES <= n; t += DWC_LANES) _mm512_storeu_ps(d + t, _mm512_setzero_ps());
    if (t < n) _mm512_mask_storeu_ps(d + t, (__mmask16) ((1u << (n - t)) - 1), _mm512_setzero_ps());
}

// KN: the kernel when it is square and undilated (3), else 0 (any).
/** One channel's plane into rows of width Wr, zero-padded: pt rows above, pl columns left, zeros to the right. */
HK_T_AVX512 inline void dwf_pad_plane(float* xp, const float* xs, const Geom& g, long rows, long Wr) {
    for (long y = 0; y < rows; y++) {
        float* d = xp + y * Wr;
        const long iy = y - g.pt;
        const long a = std::min(g.pl, Wr);
        long e = a;
        if (iy >= 0 && iy < g.H) {
            e = std::min(Wr, g.pl + g.W);
            dwf_copy(d + a, xs + iy * g.W + (a - g.pl), e - a);
        }
        dwf_zero(d, a);
        dwf_zero(d + e, Wr - e);
    }
}

template <int KN>
HK_T_AVX512 inline void fdwf_avx512_k(const float* x, const Geom& g, const float* w, const float* bias, int act,
        float lo, float hi, float* out, float* scratch) {
    const long KH = KN > 0 ? KN : g.KH, KW = KN > 0 ? KN : g.KW, dh = KN > 0 ? 1 : g.dh, dw = KN > 0 ? 1 : g.dw;
    const long Hp = g.OH + (KH - 1) * dh, Wp = dwf_padded_w(g), taps = KH * KW;
    const long nv = (g.OH * Wp + DWC_LANES - 1) / DWC_LANES;
    float* xp = scratch;
    float* op = xp + Hp * Wp + DWC_LANES;  // the last vector's taps read up to DWC_LANES - 1 past the plane
    const __m512 zero = _mm512_setzero_ps(), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    dwf_zero(xp + Hp * Wp, DWC_LANES);
    for (long c = 0; c < g.C; c++) {
        dwf_pad_plane(xp, x + c * g.H * g.W, g, Hp, Wp);
        const float* wc = w + c * taps;
        const __m512 vb = _mm512_set1_ps(bias != nullptr ? bias[c] : 0.f);
        __m512 wv[KN > 0 ? KN * KN : 1];
        if (KN > 0) {
            for (long t = 0; t < taps; t++) wv[t] = _mm512_set1_ps(wc[t]);
        }
        for (long v = 0; v < nv; v++) {
            __m512 acc = vb;
            const float* base = xp + v * DWC_LANES;
            for (long i = 0; i < KH; i++) {
                for (long j = 0; j < KW; j++) {
                    const __m512 wt = KN > 0 ? wv[i * KW + j] : _mm512_set1_ps(wc[i * KW + j]);
                    acc = _mm512_fmadd_ps(wt, _mm512_loadu_ps(base + i * dh * Wp + j * dw), acc);
                }
            }
            if (act == 1) {
                acc = _mm512_max_ps(acc, zero);
            } else if (act == 2) {
                acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
            }
            _mm512_storeu_ps(op + v * DWC_LANES, acc);
        }
        float* o = out + c * g.OH * g.OW;
        for (long oh = 0; oh < g.OH; oh++) dwf_copy(o + oh * g.OW, op + oh * Wp, g.OW);
    }
}

HK_T_AVX512 inline void fdwf_avx512(const float* x, const Geom& g, const float* w, const float* bias, int act,
        float lo, float hi, float* out, float* scratch) {
    if (g.KH == 3 && g.KW == 3 && g.dh == 1 && g.dw == 1) {
        fdwf_avx512_k<3>(x, g, w, bias, act, lo, hi, out, scratch);
    } else {
        fdwf_avx512_k<0>(x, g, w, bias, act, lo, hi, out, scratch);
    }
}

template <int KN>
HK_T_AVX512 inline void fdws_avx512_k(const float* x, const Geom& g, const float* w, const float* bias, int act,
        float lo, float hi, float* out, float* xp) {
    const long KH = KN > 0 ? KN : g.KH, KW = KN > 0 ? KN : g.KW, dh = KN > 0 ? 1 : g.dh, dw = KN > 0 ? 1 : g.dw;
    const long Hp = (g.OH - 1) * g.sh + (KH - 1) * dh + 1, Wr = dws_row(g), taps = KH * KW;
    const long nv = (g.OW + DWC_LANES - 1) / DWC_LANES;
    const __m512 zero = _mm512_setzero_ps(), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (long c = 0; c < g.C; c++) {
        dwf_pad_plane(xp, x + c * g.H * g.W, g, Hp, Wr);
        const float* wc = w + c * taps;
        const __m512 vb = _mm512_set1_ps(bias != nullptr ? bias[c] : 0.f);
        __m512 wv[KN > 0 ? KN * KN : 1];
        if (KN > 0) {
            for (long t = 0; t < taps; t++) wv[t] = _mm512_set1_ps(wc[t]);
        }
        for (long oh = 0; oh < g.OH; oh++) {
            float* o = out + (c * g.OH + oh) * g.OW;
            for (long v = 0; v < nv; v++) {
                __m512 acc = vb;
                for (long i = 0; i < KH; i++) {
                    const float* row = xp + (oh * g.sh + i * dh) * Wr + 2 * DWC_LANES * v;
                    for (long j = 0; j < KW; j++) {
                        const float* p = row + j * dw;
                        const __m512 val = _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
                        const __m512 wt = KN > 0 ? wv[i * KW + j] : _mm512_set1_ps(wc[i * KW + j]);
                        acc = _mm512_fmadd_ps(wt, val, acc);
                    }
                }
                if (act == 1) {
                    acc = _mm512_max_ps(acc, zero);
                } else if (act == 2) {
                    acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
                }
                const long n = std::min(DWC_LANES, g.OW - v * DWC_LANES);
                _mm512_mask_storeu_ps(o + v * DWC_LANES, (__mmask16) ((1u << n) - 1), acc);
            }
        }
    }
}

HK_T_AVX512 inline void fdws_avx512(const float* x, const Geom& g, const float* w, const float* bias, int act,
        float lo, float hi, float* out, float* scratch) {
    if (g.KH == 3 && g.KW == 3 && g.dh == 1 && g.dw == 1) {
        fdws_avx512_k<3>(x, g, w, bias, act, lo, hi, out, scratch);
    } else {
        fdws_avx512_k<0>(x, g, w, bias, act, lo, hi, out, scratch);
    }
}
#endif

}  // namespace hk

// ---- entry points (bound by NativeKernels) -------------------------------------------------------------

inline long hk_fdwc_scratch_bytes(long OH, long OW, long KH, long KW, long sh, long sw, long dh, long dw) {
    hk::Geom g{};
    g.OH = OH, g.OW = OW, g.KH = KH, g.KW = KW, g.sh = sh, g.sw = sw, g.dh = dh, g.dw = dw;
    return 4 * hk::dwc_scratch_floats(g);
}

// One image, C channels (multiplier 1); AVX-512 only (the caller checks the ISA). Relu (act 1) / Clip (act 2).
inline void hk_fdwc(signed char* x, long xoff, long C, long H, long W, long KH, long KW, long sh, long sw, long dh,
        long dw, long pt, long pl, long OH, long OW, signed char* w, long woff, signed char* bias, long boff, int act,
        float lo, float hi, signed char* out, long ooff, signed char* scratch, long soff) {
#if defined(HK_X86)
    hk::Geom g{C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    auto f = [](signed char* p, long off) { return reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(p) + off); };
    hk::fdwc_avx512(f(x, xoff), g, f(w, woff), bias == nullptr ? nullptr : f(bias, boff), act, lo, hi, f(out, ooff),
            f(scratch, soff));
#else
    (void) x, (void) xoff, (void) C, (void) H, (void) W, (void) KH, (void) KW, (void) sh, (void) sw, (void) dh;
    (void) dw, (void) pt, (void) pl, (void) OH, (void) OW, (void) w, (void) woff, (void) bias, (void) boff;
    (void) act, (void) lo, (void) hi, (void) out, (void) ooff, (void) scratch, (void) soff;
#endif
}

inline long hk_fdwf_scratch_bytes(long OH, long OW, long KH, long KW, long dh, long dw) {
    hk::Geom g{};
    g.OH = OH, g.OW = OW, g.KH = KH, g.KW = KW, g.sh = 1, g.sw = 1, g.dh = dh, g.dw = dw;
    return 4 * hk::dwf_scratch_floats(g);
}

// Stride 1, multiplier 1, any plane (AVX-512 only, the caller checks).
inline void hk_fdwf(signed char* x, long xoff, long C, long H, long W, long KH, long KW, long dh, long dw, long pt,
        long pl, long OH, long OW, signed char* w, long woff, signed char* bias, long boff, int act, float lo,
        float hi, signed char* out, long ooff, signed char* scratch, long soff) {
#if defined(HK_X86)
    hk::Geom g{C, H, W, KH, KW, 1, 1, dh, dw, pt, pl, OH, OW};
    auto f = [](signed char* p, long off) { return reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(p) + off); };
    hk::fdwf_avx512(f(x, xoff), g, f(w, woff), bias == nullptr ? nullptr : f(bias, boff), act, lo, hi, f(out, ooff),
            f(scratch, soff));
#else
    (void) x, (void) xoff, (void) C, (void) H, (void) W, (void) KH, (void) KW, (void) dh, (void) dw, (void) pt;
    (void) pl, (void) OH, (void) OW, (void) w, (void) woff, (void) bias, (void) boff, (void) act, (void) lo;
    (void) hi, (void) out, (void) ooff, (void) scratch, (void) soff;
#endif
}

inline long hk_fdws_scratch_bytes(long OH, long OW, long KH, long KW, long sh, long dh, long dw) {
    hk::Geom g{};
    g.OH = OH, g.OW = OW, g.KH = KH, g.KW = KW, g.sh = sh, g.sw = 2, g.dh = dh, g.dw = dw;
    return 4 * hk::dws_scratch_floats(g);
}

// Column stride 2, multiplier 1, any plane (AVX-512 only, the caller checks).
inline void hk_fdws(signed char* x, long xoff, long C, long H, long W, long KH, long KW, long sh, long dh, long dw,
        long pt, long pl, long OH, long OW, signed char* w, long woff, signed char* bias, long boff, int act, float lo,
        float hi, signed char* out, long ooff, signed char* scratch, long soff) {
#if defined(HK_X86)
    hk::Geom g{C, H, W, KH, KW, sh, 2, dh, dw, pt, pl, OH, OW};
    auto f = [](signed char* p, long off) { return reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(p) + off); };
    hk::fdws_avx512(f(x, xoff), g, f(w, woff), bias == nullptr ? nullptr : f(bias, boff), act, lo, hi, f(out, ooff),
            f(scratch, soff));
#else
    (void) x, (void) xoff, (void) C, (void) H, (void) W, (void) KH, (void) KW, (void) sh, (void) dh, (void) dw;
    (void) pt, (void) pl, (void) OH, (void) OW, (void) w, (void) woff, (void) bias, (void) boff, (void) act;
    (void) lo, (void) hi, (void) out, (void) ooff, (void) scratch, (void) soff;
#endif
}
