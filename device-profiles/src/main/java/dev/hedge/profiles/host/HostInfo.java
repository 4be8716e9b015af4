package dev.hedge.profiles.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The host's CPU: architecture, model, cores and feature flags. On Linux the flags come from
 * {@code /proc/cpuinfo} ({@code flags} on x86, {@code Features} on arm64); elsewhere, or when that file
 * says nothing, only the architecture's baseline is assumed and {@link #source()} says so.
 */
public record HostInfo(String os, String arch, String cpuModel, int cores, Set<String> features, String source) {

    public HostInfo {
        features = Collections.unmodifiableSet(new TreeSet<>(features));
    }

    public static HostInfo detect() {
        String arch = normalizeArch(System.getProperty("os.arch"));
        String os = System.getProperty("os.name");
        int cores = Runtime.getRuntime().availableProcessors();
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            try {
                return parse(Files.readString(cpuinfo), os, arch, cores);
            } catch (IOException e) {
                return baseline(os, arch, cores, "/proc/cpuinfo unreadable (" + e.getMessage() + ")");
            }
        }
        return baseline(os, arch, cores, "no /proc/cpuinfo on " + os);
    }

    /** Features from the text of a /proc/cpuinfo (first processor block). */
    public static HostInfo parse(String cpuinfo, String os, String arch, int cores) {
        Set<String> features = new TreeSet<>();
        String model = null;
        String part = null;
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if ((key.equals("flags") || key.equals("features")) && features.isEmpty()) {
                for (String f : value.split("\\s+")) {
                    if (!f.isEmpty()) {
                        features.add(f.toLowerCase(Locale.ROOT));
                    }
                }
            } else if (key.equals("model name") && model == null) {
                model = value;
            } else if (key.equals("cpu part") && part == null) {
                part = value;
            }
        }
        if (features.isEmpty()) {
            return baseline(os, arch, cores, "/proc/cpuinfo lists no flags");
        }
        String cpu = model != null ? model : part != null ? "Arm CPU part " + part + armCore(part) : "unknown";
        return new HostInfo(os, arch, cpu, cores, features, "/proc/cpuinfo");
    }

    /** What every CPU of the architecture has: SSE2 on x86-64, Advanced SIMD on arm64. */
    static HostInfo baseline(String os, String arch, int cores, String why) {
        Set<String> f = arch.equals("x86_64") ? Set.of("sse2") : arch.equals("aarch64") ? Set.of("asimd") : Set.of();
        return new HostInfo(os, arch, "unknown", cores, f, why + "; assumed the " + arch + " baseline "
                + (f.isEmpty() ? "(no features)" : f));
    }

    public static String normalizeArch(String javaArch) {
        String a = javaArch == null ? "" : javaArch.toLowerCase(Locale.ROOT);
        switch (a) {
            case "amd64": case "x86_64": case "x86-64": return "x86_64";
            case "aarch64": case "arm64": return "aarch64";
            default: return a;
        }
    }

    private static String armCore(String part) {
        switch (part.toLowerCase(Locale.ROOT)) {
            case "0xd03": return " (Cortex-A53)";
            case "0xd04": return " (Cortex-A35)";
            case "0xd05": return " (Cortex-A55)";
            case "0xd07": return " (Cortex-A57)";
            case "0xd08": return " (Cortex-A72)";
            case "0xd09": return " (Cortex-A73)";
            case "0xd0a": return " (Cortex-A75)";
            case "0xd0b": return " (Cortex-A76)";
            case "0xd0c": return " (Neoverse-N1)";
            case "0xd41": return " (Cortex-A78)";
            default: return "";
        }
    }
}
