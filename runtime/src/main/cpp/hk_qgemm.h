// 8-bit GEMM with int32 accumulation: OUT[r][c] = requant(sum_k (R[r][k] - zr[r]) (P[k][c] - zc[c])).
//
// R is the "row" operand (each 4-byte k-group broadcast), P the "panel" operand (NR columns per vector
// group). One operand is the weights, the other the activations:
//   variant FC   (MatMul):  rows = activation rows M, panel = weights' output channels N  -> OUT[M][N]
//   variant CONV (NCHW):    rows = output channels,  panel = output pixels (im2col)      -> OUT[Cout][P]
// so both write their natural row-major output.
//
// Element formats per kernel family (activations / weights):
//   VNNI (vpdpbusd) and AVX2 narrow (vpmaddubsw + vpmaddwd): u8 / s8
//   AVX2 wide (vpmaddwd on 16-bit) and scalar:               s16 / s16
//   NEON and NEON dotprod (sdot):                            s8 / s8
// Byte operands of the other signedness are XOR-ed with 0x80 and their zero point moved by 128, which
// leaves every (x - zero_point) unchanged. AVX2 narrow is exact only when no vpmaddubsw pair sum can
// saturate int16: chosen when |w[k]| + |w[k+1]| <= 128 for every packed weight pair, else AVX2 wide.
//
// Packed R: [rows][K4] elements (K4 = K rounded up to 4, zero padded), then int32 zr[rows], rsum[rows].
// Packed P: per panel of NR columns, [K4/4][NR][4] bytes (16-bit formats: [K4/4][2][NR][2]), zero padded,
// then int32 cadj[cols padded], zc[cols padded] with cadj = sum_k P[k][c] - K * zc[c].
#pragma once

#include "hk_requant.h"

namespace hk {

enum Family { F_SCALAR = 0, F_AVX2_NARROW = 1, F_AVX2_WIDE = 2, F_VNNI = 3, F_NEON = 4, F_NEON_DOT = 5 };
enum Fmt { FMT_U8 = 0, FMT_S8 = 1, FMT_S16 = 2 };
enum Who { WHO_ACT = 0, WHO_WT = 1 };
enum Variant { V_FC = 0, V_CONV = 1 };

// A kernel family and its panel width, encoded as family | nv << 8 (nv = vector groups per panel).
struct Fam {
    int family;
    int nv;
    int nr;
    int mr;

    static Fam of(int code) {
        Fam f;
        f.family = code & 0xff;
        f.nv = (code >> 8) & 0xff;
        switch (f.family) {
            case F_VNNI: f.nr = 16 * f.nv; f.mr = f.nv == 4 ? 6 : 12; break;
            case F_AVX2_NARROW: case F_AVX2_WIDE: f.nr = 16; f.mr = 4; break;
            case F_NEON_DOT: f.nr = 16; f.mr = 4; break;
            case F_NEON: f.nr = 16; f.mr = 2; break;
            default: f.nr = 16; f.mr = 4; break;
        }
        return f;
    }

    int fmt(int who) const {
        switch (family) {
            case F_VNNI: case F_AVX2_NARROW: return who == WHO_ACT ? FMT_U8 : FMT_S8;
            case F_NEON: case F_NEON_DOT: return FMT_S8;
            default: return FMT_S16;
        }
    }

