package dev.hedge.kernels.ref.elementwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.hedge.ir.Attr;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.Tensor;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Cast and CastLike between every pair of Hedge dtypes. The reference works on exact values
 * (BigDecimal / BigInteger): float targets must hold the nearest representable value (ties to even),
 * integer targets the value truncated toward zero and wrapped, BOOL "not zero".
 */
class CastPropertiesTest {

    @Property(tries = 900)
    void castConvertsEveryPairOfDtypes(@ForAll DType from, @ForAll DType to, @ForAll long seed,
            @ForAll boolean castLike) {
        Random r = new Random(seed);
        int[] shape = Harness.randomShape(r);
        Tensor x = Harness.random(from, shape, r);
        if (from.isFloat() && r.nextBoolean()) {
            // values near integers, subnormals of the 16-bit types, and their overflow thresholds
            for (int i = 0; i < x.elementCount(); i++) {
                double v = switch (r.nextInt(4)) {
                    case 0 -> r.nextGaussian() * 1e-6;
                    case 1 -> 65504 + r.nextGaussian() * 16;
                    case 2 -> 0x1.fep127 * (1 + r.nextGaussian() * 0x1p-8);
                    default -> (r.nextInt(2001) - 1000) / 8.0 + (r.nextBoolean() ? 0 : r.nextGaussian() * 1e-3);
                };
                x.setDouble(i, r.nextBoolean() ? v : -v);
            }
        }
        Tensor y = castLike
                ? Harness.run(Op.CastLike, Map.of(), x, Tensor.allocate(to, 0))
                : Harness.run(Op.Cast, Map.of("to", new Attr.Int(to.onnxCode())), x);
        assertEquals(to, y.dtype());
        assertArrayEquals(shape, y.shape());
        for (int i = 0; i < x.elementCount(); i++) {
            check(x, i, y);
        }
    }

    private static void check(Tensor x, int i, Tensor y) {
        DType to = y.dtype();
        String what = x.dtype() + " " + describe(x, i) + " to " + to;
        if (x.dtype().isFloat()) {
            double v = x.getDouble(i);
            if (to == DType.BOOL) {
                assertEquals(v != 0 ? 1 : 0, y.getLong(i), what);
            } else if (to.isFloat()) {
                checkNearest(Double.isNaN(v) ? null : new BigDecimal(Double.isInfinite(v) ? 0 : v), v, y, i, what);
            } else if (Double.isNaN(v)) {
                assertEquals(0, y.getLong(i), what);
            } else if (Double.isInfinite(v)) {
                assertEquals(v > 0 ? max(to) : min(to), Harness.exact(y, i), what);
            } else {
                assertEquals(Harness.wrap(new BigDecimal(v).toBigInteger(), to), y.getLong(i), what);
            }
        } else {
            BigInteger v = Harness.exact(x, i);
            if (to == DType.BOOL) {
                assertEquals(v.signum() != 0 ? 1 : 0, y.getLong(i), what);
            } else if (to.isFloat()) {
                checkNearest(new BigDecimal(v), v.doubleValue(), y, i, what);
            } else {
                assertEquals(Harness.wrap(v, to), y.getLong(i), what);
            }
        }
    }

    private static String describe(Tensor x, int i) {
        return x.dtype().isFloat() ? String.valueOf(x.getDouble(i)) : Harness.exact(x, i).toString();
    }

    /**
     * y[i] is the value of its float type nearest to {@code exact} (null: NaN expected), ties to the even
     * mantissa, overflowing to infinity only past the halfway point above the largest finite value.
     */
    private static void checkNearest(BigDecimal exact, double v, Tensor y, int i, String what) {
        double a = y.getDouble(i);
        if (exact == null) {
            assertTrue(Double.isNaN(a), what + " gave " + a);
            return;
        }
        if (Double.isInfinite(v)) {
            assertEquals(v, a, what);
            return;
        }
        if (exact.signum() == 0) {
            // zero keeps its sign (an integer zero is +0)
            assertEquals(0.0, Math.abs(a), what);
            assertEquals(1 / v < 0, 1 / a < 0, what + ": sign of zero");
            return;
        }
        DType t = y.dtype();
        if (t == DType.FLOAT64) {
            assertEquals(exact.doubleValue(), a, what);
            return;
        }
        if (t == DType.FLOAT32) {
            // BigDecimal.floatValue rounds once to nearest even
            assertEquals(exact.floatValue(), (float) a, what);
            return;
        }
        int bits = y.data().getShort(i * 2) & 0xffff;
        int magnitude = bits & 0x7fff;
        int infBits = t == DType.FLOAT16 ? 0x7c00 : 0x7f80;
        assertEquals(exact.signum() < 0, (bits & 0x8000) != 0, what + ": sign of " + a);
        BigDecimal abs = exact.abs();
        if (magnitude == infBits) {
            BigDecimal max = new BigDecimal(decode(t, infBits - 1));
            BigDecimal halfUlp = max.subtract(new BigDecimal(decode(t, infBits - 2))).divide(BigDecimal.valueOf(2));
            assertTrue(abs.compareTo(max.add(halfUlp)) >= 0, what + " overflowed to infinity");
            return;
        }
        assertTrue(magnitude < infBits, what + " gave " + a);
        BigDecimal d = abs.subtract(new BigDecimal(decode(t, magnitude))).abs();
        for (int n : new int[] {magnitude - 1, magnitude + 1}) {
            if (n < 0 || n > infBits) {
                continue;
            }
            BigDecimal dn = n == infBits ? null : abs.subtract(new BigDecimal(decode(t, n))).abs();
            if (dn == null) {
                continue;
            }
            int c = d.compareTo(dn);
            if (c > 0 || (c == 0 && (magnitude & 1) != 0)) {
                fail(what + " gave " + a + "; " + decode(t, n) + " is nearer (or an even tie)");
            }
        }
    }

    private static double decode(DType t, int bits) {
        return t == DType.FLOAT16 ? Half.toFloat((short) bits) : Half.bf16ToFloat((short) bits);
    }

    private static BigInteger max(DType t) {
        int bits = t.bits();
        return BigInteger.ONE.shiftLeft(t.isSigned() ? bits - 1 : bits).subtract(BigInteger.ONE);
    }

    private static BigInteger min(DType t) {
        return t.isSigned() ? BigInteger.ONE.shiftLeft(t.bits() - 1).negate() : BigInteger.ZERO;
    }
}
