package dev.axfleet.worker;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.CardState;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The worker's view of its card, from the monitor's retained health: whether to take jobs (not while the
 * card is hot, lost or being reset), whether to keep the runtime (not while the card is lost or being reset:
 * hammering a dead channel turns a transient drop into a deep wedge, ../shared/axera.md §8.3), and what it
 * last read of the card's memory (the room a model needs is worked out in {@code residency.Room}). Health older than {@code stale} is ignored: without a monitor the
 * worker works as if the card were fine.
 */
final class CardGate {
    private final CardRef card;
    private final Duration stale;
    private final Clock clock;
    private CardHealth health;

    CardGate(CardRef card, Duration stale, Clock clock) {
        this.card = card;
        this.stale = stale;
        this.clock = clock;
    }

    synchronized void update(CardHealth h) {
        if (card.equals(h.card())) {
            health = h;
            notifyAll();
        }
    }

    private synchronized Optional<CardHealth> fresh() {
        return Optional.ofNullable(health).filter(h -> h.freshAt(clock.instant(), stale));
    }

    /** The card's last health, when recent enough to trust. */
    Optional<CardHealth> health() {
        return fresh();
    }

    /** Why no job should start now, or empty when jobs may run. */
    Optional<String> holdReason() {
        return fresh().filter(h -> h.state().holdsIntake()).map(this::describe);
    }

    /** True while the card is lost or being reset: the runtime must be stopped and not started. */
    boolean cardDown() {
        return fresh().map(h -> h.state().down()).orElse(false);
    }

    /** Waits up to {@code millis} for news about the card. */
    synchronized void await(long millis) throws InterruptedException {
        wait(millis);
    }

    private String describe(CardHealth h) {
        String base = "card " + card + " is " + h.state().wire();
        if (h.state() == CardState.HOT && h.readings().temperatureC() != null) {
            return base + " (" + h.readings().temperatureC() + " °C)";
        }
        return h.detail() == null ? base : base + " (" + h.detail() + ")";
    }
}
