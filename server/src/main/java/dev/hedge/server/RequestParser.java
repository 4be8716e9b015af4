package dev.hedge.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Parses an Open Inference Protocol request body: the JSON object, optionally followed by binary tensor data
 * (the binary tensor data extension: {@code Inference-Header-Content-Length} gives the JSON's length and each
 * binary input says its size in {@code parameters.binary_data_size}). Streaming, so tensor data is never boxed;
 * every error names the field, e.g. {@code inputs[1].shape[0]}.
 */
final class RequestParser {

    static final int MAX_DATA_DEPTH = 32;
    private static final int MAX_RANK = 32;

    static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(64)
                    .maxNumberLength(400)
                    .maxStringLength(1 << 20)
                    .maxNameLength(4096)
                    .build())
            .build();

    private RequestParser() {
    }

    /**
     * @param body         the whole request body
     * @param headerLength the Inference-Header-Content-Length header, or null
     */
    static InferRequest parse(byte[] body, String headerLength) {
        int jsonLen = body.length;
        if (headerLength != null) {
            long n;
            try {
                n = Long.parseLong(headerLength.trim());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Inference-Header-Content-Length: '" + ModelNames.printable(headerLength)
                        + "' is not a number");
            }
            if (n <= 0 || n > body.length) {
                throw ApiException.badRequest("Inference-Header-Content-Length: " + n + " is outside the body's "
                        + body.length + " bytes");
            }
            jsonLen = (int) n;
        }
        if (jsonLen == 0) {
            throw ApiException.badRequest("request body is empty; expected an inference request JSON object");
        }
        InferRequest r;
        RequestParser parser = new RequestParser();
        try (JsonParser p = JSON.createParser(body, 0, jsonLen)) {
            r = parser.request(p);
            if (p.nextToken() != null) {
                throw ApiException.badRequest("unexpected content after the JSON object"
                        + (headerLength == null ? " (binary tensor data needs the Inference-Header-Content-Length "
                        + "header)" : ""));
            }
        } catch (StreamConstraintsException e) {
            throw ApiException.badRequest("request JSON exceeds a limit: " + e.getOriginalMessage());
        } catch (JsonParseException e) {
            throw ApiException.badRequest("malformed JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("malformed JSON: " + e.getMessage());
        }
        if (!parser.sawInputs) {
            throw ApiException.badRequest("inputs is missing");
        }
        if (parser.raws.isEmpty()) {
            throw ApiException.badRequest("inputs is empty");
        }
        return parser.attachBinary(r, body, jsonLen);
    }

    private record Raw(int index, String name, String datatype, long[] shape, NumberList data,
            InferRequest.NestInfo nest, long binarySize) {
    }

    private final List<Raw> raws = new ArrayList<>();
    private boolean sawInputs;

    private InferRequest request(JsonParser p) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw ApiException.badRequest("the request body must be a JSON object");
        }
        String id = null;
        boolean binaryOutput = false;
        boolean sawInputs = false;
        List<InferRequest.Output> outputs = null;
        Set<String> seen = new HashSet<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            if (!seen.add(f)) {
                throw ApiException.badRequest("field '" + ModelNames.printable(f) + "' is given twice");
            }
            JsonToken t = p.nextToken();
            switch (f) {
                case "id" -> {
                    if (t != JsonToken.VALUE_STRING) {
                        throw ApiException.badRequest("id must be a string");
                    }
                    id = p.getText();
                }
                case "parameters" -> binaryOutput = parameters(p, "parameters", "binary_data_output");
                case "inputs" -> {
                    expect(p, t, JsonToken.START_ARRAY, "inputs", "an array");
                    int i = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        raws.add(input(p, i++));
                    }
                    sawInputs = true;
                }
                case "outputs" -> {
                    expect(p, t, JsonToken.START_ARRAY, "outputs", "an array");
                    outputs = new ArrayList<>();
                    int i = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        outputs.add(output(p, i++));
                    }
                }
                default -> p.skipChildren();
            }
        }
        this.sawInputs = sawInputs;
        return new InferRequest(id, List.of(), outputs, binaryOutput);
    }

    private static void expect(JsonParser p, JsonToken got, JsonToken want, String field, String what) {
        if (got != want) {
            throw ApiException.badRequest(field + " must be " + what + ", got " + describe(got));
        }
    }

    private static String describe(JsonToken t) {
        if (t == null) {
            return "end of input";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    /**
     * Reads a parameters object (values: string, number or boolean) and returns the boolean parameter
     * {@code flag} (false if absent).
     */
    private static boolean parameters(JsonParser p, String field, String flag) throws IOException {
        expect(p, p.currentToken(), JsonToken.START_OBJECT, field, "an object");
        boolean value = false;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                throw ApiException.badRequest(field + "." + ModelNames.printable(k)
                        + " must be a string, number or boolean");
            }
            if (k.equals(flag)) {
                if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                    throw ApiException.badRequest(field + "." + flag + " must be a boolean, got " + describe(t));
                }
                value = t == JsonToken.VALUE_TRUE;
            }
        }
        return value;
    }

    private Raw input(JsonParser p, int index) throws IOException {
        String at = "inputs[" + index + "]";
        expect(p, p.currentToken(), JsonToken.START_OBJECT, at, "an object");
        String name = null;
        String datatype = null;
        long[] shape = null;
        NumberList data = null;
        InferRequest.NestInfo nest = null;
        long binarySize = -1;
        Set<String> seen = new HashSet<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            if (!seen.add(f)) {
                throw ApiException.badRequest(at + "." + ModelNames.printable(f) + " is given twice");
            }
            JsonToken t = p.nextToken();
            switch (f) {
                case "name" -> {
                    expect(p, t, JsonToken.VALUE_STRING, at + ".name", "a string");
                    name = p.getText();
                }
                case "datatype" -> {
                    expect(p, t, JsonToken.VALUE_STRING, at + ".datatype", "a string");
                    datatype = p.getText();
                }
                case "shape" -> shape = shape(p, at + ".shape");
                case "data" -> {
                    data = new NumberList();
                    nest = data(p, at + ".data", data);
                }
                case "parameters" -> binarySize = inputParameters(p, at + ".parameters");
                default -> p.skipChildren();
            }
        }
        if (name == null) {
            throw ApiException.badRequest(at + ".name is missing");
        }
        at = at + " ('" + ModelNames.printable(name) + "')";
        if (datatype == null) {
            throw ApiException.badRequest(at + ": datatype is missing");
        }
        if (shape == null) {
            throw ApiException.badRequest(at + ": shape is missing");
        }
        if (data != null && binarySize >= 0) {
            throw ApiException.badRequest(at + ": give either data or parameters.binary_data_size, not both");
        }
        if (data == null && binarySize < 0) {
            throw ApiException.badRequest(at + ": data is missing (or give parameters.binary_data_size and the "
                    + "bytes after the JSON)");
        }
        return new Raw(index, name, datatype, shape, data, nest, binarySize);
    }

    private static long[] shape(JsonParser p, String at) throws IOException {
        expect(p, p.currentToken(), JsonToken.START_ARRAY, at, "an array of integers");
        long[] dims = new long[4];
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (n == MAX_RANK) {
                throw ApiException.badRequest(at + " has more than " + MAX_RANK + " dimensions");
            }
            String d = at + "[" + n + "]";
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw ApiException.badRequest(d + " must be a non-negative integer, got " + describe(t));
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw ApiException.badRequest(d + " is too large");
            }
            long v = p.getLongValue();
            if (v < 0) {
                throw ApiException.badRequest(d + " must be a non-negative integer, got " + v);
            }
            if (n == dims.length) {
                dims = Arrays.copyOf(dims, n * 2);
            }
            dims[n++] = v;
        }
        return Arrays.copyOf(dims, n);
    }

    private static long inputParameters(JsonParser p, String at) throws IOException {
        expect(p, p.currentToken(), JsonToken.START_OBJECT, at, "an object");
        long size = -1;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                throw ApiException.badRequest(at + "." + ModelNames.printable(k) + " must be a string, number or "
                        + "boolean");
            }
            if (k.equals("binary_data_size")) {
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        || p.getLongValue() < 0) {
                    throw ApiException.badRequest(at + ".binary_data_size must be a non-negative integer");
                }
                size = p.getLongValue();
            }
        }
        return size;
    }

    /** Reads a possibly nested array of scalars, recording how it nests. */
    private static InferRequest.NestInfo data(JsonParser p, String at, NumberList out) throws IOException {
        expect(p, p.currentToken(), JsonToken.START_ARRAY, at, "an array");
        int[] lengths = new int[MAX_DATA_DEPTH];
        Arrays.fill(lengths, -2);
        int[] leafDepth = {-1};
        elements(p, at, out, 0, lengths, leafDepth);
        int depth = Math.max(1, leafDepth[0]);
        return new InferRequest.NestInfo(depth, Arrays.copyOf(lengths, depth));
    }

    /** Reads one array at {@code depth}; returns its length. */
    private static void elements(JsonParser p, String at, NumberList out, int depth, int[] lengths, int[] leafDepth)
            throws IOException {
        if (depth >= MAX_DATA_DEPTH) {
            throw ApiException.badRequest(at + " is nested deeper than " + MAX_DATA_DEPTH);
        }
        int count = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_ARRAY) {
                elements(p, at, out, depth + 1, lengths, leafDepth);
            } else {
                int d = depth + 1;
                if (leafDepth[0] == -1) {
                    leafDepth[0] = d;
                } else if (leafDepth[0] != d) {
                    throw ApiException.badRequest(at + " mixes values and arrays at the same level (element "
                            + out.size() + ")");
                }
                scalar(p, t, at, out);
            }
            count++;
        }
        lengths[depth] = lengths[depth] == -2 || lengths[depth] == count ? count : -1;
    }

    private static void scalar(JsonParser p, JsonToken t, String at, NumberList out) throws IOException {
        switch (t) {
            case VALUE_NUMBER_INT -> {
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    if (!out.addBig(p.getBigIntegerValue())) {
                        throw ApiException.badRequest(at + "[" + out.size() + "]: " + p.getText()
                                + " is out of the 64-bit range");
                    }
                } else {
                    out.addLong(p.getLongValue());
                }
            }
            case VALUE_NUMBER_FLOAT -> out.addDouble(p.getDoubleValue());
            case VALUE_TRUE -> out.addBoolean(true);
            case VALUE_FALSE -> out.addBoolean(false);
            case VALUE_STRING -> throw ApiException.badRequest(at + "[" + out.size() + "] is a string; strings are "
                    + "BYTES data, which Hedge models do not take");
            default -> throw ApiException.badRequest(at + "[" + out.size() + "] must be a number or boolean, got "
                    + describe(t));
        }
    }

    private static InferRequest.Output output(JsonParser p, int index) throws IOException {
        String at = "outputs[" + index + "]";
        expect(p, p.currentToken(), JsonToken.START_OBJECT, at, "an object");
        String name = null;
        Boolean binary = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            if (f.equals("name")) {
                expect(p, t, JsonToken.VALUE_STRING, at + ".name", "a string");
                name = p.getText();
            } else if (f.equals("parameters")) {
                binary = outputParameters(p, at + ".parameters");
            } else {
                p.skipChildren();
            }
        }
        if (name == null) {
            throw ApiException.badRequest(at + ".name is missing");
        }
        return new InferRequest.Output(index, name, binary);
    }

    private static Boolean outputParameters(JsonParser p, String at) throws IOException {
        expect(p, p.currentToken(), JsonToken.START_OBJECT, at, "an object");
        Boolean binary = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                throw ApiException.badRequest(at + "." + ModelNames.printable(k) + " must be a string, number or "
                        + "boolean");
            }
            if (k.equals("binary_data")) {
                if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                    throw ApiException.badRequest(at + ".binary_data must be a boolean, got " + describe(t));
                }
                binary = t == JsonToken.VALUE_TRUE;
            }
        }
        return binary;
    }

    /** Hands each binary input its bytes, in input order; the sizes must add up to the binary part exactly. */
    private InferRequest attachBinary(InferRequest r, byte[] body, int jsonLen) {
        List<InferRequest.Input> inputs = new ArrayList<>(raws.size());
        long offset = jsonLen;
        for (Raw raw : raws) {
            byte[] bin = null;
            if (raw.binarySize >= 0) {
                if (raw.binarySize > body.length - offset) {
                    throw ApiException.badRequest("inputs[" + raw.index + "] ('" + ModelNames.printable(raw.name)
                            + "').parameters.binary_data_size: " + raw.binarySize + " bytes, but only "
                            + (body.length - offset) + " bytes of binary data remain"
                            + (jsonLen == body.length ? " (is the Inference-Header-Content-Length header missing?)"
                            : ""));
                }
                bin = Arrays.copyOfRange(body, (int) offset, (int) (offset + raw.binarySize));
                offset += raw.binarySize;
            }
            inputs.add(new InferRequest.Input(raw.index, raw.name, raw.datatype, raw.shape, raw.data, bin, raw.nest));
        }
        if (offset != body.length) {
            throw ApiException.badRequest((body.length - offset) + " bytes of binary data after the JSON are not "
                    + "claimed by any input's parameters.binary_data_size");
        }
        return new InferRequest(r.id(), inputs, r.outputs(), r.binaryOutput());
    }
}
