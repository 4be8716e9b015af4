// int8 depthwise convolution in float lanes (AVX-512), bit-exact with the integer kernels.
//
// Exactness: the taps multiply the raw input x (|x| <= 255, padding = the zero point zx) by w - zw (|.| <= 255);
// with at most 258 taps every partial sum is an integer below 2^24, exact in float32 in any order, and
//   sum (x - zx)(w - zw) + bias = sum x (w - zw) + B,   B = bias - zx * sum (w - zw)   (int32, wrapping).
// When |B| + 255 * sum |w - zw| < 2^24 the accumulators start at B in float and stay exact; otherwise B is
// added in int32 after the taps. Requantization then matches hk_requant.h ((float) acc * mult, clamp, round).
//
// Two layouts, chosen per call by the output width:
//   per channel (qdwf, wide planes): the 8-bit plane is converted to floats while it is padded (52 KB at
//     112 x 112, where converting a block of channels, then requantizing it in a second pass, went through
//     L2/L3). Stride 1: the padded plane is one long row (width OW + (KW - 1) dw), 16 consecutive padded outputs
//     per vector, requantized into a staging row whose OW real columns per row are copied out. Column stride 2:
//     each padded row is stored as its even columns then its odd ones, so tap j of output column ow reads half
//     (j dw) & 1 at ow + (j dw) / 2: contiguous loads, no lane shuffles per tap.
//   channels in lanes (qdwc, narrow planes: qdw_in_lanes): blocks of 16 channels are transposed (16 x 16
//     bytes at a time) into a padded [y][x][16] float plane, every output pixel is one vector over the block's
//     channels, and 16 pixels' requantized bytes are transposed back to NCHW. Per-channel set-up and the short
//     rows' masked vectors cost more than the taps on 7 x 7 and 14 x 14 planes.
// Depth multiplier 1, stride 1 or column stride 2 (any row stride at column stride 2), 8-bit outputs (the Java
// side checks).
#pragma once

#include "hk_fdwc.h"

namespace hk {

// channels in lanes up to this output width (and up to twice it at column stride 2): measured 1.4-4x the
// per-channel kernel's speed at 7 and 14 wide, even at 28 (stride 1), 1.15x at 28 (stride 2), slower beyond
constexpr long DW_LANES_MAX_OW = 14;

HK_INLINE bool qdw_in_lanes(const Geom& g) {
    return g.OW <= (g.sw == 2 ? 2 : 1) * DW_LANES_MAX_OW;
}

struct QdwfPlan {
    long hp;      // padded rows
    long rw;      // floats per padded row (both halves at column stride 2)
    long half;    // column stride 2: floats per half row, else 0
    long vecs;    // vectors per output row (stride 2) or over the whole padded plane (stride 1)
    long slack;   // floats after the plane (stride 1: the last vector's taps read past it)

