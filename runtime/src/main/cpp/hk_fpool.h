// Float32 pooling of NCHW planes with the Java reference's arithmetic, bit for bit: MaxPool takes the first
// largest value in scan order (`v > best ? v : best`, which is exactly vmaxps), AveragePool sums in float32
// from 0 in scan order and divides by the tap count, the global pools accumulate in double (average) or
// scan with the reference's NaN rule (max). Vectorised across output columns, never across taps, so every
// output sees its taps in the reference's order.
#pragma once

#include "hk_direct.h"

namespace hk {

enum FPool { FPOOL_MAX = 0, FPOOL_AVG = 1, FPOOL_AVG_PAD = 2 };

// The window geometry plus the trailing pads, which count as taps for FPOOL_AVG_PAD.
struct PoolGeom : Geom {
    long pb = 0, pr = 0;
};

// Taps t in [0, k) with start + t * d in [0, n): [lo, hi), empty as lo == hi.
HK_INLINE void fpool_taps(long start, long d, long k, long n, long& lo, long& hi) {
    lo = start >= 0 ? 0 : std::min(k, (-start + d - 1) / d);
    long last = n - 1 - start;
    hi = last < 0 ? 0 : std::min(k, last / d + 1);
    if (hi < lo) hi = lo;
}

// Output columns [a, b) of one row whose windows lie inside the image; taps rows [i0, i1) (non-empty).
// S: the column stride when it is 1 or 2 (0: g.sw), so that the loops vectorise with fixed strides.
template <int S, int KIND>
HK_INLINE void fpool_cols(const float* xs, const PoolGeom& g, long ih0, long i0, long i1, long a, long b, float cnt,
        float* __restrict o) {
    const long sw = S > 0 ? S : g.sw;
    bool first = true;
    for (long i = i0; i < i1; i++) {
        const float* row = xs + (ih0 + i * g.dh) * g.W;
        for (long j = 0; j < g.KW; j++) {
            const float* p = row + j * g.dw - g.pl;
            if (KIND == FPOOL_MAX) {
                if (first) {
                    for (long ow = a; ow < b; ow++) o[ow] = p[ow * sw];
                } else {
                    for (long ow = a; ow < b; ow++) {
                        float v = p[ow * sw];
                        o[ow] = v > o[ow] ? v : o[ow];
                    }
                }
            } else {
                if (first) {
                    for (long ow = a; ow < b; ow++) o[ow] = 0.f + p[ow * sw];  // the reference starts at +0
                } else {
                    for (long ow = a; ow < b; ow++) o[ow] += p[ow * sw];
                }
            }
            first = false;
        }
    }
    if (KIND != FPOOL_MAX) {
        for (long ow = a; ow < b; ow++) o[ow] = o[ow] / cnt;
    }
}

// One output column with its own clipped taps (the image borders).
template <int KIND>
HK_INLINE float fpool_one(const float* xs, const PoolGeom& g, long ih0, long i0, long i1, long rows_padded, long ow) {
    long start = ow * g.sw - g.pl;
    long j0, j1;
    fpool_taps(start, g.dw, g.KW, g.W, j0, j1);
    if (KIND == FPOOL_MAX) {
        if (i0 >= i1 || j0 >= j1) return 0.f;  // a window of padding only, as the reference
        float best = xs[(ih0 + i0 * g.dh) * g.W + start + j0 * g.dw];
        for (long i = i0; i < i1; i++) {
            const float* row = xs + (ih0 + i * g.dh) * g.W + start;
            for (long j = j0; j < j1; j++) {
                float v = row[j * g.dw];
                best = v > best ? v : best;
            }
        }
        return best;
    }
    float sum = 0.f;
    for (long i = i0; i < i1; i++) {
        const float* row = xs + (ih0 + i * g.dh) * g.W + start;
        for (long j = j0; j < j1; j++) sum += row[j * g.dw];
    }
    long count;
    if (KIND == FPOOL_AVG_PAD) {
        long p0, p1;
        fpool_taps(start + g.pl, g.dw, g.KW, g.W + g.pl + g.pr, p0, p1);
        count = rows_padded * (p1 - p0);
    } else {
        count = (i1 - i0) * (j1 - j0);
    }
    return count == 0 ? NAN : sum / (float) count;
}

template <int S, int KIND>
HK_INLINE void fpool_planes(const float* x, const PoolGeom& g, long planes, float* out) {
    // columns whose whole window is inside the image horizontally: [a, b)
    const long span = (g.KW - 1) * g.dw;
    long a = std::min(g.OW, (g.pl + g.sw - 1) / g.sw);
    long top = g.W - 1 - span + g.pl;
    long b = top < 0 ? 0 : std::min(g.OW, top / g.sw + 1);
    if (b < a) b = a;
    for (long c = 0; c < planes; c++) {
        const float* xs = x + c * g.H * g.W;
        for (long oh = 0; oh < g.OH; oh++) {
            float* o = out + (c * g.OH + oh) * g.OW;
            long ih0 = oh * g.sh - g.pt;
            long i0, i1, r0, r1;
            fpool_taps(ih0, g.dh, g.KH, g.H, i0, i1);
            fpool_taps(oh * g.sh, g.dh, g.KH, g.H + g.pt + g.pb, r0, r1);
            long rows_padded = r1 - r0;
            for (long ow = 0; ow < a; ow++) o[ow] = fpool_one<KIND>(xs, g, ih0, i0, i1, rows_padded, ow);
            if (i0 < i1) {
                float cnt = (float) ((KIND == FPOOL_AVG_PAD ? rows_padded : i1 - i0) * g.KW);
                fpool_cols<S, KIND>(xs, g, ih0, i0, i1, a, b, cnt, o);
            } else {
                for (long ow = a; ow < b; ow++) o[ow] = fpool_one<KIND>(xs, g, ih0, i0, i1, rows_padded, ow);
            }
            for (long ow = b; ow < g.OW; ow++) o[ow] = fpool_one<KIND>(xs, g, ih0, i0, i1, rows_padded, ow);
        }
    }
}

template <int KIND>
HK_INLINE void fpool_kind(const float* x, const PoolGeom& g, long planes, float* out) {
    if (g.sw == 1) {
        fpool_planes<1, KIND>(x, g, planes, out);
    } else if (g.sw == 2) {
        fpool_planes<2, KIND>(x, g, planes, out);
    } else {
        fpool_planes<0, KIND>(x, g, planes, out);
    }
}

HK_INLINE void fpool_body(int kind, const float* x, const PoolGeom& g, long planes, float* out) {
    if (kind == FPOOL_MAX) {
        fpool_kind<FPOOL_MAX>(x, g, planes, out);
    } else if (kind == FPOOL_AVG) {
        fpool_kind<FPOOL_AVG>(x, g, planes, out);
    } else {
        fpool_kind<FPOOL_AVG_PAD>(x, g, planes, out);
    }
}

// Global pools over `size` elements per plane. Average: a double sum in element order per plane (four planes
// at a time for independent chains), then (float) (sum / size). Max: the reference's loop, which stops at a NaN.
HK_INLINE void fgpool_body(bool max, const float* x, long planes, long size, float* out) {
    if (max) {
        for (long p = 0; p < planes; p++) {
            const float* s = x + p * size;
            float m = s[0];
            for (long i = 1; i < size && m == m; i++) {
                if (!(s[i] <= m)) m = s[i];
            }
            out[p] = m;
        }
        return;
    }
    long p = 0;
    for (; p + 4 <= planes; p += 4) {
        const float* s = x + p * size;
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (long i = 0; i < size; i++) {
            a0 += s[i];
            a1 += s[size + i];
            a2 += s[2 * size + i];
            a3 += s[3 * size + i];
        }
        out[p] = (float) (a0 / (double) size);
        out[p + 1] = (float) (a1 / (double) size);
        out[p + 2] = (float) (a2 / (double) size);
        out[p + 3] = (float) (a3 / (double) size);
    }
    for (; p < planes; p++) {
        const float* s = x + p * size;
        double a = 0;
        for (long i = 0; i < size; i++) a += s[i];
        out[p] = (float) (a / (double) size);
    }
}

#if defined(HK_X86)
// MaxPool 2 x 2, stride 2, unpadded, undilated, every window inside the image (the common downsampling): the
// generic loops spend more on loop control than on the four taps of a narrow row. 16 outputs per step: the even
// and odd columns of two input rows, combined in the reference's tap order.
HK_T_AVX512 inline void fpool_max2x2_avx512(const float* x, const PoolGeom& g, long planes, float* out) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (long c = 0; c < planes; c++) {
        const float* xs = x + c * g.H * g.W;
        for (long oh = 0; oh < g.OH; oh++) {
            const float* r0 = xs + 2 * oh * g.W;
            const float* r1 = r0 + g.W;
            float* o = out + (c * g.OH + oh) * g.OW;
            for (long ow = 0; ow < g.OW; ow += 16) {
                const long n = std::min(16L, g.OW - ow);
                const __mmask16 ma = n >= 8 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (2 * n)) - 1);
                const __mmask16 mb = n <= 8 ? 0 : n >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (2 * n - 16)) - 1);
                const __mmask16 mo = n >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1);
                const __m512 a0 = _mm512_maskz_loadu_ps(ma, r0 + 2 * ow), b0 = _mm512_maskz_loadu_ps(mb, r0 + 2 * ow + 16);
                const __m512 a1 = _mm512_maskz_loadu_ps(ma, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(mb, r1 + 2 * ow + 16);
                // best = x00, then v > best ? v : best (= vmaxps(v, best)) for x01, x10, x11
                __m512 best = _mm512_permutex2var_ps(a0, even, b0);
                best = _mm512_max_ps(_mm512_permutex2var_ps(a0, odd, b0), best);
                best = _mm512_max_ps(_mm512_permutex2var_ps(a1, even, b1), best);
                best = _mm512_max_ps(_mm512_permutex2var_ps(a1, odd, b1), best);
                _mm512_mask_storeu_ps(o + ow, mo, best);
            }
        }
    }
}

