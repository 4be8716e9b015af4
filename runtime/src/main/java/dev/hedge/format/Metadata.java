package dev.hedge.format;

import dev.hedge.runtime.ModelFormatException;
import dev.hedge.schema.fb.KeyValue;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/** Metadata values, stored deflated when that saves space (long JSON such as the compression report). */
final class Metadata {

    /** Values shorter than this stay plain strings: deflate would not pay for its header. */
    static final int DEFLATE_FROM = 256;
    /** An inflated value may not exceed this, nor 1000x its deflated size (no decompression bombs). */
    static final int MAX_INFLATED = 16 << 20;

    private Metadata() {
    }

    /** The deflated UTF-8 of {@code value}, or null when storing it plain is as small. */
    static byte[] deflate(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        if (utf8.length < DEFLATE_FROM) {
            return null;
        }
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION);
        try {
            d.setInput(utf8);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(utf8.length / 2);
            byte[] chunk = new byte[4096];
            while (!d.finished()) {
                out.write(chunk, 0, d.deflate(chunk));
            }
            return out.size() < utf8.length ? out.toByteArray() : null;
        } finally {
            d.end();
        }
    }

    /** The value of an entry, inflating it when stored deflated; malformed data is a ModelFormatException. */
    static String value(KeyValue kv) {
        int n = kv.deflatedValueLength();
        if (n == 0) {
            return kv.value();
        }
        String where = "metadata '" + kv.key() + "'";
        if (kv.value() != null) {
            throw new ModelFormatException(where + " has both a plain and a deflated value");
        }
        ByteBuffer in = kv.deflatedValueAsByteBuffer();
        byte[] packed = new byte[in.remaining()];
        in.get(packed);
        long limit = Math.min(MAX_INFLATED, 1000L * packed.length);
        Inflater inf = new Inflater();
        try {
            inf.setInput(packed);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[4096];
            while (!inf.finished()) {
                int r = inf.inflate(chunk);
                if (r == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new ModelFormatException(where + ": deflated value is truncated or malformed");
                }
                out.write(chunk, 0, r);
                if (out.size() > limit) {
                    throw new ModelFormatException(where + ": deflated value inflates past " + limit + " bytes");
                }
            }
            if (inf.getRemaining() > 0) {
                throw new ModelFormatException(where + ": " + inf.getRemaining() + " bytes after the deflated value");
            }
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (DataFormatException e) {
            throw new ModelFormatException(where + ": deflated value is malformed (" + e.getMessage() + ")");
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(where + ": deflated value is not UTF-8");
        } finally {
            inf.end();
        }
    }
}
