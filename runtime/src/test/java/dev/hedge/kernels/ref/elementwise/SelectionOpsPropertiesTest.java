package dev.hedge.kernels.ref.elementwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.hedge.ir.Attr;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Comparisons, logic, Where, IsNaN/IsInf and Clip against scalar references, with broadcasting. */
class SelectionOpsPropertiesTest {

    enum Cmp { EQUAL, LESS, LESS_OR_EQUAL, GREATER, GREATER_OR_EQUAL }

    @Provide
    Arbitrary<DType> numericOrBool() {
        DType[] n = BinaryOpsPropertiesTest.NUMERIC;
        DType[] all = Arrays.copyOf(n, n.length + 1);
        all[n.length] = DType.BOOL;
        return Arbitraries.of(all);
    }

    @Property(tries = 400)
    void comparisonsMatchTheReference(@ForAll Cmp cmp, @ForAll("numericOrBool") DType t, @ForAll long seed) {
        Assume.that(t != DType.BOOL || cmp == Cmp.EQUAL);
        Random r = new Random(seed);
        int[] out = Harness.randomShape(r);
        int[] sa = Harness.broadcastable(out, r);
        int[] sb = Harness.broadcastable(out, r);
        out = Harness.broadcast(sa, sb);
        Tensor a = Harness.random(t, sa, r);
        Tensor b = Harness.random(t, sb, r);
        // equal values must occur: copy some of a into b where they meet
        for (int i = 0; i < Math.min(a.elementCount(), b.elementCount()); i++) {
            if (r.nextInt(3) == 0) {
                b.setDouble(i, a.getDouble(i));
                if (!t.isFloat()) {
                    b.setLong(i, a.getLong(i));
                }
            }
        }
        Op op = switch (cmp) {
            case EQUAL -> Op.Equal;
            case LESS -> Op.Less;
            case LESS_OR_EQUAL -> Op.LessOrEqual;
            case GREATER -> Op.Greater;
            case GREATER_OR_EQUAL -> Op.GreaterOrEqual;
        };
        Tensor y = Harness.run(op, Map.of(), a, b);
        assertEquals(DType.BOOL, y.dtype());
        assertArrayEquals(out, y.shape());
        for (int i = 0; i < y.elementCount(); i++) {
            int[] idx = Harness.unflatten(i, out);
            int ia = Harness.sourceIndex(sa, idx);
            int ib = Harness.sourceIndex(sb, idx);
            boolean e;
            if (t.isFloat()) {
                double x = a.getDouble(ia);
                double z = b.getDouble(ib);
                e = switch (cmp) {
                    case EQUAL -> x == z;
                    case LESS -> x < z;
                    case LESS_OR_EQUAL -> x <= z;
                    case GREATER -> x > z;
                    case GREATER_OR_EQUAL -> x >= z;
                };
            } else {
                int c = Harness.exact(a, ia).compareTo(Harness.exact(b, ib));
                e = switch (cmp) {
                    case EQUAL -> c == 0;
                    case LESS -> c < 0;
                    case LESS_OR_EQUAL -> c <= 0;
                    case GREATER -> c > 0;
                    case GREATER_OR_EQUAL -> c >= 0;
                };
            }
            assertEquals(e ? 1 : 0, y.getLong(i), cmp + " " + t + " at " + i + ": " + a.getDouble(ia) + " vs "
                    + b.getDouble(ib));
        }
    }

    enum Logic { AND, OR, XOR }

    @Property(tries = 150)
    void logicOpsBroadcastBools(@ForAll Logic l, @ForAll long seed) {
        Random r = new Random(seed);
        int[] out = Harness.randomShape(r);
        int[] sa = Harness.broadcastable(out, r);
        int[] sb = Harness.broadcastable(out, r);
        out = Harness.broadcast(sa, sb);
        Tensor a = Harness.random(DType.BOOL, sa, r);
        Tensor b = Harness.random(DType.BOOL, sb, r);
        Op op = l == Logic.AND ? Op.And : l == Logic.OR ? Op.Or : Op.Xor;
        Tensor y = Harness.run(op, Map.of(), a, b);
        assertArrayEquals(out, y.shape());
        for (int i = 0; i < y.elementCount(); i++) {
            int[] idx = Harness.unflatten(i, out);
            boolean x = a.getLong(Harness.sourceIndex(sa, idx)) != 0;
            boolean z = b.getLong(Harness.sourceIndex(sb, idx)) != 0;
            boolean e = l == Logic.AND ? x && z : l == Logic.OR ? x || z : x != z;
            assertEquals(e ? 1 : 0, y.getLong(i), l + " at " + i);
        }
    }

