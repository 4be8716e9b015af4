package dev.hedge.profiles;

import dev.hedge.runtime.InvalidInputException;

/** A profile that cannot be read or does not follow the schema; the message names the file and field. */
public final class ProfileException extends InvalidInputException {

    public ProfileException(String message) {
        super(message);
    }
}
