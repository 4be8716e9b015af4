package dev.hedge.ops;

/** Kinds of attribute value; mirrors the FlatBuffers {@code AttrType} enum. */
public enum AttrKind {
    INT(dev.hedge.schema.fb.AttrType.INT),
    FLOAT(dev.hedge.schema.fb.AttrType.FLOAT),
    STRING(dev.hedge.schema.fb.AttrType.STRING),
    INTS(dev.hedge.schema.fb.AttrType.INTS),
    FLOATS(dev.hedge.schema.fb.AttrType.FLOATS),
    STRINGS(dev.hedge.schema.fb.AttrType.STRINGS),
    GRAPH(dev.hedge.schema.fb.AttrType.GRAPH),
    TENSOR(dev.hedge.schema.fb.AttrType.TENSOR);

    private final byte code;

    AttrKind(byte code) {
        this.code = code;
    }

    public byte code() {
        return code;
    }

    public static AttrKind fromCode(int code) {
        for (AttrKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown attribute type code " + code);
    }
}
