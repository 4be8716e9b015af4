package dev.hedge.runtime;

/** A well-formed model uses something Hedge does not implement (op, opset, dtype, attribute value). */
public class UnsupportedModelException extends HedgeException {

    public UnsupportedModelException(String message) {
        super(message);
    }
}
