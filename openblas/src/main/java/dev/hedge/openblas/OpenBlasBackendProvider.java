package dev.hedge.openblas;

import dev.hedge.kernels.Backend;
import dev.hedge.kernels.BackendProvider;

/**
 * {@link OpenBlasBackend} for the runtime's default backends: present whenever this jar is, available when
 * OpenBLAS loads for this platform. After the native kernels in the default order (they take no dense fp32
 * product, so the order matters only where costs are unknown).
 */
public final class OpenBlasBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public int defaultRank() {
        return 20;
    }

    @Override
    public Backend create() {
        return OpenBlasBackend.create();
    }
}
