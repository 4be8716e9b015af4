// Sparse weights x dense activations: OUT[R][P] = W[R][K] (sparse) x X[K][P], vectorised over P.
//
// Weights arrive in the kernels' own layout, built and validated by the Java side
// (dev.hedge.kernels.cpu.SparseWeights) from Hedge's CSR / block-CSR encoding:
//   int32 header [R, K, BR, EP|BC, block_rows, entries, off_rowptr, off_col, off_w, off_zw, any_zw] (64 bytes),
//   rowptr[block_rows + 1] (entries per block row), col[entries] (first k-pair / first k),
//   values per entry in [step][r] order.
// int8: an entry is BR rows x EP k-pairs, each value an int32 holding two int16 weights (w[k], w[k+1]) with
//   zero where the pair has no stored weight. Activations are repacked per run as int16 (x - zx) pairs
//   X2[K/2][Ppad][2], so acc = sum over stored weights of (x - zx) * w; stored-as-absent weights are raw 0,
//   which contribute -zw * sum_k (x - zx) when the weight zero point zw is not 0 (S[p] below).
// int8, AVX-512 VNNI ("k4" format, signed weights): an entry is BR rows of one k-group (4 consecutive k),
//   each value an int32 holding the group's four s8 weights (zero where nothing is stored). Activations are
//   the dense GEMM's CONV-variant panel (hk_pack.h, 64 columns per panel), so acc = sum x' w - zx' * rsum[r]
//   - zw[r] * cadj[p] with the panel's column sums, exactly as in the dense kernel.
// fp32: an entry is BR rows x BC consecutive k, values float.
#pragma once

#include <vector>

#include "hk_qgemm.h"

namespace hk {

struct SparseHdr {
    int32_t R, K, BR, EB, nbr, nent;
    const int32_t* rowptr;
    const int32_t* col;
    const void* w;
    const int32_t* zw;
    bool any_zw;
    const int32_t* rsum;  // k4 format: per-row sum of the stored weights