    int isa() const {
        switch (family) {
            case F_VNNI: return ISA_AVX512;
            case F_AVX2_NARROW: case F_AVX2_WIDE: return ISA_AVX2;
            case F_NEON: return ISA_NEON;
            case F_NEON_DOT: return ISA_NEON_DOT;
            default: return ISA_SCALAR;
        }
    }
};

HK_INLINE int fmt_size(int fmt) {
    return fmt == FMT_S16 ? 2 : 1;
}

// XOR mask turning a source byte into the format's signedness, and the matching zero-point shift.
HK_INLINE uint8_t fmt_xor(int fmt, bool src_unsigned) {
    if (fmt == FMT_U8) return src_unsigned ? 0 : 0x80;
    if (fmt == FMT_S8) return src_unsigned ? 0x80 : 0;
    return 0;
}

HK_INLINE int32_t fmt_zp_shift(int fmt, bool src_unsigned) {
    if (fmt == FMT_U8) return src_unsigned ? 0 : 128;
    if (fmt == FMT_S8) return src_unsigned ? -128 : 0;
    return 0;
}

// The value a source byte has in the packed format (as an integer).
HK_INLINE int32_t fmt_value(int fmt, bool src_unsigned, uint8_t b) {
    if (fmt == FMT_U8) return src_unsigned ? b : (uint8_t) (b ^ 0x80);
    if (fmt == FMT_S8) return src_unsigned ? (int8_t) (b ^ 0x80) : (int8_t) b;
    return src_unsigned ? (int32_t) b : (int32_t) (int8_t) b;
}

inline long rpack_bytes(const Fam& f, int who, long rows, long K) {
    long k4 = round_up(K, 4);
    return align64(rows * k4 * fmt_size(f.fmt(who))) + align64(8 * rows);
}

inline long ppack_panels(const Fam& f, long cols) {
    return (cols + f.nr - 1) / f.nr;
}

inline long ppack_bytes(const Fam& f, int who, long cols, long K) {
    long k4 = round_up(K, 4);
    long padded = ppack_panels(f, cols) * f.nr;
    return align64(padded * k4 * fmt_size(f.fmt(who))) + align64(8 * padded);
}

inline int32_t* rpack_trailer(const Fam& f, int who, uint8_t* base, long rows, long K) {
    return reinterpret_cast<int32_t*>(base + align64(rows * round_up(K, 4) * fmt_size(f.fmt(who))));
}

inline int32_t* ppack_trailer(const Fam& f, int who, uint8_t* base, long cols, long K) {
    long padded = ppack_panels(f, cols) * f.nr;
    return reinterpret_cast<int32_t*>(base + align64(padded * round_up(K, 4) * fmt_size(f.fmt(who))));
}

// Offset (in elements) of (k, col) inside packed P.
HK_INLINE long ppack_index(int fmt, long nr, long kg_count, long k, long col) {
    long j = col / nr, l = col % nr, g = k >> 2, t = k & 3;
    if (fmt == FMT_S16) {
        return (((j * kg_count + g) * 2 + (t >> 1)) * nr + l) * 2 + (t & 1);
    }
    return ((j * kg_count + g) * nr + l) * 4 + t;
}

HK_INLINE void store_elem(uint8_t* base, int fmt, long idx, int32_t v) {
    if (fmt == FMT_S16) {
        int16_t s = (int16_t) v;
        std::memcpy(base + 2 * idx, &s, 2);
    } else {
        base[idx] = (uint8_t) v;
    }
}

// Packs a strided source matrix src[r * s_row + k * s_k] as the row operand.
inline void pack_rows(const Fam& f, int who, uint8_t* dst, const uint8_t* src, bool src_unsigned, long rows,
        long K, long s_row, long s_k, const int32_t* zp, long zp_stride) {
    int fmt = f.fmt(who);
    long k4 = round_up(K, 4);
    int32_t* zr = rpack_trailer(f, who, dst, rows, K);
    int32_t* rsum = zr + rows;
    int32_t shift = fmt_zp_shift(fmt, src_unsigned);
    for (long r = 0; r < rows; r++) {
        int32_t sum = 0;
        for (long k = 0; k < k4; k++) {
            int32_t v = k < K ? fmt_value(fmt, src_unsigned, src[r * s_row + k * s_k]) : 0;
            sum += v;
            store_elem(dst, fmt, r * k4 + k, v);
        }
        zr[r] = zp[r * zp_stride] + shift;
        rsum[r] = sum;
    }
}

// Packs a strided source matrix src[k * s_k + c * s_col] as the panel operand.
inline void pack_panel(const Fam& f, int who, uint8_t* dst, const uint8_t* src, bool src_unsigned, long cols,
        long K, long s_col, long s_k, const int32_t* zp, long zp_stride) {
    int fmt = f.fmt(who);
    long k4 = round_up(K, 4);
    long kg = k4 / 4;
    long padded = ppack_panels(f, cols) * f.nr;
    int32_t* cadj = ppack_trailer(f, who, dst, cols, K);
    int32_t* zc = cadj + padded;
    int32_t shift = fmt_zp_shift(fmt, src_unsigned);
    for (long c = 0; c < padded; c++) {
        int32_t sum = 0;
        for (long k = 0; k < k4; k++) {
            int32_t v = c < cols && k < K ? fmt_value(fmt, src_unsigned, src[k * s_k + c * s_col]) : 0;
            sum += v;
            store_elem(dst, fmt, ppack_index(fmt, f.nr, kg, k, c), v);
        }
        int32_t z = c < cols ? zp[c * zp_stride] + shift : 0;
        zc[c] = z;
        cadj[c] = wrap_add(sum, -wrap_mul((int32_t) K, z));
    }
}

// ---- micro-kernels: tile[MR][NR] = sum over k-groups of R rows x one P panel -------------------------

// Row by row over whole k-groups: every row's 4 k of a group are read together (no strided gaps for the
// vectoriser to over-read; GCC 12 -O3 read past the row operand with the former (g, q, r) order).
template <int MR>
void mk_scalar(const uint8_t* Rb, long ldr, const uint8_t* Pb, long kg, int32_t* tile) {
    const int16_t* R = reinterpret_cast<const int16_t*>(Rb);
    const int16_t* P = reinterpret_cast<const int16_t*>(Pb);
    for (int r = 0; r < MR; r++) {
        const int16_t* rr = R + r * ldr;
        uint32_t acc[16] = {};
        for (long g = 0; g < kg; g++) {
            const int16_t* pb = P + g * 64;  // [2 pairs][16 columns][2]
            for (int t = 0; t < 4; t++) {
                int32_t a = rr[4 * g + t];
                const int16_t* pt = pb + (t >> 1) * 32 + (t & 1);
                for (int l = 0; l < 16; l++) {
                    acc[l] += (uint32_t) (a * pt[2 * l]);
                }
            }
        }
        for (int l = 0; l < 16; l++) {
            tile[r * 16 + l] = (int32_t) acc[l];
        }
    }
}

#if defined(HK_X86)
template <int MR, int NV, bool ROWU>
HK_T_AVX512 void mk_vnni(const uint8_t* R, long ldr, const uint8_t* P, long kg, int32_t* tile) {
    __m512i acc[MR][NV];
    HK_UNROLL for (int r = 0; r < MR; r++) {
        HK_UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_si512();
    }
    for (long g = 0; g < kg; g++) {
        __m512i b[NV];
        HK_UNROLL for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_si512(P + (g * NV + v) * 64);
        HK_UNROLL for (int r = 0; r < MR; r++) {
            __m512i a = _mm512_set1_epi32(load_i32(R + r * ldr + 4 * g));
            HK_UNROLL for (int v = 0; v < NV; v++) {
                acc[r][v] = ROWU ? _mm512_dpbusd_epi32(acc[r][v], a, b[v]) : _mm512_dpbusd_epi32(acc[r][v], b[v], a);
            }
        }
    }
    HK_UNROLL for (int r = 0; r < MR; r++) {
        HK_UNROLL for (int v = 0; v < NV; v++) _mm512_storeu_si512(tile + r * NV * 16 + v * 16, acc[r][v]);
    }
}

// The requantization of a tile of weight rows (zero points 0) against a panel with one zero point: each output
// is raw + B[r] (B = bias - zc * rowsum, see qgemm), so a row needs no per-column terms and no row call.
// (Requantizing inside the micro-kernel instead made the compiler spill accumulators on long reductions.)
template <int NV>
HK_T_AVX512 void requant_tile_rq_nv(const int32_t* tile, int mr, const int32_t* B, const float* mult, const Requant& q,
        uint8_t* out, long out_ld, int nc) {
    const __m512 lo = _mm512_set1_ps(q.lof()), hi = _mm512_set1_ps(q.hif());
    const __m512i yzp = _mm512_set1_epi32(q.yzp);
    const Narrow64 nw = Narrow64::of(q);
    for (int r = 0; r < mr; r++) {
        const __m512i vb = _mm512_set1_epi32(B[r]);
        __m512i v[NV];
        HK_UNROLL for (int t = 0; t < NV; t++) v[t] = _mm512_add_epi32(_mm512_load_si512(tile + (r * NV + t) * 16), vb);
        requant_store_avx512<NV>(v, _mm512_set1_ps(mult[r]), Narrow64::fits(mult[r]), nc, out + r * out_ld, nw, lo,
                hi, yzp);
    }
}

// nr: the VNNI panel's width, 16, 32 or 64 columns.
HK_T_AVX512 inline void requant_tile_rq(const int32_t* tile, int mr, int nr, const int32_t* B, const float* mult,
        const Requant& q, uint8_t* out, long out_ld, int nc) {
    if (nr == 64) return requant_tile_rq_nv<4>(tile, mr, B, mult, q, out, out_ld, nc);
    if (nr == 32) return requant_tile_rq_nv<2>(tile, mr, B, mult, q, out, out_ld, nc);
    requant_tile_rq_nv<1>(tile, mr, B, mult, q, out, out_ld, nc);
}

template <int MR, bool ROWU>
HK_T_AVX2 void mk_avx2n(const uint8_t* R, long ldr, const uint8_t* P, long kg, int32_t* tile) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[MR][2];
    HK_UNROLL for (int r = 0; r < MR; r++) {
        acc[r][0] = _mm256_setzero_si256();
        acc[r][1] = _mm256_setzero_si256();
    }
    for (long g = 0; g < kg; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i*) (P + g * 64));
        __m256i b1 = _mm256_loadu_si256((const __m256i*) (P + g * 64 + 32));
        HK_UNROLL for (int r = 0; r < MR; r++) {
            __m256i a = _mm256_set1_epi32(load_i32(R + r * ldr + 4 * g));
            __m256i t0 = ROWU ? _mm256_maddubs_epi16(a, b0) : _mm256_maddubs_epi16(b0, a);
            __m256i t1 = ROWU ? _mm256_maddubs_epi16(a, b1) : _mm256_maddubs_epi16(b1, a);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(t0, ones));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(t1, ones));
        }
    }
    HK_UNROLL for (int r = 0; r < MR; r++) {
        _mm256_storeu_si256((__m256i*) (tile + r * 16), acc[r][0]);
        _mm256_storeu_si256((__m256i*) (tile + r * 16 + 8), acc[r][1]);
    }
}

