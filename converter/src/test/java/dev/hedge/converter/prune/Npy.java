package dev.hedge.converter.prune;

import dev.hedge.runtime.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads little-endian, C-order float32 ('<f4') and int64 ('<i8') .npy arrays (test data only). */
public final class Npy {

    private Npy() {
    }

    public static Tensor read(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        int major = b.get(6);
        int headerLen = major == 1 ? b.getShort(8) & 0xffff : b.getInt(8);
        int start = major == 1 ? 10 : 12;
        String header = new String(b.array(), start, headerLen, StandardCharsets.ISO_8859_1);
        Matcher descr = Pattern.compile("'descr':\\s*'([^']+)'").matcher(header);
        Matcher shape = Pattern.compile("'shape':\\s*\\(([^)]*)\\)").matcher(header);
        if (!descr.find() || !shape.find() || header.contains("'fortran_order': True")) {
            throw new IOException(p + ": unsupported .npy header " + header);
        }
        String[] parts = shape.group(1).split(",");
        int n = 0;
        int[] dims = new int[parts.length];
        for (String s : parts) {
            if (!s.isBlank()) {
                dims[n++] = Integer.parseInt(s.strip());
            }
        }
        dims = java.util.Arrays.copyOf(dims, n);
        int count = Tensor.elementCount(dims);
        int at = start + headerLen;
        switch (descr.group(1)) {
            case "<f4": {
                float[] v = new float[count];
                for (int i = 0; i < count; i++) {
                    v[i] = b.getFloat(at + 4 * i);
                }
                return Tensor.of(v, dims);
            }
            case "<i8": {
                long[] v = new long[count];
                for (int i = 0; i < count; i++) {
                    v[i] = b.getLong(at + 8 * i);
                }
                return Tensor.of(v, dims);
            }
            default:
                throw new IOException(p + ": dtype " + descr.group(1) + " not supported");
        }
    }
}
