package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Kernel;

/** Kernel factories of the elementwise ops; the implementation classes stay package-private. */
public final class Elementwise {

    private Elementwise() {
    }

    /** A unary op of one dtype (math functions, activations, Not). */
    public static Kernel unary(Node node) {
        return new UnaryKernel(require(node, UnaryFns.of(node)));
    }

    /** A binary or variadic op of one dtype, broadcast (arithmetic, Min/Max/Sum/Mean, PRelu, And/Or/Xor). */
    public static Kernel binary(Node node) {
        return new BinaryKernel(node, require(node, BinaryFns.of(node)));
    }

    /** Equal, Less, LessOrEqual, Greater, GreaterOrEqual. */
    public static Kernel compare(Node node) {
        return new CompareKernel(require(node, CompareFn.of(node)));
    }

    /** IsNaN, IsInf. */
    public static Kernel predicate(Node node) {
        return new PredicateKernel(node);
    }

    public static Kernel where(Node node) {
        return new WhereKernel();
    }

    public static Kernel clip(Node node) {
        return new ClipKernel();
    }

    public static Kernel pow(Node node) {
        return new PowKernel();
    }

    /** Cast and CastLike. */
    public static Kernel cast(Node node) {
        return new CastKernel(node);
    }

    private static <T> T require(Node node, T fn) {
        if (fn == null) {
            throw new IllegalArgumentException(node.describe() + " is not an op of this factory");
        }
        return fn;
    }
}
