package dev.hedge.kernels;

/**
 * Makes a {@link Backend} available to {@link BackendRegistry}: listed in
 * {@code META-INF/services/dev.hedge.kernels.BackendProvider} of the jar that holds the backend, so that the
 * runtime uses every backend whose jar is present without depending on it.
 */
public interface BackendProvider {

    /** The backend's name as device profiles and {@code --backend} spell it ({@code native}, {@code openblas}). */
    String name();

    /** Place in the default order, used without a device profile: lower first. */
    int defaultRank();

    /**
     * The backend, ready to run on this host. Throws (any exception or linkage error) with the reason when it
     * cannot run here: library missing or not loadable, CPU without the instructions it needs.
     */
    Backend create();
}
