// Stand-alone check of the native kernels against scalar references, for every ISA the running CPU has.
// Used to check the arm64 build under qemu (see check-kernels.sh); the Java tests cover the same kernels
// through JNI on the build machine.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <vector>

#include "hedge_kernels.h"
#include "hk_qelt.h"

using namespace hk;

// Every buffer handed to a kernel ends right before an inaccessible page, so reading or writing even one
// byte past it faults (compiler-vectorised loops included).
template <typename T>
struct GuardAlloc {
    using value_type = T;
    GuardAlloc() = default;
    template <typename U>
    GuardAlloc(const GuardAlloc<U>&) {}
    T* allocate(size_t n) {
        long page = sysconf(_SC_PAGESIZE);
        long bytes = (long) (n * sizeof(T));
        long pages = (bytes + page - 1) / page + 1;
        uint8_t* p = (uint8_t*) mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mprotect(p + (pages - 1) * page, page, PROT_NONE);
        return reinterpret_cast<T*>(p + (pages - 1) * page - bytes);
    }
    void deallocate(T* p, size_t n) {
        long page = sysconf(_SC_PAGESIZE);
        long bytes = (long) (n * sizeof(T));
        long pages = (bytes + page - 1) / page + 1;
        uint8_t* end = reinterpret_cast<uint8_t*>(p) + bytes;
        munmap(end - (pages - 1) * page, pages * page);
    }
    template <typename U>
    bool operator==(const GuardAlloc<U>&) const { return true; }
    template <typename U>
    bool operator!=(const GuardAlloc<U>&) const { return false; }
};

template <typename T>
using gvec = std::vector<T, GuardAlloc<T>>;

static std::mt19937 rng(1234);
static long rnd(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); }
static int failures = 0;

#define CHECK(cond, ...)                        \
    do {                                        \
        if (!(cond)) {                          \
            if (failures++ < 20) {              \
                std::printf("FAIL: " __VA_ARGS__); \
                std::printf("\n");              \
            }                                   \
        }                                       \
    } while (0)

struct Q {
    gvec<signed char> buf;
    Q(int nch, int yzp, int lo, int hi, int type, const gvec<float>& mult, const gvec<int32_t>& bias) {
        buf.assign(64 + align64(4L * nch) + align64(4L * nch) + 64, 0);
        int32_t h[5] = {nch, yzp, lo, hi, type};
        std::memcpy(buf.data(), h, sizeof h);
        std::memcpy(buf.data() + 64, mult.data(), 4 * nch);
        std::memcpy(buf.data() + 64 + align64(4L * nch), bias.data(), 4 * nch);
    }
};

static int64_t ref_requant(int64_t acc32, float m, int yzp, int lo, int hi, int type) {
    if (type == OUT_S32) return (int32_t) acc32;
    float v = (float) (int32_t) acc32 * m;
    double r = std::nearbyint((double) v) + yzp;
    return (int64_t) std::min<double>(std::max<double>(r, lo), hi);
}

struct Case {
    int type, yzp, lo, hi;
    gvec<float> mult;
    gvec<int32_t> bias;
    void make(int nch) {
        type = (int) rnd(0, 2);
        int tmin = type == OUT_U8 ? 0 : -128, tmax = type == OUT_U8 ? 255 : 127;
        yzp = type == OUT_S32 ? 0 : (int) rnd(tmin, tmax);
        lo = type == OUT_S32 ? 0 : (int) rnd(tmin, tmin + 20);
        hi = type == OUT_S32 ? 0 : (int) rnd(tmax - 20, tmax);
        if (rnd(0, 3) == 0 && type != OUT_S32) lo = std::max(lo, yzp);  // fused Relu
        mult.resize(nch);
        bias.resize(nch);
        for (int c = 0; c < nch; c++) {
            mult[c] = std::ldexp((float) rnd(1 << 20, (1 << 24) - 1), -(int) rnd(30, 40));
            bias[c] = type == OUT_S32 ? 0 : (int32_t) rnd(-20000, 20000);
        }
    }
    int64_t out(const gvec<uint8_t>& o, long i) const {
        if (type == OUT_S32) {
            int32_t v;
            std::memcpy(&v, o.data() + 4 * i, 4);
            return v;
        }
        return type == OUT_U8 ? (int64_t) o[i] : (int64_t) (int8_t) o[i];
    }
};

static void fill(gvec<uint8_t>& v) {
    for (auto& b : v) b = (uint8_t) rnd(0, 255);
}

