package dev.hedge.plan;

import dev.hedge.kernels.RunContext;
import dev.hedge.runtime.HedgeException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of intra-op threads, one per model: {@code threads - 1} daemon workers plus the calling
 * thread. {@link #run} splits tiles {@code [0, n)} among them; which thread runs a tile never changes what
 * the tile computes, so results do not depend on the thread count.
 *
 * <p>Steady state allocates nothing: the job lives in this object's fields and tiles are claimed from one
 * atomic word holding {@code (generation << 32) | next tile}. A worker only runs a tile it claimed with a
 * compare-and-set against the generation it read the job fields under, and the caller marks the
 * generation closed before it rewrites the fields, so a late worker can never mix two jobs.
 *
 * <p>One job at a time: a call that finds the pool busy (another session of the same model, or a
 * parallel loop nested in a tile) runs its tiles on the calling thread.
 */
public final class WorkerPool implements AutoCloseable {

    private static final long CLOSED = 0x7FFF_FFFFL;
    /** Spin iterations a worker waits for the next job before parking (layers follow each other fast). */
    private static final int SPINS = 1 << 14;

    private final int size;
    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicLong state = new AtomicLong(CLOSED);
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean shutdown;

    // the current job, written by the caller while the generation is closed
    private RunContext.TileTask tileTask;
    private RunContext.IntConsumerTask intTask;
    private RunContext context;
    private int count;

    /** A pool running on {@code threads} threads in all (the caller included). */
    public WorkerPool(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.size = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1, name + "-" + (i + 1));
            workers[i].start();
        }
    }

    /** Threads that may run tiles at once (worker indices are below this). */
    public int threads() {
        return size;
    }

    /** Runs {@code task.run(ctx, tile, worker)} for every tile in [0, n) and returns when all are done. */
    public void run(int n, RunContext ctx, RunContext.TileTask task) {
        if (n <= 0) {
            return;
        }
        if (n == 1 || workers.length == 0 || shutdown || !busy.compareAndSet(false, true)) {
            int w = workerIndex();
            for (int i = 0; i < n; i++) {
                task.run(ctx, i, w);
            }
            return;
        }
        runJob(n, ctx, task, null);
    }

    /** As {@link #run(int, RunContext, RunContext.TileTask)} for a task that takes only the tile index. */
    public void run(int n, RunContext.IntConsumerTask task) {
        if (n <= 0) {
            return;
        }
        if (n == 1 || workers.length == 0 || shutdown || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < n; i++) {
                task.run(i);
            }
            return;
        }
        runJob(n, null, null, task);
    }

    private void runJob(int n, RunContext ctx, RunContext.TileTask tt, RunContext.IntConsumerTask it) {
        try {
            long gen = (state.get() >>> 32) + 1;
            context = ctx;
            tileTask = tt;
            intTask = it;
            count = n;
            failure.set(null);
            done.set(0);
            state.set(gen << 32); // publishes the fields above
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            work(gen, n, ctx, tt, it, 0);
            int spins = 0;
            while (done.get() < n) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            state.set((gen << 32) | CLOSED);
        } finally {
            context = null;
            tileTask = null;
            intTask = null;
            busy.set(false);
        }
        Throwable t = failure.getAndSet(null);
        if (t != null) {
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            throw new HedgeException("intra-op task failed: " + t, t);
        }
    }

    /** Claims and runs tiles of generation {@code gen} until none is left. */
    private void work(long gen, int n, RunContext ctx, RunContext.TileTask tt, RunContext.IntConsumerTask it,
            int worker) {
        while (true) {
            long s = state.get();
            long idx = s & 0xFFFF_FFFFL;
            if ((s >>> 32) != gen || idx >= n) {
                return;
            }
            if (!state.compareAndSet(s, s + 1)) {
                continue;
            }
            try {
                if (tt != null) {
                    tt.run(ctx, (int) idx, worker);
                } else {
                    it.run((int) idx);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                done.incrementAndGet();
            }
        }
    }

    private int workerIndex() {
        Thread t = Thread.currentThread();
        return t instanceof Worker && ((Worker) t).pool() == this ? ((Worker) t).index : 0;
    }

    @Override
    public void close() {
        shutdown = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }

    private final class Worker extends Thread {
        final int index;
        volatile boolean parked;

        Worker(int index, String name) {
            super(name);
            this.index = index;
            setDaemon(true);
        }

        WorkerPool pool() {
            return WorkerPool.this;
        }

        @Override
        public void run() {
            long lastGen = 0;
            int idle = 0;
            while (!shutdown) {
                long s = state.get();
                long gen = s >>> 32;
                if (gen == lastGen || (s & 0xFFFF_FFFFL) == CLOSED) {
                    if (++idle < SPINS) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        // re-check after announcing, so a job published meanwhile is not slept through
                        long again = state.get();
                        if ((again >>> 32) == lastGen || (again & 0xFFFF_FFFFL) == CLOSED) {
                            LockSupport.park(this);
                        }
                        parked = false;
                        idle = 0;
                    }
                    continue;
                }
                idle = 0;
                RunContext ctx = context;
                RunContext.TileTask tt = tileTask;
                RunContext.IntConsumerTask it = intTask;
                int n = count;
                if (tt != null || it != null) {
                    work(gen, n, ctx, tt, it, index);
                }
                lastGen = gen;
            }
        }
    }
}