    static SparseHdr from(const signed char* p) {
        int32_t h[12];
        std::memcpy(h, p, sizeof h);
        SparseHdr s;
        s.R = h[0];
        s.K = h[1];
        s.BR = h[2];
        s.EB = h[3];
        s.nbr = h[4];
        s.nent = h[5];
        s.rowptr = reinterpret_cast<const int32_t*>(p + h[6]);
        s.col = reinterpret_cast<const int32_t*>(p + h[7]);
        s.w = p + h[8];
        s.zw = reinterpret_cast<const int32_t*>(p + h[9]);
        s.any_zw = h[10] != 0;
        s.rsum = h[11] != 0 ? reinterpret_cast<const int32_t*>(p + h[11]) : nullptr;
        return s;
    }
};

// X2[kp][p][2] = (x[2kp][p] - zx, x[2kp+1][p] - zx) for p < P, zero elsewhere; S[p] = sum_k (x[k][p] - zx).
HK_INLINE void sq8_pack_x_body(const uint8_t* x, bool u, int32_t zx, long K, long P, long s_k, long s_p,
        int16_t* X2, long Ppad, int32_t* S) {
    long K2 = (K + 1) / 2;
    std::memset(X2, 0, sizeof(int16_t) * 2 * K2 * Ppad);
    for (long k = 0; k < K; k++) {
        int16_t* d = X2 + ((k >> 1) * Ppad) * 2 + (k & 1);
        const uint8_t* s = x + k * s_k;
        if (u) {
            for (long p = 0; p < P; p++) d[2 * p] = (int16_t) ((int32_t) s[p * s_p] - zx);
        } else {
            for (long p = 0; p < P; p++) d[2 * p] = (int16_t) ((int32_t) (int8_t) s[p * s_p] - zx);
        }
    }
    if (S != nullptr) {
        for (long p = 0; p < Ppad; p++) S[p] = 0;
        for (long kp = 0; kp < K2; kp++) {
            const int16_t* r = X2 + kp * Ppad * 2;
            for (long p = 0; p < P; p++) S[p] += r[2 * p] + r[2 * p + 1];
        }
    }
}

HK_INLINE void sq8_emit(int isa, const SparseHdr& s, long row, const int32_t* raw, long p0, long n,
        const int32_t* S, const Requant& q, uint8_t* out, long ldo) {
    RowArgs a;
    a.raw = raw;
    a.n = (int) n;
    a.zr = s.zw[row];
    a.rsum = 0;
    a.cadj = s.any_zw && S != nullptr ? S + p0 : nullptr;
    a.zc = nullptr;
    a.per_col = false;
    a.mult = q.mult + row;
    a.bias = q.bias + row;
    a.out = out + (row * ldo + p0) * q.out_size();
    requant_row(isa, a, q);
}

// Any P (used for P < 16 and on ISAs without a vector kernel).
inline void sq8_scalar(int isa, const SparseHdr& s, const int16_t* X2, long P, long Ppad, const int32_t* S,
        const Requant& q, uint8_t* out, long ldo) {
    const int32_t* wp = static_cast<const int32_t*>(s.w);
    int32_t raw[16];
    for (long b = 0; b < s.nbr; b++) {
        for (int r = 0; r < s.BR; r++) {
            long row = b * s.BR + r;
            for (long p0 = 0; p0 < P; p0 += 16) {
                long n = std::min<long>(16, P - p0);
                uint32_t acc[16] = {};
                for (long e = s.rowptr[b]; e < s.rowptr[b + 1]; e++) {
                    for (int qq = 0; qq < s.EB; qq++) {
                        int32_t wv = wp[(e * s.EB + qq) * s.BR + r];
                        int32_t w0 = (int16_t) (wv & 0xffff), w1 = (int16_t) (wv >> 16);
                        const int16_t* xr = X2 + ((s.col[e] + qq) * Ppad + p0) * 2;
                        for (long p = 0; p < n; p++) acc[p] += (uint32_t) (xr[2 * p] * w0 + xr[2 * p + 1] * w1);
                    }
                }
                for (long p = 0; p < n; p++) raw[p] = (int32_t) acc[p];
                sq8_emit(isa, s, row, raw, p0, n, S, q, out, ldo);
            }
        }
    }
}

#if defined(HK_X86)
template <int BR, int EP, int NT>
HK_T_AVX512 void sq8_avx512(const SparseHdr& s, const int16_t* X2, long P, long Ppad, const int32_t* S,
        const Requant& q, uint8_t* out, long ldo) {
    const int32_t* wp = static_cast<const int32_t*>(s.w);
    alignas(64) int32_t tile[BR][NT * 16];
    // pixel tiles outer: one tile of activations stays in L1 while every row of weights streams past
    for (long p0 = 0; p0 < P; p0 += NT * 16) {
        for (long b = 0; b < s.nbr; b++) {
            const long e0 = s.rowptr[b], e1 = s.rowptr[b + 1];
            __m512i acc[BR][NT];
            HK_UNROLL for (int r = 0; r < BR; r++) {
                HK_UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_si512();
            }
            for (long e = e0; e < e1; e++) {
                const int32_t* we = wp + e * EP * BR;
                HK_UNROLL for (int qq = 0; qq < EP; qq++) {
                    const int16_t* xr = X2 + ((s.col[e] + qq) * Ppad + p0) * 2;
                    __m512i xv[NT];
                    HK_UNROLL for (int t = 0; t < NT; t++) xv[t] = _mm512_loadu_si512(xr + t * 32);
                    HK_UNROLL for (int r = 0; r < BR; r++) {
                        __m512i w = _mm512_set1_epi32(we[qq * BR + r]);
                        HK_UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_dpwssd_epi32(acc[r][t], xv[t], w);
                    }
                }
            }
            long n = std::min<long>(NT * 16, P - p0);
            HK_UNROLL for (int r = 0; r < BR; r++) {
                HK_UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_si512(tile[r] + t * 16, acc[r][t]);
                sq8_emit(ISA_AVX512, s, b * BR + r, tile[r], p0, n, S, q, out, ldo);
            }
        }
    }
}

template <int BR, int EP, int NT>
HK_T_AVX2 void sq8_avx2(const SparseHdr& s, const int16_t* X2, long P, long Ppad, const int32_t* S,
        const Requant& q, uint8_t* out, long ldo) {
    const int32_t* wp = static_cast<const int32_t*>(s.w);
    alignas(32) int32_t tile[BR][NT * 8];
    // pixel tiles outer: one tile of activations stays in L1 while every row of weights streams past
    for (long p0 = 0; p0 < P; p0 += NT * 8) {
        for (long b = 0; b < s.nbr; b++) {
            const long e0 = s.rowptr[b], e1 = s.rowptr[b + 1];
            __m256i acc[BR][NT];
            HK_UNROLL for (int r = 0; r < BR; r++) {
                HK_UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_si256();
            }
            for (long e = e0; e < e1; e++) {
                const int32_t* we = wp + e * EP * BR;
                HK_UNROLL for (int qq = 0; qq < EP; qq++) {
                    const int16_t* xr = X2 + ((s.col[e] + qq) * Ppad + p0) * 2;
                    __m256i xv[NT];
                    HK_UNROLL for (int t = 0; t < NT; t++) xv[t] = _mm256_loadu_si256((const __m256i*) (xr + t * 16));
                    HK_UNROLL for (int r = 0; r < BR; r++) {
                        __m256i w = _mm256_set1_epi32(we[qq * BR + r]);
                        HK_UNROLL for (int t = 0; t < NT; t++) {
                            acc[r][t] = _mm256_add_epi32(acc[r][t], _mm256_madd_epi16(xv[t], w));
                        }
                    }
                }
            }
            long n = std::min<long>(NT * 8, P - p0);
            HK_UNROLL for (int r = 0; r < BR; r++) {
                HK_UNROLL for (int t = 0; t < NT; t++) _mm256_storeu_si256((__m256i*) (tile[r] + t * 8), acc[r][t]);
                sq8_emit(ISA_AVX2, s, b * BR + r, tile[r], p0, n, S, q, out, ldo);
            }
        }
    }
}
#endif

#if defined(HK_ARM64)
// int16 pairs: widening multiplies keep (x_k w_k, x_k+1 w_k+1) in neighbouring lanes, summed at the end.
template <int BR, int EP>
void sq8_neon(const SparseHdr& s, const int16_t* X2, long P, long Ppad, const int32_t* S, const Requant& q,
        uint8_t* out, long ldo) {
    const int32_t* wp = static_cast<const int32_t*>(s.w);
    int32_t tile[BR][8];
    // pixel tiles outer: one tile of activations stays in L1 while every row of weights streams past
    for (long p0 = 0; p0 < P; p0 += 8) {
        for (long b = 0; b < s.nbr; b++) {
            const long e0 = s.rowptr[b], e1 = s.rowptr[b + 1];
            int32x4_t acc[BR][4];
            HK_UNROLL for (int r = 0; r < BR; r++) {
                HK_UNROLL for (int t = 0; t < 4; t++) acc[r][t] = vdupq_n_s32(0);
            }
            for (long e = e0; e < e1; e++) {
                const int32_t* we = wp + e * EP * BR;
                HK_UNROLL for (int qq = 0; qq < EP; qq++) {
                    const int16_t* xr = X2 + ((s.col[e] + qq) * Ppad + p0) * 2;
                    int16x8_t x0 = vld1q_s16(xr), x1 = vld1q_s16(xr + 8);
                    HK_UNROLL for (int r = 0; r < BR; r++) {
                        int16x4_t w = vreinterpret_s16_s32(vdup_n_s32(we[qq * BR + r]));
                        acc[r][0] = vmlal_s16(acc[r][0], vget_low_s16(x0), w);
                        acc[r][1] = vmlal_s16(acc[r][1], vget_high_s16(x0), w);
                        acc[r][2] = vmlal_s16(acc[r][2], vget_low_s16(x1), w);
                        acc[r][3] = vmlal_s16(acc[r][3], vget_high_s16(x1), w);
                    }
                }
            }
            long n = std::min<long>(8, P - p0);
            HK_UNROLL for (int r = 0; r < BR; r++) {
                vst1q_s32(tile[r], vpaddq_s32(acc[r][0], acc[r][1]));
                vst1q_s32(tile[r] + 4, vpaddq_s32(acc[r][2], acc[r][3]));
                sq8_emit(ISA_NEON, s, b * BR + r, tile[r], p0, n, S, q, out, ldo);
            }
        }
    }
}
#endif

// Ppad must be a multiple of 64 and >= P; X2 then holds K/2 x Ppad pairs.
inline void sq8_gemm(int isa, const SparseHdr& s, const int16_t* X2, long P, long Ppad, const int32_t* S,
        const Requant& q, uint8_t* out, long ldo) {
    if (P >= 16) {
#if defined(HK_X86)
        if (isa == ISA_AVX512) {
            if (s.BR == 8) return sq8_avx512<8, 1, 2>(s, X2, P, Ppad, S, q, out, ldo);
            if (s.BR == 4) return sq8_avx512<4, 1, 2>(s, X2, P, Ppad, S, q, out, ldo);
            if (s.EB == 2) return sq8_avx512<1, 2, 4>(s, X2, P, Ppad, S, q, out, ldo);
            return sq8_avx512<1, 1, 4>(s, X2, P, Ppad, S, q, out, ldo);
        }
        if (isa == ISA_AVX2) {
            if (s.BR == 8) return sq8_avx2<8, 1, 1>(s, X2, P, Ppad, S, q, out, ldo);
            if (s.BR == 4) return sq8_avx2<4, 1, 2>(s, X2, P, Ppad, S, q, out, ldo);
            if (s.EB == 2) return sq8_avx2<1, 2, 4>(s, X2, P, Ppad, S, q, out, ldo);
            return sq8_avx2<1, 1, 4>(s, X2, P, Ppad, S, q, out, ldo);
        }
#elif defined(HK_ARM64)
        if (isa == ISA_NEON || isa == ISA_NEON_DOT) {
            if (s.BR == 8) return sq8_neon<8, 1>(s, X2, P, Ppad, S, q, out, ldo);
            if (s.BR == 4) return sq8_neon<4, 1>(s, X2, P, Ppad, S, q, out, ldo);
            if (s.EB == 2) return sq8_neon<1, 2>(s, X2, P, Ppad, S, q, out, ldo);
            return sq8_neon<1, 1>(s, X2, P, Ppad, S, q, out, ldo);
        }
#endif
    }
    sq8_scalar(isa, s, X2, P, Ppad, S, q, out, ldo);
}

#if defined(HK_X86)
HK_T_AVX512 inline void sq8_pack_x_avx512(const uint8_t* x, bool u, int32_t zx, long K, long P, long s_k,
        long s_p, int16_t* X2, long Ppad, int32_t* S) {
    sq8_pack_x_body(x, u, zx, K, P, s_k, s_p, X2, Ppad, S);
}
HK_T_AVX2 inline void sq8_pack_x_avx2(const uint8_t* x, bool u, int32_t zx, long K, long P, long s_k, long s_p,
        int16_t* X2, long Ppad, int32_t* S) {
    sq8_pack_x_body(x, u, zx, K, P, s_k, s_p, X2, Ppad, S);
}
#endif

inline void sq8_pack_x(int isa, const uint8_t* x, bool u, int32_t zx, long K, long P, long s_k, long s_p,
        int16_t* X2, long Ppad, int32_t* S) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return sq8_pack_x_avx512(x, u, zx, K, P, s_k, s_p, X2, Ppad, S);
    if (isa == ISA_AVX2) return sq8_pack_x_avx2(x, u, zx, K, P, s_k, s_p, X2, Ppad, S);
#endif
    (void) isa;
    sq8_pack_x_body(x, u, zx, K, P, s_k, s_p, X2, Ppad, S);
}