static int sval(uint8_t b, bool u) { return u ? b : (int8_t) b; }

static void test_gemm(int isa) {
    for (int trial = 0; trial < 150; trial++) {
        long M = rnd(1, 40), N = rnd(1, 80), K = rnd(1, 70);
        if (trial % 10 == 0) M = rnd(60, 140), N = rnd(60, 140), K = rnd(60, 300);
        bool au = rnd(0, 1), wu = rnd(0, 1);
        bool fc = rnd(0, 1);
        gvec<uint8_t> A(M * K), W(N * K);  // A[m][k], W[n][k]
        fill(A);
        fill(W);
        if (rnd(0, 2) == 0) {
            for (auto& b : W) b = (uint8_t) (int8_t) rnd(-40, 40);  // AVX2 narrow range
            wu = false;
        }
        gvec<int32_t> za(M), zw(N);
        bool per_row_a = rnd(0, 1);
        int za0 = au ? (int) rnd(0, 255) : (int) rnd(-128, 127);
        for (auto& z : za) z = per_row_a ? (au ? (int) rnd(0, 255) : (int) rnd(-128, 127)) : za0;
        bool wz0 = rnd(0, 1);
        for (auto& z : zw) z = wz0 ? 0 : (wu ? (int) rnd(0, 255) : (int) rnd(-128, 127));
        Case cs;
        long nch = N;
        cs.make((int) nch);
        Q q((int) nch, cs.yzp, cs.lo, cs.hi, cs.type, cs.mult, cs.bias);
        int osz = cs.type == OUT_S32 ? 4 : 1;
        gvec<uint8_t> out(M * N * osz);
        if (fc) {
            int code = hk_choose_family(isa, (signed char*) W.data(), 0, wu, N, K, K, 1, N);
            Fam f = Fam::of(code);
            gvec<uint8_t> R(rpack_bytes(f, WHO_ACT, M, K)), P(ppack_bytes(f, WHO_WT, N, K));
            hk_pack_panel(code, WHO_WT, (signed char*) P.data(), 0, (signed char*) W.data(), 0, wu, N, K, K, 1,
                    (signed char*) zw.data(), 0, 1);
            hk_pack_act_rows(code, (signed char*) R.data(), 0, (signed char*) A.data(), 0, au, M, K, K,
                    (signed char*) za.data(), 0, 1);
            hk_qgemm(code, 1, (signed char*) R.data(), 0, M, (signed char*) P.data(), 0, N, K,
                    q.buf.data(), 0, (signed char*) out.data(), 0, N);
        } else {
            // conv orientation: rows = weights (N), panel = activations (M columns), out[N][M]
            int code = hk_choose_family(isa, (signed char*) W.data(), 0, wu, N, K, K, 1, M);
            Fam f = Fam::of(code);
            gvec<uint8_t> R(rpack_bytes(f, WHO_WT, N, K)), P(ppack_bytes(f, WHO_ACT, M, K));
            hk_pack_rows(code, WHO_WT, (signed char*) R.data(), 0, (signed char*) W.data(), 0, wu, N, K, K, 1,
                    (signed char*) zw.data(), 0, 1);
            hk_pack_panel(code, WHO_ACT, (signed char*) P.data(), 0, (signed char*) A.data(), 0, au, M, K, K, 1,
                    (signed char*) za.data(), 0, 1);
            hk_qgemm(code, 0, (signed char*) R.data(), 0, N, (signed char*) P.data(), 0, M, K,
                    q.buf.data(), 0, (signed char*) out.data(), 0, M);
        }
        for (long m = 0; m < M; m++) {
            for (long n = 0; n < N; n++) {
                int64_t acc = 0;
                for (long k = 0; k < K; k++) acc += (int64_t) (sval(A[m * K + k], au) - za[m]) * (sval(W[n * K + k], wu) - zw[n]);
                acc += cs.bias[n];
                int64_t want = ref_requant(acc, cs.mult[n], cs.yzp, cs.lo, cs.hi, cs.type);
                long idx = fc ? m * N + n : n * M + m;
                CHECK(cs.out(out, idx) == want, "gemm isa %d fc %d M %ld N %ld K %ld m %ld n %ld: %lld != %lld", isa,
                        (int) fc, M, N, K, m, n, (long long) cs.out(out, idx), (long long) want);
            }
        }
    }
}