    long plane_floats() const { return round_up(hp * rw + slack, DWC_LANES); }
    long stage_bytes() const { return half == 0 ? round_up(vecs * DWC_LANES, 64) : 0; }
};

HK_INLINE QdwfPlan qdwf_plan(const Geom& g) {
    QdwfPlan p;
    p.hp = dwc_padded_h(g);
    if (g.sw == 1) {
        p.half = 0;
        p.rw = g.OW + (g.KW - 1) * g.dw;
        p.vecs = (g.OH * p.rw + DWC_LANES - 1) / DWC_LANES;
        p.slack = DWC_LANES + (g.KW - 1) * g.dw;
    } else {
        // vector v of a row reads half-row floats [16 v + (j dw) / 2, + 16), below OW + 15 + ((KW - 1) dw) / 2
        p.half = round_up(g.OW + DWC_LANES + (g.KW - 1) * g.dw / 2, DWC_LANES);
        p.rw = 2 * p.half;
        p.vecs = (g.OW + DWC_LANES - 1) / DWC_LANES;
        p.slack = 0;
    }
    return p;
}

HK_INLINE long qdwf_scratch_bytes(const Geom& g) {
    if (qdw_in_lanes(g)) {
        // channels in lanes: the padded plane [Hp][Wp][16], then the taps' weights
        return 4 * (dwc_padded_h(g) * dwc_padded_w(g) + g.KH * g.KW) * DWC_LANES;
    }
    const QdwfPlan p = qdwf_plan(g);
    return 4 * p.plane_floats() + p.stage_bytes();
}

#if defined(HK_X86)
HK_T_AVX512 HK_INLINE void qdwf_fill(float* d, long n, __m512 v) {
    long t = 0;
    for (; t + DWC_LANES <= n; t += DWC_LANES) _mm512_storeu_ps(d + t, v);
    if (t < n) _mm512_mask_storeu_ps(d + t, (__mmask16) ((1u << (n - t)) - 1), v);
}

HK_T_AVX512 HK_INLINE __m512 qdwf_floats(__m128i b, bool xu) {
    return _mm512_cvtepi32_ps(xu ? _mm512_cvtepu8_epi32(b) : _mm512_cvtepi8_epi32(b));
}

// Padded row y of the channel plane xs into d (Wr floats): zx, then the image row from column pl, then zx.
HK_T_AVX512 inline void qdwf_pad_row(float* d, const uint8_t* xs, const Geom& g, long y, long Wr, bool xu,
        __m512 vzx) {
    const long iy = y - g.pt;
    const long a = std::min(g.pl, Wr);
    long e = a;
    if (iy >= 0 && iy < g.H) {
        e = std::min(Wr, g.pl + g.W);
        const uint8_t* s = xs + iy * g.W + (a - g.pl);
        for (long t = 0; t < e - a; t += DWC_LANES) {
            const long r = std::min(DWC_LANES, e - a - t);
            const __mmask16 m = r == DWC_LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << r) - 1);
            _mm512_mask_storeu_ps(d + a + t, m, qdwf_floats(_mm_maskz_loadu_epi8(m, s + t), xu));
        }
    }
    qdwf_fill(d, a, vzx);
    qdwf_fill(d + e, Wr - e, vzx);
}

// Padded row y at column stride 2, written as its even columns (ev) then its odd ones (od), half floats each:
// padded column pl + ix holds image column ix, so the image's even and odd columns are split in registers
// (vpermt2ps) and land at offsets fixed by the parity of pl.
HK_T_AVX512 inline void qdwf_pad_row_s2(float* ev, float* od, long half, const uint8_t* xs, const Geom& g, long y,
        bool xu, __m512 vzx, __m512i even, __m512i odd) {
    const long iy = y - g.pt;
    if (iy < 0 || iy >= g.H) {
        qdwf_fill(ev, 2 * half, vzx);
        return;
    }
    const uint8_t* s = xs + iy * g.W;
    // image column 2m goes to half (pl & 1) at (pl >> 1) + m, column 2m + 1 to the other half at ((pl + 1) >> 1) + m
    float* de = (g.pl & 1) ? od : ev;
    float* dodd = (g.pl & 1) ? ev : od;
    const long oe = g.pl >> 1, oo = (g.pl + 1) >> 1;
    const long ne = std::max(0L, std::min((g.W + 1) / 2, half - oe));
    const long no = std::max(0L, std::min(g.W / 2, half - oo));
    qdwf_fill(de, oe, vzx);
    qdwf_fill(de + oe + ne, half - oe - ne, vzx);
    qdwf_fill(dodd, oo, vzx);
    qdwf_fill(dodd + oo + no, half - oo - no, vzx);
    for (long m = 0; m < ne; m += DWC_LANES) {
        const bool full = 2 * m + 2 * DWC_LANES <= g.W && m + DWC_LANES <= no;
        const long nb = std::min(2 * DWC_LANES, g.W - 2 * m);
        const __m256i b = full ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 2 * m))
                               : _mm256_maskz_loadu_epi8((__mmask32) ((1ull << nb) - 1), s + 2 * m);
        const __m512 lo = qdwf_floats(_mm256_castsi256_si128(b), xu);
        const __m512 hi = qdwf_floats(_mm256_extracti128_si256(b, 1), xu);
        const __m512 e = _mm512_permutex2var_ps(lo, even, hi), o = _mm512_permutex2var_ps(lo, odd, hi);
        if (full) {
            _mm512_storeu_ps(de + oe + m, e);
            _mm512_storeu_ps(dodd + oo + m, o);
        } else {
            const long ke = std::min(DWC_LANES, ne - m), ko = std::max(0L, std::min(DWC_LANES, no - m));
            _mm512_mask_storeu_ps(de + oe + m, (__mmask16) ((1u << ke) - 1), e);
            _mm512_mask_storeu_ps(dodd + oo + m, (__mmask16) ((1u << ko) - 1), o);
        }
    }
}

