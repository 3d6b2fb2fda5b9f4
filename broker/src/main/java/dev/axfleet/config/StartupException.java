package dev.axfleet.config;

/**
 * A process cannot start for a reason a person can put right (a taken port, a missing file, a card that is not
 * there); its message says what to do, and the command line prints it alone, without a stack trace.
 */
public final class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StartupException(String message) {
        super(message);
    }
}
