package dev.hedge.runtime;

import dev.hedge.schema.fb.DataType;

/** Element types. Codes are the FlatBuffers {@link DataType} values; ONNX codes are the TensorProto ones. */
public enum DType {
    FLOAT32(DataType.FLOAT32, 1, 32, "FP32"),
    FLOAT16(DataType.FLOAT16, 10, 16, "FP16"),
    BFLOAT16(DataType.BFLOAT16, 16, 16, "BF16"),
    FLOAT64(DataType.FLOAT64, 11, 64, "FP64"),
    INT8(DataType.INT8, 3, 8, "INT8"),
    UINT8(DataType.UINT8, 2, 8, "UINT8"),
    INT16(DataType.INT16, 5, 16, "INT16"),
    UINT16(DataType.UINT16, 4, 16, "UINT16"),
    INT32(DataType.INT32, 6, 32, "INT32"),
    UINT32(DataType.UINT32, 12, 32, "UINT32"),
    INT64(DataType.INT64, 7, 64, "INT64"),
    UINT64(DataType.UINT64, 13, 64, "UINT64"),
    BOOL(DataType.BOOL, 9, 8, "BOOL"),
    /** Two values per byte, low nibble first. */
    INT4(DataType.INT4, 22, 4, "INT4"),
    UINT4(DataType.UINT4, 21, 4, "UINT4");

    private final byte code;
    private final int onnxCode;
    private final int bits;
    private final String protocolName;

    DType(byte code, int onnxCode, int bits, String protocolName) {
        this.code = code;
        this.onnxCode = onnxCode;
        this.bits = bits;
        this.protocolName = protocolName;
    }

    /** FlatBuffers {@code DataType} code. */
    public byte code() {
        return code;
    }

    /** ONNX {@code TensorProto.DataType} code. */
    public int onnxCode() {
        return onnxCode;
    }

    /** Open Inference Protocol (KServe v2) datatype name. */
    public String protocolName() {
        return protocolName;
    }

    public int bits() {
        return bits;
    }

    /** Bytes per element; 1 for the packed 4-bit types (use {@link #byteSize(long)} for sizes). */
    public int byteWidth() {
        return Math.max(1, bits / 8);
    }

    /** Bytes needed for {@code elements} elements, rounding packed types up to whole bytes. */
    public long byteSize(long elements) {
        return bits == 4 ? (elements + 1) / 2 : elements * (bits / 8);
    }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT16 || this == BFLOAT16 || this == FLOAT64;
    }

    public boolean isInteger() {
        return !isFloat() && this != BOOL;
    }

    public boolean isSigned() {
        return this == INT8 || this == INT16 || this == INT32 || this == INT64 || this == INT4 || isFloat();
    }

    public static DType fromCode(int code) {
        for (DType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown dtype code " + code);
    }

    /** The DType for an ONNX TensorProto data type code, or {@code null} if Hedge has none. */
    public static DType fromOnnx(int onnxCode) {
        for (DType t : values()) {
            if (t.onnxCode == onnxCode) {
                return t;
            }
        }
        return null;
    }

    /** The DType for a protocol datatype name (FP32, INT64, ...), or {@code null}. */
    public static DType fromProtocolName(String name) {
        for (DType t : values()) {
            if (t.protocolName.equals(name)) {
                return t;
            }
        }
        return null;
    }
}
