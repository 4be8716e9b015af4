package dev.hedge.kernels;

/**
 * Thrown by a {@link PrepareContext} when a kernel asks for an input shape or value the planner does not
 * know yet. The planner catches it and prepares that node at run time instead. Kernels do not catch it.
 */
public final class Deferred extends RuntimeException {

    public Deferred(String what) {
        super(what, null, false, false);
    }
}