template <int MR>
HK_T_AVX2 void mk_avx2w(const uint8_t* Rb, long ldr, const uint8_t* Pb, long kg, int32_t* tile) {
    const int16_t* R = reinterpret_cast<const int16_t*>(Rb);
    const int16_t* P = reinterpret_cast<const int16_t*>(Pb);
    __m256i acc[MR][2];
    HK_UNROLL for (int r = 0; r < MR; r++) {
        acc[r][0] = _mm256_setzero_si256();
        acc[r][1] = _mm256_setzero_si256();
    }
    for (long g = 0; g < kg; g++) {
        HK_UNROLL for (int q = 0; q < 2; q++) {
            __m256i b0 = _mm256_loadu_si256((const __m256i*) (P + (g * 2 + q) * 32));
            __m256i b1 = _mm256_loadu_si256((const __m256i*) (P + (g * 2 + q) * 32 + 16));
            HK_UNROLL for (int r = 0; r < MR; r++) {
                __m256i a = _mm256_set1_epi32(load_i32(R + r * ldr + 4 * g + 2 * q));
                acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(a, b0));
                acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(a, b1));
            }
        }
    }
    HK_UNROLL for (int r = 0; r < MR; r++) {
        _mm256_storeu_si256((__m256i*) (tile + r * 16), acc[r][0]);
        _mm256_storeu_si256((__m256i*) (tile + r * 16 + 8), acc[r][1]);
    }
}
#endif

