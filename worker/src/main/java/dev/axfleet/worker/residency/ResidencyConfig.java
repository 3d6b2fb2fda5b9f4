package dev.axfleet.worker.residency;

import dev.axfleet.broker.residency.KeepAlive;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a worker keeps its model on the card beside the others (docs/configuration.md, "Models that come and go").
 *
 * @param pinned     {@code models.pinned} names this model: never unloaded on request, by keep-alive or to make room
 * @param preload    loaded at start ({@code models.preload}, every model when unset); else loaded by its first job
 * @param keepAlive  how long a model loaded by a job or a load request stays loaded after its last use ({@code models.keep_alive})
 * @param maxLoaded  at most this many models loaded on the card at once ({@code models.max_loaded_models}); 0: as many as fit
 * @param marginMiB  CMM kept free on the card beyond the models' footprints ({@code models.margin_mib})
 * @param cardLock   the file every worker on this host locks while it loads onto the card, so loads never overlap
 * @param evictWait  how long to wait for a model asked to make room to unload, and for the card to show its memory free
 */
public record ResidencyConfig(boolean pinned, boolean preload, KeepAlive keepAlive, int maxLoaded, long marginMiB, Path cardLock,
                              Duration evictWait) {
    /** As a worker ran before models came and went: preloaded, kept for ever, no margin, no lock shared with others. */
    public static ResidencyConfig resident(Path stateDir) {
        return new ResidencyConfig(false, true, KeepAlive.FOREVER, 0, 0, stateDir.resolve("card.lock"), Duration.ofSeconds(30));
    }

    @Override
    public String toString() {
        return "pinned=" + pinned + " preload=" + preload + " keep_alive=" + keepAlive + " max_loaded_models=" + (maxLoaded == 0 ? "no limit" : maxLoaded)
                + " margin_mib=" + marginMiB + " card_lock=" + cardLock;
    }
}
