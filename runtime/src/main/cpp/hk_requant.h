// Requantization of int32 accumulators, bit-exact with ONNX Runtime's float path:
//   acc = raw + bias[ch] - zr * cadj[col] - zc[col] * rsum      (int32, wrapping)
//   v   = (float) acc * mult[ch]                                  (mult = x_scale * w_scale[ch] / y_scale)
//   q   = round_half_even(clamp(v, lo - yzp, hi - yzp)) + yzp
// Clamping in float before rounding equals rounding then saturating (the bounds are integers), and keeps
// huge values away from the integer conversion. The zero-point terms expand sum((r - zr)(c - zc)) of the
// packed operands (see hk_qgemm.h); kernels that subtract zero points themselves pass zr = zc = 0.
#pragma once

#include "hk_common.h"

namespace hk {

enum OutType { OUT_U8 = 0, OUT_S8 = 1, OUT_S32 = 2 };

// Requantization parameters as laid out by the Java side (dev.hedge.kernels.cpu.Requant):
// int32 header [channels, y_zero_point, lo, hi, out_type] in 64 bytes, then float mult[channels],
// then (64-aligned) int32 bias[channels].
struct Requant {
    int32_t channels;
    int32_t yzp;
    int32_t lo;
    int32_t hi;
    int32_t out_type;
    const float* mult;
    const int32_t* bias;

    static Requant from(const signed char* p) {
        Requant q;
        std::memcpy(&q.channels, p, 4);
        std::memcpy(&q.yzp, p + 4, 4);
        std::memcpy(&q.lo, p + 8, 4);
        std::memcpy(&q.hi, p + 12, 4);
        std::memcpy(&q.out_type, p + 16, 4);
        q.mult = reinterpret_cast<const float*>(p + 64);
        q.bias = reinterpret_cast<const int32_t*>(p + 64 + align64(4L * q.channels));
        return q;
    }

    float lof() const { return (float) (lo - yzp); }
    float hif() const { return (float) (hi - yzp); }
    int out_size() const { return out_type == OUT_S32 ? 4 : 1; }
};

// One output row of n values. Channel parameters are per column (per_col) or one for the row.
struct RowArgs {
    const int32_t* raw;
    int n;
    int32_t zr;
    int32_t rsum;
    const int32_t* cadj;  // per column, or null for zeros
    const int32_t* zc;    // per column, or null for zeros
    bool per_col;
    const float* mult;    // per column when per_col, else the row's channel value
    const int32_t* bias;
    void* out;
};

HK_INLINE int32_t correct(int32_t raw, int32_t bias, int32_t zr, int32_t cadj, int32_t zc, int32_t rsum) {
    return (int32_t) ((uint32_t) raw + (uint32_t) bias - (uint32_t) zr * (uint32_t) cadj
            - (uint32_t) zc * (uint32_t) rsum);
}

HK_INLINE int32_t requant1(int32_t acc, float m, float lof, float hif, int32_t yzp) {
    float v = (float) acc * m;
    v = std::min(std::max(v, lof), hif);
    return (int32_t) std::nearbyint(v) + yzp;
}

HK_INLINE void requant_scalar_from(const RowArgs& a, const Requant& q, int c0) {
    float lof = q.lof(), hif = q.hif();
    for (int c = c0; c < a.n; c++) {
        int32_t bias = a.per_col ? a.bias[c] : a.bias[0];
        int32_t acc = correct(a.raw[c], bias, a.zr, a.cadj ? a.cadj[c] : 0, a.zc ? a.zc[c] : 0, a.rsum);
        if (q.out_type == OUT_S32) {
            static_cast<int32_t*>(a.out)[c] = acc;
            continue;
        }
        float m = a.per_col ? a.mult[c] : a.mult[0];
        static_cast<uint8_t*>(a.out)[c] = (uint8_t) requant1(acc, m, lof, hif, q.yzp);
    }
}

inline void requant_row_scalar(const RowArgs& a, const Requant& q) {
    requant_scalar_from(a, q, 0);
}

#if defined(HK_X86)
// 16 corrected accumulators (as float) to 16 output bytes: v = acc * m clamped to [lo, hi] (bounds less the zero
// point), rounded to nearest even, plus the zero point. Within [lo, hi], a subrange of the output type: the
// truncating narrow is exact for u8 and s8.
HK_T_AVX512 HK_INLINE __m128i requant16_avx512(__m512 acc, __m512 m, __m512 lo, __m512 hi, __m512i yzp) {
    const __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(acc, m), lo), hi);
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), yzp));
}