#if defined(HK_ARM64)
template <int MR>
HK_T_DOT void mk_neon_dot(const uint8_t* R, long ldr, const uint8_t* P, long kg, int32_t* tile) {
    int32x4_t acc[MR][4];
    HK_UNROLL for (int r = 0; r < MR; r++) {
        HK_UNROLL for (int v = 0; v < 4; v++) acc[r][v] = vdupq_n_s32(0);
    }
    const int8_t* Ps = reinterpret_cast<const int8_t*>(P);
    for (long g = 0; g < kg; g++) {
        int8x16_t b[4];
        HK_UNROLL for (int v = 0; v < 4; v++) b[v] = vld1q_s8(Ps + g * 64 + v * 16);
        HK_UNROLL for (int r = 0; r < MR; r++) {
            int8x16_t a = vreinterpretq_s8_s32(vdupq_n_s32(load_i32(R + r * ldr + 4 * g)));
            HK_UNROLL for (int v = 0; v < 4; v++) acc[r][v] = vdotq_s32(acc[r][v], b[v], a);
        }
    }
    HK_UNROLL for (int r = 0; r < MR; r++) {
        HK_UNROLL for (int v = 0; v < 4; v++) vst1q_s32(tile + r * 16 + v * 4, acc[r][v]);
    }
}

