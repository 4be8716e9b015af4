package dev.hedge.kernels.ref.control;

import dev.hedge.ir.Node;
import dev.hedge.kernels.Backend;
import dev.hedge.kernels.Kernel;
import dev.hedge.kernels.PrepareContext;
import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Tiny kernels for the ops the If/Loop tests put in their subgraphs (Add, Sub, Mul, Less, Identity, Concat
 * on axis 0), so these tests do not depend on the real elementwise kernels. Binary ops take equal shapes or
 * one single-element side; they compute in double. They allocate nothing while running.
 */
final class TestOps implements Backend {

    @Override
    public String name() {
        return "test";
    }

    @Override
    public Kernel create(Node node, List<PrepareContext.ValueType> inputs) {
        switch (node.op()) {
            case Add: return binary(node, (a, b) -> a + b);
            case Sub: return binary(node, (a, b) -> a - b);
            case Mul: return binary(node, (a, b) -> a * b);
            case Less: return binary(node, (a, b) -> a < b ? 1 : 0);
            case Identity: return new Kernel() {
                public void prepare(PrepareContext c) {
                    c.setOutput(0, c.inputType(0), c.inputShape(0));
                }

                public void run(RunContext c) {
                    c.input(0).copyTo(c.output(0));
                }
            };
            case Concat: return new Kernel() {
                public void prepare(PrepareContext c) {
                    if (node.intAttr("axis") != 0) {
                        throw new IllegalArgumentException("test Concat only joins axis 0");
                    }
                    int[] s = c.inputShape(0);
                    for (int i = 1; i < node.inputs().size(); i++) {
                        s[0] += c.inputShape(i)[0];
                    }
                    c.setOutput(0, c.inputType(0), s);
                }

                public void run(RunContext c) {
                    int at = 0;
                    for (int i = 0; i < node.inputs().size(); i++) {
                        Tensor t = c.input(i);
                        c.output(0).data().put(at, t.data(), 0, t.byteSize());
                        at += t.byteSize();
                    }
                }
            };
            default: return null;
        }
    }

    interface Fn {
        double apply(double a, double b);
    }

    private static Kernel binary(Node node, Fn fn) {
        return new Kernel() {
            public void prepare(PrepareContext c) {
                int[] a = c.inputShape(0);
                int[] b = c.inputShape(1);
                int[] out;
                if (Arrays.equals(a, b) || Tensor.elementCount(b) == 1) {
                    out = a;
                } else if (Tensor.elementCount(a) == 1) {
                    out = b;
                } else {
                    throw new IllegalArgumentException("test " + node.op() + " cannot combine " + Arrays.toString(a)
                            + " and " + Arrays.toString(b));
                }
                c.setOutput(0, node.op() == dev.hedge.ops.Op.Less ? DType.BOOL : c.inputType(0), out);
            }

            public void run(RunContext c) {
                Tensor a = c.input(0);
                Tensor b = c.input(1);
                Tensor o = c.output(0);
                int n = o.elementCount();
                boolean a1 = a.elementCount() == 1;
                boolean b1 = b.elementCount() == 1;
                for (int i = 0; i < n; i++) {
                    o.setDouble(i, fn.apply(a.getDouble(a1 ? 0 : i), b.getDouble(b1 ? 0 : i)));
                }
            }
        };
    }
}
