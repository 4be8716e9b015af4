package dev.hedge.cli;

import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.Profiles;
import dev.hedge.profiles.host.HostInfo;
import dev.hedge.profiles.host.NativeLibraries;
import dev.hedge.profiles.host.ProfileSelector;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "profiles", mixinStandardHelpOptions = true,
        description = {"List the device profiles (targets for 'hedge convert --profile').",
                "'hedge profiles detect' prints this host's CPU features, the native libraries that load and the "
                        + "profile it picks; 'hedge profiles show NAME|FILE' checks and prints one profile."},
        subcommands = {ProfilesCommand.Detect.class, ProfilesCommand.Show.class})
final class ProfilesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%-20s %-9s %-34s %-10s %-10s %-26s %s%n", "profile", "arch", "backends", "weights",
                "arena", "precision", "requires");
        for (DeviceProfile p : Profiles.builtIn()) {
            out.printf(Locale.ROOT, "%-20s %-9s %-34s %-10s %-10s %-26s %s%n", p.name(), p.arch(),
                    String.join(",", p.backends()), size(p.memory().weightsBytes()),
                    size(p.memory().arenaBytes()), precision(p),
                    p.requiredFeatures().isEmpty() ? "-" : String.join(" ", p.requiredFeatures()));
        }
        out.println();
        out.println("Use one with 'hedge convert --profile NAME', or give the path of your own profile .json "
                + "(see docs/device-profiles.md).");
        out.flush();
        return Errors.OK;
    }

    /** A budget in the largest binary unit that divides it (128 KiB, 4 GiB). */
    static String size(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (u < units.length - 1 && n >= 1024 && n % 1024 == 0) {
            n /= 1024;
            u++;
        }
        return n + " " + units[u];
    }

    static String precision(DeviceProfile p) {
        DeviceProfile.Precision q = p.precision();
        if (q.fullInteger()) {
            return "int8 only, " + (q.perChannelAllowed() ? "per-channel ok" : "per-tensor");
        }
        return "fp32/fp16/int8" + (q.perChannelAllowed() ? "" : " per-tensor");
    }

    @Command(name = "detect", mixinStandardHelpOptions = true,
            description = "Print this host's CPU features, which native libraries load, and the profile it picks.")
    static final class Detect implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            HostInfo host = HostInfo.detect();
            out.printf(Locale.ROOT, "host: %s %s, %s, %d cores%n", host.os(), host.arch(), host.cpuModel(),
                    host.cores());
            out.printf(Locale.ROOT, "cpu features (%s): %s%n", host.source(), String.join(" ", host.features()));
            out.println("native libraries:");
            for (NativeLibraries.Status s : NativeLibraries.probe()) {
                out.printf(Locale.ROOT, "  %-9s %-8s %s%n", s.name(), s.loaded() ? "loaded" : "no", s.detail());
            }
            ProfileSelector.Selection sel = ProfileSelector.select(host, Profiles.builtIn());
            out.println("profiles:");
            for (ProfileSelector.Verdict v : sel.verdicts()) {
                out.printf(Locale.ROOT, "  %-20s %-8s %s%n", v.profile().name(), v.qualifies() ? "matches" : "no",
                        v.reason());
            }
            if (sel.picked() == null) {
                out.println("picked: none (" + sel.why() + "); x86-64-generic or arm64-neon are the portable choices");
            } else {
                out.println("picked: " + sel.why());
            }
            BackendOptions.Resolved runtime = BackendOptions.resolve("auto", null);
            out.println("models run on: " + runtime.summary());
            for (String u : runtime.notes()) {
                out.println("  not used: " + u);
            }
            out.flush();
            return Errors.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Check a profile (built-in name or .json file) and print what it sets.")
    static final class Show implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME|FILE")
        String profile;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            DeviceProfile p = Profiles.resolve(profile);
            out.printf(Locale.ROOT, "%s (%s)%n  %s%n", p.name(), p.source(), p.description());
            out.printf(Locale.ROOT, "  arch %s, devices: %s%n", p.arch(), String.join("; ", p.devices()));
            out.printf(Locale.ROOT, "  requires: %s%n", p.requiredFeatures().isEmpty() ? "-"
                    : String.join(" ", p.requiredFeatures()));
            out.printf(Locale.ROOT, "  backends: %s; threads %s; CPU ~%s GMAC/s%n", String.join(" > ", p.backends()),
                    p.threads() == 0 ? "all cores" : String.valueOf(p.threads()), p.cpuGmacs());
            out.printf(Locale.ROOT, "  memory: weights %s, arena %s%n", size(p.memory().weightsBytes()),
                    size(p.memory().arenaBytes()));
            DeviceProfile.Precision q = p.precision();
            out.printf(Locale.ROOT, "  precision: activations %s, weights %s, full-integer %s, int8 scales %s, %s%n",
                    lower(q.activations()), lower(q.weights()), q.fullInteger(), lower(q.weightGranularity()),
                    q.weightSymmetric() ? "symmetric" : "asymmetric allowed");
            for (DeviceProfile.Accelerator a : p.accelerators()) {
                List<String> ops = new ArrayList<>();
                a.ops().forEach((op, d) -> ops.add(op + lower(d)));
                out.printf(Locale.ROOT, "  accelerator %s (%s %s): min %d nodes/partition, dispatch %.0f us, "
                        + "%.0f MB/s, %.1f GMAC/s%s%n    ops: %s%n", a.name(), a.delegate(), a.device(),
                        a.minPartitionNodes(), a.dispatchMicros(), a.transferMBps(), a.gmacs(),
                        a.refuseSlower() ? ", refuses partitions slower than the CPU" : "", String.join(" ", ops));
            }
            out.printf(Locale.ROOT, "  cpu fallback: %s; sparse kernels from %.0f%% zeros, block %s; layout %s%n",
                    p.cpuFallback() ? "allowed" : "not allowed", p.sparsity().minSparsity() * 100,
                    p.sparsity().blockShape(), p.layout());
            out.flush();
            return Errors.OK;
        }

        private static String lower(Object o) {
            return o.toString().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
