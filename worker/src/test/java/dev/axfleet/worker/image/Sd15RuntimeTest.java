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
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
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

    /** The two calls a test makes directly to see what the emulated library allows. */
    public interface Init extends com.sun.jna.Library {
        int axclInit(String config);
    }

    /**
     * axclInit once per process (doc_guide_axcl_api.md, axclInit): a restart after a failure unloads the engines and
     * releases the device only, and another card user in the same JVM (the monitor's JNA probe in {@code axfleet up})
     * shares the one initialisation. The emulated library refuses a second axclInit.
     */
    @Test
    void aRestartAndASecondUserInTheProcessShareOneAxclInit(@TempDir Path dir) throws Exception {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path model = EmulatedSdModel.write(dir.resolve("sd15"), true, 0);
        ClipTokenizer.writeFiles(model.resolve("tokenizer"), List.of());
        String library = card.buildLibrary().toString();
        assertEquals(0, dev.axfleet.axcl.AxclProcess.init(library), "another user of the card in this JVM came first");
        Sd15Runtime.Config config = new Sd15Runtime.Config(library, 0, model, Duration.ofSeconds(10));
        long before = card.snapshot().cmmUsedKiB();
        dev.axfleet.broker.image.ImageParams p = new dev.axfleet.broker.image.ImageParams(dev.axfleet.broker.Task.TXT2IMG, "a lighthouse", null, 1L,
                512, 512, null, null, null, null, null, null);
        dev.axfleet.worker.runtime.ImageRuntime.Progress quiet = new dev.axfleet.worker.runtime.ImageRuntime.Progress() {
            @Override
            public void step(int done, int total) {
            }

            @Override
            public boolean cancelled() {
                return false;
            }
        };
        try (Sd15Runtime sd = new Sd15Runtime(config)) {
            sd.start(Duration.ofSeconds(10));
            String first = sd.generate(p, quiet).png().get(0);
            card.failExecutions(true);
            assertThrows(dev.axfleet.worker.runtime.EngineException.class, () -> sd.generate(p, quiet));
            card.failExecutions(false);
            sd.restart("the card failed a run", Duration.ofSeconds(10));
            assertTrue(sd.healthy());
            assertEquals(first, sd.generate(p, quiet).png().get(0), "the reloaded engines draw the same picture");
            assertEquals(before + 2157 * 1024, card.snapshot().cmmUsedKiB(), "the engines of the first load were released");
        }
        Init raw = com.sun.jna.Native.load(library, Init.class);
        assertEquals(0x80300106, raw.axclInit(null), "the emulated library refuses a second axclInit in one process");
    }

    /** img2img without a strength runs as the installations' service does: 0.5, two steps (pi_axera_sd_generator.py:749). */
    @Test
    void img2imgWithoutAStrengthRunsTheServicesTwoSteps(@TempDir Path dir) throws Exception {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path model = EmulatedSdModel.write(dir.resolve("sd15"), true, 0);
        ClipTokenizer.writeFiles(model.resolve("tokenizer"), List.of());
        dev.axfleet.worker.runtime.ImageRuntime.Progress quiet = new dev.axfleet.worker.runtime.ImageRuntime.Progress() {
            @Override
            public void step(int done, int total) {
            }

            @Override
            public boolean cancelled() {
                return false;
            }
        };
        try (Sd15Runtime sd = new Sd15Runtime(new Sd15Runtime.Config(card.buildLibrary().toString(), 0, model, Duration.ofSeconds(10)))) {
            sd.start(Duration.ofSeconds(10));
            String init = sd.generate(new dev.axfleet.broker.image.ImageParams(dev.axfleet.broker.Task.TXT2IMG, "a barn", null, 3L, 512, 512, null,
                    null, null, null, null, null), quiet).png().get(0);
            var out = sd.generate(new dev.axfleet.broker.image.ImageParams(dev.axfleet.broker.Task.IMG2IMG, "a barn in snow", null, 3L, 512, 512, null,
                    null, null, init, null, null), quiet);
            var info = com.google.gson.JsonParser.parseString(out.info()).getAsJsonObject();
            assertEquals(2, info.get("steps").getAsInt(), out.info());
            assertEquals(0.5, info.get("denoising_strength").getAsDouble());
        }
    }


    @Test
    void theTallVariantRendersPortraitsNearThreeToFourAndTheSquareOneTheRest(@TempDir Path dir) throws Exception {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path repo = dir.resolve("lcm-lora-sdv1-5");
        EmulatedSdModel.write(repo.resolve("models"), true, 0);
        ClipTokenizer.writeFiles(repo.resolve("models/tokenizer"), List.of());
        EmulatedSdModel.writeTall(repo.resolve("models_1024x768"), 0);
        ClipTokenizer.writeFiles(repo.resolve("models_1024x768/tokenizer"), List.of());
        try (Sd15Runtime sd = new Sd15Runtime(new Sd15Runtime.Config(card.buildLibrary().toString(), 0, repo, Duration.ofSeconds(30)))) {
            sd.start(Duration.ofSeconds(30));
            for (Object[] c : new Object[][] {{480, 640, "768x1024"}, {768, 1024, "768x1024"}, {512, 576, "512x512"}, {240, 240, "512x512"},
                {640, 480, "512x512"}}) {
                dev.axfleet.broker.image.ImageParams p = new dev.axfleet.broker.image.ImageParams(dev.axfleet.broker.Task.TXT2IMG, "a lighthouse", null, 1L,
                        (int) c[0], (int) c[1], null, null, null, null, null, null);
                dev.axfleet.broker.image.Images out = sd.generate(p, new dev.axfleet.worker.runtime.ImageRuntime.Progress() {
                    @Override
                    public void step(int done, int total) {
                    }

                    @Override
                    public boolean cancelled() {
                        return false;
                    }
                });
                String render = com.google.gson.JsonParser.parseString(out.info()).getAsJsonObject().get("render_size").getAsString();
                assertEquals(c[2], render, c[0] + "x" + c[1]);
                java.awt.image.BufferedImage img = Pictures.decode(java.util.Base64.getDecoder().decode(out.png().get(0)));
                assertEquals((int) c[0], img.getWidth());
                assertEquals((int) c[1], img.getHeight());
            }
        }
    }
}
