package dev.hedge.profiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The built-in profiles (JSON resources next to this class) and user profile files. A profile is named
 * either by a built-in name ({@code arm64-neon}) or by the path of a JSON file ({@code ./my-board.json}).
 */
public final class Profiles {

    /** Built-in profile names, in the order {@code hedge profiles} lists them. */
    public static final List<String> BUILT_IN = List.of(
            "x86-64-generic", "x86-64-avx2", "x86-64-avx512-vnni",
            "arm64-neon", "arm64-dotprod",
            "arm-mali-gpu", "arm-ethos-n-npu", "armnn-cpuref",
            "microcontroller");

    private Profiles() {
    }

    /** Every built-in profile, parsed and checked. */
    public static List<DeviceProfile> builtIn() {
        List<DeviceProfile> l = new ArrayList<>();
        for (String n : BUILT_IN) {
            l.add(builtIn(n));
        }
        return l;
    }

    public static DeviceProfile builtIn(String name) {
        String res = name + ".json";
        try (InputStream in = Profiles.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new ProfileException("no built-in profile '" + name + "'");
            }
            DeviceProfile p = ProfileLoader.read(in, "built-in " + res);
            if (!p.name().equals(name)) {
                throw new ProfileException("profile built-in " + res + ": field 'name' is '" + p.name()
                        + "', expected '" + name + "'");
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A built-in profile by name, or a profile file by path (anything containing a path separator or ending
     * in {@code .json}, or an existing file).
     */
    public static DeviceProfile resolve(String nameOrPath) {
        if (BUILT_IN.contains(nameOrPath)) {
            return builtIn(nameOrPath);
        }
        Path p = Path.of(nameOrPath);
        if (nameOrPath.endsWith(".json") || nameOrPath.contains("/") || Files.isRegularFile(p)) {
            if (!Files.isRegularFile(p)) {
                throw new ProfileException("profile file " + nameOrPath + " does not exist");
            }
            return ProfileLoader.read(p);
        }
        throw new ProfileException("no profile '" + nameOrPath + "'; built-in profiles: "
                + String.join(", ", BUILT_IN) + " (or give the path of a profile .json file)");
    }
}
