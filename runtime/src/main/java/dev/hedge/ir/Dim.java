package dev.hedge.ir;

/** One dimension of a declared shape: a fixed size, or dynamic ({@code value < 0}) with an optional name. */
public record Dim(long value, String param) {

    public static Dim of(long value) {
        return new Dim(value, null);
    }

    public static Dim dynamic(String param) {
        return new Dim(-1, param);
    }

    public boolean isFixed() {
        return value >= 0;
    }

    @Override
    public String toString() {
        return isFixed() ? Long.toString(value) : (param == null || param.isEmpty() ? "?" : param);
    }
}
