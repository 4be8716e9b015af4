package dev.hedge.ir;

import dev.hedge.ops.AttrKind;
import dev.hedge.runtime.Tensor;
import java.util.Arrays;
import java.util.List;

/** A typed attribute value. */
public sealed interface Attr {

    AttrKind kind();

    record Int(long value) implements Attr {
        public AttrKind kind() {
            return AttrKind.INT;
        }
    }

    record Float(float value) implements Attr {
        public AttrKind kind() {
            return AttrKind.FLOAT;
        }
    }

    record Str(String value) implements Attr {
        public AttrKind kind() {
            return AttrKind.STRING;
        }
    }

    record Ints(long[] value) implements Attr {
        public Ints {
            value = value.clone();
        }

        @Override
        public long[] value() {
            return value.clone();
        }

        public AttrKind kind() {
            return AttrKind.INTS;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ints i && Arrays.equals(value, i.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return Arrays.toString(value);
        }
    }

    record Floats(float[] value) implements Attr {
        public Floats {
            value = value.clone();
        }

        @Override
        public float[] value() {
            return value.clone();
        }

        public AttrKind kind() {
            return AttrKind.FLOATS;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Floats f && Arrays.equals(value, f.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return Arrays.toString(value);
        }
    }

    record Strs(List<String> value) implements Attr {
        public Strs {
            value = List.copyOf(value);
        }

        public AttrKind kind() {
            return AttrKind.STRINGS;
        }
    }

    record GraphValue(Graph value) implements Attr {
        public AttrKind kind() {
            return AttrKind.GRAPH;
        }
    }

    record TensorValue(Tensor value) implements Attr {
        public AttrKind kind() {
            return AttrKind.TENSOR;
        }
    }
}