// Sums sum x (w - zw) per lane, requantized to 16 bytes: the accumulators started at B (float_bias) or B is
// added here in int32.
struct QdwfRequant {
    bool float_bias;
    __m512 init;     // B as float when float_bias, else 0
    __m512i bias;    // B as int32 when not float_bias
    __m512i yzp;
    __m512 mult, lo, hi;

    HK_T_AVX512 __m128i apply(__m512 acc) const {
        if (!float_bias) {
            acc = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_cvtps_epi32(acc), bias));
        }
        return requant16_avx512(acc, mult, lo, hi, yzp);
    }
};

// B = bias - zx * sum (w - zw) (int32, wrapping) of channel c, and whether float accumulators may start at it.
HK_INLINE int32_t qdw_bias(const Requant& q, long c, const float* wc, long taps, int32_t zx, bool* exact) {
    int64_t sw = 0, sa = 0;
    for (long t = 0; t < taps; t++) {
        const int64_t v = (int64_t) wc[t];
        sw += v;
        sa += v < 0 ? -v : v;
    }
    const int32_t b = (int32_t) ((uint32_t) q.bias[c] - (uint32_t) zx * (uint32_t) sw);
    const int64_t bound = (b < 0 ? -(int64_t) b : (int64_t) b) + 255 * sa;
    *exact = bound < (1 << 24);
    return b;
}

// 16 accumulators at base: any kernel, the taps' plane offsets in toff.
HK_T_AVX512 HK_INLINE __m512 qdwf_acc(__m512 acc, const float* base, const long* toff, long taps, const float* wc) {
    for (long t = 0; t < taps; t++) acc = _mm512_fmadd_ps(_mm512_set1_ps(wc[t]), _mm512_loadu_ps(base + toff[t]), acc);
    return acc;
}

// 3 x 3 undilated: the offsets are constants from three row pointers (column stride 2: tap 1 is the odd half).
template <bool S2>
HK_T_AVX512 HK_INLINE __m512 qdwf_acc3(__m512 acc, const float* base, long rw, long half, const __m512* wv) {
    for (int i = 0; i < 3; i++) {
        const float* r = base + i * rw;
        acc = _mm512_fmadd_ps(wv[3 * i], _mm512_loadu_ps(r), acc);
        acc = _mm512_fmadd_ps(wv[3 * i + 1], _mm512_loadu_ps(S2 ? r + half : r + 1), acc);
        acc = _mm512_fmadd_ps(wv[3 * i + 2], _mm512_loadu_ps(r + (S2 ? 1 : 2)), acc);
    }
    return acc;
}

HK_T_AVX512 HK_INLINE void qdw_requant_init(QdwfRequant& rq, const Requant& q) {
    rq.yzp = _mm512_set1_epi32(q.yzp);
    rq.lo = _mm512_set1_ps(q.lof());
    rq.hi = _mm512_set1_ps(q.hif());
}

