// Hedge native kernels: shared definitions and CPU feature detection.
//
// The library is compiled with portable base flags (-march=x86-64 on x86, armv8-a on arm64). Wider
// instruction sets are used only inside functions marked with a target attribute, and only when the
// running CPU has them: the Java side asks hk::isa_mask() once and passes the chosen ISA with every call,
// so tests can run each code path the machine supports.
#pragma once

// GCC 12 flags the deliberately undefined pass-through operand inside AVX-512 intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#define HK_X86 1
#include <immintrin.h>
#define HK_T_AVX2 __attribute__((target("avx2,fma")))
#define HK_T_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma")))
#elif defined(__aarch64__)
#define HK_ARM64 1
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#define HK_T_DOT __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

// Bodies shared by several ISA variants are written once as always-inline functions; each caller with a
// target attribute gets them compiled (and auto-vectorised) for its own ISA.
#define HK_INLINE inline __attribute__((always_inline))
// Loops over register arrays fully unrolled, so the arrays stay in registers.
#define HK_UNROLL _Pragma("GCC unroll 16")

namespace hk {

enum Isa { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_NEON = 3, ISA_NEON_DOT = 4 };

// Bit i set: ISA i runs on this CPU (scalar always does).
inline int isa_mask() {
    int m = 1 << ISA_SCALAR;
#if defined(HK_X86)
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) {
        m |= 1 << ISA_AVX2;
    }
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vnni")) {
        m |= 1 << ISA_AVX512;
    }
#elif defined(HK_ARM64)
    m |= 1 << ISA_NEON;
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) {
        m |= 1 << ISA_NEON_DOT;
    }
#endif
    return m;
}

HK_INLINE int32_t load_i32(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

HK_INLINE long align64(long n) {
    return (n + 63) & ~63L;
}

HK_INLINE long round_up(long n, long m) {
    return (n + m - 1) / m * m;
}

// Two's complement wrap-around arithmetic without signed-overflow UB.
HK_INLINE int32_t wrap_add(int32_t a, int32_t b) {
    return (int32_t) ((uint32_t) a + (uint32_t) b);
}

HK_INLINE int32_t wrap_mul(int32_t a, int32_t b) {
    return (int32_t) ((uint32_t) a * (uint32_t) b);
}

}  // namespace hk
