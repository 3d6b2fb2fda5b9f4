package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.worker.transcribe.AsrServerRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emulated card's one NPU is shared (docs/hardware.md A29): two emulated runtimes on one card, asked at once, take
 * turns on it, so together they need the sum of their compute and neither has the NPU to itself until it is done. Two
 * emulated asr_server processes, each asked for 20 s of SenseVoice (RTF 0.0364: 728 ms of NPU at the card's pace, 364 ms
 * at the time scale 0.5 used here), through the worker's own adapter.
 */
class SharedNpuTest {
    static final double SCALE = 0.5;
    static final double COMPUTE_MS = 0.0364 * 20 * 1000 * SCALE;

    @TempDir
    Path dir;

    AsrServerRuntime runtime(EmulatedCard card, Path models, String name) throws Exception {
        int port = TestBroker.freePort();
        AsrServerRuntime r = new AsrServerRuntime(new AsrServerRuntime.Config(EmulatedModel.asrServer(models, port),
                Map.of("AXFLEET_EMULATOR_TIME_SCALE", String.valueOf(SCALE), "AXFLEET_EMULATOR_CARD", card.dir().toString()), port, models,
                dir.resolve(name), Duration.ofSeconds(5), Duration.ofSeconds(20), Duration.ofMillis(50), "sensevoice", Duration.ofSeconds(30), 30.0));
        r.start(Duration.ofSeconds(60));
        return r;
    }

    /** Milliseconds from the start of the call to its answer. */
    static CompletableFuture<Double> timed(AsrServerRuntime r, byte[] wav) {
        return CompletableFuture.supplyAsync(() -> {
            long t0 = System.nanoTime();
            try {
                r.transcribe(wav, "en");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return (System.nanoTime() - t0) / 1e6;
        });
    }

    @Test
    void twoRuntimesAskedAtOnceTakeTurnsOnTheCardsOneNpu() throws Exception {
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path models = EmulatedModel.writeAsrModels(dir.resolve("asr-models"));
        AsrServerRuntime a = runtime(card, models, "a");
        AsrServerRuntime b = runtime(card, models, "b");
        try {
            byte[] wav = Wav.write16(new float[16_000 * 20], 16_000);
            double alone = timed(a, wav).get(30, TimeUnit.SECONDS);
            assertTrue(alone >= COMPUTE_MS * 0.95, "alone, the model's own pace: " + alone + " ms for " + COMPUTE_MS + " ms of compute");
            List<Double> together = new ArrayList<>();
            for (CompletableFuture<Double> f : List.of(timed(a, wav), timed(b, wav))) {
                together.add(f.get(30, TimeUnit.SECONDS));
            }
            double first = Math.min(together.get(0), together.get(1));
            double last = Math.max(together.get(0), together.get(1));
            assertTrue(last >= 2 * COMPUTE_MS * 0.9, "the NPU did both: the second answer needs both computes, " + together);
            // Taking turns, neither finishes after its own compute alone: both run at about half speed until the first ends.
            assertTrue(first >= 1.6 * COMPUTE_MS, "turns, not one after the other: " + together + " (alone " + alone + " ms)");
        } finally {
            a.close();
            b.close();
        }
    }
}
