package dev.hedge.kernels.cpu;

import dev.hedge.kernels.Backend;
import dev.hedge.kernels.BackendProvider;

/** {@link NativeBackend} for the best instruction set of this CPU, first in the default order. */
public final class NativeBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "native";
    }

    @Override
    public int defaultRank() {
        return 10;
    }

    @Override
    public Backend create() {
        String why = NativeBackend.unavailableReason();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        return new NativeBackend();
    }
}
