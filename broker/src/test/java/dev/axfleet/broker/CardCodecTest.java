package dev.axfleet.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CardCodecTest {
    private static final CardRef CARD = new CardRef("pi-1", 0);

    @Test
    void healthSurvivesEncodeAndDecode() {
        CardHealth full = new CardHealth(CARD, CardState.HOT, new CardReadings(1, 81.5, 149L, 945L, 3300L, 7040L, 1, 97,
                List.of(new CardProcess(84643, "/home/axera/main_axcl_aarch64", 4894032))), "axcl-smi", true, "hot", null,
                Instant.ofEpochMilli(5));
        assertEquals(full, CardCodec.decodeHealth(CardCodec.encodeHealth(full)));
        assertEquals(3740L, full.readings().cmmFreeMiB());
        CardHealth bare = new CardHealth(CARD, CardState.LOST, CardReadings.NONE, "axcl-smi",
                false, "axcl init fail, ret = 0x8030010b", "power-cycle the Pi", Instant.ofEpochMilli(6));
        assertEquals(bare, CardCodec.decodeHealth(CardCodec.encodeHealth(bare)));
        assertEquals(null, bare.readings().cmmFreeMiB());
    }

    @Test
    void theMonitorsLastWillSaysNobodyIsWatching() {
        CardHealth h = CardCodec.decodeHealth(CardCodec.unwatched(CARD));
        assertEquals(CardState.UNKNOWN, h.state());
        assertEquals("the monitor is offline", h.detail());
    }

    @Test
    void eventsAndCommandsSurviveEncodeAndDecode() {
        CardEvent e = new CardEvent(CARD, "card-reboot", "failed", "still lost after 60 s", Instant.ofEpochMilli(9));
        assertEquals(e, CardCodec.decodeEvent(CardCodec.encodeEvent(e)));
        Command c = new Command(Command.RESET, "stuck", "admin-http", Instant.ofEpochMilli(10));
        assertEquals(Optional.of(c), CardCodec.decodeCommand(CardCodec.encodeCommand(c)));
    }

    @Test
    void unreadableCommandsAreIgnoredNotActedOn() {
        for (String junk : List.of("", "{", "[]", "{\"reason\":\"no action\"}", "{\"action\":{}}", "[".repeat(5000), "null")) {
            assertEquals(Optional.empty(), CardCodec.decodeCommand(junk.getBytes(StandardCharsets.UTF_8)), junk);
        }
    }

    @Test
    void cardTopicsNameTheirCard() {
        assertEquals("axfleet/v1/cards/pi-1/0", Topics.card(CARD));
        assertEquals(Optional.of(CARD), Topics.cardOfTopic(Topics.card(CARD)));
        assertEquals(Optional.of(CARD), Topics.cardOfTopic(Topics.cardControl(CARD)));
        assertEquals(Optional.of(CARD), Topics.cardOfTopic(Topics.cardEvents(CARD)));
        assertEquals(Optional.empty(), Topics.cardOfTopic("axfleet/v1/cards/pi-1/999"));
        assertEquals(Optional.empty(), Topics.cardOfTopic("axfleet/v1/cards/pi 1/x"));
        assertTrue(Topics.replyTopicProblem(Topics.cardControl(CARD)).isPresent(), "a job may not name a control topic as its reply topic");
    }
}