// Without dotprod: 8-bit products widen to 16 bits (|p| <= 2^14, exact) and pairwise-add into 32 bits.
template <int MR>
void mk_neon(const uint8_t* R, long ldr, const uint8_t* P, long kg, int32_t* tile) {
    int32x4_t lo[MR][4], hi[MR][4];
    HK_UNROLL for (int r = 0; r < MR; r++) {
        HK_UNROLL for (int v = 0; v < 4; v++) {
            lo[r][v] = vdupq_n_s32(0);
            hi[r][v] = vdupq_n_s32(0);
        }
    }
    const int8_t* Ps = reinterpret_cast<const int8_t*>(P);
    for (long g = 0; g < kg; g++) {
        int8x16_t b[4];
        HK_UNROLL for (int v = 0; v < 4; v++) b[v] = vld1q_s8(Ps + g * 64 + v * 16);
        HK_UNROLL for (int r = 0; r < MR; r++) {
            int8x8_t a = vreinterpret_s8_s32(vdup_n_s32(load_i32(R + r * ldr + 4 * g)));
            HK_UNROLL for (int v = 0; v < 4; v++) {
                lo[r][v] = vpadalq_s16(lo[r][v], vmull_s8(vget_low_s8(b[v]), a));
                hi[r][v] = vpadalq_s16(hi[r][v], vmull_s8(vget_high_s8(b[v]), a));
            }
        }
    }
    HK_UNROLL for (int r = 0; r < MR; r++) {
        HK_UNROLL for (int v = 0; v < 4; v++) vst1q_s32(tile + r * 16 + v * 4, vpaddq_s32(lo[r][v], hi[r][v]));
    }
}
#endif

typedef void (*MicroKernel)(const uint8_t*, long, const uint8_t*, long, int32_t*);

#if defined(HK_X86)
template <int NV, bool ROWU, int... M>
MicroKernel vnni_pick(int mr, std::integer_sequence<int, M...>) {
    MicroKernel table[] = {mk_vnni<M + 1, NV, ROWU>...};
    return table[mr - 1];
}