// K3: 3 x 3 undilated.
template <bool K3>
HK_T_AVX512 inline void qdwf_avx512_k(const uint8_t* x, bool xu, int32_t zx, const Geom& g, const float* w,
        const Requant& q, uint8_t* out, uint8_t* scratch, long c0, long c1) {
    const QdwfPlan p = qdwf_plan(g);
    const long taps = g.KH * g.KW, P = g.OH * g.OW;
    float* xp = reinterpret_cast<float*>(scratch);
    uint8_t* stage = reinterpret_cast<uint8_t*>(xp + p.plane_floats());
    long toff[258];  // taps: at most 258 (the Java side checks)
    for (long i = 0; i < g.KH; i++) {
        for (long j = 0; j < g.KW; j++) {
            const long jd = j * g.dw;
            toff[i * g.KW + j] = i * g.dh * p.rw + (p.half == 0 ? jd : (jd & 1) * p.half + (jd >> 1));
        }
    }
    const __m512 vzx = _mm512_set1_ps((float) zx);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    QdwfRequant rq;
    qdw_requant_init(rq, q);
    if (p.half == 0) {
        qdwf_fill(xp + p.hp * p.rw, p.plane_floats() - p.hp * p.rw, vzx);
    }
    for (long c = c0; c < c1; c++) {
        const uint8_t* xs = x + c * g.H * g.W;
        if (p.half == 0) {
            for (long y = 0; y < p.hp; y++) qdwf_pad_row(xp + y * p.rw, xs, g, y, p.rw, xu, vzx);
        } else {
            for (long y = 0; y < p.hp; y++) {
                qdwf_pad_row_s2(xp + y * p.rw, xp + y * p.rw + p.half, p.half, xs, g, y, xu, vzx, even, odd);
            }
        }
        const float* wc = w + c * taps;
        __m512 wv[9];
        if (K3) {
            for (long t = 0; t < 9; t++) wv[t] = _mm512_set1_ps(wc[t]);
        }
        bool exact;
        const int32_t b = qdw_bias(q, c, wc, taps, zx, &exact);
        rq.float_bias = exact;
        rq.init = _mm512_set1_ps(exact ? (float) b : 0.f);
        rq.bias = _mm512_set1_epi32(b);
        rq.mult = _mm512_set1_ps(q.mult[c]);
        uint8_t* o = out + c * P;
        if (p.half == 0) {
            for (long v = 0; v < p.vecs; v++) {
                const float* base = xp + v * DWC_LANES;
                const __m512 acc = K3 ? qdwf_acc3<false>(rq.init, base, p.rw, 0, wv)
                                      : qdwf_acc(rq.init, base, toff, taps, wc);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(stage + v * DWC_LANES), rq.apply(acc));
            }
            for (long oh = 0; oh < g.OH; oh++) {
                for (long t = 0; t < g.OW; t += 64) {
                    const long n = std::min(64L, g.OW - t);
                    const __mmask64 m = n == 64 ? ~(__mmask64) 0 : (((__mmask64) 1 << n) - 1);
                    _mm512_mask_storeu_epi8(o + oh * g.OW + t, m, _mm512_maskz_loadu_epi8(m, stage + oh * p.rw + t));
                }
            }
        } else {
            for (long oh = 0; oh < g.OH; oh++) {
                const float* rb = xp + oh * g.sh * p.rw;
                for (long v = 0; v < p.vecs; v++) {
                    const long n = std::min(DWC_LANES, g.OW - v * DWC_LANES);
                    const __mmask16 m = n == DWC_LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1);
                    const float* base = rb + v * DWC_LANES;
                    const __m512 acc = K3 ? qdwf_acc3<true>(rq.init, base, p.rw, p.half, wv)
                                          : qdwf_acc(rq.init, base, toff, taps, wc);
                    _mm_mask_storeu_epi8(o + oh * g.OW + v * DWC_LANES, m, rq.apply(acc));
                }
            }
        }
    }
}

