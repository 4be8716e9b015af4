package dev.hedge.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Assigns arena offsets to buffers with known lifetimes: largest first, each at the lowest aligned offset
 * that does not overlap a placed buffer alive at the same time (the greedy-by-size strategy of TFLite).
 */
public final class ArenaPlanner {

    public static final int ALIGN = 64;

    private ArenaPlanner() {
    }

    /** A buffer alive from step {@code first} to step {@code last} inclusive. */
    public static final class Buffer {
        final long bytes;
        final int first;
        final int last;
        long offset = -1;

        public Buffer(long bytes, int first, int last) {
            this.bytes = bytes;
            this.first = first;
            this.last = last;
        }

        public long offset() {
            return offset;
        }
    }

    /** Places every buffer; returns the arena size. */
    public static long place(List<Buffer> buffers) {
        List<Buffer> order = new ArrayList<>(buffers);
        order.sort(Comparator.comparingLong((Buffer b) -> -b.bytes).thenComparingInt(b -> b.first));
        List<Buffer> placed = new ArrayList<>();
        long total = 0;
        for (Buffer b : order) {
            List<Buffer> live = new ArrayList<>();
            for (Buffer p : placed) {
                if (p.first <= b.last && b.first <= p.last) {
                    live.add(p);
                }
            }
            live.sort(Comparator.comparingLong(p -> p.offset));
            long candidate = 0;
            for (Buffer p : live) {
                if (candidate + b.bytes <= p.offset) {
                    break;
                }
                candidate = Math.max(candidate, align(p.offset + p.bytes));
            }
            b.offset = candidate;
            placed.add(b);
            total = Math.max(total, align(candidate + b.bytes));
        }
        return total;
    }

    public static long align(long v) {
        return (v + ALIGN - 1) / ALIGN * ALIGN;
    }
}
