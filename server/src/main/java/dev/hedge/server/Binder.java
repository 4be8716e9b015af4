package dev.hedge.server;

import dev.hedge.ir.Dim;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.Half;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a parsed request against the model it was routed to and builds the input tensors. Every mismatch
 * (unknown or missing input, datatype, rank, fixed dimension, element count, value range, unknown output)
 * is a 400 naming the field.
 */
final class Binder {

    private Binder() {
    }

    /** An output to return, and whether as binary data. */
    record OutputSel(String name, boolean binary) {
    }

    /**
     * A request ready to run: inputs in the model's order; {@code rows} is the shared dimension 0 (or -1 when
     * the inputs disagree or a rank is 0); {@code batchKey} identifies requests that may be stacked together.
     */
    record Bound(String id, Map<String, Tensor> inputs, List<OutputSel> outputs, int rows, String batchKey) {
    }

    static Bound bind(LoadedModel m, InferRequest r) {
        List<ValueInfo> declared = m.model().inputs();
        Map<String, InferRequest.Input> byName = new LinkedHashMap<>();
        for (InferRequest.Input in : r.inputs()) {
            if (declared.stream().noneMatch(v -> v.name().equals(in.name()))) {
                throw ApiException.badRequest("inputs[" + in.index() + "].name: model '" + m.name()
                        + "' has no input '" + ModelNames.printable(in.name()) + "'; its inputs are "
                        + names(declared));
            }
            if (byName.put(in.name(), in) != null) {
                throw ApiException.badRequest("inputs[" + in.index() + "].name: input '" + in.name()
                        + "' is given twice");
            }
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        int rows = -2;
        StringBuilder key = new StringBuilder();
        for (ValueInfo v : declared) {
            InferRequest.Input in = byName.get(v.name());
            if (in == null) {
                throw ApiException.badRequest("inputs: model '" + m.name() + "' needs input '" + v.name() + "' ("
                        + describe(v) + "), which the request does not give");
            }
            Tensor t = tensor(v, in);
            tensors.put(v.name(), t);
            int r0 = t.rank() == 0 ? -1 : t.dim(0);
            rows = rows == -2 || rows == r0 ? r0 : -1;
            key.append(t.dtype()).append(Arrays.toString(Arrays.copyOfRange(t.shape(), Math.min(1, t.rank()),
                    t.rank()))).append(';');
        }
        List<OutputSel> outs = outputs(m, r);
        for (OutputSel o : outs) {
            key.append(o.name()).append(o.binary() ? "+b;" : ";");
        }
        return new Bound(r.id(), tensors, outs, rows < 0 ? -1 : rows, key.toString());
    }

    private static List<OutputSel> outputs(LoadedModel m, InferRequest r) {
        List<ValueInfo> declared = m.model().outputs();
        List<OutputSel> out = new ArrayList<>();
        if (r.outputs() == null) {
            for (ValueInfo v : declared) {
                out.add(new OutputSel(v.name(), r.binaryOutput()));
            }
            return out;
        }
        Set<String> seen = new HashSet<>();
        for (InferRequest.Output o : r.outputs()) {
            if (declared.stream().noneMatch(v -> v.name().equals(o.name()))) {
                throw ApiException.badRequest("outputs[" + o.index() + "].name: model '" + m.name()
                        + "' has no output '" + ModelNames.printable(o.name()) + "'; its outputs are "
                        + names(declared));
            }
            if (!seen.add(o.name())) {
                throw ApiException.badRequest("outputs[" + o.index() + "].name: output '" + o.name()
                        + "' is requested twice");
            }
            out.add(new OutputSel(o.name(), o.binary() != null ? o.binary() : r.binaryOutput()));
        }
        return out;
    }

    private static List<String> names(List<ValueInfo> vs) {
        return vs.stream().map(ValueInfo::name).toList();
    }

    static String describe(ValueInfo v) {
        return (v.dtype() == null ? "any datatype" : v.dtype().protocolName()) + " " + shapeString(v);
    }

    static String shapeString(ValueInfo v) {
        if (v.dims() == null) {
            return "[any rank]";
        }
        return v.dims().stream().map(d -> d.isFixed() ? Long.toString(d.value()) : "-1").toList().toString();
    }

    private static Tensor tensor(ValueInfo v, InferRequest.Input in) {
        String at = "inputs[" + in.index() + "] ('" + in.name() + "')";
        DType dt = DType.fromProtocolName(in.datatype());
        if (dt == null) {
            throw ApiException.badRequest(at + ".datatype: '" + ModelNames.printable(in.datatype())
                    + "' is not a datatype Hedge models take; model input '" + v.name() + "' is " + describe(v));
        }
        if (v.dtype() != null && v.dtype() != dt) {
            throw ApiException.badRequest(at + ".datatype: model input '" + v.name() + "' is "
                    + v.dtype().protocolName() + ", got " + in.datatype());
        }
        long[] shape = in.shape();
        List<Dim> dims = v.dims();
        if (dims != null) {
            if (dims.size() != shape.length) {
                throw ApiException.badRequest(at + ".shape: model input '" + v.name() + "' has rank " + dims.size()
                        + " " + shapeString(v) + ", got " + Arrays.toString(shape));
            }
            for (int d = 0; d < shape.length; d++) {
                if (dims.get(d).isFixed() && dims.get(d).value() != shape[d]) {
                    throw ApiException.badRequest(at + ".shape[" + d + "]: model input '" + v.name() + "' is "
                            + shapeString(v) + ", got " + Arrays.toString(shape));
                }
            }
        }
        long count = 1;
        int[] ishape = new int[shape.length];
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] > Integer.MAX_VALUE) {
                throw ApiException.badRequest(at + ".shape[" + d + "]: " + shape[d] + " is too large");
            }
            ishape[d] = (int) shape[d];
            count *= shape[d];
            if (count > Integer.MAX_VALUE) {
                throw ApiException.badRequest(at + ".shape: " + Arrays.toString(shape) + " has too many elements");
            }
        }
        if (in.binary() != null) {
            long need = dt.byteSize(count);
            if (in.binary().length != need) {
                throw ApiException.badRequest(at + ".parameters.binary_data_size: " + dt.protocolName() + " "
                        + Arrays.toString(shape) + " takes " + need + " bytes, got " + in.binary().length);
            }
            if (dt == DType.BOOL) {
                for (int i = 0; i < in.binary().length; i++) {
                    if ((in.binary()[i] & 0xfe) != 0) {
                        throw ApiException.badRequest(at + ": BOOL byte " + i + " is " + (in.binary()[i] & 0xff)
                                + "; BOOL bytes must be 0 or 1");
                    }
                }
            }
            ByteBuffer b = ByteBuffer.allocateDirect(in.binary().length).order(ByteOrder.LITTLE_ENDIAN);
            b.put(0, in.binary());
            return Tensor.wrap(dt, ishape, b);
        }
        NumberList data = in.data();
        if (data.size() != count) {
            throw ApiException.badRequest(at + ".data: shape " + Arrays.toString(shape) + " has " + count
                    + " elements, got " + data.size());
        }
        checkNesting(at, in.nest(), shape);
        Tensor t = Tensor.allocate(dt, ishape);
        for (int i = 0; i < count; i++) {
            put(t, dt, i, data, at);
        }
        return t;
    }

    /** Nested data must follow the shape exactly (flat data only needs the right count). */
    private static void checkNesting(String at, InferRequest.NestInfo nest, long[] shape) {
        if (nest == null || nest.depth() <= 1) {
            return;
        }
        if (nest.depth() != shape.length) {
            throw ApiException.badRequest(at + ".data is nested " + nest.depth() + " deep but shape "
                    + Arrays.toString(shape) + " has rank " + shape.length + " (give the data flat or nested like "
                    + "the shape)");
        }
        for (int d = 0; d < shape.length; d++) {
            if (nest.lengths()[d] != shape[d]) {
                throw ApiException.badRequest(at + ".data: the arrays at depth " + (d + 1) + " must have "
                        + shape[d] + " elements" + (nest.lengths()[d] < 0 ? " each (they differ)"
                        : ", got " + nest.lengths()[d]));
            }
        }
    }

    private static void put(Tensor t, DType dt, int i, NumberList data, String at) {
        byte kind = data.kind(i);
        ByteBuffer b = t.data();
        switch (dt) {
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> {
                if (kind == NumberList.BOOL) {
                    throw ApiException.badRequest(at + ".data[" + i + "]: a boolean for " + dt.protocolName()
                            + " data");
                }
                double v = data.doubleAt(i);
                switch (dt) {
                    case FLOAT32 -> b.putFloat(i * 4, (float) v);
                    case FLOAT64 -> b.putDouble(i * 8, v);
                    case FLOAT16 -> b.putShort(i * 2, Half.fromFloat((float) v));
                    default -> b.putShort(i * 2, Half.floatToBf16((float) v));
                }
            }
            case BOOL -> {
                long v = data.longAt(i);
                if (kind == NumberList.FLOAT || kind == NumberList.BIG || (v != 0 && v != 1)) {
                    throw ApiException.badRequest(at + ".data[" + i + "]: BOOL data must be true/false (or 0/1)");
                }
                b.put(i, (byte) v);
            }
            case UINT64 -> {
                if (kind == NumberList.BIG) {
                    b.putLong(i * 8, data.longAt(i));
                } else {
                    long v = integral(data, i, dt, at);
                    if (v < 0) {
                        throw outOfRange(at, i, Long.toString(v), dt);
                    }
                    b.putLong(i * 8, v);
                }
            }
            default -> {
                long v = integral(data, i, dt, at);
                long lo;
                long hi;
                switch (dt) {
                    case INT8 -> { lo = Byte.MIN_VALUE; hi = Byte.MAX_VALUE; }
                    case UINT8 -> { lo = 0; hi = 0xff; }
                    case INT16 -> { lo = Short.MIN_VALUE; hi = Short.MAX_VALUE; }
                    case UINT16 -> { lo = 0; hi = 0xffff; }
                    case INT32 -> { lo = Integer.MIN_VALUE; hi = Integer.MAX_VALUE; }
                    case UINT32 -> { lo = 0; hi = 0xffffffffL; }
                    case INT4 -> { lo = -8; hi = 7; }
                    case UINT4 -> { lo = 0; hi = 15; }
                    default -> { lo = Long.MIN_VALUE; hi = Long.MAX_VALUE; }
                }
                if (v < lo || v > hi) {
                    throw outOfRange(at, i, Long.toString(v), dt);
                }
                t.setLong(i, v);
            }
        }
    }

    private static long integral(NumberList data, int i, DType dt, String at) {
        byte kind = data.kind(i);
        if (kind == NumberList.INT) {
            return data.longAt(i);
        }
        if (kind == NumberList.BIG) {
            throw outOfRange(at, i, Long.toUnsignedString(data.longAt(i)), dt);
        }
        if (kind == NumberList.BOOL) {
            throw ApiException.badRequest(at + ".data[" + i + "]: a boolean for " + dt.protocolName() + " data");
        }
        double d = data.doubleAt(i);
        if (d != Math.rint(d) || Double.isInfinite(d) || Math.abs(d) >= 0x1p63) {
            throw ApiException.badRequest(at + ".data[" + i + "]: " + d + " is not an integer, as "
                    + dt.protocolName() + " data must be");
        }
        return (long) d;
    }

    private static ApiException outOfRange(String at, int i, String v, DType dt) {
        return ApiException.badRequest(at + ".data[" + i + "]: " + v + " is out of range for " + dt.protocolName());
    }
}