// The activation panel the k4 kernel reads for P columns: as narrow as P allows (16, 32 or 64 columns), so
// small batches do not stream padding.
inline int k4_panel_family(long P) {
    return F_VNNI | (P <= 16 ? 1 : P <= 32 ? 2 : 4) << 8;
}

#if defined(HK_X86)

// Writes g[r * gs + i] (r < rows <= 16, i < n; gs >= 64 a multiple of 64) to out[i * ldo + r]: 16 x 16 byte
// transposes, four per register.
HK_T_AVX512 inline void store_transposed16(const uint8_t* g, long gs, int rows, long n, uint8_t* out, long ldo) {
    const __mmask16 rm = (__mmask16) ((1u << rows) - 1);
    for (long c0 = 0; c0 < n; c0 += 64) {
        __m512i r[16];
        for (int i = 0; i < 16; i++) r[i] = _mm512_load_si512(g + i * gs + c0);
        // after four interleaving rounds d[c] holds, in 128-bit lane L, column 16 L + c of the 16 rows
        __m512i a[16], b[16], d[16];
        for (int i = 0; i < 8; i++) {
            a[i] = _mm512_unpacklo_epi8(r[2 * i], r[2 * i + 1]);      // columns 0-7, rows 2i, 2i+1
            a[8 + i] = _mm512_unpackhi_epi8(r[2 * i], r[2 * i + 1]);  // columns 8-15
        }
        for (int h = 0; h < 2; h++) {
            for (int j = 0; j < 4; j++) {
                b[h * 8 + j] = _mm512_unpacklo_epi16(a[h * 8 + 2 * j], a[h * 8 + 2 * j + 1]);      // 8h + 0-3
                b[h * 8 + 4 + j] = _mm512_unpackhi_epi16(a[h * 8 + 2 * j], a[h * 8 + 2 * j + 1]);  // 8h + 4-7
            }
        }
        for (int hg = 0; hg < 4; hg++) {  // columns 4 hg .. 4 hg + 3
            __m512i c[4];
            for (int l = 0; l < 2; l++) {
                c[l] = _mm512_unpacklo_epi32(b[hg * 4 + 2 * l], b[hg * 4 + 2 * l + 1]);      // 4hg + 0, 1
                c[2 + l] = _mm512_unpackhi_epi32(b[hg * 4 + 2 * l], b[hg * 4 + 2 * l + 1]);  // 4hg + 2, 3
            }
            for (int f = 0; f < 2; f++) {
                d[hg * 4 + 2 * f] = _mm512_unpacklo_epi64(c[2 * f], c[2 * f + 1]);
                d[hg * 4 + 2 * f + 1] = _mm512_unpackhi_epi64(c[2 * f], c[2 * f + 1]);
            }
        }
        for (int c = 0; c < 16; c++) {
            const __m128i l0 = _mm512_castsi512_si128(d[c]);
            const __m128i l1 = _mm512_extracti32x4_epi32(d[c], 1);
            const __m128i l2 = _mm512_extracti32x4_epi32(d[c], 2);
            const __m128i l3 = _mm512_extracti32x4_epi32(d[c], 3);
            if (c0 + c < n) _mm_mask_storeu_epi8(out + (c0 + c) * ldo, rm, l0);
            if (c0 + 16 + c < n) _mm_mask_storeu_epi8(out + (c0 + 16 + c) * ldo, rm, l1);
            if (c0 + 32 + c < n) _mm_mask_storeu_epi8(out + (c0 + 32 + c) * ldo, rm, l2);
            if (c0 + 48 + c < n) _mm_mask_storeu_epi8(out + (c0 + 48 + c) * ldo, rm, l3);
        }
    }
}

