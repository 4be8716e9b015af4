// 8-bit elementwise and average-pool kernels: QLinearAdd, QLinearMul, QLinearGlobalAveragePool, in the fixed-point
// arithmetic that dev.hedge.kernels.ref.quant.QFixed defines (integer multipliers and shifts computed once in
// Java). Integer arithmetic only, so every ISA gives the reference's bytes exactly; the loops are written once
// and compiled (auto-vectorised) per target, with vpsadbw plane sums on x86.
#pragma once

#include "hk_fpool.h"

namespace hk {

// QFixed.Binary: Add y = sat(((ma (a - za) + mb (b - zb) + 2^(s-1)) >> s) + zc), Mul y = sat(((ma (a - za)(b - zb)
// + 2^(s-1)) >> s) + zc), sat = clamp to [lo, hi]. The true accumulators fit int32 (QFixed bounds the
// multipliers); sums are formed in uint32 (wrap-around), which gives the same int32 without signed overflow.
struct QeltParams {
    int32_t ma, mb, shift, za, zb, zc, lo, hi;
};

template <bool SGN>
HK_INLINE int32_t qelt_ld(const uint8_t* p, long i) {
    return SGN ? (int32_t) (int8_t) p[i] : (int32_t) p[i];
}

HK_INLINE uint8_t qelt_sat(int32_t acc, const QeltParams& q) {
    int32_t v = (acc >> q.shift) + q.zc;
    v = v < q.lo ? q.lo : v;
    v = v > q.hi ? q.hi : v;
    return (uint8_t) v;
}

// n elements; b holds n values, or one (BS) used for all of them. out may be a or b (in-place steps).
template <bool SGN, bool MUL, bool BS>
HK_INLINE void qelt_body(const uint8_t* a, const uint8_t* b, uint8_t* out, long n, const QeltParams& q) {
    const uint32_t rnd = 1u << (q.shift - 1);
    if (!MUL) {
        if (BS) {
            const uint32_t k = rnd + (uint32_t) q.mb * (uint32_t) (qelt_ld<SGN>(b, 0) - q.zb)
                    - (uint32_t) q.ma * (uint32_t) q.za;
            for (long i = 0; i < n; i++) {
                out[i] = qelt_sat((int32_t) ((uint32_t) q.ma * (uint32_t) qelt_ld<SGN>(a, i) + k), q);
            }
        } else {
            const uint32_t k = rnd - (uint32_t) q.ma * (uint32_t) q.za - (uint32_t) q.mb * (uint32_t) q.zb;
            for (long i = 0; i < n; i++) {
                uint32_t acc = (uint32_t) q.ma * (uint32_t) qelt_ld<SGN>(a, i)
                        + (uint32_t) q.mb * (uint32_t) qelt_ld<SGN>(b, i) + k;
                out[i] = qelt_sat((int32_t) acc, q);
            }
        }
    } else {
        if (BS) {
            const int32_t m = q.ma * (qelt_ld<SGN>(b, 0) - q.zb);  // |.| <= 2^14 * 255: fits
            for (long i = 0; i < n; i++) {
                out[i] = qelt_sat((int32_t) ((uint32_t) m * (uint32_t) (qelt_ld<SGN>(a, i) - q.za) + rnd), q);
            }
        } else {
            for (long i = 0; i < n; i++) {
                int32_t p = (qelt_ld<SGN>(a, i) - q.za) * (qelt_ld<SGN>(b, i) - q.zb);
                out[i] = qelt_sat((int32_t) ((uint32_t) q.ma * (uint32_t) p + rnd), q);
            }
        }
    }
}

template <bool SGN, bool MUL>
HK_INLINE void qelt_pick(const uint8_t* a, const uint8_t* b, bool bs, uint8_t* out, long n, const QeltParams& q) {
    if (bs) {
        qelt_body<SGN, MUL, true>(a, b, out, n, q);
    } else {
        qelt_body<SGN, MUL, false>(a, b, out, n, q);
    }
}

HK_INLINE void qelt_any(bool sgn, bool mul, const uint8_t* a, const uint8_t* b, bool bs, uint8_t* out, long n,
        const QeltParams& q) {
    if (sgn) {
        if (mul) qelt_pick<true, true>(a, b, bs, out, n, q);
        else qelt_pick<true, false>(a, b, bs, out, n, q);
    } else {
        if (mul) qelt_pick<false, true>(a, b, bs, out, n, q);
        else qelt_pick<false, false>(a, b, bs, out, n, q);
    }
}

#if defined(HK_X86)
HK_T_AVX512 inline void qelt_avx512(bool sgn, bool mul, const uint8_t* a, const uint8_t* b, bool bs, uint8_t* out,
        long n, const QeltParams& q) {
    qelt_any(sgn, mul, a, b, bs, out, n, q);
}
HK_T_AVX2 inline void qelt_avx2(bool sgn, bool mul, const uint8_t* a, const uint8_t* b, bool bs, uint8_t* out,
        long n, const QeltParams& q) {
    qelt_any(sgn, mul, a, b, bs, out, n, q);
}
#endif

inline void qelt_run(int isa, bool sgn, bool mul, const uint8_t* a, const uint8_t* b, bool bs, uint8_t* out, long n,
        const QeltParams& q) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return qelt_avx512(sgn, mul, a, b, bs, out, n, q);
    if (isa == ISA_AVX2) return qelt_avx2(sgn, mul, a, b, bs, out, n, q);
#endif
    (void) isa;
    qelt_any(sgn, mul, a, b, bs, out, n, q);
}

