package dev.hedge.runtime;

import dev.hedge.ir.Codebook;
import dev.hedge.ir.Sparse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;

/**
 * A dense n-d array: dtype, shape and a little-endian buffer (direct for everything the runtime
 * allocates, so native kernels can use it without copying).
 *
 * <p>The buffer is shared, not copied: views made by the runtime alias its memory arena, and constants
 * alias the memory-mapped model file. Always use absolute gets and puts; never move the position.
 *
 * <p>A constant may be stored <em>encoded</em> ({@link #sparse()} or {@link #codebook()} set): its buffer
 * then holds the encoded payload, not dense values. The runtime decodes encoded constants for kernels
 * that do not consume the encoding, so kernels only ever see dense tensors unless they ask otherwise.
 */
public final class Tensor {

    private final DType dtype;
    private final int[] shape;
    private final int elements;
    private final ByteBuffer data;
    private final QuantParams quant;
    private final Sparse sparse;
    private final Codebook codebook;
    private FloatBuffer floatView;
    private IntBuffer intView;
    private LongBuffer longView;

    private Tensor(DType dtype, int[] shape, ByteBuffer data, QuantParams quant, Sparse sparse, Codebook codebook) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.elements = elementCount(this.shape);
        this.data = data.order(ByteOrder.LITTLE_ENDIAN);
        this.quant = quant;
        this.sparse = sparse;
        this.codebook = codebook;
        if (sparse == null && codebook == null && data.capacity() < dtype.byteSize(elements)) {
            throw new IllegalArgumentException("buffer of " + data.capacity() + " bytes is too small for " + dtype
                    + Arrays.toString(shape) + " (" + dtype.byteSize(elements) + " bytes)");
        }
    }

    /** Number of elements of a shape; throws when a dimension is negative or the product exceeds 2^31-1. */
    public static int elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31-1 elements");
            }
        }
        return (int) n;
    }

    /** A zero-filled tensor on a new direct buffer. */
    public static Tensor allocate(DType dtype, int... shape) {
        int n = elementCount(shape);
        return new Tensor(dtype, shape, ByteBuffer.allocateDirect((int) dtype.byteSize(n)), null, null, null);
    }

    /**
     * A tensor over {@code data} from its position 0 (no copy). The buffer must hold at least the
     * tensor's bytes; it is sliced to exactly that size.
     */
    public static Tensor wrap(DType dtype, int[] shape, ByteBuffer data) {
        return wrap(dtype, shape, data, null);
    }

    public static Tensor wrap(DType dtype, int[] shape, ByteBuffer data, QuantParams quant) {
        int n = elementCount(shape);
        int bytes = (int) dtype.byteSize(n);
        if (data.capacity() < bytes) {
            throw new IllegalArgumentException("buffer of " + data.capacity() + " bytes is too small for " + dtype
                    + Arrays.toString(shape) + " (" + bytes + " bytes)");
        }
        return new Tensor(dtype, shape, data.duplicate().position(0).limit(bytes).slice(), quant, null, null);
    }

    /** A constant stored in an encoded form; {@code payload} is the encoded values. */
    public static Tensor encoded(DType dtype, int[] shape, ByteBuffer payload, QuantParams quant, Sparse sparse,
            Codebook codebook) {
        if (sparse == null && codebook == null) {
            return wrap(dtype, shape, payload, quant);
        }
        return new Tensor(dtype, shape, payload.duplicate().position(0).slice(), quant, sparse, codebook);
    }

    /** A view of {@code bytes} bytes of {@code arena} at {@code offset}. */
    public static Tensor view(DType dtype, int[] shape, ByteBuffer arena, int offset) {
        int bytes = (int) dtype.byteSize(elementCount(shape));
        ByteBuffer b = arena.duplicate().position(offset).limit(offset + bytes).slice();
        return new Tensor(dtype, shape, b, null, null, null);
    }

    public static Tensor of(float[] values, int... shape) {
        Tensor t = allocate(DType.FLOAT32, checkLength(values.length, shape));
        t.floats().put(0, values);
        return t;
    }

    public static Tensor of(double[] values, int... shape) {
        Tensor t = allocate(DType.FLOAT64, checkLength(values.length, shape));
        t.data.asDoubleBuffer().put(0, values);
        return t;
    }

    public static Tensor of(int[] values, int... shape) {
        Tensor t = allocate(DType.INT32, checkLength(values.length, shape));
        t.ints().put(0, values);
        return t;
    }

    public static Tensor of(long[] values, int... shape) {
        Tensor t = allocate(DType.INT64, checkLength(values.length, shape));
        t.longs().put(0, values);
        return t;
    }

    public static Tensor of(boolean[] values, int... shape) {
        Tensor t = allocate(DType.BOOL, checkLength(values.length, shape));
        for (int i = 0; i < values.length; i++) {
            t.data.put(i, (byte) (values[i] ? 1 : 0));
        }
        return t;
    }

    /** A tensor of 8-bit values ({@link DType#INT8}, {@link DType#UINT8} or {@link DType#BOOL}). */
    public static Tensor ofBytes(DType dtype, byte[] values, int... shape) {
        if (dtype.bits() != 8) {
            throw new IllegalArgumentException(dtype + " is not an 8-bit type");
        }
        Tensor t = allocate(dtype, checkLength(values.length, shape));
        t.data.put(0, values);
        return t;
    }

    public static Tensor scalar(float v) {
        return of(new float[] {v});
    }

    public static Tensor scalar(long v) {
        return of(new long[] {v});
    }

    private static int[] checkLength(int length, int[] shape) {
        int[] s = shape.length == 0 && length != 1 ? new int[] {length} : shape;
        if (elementCount(s) != length) {
            throw new IllegalArgumentException(length + " values do not fill shape " + Arrays.toString(s));
        }
        return s;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis < 0 ? axis + shape.length : axis];
    }

    public int elementCount() {
        return elements;
    }

    /** Size in bytes of the dense data (for encoded constants: of the encoded payload). */
    public int byteSize() {
        return isEncoded() ? data.capacity() : (int) dtype.byteSize(elements);
    }

    /** The backing buffer, little-endian, position 0. Use absolute access only. */
    public ByteBuffer data() {
        return data;
    }

    public QuantParams quant() {
        return quant;
    }

    public Sparse sparse() {
        return sparse;
    }

    public Codebook codebook() {
        return codebook;
    }

    public boolean isEncoded() {
        return sparse != null || codebook != null;
    }

    /** The same data with quantization parameters attached. */
    public Tensor withQuant(QuantParams q) {
        return new Tensor(dtype, shape, data, q, sparse, codebook);
    }

    /** The same data seen with another shape of equal element count. */
    public Tensor reshape(int... newShape) {
        if (elementCount(newShape) != elements) {
            throw new IllegalArgumentException(
                    "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return new Tensor(dtype, newShape, data, quant, sparse, codebook);
    }

    private void requireDense(DType expected) {
        if (isEncoded()) {
            throw new IllegalStateException("tensor is stored encoded; decode it first");
        }
        if (expected != null && dtype != expected) {
            throw new IllegalStateException("tensor is " + dtype + ", not " + expected);
        }
    }

    /** FLOAT32 view (cached). */
    public FloatBuffer floats() {
        requireDense(DType.FLOAT32);
        FloatBuffer v = floatView;
        if (v == null) {
            v = data.asFloatBuffer();
            floatView = v;
        }
        return v;
    }

    /** INT32 view (cached). */
    public IntBuffer ints() {
        requireDense(DType.INT32);
        IntBuffer v = intView;
        if (v == null) {
            v = data.asIntBuffer();
            intView = v;
        }
        return v;
    }

    /** INT64 view (cached). */
    public LongBuffer longs() {
        requireDense(DType.INT64);
        LongBuffer v = longView;
        if (v == null) {
            v = data.asLongBuffer();
            longView = v;
        }
        return v;
    }

    public DoubleBuffer doubles() {
        requireDense(DType.FLOAT64);
        return data.asDoubleBuffer();
    }

    public ShortBuffer shorts() {
        requireDense(null);
        return data.asShortBuffer();
    }

    /** Element {@code i} converted to double, for any dense dtype. */
    public double getDouble(int i) {
        switch (dtype) {
            case FLOAT32: return data.getFloat(i * 4);
            case FLOAT64: return data.getDouble(i * 8);
            case FLOAT16: return Half.toFloat(data.getShort(i * 2));
            case BFLOAT16: return Half.bf16ToFloat(data.getShort(i * 2));
            case UINT64: {
                long v = data.getLong(i * 8);
                return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
            }
            default: return getLong(i);
        }
    }

    /** Element {@code i} as long (floats truncated toward zero), for any dense dtype. */
    public long getLong(int i) {
        switch (dtype) {
            case INT8: return data.get(i);
            case UINT8: return data.get(i) & 0xff;
            case BOOL: return data.get(i) != 0 ? 1 : 0;
            case INT16: return data.getShort(i * 2);
            case UINT16: return data.getShort(i * 2) & 0xffff;
            case INT32: return data.getInt(i * 4);
            case UINT32: return data.getInt(i * 4) & 0xffffffffL;
            case INT64: case UINT64: return data.getLong(i * 8);
            case INT4: {
                int b = data.get(i >> 1);
                int nib = (i & 1) == 0 ? b & 0xf : (b >> 4) & 0xf;
                return (nib ^ 8) - 8;
            }
            case UINT4: {
                int b = data.get(i >> 1);
                return (i & 1) == 0 ? b & 0xf : (b >> 4) & 0xf;
            }
            default: return (long) getDouble(i);
        }
    }

    public float getFloat(int i) {
        return dtype == DType.FLOAT32 ? data.getFloat(i * 4) : (float) getDouble(i);
    }

    /** Stores {@code v} converted to this dtype (floats rounded to nearest for float types, truncated for ints). */
    public void setDouble(int i, double v) {
        switch (dtype) {
            case FLOAT32: data.putFloat(i * 4, (float) v); break;
            case FLOAT64: data.putDouble(i * 8, v); break;
            case FLOAT16: data.putShort(i * 2, Half.fromFloat((float) v)); break;
            case BFLOAT16: data.putShort(i * 2, Half.floatToBf16((float) v)); break;
            case BOOL: data.put(i, (byte) (v != 0 ? 1 : 0)); break;
            default: setLong(i, (long) v);
        }
    }

    /** Stores {@code v} converted to this dtype (wrapping like a C cast for narrower integer types). */
    public void setLong(int i, long v) {
        switch (dtype) {
            case INT8: case UINT8: data.put(i, (byte) v); break;
            case BOOL: data.put(i, (byte) (v != 0 ? 1 : 0)); break;
            case INT16: case UINT16: data.putShort(i * 2, (short) v); break;
            case INT32: case UINT32: data.putInt(i * 4, (int) v); break;
            case INT64: case UINT64: data.putLong(i * 8, v); break;
            case INT4: case UINT4: {
                int b = data.get(i >> 1);
                int nib = (int) v & 0xf;
                b = (i & 1) == 0 ? (b & 0xf0) | nib : (b & 0x0f) | (nib << 4);
                data.put(i >> 1, (byte) b);
                break;
            }
            default: setDouble(i, v);
        }
    }

    public void setFloat(int i, float v) {
        if (dtype == DType.FLOAT32) {
            data.putFloat(i * 4, v);
        } else {
            setDouble(i, v);
        }
    }

    public float[] toFloatArray() {
        float[] out = new float[elements];
        if (dtype == DType.FLOAT32 && !isEncoded()) {
            floats().get(0, out);
        } else {
            requireDense(null);
            for (int i = 0; i < elements; i++) {
                out[i] = (float) getDouble(i);
            }
        }
        return out;
    }

    public double[] toDoubleArray() {
        requireDense(null);
        double[] out = new double[elements];
        for (int i = 0; i < elements; i++) {
            out[i] = getDouble(i);
        }
        return out;
    }

    public long[] toLongArray() {
        requireDense(null);
        long[] out = new long[elements];
        for (int i = 0; i < elements; i++) {
            out[i] = getLong(i);
        }
        return out;
    }

    public int[] toIntArray() {
        requireDense(null);
        int[] out = new int[elements];
        for (int i = 0; i < elements; i++) {
            out[i] = Math.toIntExact(getLong(i));
        }
        return out;
    }

    /** A deep copy on a new direct buffer (encoded constants stay encoded). */
    public Tensor copy() {
        ByteBuffer b = ByteBuffer.allocateDirect(data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, data, 0, data.capacity());
        return new Tensor(dtype, shape, b, quant, sparse, codebook);
    }

    /** Copies this tensor's dense bytes into {@code dst}, which must have the same dtype and element count. */
    public void copyTo(Tensor dst) {
        if (dst.dtype != dtype || dst.elements != elements) {
            throw new IllegalArgumentException("cannot copy " + this + " into " + dst);
        }
        int n = (int) dtype.byteSize(elements);
        dst.data.put(0, data, 0, n);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape) + (isEncoded() ? " (encoded)" : "");
    }
}
