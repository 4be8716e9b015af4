// Run-time packing of activations: rows of a row-major matrix (FC variant) and im2col panels of one NCHW
// image (CONV variant). Weights are packed once at prepare time with the generic pack_rows / pack_panel.
#pragma once

#include "hk_qgemm.h"

namespace hk {

// Activation rows a[r * lda + k] -> packed R (format of f for activations), with per-row zero points.
HK_INLINE void pack_act_rows_body(const Fam& f, uint8_t* dst, const uint8_t* src, bool src_unsigned, long rows,
        long K, long lda, const int32_t* zp, long zp_stride) {
    int fmt = f.fmt(WHO_ACT);
    long k4 = round_up(K, 4);
    int32_t* zr = rpack_trailer(f, WHO_ACT, dst, rows, K);
    int32_t* rsum = zr + rows;
    int32_t shift = fmt_zp_shift(fmt, src_unsigned);
    uint8_t mask = fmt_xor(fmt, src_unsigned);
    for (long r = 0; r < rows; r++) {
        const uint8_t* s = src + r * lda;
        int32_t sum = 0;
        if (fmt == FMT_S16) {
            int16_t* d = reinterpret_cast<int16_t*>(dst) + r * k4;
            if (src_unsigned) {
                for (long k = 0; k < K; k++) {
                    d[k] = s[k];
                    sum += s[k];
                }
            } else {
                for (long k = 0; k < K; k++) {
                    d[k] = (int8_t) s[k];
                    sum += (int8_t) s[k];
                }
            }
            for (long k = K; k < k4; k++) d[k] = 0;
        } else {
            uint8_t* d = dst + r * k4;
            for (long k = 0; k < K; k++) d[k] = s[k] ^ mask;
            if (fmt == FMT_U8) {
                for (long k = 0; k < K; k++) sum += d[k];
            } else {
                for (long k = 0; k < K; k++) sum += (int8_t) d[k];
            }
            for (long k = K; k < k4; k++) d[k] = 0;
        }
        zr[r] = zp[r * zp_stride] + shift;
        rsum[r] = sum;
    }
}

// Output columns ow whose tap at column offset off_w (= j * dw - pl) reads inside the image: iw = ow * sw + off_w
// in [0, W) for ow in [lo, hi).
HK_INLINE void im2col_cols(long W, long OW, long sw, long off_w, long& lo, long& hi) {
    if (sw == 1) {
        lo = -off_w;
        hi = W - off_w;
    } else {
        lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
        hi = W - off_w <= 0 ? 0 : (W - off_w + sw - 1) / sw;
    }
    lo = std::max(0L, std::min(lo, OW));
    hi = std::max(lo, std::min(hi, OW));
}

// One im2col row (channel c, kernel tap row i, column offset off_w with its columns [lo, hi) from im2col_cols)
// over all output pixels; outside the image: zx.
HK_INLINE void im2col_row(uint8_t* row, const uint8_t* x, long c, long H, long W, long i, long sh, long sw,
        long dh, long pt, long OH, long OW, long off_w, long lo, long hi, uint8_t zx) {
    for (long oh = 0; oh < OH; oh++) {
        uint8_t* d = row + oh * OW;
        long ih = oh * sh - pt + i * dh;
        if (ih < 0 || ih >= H) {
            std::memset(d, zx, OW);
            continue;
        }
        const uint8_t* s = x + (c * H + ih) * W + off_w;
        std::memset(d, zx, lo);
        if (sw == 1) {
            std::memcpy(d + lo, s + lo, hi - lo);
        } else {
            for (long ow = lo; ow < hi; ow++) d[ow] = s[ow * sw];
        }
        std::memset(d + hi, zx, OW - hi);
    }
}

#if defined(HK_X86)
// im2col_row for unit column stride and OW <= 64: one masked load and store per output row (masked-off lanes
// are never read, so the taps left of the image cost nothing); a function call per row costs more than the row
// on small images.
HK_T_AVX512 inline void im2col_row_avx512(uint8_t* row, const uint8_t* x, long c, long H, long W, long i, long sh,
        long dh, long pt, long OH, long OW, long off_w, long lo, long hi, uint8_t zx) {
    const __m512i z = _mm512_set1_epi8((char) zx);
    const __mmask64 st = OW >= 64 ? ~0ULL : (1ULL << OW) - 1;
    const __mmask64 ld = hi <= lo ? 0 : ((hi >= 64 ? ~0ULL : (1ULL << hi) - 1) & ~((1ULL << lo) - 1));
    const uint8_t* plane = x + c * H * W;
    for (long oh = 0; oh < OH; oh++) {
        long ih = oh * sh - pt + i * dh;
        __m512i v = z;
        if (ih >= 0 && ih < H) {
            // lane ow reads plane[ih * W + off_w + ow], only for ow in [lo, hi)
            v = _mm512_mask_loadu_epi8(z, ld, plane + ih * W + off_w);
        }
        _mm512_mask_storeu_epi8(row + oh * OW, st, v);
    }
}

// Images of at most 64 pixels, at most 64 output pixels and 25 taps: an im2col row is the channel's plane (as 16-bit
// lanes) permuted by its tap's index vector, outside-the-image lanes set to zx, written with one full 64-byte store.
// Row-by-row masked copies of 4- or 8-byte rows cost more than the GEMM on such images (digits-cnn: 4 x 4 and
// 8 x 8), partly store-forwarding stalls when the interleave reads the rows back.
constexpr long SMALL_IM2COL_MAX = 64;
constexpr long SMALL_IM2COL_TAPS = 25;

struct SmallIm2col {
    __m512i idx[SMALL_IM2COL_TAPS][2];  // per tap: source pixel of output lanes 0-31 and 32-63
    __mmask64 valid[SMALL_IM2COL_TAPS];
};

HK_INLINE bool small_im2col(long H, long W, long KH, long KW, long cols) {
    return H * W <= SMALL_IM2COL_MAX && cols <= SMALL_IM2COL_MAX && KH * KW <= SMALL_IM2COL_TAPS;
}

HK_T_AVX512 inline void small_im2col_table(SmallIm2col& t, long H, long W, long KH, long KW, long sh, long sw,
        long dh, long dw, long pt, long pl, long OH, long OW) {
    alignas(64) int16_t ys[SMALL_IM2COL_MAX], xs[SMALL_IM2COL_MAX];
    long oh = 0, ow = 0;
    for (long p = 0; p < SMALL_IM2COL_MAX; p++) {
        // lanes past the output keep a row no tap reaches
        ys[p] = (int16_t) (p < OH * OW ? oh * sh - pt : -SMALL_IM2COL_MAX);
        xs[p] = (int16_t) (ow * sw - pl);
        if (++ow == OW) {
            ow = 0;
            oh++;
        }
    }
    const __m512i vh = _mm512_set1_epi16((int16_t) H), vw = _mm512_set1_epi16((int16_t) W);
    const __m512i zero = _mm512_setzero_si512();
    for (long i = 0; i < KH; i++) {
        for (long j = 0; j < KW; j++) {
            const long tap = i * KW + j;
            __mmask64 valid = 0;
            for (int h = 0; h < 2; h++) {
                const __m512i y = _mm512_add_epi16(_mm512_load_si512(ys + 32 * h), _mm512_set1_epi16((int16_t) (i * dh)));
                const __m512i x = _mm512_add_epi16(_mm512_load_si512(xs + 32 * h), _mm512_set1_epi16((int16_t) (j * dw)));
                const __mmask32 in = _mm512_cmpge_epi16_mask(y, zero) & _mm512_cmplt_epi16_mask(y, vh)
                        & _mm512_cmpge_epi16_mask(x, zero) & _mm512_cmplt_epi16_mask(x, vw);
                t.idx[tap][h] = _mm512_add_epi16(_mm512_mullo_epi16(y, vw), x);
                valid |= (__mmask64) in << (32 * h);
            }
            t.valid[tap] = valid;
        }
    }
}

// The table and the current channel's plane (as 16-bit lanes: pixels 0-31, 32-63).
struct SmallIm2colState {
    SmallIm2col table;
    __m512i plane[2];
    long plane_c;
};

HK_T_AVX512 inline void small_im2col_begin(SmallIm2colState& st, long H, long W, long KH, long KW, long sh, long sw,
        long dh, long dw, long pt, long pl, long OH, long OW) {
    small_im2col_table(st.table, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW);
    st.plane_c = -1;
}

// 64 bytes at row (the buffer must hold them): tap's pixels of plane c, zx outside the image.
HK_T_AVX512 inline void small_im2col_row(SmallIm2colState& st, uint8_t* row, const uint8_t* x, long c, long HW,
        long tap, uint8_t zx) {
    if (st.plane_c != c) {
        const uint8_t* s = x + c * HW;
        const long n1 = std::min(HW, 32L), n2 = HW - n1;
        st.plane[0] = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8((__mmask32) ((1ull << n1) - 1), s));
        st.plane[1] = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8((__mmask32) ((1ull << n2) - 1), s + 32));
        st.plane_c = c;
    }
    const __m256i a = _mm512_cvtepi16_epi8(_mm512_permutex2var_epi16(st.plane[0], st.table.idx[tap][0], st.plane[1]));
    const __m256i b = _mm512_cvtepi16_epi8(_mm512_permutex2var_epi16(st.plane[0], st.table.idx[tap][1], st.plane[1]));
    const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
    _mm512_storeu_si512(row, _mm512_mask_mov_epi8(_mm512_set1_epi8((char) zx), st.table.valid[tap], v));
}

