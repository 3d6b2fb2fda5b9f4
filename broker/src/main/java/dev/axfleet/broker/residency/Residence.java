package dev.axfleet.broker.residency;

import java.time.Instant;

/**
 * What a worker says in its retained state about its model's place on the card, so the gateway can show it
 * ({@code /api/ps}, {@code /health}) and the other workers on the same card can choose whom to unload.
 *
 * @param cmmMiB    the card memory the model takes when loaded (its measured footprint), 0 when unknown
 * @param pinned    {@code models.pinned} names it: it is never unloaded on request, by keep-alive or to make room
 * @param keepAlive how long after its last use it stays loaded
 * @param lastUsed  when a job last ended or it was last loaded, for least-recently-used eviction; null before either
 * @param expiresAt when it will be unloaded if nothing uses it; null for ever or while not loaded
 */
public record Residence(long cmmMiB, boolean pinned, KeepAlive keepAlive, Instant lastUsed, Instant expiresAt) {
    public Residence {
        keepAlive = keepAlive == null ? KeepAlive.FOREVER : keepAlive;
    }
}
