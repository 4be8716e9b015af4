package dev.hedge.converter.onnx;

import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.ModelFormatException;
import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Conversions between ONNX {@code TensorProto} and {@link Tensor}. */
public final class TensorProtos {

    private TensorProtos() {
    }

    /** Reads a serialized TensorProto (.pb file, as in the ONNX test data). */
    public static TensorProto readProto(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return TensorProto.parseFrom(in);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new ModelFormatException(file + " is not an ONNX TensorProto: " + e.getMessage(), e);
        }
    }

    /** Reads a .pb file into a tensor (no external data). */
    public static Tensor read(Path file) throws IOException {
        return toTensor(readProto(file), null);
    }

    /**
     * Converts a TensorProto. {@code baseDir} resolves external data (null forbids it). Every size is
     * checked against the declared shape before copying.
     */
    public static Tensor toTensor(TensorProto p, Path baseDir) throws IOException {
        String what = "tensor '" + p.getName() + "'";
        if (p.hasSegment()) {
            throw new UnsupportedModelException(what + " is stored in segments, which Hedge does not import");
        }
        DType dt = DType.fromOnnx(p.getDataType());
        if (dt == null) {
            throw new UnsupportedModelException(what + " has ONNX data type " + onnxTypeName(p.getDataType())
                    + ", which Hedge does not support");
        }
        int[] shape = new int[p.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            long d = p.getDims(i);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new ModelFormatException(what + " has invalid dimension " + d);
            }
            shape[i] = (int) d;
        }
        long n;
        try {
            n = Tensor.elementCount(shape);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(what + ": " + e.getMessage());
        }
        long bytes = dt.byteSize(n);
        if (bytes > Integer.MAX_VALUE) {
            throw new UnsupportedModelException(what + " needs " + bytes
                    + " bytes; Hedge tensors are limited to 2 GiB");
        }
        if (p.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return external(p, dt, shape, bytes, baseDir);
        }
        Tensor t = Tensor.allocate(dt, shape);
        if (!p.getRawData().isEmpty() || n == 0) {
            ByteString raw = p.getRawData();
            if (raw.size() != bytes) {
                throw new ModelFormatException(what + " has " + raw.size() + " bytes of raw data, its shape needs "
                        + bytes);
            }
            raw.copyTo(t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN));
            return t;
        }
        int count;
        switch (dt) {
            case FLOAT32:
                count = p.getFloatDataCount();
                check(what, count, n, dt);
                for (int i = 0; i < n; i++) {
                    t.data().putFloat(i * 4, p.getFloatData(i));
                }
                break;
            case FLOAT64:
                count = p.getDoubleDataCount();
                check(what, count, n, dt);
                for (int i = 0; i < n; i++) {
                    t.data().putDouble(i * 8, p.getDoubleData(i));
                }
                break;
            case INT64:
                count = p.getInt64DataCount();
                check(what, count, n, dt);
                for (int i = 0; i < n; i++) {
                    t.data().putLong(i * 8, p.getInt64Data(i));
                }
                break;
            case UINT32:
            case UINT64:
                count = p.getUint64DataCount();
                check(what, count, n, dt);
                for (int i = 0; i < n; i++) {
                    t.setLong(i, p.getUint64Data(i));
                }
                break;
            case FLOAT16:
            case BFLOAT16:
                count = p.getInt32DataCount();
                check(what, count, n, dt);
                for (int i = 0; i < n; i++) {
                    t.data().putShort(i * 2, (short) p.getInt32Data(i));
                }
                break;
            case INT4:
            case UINT4:
                // packed two per int32 entry, like raw data
                count = p.getInt32DataCount();
                check(what, count, (n + 1) / 2, dt);
                for (int i = 0; i < count; i++) {
                    t.data().put(i, (byte) p.getInt32Data(i));
                }
                break;
            default:
                count = p.getInt32DataCount();
                check(what, count, n, dt);
                for (int i = 0; i < n; i++) {
                    t.setLong(i, p.getInt32Data(i));
                }
        }
        return t;
    }

    /**
     * Densifies a SparseTensorProto (a sparse initializer or a Constant's sparse_value): values
     * {@code [NNZ]} with indices either linear {@code [NNZ]} or coordinates {@code [NNZ, rank]}.
     */
    public static Tensor toDense(SparseTensorProto sp, Path baseDir) throws IOException {
        String what = "sparse tensor '" + sp.getValues().getName() + "'";
        Tensor values = toTensor(sp.getValues(), baseDir);
        Tensor indices = toTensor(sp.getIndices(), baseDir);
        int[] shape = new int[sp.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            long d = sp.getDims(i);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new ModelFormatException(what + " has invalid dimension " + d);
            }
            shape[i] = (int) d;
        }
        Tensor dense;
        try {
            dense = Tensor.allocate(values.dtype(), shape);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(what + ": " + e.getMessage());
        }
        int nnz = values.elementCount();
        if (values.rank() != 1 || indices.dtype() != DType.INT64) {
            throw new ModelFormatException(what + " needs 1-D values and INT64 indices, got " + values + " and "
                    + indices);
        }
        boolean linear = indices.rank() == 1;
        if (!(linear && indices.dim(0) == nnz)
                && !(indices.rank() == 2 && indices.dim(0) == nnz && indices.dim(1) == shape.length)) {
            throw new ModelFormatException(what + " has indices " + Arrays.toString(indices.shape()) + " for " + nnz
                    + " values of a rank-" + shape.length + " tensor");
        }
        long total = dense.elementCount();
        for (int k = 0; k < nnz; k++) {
            long at;
            if (linear) {
                at = indices.getLong(k);
            } else {
                at = 0;
                for (int d = 0; d < shape.length; d++) {
                    long c = indices.getLong(k * shape.length + d);
                    if (c < 0 || c >= shape[d]) {
                        throw new ModelFormatException(what + " index " + c + " is out of range for dimension " + d
                                + " of size " + shape[d]);
                    }
                    at = at * shape[d] + c;
                }
            }
            if (at < 0 || at >= total) {
                throw new ModelFormatException(what + " index " + at + " is out of range for " + total + " elements");
            }
            if (values.dtype().isFloat()) {
                dense.setDouble((int) at, values.getDouble(k));
            } else {
                dense.setLong((int) at, values.getLong(k));
            }
        }
        return dense;
    }

    private static void check(String what, long count, long n, DType dt) {
        if (count != n) {
            throw new ModelFormatException(what + " holds " + count + " " + dt + " values, its shape needs " + n);
        }
    }

    private static Tensor external(TensorProto p, DType dt, int[] shape, long bytes, Path baseDir)
            throws IOException {
        String what = "tensor '" + p.getName() + "'";
        if (baseDir == null) {
            throw new ModelFormatException(what + " uses external data, which is not allowed here");
        }
        String location = null;
        long offset = 0;
        long length = -1;
        for (var e : p.getExternalDataList()) {
            switch (e.getKey()) {
                case "location": location = e.getValue(); break;
                case "offset": offset = parseLong(what, "offset", e.getValue()); break;
                case "length": length = parseLong(what, "length", e.getValue()); break;
                default: break;
            }
        }
        if (location == null) {
            throw new ModelFormatException(what + " has external data without a location");
        }
        Path base = baseDir.toAbsolutePath().normalize();
        Path file = base.resolve(location).normalize();
        if (!file.startsWith(base)) {
            throw new ModelFormatException(what + " external data '" + location
                    + "' points outside the model's folder");
        }
        if (length >= 0 && length != bytes) {
            throw new ModelFormatException(what + " external data length " + length + " differs from its shape's "
                    + bytes + " bytes");
        }
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(what + " external data file " + file + " does not exist");
        }
        if (!file.toRealPath().startsWith(base.toRealPath())) {
            throw new ModelFormatException(what + " external data '" + location + "' links outside the model's folder");
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r"); FileChannel ch = raf.getChannel()) {
            if (offset < 0 || offset + bytes > ch.size()) {
                throw new ModelFormatException(what + " external data [" + offset + ", " + (offset + bytes)
                        + ") lies outside " + file + " (" + ch.size() + " bytes)");
            }
            Tensor t = Tensor.allocate(dt, shape);
            ByteBuffer dst = t.data().duplicate();
            while (dst.hasRemaining()) {
                int r = ch.read(dst, offset + dst.position());
                if (r < 0) {
                    throw new ModelFormatException(what + " external data ends early in " + file);
                }
            }
            return t;
        }
    }

    private static long parseLong(String what, String key, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new ModelFormatException(what + " external data " + key + " '" + v + "' is not a number");
        }
    }

    /** A TensorProto with raw little-endian data. */
    public static TensorProto toProto(String name, Tensor t) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(t.dtype().onnxCode());
        for (int d : t.shape()) {
            b.addDims(d);
        }
        ByteBuffer src = t.data().duplicate().position(0).limit(t.byteSize());
        b.setRawData(ByteString.copyFrom(src));
        return b.build();
    }

    private static final String[] ONNX_TYPE_NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16",
        "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128",
        "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
        "FLOAT8E8M0", "UINT2", "INT2"};

    /** The code of an ONNX data type name ("FLOAT" is 1; case ignored), or -1. */
    static int onnxTypeCode(String name) {
        for (int i = 1; i < ONNX_TYPE_NAMES.length; i++) {
            if (ONNX_TYPE_NAMES[i].equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    /** "FLOAT8E4M3FN (17)": the ONNX name of a data type code, for messages. */
    static String onnxTypeName(int code) {
        return (code >= 0 && code < ONNX_TYPE_NAMES.length ? ONNX_TYPE_NAMES[code] : "unknown") + " (" + code + ")";
    }
}
