package dev.hedge.kernels.ref.elementwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.hedge.ir.Attr;
import dev.hedge.ir.Node;
import dev.hedge.ops.Op;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Every unary op on every dtype it allows, against textbook formulas evaluated in double (float types)
 * or exactly (integers). Float results must be within a couple of ulps of the target type.
 */
class UnaryOpsPropertiesTest {

    private static final MathContext MC = new MathContext(40);

    /** An op with its attributes, reference function, and whether integers are allowed (and signed only). */
    enum U {
        SQRT(Op.Sqrt, Math::sqrt),
        EXP(Op.Exp, Math::exp),
        LOG(Op.Log, Math::log),
        NEG(Op.Neg, x -> -x),
        ABS(Op.Abs, Math::abs),
        RECIPROCAL(Op.Reciprocal, x -> 1 / x),
        ERF(Op.Erf, UnaryOpsPropertiesTest::erfSeries),
        FLOOR(Op.Floor, Math::floor),
        CEIL(Op.Ceil, Math::ceil),
        ROUND(Op.Round, UnaryOpsPropertiesTest::roundHalfEven),
        SIGN(Op.Sign, x -> x > 0 ? 1 : x < 0 ? -1 : x),
        SIN(Op.Sin, Math::sin),
        COS(Op.Cos, Math::cos),
        TAN(Op.Tan, Math::tan),
        ASIN(Op.Asin, Math::asin),
        ACOS(Op.Acos, Math::acos),
        ATAN(Op.Atan, Math::atan),
        SINH(Op.Sinh, x -> Math.abs(x) > 20 ? Math.copySign(halfExp(Math.abs(x)), x) : (Math.exp(x) - Math.exp(-x)) / 2),
        COSH(Op.Cosh, x -> Math.abs(x) > 20 ? halfExp(Math.abs(x)) : (Math.exp(x) + Math.exp(-x)) / 2),
        ASINH(Op.Asinh, x -> Math.signum(x) * Math.log(Math.abs(x) + Math.sqrt(x * x + 1))),
        ACOSH(Op.Acosh, x -> Math.log(x + Math.sqrt(x * x - 1))),
        ATANH(Op.Atanh, x -> 0.5 * Math.log((1 + x) / (1 - x))),
        RELU(Op.Relu, x -> x > 0 ? x : x != x ? x : 0),
        LEAKY_RELU(Op.LeakyRelu, x -> x >= 0 ? x : 0.1f * x, "alpha", 0.1f),
        ELU(Op.Elu, x -> x >= 0 ? x : 0.5f * (Math.exp(x) - 1), "alpha", 0.5f),
        // the defaults are float attributes: 1.67326319217681884765625f and 1.05070102214813232421875f
        SELU(Op.Selu, x -> x > 0 ? 1.0507010221481323 * x : 1.0507010221481323 * 1.6732631921768188 * (Math.exp(x) - 1)),
        SIGMOID(Op.Sigmoid, x -> 1 / (1 + Math.exp(-x))),
        HARD_SIGMOID(Op.HardSigmoid, x -> Math.max(0, Math.min(1, 0.2f * x + 0.5f))),
        HARD_SWISH(Op.HardSwish, x -> x * Math.max(0, Math.min(1, x / 6 + 0.5))),
        TANH(Op.Tanh, x -> x > 20 ? 1 : x < -20 ? -1 : (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1)),
        SOFTPLUS(Op.Softplus, x -> x > 40 ? x : Math.log1p(Math.exp(x))),
        SOFTSIGN(Op.Softsign, x -> x / (1 + Math.abs(x))),
        GELU(Op.Gelu, x -> 0.5 * x * (1 + erfSeries(x / Math.sqrt(2)))),
        GELU_TANH(Op.Gelu, x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
                "approximate", "tanh"),
        MISH(Op.Mish, x -> x * Math.tanh(x > 40 ? x : Math.log1p(Math.exp(x)))),
        CELU(Op.Celu, x -> Math.max(0, x) + Math.min(0, 2.0 * (Math.exp(x / 2.0) - 1)), "alpha", 2f),
        THRESHOLDED_RELU(Op.ThresholdedRelu, x -> x > 1.5f ? x : 0, "alpha", 1.5f);

        final Op op;
        final DoubleUnaryOperator ref;
        final Map<String, Attr> attrs;

        U(Op op, DoubleUnaryOperator ref) {
            this(op, ref, Map.of());
        }

        U(Op op, DoubleUnaryOperator ref, String attr, float value) {
            this(op, ref, Map.of(attr, new Attr.Float(value)));
        }

        U(Op op, DoubleUnaryOperator ref, String attr, String value) {
            this(op, ref, Map.of(attr, new Attr.Str(value)));
        }

        U(Op op, DoubleUnaryOperator ref, Map<String, Attr> attrs) {
            this.op = op;
            this.ref = ref;
            this.attrs = attrs;
        }
    }

