package dev.hedge.cli;

import dev.hedge.runtime.RuntimeOptions;
import picocli.CommandLine.Command;

/**
 * {@code hedge bench}: the bench module's command ({@link dev.hedge.bench.BenchCommand}), with {@code
 * --backend auto} in the order of the host's device profile (its {@code --threads} stays explicit: one by
 * default, so that figures compare).
 */
@Command(name = "bench")
final class BenchCommand extends dev.hedge.bench.BenchCommand {

    @Override
    protected RuntimeOptions runtimeOptions(String backendName, int threadCount) {
        return BackendOptions.resolve(backendName, threadCount).options();
    }
}
