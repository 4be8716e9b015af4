package dev.hedge.kernels.cpu;

import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;

/**
 * Native kernels need direct buffers. Tensors the runtime allocates are direct; a caller's input may wrap a
 * heap buffer, which is copied into a per-thread, grow-only direct buffer (so steady-state runs allocate
 * nothing).
 */
final class Staging {

    private static final int SLOTS = 3;
    private static final ThreadLocal<ByteBuffer[]> BUFFERS = ThreadLocal.withInitial(() -> new ByteBuffer[SLOTS]);

    private Staging() {
    }

    /** The tensor's bytes in a direct buffer at position 0; {@code slot} (0..2) keeps the inputs of one call apart. */
    static ByteBuffer direct(Tensor t, int slot) {
        ByteBuffer b = t.data();
        if (b.isDirect()) {
            return b;
        }
        int n = t.byteSize();
        ByteBuffer[] bufs = BUFFERS.get();
        ByteBuffer s = bufs[slot];
        if (s == null || s.capacity() < n) {
            s = Native.allocate(Math.max(n, s == null ? 0 : 2L * s.capacity()));
            bufs[slot] = s;
        }
        s.put(0, b, 0, n);
        return s;
    }
}