// Elements [i0, i0 + n) of the output: a is full; b is full (bfull) or holds `mid` values, b[(i / inner) % mid]
// pairing with element i (a per-channel vector or a scalar broadcast over a).
inline void qelt(int isa, bool sgn, bool mul, const uint8_t* a, const uint8_t* b, bool bfull, long mid, long inner,
        uint8_t* out, long i0, long n, const QeltParams& q) {
    if (bfull) {
        qelt_run(isa, sgn, mul, a + i0, b + i0, false, out + i0, n, q);
        return;
    }
    long i = i0;
    const long end = i0 + n;
    while (i < end) {
        long run = i / inner;
        long stop = std::min(end, (run + 1) * inner);
        qelt_run(isa, sgn, mul, a + i, b + run % mid, true, out + i, stop - i, q);
        i = stop;
    }
}

// ---- global average pool --------------------------------------------------------------------------------

// Sum of n bytes as stored (unsigned) or as int8.
template <bool SGN>
HK_INLINE int64_t qsum_body(const uint8_t* x, long n) {
    int32_t s = 0;  // n < 2^23 (checked in Java): cannot overflow
    for (long i = 0; i < n; i++) s += qelt_ld<SGN>(x, i);
    return s;
}

#if defined(HK_X86)
// vpsadbw against 0 sums groups of 8 unsigned bytes; int8 bytes are biased by 128 first (x ^ 0x80).
HK_T_AVX512 inline int64_t qsum_avx512(const uint8_t* x, long n, bool sgn) {
    const __m512i bias = _mm512_set1_epi8(sgn ? (char) 0x80 : 0);
    __m512i acc = _mm512_setzero_si512();
    long i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_xor_si512(_mm512_loadu_si512(x + i), bias);
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, _mm512_setzero_si512()));
    }
    if (i < n) {
        __mmask64 m = n - i == 64 ? ~0ULL : (1ULL << (n - i)) - 1;
        __m512i v = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), bias));
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, _mm512_setzero_si512()));
    }
    alignas(64) int64_t lanes[8];
    _mm512_store_si512(lanes, acc);
    int64_t s = 0;
    for (int k = 0; k < 8; k++) s += lanes[k];
    return sgn ? s - 128 * (int64_t) n : s;
}

HK_T_AVX2 inline int64_t qsum_avx2(const uint8_t* x, long n, bool sgn) {
    const __m256i bias = _mm256_set1_epi8(sgn ? (char) 0x80 : 0);
    __m256i acc = _mm256_setzero_si256();
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), bias);
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, _mm256_setzero_si256()));
    }
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    int64_t s = _mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1);
    s = sgn ? s - 128 * (int64_t) i : s;
    return s + (sgn ? qsum_body<true>(x + i, n - i) : qsum_body<false>(x + i, n - i));
}
#endif

inline int64_t qsum(int isa, const uint8_t* x, long n, bool sgn) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return qsum_avx512(x, n, sgn);
    if (isa == ISA_AVX2) return qsum_avx2(x, n, sgn);
#endif
    (void) isa;
    return sgn ? qsum_body<true>(x, n) : qsum_body<false>(x, n);
}

// QFixed.Average for one divisor n = size: y = sat(((S * mult + 2^(shift-1)) >> shift) + zy), S = sum(x - zx).
inline void qgavg(int isa, bool sgn, const uint8_t* x, long planes, long size, int64_t mult, int shift, int zx,
        int zy, int lo, int hi, uint8_t* out) {
    for (long p = 0; p < planes; p++) {
        int64_t s = qsum(isa, x + p * size, size, sgn) - (int64_t) size * zx;
        int64_t v = ((s * mult + ((int64_t) 1 << (shift - 1))) >> shift) + zy;
        v = v < lo ? lo : v > hi ? hi : v;
        out[p] = (uint8_t) v;
    }
}

// ---- windowed average pool ------------------------------------------------------------------------------

