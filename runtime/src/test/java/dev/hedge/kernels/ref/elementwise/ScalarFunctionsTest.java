package dev.hedge.kernels.ref.elementwise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hedge.ir.Attr;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scalar helpers where a wrong answer would hide inside tolerances: erf, rounding, wrapping. */
class ScalarFunctionsTest {

    @Test
    void erfMatchesPublishedValues() {
        // Abramowitz & Stegun table 7.1 / high-precision values
        double[][] known = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
            {1.5, 0.9661051464753108}, {2, 0.9953222650189527}, {2.5, 0.9995930479825550},
            {3, 0.9999779095030014}, {4, 0.9999999845827421}, {1e-8, 1.1283791670955126e-8}};
        for (double[] k : known) {
            assertEquals(k[1], MathFns.erf(k[0]), 3 * Math.ulp(k[1]), "erf(" + k[0] + ")");
            assertEquals(-k[1], MathFns.erf(-k[0]), 3 * Math.ulp(k[1]), "erf(-" + k[0] + ")");
            assertEquals((float) k[1], (float) MathFns.erfForFloat(k[0]), Math.ulp((float) k[1]),
                    "float erf(" + k[0] + ")");
        }
        assertEquals(1.0, MathFns.erf(30));
        assertTrue(Double.isNaN(MathFns.erf(Double.NaN)));
        assertEquals(-1.0, MathFns.erfForFloat(Double.NEGATIVE_INFINITY));
    }

    @Test
    void floatErfIsWithinAFloatUlpEverywhere() {
        for (double x = -5; x <= 5; x += 1.0 / 4096) {
            double e = MathFns.erf(x);
            double a = MathFns.erfForFloat(x);
            assertTrue(Math.abs(a - e) <= Math.ulp((float) e), "erf(" + x + "): " + a + " vs " + e);
        }
    }

    @Test
    void doubleToHalfRoundsOnceNotThroughFloat() {
        // just above the halfway point between 1 and 1+2^-10: through float the 2^-40 is lost and the tie
        // then goes to even (1.0); rounded once the answer is 1+2^-10
        double v = 1 + 0x1p-11 + 0x1p-40;
        assertEquals(1 + 0x1p-10, Half.toFloat(Convert.toHalf(v)));
        Tensor y = Harness.run(Op.Cast, Map.of("to", new Attr.Int(DType.FLOAT16.onnxCode())),
                Tensor.of(new double[] {v, -v}, 2));
        assertEquals(1 + 0x1p-10, y.getDouble(0));
        assertEquals(-(1 + 0x1p-10), y.getDouble(1));
        // the same for bfloat16 (7 stored mantissa bits)
        double w = 1 + 0x1p-8 + 0x1p-40;
        assertEquals(1 + 0x1p-7, Half.bf16ToFloat(Convert.toBf16(w)));
    }

    @Test
    void halfRoundingHandlesSubnormalsOverflowAndNaN() {
        assertEquals(0x0001, Convert.toHalf(0x1p-24));
        assertEquals(0x0000, Convert.toHalf(0x1p-25));
        assertEquals(0x0001, Convert.toHalf(0x1p-25 + 0x1p-40));
        assertEquals(0x0400, Convert.toHalf(0x1p-14));
        assertEquals(0x7bff, Convert.toHalf(65519.99));
        assertEquals(0x7c00, Convert.toHalf(65520));
        assertEquals((short) 0xfc00, Convert.toHalf(Double.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, Convert.toHalf(-0.0));
        assertTrue(Float.isNaN(Half.toFloat(Convert.toHalf(Double.NaN))));
        assertEquals(0x7f7f, Convert.toBf16(0x1.fep127));
        assertEquals(0x7f80, Convert.toBf16(0x1.ffp127));
    }

    @Test
    void floatToIntegerTruncatesAndWraps() {
        assertEquals(-3, Convert.truncWrap(-3.99));
        assertEquals(Long.MIN_VALUE, Convert.truncWrap(0x1p63));
        assertEquals(0, Convert.truncWrap(0x1p64));
        assertEquals(1L << 12, Convert.truncWrap(0x1p64 + 0x1p12));
        assertEquals(-(1L << 12), Convert.truncWrap(-(0x1p64 + 0x1p12)));
        assertEquals(0, Convert.truncWrap(Double.NaN));
        assertEquals(0, Convert.truncWrap(Double.POSITIVE_INFINITY));
        Tensor y = Harness.run(Op.Cast, Map.of("to", new Attr.Int(DType.INT8.onnxCode())),
                Tensor.of(new float[] {300.5f, -129.9f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY},
                        5));
        assertEquals(44, y.getLong(0));
        assertEquals(127, y.getLong(1));
        assertEquals(0, y.getLong(2));
        assertEquals(127, y.getLong(3));
        assertEquals(-128, y.getLong(4));
    }

    @Test
    void unsignedConversionsRoundOnce() {
        // 2^64 - 1 is nearer to 2^64 than to any smaller double or float
        assertEquals(0x1p64, Convert.unsignedToDouble(-1L));
        assertEquals(0x1p64f, Convert.unsignedToFloat(-1L));
        // doubles near 2^63 are 2048 apart: 2^63 + 1025 is nearer to 2^63 + 2048 (the halved value would be a
        // tie without the sticky bit), 2^63 + 1024 is a tie that goes to the even 2^63
        assertEquals(0x1p63 + 0x1p11, Convert.unsignedToDouble(Long.MIN_VALUE + 1025));
        assertEquals(0x1p63, Convert.unsignedToDouble(Long.MIN_VALUE + 1024));
    }

    @Test
    void integerPowerWrapsAndHandlesNegativeExponents() {
        assertEquals(1024, PowKernel.intPow(2, 10, false));
        assertEquals(0, PowKernel.intPow(2, 64, false));
        assertEquals(-1, PowKernel.intPow(-1, -3, false));
        assertEquals(1, PowKernel.intPow(-1, -4, false));
        assertEquals(0, PowKernel.intPow(3, -1, false));
        assertEquals(1, PowKernel.intPow(7, 0, false));
        // 3^(2^64-1) mod 2^64 without looping forever on the unsigned exponent
        assertEquals(PowKernel.intPow(3, Long.MAX_VALUE, false) * PowKernel.intPow(3, Long.MAX_VALUE, false) * 3,
                PowKernel.intPow(3, -1L, true));
    }
}
