package dev.hedge.converter.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where calibration or evaluation data comes from, as given on the command line.
 *
 * @param sources {@code PATH} (the model's only input, or for a directory of per-sample subdirectories every
 *     input by name) or {@code INPUT=PATH}, where INPUT is one of the model's inputs
 * @param constants inputs given one value for every sample ({@code sr=16000}; comma-separated values fill the
 *     input's shape)
 * @param carry input fed from an output of the previous sample ({@code state=stateN}); it starts from its constant,
 *     or zeros
 * @param labels a .npy of integer labels, one per sample, or null
 * @param limit keep at most this many samples (after shuffling), or 0 for all
 * @param seed shuffle the samples with this seed, or null to keep file order
 */
public record DataSpec(List<String> sources, Map<String, String> constants, Map<String, String> carry, Path labels,
        int limit, Long seed, ImageOptions image) {

    public DataSpec {
        sources = List.copyOf(sources);
        constants = new LinkedHashMap<>(constants);
        carry = new LinkedHashMap<>(carry);
        image = image == null ? ImageOptions.defaults() : image;
        if (limit < 0) {
            throw new IllegalArgumentException("sample limit " + limit + " is negative");
        }
    }

    /** Parses {@code NAME=VALUE} arguments. */
    public static Map<String, String> parsePairs(List<String> args, String what) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0 || eq == a.length() - 1) {
                throw new IllegalArgumentException(what + " '" + a + "' is not NAME=VALUE");
            }
            m.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return m;
    }
}