// QFixed.Average over windows: per output the integer sum of (x - zx) over the taps inside the image (taps come
// from fpool_taps, as for the float pools), its divisor n (taps inside the image and the explicit padding with
// count_pad, else inside the image), then mult[n - 1], shift[n - 1]; a window without taps gives zy (clamped).
template <bool SGN>
HK_INLINE void qavgpool_body(const uint8_t* x, const PoolGeom& g, long planes, bool count_pad, const int64_t* mult,
        const int32_t* shift, int zx, int zy, int lo, int hi, uint8_t* out) {
    for (long c = 0; c < planes; c++) {
        const uint8_t* xs = x + c * g.H * g.W;
        for (long oh = 0; oh < g.OH; oh++) {
            long ih0 = oh * g.sh - g.pt;
            long i0, i1, r0, r1;
            fpool_taps(ih0, g.dh, g.KH, g.H, i0, i1);
            fpool_taps(oh * g.sh, g.dh, g.KH, g.H + g.pt + g.pb, r0, r1);
            uint8_t* o = out + (c * g.OH + oh) * g.OW;
            for (long ow = 0; ow < g.OW; ow++) {
                long start = ow * g.sw - g.pl;
                long j0, j1, p0, p1;
                fpool_taps(start, g.dw, g.KW, g.W, j0, j1);
                fpool_taps(start + g.pl, g.dw, g.KW, g.W + g.pl + g.pr, p0, p1);
                int64_t sum = 0;
                for (long i = i0; i < i1; i++) {
                    const uint8_t* row = xs + (ih0 + i * g.dh) * g.W + start;
                    for (long j = j0; j < j1; j++) sum += qelt_ld<SGN>(row, j * g.dw);
                }
                long inside = (i1 - i0) * (j1 - j0);
                long n = count_pad ? (r1 - r0) * (p1 - p0) : inside;
                int64_t v;
                if (n == 0) {
                    v = zy;
                } else {
                    sum -= (int64_t) inside * zx;
                    v = ((sum * mult[n - 1] + ((int64_t) 1 << (shift[n - 1] - 1))) >> shift[n - 1]) + zy;
                }
                v = v < lo ? lo : v > hi ? hi : v;
                o[ow] = (uint8_t) v;
            }
        }
    }
}

}  // namespace hk

// ---- entry points (bound by NativeKernels) -------------------------------------------------------------

inline void hk_qelt(int isa, int is_mul, int is_signed, signed char* a, long aoff, signed char* b, long boff,
        int bfull, long mid, long inner, signed char* out, long ooff, long i0, long n, int ma, int mb, int shift,
        int za, int zb, int zc, int lo, int hi) {
    auto p = [](signed char* q, long off) { return reinterpret_cast<uint8_t*>(q) + off; };
    hk::QeltParams q{ma, mb, shift, za, zb, zc, lo, hi};
    hk::qelt(isa, is_signed != 0, is_mul != 0, p(a, aoff), p(b, boff), bfull != 0, mid, inner, p(out, ooff), i0, n,
            q);
}

inline void hk_qgavg(int isa, int is_signed, signed char* x, long xoff, long planes, long size, long mult, int shift,
        int zx, int zy, int lo, int hi, signed char* out, long ooff) {
    hk::qgavg(isa, is_signed != 0, reinterpret_cast<uint8_t*>(x) + xoff, planes, size, mult, shift, zx, zy, lo, hi,
            reinterpret_cast<uint8_t*>(out) + ooff);
}

// table: int64 mult[KH * KW] then int32 shift[KH * KW], the multipliers of divisors 1 .. KH * KW.
inline void hk_qavgpool(int is_signed, signed char* x, long xoff, long planes, long H, long W, long KH, long KW,
        long sh, long sw, long dh, long dw, long pt, long pl, long pb, long pr, long OH, long OW, int count_pad,
        signed char* table, long toff, int zx, int zy, int lo, int hi, signed char* out, long ooff) {
    hk::PoolGeom g;
    static_cast<hk::Geom&>(g) = hk::Geom{planes, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    g.pb = pb;
    g.pr = pr;
    const uint8_t* t = reinterpret_cast<uint8_t*>(table) + toff;
    const int64_t* mult = reinterpret_cast<const int64_t*>(t);
    const int32_t* shift = reinterpret_cast<const int32_t*>(t + 8 * KH * KW);
    const uint8_t* xp = reinterpret_cast<uint8_t*>(x) + xoff;
    uint8_t* op = reinterpret_cast<uint8_t*>(out) + ooff;
    if (is_signed) {
        hk::qavgpool_body<true>(xp, g, planes, count_pad != 0, mult, shift, zx, zy, lo, hi, op);
    } else {
        hk::qavgpool_body<false>(xp, g, planes, count_pad != 0, mult, shift, zx, zy, lo, hi, op);
    }
}
