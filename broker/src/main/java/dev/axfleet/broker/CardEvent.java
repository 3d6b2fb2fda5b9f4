package dev.axfleet.broker;

import java.time.Instant;

/**
 * One step the monitor took for a card, published on {@link Topics#cardEvents}: the recovery ladder's rungs,
 * their results, and requests from outside.
 *
 * @param step   e.g. {@code restart-runtimes}, {@code stop-strays}, {@code card-reboot}, {@code driver-reload},
 *               {@code host-reboot}, {@code needs-person}, {@code recovered}, {@code reset-requested}
 * @param result {@code started}, {@code ok}, {@code failed} or {@code skipped}
 */
public record CardEvent(CardRef card, String step, String result, String detail, Instant at) {
}