    @Property(tries = 800)
    void unaryOpsMatchTheirFormulas(@ForAll U u, @ForAll long seed) {
        Random r = new Random(seed);
        UnaryFn fn = UnaryFns.of(new Node("n", u.op, List.of("x"), List.of("y"), u.attrs));
        DType[] allowed = fn.types.toArray(new DType[0]);
        DType t = allowed[r.nextInt(allowed.length)];
        int[] shape = Harness.randomShape(r);
        Tensor x = Harness.random(t, shape, r);
        if (t.isFloat() && r.nextBoolean()) {
            // the domains of asin/acos/atanh/acosh and the interesting range of the activations
            for (int i = 0; i < x.elementCount(); i++) {
                x.setDouble(i, u == U.ACOSH ? 1 + r.nextDouble() * 5 : r.nextDouble() * 2 - 1);
            }
        }
        Tensor y = Harness.run(u.op, u.attrs, x);
        assertEquals(t, y.dtype());
        assertArrayEquals(shape, y.shape());
        for (int i = 0; i < y.elementCount(); i++) {
            if (t.isFloat()) {
                double in = x.getDouble(i);
                double e = Harness.roundTo(t, u.ref.applyAsDouble(in));
                double a = y.getDouble(i);
                if (!close(t, e, a)) {
                    fail(u + " " + t + " of " + in + " = " + a + ", expected " + e);
                }
            } else {
                BigInteger v = Harness.exact(x, i);
                BigInteger e = switch (u) {
                    case NEG -> v.negate();
                    case ABS -> v.abs();
                    case SIGN -> BigInteger.valueOf(v.signum());
                    case RELU -> v.max(BigInteger.ZERO);
                    // erf in double, truncated: 0, or +-1 where erf rounds to +-1 (from 6 on)
                    case ERF -> v.abs().compareTo(BigInteger.valueOf(6)) >= 0 ? BigInteger.valueOf(v.signum())
                            : BigInteger.ZERO;
                    default -> throw new AssertionError(u + " on " + t);
                };
                assertEquals(Harness.wrap(e, t), y.getLong(i), u + " " + t + " of " + v);
            }
        }
    }

    @Property(tries = 100)
    void notFlipsBools(@ForAll long seed) {
        Random r = new Random(seed);
        int[] shape = Harness.randomShape(r);
        Tensor x = Harness.random(DType.BOOL, shape, r);
        Tensor y = Harness.run(Op.Not, Map.of(), x);
        assertEquals(DType.BOOL, y.dtype());
        for (int i = 0; i < y.elementCount(); i++) {
            assertEquals(1 - x.getLong(i), y.getLong(i));
        }
    }

    /** Expected and actual agree to a few ulps of {@code t} (absolutely near zero); NaN and infinities exactly. */
    static boolean close(DType t, double e, double a) {
        if (Double.isNaN(e) || Double.isInfinite(e) || Double.isNaN(a) || Double.isInfinite(a)) {
            return Harness.sameFloat(e, a);
        }
        double rel = switch (t) {
            case FLOAT64 -> 1e-12;
            case FLOAT32 -> 4e-7;
            case FLOAT16 -> 2e-3;
            default -> 1.6e-2;
        };
        double abs = t == DType.FLOAT64 ? 1e-15 : 1e-7;
        return Math.abs(e - a) <= abs + rel * Math.abs(e);
    }

    /** erf from its Maclaurin series in 40-digit decimals (exact enough for |x| < 6); +-1 beyond. */
    static double erfSeries(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (Math.abs(x) >= 6) {
            return Math.signum(x);
        }
        BigDecimal bx = new BigDecimal(x);
        BigDecimal x2 = bx.multiply(bx, MC);
        BigDecimal power = bx;
        BigDecimal sum = BigDecimal.ZERO;
        BigDecimal factorial = BigDecimal.ONE;
        for (int n = 0; n < 200; n++) {
            if (n > 0) {
                factorial = factorial.multiply(BigDecimal.valueOf(n));
                power = power.multiply(x2, MC).negate();
            }
            BigDecimal term = power.divide(factorial.multiply(BigDecimal.valueOf(2L * n + 1)), MC);
            sum = sum.add(term, MC);
            if (term.abs().compareTo(new BigDecimal("1e-30")) < 0 && n > 2 * x * x) {
                break;
            }
        }
        return sum.multiply(new BigDecimal("1.128379167095512573896158903121545171688"), MC).doubleValue();
    }

    /** e^x / 2 without overflowing where the result is still finite. */
    static double halfExp(double x) {
        return Math.exp(x / 2) * (Math.exp(x / 2) / 2);
    }

    static double roundHalfEven(double x) {
        if (Double.isNaN(x) || Double.isInfinite(x) || x == 0) {
            return x;
        }
        double r = new BigDecimal(x).setScale(0, RoundingMode.HALF_EVEN).doubleValue();
        return r == 0 ? Math.copySign(0.0, x) : r;
    }
}
