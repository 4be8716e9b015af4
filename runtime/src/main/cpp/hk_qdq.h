// QuantizeLinear (float32 -> 8-bit) and DequantizeLinear (8-bit -> float32) with one scale and zero point,
// exactly as the Java reference computes them:
//   Q:  r = rint(x / scale) + (float) zp in float32 (division, ties to even, addition), then clamp to [lo, hi];
//       NaN gives 0 (Java's (int) NaN).
//   DQ: y = (float) (q - zp) * scale.
#pragma once

#include "hk_common.h"

namespace hk {

HK_INLINE void quantize_body(const float* x, long n, float scale, float zp, float lo, float hi, bool is_signed,
        uint8_t* out) {
    for (long i = 0; i < n; i++) {
        float r = std::nearbyint(x[i] / scale) + zp;
        int32_t q = r != r ? 0 : (int32_t) std::max(lo, std::min(hi, r));
        out[i] = is_signed ? (uint8_t) (int8_t) q : (uint8_t) q;
    }
}

HK_INLINE void dequantize_body(const uint8_t* x, long n, bool is_signed, int32_t zp, float scale, float* out) {
    for (long i = 0; i < n; i++) {
        int32_t q = is_signed ? (int32_t) (int8_t) x[i] : (int32_t) x[i];
        out[i] = (float) (q - zp) * scale;
    }
}

#if defined(HK_X86)
HK_T_AVX512 inline void quantize_avx512(const float* x, long n, float scale, float zp, float lo, float hi,
        bool is_signed, uint8_t* out) {
    const __m512 vs = _mm512_set1_ps(scale), vz = _mm512_set1_ps(zp);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 r = _mm512_add_ps(
                _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(x + i), vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                vz);
        // min/max return their second operand when one is NaN: with the bound first, NaN stays NaN
        __m512 c = _mm512_max_ps(vlo, _mm512_min_ps(vhi, r));
        __mmask16 ok = _mm512_cmp_ps_mask(c, c, _CMP_ORD_Q);
        __m512i q = _mm512_maskz_cvttps_epi32(ok, c);
        _mm_storeu_si128((__m128i*) (out + i), _mm512_cvtepi32_epi8(q));
    }
    quantize_body(x + i, n - i, scale, zp, lo, hi, is_signed, out + i);
}

HK_T_AVX512 inline void dequantize_avx512(const uint8_t* x, long n, bool is_signed, int32_t zp, float scale,
        float* out) {
    const __m512i vz = _mm512_set1_epi32(zp);
    const __m512 vs = _mm512_set1_ps(scale);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i*) (x + i));
        __m512i q = is_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, vz)), vs));
    }
    dequantize_body(x + i, n - i, is_signed, zp, scale, out + i);
}

HK_T_AVX2 inline void quantize_avx2(const float* x, long n, float scale, float zp, float lo, float hi,
        bool is_signed, uint8_t* out) {
    quantize_body(x, n, scale, zp, lo, hi, is_signed, out);
}

HK_T_AVX2 inline void dequantize_avx2(const uint8_t* x, long n, bool is_signed, int32_t zp, float scale,
        float* out) {
    dequantize_body(x, n, is_signed, zp, scale, out);
}
#endif

inline void quantize(int isa, const float* x, long n, float scale, int32_t zp, float lo, float hi, bool is_signed,
        uint8_t* out) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return quantize_avx512(x, n, scale, (float) zp, lo, hi, is_signed, out);
    if (isa == ISA_AVX2) return quantize_avx2(x, n, scale, (float) zp, lo, hi, is_signed, out);
#endif
    (void) isa;
    quantize_body(x, n, scale, (float) zp, lo, hi, is_signed, out);
}

inline void dequantize(int isa, const uint8_t* x, long n, bool is_signed, int32_t zp, float scale, float* out) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return dequantize_avx512(x, n, is_signed, zp, scale, out);
    if (isa == ISA_AVX2) return dequantize_avx2(x, n, is_signed, zp, scale, out);
#endif
    (void) isa;
    dequantize_body(x, n, is_signed, zp, scale, out);
}

}  // namespace hk