// column_sums4 with 16 columns per step.
HK_T_AVX512 inline void column_sums4_avx512(int32_t* csum, const uint8_t* const rows[4], long n, uint8_t mask,
        bool as_unsigned) {
    const __m128i m = _mm_set1_epi8((char) mask);
    for (long c = 0; c < n; c += 16) {
        const __mmask16 k = n - c >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - c)) - 1);
        __m512i sum = _mm512_maskz_loadu_epi32(k, csum + c);
        for (int t = 0; t < 4; t++) {
            __m128i r = _mm_xor_si128(_mm_maskz_loadu_epi8(k, rows[t] + c), m);
            sum = _mm512_add_epi32(sum, as_unsigned ? _mm512_cvtepu8_epi32(r) : _mm512_cvtepi8_epi32(r));
        }
        _mm512_mask_storeu_epi32(csum + c, k, sum);
    }
}
#endif

// Interleaves 4 rows of `n` columns (n = a multiple of 16 or the last partial panel) into packed P
// bytes of k-group g, XOR-ing with mask.
HK_INLINE void interleave4_bytes(uint8_t* dst, const uint8_t* const rows[4], long c0, long n, long nr, long kg,
        long g, uint8_t mask) {
    long j = c0 / nr, l = c0 % nr;
    for (long c = c0; c < c0 + n; c++, l++) {
        if (l == nr) {
            l = 0;
            j++;
        }
        uint8_t* d = dst + ((j * kg + g) * nr + l) * 4;
        d[0] = rows[0][c] ^ mask;
        d[1] = rows[1][c] ^ mask;
        d[2] = rows[2][c] ^ mask;
        d[3] = rows[3][c] ^ mask;
    }
}

