package dev.hedge.converter.data;

import java.util.Locale;

/**
 * How images become input tensors: resized to {@code height x width} (bilinear; 0 = the model input's fixed
 * size, else the image's own), pixel values divided by 255, then {@code (v - mean[c]) / std[c]} per channel, laid
 * out NCHW or NHWC with a batch of 1, channels in RGB or BGR order (one channel: luminance).
 */
public record ImageOptions(int height, int width, float[] mean, float[] std, boolean nhwc, boolean bgr) {

    public ImageOptions {
        mean = mean == null || mean.length == 0 ? new float[] {0f} : mean.clone();
        std = std == null || std.length == 0 ? new float[] {1f} : std.clone();
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("--std values must be > 0, got " + s);
            }
        }
        if (height < 0 || width < 0) {
            throw new IllegalArgumentException("image size " + height + "x" + width + " is negative");
        }
    }

    public static ImageOptions defaults() {
        return new ImageOptions(0, 0, null, null, false, false);
    }

    /** "nchw" or "nhwc". */
    public static boolean parseLayout(String s) {
        switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "nchw": return false;
            case "nhwc": return true;
            default: throw new IllegalArgumentException("layout '" + s + "' is not nchw or nhwc");
        }
    }

    /** "rgb" or "bgr": whether BGR. */
    public static boolean parseChannelOrder(String s) {
        switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "rgb": return false;
            case "bgr": return true;
            default: throw new IllegalArgumentException("channel order '" + s + "' is not rgb or bgr");
        }
    }

    float mean(int c) {
        return mean[mean.length == 1 ? 0 : c];
    }

    float std(int c) {
        return std[std.length == 1 ? 0 : c];
    }
}
