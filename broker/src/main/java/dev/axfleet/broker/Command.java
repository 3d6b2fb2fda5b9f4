package dev.axfleet.broker;

import java.time.Instant;

/**
 * A control request: {@code reset} on {@link Topics#cardControl} (acted on by the monitor only), or
 * {@code restart-runtime} on {@link Topics#workerControl} (sent by the monitor).
 *
 * @param by who asked (a user name, {@code monitor}, {@code admin-http}), for the event log
 */
public record Command(String action, String reason, String by, Instant at) {
    public static final String RESET = "reset";
    public static final String RESTART_RUNTIME = "restart-runtime";
}
