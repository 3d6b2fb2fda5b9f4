package dev.axfleet.worker.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedAxmodel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JNA binding over libaxcl_rt.so, against the emulated library built from C with the manufacturer's
 * signatures: the canonical open sequence, IO described by the runtime, buffers allocated once, runs that depend
 * on their inputs, and the card's failures in words.
 */
class AxclEngineTest {
    @TempDir
    Path dir;

    private EmulatedCard card() {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        return EmulatedCard.create(dir.resolve("card"));
    }

    private Path textEncoder() {
        return EmulatedAxmodel.of("text_encoder").input("input_ids", "int32", "1x77").output("last_hidden_state", "fp32", "1x77x768")
                .cmmMiB(240).write(dir.resolve("models/text_encoder/sd15_text_encoder_sim.axmodel"));
    }

    private static int[] ids(int... head) {
        int[] ids = new int[77];
        Arrays.fill(ids, 49407);
        System.arraycopy(head, 0, ids, 0, head.length);
        return ids;
    }

    @Test
    void anEngineLoadsWithItsDescribedIoAndItsOutputDependsOnItsInput() {
        EmulatedCard card = card();
        try (AxclDevice device = AxclDevice.open(card.buildLibrary().toString(), 0, Duration.ofSeconds(10))) {
            assertEquals(1, device.deviceId(), "card index 0 is device id 1 in the list");
            assertEquals(240L << 20, device.cmmBytes(textEncoder()));
            Engine e = device.load(textEncoder());
            assertEquals(List.of("input_ids"), e.inputs().stream().map(Engine.Tensor::name).toList());
            assertArrayEquals(new int[] {1, 77, 768}, e.outputs().get(0).dims());
            assertEquals(77L * 768 * 4, e.outputs().get(0).bytes());
            float[] fox = device.run(e, (Object) ids(49406, 320, 1881))[0];
            float[] again = device.run(e, (Object) ids(49406, 320, 1881))[0];
            float[] owl = device.run(e, (Object) ids(49406, 320, 4637))[0];
            assertEquals(77 * 768, fox.length);
            assertArrayEquals(fox, again, "deterministic");
            assertFalse(Arrays.equals(fox, owl), "the output follows the input");
            IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> device.run(e, (Object) new float[77]));
            assertTrue(wrong.getMessage().contains("input_ids"), wrong.getMessage());
        }
    }

    @Test
    void theCardsFailuresComeBackInWords() {
        EmulatedCard card = card();
        Path lib = card.buildLibrary();
        try (AxclDevice device = AxclDevice.open(lib.toString(), 0, Duration.ofSeconds(2))) {
            Engine e = device.load(textEncoder());
            card.failExecutions(true);
            AxclException failed = assertThrows(AxclException.class, () -> device.run(e, (Object) ids(49406)));
            assertTrue(failed.getMessage().contains("axclrtEngineExecute") && failed.getMessage().contains("execute failed"), failed.getMessage());
            card.failExecutions(false);
            assertEquals(77 * 768, device.run(e, (Object) ids(49406))[0].length, "the next run works");
            AxclException notAModel = assertThrows(AxclException.class, () -> device.load(lib));
            assertTrue(notAModel.getMessage().contains("axclrtEngineLoadFromFile"), notAModel.getMessage());
            card.hang();
            AxclException hung = assertThrows(AxclException.class, () -> device.run(e, (Object) ids(49406)));
            assertTrue(hung.getMessage().contains("did not answer within 2000 ms"), hung.getMessage());
            AxclException after = assertThrows(AxclException.class, () -> device.run(e, (Object) ids(49406)));
            assertTrue(after.getMessage().contains("has not answered an earlier call"), after.getMessage());
        }
        EmulatedCard other = EmulatedCard.create(dir.resolve("other-card"));
        Path otherLib = other.buildLibrary();
        other.lose();
        AxclException lost = assertThrows(AxclException.class, () -> AxclDevice.open(otherLib.toString(), 0, Duration.ofSeconds(2)));
        assertTrue(lost.getMessage().contains("card not found"), lost.getMessage());
    }
}