static void test_conv(int isa) {
    for (int trial = 0; trial < 80; trial++) {
        long C = rnd(1, 9), H = rnd(1, 12), W = rnd(1, 12), KH = rnd(1, 3), KW = rnd(1, 3);
        long sh = rnd(1, 2), sw = rnd(1, 2), dh = rnd(1, 2), dw = rnd(1, 2);
        long pt = rnd(0, 2), pl = rnd(0, 2), pb = rnd(0, 2), pr = rnd(0, 2);
        if (trial % 4 == 0) KH = KW = 1, sh = sw = 1, pt = pl = pb = pr = 0;
        long OH = (H + pt + pb - ((KH - 1) * dh + 1)) / sh + 1;
        long OW = (W + pl + pr - ((KW - 1) * dw + 1)) / sw + 1;
        if (OH <= 0 || OW <= 0) continue;
        long Co = rnd(1, 20), K = C * KH * KW, P = OH * OW;
        bool xu = rnd(0, 1), wu = rnd(0, 1);
        int zx = xu ? (int) rnd(0, 255) : (int) rnd(-128, 127);
        gvec<uint8_t> X(C * H * W), Wt(Co * K);
        fill(X);
        fill(Wt);
        gvec<int32_t> zw(Co);
        for (auto& z : zw) z = wu ? (int) rnd(0, 255) : (int) rnd(-128, 127);
        Case cs;
        cs.make((int) Co);
        Q q((int) Co, cs.yzp, cs.lo, cs.hi, cs.type, cs.mult, cs.bias);
        int osz = cs.type == OUT_S32 ? 4 : 1;
        int code = hk_choose_family(isa, (signed char*) Wt.data(), 0, wu, Co, K, K, 1, P);
        Fam f = Fam::of(code);
        gvec<uint8_t> R(rpack_bytes(f, WHO_WT, Co, K)), Pk(ppack_bytes(f, WHO_ACT, P, K));
        gvec<uint8_t> tmp(im2col_tmp_bytes(f, P)), out(Co * P * osz);
        hk_pack_rows(code, WHO_WT, (signed char*) R.data(), 0, (signed char*) Wt.data(), 0, wu, Co, K, K, 1,
                (signed char*) zw.data(), 0, 1);
        hk_pack_act_im2col(code, (signed char*) Pk.data(), 0, (signed char*) X.data(), 0, xu, C, H, W, KH, KW, sh, sw,
                dh, dw, pt, pl, OH, OW, zx, (signed char*) tmp.data(), 0);
        hk_qgemm(code, 0, (signed char*) R.data(), 0, Co, (signed char*) Pk.data(), 0, P, K, q.buf.data(), 0,
                (signed char*) out.data(), 0, P);
        for (long co = 0; co < Co; co++) {
            for (long p = 0; p < P; p++) {
                long oh = p / OW, ow = p % OW;
                int64_t acc = 0;
                for (long c = 0; c < C; c++) {
                    for (long i = 0; i < KH; i++) {
                        for (long j = 0; j < KW; j++) {
                            long ih = oh * sh - pt + i * dh, iw = ow * sw - pl + j * dw;
                            int xv = ih < 0 || ih >= H || iw < 0 || iw >= W ? zx : sval(X[(c * H + ih) * W + iw], xu);
                            acc += (int64_t) (xv - zx) * (sval(Wt[co * K + (c * KH + i) * KW + j], wu) - zw[co]);
                        }
                    }
                }
                acc += cs.bias[co];
                int64_t want = ref_requant(acc, cs.mult[co], cs.yzp, cs.lo, cs.hi, cs.type);
                CHECK(cs.out(out, co * P + p) == want, "conv isa %d co %ld p %ld: %lld != %lld", isa, co, p,
                        (long long) cs.out(out, co * P + p), (long long) want);
            }
        }
    }
}

