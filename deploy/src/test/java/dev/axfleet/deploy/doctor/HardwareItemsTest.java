package dev.axfleet.deploy.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * docs/hardware.md and doctor agree: every unverified item (a {@code **U<n> — title.**} paragraph) has a check, or says
 * in its text {@code No doctor check:} and why. A new U-item fails this test until one of the two is done.
 */
class HardwareItemsTest {
    static List<HardwareItems.Item> docs() throws Exception {
        return HardwareItems.parse(Files.readString(Path.of("..", "docs", "hardware.md")));
    }

    @Test
    void everyUnverifiedItemHasACheckOrSaysWhyNot() throws Exception {
        Set<String> checked = Checks.all().stream().flatMap(c -> c.items().stream()).collect(Collectors.toSet());
        List<String> problems = new ArrayList<>();
        for (HardwareItems.Item item : docs()) {
            boolean has = checked.contains(item.id());
            if (!has && item.noCheck() == null) {
                problems.add(item.id() + " (" + item.title() + ") has no doctor check: add a Check whose items name " + item.id()
                        + " (deploy/.../doctor, listed in Checks.all(), with a TestFault that makes it differ), or write in its paragraph of "
                        + "docs/hardware.md `No doctor check: <why>.`");
            }
            if (has && item.noCheck() != null) {
                problems.add(item.id() + " says `No doctor check` but Checks has one for it");
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void everyCheckedUItemIsInTheDocs() throws Exception {
        Set<String> documented = docs().stream().map(HardwareItems.Item::id).collect(Collectors.toSet());
        for (Check c : Checks.all()) {
            for (String item : c.items()) {
                if (item.startsWith("U")) {
                    assertTrue(documented.contains(item), c.id() + " settles " + item + ", which docs/hardware.md does not list");
                }
            }
        }
    }

    @Test
    void theBuildCarriesTheDocsAsTheyAre() throws Exception {
        assertEquals(docs(), HardwareItems.bundled());
        assertFalse(docs().isEmpty());
        assertEquals("U1", docs().get(0).id());
    }

    @Test
    void theParserReadsTitlesAndReasons() {
        List<HardwareItems.Item> items = HardwareItems.parse("""
                ## Unverified on hardware

                **U1 — one thing.** Run this.

                **U2 — another.** No doctor check: it needs a person at the card.

                ## Next
                **U3 — not an item** of that section is still read.
                """);
        assertEquals(List.of(new HardwareItems.Item("U1", "one thing", null), new HardwareItems.Item("U2", "another", "it needs a person at the card."),
                new HardwareItems.Item("U3", "not an item", null)), items);
    }

    @Test
    void checkIdsAreUnique() {
        List<String> ids = Checks.all().stream().map(Check::id).toList();
        assertEquals(ids.size(), Set.copyOf(ids).size(), ids.toString());
    }
}
