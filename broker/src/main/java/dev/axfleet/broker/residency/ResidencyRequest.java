package dev.axfleet.broker.residency;

import dev.axfleet.broker.WireName;
import java.time.Instant;

/**
 * A request to load or unload one worker's model, on its control topic
 * ({@code axfleet/v1/control/workers/{model}/{worker}}): sent by the gateway's admin routes and Ollama's empty-prompt
 * calls, and by a worker that needs another's room on their card. The worker acts between jobs, never during one.
 *
 * @param id        names the answer; null when no answer is wanted (a worker asking a card-mate to make room)
 * @param replyTo   where the {@link ResidencyReply} goes, or null for none
 * @param keepAlive how long to keep the model loaded after this (load); null: the worker's setting
 * @param by        who asks (a worker id, {@code admin-http}, {@code ollama}), for the log
 * @param expiresAt a load not done by then is answered as failed instead of waited for; an unload is done however late
 */
public record ResidencyRequest(Action action, String id, String replyTo, KeepAlive keepAlive, String by, String reason, Instant at,
                               Instant expiresAt) {
    public enum Action implements WireName {
        LOAD, UNLOAD
    }
}
