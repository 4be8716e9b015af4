package dev.hedge.kernels.ref.tensor;

import dev.hedge.ir.Node;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;

/** The {@code reduction} of ScatterND / ScatterElements: how an update combines with the current value. */
enum Reduction {
    NONE, ADD, MUL, MAX, MIN;

    static Reduction of(Node node, DType t) {
        String s = node.stringAttr("reduction");
        Reduction r = switch (s) {
            case "none" -> NONE;
            case "add" -> ADD;
            case "mul" -> MUL;
            case "max" -> MAX;
            case "min" -> MIN;
            default -> throw new UnsupportedModelException(node.describe() + ": reduction '" + s + "' is not supported");
        };
        if (r != NONE && t.bits() == 4) {
            throw new UnsupportedModelException(node.describe() + ": reduction '" + s + "' on " + t
                    + " is not supported");
        }
        return r;
    }

    /** out[oi] = out[oi] (op) upd[ui], in the element type (bool: add/max = or, mul/min = and). */
    void apply(DType t, ByteBuffer out, int oi, ByteBuffer upd, int ui, int bits) {
        switch (t) {
            case FLOAT32: {
                float a = out.getFloat(oi * 4);
                float b = upd.getFloat(ui * 4);
                out.putFloat(oi * 4, this == ADD ? a + b : this == MUL ? a * b : this == MAX ? Math.max(a, b)
                        : this == MIN ? Math.min(a, b) : b);
                return;
            }
            case FLOAT64: {
                double a = out.getDouble(oi * 8);
                double b = upd.getDouble(ui * 8);
                out.putDouble(oi * 8, this == ADD ? a + b : this == MUL ? a * b : this == MAX ? Math.max(a, b)
                        : this == MIN ? Math.min(a, b) : b);
                return;
            }
            case FLOAT16:
            case BFLOAT16: {
                // one operation on two halves, rounded once: exact like the native type's arithmetic
                float a = (float) Arith.load(t, out, oi);
                float b = (float) Arith.load(t, upd, ui);
                Arith.store(t, out, oi, this == ADD ? a + b : this == MUL ? a * b : this == MAX ? Math.max(a, b)
                        : this == MIN ? Math.min(a, b) : b);
                return;
            }
            case BOOL: {
                boolean a = out.get(oi) != 0;
                boolean b = upd.get(ui) != 0;
                boolean v = this == ADD || this == MAX ? a | b : this == MUL || this == MIN ? a & b : b;
                out.put(oi, (byte) (v ? 1 : 0));
                return;
            }
            default: {
                long a = Elems.read(out, oi, bits);
                long b = Elems.read(upd, ui, bits);
                if (t.isSigned()) {
                    int sh = 64 - bits;
                    a = (a << sh) >> sh;
                    b = (b << sh) >> sh;
                }
                long v;
                switch (this) {
                    case ADD: v = a + b; break;
                    case MUL: v = a * b; break;
                    case MAX: v = t.isSigned() ? Math.max(a, b) : Long.compareUnsigned(a, b) >= 0 ? a : b; break;
                    case MIN: v = t.isSigned() ? Math.min(a, b) : Long.compareUnsigned(a, b) <= 0 ? a : b; break;
                    default: v = b;
                }
                Elems.write(out, oi, bits, v);
            }
        }
    }
}
