package dev.hedge.kernels.ref.elementwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.hedge.ir.Attr;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.math.BigDecimal;
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

/**
 * Binary and variadic arithmetic against a scalar reference: random shapes and broadcast patterns, every
 * dtype ONNX allows. Float32-lane types (FLOAT32, FLOAT16, BFLOAT16) are computed in float and rounded
 * once, FLOAT64 in double, integers exactly (BigInteger) and then wrapped to the type.
 */
class BinaryOpsPropertiesTest {

    enum BinOp { ADD, SUB, MUL, DIV, MOD, FMOD, MIN, MAX, PRELU }

    static final DType[] NUMERIC = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16, DType.INT8,
        DType.INT16, DType.INT32, DType.INT64, DType.UINT8, DType.UINT16, DType.UINT32, DType.UINT64};

    @Provide
    Arbitrary<DType> numeric() {
        return Arbitraries.of(NUMERIC);
    }

    @Property(tries = 600)
    void binaryOpsMatchTheScalarReference(@ForAll BinOp op, @ForAll("numeric") DType t, @ForAll long seed) {
        Assume.that(!(op == BinOp.MOD && t.isFloat()));
        Assume.that(op != BinOp.PRELU || Types.PRELU.contains(t));
        Random r = new Random(seed);
        int[] out = Harness.randomShape(r);
        int[] sa = op == BinOp.PRELU ? out : Harness.broadcastable(out, r);
        int[] sb = Harness.broadcastable(out, r);
        if (op != BinOp.PRELU) {
            out = Harness.broadcast(sa, sb);
        }
        Tensor a = Harness.random(t, sa, r);
        Tensor b = Harness.random(t, sb, r);
        boolean intDivision = !t.isFloat() && (op == BinOp.DIV || op == BinOp.MOD || op == BinOp.FMOD);
        if (intDivision) {
            for (int i = 0; i < b.elementCount(); i++) {
                if (b.getLong(i) == 0) {
                    b.setLong(i, 3);
                }
            }
        }
        Op onnx = switch (op) {
            case ADD -> Op.Add;
            case SUB -> Op.Sub;
            case MUL -> Op.Mul;
            case DIV -> Op.Div;
            case MOD, FMOD -> Op.Mod;
            case MIN -> Op.Min;
            case MAX -> Op.Max;
            case PRELU -> Op.PRelu;
        };
        Map<String, Attr> attrs = op == BinOp.FMOD ? Map.of("fmod", new Attr.Int(1)) : Map.of();
        boolean[] constant = {false, r.nextInt(4) == 0};
        Tensor y = Harness.run(onnx, attrs, constant, a, b);
        assertEquals(t, y.dtype());
        assertArrayEquals(out, y.shape(), "shape of " + Arrays.toString(sa) + " " + op + " " + Arrays.toString(sb));
        for (int i = 0; i < y.elementCount(); i++) {
            int[] idx = Harness.unflatten(i, out);
            int ia = Harness.sourceIndex(sa, idx);
            int ib = Harness.sourceIndex(sb, idx);
            String where = op + " " + t + " " + Arrays.toString(sa) + " with " + Arrays.toString(sb) + " at " + i;
            if (t.isFloat()) {
                double e = t == DType.FLOAT64 ? refDouble(op, a.getDouble(ia), b.getDouble(ib))
                        : Harness.roundTo(t, refFloat(op, a.getFloat(ia), b.getFloat(ib)));
                if (!Harness.sameFloat(e, y.getDouble(i))) {
                    fail(where + ": " + a.getDouble(ia) + ", " + b.getDouble(ib) + " gave " + y.getDouble(i)
                            + ", expected " + e);
                }
            } else {
                long e = Harness.wrap(refInt(op, Harness.exact(a, ia), Harness.exact(b, ib)), t);
                assertEquals(e, y.getLong(i), where + ": " + Harness.exact(a, ia) + ", " + Harness.exact(b, ib));
            }
        }
    }

    static float refFloat(BinOp op, float a, float b) {
        switch (op) {
            case ADD: return a + b;
            case SUB: return a - b;
            case MUL: return a * b;
            case DIV: return a / b;
            case FMOD: return (float) refDouble(op, a, b);
            case MIN: return a != a || b != b ? Float.NaN : a < b || (a == b && isNegZero(a)) ? a : b;
            case MAX: return a != a || b != b ? Float.NaN : a > b ? a : b;
            case PRELU: return a < 0 ? a * b : a;
            default: throw new AssertionError(op);
        }
    }

    static double refDouble(BinOp op, double a, double b) {
        switch (op) {
            case ADD: return a + b;
            case SUB: return a - b;
            case MUL: return a * b;
            case DIV: return a / b;
            case FMOD: {
                // C fmod: a - trunc(a/b)*b computed exactly; inf/NaN cases as C defines them
                if (a != a || b != b || Double.isInfinite(a) || b == 0) {
                    return Double.NaN;
                }
                if (Double.isInfinite(b) || a == 0) {
                    return a;
                }
                BigDecimal x = new BigDecimal(a);
                BigDecimal y = new BigDecimal(b);
                BigDecimal q = x.divideToIntegralValue(y);
                double res = x.subtract(q.multiply(y)).doubleValue();
                return res == 0 ? Math.copySign(0.0, a) : res;
            }
            case MIN: return a != a || b != b ? Double.NaN : a < b ? a : b;
            case MAX: return a != a || b != b ? Double.NaN : a > b ? a : b;
            case PRELU: return a < 0 ? a * b : a;
            default: throw new AssertionError(op);
        }
    }

    private static boolean isNegZero(float a) {
        return a == 0 && 1 / a < 0;
    }

    static BigInteger refInt(BinOp op, BigInteger a, BigInteger b) {
        switch (op) {
            case ADD: return a.add(b);
            case SUB: return a.subtract(b);
            case MUL: return a.multiply(b);
            case DIV: return a.divide(b);
            case FMOD: return a.remainder(b);
            case MOD: {
                BigInteger m = a.remainder(b);
                return m.signum() != 0 && m.signum() != b.signum() ? m.add(b) : m;
            }
            case MIN: return a.min(b);
            case MAX: return a.max(b);
            case PRELU: return a.signum() < 0 ? a.multiply(b) : a;
            default: throw new AssertionError(op);
        }
    }

    enum Variadic { SUM, MEAN, MIN, MAX }

    @Property(tries = 300)
    void variadicOpsFoldEveryInputWithBroadcasting(@ForAll Variadic op, @ForAll("numeric") DType t,
            @ForAll long seed) {
        Assume.that(t.isFloat() || op == Variadic.MIN || op == Variadic.MAX);
        Random r = new Random(seed);
        int k = 1 + r.nextInt(4);
        int[] full = Harness.randomShape(r);
        int[][] shapes = new int[k][];
        Tensor[] in = new Tensor[k];
        for (int j = 0; j < k; j++) {
            shapes[j] = Harness.broadcastable(full, r);
            in[j] = Harness.random(t, shapes[j], r);
        }
        int[] out = Harness.broadcast(shapes);
        Op onnx = switch (op) {
            case SUM -> Op.Sum;
            case MEAN -> Op.Mean;
            case MIN -> Op.Min;
            case MAX -> Op.Max;
        };
        Tensor y = Harness.run(onnx, Map.of(), in);
        assertArrayEquals(out, y.shape());
        BinOp pair = op == Variadic.MIN ? BinOp.MIN : op == Variadic.MAX ? BinOp.MAX : BinOp.ADD;
        for (int i = 0; i < y.elementCount(); i++) {
            int[] idx = Harness.unflatten(i, out);
            if (t.isFloat()) {
                double e;
                if (t == DType.FLOAT64) {
                    double acc = in[0].getDouble(Harness.sourceIndex(shapes[0], idx));
                    for (int j = 1; j < k; j++) {
                        acc = refDouble(pair, acc, in[j].getDouble(Harness.sourceIndex(shapes[j], idx)));
                    }
                    e = op == Variadic.MEAN ? acc / k : acc;
                } else {
                    float acc = in[0].getFloat(Harness.sourceIndex(shapes[0], idx));
                    for (int j = 1; j < k; j++) {
                        acc = refFloat(pair, acc, in[j].getFloat(Harness.sourceIndex(shapes[j], idx)));
                    }
                    e = Harness.roundTo(t, op == Variadic.MEAN ? acc / k : acc);
                }
                if (!Harness.sameFloat(e, y.getDouble(i))) {
                    fail(op + " " + t + " of " + k + " inputs at " + i + ": " + y.getDouble(i) + ", expected " + e);
                }
            } else {
                BigInteger acc = Harness.exact(in[0], Harness.sourceIndex(shapes[0], idx));
                for (int j = 1; j < k; j++) {
                    acc = refInt(pair, acc, Harness.exact(in[j], Harness.sourceIndex(shapes[j], idx)));
                }
                assertEquals(Harness.wrap(acc, t), y.getLong(i), op + " " + t + " at " + i);
            }
        }
    }

    @Property(tries = 200)
    void powMatchesTheReferenceForEveryBaseAndExponentType(@ForAll("numeric") DType base,
            @ForAll("numeric") DType exp, @ForAll long seed, @ForAll boolean constantExponent) {
        Assume.that(Types.POW_BASE.contains(base));
        Random r = new Random(seed);
        int[] out = Harness.randomShape(r);
        int[] sa = Harness.broadcastable(out, r);
        int[] sb = Harness.broadcastable(out, r);
        out = Harness.broadcast(sa, sb);
        Tensor a = Harness.random(base, sa, r);
        Tensor b = Tensor.allocate(exp, sb);
        for (int i = 0; i < b.elementCount(); i++) {
            // exponents from -3 to 6, some fractional, and often the shortcuts 2, 3 and 0.5
            double[] shortcuts = {2, 3, 0.5};
            double v = r.nextInt(3) == 0 ? shortcuts[r.nextInt(exp.isFloat() ? 3 : 2)]
                    : r.nextInt(10) - 3 + (exp.isFloat() && r.nextBoolean() ? 0.5 : 0);
            if (!exp.isSigned() && v < 0) {
                v = -v;
            }
            b.setDouble(i, v);
        }
        if (!base.isFloat()) {
            for (int i = 0; i < a.elementCount(); i++) {
                if (a.getLong(i) == 0) {
                    a.setLong(i, 2);
                }
            }
        }
        Tensor y = Harness.run(Op.Pow, Map.of(), new boolean[] {false, constantExponent}, a, b);
        assertEquals(base, y.dtype());
        assertArrayEquals(out, y.shape());
        for (int i = 0; i < y.elementCount(); i++) {
            int[] idx = Harness.unflatten(i, out);
            int ia = Harness.sourceIndex(sa, idx);
            int ib = Harness.sourceIndex(sb, idx);
            String where = "Pow " + base + "^" + exp + " at " + i + ": " + a.getDouble(ia) + "^" + b.getDouble(ib);
            if (base.isFloat()) {
                double e = Harness.roundTo(base, Math.pow(a.getDouble(ia), b.getDouble(ib)));
                if (!UnaryOpsPropertiesTest.close(base, e, y.getDouble(i))) {
                    fail(where + " = " + y.getDouble(i) + ", expected " + e);
                }
            } else if (exp.isFloat()) {
                double p = Math.pow(a.getDouble(ia), b.getDouble(ib));
                long e = Double.isFinite(p) ? Harness.wrap(new BigDecimal(p).toBigInteger(), base) : 0;
                assertEquals(e, y.getLong(i), where);
            } else {
                BigInteger ba = Harness.exact(a, ia);
                BigInteger bb = Harness.exact(b, ib);
                BigInteger e = bb.signum() >= 0 ? ba.pow(bb.intValueExact())
                        : ba.abs().equals(BigInteger.ONE) ? ba.pow(bb.negate().intValueExact()) : BigInteger.ZERO;
                assertEquals(Harness.wrap(e, base), y.getLong(i), where);
            }
        }
    }
}
