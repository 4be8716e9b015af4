package dev.hedge.server;

import dev.hedge.converter.quantize.LayerPrecision;
import dev.hedge.profiles.DeviceProfile;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How {@code .onnx} files are converted on load (the on-device compression path).
 *
 * @param profile the device profile models are converted for (its precisions, memory budget and backend order),
 *     or null for none (no checks)
 * @param profileNote where the profile comes from, for the start-up summary and the model metadata
 * @param compress the default for models without a {@code convert.json}: {@code auto} (static int8 when
 *     calibration data sits next to the model and the profile accepts int8, else no compression), {@code none},
 *     or a {@code hedge convert --quantize} mode applied where the profile accepts its weights
 * @param cacheDir where converted models are kept across restarts, keyed by the ONNX file, its options and
 *     data, the profile and the Hedge version; null: no cache
 */
public record ConversionPolicy(DeviceProfile profile, String profileNote, String compress, Path cacheDir) {

    public static final String AUTO = "auto";
    public static final String NONE = "none";

    public ConversionPolicy {
        compress = compress == null ? AUTO : compress.trim().toLowerCase(Locale.ROOT);
        if (!compress.equals(AUTO) && !compress.equals(NONE)) {
            try {
                LayerPrecision.parse(compress, 4);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--compress " + compress + ": expected auto, none, int8-dynamic, "
                        + "int8, int8-weight, fp16, int4 or codebook[:2..8]");
            }
        }
        profileNote = profileNote == null ? profile == null ? "no device profile" : profile.name() : profileNote;
    }

    /** No profile, {@code auto} compression, no cache: what {@link ServerOptions#defaults()} uses. */
    public static ConversionPolicy defaults() {
        return new ConversionPolicy(null, null, AUTO, null);
    }

    public ConversionPolicy withProfile(DeviceProfile p, String note) {
        return new ConversionPolicy(p, note, compress, cacheDir);
    }

    public ConversionPolicy withCompress(String c) {
        return new ConversionPolicy(profile, profileNote, c, cacheDir);
    }

    public ConversionPolicy withCacheDir(Path d) {
        return new ConversionPolicy(profile, profileNote, compress, d);
    }
}
