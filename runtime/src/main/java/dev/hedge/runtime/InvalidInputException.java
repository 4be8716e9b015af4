package dev.hedge.runtime;

/** Inputs given to a session do not match the model: unknown name, wrong dtype, shape or size. */
public class InvalidInputException extends HedgeException {

    public InvalidInputException(String message) {
        super(message);
    }
}
