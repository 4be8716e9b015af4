package dev.hedge.converter.data;

import dev.hedge.runtime.Session;
import dev.hedge.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Calibration or evaluation data: one feed (a tensor per model input) per sample, optional integer labels
 * (one per sample), and carried state: {@code carry} maps an input to the output whose value feeds it on the
 * next sample (a streaming model such as silero-vad takes its {@code state} from the previous
 * {@code stateN}); a carried input starts from the sample's own feed. Samples with carried state run in order.
 */
public record Dataset(List<Map<String, Tensor>> samples, long[] labels, Map<String, String> carry) {

    public Dataset {
        samples = List.copyOf(samples);
        carry = Map.copyOf(new LinkedHashMap<>(carry));
        if (labels != null && labels.length != samples.size()) {
            throw new IllegalArgumentException(labels.length + " labels for " + samples.size() + " samples");
        }
    }

    public static Dataset of(List<Map<String, Tensor>> samples) {
        return new Dataset(samples, null, Map.of());
    }

    public int size() {
        return samples.size();
    }

    public boolean hasLabels() {
        return labels != null;
    }

    public Dataset withLabels(long[] l) {
        return new Dataset(samples, l, carry);
    }

    public Dataset withCarry(Map<String, String> c) {
        return new Dataset(samples, labels, c);
    }

    /** The first {@code n} samples (and labels). */
    public Dataset limit(int n) {
        if (n >= samples.size()) {
            return this;
        }
        long[] l = labels == null ? null : Arrays.copyOf(labels, n);
        return new Dataset(samples.subList(0, n), l, carry);
    }

    /**
     * The samples concatenated along their first (batch) dimension, {@code rows} samples per batch (for
     * reconstruction, which works on batches); every sample of an input must have the same shape. Inputs of
     * rank 0 are taken from the batch's first sample.
     */
    public List<Map<String, Tensor>> batches(int rows) {
        List<Map<String, Tensor>> out = new ArrayList<>();
        for (int start = 0; start < samples.size(); start += rows) {
            int end = Math.min(samples.size(), start + rows);
            Map<String, Tensor> batch = new LinkedHashMap<>();
            for (String name : samples.get(start).keySet()) {
                Tensor first = samples.get(start).get(name);
                if (first.rank() == 0) {
                    batch.put(name, first);
                    continue;
                }
                int[] shape = first.shape();
                shape[0] = 0;
                for (int i = start; i < end; i++) {
                    Tensor t = samples.get(i).get(name);
                    if (t == null || t.dtype() != first.dtype() || t.rank() != first.rank()
                            || !Arrays.equals(Arrays.copyOfRange(t.shape(), 1, t.rank()),
                                    Arrays.copyOfRange(first.shape(), 1, first.rank()))) {
                        throw new IllegalArgumentException("sample " + i + " input '" + name + "' is "
                                + (t == null ? "missing" : t) + ", unlike sample " + start + "'s " + first
                                + "; samples of different shapes cannot be batched");
                    }
                    shape[0] += t.dim(0);
                }
                Tensor b = Tensor.allocate(first.dtype(), shape);
                int off = 0;
                for (int i = start; i < end; i++) {
                    Tensor t = samples.get(i).get(name);
                    b.data().put(off, t.data(), 0, t.byteSize());
                    off += t.byteSize();
                }
                batch.put(name, b);
            }
            out.add(batch);
        }
        return out;
    }

    /**
     * Called for each sample with its index, the feed actually given (carried state included) and the model's
     * outputs (session views: copy what you keep).
     */
    @FunctionalInterface
    public interface SampleConsumer {
        void accept(int index, Map<String, Tensor> feed, Map<String, Tensor> outputs);
    }

    /** Runs every sample through {@code session} in order, feeding carried outputs forward. */
    public void run(Session session, SampleConsumer consumer) {
        Cursor c = cursor(session);
        for (int i = 0; i < samples.size(); i++) {
            Map<String, Tensor> out = c.run(i);
            consumer.accept(i, c.lastFeed(), out);
        }
    }

    /** A session walking the samples with its own carried state. */
    public Cursor cursor(Session session) {
        return new Cursor(session);
    }

    /** Runs samples one at a time on one session, carrying state between them. */
    public final class Cursor {
        private final Session session;
        private final Map<String, Tensor> state = new LinkedHashMap<>();
        private Map<String, Tensor> feed = Map.of();

        private Cursor(Session session) {
            this.session = session;
        }

        /** Runs sample {@code i} (after the previous one, when state is carried); returns session views. */
        public Map<String, Tensor> run(int i) {
            Map<String, Tensor> f = new LinkedHashMap<>(samples.get(i));
            f.putAll(state);
            feed = f;
            Map<String, Tensor> out = session.run(f);
            if (!carry.isEmpty()) {
                List<String> missing = new ArrayList<>();
                for (Map.Entry<String, String> e : carry.entrySet()) {
                    Tensor t = out.get(e.getValue());
                    if (t == null) {
                        missing.add(e.getValue());
                    } else {
                        state.put(e.getKey(), t.copy());
                    }
                }
                if (!missing.isEmpty()) {
                    throw new IllegalArgumentException("carried outputs " + missing + " are not outputs of the model "
                            + "(it has " + out.keySet() + ")");
                }
            }
            return out;
        }

        /** The feed of the last run, carried state included. */
        public Map<String, Tensor> lastFeed() {
            return feed;
        }
    }
}