// k4 format over the dense panel of NR columns, output columns [p_begin, p_end) (multiples of NT * 16 apart,
// p_end within the padded panel): NT 16-column vectors, which may span adjacent panels, per stored entry.
// SETS: accumulator sets that consecutive entries alternate between, so that they do not wait on each other
// (worth it on rows of many entries; on short rows adding the sets up costs more). out_t: the output is
// transposed, OUT[p][row] (fully connected layers, whose columns are batch rows). Software prefetch of the
// panel rows of later entries, for panels larger than L1, measured slower (FC 1024x1024 at batch 64: 1x4
// blocks 66-67 us without, 68-71 with; 8x4 blocks 57-58 against 64-65).
template <int BR, int NT, int NR, int SETS>
HK_T_AVX512 void sq8_k4_avx512(const SparseHdr& s, const uint8_t* panel, long P, long p_begin, long p_end,
        const Requant& q, uint8_t* out, long ldo, bool out_t, long b_begin, long b_end) {
    const Fam f = Fam::of(F_VNNI | (NR / 16) << 8);
    const long kg = round_up(s.K, 4) / 4;
    const int32_t* cadj = ppack_trailer(f, WHO_ACT, const_cast<uint8_t*>(panel), P, s.K);
    const int32_t* zc = cadj + ppack_panels(f, P) * f.nr;
    const int32_t* wp = static_cast<const int32_t*>(s.w);
    const int osz = q.out_size();
    alignas(64) int32_t tile[BR][NT * 16];
    alignas(64) uint8_t obytes[NT * 16 * 4];
    constexpr int GS = NT * 16 < 64 ? 64 : NT * 16;
    alignas(64) uint8_t ogroup[16 * GS];
    const __m512i vyzp = _mm512_set1_epi32(q.yzp);
    const __m512 vlo = _mm512_set1_ps(q.lof());
    const __m512 vhi = _mm512_set1_ps(q.hif());
    const Narrow64 nw = Narrow64::of(q);
    const bool direct8 = osz == 1;
    // pixel tiles outer: one tile of activations stays in L1 while every row of weights streams past
    for (long p0 = p_begin; p0 < p_end; p0 += NT * 16) {
        const uint8_t* xb[NT];
        HK_UNROLL for (int t = 0; t < NT; t++) {
            long c = p0 + 16 * t;
            xb[t] = panel + ((c / NR) * kg * NR + c % NR) * 4;
        }
        const long n = std::min<long>(NT * 16, P - p0);
        if (n <= 0) break;
        for (long b = b_begin; b < b_end; b++) {
            const long e0 = s.rowptr[b], e1 = s.rowptr[b + 1];
            __m512i acc[SETS][BR][NT];
            HK_UNROLL for (int u = 0; u < SETS; u++) {
                HK_UNROLL for (int r = 0; r < BR; r++) {
                    // 8-bit output straight from the accumulators: they start at the row's constant term (the
                    // panel's column zero point is the same for every real column, so that term is one per row)
                    const long row = b * BR + r;
                    const __m512i init = u == 0 && direct8
                            ? _mm512_set1_epi32(wrap_add(q.bias[row], -wrap_mul(s.rsum[row], zc[p0])))
                            : _mm512_setzero_si512();
                    HK_UNROLL for (int t = 0; t < NT; t++) acc[u][r][t] = init;
                }
            }
            long e = e0;
            for (; e + SETS <= e1; e += SETS) {
                HK_UNROLL for (int u = 0; u < SETS; u++) {
                    const long off = (long) s.col[e + u] * (NR * 4);
                    __m512i xv[NT];
                    HK_UNROLL for (int t = 0; t < NT; t++) xv[t] = _mm512_loadu_si512(xb[t] + off);
                    HK_UNROLL for (int r = 0; r < BR; r++) {
                        __m512i w = _mm512_set1_epi32(wp[(e + u) * BR + r]);
                        HK_UNROLL for (int t = 0; t < NT; t++) acc[u][r][t] = _mm512_dpbusd_epi32(acc[u][r][t], xv[t], w);
                    }
                }
            }
            for (; e < e1; e++) {
                const long off = (long) s.col[e] * (NR * 4);
                HK_UNROLL for (int r = 0; r < BR; r++) {
                    __m512i w = _mm512_set1_epi32(wp[e * BR + r]);
                    HK_UNROLL for (int t = 0; t < NT; t++) {
                        acc[0][r][t] = _mm512_dpbusd_epi32(acc[0][r][t], _mm512_loadu_si512(xb[t] + off), w);
                    }
                }
            }
            HK_UNROLL for (int r = 0; r < BR; r++) {
                long row = b * BR + r;
                if (direct8) {
                    const __m512i vzr = _mm512_set1_epi32(s.zw[row]);
                    const __m512 m = _mm512_set1_ps(q.mult[row]);
                    uint8_t* o = out_t ? ogroup + row % 16 * GS : out + row * ldo + p0;
                    __m512i v[NT];
                    HK_UNROLL for (int t = 0; t < NT; t++) {
                        v[t] = acc[0][r][t];
                        HK_UNROLL for (int u = 1; u < SETS; u++) v[t] = _mm512_add_epi32(v[t], acc[u][r][t]);
                        if (s.any_zw) {
                            v[t] = _mm512_sub_epi32(v[t], _mm512_mullo_epi32(vzr, _mm512_loadu_si512(cadj + p0 + t * 16)));
                        }
                    }
                    requant_store_avx512<NT>(v, m, Narrow64::fits(q.mult[row]), n, o, nw, vlo, vhi, vyzp);
                    if (out_t && (row % 16 == 15 || row == b_end * BR - 1)) {
                        store_transposed16(ogroup, GS, (int) (row % 16 + 1), n, out + p0 * ldo + row / 16 * 16, ldo);
                    }
                    continue;
                }
                HK_UNROLL for (int t = 0; t < NT; t++) {
                    __m512i v = acc[0][r][t];
                    HK_UNROLL for (int u = 1; u < SETS; u++) v = _mm512_add_epi32(v, acc[u][r][t]);
                    _mm512_storeu_si512(tile[r] + t * 16, v);
                }
                RowArgs a;
                a.raw = tile[r];
                a.n = (int) n;
                a.zr = s.zw[row];
                a.rsum = s.rsum[row];
                a.cadj = cadj + p0;
                a.zc = zc + p0;
                a.per_col = false;
                a.mult = q.mult + row;
                a.bias = q.bias + row;
                if (!out_t) {
                    a.out = out + (row * ldo + p0) * osz;
                    requant_row_avx512(a, q);
                    continue;
                }
                if (osz != 1) {
                    a.out = obytes;
                    requant_row_avx512(a, q);
                    uint8_t* o = out + (p0 * ldo + row) * osz;
                    for (long i = 0; i < n; i++) std::memcpy(o + i * ldo * osz, obytes + i * osz, osz);
                    continue;
                }
                // bytes of 16 consecutive rows gathered, then written 16 at a time per output row
                a.out = ogroup + row % 16 * GS;
                requant_row_avx512(a, q);
                if (row % 16 == 15 || row == b_end * BR - 1) {
                    store_transposed16(ogroup, GS, (int) (row % 16 + 1), n, out + p0 * ldo + row / 16 * 16, ldo);
                }
            }
        }
    }
}
#endif

#if defined(HK_X86)
HK_T_AVX512 inline void sq8_k4_gemv_finish(const SparseHdr& s, int32_t xsum, int32_t zx, const Requant& q,
        const int32_t* raw, uint8_t* out);

