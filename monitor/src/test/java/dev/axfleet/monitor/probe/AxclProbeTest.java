package dev.axfleet.monitor.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.axcl.AxclError;
import dev.axfleet.axcl.DeviceList;
import dev.axfleet.axcl.DeviceProperties;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.emulator.card.EmulatedCard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The JNA probe against the emulated libaxcl_rt.so (compiled here with cc from the manufacturer's struct layout). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AxclProbeTest {
    EmulatedCard card;
    Path library;

    @BeforeAll
    void build(@TempDir Path dir) {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        card = EmulatedCard.create(dir.resolve("card"));
        library = card.buildLibrary();
    }

    @Test
    void theStructsHaveTheManufacturersLayout() {
        assertEquals(240, new DeviceProperties().size(), "axclrtDeviceProperties (the C side asserts 240 too)");
        assertEquals(4 + 256 * 4, new DeviceList().size());
    }

    @Test
    void aHealthyCardThenALostOneThenAHungOne() {
        try (AxclProbe probe = new AxclProbe(library.toString(), Duration.ofSeconds(2))) {
            DeviceHealth h = probe.probe(0);
            assertEquals(DeviceHealth.Status.ANSWERING, h.status(), String.valueOf(h.detail()));
            assertEquals(1, h.readings().deviceId(), "card index 0 is device id 1");
            assertEquals(41.0, h.readings().temperatureC());
            assertEquals(7040L, h.readings().cmmTotalMiB());
            assertEquals(18L, h.readings().cmmUsedMiB());
            assertEquals(945L, h.readings().memoryTotalMiB());
            assertEquals(149L, h.readings().memoryUsedMiB());
            assertEquals(1, h.readings().cpuPercent());

            card.setTemperature(82.5);
            card.reserveCmm(3300L * 1024);
            h = probe.probe(0);
            assertEquals(82.5, h.readings().temperatureC());
            assertEquals(3318L, h.readings().cmmUsedMiB());
            assertEquals(DeviceHealth.Status.NOT_FOUND, probe.probe(1).status(), "no second card");

            card.lose();
            DeviceHealth lost = probe.probe(0);
            assertEquals(DeviceHealth.Status.NOT_FOUND, lost.status());
            assertTrue(lost.detail().contains("lists 0 card"), lost.detail());

            card.hang();
            DeviceHealth hung = probe.probe(0);
            assertEquals(DeviceHealth.Status.HUNG, hung.status());
            DeviceHealth again = probe.probe(0);
            assertEquals(DeviceHealth.Status.HUNG, again.status());
            assertTrue(again.detail().contains("has not returned"), "no second thread is stuck behind the first: " + again.detail());
        }
    }

    @Test
    void aLibraryThatIsNotThereIsACardNotFound() {
        try (AxclProbe probe = new AxclProbe("/nonexistent/libaxcl_rt.so", Duration.ofSeconds(2))) {
            DeviceHealth h = probe.probe(0);
            assertEquals(DeviceHealth.Status.NOT_FOUND, h.status());
            assertTrue(h.detail().contains("cannot load"), h.detail());
        }
    }

    @Test
    void errorCodesInWords() {
        assertTrue(AxclError.describe(0x8030010b).contains("card not found"));
        assertTrue(AxclError.describe(0x80300181).contains("runtime/device: no device connected"), AxclError.describe(0x80300181));
        assertTrue(AxclError.describe(0x80300705).contains("runtime/engine: timeout"), AxclError.describe(0x80300705));
        assertTrue(AxclError.describe(0x8006008a).startsWith("0x8006008a"));
    }
}