template <bool ROWU>
MicroKernel vnni_kernel(int nv, int mr) {
    switch (nv) {
        case 1: return vnni_pick<1, ROWU>(mr, std::make_integer_sequence<int, 12>());
        case 2: return vnni_pick<2, ROWU>(mr, std::make_integer_sequence<int, 12>());
        default: return vnni_pick<4, ROWU>(mr, std::make_integer_sequence<int, 6>());
    }
}
#endif

// The micro-kernel for mr (<= f.mr) rows; rows_are_act: the row operand holds the activations.
inline MicroKernel micro_kernel(const Fam& f, int mr, bool rows_are_act) {
    switch (f.family) {
#if defined(HK_X86)
        case F_VNNI:
            return rows_are_act ? vnni_kernel<true>(f.nv, mr) : vnni_kernel<false>(f.nv, mr);
        case F_AVX2_NARROW: {
            MicroKernel u[] = {mk_avx2n<1, true>, mk_avx2n<2, true>, mk_avx2n<3, true>, mk_avx2n<4, true>};
            MicroKernel s[] = {mk_avx2n<1, false>, mk_avx2n<2, false>, mk_avx2n<3, false>, mk_avx2n<4, false>};
            return rows_are_act ? u[mr - 1] : s[mr - 1];
        }
        case F_AVX2_WIDE: {
            MicroKernel w[] = {mk_avx2w<1>, mk_avx2w<2>, mk_avx2w<3>, mk_avx2w<4>};
            return w[mr - 1];
        }
#endif
#if defined(HK_ARM64)
        case F_NEON_DOT: {
            MicroKernel d[] = {mk_neon_dot<1>, mk_neon_dot<2>, mk_neon_dot<3>, mk_neon_dot<4>};
            return d[mr - 1];
        }
        case F_NEON: {
            MicroKernel n[] = {mk_neon<1>, mk_neon<2>};
            return n[mr - 1];
        }
#endif
        default: {
            MicroKernel sc[] = {mk_scalar<1>, mk_scalar<2>, mk_scalar<3>, mk_scalar<4>};
            return sc[mr - 1];
        }
    }
}

// Chooses the kernel family for weights w[n * s_n + k * s_k] (n < n_out, k < K) on this ISA, and the panel
// width for `panel_cols` panel columns. Returns family | nv << 8.
inline int choose_family(int isa, const uint8_t* w, bool w_unsigned, long n_out, long K, long s_n, long s_k,
        long panel_cols) {
    switch (isa) {
        case ISA_AVX512: {
            int nv = panel_cols >= 48 ? 4 : panel_cols > 16 ? 2 : 1;
            return F_VNNI | nv << 8;
        }
        case ISA_AVX2: {
            // vpmaddubsw adds two u8*s8 products into int16 with saturation: exact only if |w0|+|w1| <= 128
            for (long n = 0; n < n_out; n++) {
                for (long k = 0; k < K; k += 2) {
                    int32_t w0 = fmt_value(FMT_S8, w_unsigned, w[n * s_n + k * s_k]);
                    int32_t w1 = k + 1 < K ? fmt_value(FMT_S8, w_unsigned, w[n * s_n + (k + 1) * s_k]) : 0;
                    if (std::abs(w0) + std::abs(w1) > 128) {
                        return F_AVX2_WIDE | 2 << 8;
                    }
                }
            }
            return F_AVX2_NARROW | 2 << 8;
        }
        case ISA_NEON: return F_NEON | 4 << 8;
        case ISA_NEON_DOT: return F_NEON_DOT | 4 << 8;
        default: return F_SCALAR | 1 << 8;
    }
}