// One activation column (P = 1, e.g. a fully connected layer at batch 1): vector lanes run over stored
// entries instead of pixels. x4 holds the K4 activation bytes in the panel's u8 format, xsum = sum x';
// raw receives one int32 per row before a single requantization pass.
template <int BR>
HK_T_AVX512 void sq8_k4_gemv_avx512(const SparseHdr& s, const uint8_t* x4, int32_t xsum, int32_t zx,
        const Requant& q, int32_t* raw, uint8_t* out) {
    const int32_t* wp = static_cast<const int32_t*>(s.w);
    const int32_t* xw = reinterpret_cast<const int32_t*>(x4);
    constexpr int PER = 16 / BR;  // entries per vector; lane l holds row l % BR of entry l / BR
    alignas(64) int32_t lane_entry[16];
    for (int l = 0; l < 16; l++) lane_entry[l] = l / BR;
    const __m512i entry_of_lane = _mm512_load_si512(lane_entry);
    for (long b = 0; b < s.nbr; b++) {
        const long e0 = s.rowptr[b], e1 = s.rowptr[b + 1];
        __m512i acc = _mm512_setzero_si512();
        long e = e0;
        // Multi-row blocks broadcast each entry's activation word to its rows' lanes; gathers (below, and for
        // single-row blocks) are slow on some CPUs.
        if (BR == 8) {
            __m512i acc1 = _mm512_setzero_si512();
            for (; e + 4 <= e1; e += 4) {
                __m512i x0 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(xw[s.col[e]])),
                        _mm256_set1_epi32(xw[s.col[e + 1]]), 1);
                __m512i x1 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(xw[s.col[e + 2]])),
                        _mm256_set1_epi32(xw[s.col[e + 3]]), 1);
                acc = _mm512_dpbusd_epi32(acc, x0, _mm512_loadu_si512(wp + e * 8));
                acc1 = _mm512_dpbusd_epi32(acc1, x1, _mm512_loadu_si512(wp + e * 8 + 16));
            }
            acc = _mm512_add_epi32(acc, acc1);
        } else if (BR == 4) {
            for (; e + 4 <= e1; e += 4) {
                __m128i xs = _mm_setr_epi32(xw[s.col[e]], xw[s.col[e + 1]], xw[s.col[e + 2]], xw[s.col[e + 3]]);
                __m512i x = _mm512_permutexvar_epi32(entry_of_lane, _mm512_castsi128_si512(xs));
                acc = _mm512_dpbusd_epi32(acc, x, _mm512_loadu_si512(wp + e * 4));
            }
        }
        for (; e < e1; e += PER) {
            long n = std::min<long>(PER, e1 - e);
            __mmask16 m = (__mmask16) ((1u << (n * BR)) - 1);
            __m512i cols = _mm512_maskz_loadu_epi32((__mmask16) ((1u << n) - 1), s.col + e);
            __m512i idx = BR == 1 ? cols : _mm512_permutexvar_epi32(entry_of_lane, cols);
            __m512i xg = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, xw, 4);
            acc = _mm512_dpbusd_epi32(acc, xg, _mm512_maskz_loadu_epi32(m, wp + e * BR));
        }
        if (BR == 1) {
            raw[b] = _mm512_reduce_add_epi32(acc);
        } else {
            alignas(64) int32_t lanes[16];
            _mm512_store_si512(lanes, acc);
            for (int r = 0; r < BR; r++) {
                int32_t v = 0;
                for (int l = r; l < 16; l += BR) v = wrap_add(v, lanes[l]);
                raw[b * BR + r] = v;
            }
        }
    }
    sq8_k4_gemv_finish(s, xsum, zx, q, raw, out);
}
#endif

// Lane layout of single-row k4 weights for one activation column: rows in groups of 16 (one vector lane
// each), k-groups in chunks of 32 (the activation words of a chunk sit in two registers and are picked per
// lane with one two-register permute, so nothing is gathered). Per (row group, chunk) the entries of each
// row are stacked in steps, padded to the group's longest row and to a multiple of 4 steps with zero weights:
//   int32 header [R, K, groups, chunks, off_sptr, off_w, off_idx, total_steps],
//   sptr[groups * chunks + 1] (first step of each (group, chunk)), w[step][16 lanes] (the entry's 4 weights),
//   idx[step / 4][16 lanes] (byte s of lane l: k-group of step 4 j + s within the chunk).
constexpr long GV_CHUNK = 32;

struct GemvLayout {
    int32_t R, K, groups, chunks;
    const int32_t* sptr;
    const int32_t* w;
    const uint32_t* idx;

    static GemvLayout from(const uint8_t* p) {
        int32_t h[8];
        std::memcpy(h, p, sizeof h);
        GemvLayout g;
        g.R = h[0], g.K = h[1], g.groups = h[2], g.chunks = h[3];
        g.sptr = reinterpret_cast<const int32_t*>(p + h[4]);
        g.w = reinterpret_cast<const int32_t*>(p + h[5]);
        g.idx = reinterpret_cast<const uint32_t*>(p + h[6]);
        return g;
    }
};

// Builds the lane layout of s (BR = 1) into dst, or returns its size when dst is null.
inline long gemv_layout(const SparseHdr& s, uint8_t* dst) {
    const long kg = round_up(s.K, 4) / 4;
    const long groups = (s.R + 15) / 16, chunks = (kg + GV_CHUNK - 1) / GV_CHUNK;
    const int32_t* wp = static_cast<const int32_t*>(s.w);
    std::vector<int32_t> sptr(groups * chunks + 1, 0);
    // per row, its entries are sorted by k-group; cursor[l] walks them chunk by chunk
    long total = 0;
    for (long g = 0; g < groups; g++) {
        long cur[16];
        for (int l = 0; l < 16; l++) cur[l] = g * 16 + l < s.R ? s.rowptr[g * 16 + l] : 0;
        for (long c = 0; c < chunks; c++) {
            long most = 0;
            for (int l = 0; l < 16; l++) {
                long row = g * 16 + l;
                if (row >= s.R) continue;
                long e = cur[l], n = 0;
                while (e < s.rowptr[row + 1] && s.col[e] < (c + 1) * GV_CHUNK) e++, n++;
                cur[l] = e;
                most = std::max(most, n);
            }
            total += round_up(most, 4);
            sptr[g * chunks + c + 1] = (int32_t) total;
        }
    }
    const long off_sptr = 64, off_w = off_sptr + align64(4 * (long) sptr.size());
    const long off_idx = off_w + align64(64 * total), bytes = off_idx + align64(16 * total) + 64;
    if (dst == nullptr) return bytes;
    std::memset(dst, 0, bytes);
    int32_t h[8] = {s.R, s.K, (int32_t) groups, (int32_t) chunks, (int32_t) off_sptr, (int32_t) off_w,
            (int32_t) off_idx, (int32_t) total};
    std::memcpy(dst, h, sizeof h);
    std::memcpy(dst + off_sptr, sptr.data(), 4 * sptr.size());
    int32_t* w = reinterpret_cast<int32_t*>(dst + off_w);
    uint8_t* idx = dst + off_idx;
    for (long g = 0; g < groups; g++) {
        for (int l = 0; l < 16; l++) {
            long row = g * 16 + l;
            if (row >= s.R) continue;
            long e = s.rowptr[row];
            for (long c = 0; c < chunks; c++) {
                long step = sptr[g * chunks + c];
                for (; e < s.rowptr[row + 1] && s.col[e] < (c + 1) * GV_CHUNK; e++, step++) {
                    w[step * 16 + l] = wp[e];
                    idx[((step / 4) * 16 + l) * 4 + step % 4] = (uint8_t) (s.col[e] - c * GV_CHUNK);
                }
            }
        }
    }
    return bytes;
}

