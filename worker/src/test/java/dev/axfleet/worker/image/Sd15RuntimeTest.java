package dev.axfleet.worker.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedSdModel;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image runtime shares the card: it checks the card's free CMM against its engines' footprint before loading
 * and refuses with a clear message when another model holds the room, and while loaded its engines count as CMM
 * in use on the card (as a runtime's do), released when it closes.
 */
class Sd15RuntimeTest {
    @Test
    void aCardWithoutRoomIsRefusedBeforeLoadingAndALoadedModelHoldsItsCmm(@TempDir Path dir) throws Exception {
        TestTools.require("cc (apt-get install gcc libc6-dev)", Files.isExecutable(Path.of("/usr/bin/cc")));
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path model = EmulatedSdModel.write(dir.resolve("sd15"), true, 0);
        ClipTokenizer.writeFiles(model.resolve("tokenizer"), List.of());
        Sd15Runtime.Config config = new Sd15Runtime.Config(card.buildLibrary().toString(), 0, model, Duration.ofSeconds(10));
        long before = card.snapshot().cmmUsedKiB();

        card.reserveCmm(EmulatedCard.CMM_TOTAL_KIB - before - 1024 * 1024);
        Sd15Runtime full = new Sd15Runtime(config);
        RuntimeStartException e = assertThrows(RuntimeStartException.class, () -> full.start(Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("needs 2157 MiB of CMM") && e.getMessage().contains("1024 MiB free"), e.getMessage());
        assertFalse(full.healthy());

        card.reserveCmm(0);
        try (Sd15Runtime sd = new Sd15Runtime(config)) {
            sd.start(Duration.ofSeconds(10));
            assertTrue(sd.healthy());
            assertTrue(sd.emulated(), "the emulated library says so");
            assertEquals(List.of(ProcessHandle.current().pid()), sd.pids(), "the worker's own process holds the card");
            assertEquals(before + 2157 * 1024, card.snapshot().cmmUsedKiB(), "its engines' CMM is in use on the card");
        }
        assertEquals(before, card.snapshot().cmmUsedKiB(), "released when it closes");
    }
}