#if defined(HK_X86)
// SSE2 (x86-64 baseline): 16 columns at a time; c0 and nr multiples of 16.
inline void interleave4_bytes_sse2(uint8_t* dst, const uint8_t* const rows[4], long c0, long n, long nr, long kg,
        long g, uint8_t mask) {
    const __m128i m = _mm_set1_epi8((char) mask);
    for (long c = c0; c < c0 + n; c += 16) {
        long j = c / nr, l = c % nr;
        uint8_t* d = dst + ((j * kg + g) * nr + l) * 4;
        __m128i r0 = _mm_xor_si128(_mm_loadu_si128((const __m128i*) (rows[0] + c)), m);
        __m128i r1 = _mm_xor_si128(_mm_loadu_si128((const __m128i*) (rows[1] + c)), m);
        __m128i r2 = _mm_xor_si128(_mm_loadu_si128((const __m128i*) (rows[2] + c)), m);
        __m128i r3 = _mm_xor_si128(_mm_loadu_si128((const __m128i*) (rows[3] + c)), m);
        __m128i a = _mm_unpacklo_epi8(r0, r1), b = _mm_unpacklo_epi8(r2, r3);
        __m128i e = _mm_unpackhi_epi8(r0, r1), h = _mm_unpackhi_epi8(r2, r3);
        _mm_storeu_si128((__m128i*) d, _mm_unpacklo_epi16(a, b));
        _mm_storeu_si128((__m128i*) (d + 16), _mm_unpackhi_epi16(a, b));
        _mm_storeu_si128((__m128i*) (d + 32), _mm_unpacklo_epi16(e, h));
        _mm_storeu_si128((__m128i*) (d + 48), _mm_unpackhi_epi16(e, h));
    }
}
#endif

