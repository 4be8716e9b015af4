package dev.hedge.plan;

import dev.hedge.runtime.DType;
import dev.hedge.runtime.QuantParams;
import dev.hedge.runtime.Tensor;

/** Where one value of a planned graph lives. Mutable only while the planner builds the plan. */
final class Slot {

    enum Kind {
        /** Graph input, copied into the arena at the start of each run. */
        INPUT,
        /** Initializer, or value computed at plan time: a fixed tensor shared by all sessions. */
        KNOWN,
        /** Produced by a step, lives in the arena at a planned offset. */
        ARENA,
        /** Shape only known while running: per-session grow-only buffer. */
        DYNAMIC,
        /** Read from an enclosing graph at run time. */
        CAPTURE
    }

    final int id;
    final String name;
    Kind kind;
    DType dtype;
    int[] shape;
    QuantParams quant;
    Tensor value;
    /** An encoded constant as stored; {@link #value} is its dense form, decoded only once something needs it. */
    Tensor encoded;
    /** A second slot of an encoded constant that binds the stored form to the steps that consume it. */
    boolean encodedView;
    boolean constant;
    long offset = -1;
    long bytes;
    int first = Integer.MAX_VALUE;
    int last = -1;

    Slot(int id, String name) {
        this.id = id;
        this.name = name;
    }

    boolean shapeKnown() {
        return shape != null && kind != Kind.DYNAMIC;
    }

    @Override
    public String toString() {
        return name + " " + kind + " " + dtype + (shape == null ? "[?]" : java.util.Arrays.toString(shape))
                + (kind == Kind.ARENA ? " @" + offset + "+" + bytes : "");
    }
}