// 16 x 16 bytes: r[k] holds rows 4k .. 4k + 3 in its 128-bit lanes; t[d] gets column 4L + d in lane L.
HK_T_AVX512 HK_INLINE void qdwc_transpose(const __m512i r[4], __m512i t[4]) {
    // per register: lane L gathers dword L (columns 4L .. 4L + 3) of its four rows, then a 4 x 4 byte transpose
    // inside the lane leaves dword d = column 4L + d of those rows; then 4 x 4 dword transposes across registers
    const __m512i pidx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i sidx = _mm512_set4_epi32(0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400);
    __m512i b[4];
    for (int k = 0; k < 4; k++) b[k] = _mm512_shuffle_epi8(_mm512_permutexvar_epi32(pidx, r[k]), sidx);
    const __m512i t0 = _mm512_unpacklo_epi32(b[0], b[1]), t1 = _mm512_unpackhi_epi32(b[0], b[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(b[2], b[3]), t3 = _mm512_unpackhi_epi32(b[2], b[3]);
    t[0] = _mm512_unpacklo_epi64(t0, t2);
    t[1] = _mm512_unpackhi_epi64(t0, t2);
    t[2] = _mm512_unpacklo_epi64(t1, t3);
    t[3] = _mm512_unpackhi_epi64(t1, t3);
}

HK_T_AVX512 HK_INLINE __m128i qdwc_lane(__m512i v, int L) {
    switch (L) {
        case 0: return _mm512_castsi512_si128(v);
        case 1: return _mm512_extracti32x4_epi32(v, 1);
        case 2: return _mm512_extracti32x4_epi32(v, 2);
        default: return _mm512_extracti32x4_epi32(v, 3);
    }
}

HK_T_AVX512 HK_INLINE __m512i qdwc_join(const __m128i rows[4]) {
    __m512i v = _mm512_castsi128_si512(rows[0]);
    v = _mm512_inserti32x4(v, rows[1], 1);
    v = _mm512_inserti32x4(v, rows[2], 2);
    return _mm512_inserti32x4(v, rows[3], 3);
}

// Channels in lanes, channels [c0, c0 + 16) (nc of them valid) of one image.
template <bool K3>
HK_T_AVX512 inline void qdwc_block(const uint8_t* x, bool xu, int32_t zx, const Geom& g, const float* w,
        const Requant& q, uint8_t* out, float* tin, long c0, long nc) {
    const long Hp = dwc_padded_h(g), Wp = dwc_padded_w(g);
    const long HW = g.H * g.W, P = g.OH * g.OW, taps = g.KH * g.KW;
    const __mmask16 cm = nc == DWC_LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << nc) - 1);
    const __m512 vzx = _mm512_set1_ps((float) zx);
    // the padding (rows above and below, columns left and right of the image) holds zx
    const long h = std::max(0L, std::min(g.H, Hp - g.pt)), wd = std::max(0L, std::min(g.W, Wp - g.pl));
    const long left = std::min(g.pl, Wp);
    for (long y = 0; y < Hp; y++) {
        float* row = tin + y * Wp * DWC_LANES;
        if (y < g.pt || y >= g.pt + h) {
            qdwf_fill(row, Wp * DWC_LANES, vzx);
        } else {
            qdwf_fill(row, left * DWC_LANES, vzx);
            qdwf_fill(row + (left + wd) * DWC_LANES, (Wp - left - wd) * DWC_LANES, vzx);
        }
    }
    // the image: 16 consecutive pixels of the 16 channels at a time, transposed to one vector per pixel
    const uint8_t* xb = x + c0 * HW;
    for (long p0 = 0; p0 < HW; p0 += DWC_LANES) {
        const long n = std::min(DWC_LANES, HW - p0);
        const __mmask16 pm = n == DWC_LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1);
        __m512i r[4], t[4];
        for (int k = 0; k < 4; k++) {
            __m128i rows[4];
            for (int l = 0; l < 4; l++) {
                const long c = 4 * k + l;
                rows[l] = c < nc ? _mm_maskz_loadu_epi8(pm, xb + c * HW + p0) : _mm_setzero_si128();
            }
            r[k] = qdwc_join(rows);
        }
        qdwc_transpose(r, t);
        for (long d = 0; d < n; d++) {
            const long pix = p0 + d, iy = pix / g.W, ix = pix % g.W;
            if (iy >= h || ix >= wd) {
                continue;  // past the rows or columns any window reaches
            }
            const __m128i bytes = qdwc_lane(t[d & 3], (int) (d >> 2));
            _mm512_storeu_ps(tin + ((iy + g.pt) * Wp + ix + g.pl) * DWC_LANES, qdwf_floats(bytes, xu));
        }
    }
    // weights per tap as vectors over the block's channels; B per channel
    float* wts = tin + Hp * Wp * DWC_LANES;
    alignas(64) int32_t bias[DWC_LANES] = {};
    bool exact = true;
    for (long c = 0; c < DWC_LANES; c++) {
        const float* wc = w + (c0 + c) * taps;
        for (long t = 0; t < taps; t++) wts[t * DWC_LANES + c] = c < nc ? wc[t] : 0.f;
        if (c < nc) {
            bool e;
            bias[c] = qdw_bias(q, c0 + c, wc, taps, zx, &e);
            exact = exact && e;
        }
    }
    QdwfRequant rq;
    qdw_requant_init(rq, q);
    rq.float_bias = exact;
    rq.bias = _mm512_load_si512(bias);
    rq.init = exact ? _mm512_cvtepi32_ps(rq.bias) : _mm512_setzero_ps();
    rq.mult = _mm512_maskz_loadu_ps(cm, q.mult + c0);
    __m512 wv[9];
    if (K3) {
        for (int t = 0; t < 9; t++) wv[t] = _mm512_loadu_ps(wts + t * DWC_LANES);
    }
    const long rowf = Wp * DWC_LANES;
    alignas(64) uint8_t ob[DWC_LANES * DWC_LANES];
    long oh = 0, ow = 0;
    for (long p0 = 0; p0 < P; p0 += DWC_LANES) {
        const long n = std::min(DWC_LANES, P - p0);
        for (long d = 0; d < n; d++) {
            const float* base = tin + (oh * g.sh * Wp + ow * g.sw) * DWC_LANES;
            __m512 acc = rq.init;
            if (K3) {
                for (int i = 0; i < 3; i++) {
                    const float* r = base + i * rowf;
                    acc = _mm512_fmadd_ps(wv[3 * i], _mm512_loadu_ps(r), acc);
                    acc = _mm512_fmadd_ps(wv[3 * i + 1], _mm512_loadu_ps(r + DWC_LANES), acc);
                    acc = _mm512_fmadd_ps(wv[3 * i + 2], _mm512_loadu_ps(r + 2 * DWC_LANES), acc);
                }
            } else {
                for (long i = 0; i < g.KH; i++) {
                    for (long j = 0; j < g.KW; j++) {
                        acc = _mm512_fmadd_ps(_mm512_loadu_ps(wts + (i * g.KW + j) * DWC_LANES),
                                _mm512_loadu_ps(base + (i * g.dh * Wp + j * g.dw) * DWC_LANES), acc);
                    }
                }
            }
            _mm_store_si128(reinterpret_cast<__m128i*>(ob + d * DWC_LANES), rq.apply(acc));
            if (++ow == g.OW) {
                ow = 0;
                oh++;
            }
        }
        // rows d >= n hold an earlier group's pixels: they become columns past n, not stored
        __m512i r[4], t[4];
        for (int k = 0; k < 4; k++) r[k] = _mm512_load_si512(ob + 64 * k);
        qdwc_transpose(r, t);
        const __mmask16 pm = n == DWC_LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1);
        for (long c = 0; c < nc; c++) {
            _mm_mask_storeu_epi8(out + (c0 + c) * P + p0, pm, qdwc_lane(t[c & 3], (int) (c >> 2)));
        }
    }
}
#endif

}  // namespace hk