HK_INLINE bool fpool_is_max2x2(int kind, const PoolGeom& g) {
    return kind == FPOOL_MAX && g.KH == 2 && g.KW == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1
            && g.pt == 0 && g.pl == 0 && 2 * g.OH <= g.H && 2 * g.OW <= g.W;
}

HK_T_AVX512 inline void fpool_avx512(int kind, const float* x, const PoolGeom& g, long planes, float* out) {
    if (fpool_is_max2x2(kind, g)) {
        fpool_max2x2_avx512(x, g, planes, out);
        return;
    }
    fpool_body(kind, x, g, planes, out);
}
HK_T_AVX2 inline void fpool_avx2(int kind, const float* x, const PoolGeom& g, long planes, float* out) {
    fpool_body(kind, x, g, planes, out);
}
HK_T_AVX512 inline void fgpool_avx512(bool max, const float* x, long planes, long size, float* out) {
    fgpool_body(max, x, planes, size, out);
}
HK_T_AVX2 inline void fgpool_avx2(bool max, const float* x, long planes, long size, float* out) {
    fgpool_body(max, x, planes, size, out);
}
#endif

inline void fpool(int isa, int kind, const float* x, const PoolGeom& g, long planes, float* out) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return fpool_avx512(kind, x, g, planes, out);
    if (isa == ISA_AVX2) return fpool_avx2(kind, x, g, planes, out);