#if defined(HK_ARM64)
inline void interleave4_bytes_neon(uint8_t* dst, const uint8_t* const rows[4], long c0, long n, long nr, long kg,
        long g, uint8_t mask) {
    const uint8x16_t m = vdupq_n_u8(mask);
    for (long c = c0; c < c0 + n; c += 16) {
        long j = c / nr, l = c % nr;
        uint8x16x4_t v;
        v.val[0] = veorq_u8(vld1q_u8(rows[0] + c), m);
        v.val[1] = veorq_u8(vld1q_u8(rows[1] + c), m);
        v.val[2] = veorq_u8(vld1q_u8(rows[2] + c), m);
        v.val[3] = veorq_u8(vld1q_u8(rows[3] + c), m);
        vst4q_u8(dst + ((j * kg + g) * nr + l) * 4, v);
    }
}
#endif

// 16-bit panel layout [kg][2][nr][2].
HK_INLINE void interleave4_s16(uint8_t* dstb, const uint8_t* const rows[4], long c0, long n, long nr, long kg,
        long g, bool src_unsigned) {
    int16_t* dst = reinterpret_cast<int16_t*>(dstb);
    for (long c = c0; c < c0 + n; c++) {
        long j = c / nr, l = c % nr;
        int16_t* d = dst + ((j * kg + g) * 2 * nr + l) * 2;
        for (int t = 0; t < 4; t++) {
            int16_t v = src_unsigned ? (int16_t) rows[t][c] : (int16_t) (int8_t) rows[t][c];
            d[(t >> 1) * nr * 2 + (t & 1)] = v;
        }
    }
}

// Column sums of the 4 rows in packed-format values, added to csum.
HK_INLINE void column_sums4(int32_t* csum, const uint8_t* const rows[4], long n, int fmt, bool src_unsigned) {
    uint8_t mask = fmt_xor(fmt, src_unsigned);
    bool as_unsigned = fmt == FMT_U8 || (fmt == FMT_S16 && src_unsigned);
    if (as_unsigned) {
        for (long c = 0; c < n; c++) {
            csum[c] += (int32_t) (uint8_t) (rows[0][c] ^ mask) + (uint8_t) (rows[1][c] ^ mask)
                    + (uint8_t) (rows[2][c] ^ mask) + (uint8_t) (rows[3][c] ^ mask);
        }
    } else {
        for (long c = 0; c < n; c++) {
            csum[c] += (int32_t) (int8_t) (rows[0][c] ^ mask) + (int8_t) (rows[1][c] ^ mask)
                    + (int8_t) (rows[2][c] ^ mask) + (int8_t) (rows[3][c] ^ mask);
        }
    }
}