#if defined(HK_X86)
// raw[r] = sum over row r's entries of x4 words . weights, through the lane layout; x4 holds chunks * 32 words.
HK_T_AVX512 inline void sq8_k4_gemv_lanes_avx512(const GemvLayout& g, const uint8_t* x4, int32_t* raw) {
    const int32_t* xw = reinterpret_cast<const int32_t*>(x4);
    for (long grp = 0; grp < g.groups; grp++) {
        __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                _mm512_setzero_si512()};
        for (long c = 0; c < g.chunks; c++) {
            const __m512i x0 = _mm512_loadu_si512(xw + c * GV_CHUNK), x1 = _mm512_loadu_si512(xw + c * GV_CHUNK + 16);
            const long s0 = g.sptr[grp * g.chunks + c], s1 = g.sptr[grp * g.chunks + c + 1];
            for (long st = s0; st < s1; st += 4) {
                const __m512i iv = _mm512_loadu_si512(g.idx + st * 4);
                const int32_t* w = g.w + st * 16;
                acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_permutex2var_epi32(x0, iv, x1), _mm512_loadu_si512(w));
                acc[1] = _mm512_dpbusd_epi32(acc[1], _mm512_permutex2var_epi32(x0, _mm512_srli_epi32(iv, 8), x1),
                        _mm512_loadu_si512(w + 16));
                acc[2] = _mm512_dpbusd_epi32(acc[2], _mm512_permutex2var_epi32(x0, _mm512_srli_epi32(iv, 16), x1),
                        _mm512_loadu_si512(w + 32));
                acc[3] = _mm512_dpbusd_epi32(acc[3], _mm512_permutex2var_epi32(x0, _mm512_srli_epi32(iv, 24), x1),
                        _mm512_loadu_si512(w + 48));
            }
        }
        __m512i v = _mm512_add_epi32(_mm512_add_epi32(acc[0], acc[1]), _mm512_add_epi32(acc[2], acc[3]));
        _mm512_storeu_si512(raw + grp * 16, v);
    }
}

// acc = raw + bias - zw[r] * cadj - zx * rsum[r]: the row's terms play the columns' roles of RowArgs
HK_T_AVX512 inline void sq8_k4_gemv_finish(const SparseHdr& s, int32_t xsum, int32_t zx, const Requant& q,
        const int32_t* raw, uint8_t* out) {
    const int32_t cadj = wrap_add(xsum, -wrap_mul(s.K, zx));
    RowArgs a;
    a.raw = raw;
    a.n = s.R;
    a.zr = cadj;
    a.rsum = zx;
    a.cadj = s.zw;
    a.zc = s.rsum;
    a.per_col = true;
    a.mult = q.mult;
    a.bias = q.bias;
    a.out = out;
    requant_row_avx512(a, q);
}
#endif

inline long gemv_tmp_bytes(long K, long R) {
    return align64(round_up(K, 4 * GV_CHUNK)) + 4 * round_up(R, 16) + 64;
}

// k4 format, one activation column: x (K bytes, signed or not) with zero point zx; out holds R contiguous
// values; tmp holds gemv_tmp_bytes(K, R). lanes: the lane layout of single-row weights, or null.
inline void sq8_k4_gemv(const SparseHdr& s, const uint8_t* lanes, const uint8_t* x, bool u, int32_t zx,
        uint8_t* tmp, const Requant& q, uint8_t* out) {
#if defined(HK_X86)
    long kpad = round_up(s.K, 4 * GV_CHUNK);
    uint8_t mask = fmt_xor(FMT_U8, u);
    int32_t sum = 0;
    for (long k = 0; k < s.K; k++) {
        tmp[k] = x[k] ^ mask;
        sum += tmp[k];
    }
    for (long k = s.K; k < kpad; k++) tmp[k] = 0;
    int32_t* raw = reinterpret_cast<int32_t*>(tmp + align64(kpad));
    int32_t z = zx + fmt_zp_shift(FMT_U8, u);
    if (lanes != nullptr) {
        sq8_k4_gemv_lanes_avx512(GemvLayout::from(lanes), tmp, raw);
        return sq8_k4_gemv_finish(s, sum, z, q, raw, out);
    }
    if (s.BR == 8) return sq8_k4_gemv_avx512<8>(s, tmp, sum, z, q, raw, out);
    if (s.BR == 4) return sq8_k4_gemv_avx512<4>(s, tmp, sum, z, q, raw, out);
    return sq8_k4_gemv_avx512<1>(s, tmp, sum, z, q, raw, out);
#else
    (void) s, (void) lanes, (void) x, (void) u, (void) zx, (void) tmp, (void) q, (void) out;
#endif
}

#if defined(HK_X86)
template <int BR, int NT, int NR>
HK_T_AVX512 void sq8_k4_range(const SparseHdr& s, const uint8_t* panel, long P, long p_begin, long p_end,
        const Requant& q, uint8_t* out, long ldo, bool out_t, long b_begin, long b_end) {
    // single-row blocks with long rows (measured: 1024 inputs at 80 % sparsity, ~50 entries a row) keep more
    // products in flight with two accumulator sets; multi-row blocks (BR independent rows) and passes wider
    // than four vectors have enough already
    if constexpr (BR == 1 && NT <= 4) {
        if (s.nent >= 16L * s.nbr) {
            return sq8_k4_avx512<BR, NT, NR, 2>(s, panel, P, p_begin, p_end, q, out, ldo, out_t, b_begin, b_end);
        }
    }
    sq8_k4_avx512<BR, NT, NR, 1>(s, panel, P, p_begin, p_end, q, out, ldo, out_t, b_begin, b_end);
}

template <int BR, int NT>
HK_T_AVX512 void sq8_k4_wide(const SparseHdr& s, const uint8_t* panel, long P, const Requant& q, uint8_t* out,
        long ldo, bool out_t, long b_begin, long b_end) {
    // NT vectors span adjacent 64-column panels, over a whole number of panels; the rest in steps that divide a
    // panel (so no step reads past the last one): four vectors, or two for 8-row blocks (32 accumulators spill)
    constexpr long STEP = NT % 4 == 0 ? NT * 16 : NT % 2 == 0 ? NT * 32 : NT * 64;
    constexpr int REST = BR == 8 ? 2 : 4;
    const long padded = (P + 63) / 64 * 64;
    const long wide = padded / STEP * STEP;
    sq8_k4_range<BR, NT, 64>(s, panel, P, 0, wide, q, out, ldo, out_t, b_begin, b_end);
    if (wide < P) sq8_k4_range<BR, REST, 64>(s, panel, P, wide, padded, q, out, ldo, out_t, b_begin, b_end);
}
#endif