// The same for 64 outputs at once (four vectors of 16 consecutive ones), in about half the operations: the
// clamp moves into saturating narrowings. round(acc * m) is narrowed to int16 with saturation, the zero point
// added with saturation, narrowed to 8 bits with saturation, then the bytes are clamped to [lo, hi]. Each step
// saturates to an interval holding the next one, so the bytes are clamp(round(acc * m) + yzp, lo, hi), as
// requant16_avx512 gives. Needs |acc * m| < 2^31 (fits(m)), so that the conversion cannot overflow.
struct Narrow64 {
    __m512i yzp16, lo8, hi8, order;
    bool u8, clamp;

    static bool fits(float m) { return m <= 0.5f; }  // |(float) int32| <= 2^31; false for NaN

    HK_T_AVX512 static Narrow64 of(const Requant& q) {
        Narrow64 n;
        n.u8 = q.out_type == OUT_U8;
        n.yzp16 = _mm512_set1_epi16((int16_t) q.yzp);
        n.lo8 = _mm512_set1_epi8((char) q.lo);
        n.hi8 = _mm512_set1_epi8((char) q.hi);
        n.clamp = n.u8 ? q.lo > 0 || q.hi < 255 : q.lo > -128 || q.hi < 127;
        // the packs work within 128-bit lanes: dword 4 l + v holds outputs 4 l .. 4 l + 3 of vector v
        alignas(64) int32_t idx[16];
        for (int v = 0; v < 4; v++) {
            for (int l = 0; l < 4; l++) idx[4 * v + l] = 4 * l + v;
        }
        n.order = _mm512_load_si512(idx);
        return n;
    }
};

// r[v]: round(acc * m) of vector v, as int32.
HK_T_AVX512 HK_INLINE __m512i narrow64_avx512(__m512i r0, __m512i r1, __m512i r2, __m512i r3, const Narrow64& n) {
    const __m512i a = _mm512_adds_epi16(_mm512_packs_epi32(r0, r1), n.yzp16);
    const __m512i b = _mm512_adds_epi16(_mm512_packs_epi32(r2, r3), n.yzp16);
    __m512i y = _mm512_permutexvar_epi32(n.order, n.u8 ? _mm512_packus_epi16(a, b) : _mm512_packs_epi16(a, b));
    if (n.clamp) {
        y = n.u8 ? _mm512_min_epu8(_mm512_max_epu8(y, n.lo8), n.hi8) : _mm512_min_epi8(_mm512_max_epi8(y, n.lo8), n.hi8);
    }
    return y;
}

HK_T_AVX512 HK_INLINE __m512i round_scaled_avx512(__m512i acc, __m512 m) {
    return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), m));
}

