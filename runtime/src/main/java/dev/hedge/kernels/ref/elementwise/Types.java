package dev.hedge.kernels.ref.elementwise;

import dev.hedge.runtime.DType;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/** The dtype sets of the ONNX type constraints, restricted to Hedge's dtypes. */
final class Types {

    static final Set<DType> FLOATS = of(EnumSet.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16));
    static final Set<DType> SIGNED_INTS = of(EnumSet.of(DType.INT8, DType.INT16, DType.INT32, DType.INT64));
    static final Set<DType> UNSIGNED_INTS = of(EnumSet.of(DType.UINT8, DType.UINT16, DType.UINT32, DType.UINT64));
    static final Set<DType> NUMERIC = union(FLOATS, SIGNED_INTS, UNSIGNED_INTS);
    static final Set<DType> SIGNED = union(FLOATS, SIGNED_INTS);
    static final Set<DType> BOOL = of(EnumSet.of(DType.BOOL));
    static final Set<DType> NUMERIC_AND_BOOL = union(NUMERIC, BOOL);
    /** Pow's base. */
    static final Set<DType> POW_BASE = union(FLOATS, of(EnumSet.of(DType.INT32, DType.INT64)));
    static final Set<DType> PRELU = union(FLOATS,
            of(EnumSet.of(DType.INT32, DType.INT64, DType.UINT32, DType.UINT64)));

    private Types() {
    }

    private static Set<DType> of(EnumSet<DType> s) {
        return Collections.unmodifiableSet(s);
    }

    @SafeVarargs
    static Set<DType> union(Set<DType>... sets) {
        EnumSet<DType> s = EnumSet.noneOf(DType.class);
        for (Set<DType> x : sets) {
            s.addAll(x);
        }
        return of(s);
    }

    static String names(Set<DType> s) {
        StringBuilder sb = new StringBuilder();
        for (DType t : s) {
            sb.append(sb.length() == 0 ? "" : ", ").append(t);
        }
        return sb.toString();
    }
}