    @Property(tries = 300)
    void whereSelectsWithThreeWayBroadcasting(@ForAll("numericOrBool") DType t, @ForAll long seed) {
        Random r = new Random(seed);
        int[] full = Harness.randomShape(r);
        int[] sc = Harness.broadcastable(full, r);
        int[] sx = Harness.broadcastable(full, r);
        int[] sy = Harness.broadcastable(full, r);
        int[] out = Harness.broadcast(sc, sx, sy);
        Tensor c = Harness.random(DType.BOOL, sc, r);
        Tensor x = Harness.random(t, sx, r);
        Tensor z = Harness.random(t, sy, r);
        Tensor y = Harness.run(Op.Where, Map.of(), c, x, z);
        assertEquals(t, y.dtype());
        assertArrayEquals(out, y.shape());
        for (int i = 0; i < y.elementCount(); i++) {
            int[] idx = Harness.unflatten(i, out);
            Tensor src = c.getLong(Harness.sourceIndex(sc, idx)) != 0 ? x : z;
            int j = Harness.sourceIndex(src == x ? sx : sy, idx);
            if (t.isFloat()) {
                if (!Harness.sameFloat(src.getDouble(j), y.getDouble(i))) {
                    fail("Where " + t + " at " + i + ": " + y.getDouble(i) + ", expected " + src.getDouble(j));
                }
            } else {
                assertEquals(src.getLong(j), y.getLong(i), "Where " + t + " at " + i);
            }
        }
    }

    @Property(tries = 100)
    void isNanAndIsInfClassifyEveryFloatType(@ForAll long seed, @ForAll boolean negative,
            @ForAll boolean positive) {
        Random r = new Random(seed);
        DType[] floats = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16};
        DType t = floats[r.nextInt(floats.length)];
        int[] shape = Harness.randomShape(r);
        Tensor x = Harness.random(t, shape, r);
        Tensor nan = Harness.run(Op.IsNaN, Map.of(), x);
        Tensor inf = Harness.run(Op.IsInf, Map.of("detect_negative", new Attr.Int(negative ? 1 : 0),
                "detect_positive", new Attr.Int(positive ? 1 : 0)), x);
        assertArrayEquals(shape, nan.shape());
        assertArrayEquals(shape, inf.shape());
        for (int i = 0; i < x.elementCount(); i++) {
            double v = x.getDouble(i);
            assertEquals(Double.isNaN(v) ? 1 : 0, nan.getLong(i), "IsNaN " + t + " of " + v);
            boolean e = (v == Double.POSITIVE_INFINITY && positive) || (v == Double.NEGATIVE_INFINITY && negative);
            assertEquals(e ? 1 : 0, inf.getLong(i), "IsInf " + t + " of " + v);
        }
    }

    @Property(tries = 300)
    void clipBoundsEveryNumericType(@ForAll("numericOrBool") DType t, @ForAll long seed) {
        Assume.that(t != DType.BOOL);
        Random r = new Random(seed);
        int[] shape = Harness.randomShape(r);
        Tensor x = Harness.random(t, shape, r);
        Tensor lo = r.nextInt(3) == 0 ? null : Harness.random(t, new int[0], r);
        Tensor hi = r.nextInt(3) == 0 ? null : Harness.random(t, new int[0], r);
        if (t.isFloat()) {
            // NaN bounds are not meaningful; keep the bounds numbers
            if (lo != null && Double.isNaN(lo.getDouble(0))) {
                lo.setDouble(0, -1);
            }
            if (hi != null && Double.isNaN(hi.getDouble(0))) {
                hi.setDouble(0, 1);
            }
        }
        boolean[] constant = {false, r.nextBoolean(), r.nextBoolean()};
        Tensor y = Harness.run(Op.Clip, Map.of(), constant, x, lo, hi);
        assertEquals(t, y.dtype());
        assertArrayEquals(shape, y.shape());
        for (int i = 0; i < y.elementCount(); i++) {
            if (t.isFloat()) {
                double v = x.getDouble(i);
                double e = v;
                if (!Double.isNaN(v)) {
                    if (lo != null && e < lo.getDouble(0)) {
                        e = lo.getDouble(0);
                    }
                    if (hi != null && e > hi.getDouble(0)) {
                        e = hi.getDouble(0);
                    }
                }
                if (!Harness.sameFloat(e, y.getDouble(i))) {
                    fail("Clip " + t + " of " + v + " = " + y.getDouble(i) + ", expected " + e);
                }
            } else {
                BigInteger e = Harness.exact(x, i);
                if (lo != null) {
                    e = e.max(Harness.exact(lo, 0));
                }
                if (hi != null) {
                    e = e.min(Harness.exact(hi, 0));
                }
                assertEquals(e.longValue(), y.getLong(i), "Clip " + t + " of " + Harness.exact(x, i));
            }
        }
    }
}
