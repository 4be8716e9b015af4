package dev.hedge.kernels.cpu;

import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/** Skips jqwik containers when the native library is unavailable (built without a C++ compiler). */
public final class NeedsNative implements SkipExecutionHook {

    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        return NativeBackend.isAvailable() ? SkipResult.doNotSkip()
                : SkipResult.skip("native kernels unavailable: " + NativeBackend.unavailableReason());
    }
}