static void test_dw_pool(int isa) {
    for (int trial = 0; trial < 150; trial++) {
        long C = rnd(1, 6), H = rnd(1, 14), W = rnd(1, 45), KH = rnd(1, 3), KW = rnd(1, 5), mult = rnd(1, 2);
        long sh = rnd(1, 2), sw = rnd(1, 2), dh = rnd(1, 2), dw = rnd(1, 2), pt = rnd(0, 2), pl = rnd(0, 2);
        if (trial % 3 == 0) {  // the specialised square, undilated windows
            KH = KW = trial % 2 == 0 ? 3 : 5;
            sw = sh;
            dh = dw = 1;
        }
        long OH = (H + pt + rnd(0, 2) - ((KH - 1) * dh + 1)) / sh + 1;
        long OW = (W + pl + rnd(0, 2) - ((KW - 1) * dw + 1)) / sw + 1;
        if (OH <= 0 || OW <= 0) continue;
        bool xu = rnd(0, 1);
        int zx = xu ? (int) rnd(0, 255) : (int) rnd(-128, 127);
        long Co = C * mult;
        gvec<uint8_t> X(C * H * W);
        fill(X);
        gvec<int16_t> w(Co * KH * KW);
        for (auto& v : w) v = (int16_t) rnd(-255, 255);
        Case cs;
        cs.make((int) Co);
        Q q((int) Co, cs.yzp, cs.lo, cs.hi, cs.type, cs.mult, cs.bias);
        int osz = cs.type == OUT_S32 ? 4 : 1;
        gvec<uint8_t> out(Co * OH * OW * osz), scratch(hk_qdw_scratch_bytes(OH, OW, KH, KW, sh, sw, dh, dw));
        hk_qdw(isa, (signed char*) X.data(), 0, xu, zx, C, H, W, mult, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW,
                (signed char*) w.data(), 0, q.buf.data(), 0, (signed char*) out.data(), 0, (signed char*) scratch.data(), 0, 0, C);
        // float depthwise on the same geometry
        gvec<float> Xf(C * H * W), wf(Co * KH * KW), bf(Co), of(Co * OH * OW),
                plane(hk_fdw_scratch_bytes(OH, OW, KH, KW, sh, sw, dh, dw) / 4);
        for (auto& v : Xf) v = (float) rnd(-1000, 1000) / 128.f;
        for (auto& v : wf) v = (float) rnd(-1000, 1000) / 512.f;
        for (auto& v : bf) v = (float) rnd(-100, 100) / 16.f;
        int fact = (int) rnd(0, 2);
        hk_fdw(isa, (signed char*) Xf.data(), 0, C, H, W, mult, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW,
                (signed char*) wf.data(), 0, (signed char*) bf.data(), 0, fact, -1.f, 2.f, (signed char*) of.data(), 0,
                (signed char*) plane.data(), 0);
        for (long co = 0; co < Co; co++) {
            for (long oh = 0; oh < OH; oh++) {
                for (long ow = 0; ow < OW; ow++) {
                    double acc = bf[co], mag = std::fabs(bf[co]);
                    for (long i = 0; i < KH; i++) {
                        for (long j = 0; j < KW; j++) {
                            long ih = oh * sh - pt + i * dh, iw = ow * sw - pl + j * dw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            double t = (double) Xf[((co / mult) * H + ih) * W + iw] * wf[(co * KH + i) * KW + j];
                            acc += t;
                            mag += std::fabs(t);
                        }
                    }
                    float want = act1((float) acc, fact, -1.f, 2.f);
                    float got = of[(co * OH + oh) * OW + ow];
                    CHECK(std::fabs(got - want) <= 1e-5 * std::max(1.0, mag), "fdw isa %d: %g != %g", isa, got, want);
                }
            }
        }
        gvec<uint8_t> pool(C * OH * OW);
        hk_maxpool8(isa, !xu, (signed char*) X.data(), 0, C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW,
                (signed char*) pool.data(), 0);
        for (long co = 0; co < Co; co++) {
            for (long oh = 0; oh < OH; oh++) {
                for (long ow = 0; ow < OW; ow++) {
                    int64_t acc = 0;
                    int best = xu ? 0 : -128;
                    bool any = false;
                    for (long i = 0; i < KH; i++) {
                        for (long j = 0; j < KW; j++) {
                            long ih = oh * sh - pt + i * dh, iw = ow * sw - pl + j * dw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            int xv = sval(X[((co / mult) * H + ih) * W + iw], xu);
                            acc += (int64_t) (xv - zx) * w[(co * KH + i) * KW + j];
                            if (co < C) best = std::max(best, sval(X[(co * H + ih) * W + iw], xu));
                            any = true;
                        }
                    }
                    acc += cs.bias[co];
                    int64_t want = ref_requant(acc, cs.mult[co], cs.yzp, cs.lo, cs.hi, cs.type);
                    long idx = (co * OH + oh) * OW + ow;
                    CHECK(cs.out(out, idx) == want, "dw isa %d co %ld oh %ld ow %ld: %lld != %lld", isa, co, oh, ow,
                            (long long) cs.out(out, idx), (long long) want);
                    if (!any) best = 0;
                    if (co < C) {
                        int got = sval(pool[idx], xu);
                        CHECK(got == best, "maxpool isa %d: %d != %d", isa, got, best);
                    }
                }
            }
        }
    }
}

