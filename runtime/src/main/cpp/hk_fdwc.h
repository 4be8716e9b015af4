// Float32 depthwise convolution for small planes (AVX-512), channels in vector lanes: a row of 7 or 14 outputs
// leaves most lanes of a row-vectorised kernel idle and pays per-channel overheads, so blocks of 16 channels are
// transposed into a padded [y][x][16] plane, every output is then one vector over the block's channels (taps in
// the same order as hk::fdw: bias first, then row by row), and the results are transposed back to NCHW.
// Depth multiplier 1 only (the Java side checks).
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
