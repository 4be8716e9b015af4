package dev.hedge.profiles.host;

import dev.hedge.profiles.DeviceProfile;
import dev.hedge.profiles.armnn.ArmNn;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Picks the profile for this host. A profile qualifies when its architecture is the host's and the host has
 * every feature it requires; a profile with accelerators also needs each of them present (Arm NN loaded with
 * that device), and profiles whose only accelerator is Arm NN's reference backend are for validation and
 * never picked. Among those that qualify, one with an accelerator wins, then the one requiring the most
 * features (the most specific), then the first in list order.
 */
public final class ProfileSelector {

    /** One profile's verdict. */
    public record Verdict(DeviceProfile profile, boolean qualifies, String reason) {
    }

    /** The pick (null when nothing qualifies) and every profile's verdict, in list order. */
    public record Selection(DeviceProfile picked, String why, List<Verdict> verdicts) {
    }

    /** Whether an accelerator device is present; {@link ArmNn#deviceUnavailableReason} in production. */
    @FunctionalInterface
    public interface Devices {
        String unavailableReason(String device);
    }

    private static volatile Selection host;

    private ProfileSelector() {
    }

    /**
     * This host's pick among the built-in profiles, detected once per process. Detection is a convenience:
     * when it fails the selection is empty and says why, and callers fall back to the runtime's own order.
     */
    public static Selection host() {
        Selection s = host;
        if (s == null) {
            try {
                s = select(HostInfo.detect(), dev.hedge.profiles.Profiles.builtIn());
            } catch (RuntimeException | LinkageError e) {
                s = new Selection(null, "host detection failed: " + e, List.of());
            }
            host = s;
        }
        return s;
    }

    /** Whether {@code p} is this host's pick: the kernel costs measured here apply to it. */
    public static boolean isHost(DeviceProfile p) {
        DeviceProfile picked = host().picked();
        return p != null && picked != null && picked.name().equals(p.name());
    }

    public static Selection select(HostInfo host, List<DeviceProfile> profiles) {
        return select(host, profiles, ArmNn::deviceUnavailableReason);
    }

    public static Selection select(HostInfo host, List<DeviceProfile> profiles, Devices devices) {
        List<Verdict> verdicts = new ArrayList<>();
        for (DeviceProfile p : profiles) {
            verdicts.add(judge(host, p, devices));
        }
        Verdict best = null;
        for (Verdict v : verdicts) {
            if (v.qualifies() && (best == null || better(v.profile(), best.profile()))) {
                best = v;
            }
        }
        if (best == null) {
            return new Selection(null, "no profile matches this " + host.arch() + " host", verdicts);
        }
        List<String> others = new ArrayList<>();
        for (Verdict v : verdicts) {
            if (v.qualifies() && v != best) {
                int k = v.profile().requiredFeatures().size();
                others.add(v.profile().name() + " (" + k + (k == 1 ? " feature" : " features")
                        + (v.profile().accelerators().isEmpty() ? "" : ", accelerators") + ")");
            }
        }
        DeviceProfile b = best.profile();
        String why = String.format(Locale.ROOT, "%s: the host has all %d features it requires%s%s", b.name(),
                b.requiredFeatures().size(), b.requiredFeatures().isEmpty() ? "" : " (" + String.join(" ",
                        b.requiredFeatures()) + ")",
                others.isEmpty() ? "; no other profile matches"
                        : "; it is more specific than the other matching profiles: " + String.join(", ", others));
        return new Selection(b, why, verdicts);
    }

    private static boolean better(DeviceProfile a, DeviceProfile b) {
        boolean accA = !a.accelerators().isEmpty();
        boolean accB = !b.accelerators().isEmpty();
        if (accA != accB) {
            return accA;
        }
        return a.requiredFeatures().size() > b.requiredFeatures().size();
    }

    static Verdict judge(HostInfo host, DeviceProfile p, Devices devices) {
        if (!p.arch().equals("any") && !p.arch().equals(host.arch())) {
            return new Verdict(p, false, "for " + p.arch() + ", the host is " + host.arch());
        }
        List<String> missing = new ArrayList<>();
        for (String f : p.requiredFeatures()) {
            if (!host.features().contains(f)) {
                missing.add(f);
            }
        }
        if (!missing.isEmpty()) {
            return new Verdict(p, false, "the host lacks " + String.join(", ", missing));
        }
        if (!p.accelerators().isEmpty()) {
            if (p.accelerators().stream().allMatch(a -> a.device().equals("CpuRef"))) {
                return new Verdict(p, false, "Arm NN's reference backend: for validating the Arm NN path, never "
                        + "picked (select it with --profile)");
            }
            for (DeviceProfile.Accelerator a : p.accelerators()) {
                String why = devices.unavailableReason(a.device());
                if (why != null) {
                    return new Verdict(p, false, a.name() + ": " + why);
                }
            }
            return new Verdict(p, true, "every required feature and accelerator is present");
        }
        int k = p.requiredFeatures().size();
        return new Verdict(p, true, k == 0 ? "no features required" : k == 1 ? "its required feature is present"
                : "all " + k + " required features present");
    }
}
