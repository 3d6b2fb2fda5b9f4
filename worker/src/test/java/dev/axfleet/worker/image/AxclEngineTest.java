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

    /**
     * pyaxengine sizes outputs as dims × itemsize and maps the integer types, FP32 and BF16 (_axclrt.py@3554448:29-47,
     * :383); the manufacturer's notes say most SD tensors are FP32, not all. The same function computed into an FP32, an
     * FP16, a BF16 and an INT8 output comes back as floats that agree to each type's precision.
     */
    @Test
    void outputsOfEveryTypeComeBackAsFloatsCountedFromTheirDims() {
        EmulatedCard card = card();
        Path fp32 = EmulatedAxmodel.of("mix").input("x", "fp32", "1x4x8x8").output("y", "fp32", "1x3x16x16").cmmMiB(1)
                .write(dir.resolve("fp32.axmodel"));
        float[] x = new float[4 * 8 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37) * 0.8f;
        }
        try (AxclDevice device = AxclDevice.open(card.buildLibrary().toString(), 0, Duration.ofSeconds(10))) {
            float[] want = device.run(device.load(fp32), (Object) x)[0];
            java.util.Map<String, Double> tolerance = java.util.Map.of("fp16", 1e-3, "bf16", 8e-3, "int8", 1.01, "uint8", 1.01);
            for (String type : List.of("fp16", "bf16", "int8", "uint8")) {
                Engine e = device.load(EmulatedAxmodel.of("mix").input("x", "fp32", "1x4x8x8").output("y", type, "1x3x16x16").cmmMiB(1)
                        .write(dir.resolve(type + ".axmodel")));
                assertEquals(3 * 16 * 16, e.outputs().get(0).elements(), type + ": counted from the dims");
                float[] got = device.run(e, (Object) x)[0];
                for (int i = 0; i < want.length; i++) {
                    double expected = switch (type) {
                        case "int8" -> Math.round(want[i] * 127);
                        case "uint8" -> (want[i] + 1) * 127.5;
                        default -> want[i];
                    };
                    assertEquals(expected, got[i], tolerance.get(type), type + " at " + i);
                }
            }
            Engine half = device.load(EmulatedAxmodel.of("mix").input("x", "fp16", "1x4x8x8").output("y", "fp16", "1x3x16x16").cmmMiB(1)
                    .write(dir.resolve("half.axmodel")));
            assertEquals(3L * 16 * 16 * 2, half.outputs().get(0).bytes(), "fp16 is two bytes an element");
            float[] got = device.run(half, (Object) x)[0];
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 4e-3, "fp16 in and out at " + i);
            }
        }
    }

    @Test
    void halfPrecisionConversionsRoundToNearestEven() {
        for (float f : new float[] {0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-5f, 5.9604645e-8f, 0.1f, 3.14159f, 1e-9f}) {
            short h = Engine.toFp16(f);
            assertEquals(f, Engine.fromFp16(h), Math.max(Math.abs(f) / 1024, 6e-8), "fp16 of " + f);
        }
        assertEquals(0x7C00, Engine.toFp16(1e6f) & 0xFFFF, "overflow is infinity");
        assertEquals(0x3C00, Engine.toFp16(1f) & 0xFFFF);
        assertEquals(0x3C00, Engine.toFp16(1.00048828125f) & 0xFFFF, "a tie rounds to even");
        assertEquals(0x3F80, Engine.toBf16(1f) & 0xFFFF);
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
