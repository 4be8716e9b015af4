package dev.hedge.converter;

/** Progress of a long conversion step (calibration, evaluation...), for the console. */
@FunctionalInterface
public interface Progress {

    Progress NONE = (phase, done, total) -> { };

    /** {@code done} of {@code total} units of {@code phase} are finished. */
    void update(String phase, int done, int total);
}