// Conv panel of one image: P[k][p] for k = (c, i, j) over C x KH x KW, p over OH x OW. `tmp` must hold
// 4 * (cols rounded up to nr) + 64 bytes. A 1x1, stride 1, unpadded conv reads the image rows directly.
template <bool V512>
HK_INLINE void pack_act_im2col_body(const Fam& f, uint8_t* dst, const uint8_t* x, bool src_unsigned, long C,
        long H, long W, long KH, long KW, long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW,
        int32_t zx, uint8_t* tmp) {
    int fmt = f.fmt(WHO_ACT);
    long K = C * KH * KW;
    long k4 = round_up(K, 4);
    long kg = k4 / 4;
    long cols = OH * OW;
    long padded = ppack_panels(f, cols) * f.nr;
    long full = cols / 16 * 16;  // columns the vector interleave may take (nr is a multiple of 16)
    uint8_t mask = fmt_xor(fmt, src_unsigned);
    bool direct = KH == 1 && KW == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && OH == H && OW == W;
    int32_t* cadj = ppack_trailer(f, WHO_ACT, dst, cols, K);
    int32_t* zc = cadj + padded;
    for (long c = 0; c < padded; c++) cadj[c] = 0;
    // padding columns and rows must pack as the value 0, which the byte `mask` converts to
    uint8_t* bufs[4];
    for (int t = 0; t < 4; t++) {
        bufs[t] = tmp + t * padded;
        std::memset(bufs[t] + cols, mask, padded - cols);
    }
    // tap (c, i, j) of row k, advanced with k
    long tc = 0, ti = 0, tj = 0;
#if defined(HK_X86)
    const bool small = V512 && !direct && small_im2col(H, W, KH, KW, cols);
    SmallIm2colState st;
    if (small) {
        small_im2col_begin(st, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW);
    }
#endif
    for (long g = 0; g < kg; g++) {
        const uint8_t* rows[4];
        for (int t = 0; t < 4; t++) {
            long k = 4 * g + t;
            if (k >= K) {
                std::memset(bufs[t], mask, cols);
                rows[t] = bufs[t];
            } else if (direct) {
                rows[t] = x + k * cols;
            } else {
                long off_w = tj * dw - pl, lo, hi;
                im2col_cols(W, OW, sw, off_w, lo, hi);
#if defined(HK_X86)
                if (small) {
                    // writes 64 bytes: past this buffer's cols into the next one (built after it) or tmp's slack
                    small_im2col_row(st, bufs[t], x, tc, H * W, ti * KW + tj, (uint8_t) zx);
                } else if (V512 && sw == 1 && OW <= 64) {
                    im2col_row_avx512(bufs[t], x, tc, H, W, ti, sh, dh, pt, OH, OW, off_w, lo, hi, (uint8_t) zx);
                } else
#endif
                {
                    im2col_row(bufs[t], x, tc, H, W, ti, sh, sw, dh, pt, OH, OW, off_w, lo, hi, (uint8_t) zx);
                }
                rows[t] = bufs[t];
                if (++tj == KW) {
                    tj = 0;
                    if (++ti == KH) {
                        ti = 0;
                        tc++;
                    }
                }
            }
        }
#if defined(HK_X86)
        if (V512 && fmt != FMT_S16) {
            column_sums4_avx512(cadj, rows, cols, mask, fmt == FMT_U8);
        } else
#endif
        {
            column_sums4(cadj, rows, cols, fmt, src_unsigned);
        }
        if (fmt == FMT_S16) {
            interleave4_s16(dst, rows, 0, cols, f.nr, kg, g, src_unsigned);
            continue;
        }
#if defined(HK_X86)
        interleave4_bytes_sse2(dst, rows, 0, full, f.nr, kg, g, mask);
#elif defined(HK_ARM64)
        interleave4_bytes_neon(dst, rows, 0, full, f.nr, kg, g, mask);
#else
        interleave4_bytes(dst, rows, 0, full, f.nr, kg, g, mask);
#endif
        interleave4_bytes(dst, rows, full, cols - full, f.nr, kg, g, mask);
    }
    // padding columns: zero panel entries. They are the tail [l0, nr) of the last panel, one run per k-group
    // (per pair of k in the 16-bit layout): set directly, as a few pixels leave most of a panel padding.
    if (padded > cols) {
        const long j = cols / f.nr, l0 = cols % f.nr, len = padded - cols;
        for (long g = 0; g < kg; g++) {
            if (fmt == FMT_S16) {
                int16_t* d = reinterpret_cast<int16_t*>(dst) + (j * kg + g) * 4 * f.nr;
                for (long h = 0; h < 2; h++) std::memset(d + (h * f.nr + l0) * 2, 0, len * 2 * sizeof(int16_t));
            } else {
                std::memset(dst + ((j * kg + g) * f.nr + l0) * 4, 0, len * 4);
            }
        }
    }
    int32_t z = zx + fmt_zp_shift(fmt, src_unsigned);
    for (long c = 0; c < padded; c++) {
        bool real = c < cols;
        zc[c] = real ? z : 0;
        cadj[c] = real ? wrap_add(cadj[c], -wrap_mul((int32_t) K, z)) : 0;
    }
}

