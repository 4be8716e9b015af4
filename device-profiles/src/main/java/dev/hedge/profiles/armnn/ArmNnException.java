package dev.hedge.profiles.armnn;

import dev.hedge.runtime.HedgeException;

/** Arm NN refused or failed something; the message is Arm NN's own, prefixed with what Hedge was doing. */
public final class ArmNnException extends HedgeException {

    public ArmNnException(String message) {
        super(message);
    }
}