// Builds the kernels' sparse layout (as dev.hedge.kernels.cpu.SparseWeights does) from a dense matrix.
static gvec<signed char> build_sparse(const gvec<float>& Wd, long R, long K, int BR, int BC, bool q8,
        const gvec<int32_t>& zw) {
    gvec<int32_t> rowptr{0}, col;
    gvec<int32_t> wq;
    gvec<float> wf;
    for (long b = 0; b < R / BR; b++) {
        for (long kb = 0; kb < K / BC; kb++) {
            bool any = false;
            for (int r = 0; r < BR; r++)
                for (int c = 0; c < BC; c++) any |= Wd[(b * BR + r) * K + kb * BC + c] != 0;
            if (!any) continue;
            if (q8) {
                int ep = BC == 4 ? 2 : 1;
                long k0 = kb * BC;
                col.push_back((int32_t) (k0 / 2));
                for (int qq = 0; qq < ep; qq++) {
                    for (int r = 0; r < BR; r++) {
                        int16_t lo = 0, hi = 0;
                        for (int c = 0; c < BC; c++) {
                            long k = k0 + c;
                            if (k / 2 != k0 / 2 + qq) continue;
                            int16_t v = (int16_t) Wd[(b * BR + r) * K + k];
                            (k & 1 ? hi : lo) = v;
                        }
                        wq.push_back((int32_t) ((uint16_t) lo | ((uint32_t) (uint16_t) hi << 16)));
                    }
                }
            } else {
                col.push_back((int32_t) (kb * BC));
                for (int c = 0; c < BC; c++)
                    for (int r = 0; r < BR; r++) wf.push_back(Wd[(b * BR + r) * K + kb * BC + c]);
            }
        }
        rowptr.push_back((int32_t) col.size());
    }
    long nent = col.size();
    long off_rp = 64, off_col = off_rp + align64(4 * rowptr.size()), off_w = off_col + align64(4 * nent + 4);
    long wbytes = q8 ? 4 * wq.size() : 4 * wf.size();
    long off_zw = off_w + align64(wbytes + 4);
    gvec<signed char> buf(off_zw + align64(4 * R + 4), 0);
    bool any_zw = false;
    for (auto z : zw) any_zw |= z != 0;
    int32_t h[12] = {(int32_t) R, (int32_t) K, BR, q8 ? (BC == 4 ? 2 : 1) : BC, (int32_t) (R / BR), (int32_t) nent,
            (int32_t) off_rp, (int32_t) off_col, (int32_t) off_w, (int32_t) off_zw, any_zw, 0};
    std::memcpy(buf.data(), h, sizeof h);
    std::memcpy(buf.data() + off_rp, rowptr.data(), 4 * rowptr.size());
    std::memcpy(buf.data() + off_col, col.data(), 4 * nent);
    if (q8) std::memcpy(buf.data() + off_w, wq.data(), wbytes);
    else std::memcpy(buf.data() + off_w, wf.data(), wbytes);
    std::memcpy(buf.data() + off_zw, zw.data(), 4 * R);
    return buf;
}

// The k4 layout (AVX-512): entries are (block row, k-group) words of four s8 weights.
static gvec<signed char> build_k4(const gvec<float>& Wd, long R, long K, int BR, int BC,
        const gvec<int32_t>& zw) {
    gvec<int32_t> rowptr{0}, col, wv, rsum(R, 0);
    for (long b = 0; b < R / BR; b++) {
        for (long g = 0; g < (K + 3) / 4; g++) {
            bool any = false;
            for (int r = 0; r < BR; r++)
                for (long k = 4 * g; k < std::min(K, 4 * g + 4); k++) any |= Wd[(b * BR + r) * K + k] != 0;
            if (!any) continue;
            col.push_back((int32_t) g);
            for (int r = 0; r < BR; r++) {
                uint32_t word = 0;
                for (long k = 4 * g; k < std::min(K, 4 * g + 4); k++) {
                    int v = (int) Wd[(b * BR + r) * K + k];
                    word |= (uint32_t) (uint8_t) (int8_t) v << (8 * (k - 4 * g));
                    rsum[b * BR + r] += v;
                }
                wv.push_back((int32_t) word);
            }
        }
        rowptr.push_back((int32_t) col.size());
    }
    (void) BC;
    long nent = col.size();
    long off_rp = 64, off_col = off_rp + align64(4 * rowptr.size()), off_w = off_col + align64(4 * nent + 4);
    long off_zw = off_w + align64(4 * wv.size() + 4), off_rs = off_zw + align64(4 * R + 4);
    gvec<signed char> buf(off_rs + align64(4 * R + 4), 0);
    bool any_zw = false;
    for (auto z : zw) any_zw |= z != 0;
    int32_t h[12] = {(int32_t) R, (int32_t) K, BR, 1, (int32_t) (R / BR), (int32_t) nent, (int32_t) off_rp,
            (int32_t) off_col, (int32_t) off_w, (int32_t) off_zw, any_zw, (int32_t) off_rs};
    std::memcpy(buf.data(), h, sizeof h);
    std::memcpy(buf.data() + off_rp, rowptr.data(), 4 * rowptr.size());
    std::memcpy(buf.data() + off_col, col.data(), 4 * nent);
    std::memcpy(buf.data() + off_w, wv.data(), 4 * wv.size());
    std::memcpy(buf.data() + off_zw, zw.data(), 4 * R);
    std::memcpy(buf.data() + off_rs, rsum.data(), 4 * R);
    return buf;
}