// OUT = requant(R x P). rows_are_act selects the variant: FC (channels per column) or CONV (per row).
// out_ld is the output row stride in elements. Needs 16 KiB of stack for the tile.
// Rows [rb, re) and column panels [jb, je) of the product: a tile of it, for the caller's threads (each
// output's sum is the same whichever tile computes it).
inline void qgemm(const Fam& f, bool rows_are_act, const uint8_t* R, long rows, const uint8_t* P, long cols,
        long K, const Requant& q, uint8_t* out, long out_ld, long rb, long re, long jb, long je) {
    int who_r = rows_are_act ? WHO_ACT : WHO_WT;
    int who_p = rows_are_act ? WHO_WT : WHO_ACT;
    long k4 = round_up(K, 4);
    long kg = k4 / 4;
    long padded = ppack_panels(f, cols) * f.nr;
    int rsz = fmt_size(f.fmt(who_r));
    long panel_bytes = k4 * f.nr * fmt_size(f.fmt(who_p));
    const int32_t* zr = rpack_trailer(f, who_r, const_cast<uint8_t*>(R), rows, K);
    const int32_t* rsum = zr + rows;
    const int32_t* cadj = ppack_trailer(f, who_p, const_cast<uint8_t*>(P), cols, K);
    const int32_t* zc = cadj + padded;
    const bool per_col = rows_are_act;
    const int osz = q.out_size();
    alignas(64) int32_t tile[12 * 64];
    MicroKernel full = micro_kernel(f, f.mr, rows_are_act);
#if defined(HK_X86)
    // weight rows with zero points 0 against one panel zero point: each tile requantized without row calls
    bool fused = f.family == F_VNNI && !rows_are_act && osz == 1;
    for (long row = rb; fused && row < re; row++) {
        fused = zr[row] == 0;
    }
    for (long c = 1; fused && c < cols; c++) {
        fused = zc[c] == zc[0];
    }
    if (fused) {
        alignas(64) int32_t B[12];
        for (long j = jb; j < je && j * f.nr < cols; j++) {
            const long c0 = j * f.nr;
            const int nc = (int) std::min<long>(f.nr, cols - c0);
            const uint8_t* pj = P + j * panel_bytes;
            for (long r0 = rb; r0 < re; r0 += f.mr) {
                const int mr = (int) std::min<long>(f.mr, re - r0);
                MicroKernel mk = mr == f.mr ? full : micro_kernel(f, mr, rows_are_act);
                mk(R + r0 * k4 * rsz, k4, pj, kg, tile);
                for (int r = 0; r < mr; r++) {
                    B[r] = (int32_t) ((uint32_t) q.bias[r0 + r] - (uint32_t) zc[0] * (uint32_t) rsum[r0 + r]);
                }
                requant_tile_rq(tile, mr, f.nr, B, q.mult + r0, q, out + r0 * out_ld + c0, out_ld, nc);
            }
        }
        return;
    }
#endif
    for (long j = jb; j < je && j * f.nr < cols; j++) {
        long c0 = j * f.nr;
        int nc = (int) std::min<long>(f.nr, cols - c0);
        const uint8_t* pj = P + j * panel_bytes;
        for (long r0 = rb; r0 < re; r0 += f.mr) {
            int mr = (int) std::min<long>(f.mr, re - r0);
            const uint8_t* rr = R + r0 * k4 * rsz;
            MicroKernel mk = mr == f.mr ? full : micro_kernel(f, mr, rows_are_act);
            mk(rr, k4, pj, kg, tile);
            for (int r = 0; r < mr; r++) {
                long row = r0 + r;
                RowArgs a;
                a.raw = tile + r * f.nr;
                a.n = nc;
                a.zr = zr[row];
                a.rsum = rsum[row];
                a.cadj = cadj + c0;
                a.zc = zc + c0;
                a.per_col = per_col;
                a.mult = per_col ? q.mult + c0 : q.mult + row;
                a.bias = per_col ? q.bias + c0 : q.bias + row;
                a.out = out + (row * out_ld + c0) * osz;
                requant_row(f.isa(), a, q);
            }
        }
    }
}

inline void qgemm(const Fam& f, bool rows_are_act, const uint8_t* R, long rows, const uint8_t* P, long cols,
        long K, const Requant& q, uint8_t* out, long out_ld) {
    qgemm(f, rows_are_act, R, rows, P, cols, K, q, out, out_ld, 0, rows, 0, ppack_panels(f, cols));
}

}  // namespace hk
