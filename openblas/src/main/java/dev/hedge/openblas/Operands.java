package dev.hedge.openblas;

import dev.hedge.kernels.PrepareContext;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Native addresses of tensors, and the per-run header kernels pass them to their tiles through. */
final class Operands {

    /** Bytes at the start of a kernel's scratch holding per-run addresses and indices (longs). */
    static final int HEADER = 64;

    private static final ThreadLocal<ByteBuffer[]> STAGING = ThreadLocal.withInitial(() -> new ByteBuffer[3]);

    private Operands() {
    }

    /**
     * Address of a tensor's floats. Tensors the runtime makes are direct; a heap-backed one (a caller's
     * {@code Tensor.wrap} of an array) is copied into this thread's grow-only staging buffer {@code slot}.
     */
    static long address(Tensor t, int slot) {
        ByteBuffer b = t.data();
        if (b.isDirect()) {
            return Blas.address(b);
        }
        ByteBuffer[] st = STAGING.get();
        int bytes = t.byteSize();
        if (st[slot] == null || st[slot].capacity() < bytes) {
            st[slot] = ByteBuffer.allocateDirect(Math.max(bytes, 64)).order(ByteOrder.LITTLE_ENDIAN);
        }
        st[slot].put(0, b, 0, bytes);
        return Blas.address(st[slot]);
    }

    /** A constant's floats kept where they are (memory-mapped file, arena) or, if on the heap, copied once. */
    static final class Constant {
        final ByteBuffer keep;
        final long address;
        final long copiedBytes;

        Constant(Tensor t) {
            ByteBuffer b = t.data();
            if (b.isDirect()) {
                keep = b;
                copiedBytes = 0;
            } else {
                keep = ByteBuffer.allocateDirect(Math.max(t.byteSize(), 64)).order(ByteOrder.LITTLE_ENDIAN);
                keep.put(0, b, 0, t.byteSize());
                copiedBytes = t.byteSize();
            }
            address = Blas.address(keep);
        }
    }

    /** Throws the planner's fall-back signal unless input {@code i} is float32. */
    static void requireFloat(PrepareContext ctx, int i, String what) {
        DType d = ctx.inputType(i);
        if (d != DType.FLOAT32) {
            throw new UnsupportedModelException(ctx.node().describe() + ": openblas runs float32 only, " + what
                    + " is " + d);
        }
    }

    static long header(ByteBuffer scratch, int i) {
        return scratch.getLong(8 * i);
    }

    static void header(ByteBuffer scratch, int i, long v) {
        scratch.putLong(8 * i, v);
    }
}
