package dev.axfleet.worker.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.image.ResizeMode;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedSdModel;
import dev.axfleet.worker.runtime.ImageRuntime;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SD1.5-LCM pipeline through the real JNA binding against the emulated libaxcl_rt.so and an emulated model
 * folder: the scheduler's coefficients, images that follow prompt and seed and repeat for the same ones, img2img's
 * strength choosing the steps, cancellation between steps, and a card failure mid-image.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Sd15PipelineTest {
    EmulatedCard card;
    AxclDevice device;
    Sd15Pipeline sd;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        card = EmulatedCard.create(dir.resolve("card"));
        Path model = EmulatedSdModel.write(dir.resolve("sd15"), true, 0.002);
        ClipTokenizer.writeFiles(model.resolve("tokenizer"), List.of());
        device = AxclDevice.open(card.buildLibrary().toString(), 0, Duration.ofSeconds(10));
        sd = Sd15Pipeline.load(device, model);
    }

    @AfterAll
    void stop() {
        device.close();
    }

    static final ImageRuntime.Progress QUIET = new ImageRuntime.Progress() {
        @Override
        public void step(int done, int total) {
        }

        @Override
        public boolean cancelled() {
            return false;
        }
    };

    @Test
    void theLcmCoefficientsFollowTheFormulaAtTheFourTimesteps() {
        LcmScheduler s = new LcmScheduler();
        assertEquals(1 - 0.00085, s.alphaCumprod(0), 1e-12, "the first beta is sqrt(0.00085)^2");
        assertTrue(s.alphaCumprod(999) > 0.004 && s.alphaCumprod(999) < 0.006, "SD1.5's scaled-linear schedule ends near 0.0047");
        for (int t : LcmScheduler.TIMESTEPS) {
            double scaled = 10.0 * t;
            assertEquals(0.25 / (scaled * scaled + 0.25), LcmScheduler.cSkip(t), 1e-15);
            assertEquals(scaled / Math.sqrt(scaled * scaled + 0.25), LcmScheduler.cOut(t), 1e-15);
        }
        assertEquals(List.of(1, 1, 2, 2, 3, 3, 4, 4), List.of(LcmScheduler.stepsFor(0.1), LcmScheduler.stepsFor(0.35), LcmScheduler.stepsFor(0.36),
                LcmScheduler.stepsFor(0.6), LcmScheduler.stepsFor(0.61), LcmScheduler.stepsFor(0.85), LcmScheduler.stepsFor(0.86),
                LcmScheduler.stepsFor(1.0)));
        float[] x = {0.5f, -1f};
        float[] eps = {0.1f, 0.2f};
        float[] last = s.step(3, x, eps, k -> 0);
        double a = s.alphaCumprod(259);
        double x0 = (0.5 - Math.sqrt(1 - a) * 0.1) / Math.sqrt(a);
        assertEquals(LcmScheduler.cOut(259) * x0 + LcmScheduler.cSkip(259) * 0.5, last[0], 1e-5, "the last step is the denoised latent");
    }

    @Test
    void anImageFollowsItsPromptAndSeedAndRepeatsForTheSameOnes() {
        List<Integer> steps = new ArrayList<>();
        Sd15Pipeline.Rendered fox = sd.txt2img("a red fox in the snow", 42, new ImageRuntime.Progress() {
            @Override
            public void step(int done, int total) {
                steps.add(done * 10 + total);
            }

            @Override
            public boolean cancelled() {
                return false;
            }
        });
        assertEquals(List.of(14, 24, 34, 44), steps, "progress after each of the four steps");
        assertEquals(512, fox.image().getWidth());
        assertEquals(4, fox.steps());
        assertTrue(fox.cardNanos() > 0 && fox.cardNanos() < fox.totalNanos());
        byte[] png = Pictures.png(fox.image());
        assertArrayEquals(png, Pictures.png(sd.txt2img("a red fox in the snow", 42, QUIET).image()), "same prompt and seed, same bytes");
        assertFalse(Arrays.equals(png, Pictures.png(sd.txt2img("a red fox in the snow", 43, QUIET).image())), "another seed");
        assertFalse(Arrays.equals(png, Pictures.png(sd.txt2img("a blue owl at night", 42, QUIET).image())), "another prompt");
        assertTrue(distinctColours(fox.image()) > 1000, "a picture, not a flat fill");
    }

    @Test
    void img2imgRunsTheStepsItsStrengthPicksFromTheInput() {
        BufferedImage init = Pictures.fit(sd.txt2img("a house", 1, QUIET).image(), 512, 512, ResizeMode.STRETCH);
        assertTrue(sd.canImg2Img());
        for (double strength : new double[] {0.2, 0.5, 0.75, 1.0}) {
            Sd15Pipeline.Rendered r = sd.img2img("a house in winter", 7, init, strength, QUIET);
            assertEquals(LcmScheduler.stepsFor(strength), r.steps(), "strength " + strength);
        }
        byte[] a = Pictures.png(sd.img2img("a house in winter", 7, init, 0.5, QUIET).image());
        BufferedImage other = Pictures.fit(sd.txt2img("a cat", 2, QUIET).image(), 512, 512, ResizeMode.STRETCH);
        assertFalse(Arrays.equals(a, Pictures.png(sd.img2img("a house in winter", 7, other, 0.5, QUIET).image())), "the input matters");
    }

    @Test
    void aCancelledImageStopsBetweenStepsAndACardFailureMidImageLeavesThePipelineWorking() {
        int[] done = {0};
        CancellationException c = assertThrows(CancellationException.class, () -> sd.txt2img("a fox", 3, new ImageRuntime.Progress() {
            @Override
            public void step(int d, int total) {
                done[0] = d;
            }

            @Override
            public boolean cancelled() {
                return done[0] == 2;
            }
        }));
        assertTrue(c.getMessage().contains("after 2 of 4 steps"), c.getMessage());
        card.failExecutions(true);
        AxclException e = assertThrows(AxclException.class, () -> sd.txt2img("a fox", 3, QUIET));
        assertTrue(e.getMessage().contains("execute failed"), e.getMessage());
        card.failExecutions(false);
        assertEquals(512, sd.txt2img("a fox", 3, QUIET).image().getHeight(), "the next image runs");
    }

    private static int distinctColours(BufferedImage img) {
        return (int) Arrays.stream(img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth())).distinct().count();
    }
}
