// LSTM with int8 weights (weight-only: float activations and state), AVX-512. One direction over a sequence:
//   gates = bias + sW ⊙ (x_t · Wqᵀ) + sR ⊙ (h · Rqᵀ)        (gate order i, o, f, c; per gate-row scales)
//   i, o, f = σ(.), ĉ = tanh(.), c = f c + i ĉ, h = o tanh(c)
// The weights stay int8 (a quarter of the float bytes: the products of one step at batch 1 are a pass over the
// weights, so memory decides their speed) and are widened to float in registers; each product runs over blocks
// of 64 gate columns with the accumulators in registers, the weights packed [K][4H] so a block's 64 bytes of
// one k are contiguous. exp is a degree-6 polynomial after range reduction (within 2 ulp of expf); σ and tanh
// are formed from it with one division.
#pragma once

#include "hk_common.h"

namespace hk {

#if defined(HK_X86)
HK_T_AVX512 HK_INLINE __m512 lstm_exp(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
    return _mm512_scalef_ps(p, n);
}

HK_T_AVX512 HK_INLINE __m512 lstm_sigmoid(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.f);
    return _mm512_div_ps(one, _mm512_add_ps(one, lstm_exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|): no cancellation for large |x|, and for small |x| the
// error stays a few ulp of 1 (absolute), as the float reference's is.
HK_T_AVX512 HK_INLINE __m512 lstm_tanh(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.f);
    const __m512 ax = _mm512_abs_ps(x);
    const __m512 e = lstm_exp(_mm512_mul_ps(ax, _mm512_set1_ps(-2.f)));
    const __m512 t = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t),
            _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int) 0x80000000u))));
}

// g[0, n) += s ⊙ (v · Wq) for Wq [K][n] int8 (row stride n); n a multiple of 16.
HK_T_AVX512 inline void lstm_gemv(float* g, const float* v, long K, const int8_t* w, long n, const float* s) {
    long j = 0;
    for (; j + 64 <= n; j += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        const int8_t* wk = w + j;
        for (long k = 0; k < K; k++, wk += n) {
            const __m512 x = _mm512_set1_ps(v[k]);
            a0 = _mm512_fmadd_ps(x, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*) wk))), a0);
            a1 = _mm512_fmadd_ps(x, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*) (wk + 16)))), a1);
            a2 = _mm512_fmadd_ps(x, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*) (wk + 32)))), a2);
            a3 = _mm512_fmadd_ps(x, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*) (wk + 48)))), a3);
        }
        _mm512_storeu_ps(g + j, _mm512_fmadd_ps(a0, _mm512_loadu_ps(s + j), _mm512_loadu_ps(g + j)));
        _mm512_storeu_ps(g + j + 16, _mm512_fmadd_ps(a1, _mm512_loadu_ps(s + j + 16), _mm512_loadu_ps(g + j + 16)));
        _mm512_storeu_ps(g + j + 32, _mm512_fmadd_ps(a2, _mm512_loadu_ps(s + j + 32), _mm512_loadu_ps(g + j + 32)));
        _mm512_storeu_ps(g + j + 48, _mm512_fmadd_ps(a3, _mm512_loadu_ps(s + j + 48), _mm512_loadu_ps(g + j + 48)));
    }
    for (; j < n; j += 16) {
        __m512 a = _mm512_setzero_ps();
        const int8_t* wk = w + j;
        for (long k = 0; k < K; k++, wk += n) {
            a = _mm512_fmadd_ps(_mm512_set1_ps(v[k]),
                    _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*) wk))), a);
        }
        _mm512_storeu_ps(g + j, _mm512_fmadd_ps(a, _mm512_loadu_ps(s + j), _mm512_loadu_ps(g + j)));
    }
}

// One direction. x [seq][batch][I] (row stride xs floats between steps), h and c [batch][H] in/out, y (or null)
// gets h of step t at y + t * ys. H a multiple of 16. g: scratch of 4H floats.
HK_T_AVX512 inline void lstm_q8_avx512(const float* x, long seq, long batch, long I, long H, long xs,
        const int8_t* wt, const float* ws, const int8_t* rt, const float* rs, const float* bias, float* h, float* c,
        float* y, long ys, bool reverse, float* g) {
    const long G = 4 * H;
    for (long s = 0; s < seq; s++) {
        const long t = reverse ? seq - 1 - s : s;
        for (long b = 0; b < batch; b++) {
            float* hb = h + b * H;
            float* cb = c + b * H;
            std::memcpy(g, bias, 4 * G);
            lstm_gemv(g, x + t * xs + b * I, I, wt, G, ws);
            lstm_gemv(g, hb, H, rt, G, rs);
            for (long j = 0; j < H; j += 16) {
                const __m512 ig = lstm_sigmoid(_mm512_loadu_ps(g + j));
                const __m512 og = lstm_sigmoid(_mm512_loadu_ps(g + H + j));
                const __m512 fg = lstm_sigmoid(_mm512_loadu_ps(g + 2 * H + j));
                const __m512 cg = lstm_tanh(_mm512_loadu_ps(g + 3 * H + j));
                const __m512 cn = _mm512_fmadd_ps(fg, _mm512_loadu_ps(cb + j), _mm512_mul_ps(ig, cg));
                _mm512_storeu_ps(cb + j, cn);
                _mm512_storeu_ps(hb + j, _mm512_mul_ps(og, lstm_tanh(cn)));
            }
            if (y != nullptr) {
                std::memcpy(y + t * ys + b * H, hb, 4 * H);
            }
        }
    }
}
#endif

}  // namespace hk

// ---- entry point (bound by NativeKernels) --------------------------------------------------------------

// AVX-512 only (the caller checks). Offsets in bytes; y may be null.
inline void hk_lstm_q8(signed char* x, long xoff, long seq, long batch, long I, long H, long xs, signed char* wt,
        long wtoff, signed char* ws, long wsoff, signed char* rt, long rtoff, signed char* rs, long rsoff,
        signed char* bias, long boff, signed char* h, long hoff, signed char* c, long coff, signed char* y, long yoff,
        long ys, int reverse, signed char* scratch, long soff) {
#if defined(HK_X86)
    auto f = [](signed char* p, long off) { return reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(p) + off); };
    auto q = [](signed char* p, long off) { return reinterpret_cast<const int8_t*>(p + off); };
    hk::lstm_q8_avx512(f(x, xoff), seq, batch, I, H, xs, q(wt, wtoff), f(ws, wsoff), q(rt, rtoff), f(rs, rsoff),
            f(bias, boff), f(h, hoff), f(c, coff), y == nullptr ? nullptr : f(y, yoff), ys, reverse != 0,
            f(scratch, soff));
#else
    (void) x, (void) xoff, (void) seq, (void) batch, (void) I, (void) H, (void) xs, (void) wt, (void) wtoff;
    (void) ws, (void) wsoff, (void) rt, (void) rtoff, (void) rs, (void) rsoff, (void) bias, (void) boff, (void) h;
    (void) hoff, (void) c, (void) coff, (void) y, (void) yoff, (void) ys, (void) reverse, (void) scratch;
    (void) soff;
#endif
}
