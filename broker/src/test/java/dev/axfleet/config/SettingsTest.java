package dev.axfleet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
    @Test
    void durationsAcceptMillisecondsSecondsMinutesHoursAndDays() {
        Settings s = Settings.of(Map.of("a", "300ms", "b", "30s", "c", "5m", "d", "2h", "e", "1d", "f", "250", "g", "0.5s", "h", "1.5d"));
        assertEquals(Duration.ofMillis(300), s.duration("a", null));
        assertEquals(Duration.ofSeconds(30), s.duration("b", null));
        assertEquals(Duration.ofMinutes(5), s.duration("c", null));
        assertEquals(Duration.ofHours(2), s.duration("d", null));
        assertEquals(Duration.ofDays(1), s.duration("e", null), "the shipped axfleet.conf suggests worker.session_expiry = 1d");
        assertEquals(Duration.ofMillis(250), s.duration("f", null));
        assertEquals(Duration.ofMillis(500), s.duration("g", null));
        assertEquals(Duration.ofHours(36), s.duration("h", null));
    }

    @Test
    void aBadDurationNamesItsKeyAndTheFormsItTakes() {
        for (String bad : new String[] {"1w", "-5s", "soon", "5 minutes", "s"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Settings.of(Map.of("worker.session_expiry", bad)).duration("worker.session_expiry", null), bad);
            assertTrue(e.getMessage().startsWith("worker.session_expiry must be a duration like 300ms, 30s, 5m, 2h or 1d"), e.getMessage());
        }
    }
}