static void test_sparse(int isa) {
    const int shapes[4][2] = {{1, 1}, {1, 4}, {8, 1}, {4, 1}};
    for (int trial = 0; trial < 90; trial++) {
        int BR = shapes[trial % 4][0], BC = shapes[trial % 4][1];
        long R = BR * (rnd(0, 2) ? rnd(1, 6) : rnd(6, 40)), K = BC * (rnd(0, 2) ? rnd(1, 20) : rnd(20, 200 / BC)),
                P = rnd(0, 3) ? rnd(1, 80) : rnd(80, 300);
        bool u = rnd(0, 1);
        int zx = u ? (int) rnd(0, 255) : (int) rnd(-128, 127);
        gvec<float> Wd(R * K, 0.f);
        for (auto& v : Wd) v = rnd(0, 4) == 0 ? (float) rnd(-128, 127) : 0.f;
        gvec<int32_t> zw(R, 0);
        if (rnd(0, 1)) for (auto& z : zw) z = (int) rnd(-128, 127);
        // int8: weights are the stored values; absent entries are raw 0
        auto sp = build_sparse(Wd, R, K, BR, BC, true, zw);
        gvec<uint8_t> X(K * P);
        fill(X);
        long Ppad = round_up(P, 64), K2 = (K + 1) / 2;
        gvec<uint8_t> X2(4 * K2 * Ppad), S(4 * Ppad);
        hk_sq8_pack_x(isa, (signed char*) X.data(), 0, u, zx, K, P, P, 1, (signed char*) X2.data(), 0, Ppad,
                (signed char*) S.data(), 0);
        Case cs;
        cs.make((int) R);
        Q q((int) R, cs.yzp, cs.lo, cs.hi, cs.type, cs.mult, cs.bias);
        int osz = cs.type == OUT_S32 ? 4 : 1;
        gvec<uint8_t> out(R * P * osz);
        hk_sq8_gemm(isa, sp.data(), 0, (signed char*) X2.data(), 0, P, Ppad, (signed char*) S.data(), 0, q.buf.data(), 0,
                (signed char*) out.data(), 0, P);
        for (long r = 0; r < R; r++) {
            for (long p = 0; p < P; p++) {
                int64_t acc = 0;
                for (long k = 0; k < K; k++) acc += (int64_t) (sval(X[k * P + p], u) - zx) * ((int) Wd[r * K + k] - zw[r]);
                acc += cs.bias[r];
                int64_t want = ref_requant(acc, cs.mult[r], cs.yzp, cs.lo, cs.hi, cs.type);
                CHECK(cs.out(out, r * P + p) == want, "sq8 isa %d %dx%d r %ld p %ld: %lld != %lld", isa, BR, BC, r, p,
                        (long long) cs.out(out, r * P + p), (long long) want);
            }
        }
        if (isa == ISA_AVX512) {
            auto k4 = build_k4(Wd, R, K, BR, BC, zw);
            int code = hk_k4_panel_family(P);
            Fam f = Fam::of(code);
            gvec<uint8_t> panel(ppack_bytes(f, WHO_ACT, P, K)), tmp(im2col_tmp_bytes(f, P));
            hk_pack_act_im2col(code, (signed char*) panel.data(), 0, (signed char*) X.data(), 0, u, K, 1, P, 1, 1, 1, 1,
                    1, 1, 0, 0, 1, P, zx, (signed char*) tmp.data(), 0);
            gvec<uint8_t> out2(R * P * osz);
            // in two calls over block rows, as threads split it; transposed outputs split at a multiple of 16 rows
            const long nbr = R / BR, mid = nbr / 3, mid16 = (R / 2) / 16 * 16 / BR;
            hk_sq8_k4_gemm(k4.data(), 0, (signed char*) panel.data(), 0, P, q.buf.data(), 0, (signed char*) out2.data(), 0, P, 0,
                    0, mid);
            hk_sq8_k4_gemm(k4.data(), 0, (signed char*) panel.data(), 0, P, q.buf.data(), 0, (signed char*) out2.data(), 0, P, 0,
                    mid, nbr);
            CHECK(out2 == out, "sq8 k4 %dx%d P %ld differs from the pair kernel", BR, BC, P);
            // activations as rows (fully connected): panel packed from X^T, output written transposed
            gvec<uint8_t> xt(P * K), outt(P * R * osz);
            for (long k = 0; k < K; k++) for (long p = 0; p < P; p++) xt[p * K + k] = X[k * P + p];
            gvec<uint8_t> panel2(ppack_bytes(f, WHO_ACT, P, K));
            hk_sq8_k4_pack_fc(code, (signed char*) panel2.data(), 0, (signed char*) xt.data(), 0, u, zx, P, K, K);
            hk_sq8_k4_gemm(k4.data(), 0, (signed char*) panel2.data(), 0, P, q.buf.data(), 0,
                    (signed char*) outt.data(), 0, R, 1, 0, mid16);
            hk_sq8_k4_gemm(k4.data(), 0, (signed char*) panel2.data(), 0, P, q.buf.data(), 0,
                    (signed char*) outt.data(), 0, R, 1, mid16, nbr);
            for (long r = 0; r < R; r++) {
                for (long p = 0; p < P; p++) {
                    CHECK(std::memcmp(outt.data() + (p * R + r) * osz, out.data() + (r * P + p) * osz, osz) == 0,
                            "sq8 k4 rows %dx%d r %ld p %ld", BR, BC, r, p);
                }
            }
            // one column at a time through the gather kernel and (single-row blocks) the lane layout
            gvec<uint8_t> col(K), tmp1(hk_sq8_k4_gemv_tmp_bytes(K, R)), out1(R * osz);
            gvec<signed char> lanes(BR == 1 ? hk_sq8_k4_gemv_layout(k4.data(), 0, nullptr, 0) : 1);
            if (BR == 1) hk_sq8_k4_gemv_layout(k4.data(), 0, lanes.data(), 0);
            for (int lay = 0; lay < (BR == 1 ? 2 : 1); lay++) {
                for (long p = 0; p < P; p++) {
                    for (long k = 0; k < K; k++) col[k] = X[k * P + p];
                    hk_sq8_k4_gemv(k4.data(), 0, lay ? lanes.data() : nullptr, 0, (signed char*) col.data(), 0, u,
                            zx, (signed char*) tmp1.data(), 0, q.buf.data(), 0, (signed char*) out1.data(), 0);
                    for (long r = 0; r < R; r++) {
                        CHECK(std::memcmp(out1.data() + r * osz, out.data() + (r * P + p) * osz, osz) == 0,
                                "sq8 k4 gemv %dx%d layout %d r %ld p %ld", BR, BC, lay, r, p);
                    }
                }
            }
        }
        // fp32
        gvec<float> Wf(R * K);
        for (long i = 0; i < R * K; i++) Wf[i] = Wd[i] == 0 ? 0.f : Wd[i] / 64.f;
        auto spf = build_sparse(Wf, R, K, BR, BC, false, gvec<int32_t>(R, 0));
        gvec<float> Xf(K * P), bias(R), outf(R * P);
        for (auto& v : Xf) v = (float) rnd(-1000, 1000) / 256.f;
        for (auto& v : bias) v = (float) rnd(-100, 100) / 16.f;
        int act = (int) rnd(0, 2);
        hk_sf32_gemm(isa, spf.data(), 0, (signed char*) Xf.data(), 0, P, P, (signed char*) bias.data(), 0, act, -0.5f,
                3.f, (signed char*) outf.data(), 0, P);
        for (long r = 0; r < R; r++) {
            for (long p = 0; p < P; p++) {
                double acc = bias[r];
                for (long k = 0; k < K; k++) acc += (double) Wf[r * K + k] * Xf[k * P + p];
                float want = act1((float) acc, act, -0.5f, 3.f);
                float got = outf[r * P + p];
                CHECK(std::fabs(got - want) <= 1e-4f * std::max(1.f, std::fabs(want)), "sf32 isa %d %dx%d: %g != %g",
                        isa, BR, BC, got, want);
            }
        }
    }
}

