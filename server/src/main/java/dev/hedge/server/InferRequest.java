package dev.hedge.server;

import java.util.List;

/**
 * An inference request as parsed from the body, before it is checked against a model.
 *
 * @param id           the request's "id", echoed in the response (null if absent)
 * @param inputs       the inputs in request order
 * @param outputs      the requested outputs, or null for all of them
 * @param binaryOutput the request-level "binary_data_output" parameter
 */
record InferRequest(String id, List<Input> inputs, List<Output> outputs, boolean binaryOutput) {

    /**
     * One input: its JSON data ({@code data}) or its bytes from the binary part ({@code binary}); exactly one
     * is set. {@code index} is its position in "inputs", used to name fields in errors.
     */
    record Input(int index, String name, String datatype, long[] shape, NumberList data, byte[] binary,
            NestInfo nest) {
    }

    /** A requested output; {@code binary} is the output's "binary_data" parameter or null if not given. */
    record Output(int index, String name, Boolean binary) {
    }

    /**
     * How a nested {@code data} array was shaped: its depth and, per depth, the common length of the arrays
     * there (-1 when they differ).
     */
    record NestInfo(int depth, int[] lengths) {
    }
}