// ---- entry points (bound by NativeKernels) -------------------------------------------------------------

inline long hk_qdwf_scratch_bytes(long OH, long OW, long KH, long KW, long sh, long sw, long dh, long dw) {
    hk::Geom g{};
    g.OH = OH, g.OW = OW, g.KH = KH, g.KW = KW, g.sh = sh, g.sw = sw, g.dh = dh, g.dw = dw;
    return hk::qdwf_scratch_bytes(g);
}

// Channels [c0, c1) of one image (multiplier 1, stride 1 or column stride 2, 8-bit output); weights are floats
// (w - zw[c]) [C][KH * KW]. AVX-512 only (the caller checks).
inline void hk_qdwf(signed char* x, long xoff, int xu, int zx, long C, long H, long W, long KH, long KW, long sh,
        long sw, long dh, long dw, long pt, long pl, long OH, long OW, signed char* w, long woff, signed char* q,
        long qoff, signed char* out, long ooff, signed char* scratch, long soff, long c0, long c1) {
#if defined(HK_X86)
    hk::Geom g{C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW};
    const uint8_t* xb = HK_PTR(x, xoff);
    const float* wf = reinterpret_cast<const float*>(HK_PTR(w, woff));
    const hk::Requant rq = hk::Requant::from(reinterpret_cast<signed char*>(HK_PTR(q, qoff)));
    uint8_t* o = HK_PTR(out, ooff);
    uint8_t* s = HK_PTR(scratch, soff);
    const bool k3 = KH == 3 && KW == 3 && dh == 1 && dw == 1;
    if (hk::qdw_in_lanes(g)) {
        float* tin = reinterpret_cast<float*>(s);
        for (long c = c0; c < c1; c += hk::DWC_LANES) {
            const long nc = std::min(hk::DWC_LANES, c1 - c);
            if (k3) {
                hk::qdwc_block<true>(xb, xu != 0, zx, g, wf, rq, o, tin, c, nc);
            } else {
                hk::qdwc_block<false>(xb, xu != 0, zx, g, wf, rq, o, tin, c, nc);
            }
        }
    } else if (k3) {
        hk::qdwf_avx512_k<true>(xb, xu != 0, zx, g, wf, rq, o, s, c0, c1);
    } else {
        hk::qdwf_avx512_k<false>(xb, xu != 0, zx, g, wf, rq, o, s, c0, c1);
    }
#else
    (void) x, (void) xoff, (void) xu, (void) zx, (void) C, (void) H, (void) W, (void) KH, (void) KW, (void) sh;
    (void) sw, (void) dh, (void) dw, (void) pt, (void) pl, (void) OH, (void) OW, (void) w, (void) woff, (void) q;
    (void) qoff, (void) out, (void) ooff, (void) scratch, (void) soff, (void) c0, (void) c1;
#endif
}
