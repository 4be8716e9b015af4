package dev.hedge.ir;

import dev.hedge.runtime.DType;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Declared type of a graph value. {@code dtype} may be null (unknown); {@code dims} null means unknown rank.
 */
public record ValueInfo(String name, DType dtype, List<Dim> dims) {

    public ValueInfo {
        dims = dims == null ? null : List.copyOf(dims);
    }

    public static ValueInfo of(String name, DType dtype, long... dims) {
        return new ValueInfo(name, dtype, java.util.Arrays.stream(dims).mapToObj(Dim::of).toList());
    }

    public boolean hasRank() {
        return dims != null;
    }

    /** Whether every dimension is fixed. */
    public boolean isStatic() {
        return dims != null && dims.stream().allMatch(Dim::isFixed);
    }

    /** Fixed dims as ints (dynamic ones as -1), or null for unknown rank. */
    public int[] shapeOrNull() {
        return dims == null ? null : dims.stream().mapToInt(d -> (int) d.value()).toArray();
    }

    public ValueInfo withName(String n) {
        return new ValueInfo(n, dtype, dims);
    }

    @Override
    public String toString() {
        return name + ": " + (dtype == null ? "?" : dtype) + (dims == null ? "[*]"
                : dims.stream().map(Dim::toString).collect(Collectors.joining(",", "[", "]")));
    }
}
