// Float32 element-wise kernels: the same IEEE operation per element as the Java reference, vectorised by the
// compiler for each ISA (so results are bit for bit the reference's).
#pragma once

#include "hk_common.h"

namespace hk {

// out may be a or b (the planner runs element-wise ops in place); hence no restrict.
HK_INLINE void fadd_body(const float* a, const float* b, float* out, long n) {
    for (long i = 0; i < n; i++) out[i] = a[i] + b[i];
}

#if defined(HK_X86)
HK_T_AVX512 inline void fadd_avx512(const float* a, const float* b, float* out, long n) {
    fadd_body(a, b, out, n);
}
HK_T_AVX2 inline void fadd_avx2(const float* a, const float* b, float* out, long n) {
    fadd_body(a, b, out, n);
}
#endif

inline void fadd(int isa, const float* a, const float* b, float* out, long n) {
#if defined(HK_X86)
    if (isa == ISA_AVX512) return fadd_avx512(a, b, out, n);
    if (isa == ISA_AVX2) return fadd_avx2(a, b, out, n);
#endif
    (void) isa;
    fadd_body(a, b, out, n);
}

}  // namespace hk

// ---- entry points (bound by NativeKernels) -------------------------------------------------------------

// out[i] = a[i] + b[i] for n floats at the given byte offsets.
inline void hk_fadd(int isa, signed char* a, long aoff, signed char* b, long boff, signed char* out, long ooff,
        long n) {
    auto f = [](signed char* p, long off) { return reinterpret_cast<float*>(reinterpret_cast<uint8_t*>(p) + off); };
    hk::fadd(isa, f(a, aoff), f(b, boff), f(out, ooff), n);
}
