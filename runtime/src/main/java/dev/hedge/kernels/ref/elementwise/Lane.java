package dev.hedge.kernels.ref.elementwise;

import dev.hedge.kernels.util.ScratchArrays;
import dev.hedge.runtime.DType;

/**
 * The Java array type a dtype is computed in, chunk by chunk. FLOAT16 and BFLOAT16 compute in float and
 * round once when stored; integers narrower than 64 bits compute in long and wrap when stored; UINT64 is
 * kept apart because division, remainder, comparison and min/max must treat its bits as unsigned.
 */
enum Lane {
    /** float[]: FLOAT32, FLOAT16, BFLOAT16. */
    F32,
    /** double[]: FLOAT64. */
    F64,
    /** long[]: signed integers and unsigned ones narrower than 64 bits (zero-extended). */
    I64,
    /** long[] holding UINT64 bits. */
    U64,
    /** int[] of 0/1: BOOL. */
    BOOL;

    /** Elements per chunk: three float chunks stay well inside L1/L2. */
    static final int CHUNK = 2048;

    static Lane of(DType t) {
        switch (t) {
            case FLOAT32: case FLOAT16: case BFLOAT16: return F32;
            case FLOAT64: return F64;
            case UINT64: return U64;
            case BOOL: return BOOL;
            default: return I64;
        }
    }

    /** This thread's scratch array of this lane for {@code slot}, at least {@code min(CHUNK, size)} long. */
    Object scratch(int slot, int size) {
        int n = Math.max(1, Math.min(CHUNK, size));
        switch (this) {
            case F32: return ScratchArrays.floats(slot, n);
            case F64: return ScratchArrays.doubles(slot, n);
            case BOOL: return ScratchArrays.ints(slot, n);
            default: return ScratchArrays.longs(slot, n);
        }
    }
}