#if defined(HK_X86)
HK_T_AVX512 inline void pack_act_rows_avx512(const Fam& f, uint8_t* d, const uint8_t* s, bool u, long rows,
        long K, long lda, const int32_t* zp, long zs) {
    pack_act_rows_body(f, d, s, u, rows, K, lda, zp, zs);
}
HK_T_AVX2 inline void pack_act_rows_avx2(const Fam& f, uint8_t* d, const uint8_t* s, bool u, long rows, long K,
        long lda, const int32_t* zp, long zs) {
    pack_act_rows_body(f, d, s, u, rows, K, lda, zp, zs);
}
HK_T_AVX512 inline void pack_act_im2col_avx512(const Fam& f, uint8_t* dst, const uint8_t* x, bool u, long C,
        long H, long W, long KH, long KW, long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW,
        int32_t zx, uint8_t* tmp) {
    pack_act_im2col_body<true>(f, dst, x, u, C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, zx, tmp);
}
HK_T_AVX2 inline void pack_act_im2col_avx2(const Fam& f, uint8_t* dst, const uint8_t* x, bool u, long C, long H,
        long W, long KH, long KW, long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW,
        int32_t zx, uint8_t* tmp) {
    pack_act_im2col_body<false>(f, dst, x, u, C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, zx, tmp);
}
#endif

inline void pack_act_rows(const Fam& f, uint8_t* d, const uint8_t* s, bool u, long rows, long K, long lda,
        const int32_t* zp, long zs) {
#if defined(HK_X86)
    if (f.isa() == ISA_AVX512) return pack_act_rows_avx512(f, d, s, u, rows, K, lda, zp, zs);
    if (f.isa() == ISA_AVX2) return pack_act_rows_avx2(f, d, s, u, rows, K, lda, zp, zs);
#endif
    pack_act_rows_body(f, d, s, u, rows, K, lda, zp, zs);
}

inline void pack_act_im2col(const Fam& f, uint8_t* dst, const uint8_t* x, bool u, long C, long H, long W, long KH,
        long KW, long sh, long sw, long dh, long dw, long pt, long pl, long OH, long OW, int32_t zx, uint8_t* tmp) {
#if defined(HK_X86)
    if (f.isa() == ISA_AVX512) {
        return pack_act_im2col_avx512(f, dst, x, u, C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, zx, tmp);
    }
    if (f.isa() == ISA_AVX2) {
        return pack_act_im2col_avx2(f, dst, x, u, C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, zx, tmp);
    }
#endif
    pack_act_im2col_body<false>(f, dst, x, u, C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, zx, tmp);
}

inline long im2col_tmp_bytes(const Fam& f, long cols) {
    return 4 * ppack_panels(f, cols) * f.nr + 64;
}

}  // namespace hk
