package dev.axfleet.deploy.doctor;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * One check of {@code axfleet doctor}: what it settles (the docs/hardware.md items, U-items first), how long it may
 * take, what it needs, and its body, which drives the same adapters the worker and the monitor use and returns a
 * {@link Verdict}.
 *
 * @param id    the item it is named for ({@code U3}); unique
 * @param items every item of docs/hardware.md it settles, {@code id} first (U-, F- and A-items)
 * @param limit after this it is stopped and reported as not finishing
 */
public record Check(String id, List<String> items, String title, Duration limit, Set<Need> needs, Body body) {
    /** What a check needs beyond a card that answers. */
    public enum Need {
        /** The card to itself: axfleet's services are stopped around it (it starts a runtime or reads CMM with nothing loaded). */
        CARD_ALONE,
        /** It could disturb a running installation (a card reboot, a driver reload): only with {@code --disruptive}. */
        DISRUPTIVE
    }

    /** The work of a check. */
    @FunctionalInterface
    public interface Body {
        /** @throws Verdict.Skip when it cannot run here, with the reason */
        Verdict run(Lab lab) throws Exception;
    }

    public Check {
        items = List.copyOf(items);
        needs = needs.isEmpty() ? Set.of() : Set.copyOf(needs);
        if (items.isEmpty() || !items.get(0).equals(id)) {
            throw new IllegalArgumentException("a check's items start with its id: " + id);
        }
    }

    public boolean needsCardAlone() {
        return needs.contains(Need.CARD_ALONE) || needs.contains(Need.DISRUPTIVE);
    }

    public boolean disruptive() {
        return needs.contains(Need.DISRUPTIVE);
    }

    static Check of(String id, String title, Duration limit, Set<Need> needs, List<String> also, Body body) {
        List<String> items = new java.util.ArrayList<>(List.of(id));
        items.addAll(also);
        return new Check(id, items, title, limit, needs, body);
    }
}
