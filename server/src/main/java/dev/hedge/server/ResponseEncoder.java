package dev.hedge.server;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Writes an inference response: the JSON object, then the bytes of the outputs asked for as binary data
 * (in output order). Runs on the worker, straight from the session's output views, so nothing of the
 * session's arena is read after the session is handed back.
 */
final class ResponseEncoder {

    /** A response body; {@code jsonLength} is the JSON part's size when binary data follows, else -1. */
    record Encoded(byte[] body, int jsonLength) {
    }

    private ResponseEncoder() {
    }

    /**
     * @param rowStart first row of dimension 0 that belongs to this request, or -1 for the whole tensors
     * @param rows     rows of this request (when {@code rowStart >= 0})
     */
    static Encoded encode(LoadedModel m, Binder.Bound req, Map<String, Tensor> outs, int rowStart, int rows) {
        ByteArrayOutputStream json = new ByteArrayOutputStream(256);
        ByteArrayOutputStream bin = null;
        try (JsonGenerator g = RequestParser.JSON.createGenerator(json)) {
            g.writeStartObject();
            g.writeStringField("model_name", m.name());
            g.writeStringField("model_version", m.versionString());
            if (req.id() != null) {
                g.writeStringField("id", req.id());
            }
            g.writeArrayFieldStart("outputs");
            for (Binder.OutputSel sel : req.outputs()) {
                Tensor t = outs.get(sel.name());
                int[] shape = t.shape();
                int from = 0;
                int count = t.elementCount();
                if (rowStart >= 0) {
                    int perRow = shape[0] == 0 ? 0 : count / shape[0];
                    from = rowStart * perRow;
                    count = rows * perRow;
                    shape[0] = rows;
                }
                g.writeStartObject();
                g.writeStringField("name", sel.name());
                g.writeStringField("datatype", t.dtype().protocolName());
                g.writeArrayFieldStart("shape");
                for (int d : shape) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                if (sel.binary()) {
                    int bytes = (int) t.dtype().byteSize(count);
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", bytes);
                    g.writeEndObject();
                    if (bin == null) {
                        bin = new ByteArrayOutputStream(bytes);
                    }
                    writeBytes(t, from, count, bin);
                } else {
                    g.writeArrayFieldStart("data");
                    writeData(g, t, from, count);
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bin == null) {
            return new Encoded(json.toByteArray(), -1);
        }
        int jsonLength = json.size();
        json.write(bin.toByteArray(), 0, bin.size());
        return new Encoded(json.toByteArray(), jsonLength);
    }

    private static void writeBytes(Tensor t, int from, int count, ByteArrayOutputStream out) {
        DType dt = t.dtype();
        if (dt.bits() == 4 && (from & 1) != 0) {
            // A 4-bit slice that starts mid-byte: repack so the first value is the low nibble.
            Tensor copy = Tensor.allocate(dt, count);
            for (int i = 0; i < count; i++) {
                copy.setLong(i, t.getLong(from + i));
            }
            writeBytes(copy, 0, count, out);
            return;
        }
        int start = (int) dt.byteSize(from);
        int len = (int) dt.byteSize(count);
        byte[] tmp = new byte[len];
        ByteBuffer b = t.data();
        b.get(start, tmp, 0, len);
        out.write(tmp, 0, len);
    }

    private static void writeData(JsonGenerator g, Tensor t, int from, int count) throws IOException {
        ByteBuffer b = t.data();
        int end = from + count;
        switch (t.dtype()) {
            case FLOAT32 -> {
                for (int i = from; i < end; i++) {
                    g.writeNumber(b.getFloat(i * 4));
                }
            }
            case FLOAT64 -> {
                for (int i = from; i < end; i++) {
                    g.writeNumber(b.getDouble(i * 8));
                }
            }
            case FLOAT16, BFLOAT16 -> {
                for (int i = from; i < end; i++) {
                    g.writeNumber(t.getFloat(i));
                }
            }
            case BOOL -> {
                for (int i = from; i < end; i++) {
                    g.writeBoolean(b.get(i) != 0);
                }
            }
            case UINT64 -> {
                for (int i = from; i < end; i++) {
                    long v = b.getLong(i * 8);
                    if (v >= 0) {
                        g.writeNumber(v);
                    } else {
                        g.writeNumber(new BigInteger(Long.toUnsignedString(v)));
                    }
                }
            }
            default -> {
                for (int i = from; i < end; i++) {
                    g.writeNumber(t.getLong(i));
                }
            }
        }
    }

    /** {"error": message} */
    static byte[] error(String message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + message.length());
        try (JsonGenerator g = RequestParser.JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
