package dev.axfleet.worker.runtime;

/** A runtime that could not be brought up, with the reason a person can act on. */
public final class RuntimeStartException extends Exception {
    public RuntimeStartException(String message) {
        super(message);
    }
}