// NV vectors of corrected accumulators (v[t]: 16 consecutive outputs; NV below 4 or a multiple of 4) with
// multiplier m, to the first n bytes at out (0 < n <= 16 NV): 64 at a time through Narrow64 when the multiplier
// fits (Narrow64::fits), else 16 at a time. Masks, not branches, for the tail. Rounds v in place: a second
// array of NV registers made the sparse kernel's 8-row blocks spill (3 % slower).
template <int NV>
HK_T_AVX512 HK_INLINE void requant_store_avx512(__m512i* v, __m512 m, bool fits, long n, uint8_t* out,
        const Narrow64& nw, __m512 lo, __m512 hi, __m512i yzp) {
    static_assert(NV < 4 || NV % 4 == 0, "vectors in whole groups of four");
    if (fits) {
        HK_UNROLL for (int t = 0; t < NV; t++) v[t] = round_scaled_avx512(v[t], m);
        const __m512i z = _mm512_setzero_si512();
        HK_UNROLL for (int t = 0; t < NV; t += 4) {
            const long rem = n - t * 16;
            const __mmask64 k = rem >= 64 ? ~(__mmask64) 0 : rem <= 0 ? 0 : (((__mmask64) 1) << rem) - 1;
            _mm512_mask_storeu_epi8(out + t * 16, k, narrow64_avx512(v[t], t + 1 < NV ? v[t + 1] : z,
                    t + 2 < NV ? v[t + 2] : z, t + 3 < NV ? v[t + 3] : z, nw));
        }
        return;
    }
    HK_UNROLL for (int t = 0; t < NV; t++) {
        const long rem = n - t * 16;
        const __mmask16 k = rem >= 16 ? (__mmask16) 0xFFFF : rem <= 0 ? (__mmask16) 0 : (__mmask16) ((1u << rem) - 1);
        _mm_mask_storeu_epi8(out + t * 16, k, requant16_avx512(_mm512_cvtepi32_ps(v[t]), m, lo, hi, yzp));
    }
}

HK_T_AVX512 inline void requant_row_avx512(const RowArgs& a, const Requant& q) {
    const __m512i vzr = _mm512_set1_epi32(a.zr);
    const __m512i vrsum = _mm512_set1_epi32(a.rsum);
    const __m512i vyzp = _mm512_set1_epi32(q.yzp);
    const __m512 vlo = _mm512_set1_ps(q.lof());
    const __m512 vhi = _mm512_set1_ps(q.hif());
    const __m512i bias1 = _mm512_set1_epi32(a.bias[0]);
    const __m512 mult1 = _mm512_set1_ps(q.out_type == OUT_S32 ? 0.f : a.mult[0]);
    const bool corr_c = a.cadj != nullptr && a.zr != 0;
    const bool corr_z = a.zc != nullptr && a.rsum != 0;
    for (int c = 0; c < a.n; c += 16) {
        int rem = a.n - c;
        __mmask16 k = rem >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << rem) - 1);
        __m512i acc = _mm512_maskz_loadu_epi32(k, a.raw + c);
        acc = _mm512_add_epi32(acc, a.per_col ? _mm512_maskz_loadu_epi32(k, a.bias + c) : bias1);
        if (corr_c) {
            acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(vzr, _mm512_maskz_loadu_epi32(k, a.cadj + c)));
        }
        if (corr_z) {
            acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(vrsum, _mm512_maskz_loadu_epi32(k, a.zc + c)));
        }
        if (q.out_type == OUT_S32) {
            _mm512_mask_storeu_epi32(static_cast<int32_t*>(a.out) + c, k, acc);
            continue;
        }
        __m512 m = a.per_col ? _mm512_maskz_loadu_ps(k, a.mult + c) : mult1;
        _mm_mask_storeu_epi8(static_cast<uint8_t*>(a.out) + c, k, requant16_avx512(_mm512_cvtepi32_ps(acc), m, vlo, vhi, vyzp));
    }
}

HK_T_AVX2 inline void requant_row_avx2(const RowArgs& a, const Requant& q) {
    const __m256i vzr = _mm256_set1_epi32(a.zr);
    const __m256i vrsum = _mm256_set1_epi32(a.rsum);
    const __m256i vyzp = _mm256_set1_epi32(q.yzp);
    const __m256 vlo = _mm256_set1_ps(q.lof());
    const __m256 vhi = _mm256_set1_ps(q.hif());
    const __m256i bias1 = _mm256_set1_epi32(a.bias[0]);
    const __m256 mult1 = _mm256_set1_ps(q.out_type == OUT_S32 ? 0.f : a.mult[0]);
    const bool corr_c = a.cadj != nullptr && a.zr != 0;
    const bool corr_z = a.zc != nullptr && a.rsum != 0;
    int c = 0;
    for (; c + 8 <= a.n; c += 8) {
        __m256i acc = _mm256_loadu_si256((const __m256i*) (a.raw + c));
        acc = _mm256_add_epi32(acc, a.per_col ? _mm256_loadu_si256((const __m256i*) (a.bias + c)) : bias1);
        if (corr_c) {
            acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(vzr, _mm256_loadu_si256((const __m256i*) (a.cadj + c))));
        }
        if (corr_z) {
            acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(vrsum, _mm256_loadu_si256((const __m256i*) (a.zc + c))));
        }
        if (q.out_type == OUT_S32) {
            _mm256_storeu_si256((__m256i*) (static_cast<int32_t*>(a.out) + c), acc);
            continue;
        }
        __m256 m = a.per_col ? _mm256_loadu_ps(a.mult + c) : mult1;
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), m);
        v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
        __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(v), vyzp);
        // r is within [lo, hi], a subrange of the output type: saturating packs change nothing
        __m128i s16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        __m128i b = q.out_type == OUT_U8 ? _mm_packus_epi16(s16, s16) : _mm_packs_epi16(s16, s16);
        _mm_storel_epi64((__m128i*) (static_cast<uint8_t*>(a.out) + c), b);
    }
    requant_scalar_from(a, q, c);
}
#endif

