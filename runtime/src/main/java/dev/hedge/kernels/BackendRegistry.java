package dev.hedge.kernels;

import dev.hedge.kernels.ref.RefBackend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backends of this process: every {@link BackendProvider} found through {@link ServiceLoader}, each
 * created once and checked, in default order, then the Java reference backend, which is always available.
 * A provider that fails (its library is missing, the CPU lacks its instructions, its class does not load)
 * is listed as unavailable with the reason; nothing here throws.
 */
public final class BackendRegistry {

    /** The Java reference backend's name. */
    public static final String JAVA = "java";

    private static final Logger LOG = LoggerFactory.getLogger(BackendRegistry.class);

    /**
     * One backend's state here.
     *
     * @param backend null when unavailable
     * @param unavailableReason null when available
     */
    public record Entry(String name, int rank, Backend backend, String unavailableReason) {
        public boolean available() {
            return backend != null;
        }

        @Override
        public String toString() {
            return available() ? name : name + " unavailable: " + unavailableReason;
        }
    }

    private static volatile List<Entry> entries;

    private BackendRegistry() {
    }

    /** Every backend known to this process in default order, Java last; discovered on first call. */
    public static List<Entry> entries() {
        List<Entry> e = entries;
        if (e == null) {
            synchronized (BackendRegistry.class) {
                e = entries;
                if (e == null) {
                    e = discover(ServiceLoader.load(BackendProvider.class, BackendRegistry.class.getClassLoader()));
                    entries = e;
                }
            }
        }
        return e;
    }

    /** The entry named {@code name}, or null when no provider of that name is present. */
    public static Entry find(String name) {
        for (Entry e : entries()) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        return null;
    }

    static List<Entry> discover(Iterable<BackendProvider> providers) {
        List<Entry> l = new ArrayList<>();
        Iterator<BackendProvider> it = providers.iterator();
        while (true) {
            BackendProvider p;
            try {
                if (!it.hasNext()) {
                    break;
                }
                p = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                // a listed provider that does not load: nothing to name it by but the error
                LOG.warn("a backend provider failed to load: {}", e.toString());
                l.add(new Entry("(provider)", Integer.MAX_VALUE - 1, null, e.toString()));
                continue;
            }
            l.add(create(p));
        }
        l.sort(Comparator.comparingInt(Entry::rank));
        l.add(new Entry(JAVA, Integer.MAX_VALUE, RefBackend.INSTANCE, null));
        return List.copyOf(l);
    }

    private static Entry create(BackendProvider p) {
        String name = p.name();
        try {
            Backend b = p.create();
            if (b == null) {
                return new Entry(name, p.defaultRank(), null, "its provider made no backend");
            }
            return new Entry(name, p.defaultRank(), b, null);
        } catch (RuntimeException | LinkageError e) {
            String why = e.getMessage() != null && !(e instanceof LinkageError) ? e.getMessage() : e.toString();
            LOG.debug("backend {} unavailable: {}", name, why);
            return new Entry(name, p.defaultRank(), null, why);
        }
    }
}