// k4 format (AVX-512 VNNI only); `panel` is the CONV-variant activation panel of k4_panel_family(P);
// out_t: OUT[p][row] (row stride ldo) instead of OUT[row][p]. Block rows [b_begin, b_end) only, for the
// caller's threads; with out_t their rows start at a multiple of 16 (16-row transposes).
inline void sq8_k4_gemm(const SparseHdr& s, const uint8_t* panel, long P, const Requant& q, uint8_t* out, long ldo,
        bool out_t, long b_begin, long b_end) {
#if defined(HK_X86)
    if (P <= 16) {
        if (s.BR == 8) return sq8_k4_range<8, 1, 16>(s, panel, P, 0, 16, q, out, ldo, out_t, b_begin, b_end);
        if (s.BR == 4) return sq8_k4_range<4, 1, 16>(s, panel, P, 0, 16, q, out, ldo, out_t, b_begin, b_end);
        return sq8_k4_range<1, 1, 16>(s, panel, P, 0, 16, q, out, ldo, out_t, b_begin, b_end);
    }
    if (P <= 32) {
        if (s.BR == 8) return sq8_k4_range<8, 2, 32>(s, panel, P, 0, 32, q, out, ldo, out_t, b_begin, b_end);
        if (s.BR == 4) return sq8_k4_range<4, 2, 32>(s, panel, P, 0, 32, q, out, ldo, out_t, b_begin, b_end);
        return sq8_k4_range<1, 2, 32>(s, panel, P, 0, 32, q, out, ldo, out_t, b_begin, b_end);
    }
    // 8-row blocks: 24 accumulators, three vectors a pass (a 1x1 conv 96 -> 576 at 28 x 28 with 80 % of its
    // 8x4 blocks zero: 43 us against 51 with two)
    if (s.BR == 8) return sq8_k4_wide<8, 3>(s, panel, P, q, out, ldo, out_t, b_begin, b_end);
    if (s.BR == 4) return sq8_k4_wide<4, 4>(s, panel, P, q, out, ldo, out_t, b_begin, b_end);
    // Single-row blocks: rows of a few entries each end in a mispredicted loop exit, so a row's pass covers as
    // many columns as keep the panel's slice in L1 (measured on a 96 -> 576 1x1 conv at 28 x 28, 80 % sparse:
    // 53 us with 64 columns a pass, 50 with 128, 48 with 192; 57 with 256, whose 24 KiB slice crowds L1).
    const long slice = round_up(s.K, 4) * 16;  // panel bytes of one 16-column vector
    if (12 * slice <= 20480) return sq8_k4_wide<1, 12>(s, panel, P, q, out, ldo, out_t, b_begin, b_end);
    if (8 * slice <= 20480) return sq8_k4_wide<1, 8>(s, panel, P, q, out, ldo, out_t, b_begin, b_end);
    return sq8_k4_wide<1, 4>(s, panel, P, q, out, ldo, out_t, b_begin, b_end);
#else
    (void) s, (void) panel, (void) P, (void) q, (void) out, (void) ldo, (void) out_t, (void) b_begin, (void) b_end;
#endif
}

// The k4 activation panel of a fully connected layer straight from its rows: column m of the panel is row m
// of x (M x K, row stride lda), so no transposition is needed; zero point zx for every row.
HK_INLINE void sq8_k4_pack_fc_body(const Fam& f, uint8_t* dst, const uint8_t* x, bool u, int32_t zx, long M,
        long K, long lda) {
    const long kg = round_up(K, 4) / 4;
    const long padded = ppack_panels(f, M) * f.nr;
    const uint8_t mask = fmt_xor(FMT_U8, u);
    const int32_t z = zx + fmt_zp_shift(FMT_U8, u);
    int32_t* cadj = ppack_trailer(f, WHO_ACT, dst, M, K);
    int32_t* zc = cadj + padded;
    const uint32_t mask4 = 0x01010101u * mask;
    for (long m = 0; m < padded; m++) {
        uint8_t* d = dst + ((m / f.nr) * kg * f.nr + m % f.nr) * 4;
        const long step = f.nr * 4;
        if (m >= M) {
            for (long g = 0; g < kg; g++) std::memset(d + g * step, 0, 4);
            cadj[m] = 0;
            zc[m] = 0;
            continue;
        }
        const uint8_t* s = x + m * lda;
        int32_t sum = 0;
        for (long k = 0; k < K; k++) sum += (uint8_t) (s[k] ^ mask);
        long full = K / 4;
        for (long g = 0; g < full; g++) {
            uint32_t v;
            std::memcpy(&v, s + 4 * g, 4);
            v ^= mask4;
            std::memcpy(d + g * step, &v, 4);
        }
        if (full < kg) {
            uint8_t tail[4] = {0, 0, 0, 0};
            for (long k = 4 * full; k < K; k++) tail[k - 4 * full] = s[k] ^ mask;
            std::memcpy(d + full * step, tail, 4);
        }
        cadj[m] = wrap_add(sum, -wrap_mul((int32_t) K, z));
        zc[m] = z;
    }
}

#if defined(HK_X86)
HK_T_AVX512 inline void sq8_k4_pack_fc_avx512(const Fam& f, uint8_t* dst, const uint8_t* x, bool u, int32_t zx,
        long M, long K, long lda) {
    sq8_k4_pack_fc_body(f, dst, x, u, zx, M, K, lda);
}
#endif

inline void sq8_k4_pack_fc(int code, uint8_t* dst, const uint8_t* x, bool u, int32_t zx, long M, long K, long lda) {
#if defined(HK_X86)
    sq8_k4_pack_fc_avx512(Fam::of(code), dst, x, u, zx, M, K, lda);
#else
    (void) code, (void) dst, (void) x, (void) u, (void) zx, (void) M, (void) K, (void) lda;
#endif
}

// ---- fp32 ---------------------------------------------------------------------------------------------

enum Act { ACT_NONE = 0, ACT_RELU = 1, ACT_CLIP = 2 };

// NaN behaves as in Java: Relu maps it to 0, Clip keeps it.
HK_INLINE float act1(float v, int act, float lo, float hi) {
    if (act == ACT_RELU) return v > 0.f ? v : 0.f;
    if (act == ACT_CLIP) return std::min(std::max(v, lo), hi);
    return v;
}

inline void sf32_scalar(const SparseHdr& s, const float* X, long ldx, long p_begin, long P, const float* bias,
        int act, float lo, float hi, float* out, long ldo) {
    const float* wv = static_cast<const float*>(s.w);
    for (long b = 0; b < s.nbr; b++) {
        for (int r = 0; r < s.BR; r++) {
            long row = b * s.BR + r;
            for (long p = p_begin; p < P; p++) {
                float acc = bias ? bias[row] : 0.f;
                for (long e = s.rowptr[b]; e < s.rowptr[b + 1]; e++) {
                    for (int c = 0; c < s.EB; c++) {
                        acc += wv[(e * s.EB + c) * s.BR + r] * X[(s.col[e] + c) * ldx + p];
                    }
                }
                out[row * ldo + p] = act1(acc, act, lo, hi);
            }
        }
    }
}

