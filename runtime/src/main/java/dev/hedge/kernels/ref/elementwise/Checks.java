package dev.hedge.kernels.ref.elementwise;

import dev.hedge.ir.Node;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.UnsupportedModelException;
import java.util.Set;

/** Prepare-time validation shared by the elementwise kernels. */
final class Checks {

    private Checks() {
    }

    /** Input {@code i}'s dtype, which must be one of {@code allowed}. */
    static DType type(PrepareContext ctx, int i, Set<DType> allowed) {
        DType t = ctx.inputType(i);
        if (!allowed.contains(t)) {
            Node node = ctx.node();
            throw new UnsupportedModelException(node.describe() + ": input " + i + " ('" + node.input(i) + "') is "
                    + t + "; " + node.op() + " takes " + Types.names(allowed));
        }
        return t;
    }

    /** Input {@code i} must have dtype {@code expected} (ONNX ties it to input {@code ref}'s type). */
    static void sameType(PrepareContext ctx, int i, int ref, DType expected) {
        DType t = ctx.inputType(i);
        if (t != expected) {
            Node node = ctx.node();
            throw new IllegalArgumentException("input " + i + " ('" + node.input(i) + "') is " + t + " but input "
                    + ref + " ('" + node.input(ref) + "') is " + expected + "; they must have the same type");
        }
    }

    /** Input {@code i}, which must be present. */
    static void present(PrepareContext ctx, int i) {
        if (!ctx.hasInput(i)) {
            throw new IllegalArgumentException("input " + i + " is missing");
        }
    }
}
