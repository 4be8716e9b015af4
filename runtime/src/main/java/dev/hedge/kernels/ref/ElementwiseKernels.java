package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.elementwise.Elementwise;
import dev.hedge.ops.Op;

/** Elementwise unary, binary, comparison, logic and activation ops, with broadcasting. */
public final class ElementwiseKernels {

    private static final Op[] UNARY = {Op.Sqrt, Op.Exp, Op.Log, Op.Neg, Op.Abs, Op.Reciprocal, Op.Erf, Op.Floor,
        Op.Ceil, Op.Round, Op.Sign, Op.Sin, Op.Cos, Op.Tan, Op.Asin, Op.Acos, Op.Atan, Op.Sinh, Op.Cosh, Op.Asinh,
        Op.Acosh, Op.Atanh, Op.Relu, Op.LeakyRelu, Op.Elu, Op.Selu, Op.Sigmoid, Op.HardSigmoid, Op.HardSwish,
        Op.Tanh, Op.Softplus, Op.Softsign, Op.Gelu, Op.Mish, Op.Celu, Op.ThresholdedRelu, Op.Not};
    /** Binary ops and the variadic ones folded pairwise. */
    private static final Op[] BINARY = {Op.Add, Op.Sub, Op.Mul, Op.Div, Op.Mod, Op.Min, Op.Max, Op.Sum, Op.Mean,
        Op.PRelu, Op.And, Op.Or, Op.Xor};
    private static final Op[] COMPARE = {Op.Equal, Op.Less, Op.LessOrEqual, Op.Greater, Op.GreaterOrEqual};

    private ElementwiseKernels() {
    }

    public static void register(KernelRegistry r) {
        for (Op op : UNARY) {
            r.register(op, Elementwise::unary);
        }
        for (Op op : BINARY) {
            r.register(op, Elementwise::binary);
        }
        for (Op op : COMPARE) {
            r.register(op, Elementwise::compare);
        }
        r.register(Op.IsNaN, Elementwise::predicate);
        r.register(Op.IsInf, Elementwise::predicate);
        r.register(Op.Where, Elementwise::where);
        r.register(Op.Clip, Elementwise::clip);
        r.register(Op.Pow, Elementwise::pow);
        r.register(Op.Cast, Elementwise::cast);
        r.register(Op.CastLike, Elementwise::cast);
    }
}