#if defined(HK_X86)
template <int BR, int BC, int NT>
HK_T_AVX512 void sf32_avx512(const SparseHdr& s, const float* X, long ldx, long P, const float* bias, int act,
        float lo, float hi, float* out, long ldo) {
    const float* wv = static_cast<const float*>(s.w);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi), zero = _mm512_setzero_ps();
    // pixel tiles outer: one tile of activations stays in L1 while every row of weights streams past
    for (long p0 = 0; p0 < P; p0 += NT * 16) {
        for (long b = 0; b < s.nbr; b++) {
            const long e0 = s.rowptr[b], e1 = s.rowptr[b + 1];
            __mmask16 m[NT];
            HK_UNROLL for (int t = 0; t < NT; t++) {
                long rem = P - p0 - t * 16;
                m[t] = rem >= 16 ? (__mmask16) 0xffff : rem <= 0 ? (__mmask16) 0 : (__mmask16) ((1u << rem) - 1);
            }
            __m512 acc[BR][NT];
            HK_UNROLL for (int r = 0; r < BR; r++) {
                __m512 b0 = _mm512_set1_ps(bias ? bias[b * BR + r] : 0.f);
                HK_UNROLL for (int t = 0; t < NT; t++) acc[r][t] = b0;
            }
            for (long e = e0; e < e1; e++) {
                const float* we = wv + e * BC * BR;
                HK_UNROLL for (int c = 0; c < BC; c++) {
                    const float* xr = X + (s.col[e] + c) * ldx + p0;
                    __m512 xv[NT];
                    HK_UNROLL for (int t = 0; t < NT; t++) xv[t] = _mm512_maskz_loadu_ps(m[t], xr + t * 16);
                    HK_UNROLL for (int r = 0; r < BR; r++) {
                        __m512 w = _mm512_set1_ps(we[c * BR + r]);
                        HK_UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_fmadd_ps(w, xv[t], acc[r][t]);
                    }
                }
            }
            HK_UNROLL for (int r = 0; r < BR; r++) {
                HK_UNROLL for (int t = 0; t < NT; t++) {
                    __m512 v = acc[r][t];
                    if (act == ACT_RELU) v = _mm512_max_ps(v, zero);
                    if (act == ACT_CLIP) v = _mm512_min_ps(vhi, _mm512_max_ps(vlo, v));
                    _mm512_mask_storeu_ps(out + (b * BR + r) * ldo + p0 + t * 16, m[t], v);
                }
            }
        }
    }
}

template <int BR, int BC, int NT>
HK_T_AVX2 void sf32_avx2(const SparseHdr& s, const float* X, long ldx, long P, const float* bias, int act,
        float lo, float hi, float* out, long ldo) {
    const float* wv = static_cast<const float*>(s.w);
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), zero = _mm256_setzero_ps();
    long full = P / (NT * 8) * (NT * 8);
    // pixel tiles outer: one tile of activations stays in L1 while every row of weights streams past
    for (long p0 = 0; p0 < full; p0 += NT * 8) {
        for (long b = 0; b < s.nbr; b++) {
            const long e0 = s.rowptr[b], e1 = s.rowptr[b + 1];
            __m256 acc[BR][NT];
            HK_UNROLL for (int r = 0; r < BR; r++) {
                __m256 b0 = _mm256_set1_ps(bias ? bias[b * BR + r] : 0.f);
                HK_UNROLL for (int t = 0; t < NT; t++) acc[r][t] = b0;
            }
            for (long e = e0; e < e1; e++) {
                const float* we = wv + e * BC * BR;
                HK_UNROLL for (int c = 0; c < BC; c++) {
                    const float* xr = X + (s.col[e] + c) * ldx + p0;
                    __m256 xv[NT];
                    HK_UNROLL for (int t = 0; t < NT; t++) xv[t] = _mm256_loadu_ps(xr + t * 8);
                    HK_UNROLL for (int r = 0; r < BR; r++) {
                        __m256 w = _mm256_set1_ps(we[c * BR + r]);
                        HK_UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm256_fmadd_ps(w, xv[t], acc[r][t]);
                    }
                }
            }
            HK_UNROLL for (int r = 0; r < BR; r++) {
                HK_UNROLL for (int t = 0; t < NT; t++) {
                    __m256 v = acc[r][t];
                    if (act == ACT_RELU) v = _mm256_max_ps(v, zero);
                    if (act == ACT_CLIP) v = _mm256_min_ps(vhi, _mm256_max_ps(vlo, v));
                    _mm256_storeu_ps(out + (b * BR + r) * ldo + p0 + t * 8, v);
                }
            }
        }
    }
    sf32_scalar(s, X, ldx, full, P, bias, act, lo, hi, out, ldo);
}
#endif

#if defined(HK_ARM64)
template <int BR, int BC>
void sf32_neon(const SparseHdr& s, const float* X, long ldx, long P, const float* bias, int act, float lo,
        float hi, float* out, long ldo) {
    const float* wv = static_cast<const float*>(s.w);
    long full = P / 8 * 8;
    for (long b = 0; b < s.nbr; b++) {
        for (long p0 = 0; p0 < full; p0 += 8) {
            float32x4_t acc[BR][2];
            HK_UNROLL for (int r = 0; r < BR; r++) {
                acc[r][0] = acc[r][1] = vdupq_n_f32(bias ? bias[b * BR + r] : 0.f);
            }
            for (long e = s.rowptr[b]; e < s.rowptr[b + 1]; e++) {
                const float* we = wv + e * BC * BR;
                HK_UNROLL for (int c = 0; c < BC; c++) {
                    const float* xr = X + (s.col[e] + c) * ldx + p0;
                    float32x4_t x0 = vld1q_f32(xr), x1 = vld1q_f32(xr + 4);
                    HK_UNROLL for (int r = 0; r < BR; r++) {
                        float32x4_t w = vdupq_n_f32(we[c * BR + r]);
                        acc[r][0] = vfmaq_f32(acc[r][0], w, x0);
                        acc[r][1] = vfmaq_f32(acc[r][1], w, x1);
                    }
                }
            }
            HK_UNROLL for (int r = 0; r < BR; r++) {
                float* o = out + (b * BR + r) * ldo + p0;
                vst1q_f32(o, acc[r][0]);
                vst1q_f32(o + 4, acc[r][1]);
                for (int i = 0; i < 8; i++) o[i] = act1(o[i], act, lo, hi);
            }
        }
    }
    sf32_scalar(s, X, ldx, full, P, bias, act, lo, hi, out, ldo);
}
#endif

inline void sf32_gemm(int isa, const SparseHdr& s, const float* X, long ldx, long P, const float* bias, int act,
        float lo, float hi, float* out, long ldo) {
    if (P >= 8) {
#if defined(HK_X86)
        if (isa == ISA_AVX512) {
            if (s.BR == 8) return sf32_avx512<8, 1, 2>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            if (s.BR == 4) return sf32_avx512<4, 1, 4>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            if (s.EB == 4) return sf32_avx512<1, 4, 4>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            return sf32_avx512<1, 1, 4>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
        }
        if (isa == ISA_AVX2) {
            if (s.BR == 8) return sf32_avx2<8, 1, 1>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            if (s.BR == 4) return sf32_avx2<4, 1, 2>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            if (s.EB == 4) return sf32_avx2<1, 4, 4>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            return sf32_avx2<1, 1, 4>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
        }
#elif defined(HK_ARM64)
        if (isa == ISA_NEON || isa == ISA_NEON_DOT) {
            if (s.BR == 8) return sf32_neon<8, 1>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            if (s.BR == 4) return sf32_neon<4, 1>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            if (s.EB == 4) return sf32_neon<1, 4>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
            return sf32_neon<1, 1>(s, X, ldx, P, bias, act, lo, hi, out, ldo);
        }
#endif
    }
    sf32_scalar(s, X, ldx, 0, P, bias, act, lo, hi, out, ldo);
}

}  // namespace hk