#if defined(HK_ARM64)
inline void requant_row_neon(const RowArgs& a, const Requant& q) {
    const int32x4_t vzr = vdupq_n_s32(a.zr);
    const int32x4_t vrsum = vdupq_n_s32(a.rsum);
    const int32x4_t vyzp = vdupq_n_s32(q.yzp);
    const float32x4_t vlo = vdupq_n_f32(q.lof());
    const float32x4_t vhi = vdupq_n_f32(q.hif());
    const int32x4_t bias1 = vdupq_n_s32(a.bias[0]);
    const float32x4_t mult1 = vdupq_n_f32(q.out_type == OUT_S32 ? 0.f : a.mult[0]);
    int c = 0;
    for (; c + 4 <= a.n; c += 4) {
        int32x4_t acc = vaddq_s32(vld1q_s32(a.raw + c), a.per_col ? vld1q_s32(a.bias + c) : bias1);
        if (a.cadj) {
            acc = vmlsq_s32(acc, vzr, vld1q_s32(a.cadj + c));
        }
        if (a.zc) {
            acc = vmlsq_s32(acc, vrsum, vld1q_s32(a.zc + c));
        }
        if (q.out_type == OUT_S32) {
            vst1q_s32(static_cast<int32_t*>(a.out) + c, acc);
            continue;
        }
        float32x4_t m = a.per_col ? vld1q_f32(a.mult + c) : mult1;
        float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), m);
        v = vminq_f32(vmaxq_f32(v, vlo), vhi);
        int32x4_t r = vaddq_s32(vcvtnq_s32_f32(v), vyzp);
        int16x4_t s16 = vmovn_s32(r);
        uint8_t tmp[8];
        vst1_u8(tmp, vreinterpret_u8_s8(vmovn_s16(vcombine_s16(s16, s16))));
        std::memcpy(static_cast<uint8_t*>(a.out) + c, tmp, 4);
    }
    requant_scalar_from(a, q, c);
}
#endif

inline void requant_row(int isa, const RowArgs& a, const Requant& q) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) {
        requant_row_avx512(a, q);
        return;
    }
    if (isa == ISA_AVX2) {
        requant_row_avx2(a, q);
        return;
    }
#elif defined(HK_ARM64)
    if (isa == ISA_NEON || isa == ISA_NEON_DOT) {
        requant_row_neon(a, q);
        return;
    }
#endif
    requant_row_scalar(a, q);
}

// n accumulators of output channel c that carry no zero-point terms (the kernel subtracted them itself):
// requantized with that channel's multiplier and bias into out.
inline void requant_channel_row(int isa, const Requant& q, const int32_t* raw, int n, long c, void* out) {
    RowArgs a;
    a.raw = raw;
    a.n = n;
    a.zr = 0;
    a.rsum = 0;
    a.cadj = nullptr;
    a.zc = nullptr;
    a.per_col = false;
    a.mult = q.mult + c;
    a.bias = q.bias + c;
    a.out = out;
    requant_row(isa, a, q);
}

}  // namespace hk
