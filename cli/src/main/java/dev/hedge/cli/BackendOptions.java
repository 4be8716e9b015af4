package dev.hedge.cli;

import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.host.ProfileSelector;
import dev.hedge.runtime.RuntimeOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --backend} and {@code --threads} of the commands that run models. By default the backends are the
 * host's device profile's, in its order, with its thread count (every core); {@code --backend java} runs
 * the reference backend alone, for comparison.
 */
final class BackendOptions {

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "auto (the backends available here, in the order of this host's device profile), java "
                    + "(the reference backend alone, for comparison), or names joined by '+' such as "
                    + "native+openblas (default: ${DEFAULT-VALUE}).")
    String backend = "auto";

    @Option(names = "--threads", paramLabel = "N",
            description = "Intra-op threads (default: the host profile's, i.e. every core).")
    Integer threads;

    /** The options resolved for this host, and what the user should know about them. */
    record Resolved(RuntimeOptions options, String source, List<String> notes) {
        /** One line: backends in order, threads, where the order comes from. */
        String summary() {
            int t = options.threads();
            return options.describe() + ", " + t + (t == 1 ? " thread" : " threads") + " (" + source + ")";
        }
    }

    Resolved resolve() {
        if (threads != null && threads < 1) {
            throw new dev.hedge.runtime.InvalidInputException("--threads must be >= 1, got " + threads);
        }
        return resolve(backend, threads);
    }

    static Resolved resolve(String backend, Integer threads) {
        DeviceProfile profile = hostProfile();
        int profileThreads = profile == null || profile.threads() == 0
                ? Runtime.getRuntime().availableProcessors() : profile.threads();
        int t = Math.max(1, threads != null ? threads : profileThreads);
        List<String> notes = new ArrayList<>();
        RuntimeOptions o;
        String source;
        if ("auto".equals(backend)) {
            if (profile != null) {
                o = RuntimeOptions.defaults().withBackendOrder(profile.backends());
                source = "host profile " + profile.name();
            } else {
                o = RuntimeOptions.defaults();
                source = "no device profile matches this host: default order";
            }
            notes.addAll(o.unavailable());
        } else {
            o = RuntimeOptions.forBackends(backend);
            source = "--backend " + backend;
        }
        return new Resolved(o.withThreads(t), source, notes);
    }

    /** The built-in profile this host qualifies for (detected once), or null. */
    static DeviceProfile hostProfile() {
        return ProfileSelector.host().picked();
    }
}
