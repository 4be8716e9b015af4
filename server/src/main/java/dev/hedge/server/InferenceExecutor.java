package dev.hedge.server;

import dev.hedge.plan.Plan;
import dev.hedge.runtime.HedgeException;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs inference off the event loop: a fixed pool of worker threads behind a bounded queue. With dynamic
 * batching on, a worker that takes a batchable request also takes queued requests for the same model instance
 * with the same per-row shapes, waiting at most the batch delay (counted from the first request's admission)
 * for the batch to reach its maximum rows, then stacks them along dimension 0 and splits the outputs.
 */
final class InferenceExecutor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceExecutor.class);

    /** One admitted request. Its future completes once: with the response, or exceptionally (timeout, error). */
    static final class Task {
        final LoadedModel model;
        final Binder.Bound request;
        final long admitted = System.nanoTime();
        final CompletableFuture<ResponseEncoder.Encoded> result = new CompletableFuture<>();
        volatile long queueNanos = -1;

        Task(LoadedModel model, Binder.Bound request) {
            this.model = model;
            this.request = request;
        }

        boolean canJoin(Task head) {
            return model == head.model && request.rows() > 0 && request.batchKey().equals(head.request.batchKey());
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Task> queue = new ArrayDeque<>();
    private final int maxQueue;
    private final int batchMax;
    private final long batchDelayNanos;
    private final long maxArenaBytes;
    private final Metrics metrics;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean stopping;
    /** queue.size(), readable without the lock. */
    private volatile int queued;
    private final java.util.concurrent.atomic.AtomicInteger busy = new java.util.concurrent.atomic.AtomicInteger();

    InferenceExecutor(ServerOptions o, Metrics metrics) {
        this.maxQueue = o.maxQueue();
        this.batchMax = o.batchMax();
        this.batchDelayNanos = TimeUnit.MILLISECONDS.toNanos(o.batchDelayMs());
        this.maxArenaBytes = o.maxArenaBytes();
        this.metrics = metrics;
        metrics.gauge("hedge.queue.depth", "Requests waiting for a worker", this, InferenceExecutor::depth);
        metrics.gauge("hedge.queue.capacity", "Requests that may wait before new ones get 503", this,
                e -> e.maxQueue);
        metrics.gauge("hedge.workers.busy", "Workers running a model", this, e -> e.busy.get());
        for (int i = 0; i < o.workers(); i++) {
            Thread t = new Thread(this::work, "hedge-worker-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    int depth() {
        return queued;
    }

    /** Whether a request arriving now would be refused (checked before its body is parsed). */
    boolean full() {
        return stopping || queued >= maxQueue;
    }

    /** Queues a task; false when the queue is full or the executor is stopping. */
    boolean submit(Task t) {
        lock.lock();
        try {
            if (stopping || queue.size() >= maxQueue) {
                return false;
            }
            queue.addLast(t);
            queued = queue.size();
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        while (true) {
            List<Task> batch;
            try {
                batch = next();
            } catch (InterruptedException e) {
                return;
            }
            if (batch == null) {
                return;
            }
            busy.incrementAndGet();
            try {
                run(batch);
            } catch (Throwable t) {
                LOG.error("worker failed", t);
                for (Task task : batch) {
                    task.result.completeExceptionally(new ApiException(500, "internal", "internal error: " + t));
                }
            } finally {
                busy.decrementAndGet();
            }
        }
    }

    /** The next batch (one task without batching), or null once stopping and the queue is empty. */
    private List<Task> next() throws InterruptedException {
        lock.lock();
        try {
            Task head;
            while (true) {
                while (queue.isEmpty()) {
                    if (stopping) {
                        return null;
                    }
                    changed.await();
                }
                head = queue.pollFirst();
                queued = queue.size();
                if (!head.result.isDone()) {
                    break;
                }
            }
            List<Task> batch = new ArrayList<>();
            batch.add(head);
            if (batchMax > 1 && head.model.batchable() && head.request.rows() > 0) {
                int rows = head.request.rows();
                long deadline = head.admitted + batchDelayNanos;
                while (rows < batchMax) {
                    for (Iterator<Task> it = queue.iterator(); it.hasNext() && rows < batchMax; ) {
                        Task t = it.next();
                        if (t.result.isDone()) {
                            it.remove();
                        } else if (t.canJoin(head) && rows + t.request.rows() <= batchMax) {
                            it.remove();
                            batch.add(t);
                            rows += t.request.rows();
                        }
                    }
                    queued = queue.size();
                    long wait = deadline - System.nanoTime();
                    if (rows >= batchMax || wait <= 0 || stopping) {
                        break;
                    }
                    changed.awaitNanos(wait);
                }
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void run(List<Task> batch) {
        long start = System.nanoTime();
        List<Task> live = new ArrayList<>(batch.size());
        for (Task t : batch) {
            if (!t.result.isDone()) {
                t.queueNanos = start - t.admitted;
                metrics.queueTime(t.model.name(), t.model.versionString(), t.queueNanos);
                live.add(t);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        LoadedModel m = live.get(0).model;
        if (live.size() > 1 && !runStacked(m, live)) {
            for (Task t : live) {
                runOne(m, t);
            }
        } else if (live.size() == 1) {
            runOne(m, live.get(0));
        }
    }

    private void runOne(LoadedModel m, Task t) {
        long t0 = System.nanoTime();
        Session s = m.borrowSession();
        boolean healthy = false;
        try {
            checkArena(m, t.request.inputs());
            Map<String, Tensor> outs = s.run(t.request.inputs());
            t.result.complete(ResponseEncoder.encode(m, t.request, outs, -1, 0));
            healthy = true;
        } catch (ApiException e) {
            t.result.completeExceptionally(e);
            healthy = true;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            t.result.completeExceptionally(runFailure(m, e));
        } finally {
            if (healthy) {
                m.returnSession(s);
            }
            long n = System.nanoTime() - t0;
            metrics.computeTime(m.name(), m.versionString(), n);
            metrics.batch(m.name(), m.versionString(), 1);
        }
    }

    /** Runs the tasks as one stacked batch; false (nothing answered) if they must run one by one instead. */
    private boolean runStacked(LoadedModel m, List<Task> tasks) {
        long t0 = System.nanoTime();
        int total = 0;
        for (Task t : tasks) {
            total += t.request.rows();
        }
        Map<String, Tensor> stacked = new LinkedHashMap<>();
        for (String name : tasks.get(0).request.inputs().keySet()) {
            Tensor first = tasks.get(0).request.inputs().get(name);
            int[] shape = first.shape();
            shape[0] = total;
            Tensor big = Tensor.allocate(first.dtype(), shape);
            int offset = 0;
            for (Task t : tasks) {
                Tensor part = t.request.inputs().get(name);
                int len = part.byteSize();
                big.data().put(offset, part.data(), 0, len);
                offset += len;
            }
            stacked.put(name, big);
        }
        Session s = m.borrowSession();
        boolean healthy = false;
        try {
            checkArena(m, stacked);
            Map<String, Tensor> outs = s.run(stacked);
            for (Tensor o : outs.values()) {
                if (o.rank() == 0 || o.dim(0) != total) {
                    healthy = true;
                    return false;
                }
            }
            int row = 0;
            for (Task t : tasks) {
                t.result.complete(ResponseEncoder.encode(m, t.request, outs, row, t.request.rows()));
                row += t.request.rows();
            }
            healthy = true;
            metrics.computeTime(m.name(), m.versionString(), System.nanoTime() - t0);
            metrics.batch(m.name(), m.versionString(), tasks.size());
            return true;
        } catch (ApiException | InvalidInputException e) {
            healthy = true;
            return false;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            // Some request's data made the run fail: run each alone so only that one fails.
            return false;
        } finally {
            if (healthy) {
                m.returnSession(s);
            }
        }
    }

    private void checkArena(LoadedModel m, Map<String, Tensor> inputs) {
        List<int[]> shapes = new ArrayList<>(inputs.size());
        for (Tensor t : inputs.values()) {
            shapes.add(t.shape());
        }
        Plan p;
        try {
            p = m.model().plan(shapes);
        } catch (HedgeException | IllegalArgumentException e) {
            throw ApiException.badRequest("inputs: the model cannot run on these shapes: " + e.getMessage());
        }
        if (p.totalArenaBytes() > maxArenaBytes) {
            throw ApiException.badRequest("inputs: these shapes need " + p.totalArenaBytes()
                    + " bytes of working memory; the limit is " + maxArenaBytes + " (--max-arena-bytes)");
        }
    }

    private static ApiException runFailure(LoadedModel m, Throwable e) {
        if (e instanceof InvalidInputException || e instanceof IllegalArgumentException
                || e instanceof IndexOutOfBoundsException) {
            return ApiException.badRequest("inference failed on the given data: " + ModelRepository.describe(e));
        }
        LOG.error("model {} version {}: run failed", m.name(), m.version(), e);
        return new ApiException(500, "internal", "inference failed: " + ModelRepository.describe(e));
    }

    /**
     * Stops taking work; workers finish what is queued. Returns after they all stopped or {@code waitMs}
     * passed; anything still queued then is answered 503.
     */
    void shutdown(long waitMs) {
        lock.lock();
        try {
            stopping = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        for (Thread t : workers) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        lock.lock();
        try {
            for (Task t : queue) {
                t.result.completeExceptionally(ApiException.unavailable("the server is shutting down"));
            }
            queue.clear();
            queued = 0;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        shutdown(0);
        for (Thread t : workers) {
            t.interrupt();
        }
    }
}