// QLinearAdd / QLinearMul / QLinearGlobalAveragePool against the fixed-point formulas in int64 (QFixed).
static void test_qelt(int isa) {
    for (int iter = 0; iter < 200; iter++) {
        bool sgn = rnd(0, 1), mul = rnd(0, 1), bfull = rnd(0, 1);
        int tmin = sgn ? -128 : 0, tmax = sgn ? 127 : 255;
        long n = rnd(1, iter % 10 == 0 ? 5000 : 100), inner = rnd(1, 20), mid = rnd(1, 8);
        if (!bfull) n = std::max(n / (mid * inner), 1L) * mid * inner;
        gvec<uint8_t> a(n), b(bfull ? n : mid), out(n);
        fill(a);
        fill(b);
        QeltParams q{};
        q.shift = (int) rnd(1, 30);
        q.ma = (int) rnd(0, mul ? 1 << 14 : 1 << 20);
        q.mb = mul ? 0 : (int) rnd(0, 1 << 20);
        q.za = (int) rnd(tmin, tmax);
        q.zb = (int) rnd(tmin, tmax);
        q.zc = (int) rnd(tmin, tmax);
        q.lo = (int) rnd(tmin, tmin + 30);
        q.hi = (int) rnd(tmax - 30, tmax);
        long i0 = rnd(0, n - 1), len = rnd(1, n - i0);
        hk_qelt(isa, mul, sgn, (signed char*) a.data(), 0, (signed char*) b.data(), 0, bfull, mid, inner,
                (signed char*) out.data(), 0, i0, len, q.ma, q.mb, q.shift, q.za, q.zb, q.zc, q.lo, q.hi);
        for (long i = i0; i < i0 + len; i++) {
            int64_t va = sval(a[i], !sgn) - q.za;
            int64_t vb = sval(b[bfull ? i : (i / inner) % mid], !sgn) - q.zb;
            int64_t acc = (mul ? q.ma * va * vb : q.ma * va + q.mb * vb) + (1LL << (q.shift - 1));
            int64_t want = std::min<int64_t>(q.hi, std::max<int64_t>(q.lo, (acc >> q.shift) + q.zc));
            CHECK(sval(out[i], !sgn) == want, "qelt isa %d mul %d element %ld: %d vs %ld", isa, mul, i,
                    sval(out[i], !sgn), (long) want);
        }
    }
    for (int iter = 0; iter < 100; iter++) {
        bool sgn = rnd(0, 1);
        int tmin = sgn ? -128 : 0, tmax = sgn ? 127 : 255;
        long planes = rnd(1, 20), size = rnd(1, iter % 5 == 0 ? 4000 : 100);
        gvec<uint8_t> x(planes * size), out(planes);
        fill(x);
        int shift = (int) rnd(1, 62), zx = (int) rnd(tmin, tmax), zy = (int) rnd(tmin, tmax);
        int64_t mult = rnd(0, 1L << 30);
        hk_qgavg(isa, sgn, (signed char*) x.data(), 0, planes, size, mult, shift, zx, zy, tmin, tmax,
                (signed char*) out.data(), 0);
        for (long p = 0; p < planes; p++) {
            int64_t s = 0;
            for (long e = 0; e < size; e++) s += sval(x[p * size + e], !sgn) - zx;
            // s * mult < 2^63 for these sizes; the rounding term as in QFixed.Average
            int64_t v = ((s * mult + (1LL << (shift - 1))) >> shift) + zy;
            int64_t want = std::min<int64_t>(tmax, std::max<int64_t>(tmin, v));
            CHECK(sval(out[p], !sgn) == want, "qgavg isa %d plane %ld: %d vs %ld", isa, p, sval(out[p], !sgn),
                    (long) want);
        }
    }
}

int main() {
    int mask = hk_isa_mask();
    const char* names[] = {"scalar", "avx2", "avx512-vnni", "neon", "neon-dotprod"};
    for (int isa = 0; isa < 5; isa++) {
        if (!(mask & (1 << isa))) continue;
        int before = failures;
        test_gemm(isa);
        test_conv(isa);
        test_dw_pool(isa);
        test_sparse(isa);
        test_qelt(isa);
        std::printf("%-13s %s\n", names[isa], failures == before ? "ok" : "FAILED");
    }
    return failures == 0 ? 0 : 1;
}