#endif
    (void) isa;
    fpool_body(kind, x, g, planes, out);
}

inline void fgpool(int isa, bool max, const float* x, long planes, long size, float* out) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return fgpool_avx512(max, x, planes, size, out);
    if (isa == ISA_AVX2) return fgpool_avx2(max, x, planes, size, out);
#endif
    (void) isa;
    fgpool_body(max, x, planes, size, out);
}

}  // namespace hk

// ---- entry points (bound by NativeKernels) -------------------------------------------------------------

// `planes` NCHW planes of H x W from x + xoff (bytes) into out + ooff; pb / pr are the trailing pads
// (they count for FPOOL_AVG_PAD).
inline void hk_fpool(int isa, int kind, signed char* x, long xoff, long planes, long H, long W, long KH, long KW,
        long sh, long sw, long dh, long dw, long pt, long pl, long pb, long pr, long OH, long OW, signed char* out,
        long ooff) {
    hk::PoolGeom g;
    static_cast<hk::Geom&>(g) = hk::Geom{planes, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    g.pb = pb;
    g.pr = pr;
    hk::fpool(isa, kind, reinterpret_cast<const float*>(reinterpret_cast<uint8_t*>(x) + xoff), g, planes,
            reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(out) + ooff));
}

inline void hk_fgpool(int isa, int is_max, signed char* x, long xoff, long planes, long size, signed char* out,
        long ooff) {
    hk::fgpool(isa, is_max != 0, reinterpret_cast<const float*>(reinterpret_cast<uint8_t*>(x) + xoff), planes, size,
            reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(out) + ooff));
}
