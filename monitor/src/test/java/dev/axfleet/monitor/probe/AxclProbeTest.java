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

    /** sample/runtime/main.cpp:125-126 prints {@code cpuLoading / 100.0} as a percent: the field is hundredths. */
    @Test
    void loadsAreHundredthsOfAPercent() {
        DeviceProperties p = new DeviceProperties();
        p.temperature = 41000;
        p.cpuLoading = 100;
        p.npuLoading = 5000;
        DeviceHealth h = AxclProbe.fromProperties(1, p);
        assertEquals(1, h.readings().cpuPercent(), "an idle 1 % is raw 100, not 100 %");
        assertEquals(50, h.readings().npuPercent());
        p.cpuLoading = 40;
        p.npuLoading = 10_000;
        h = AxclProbe.fromProperties(1, p);
        assertEquals(0, h.readings().cpuPercent(), "0.4 % is 0 % in whole percent, not 40 %");
        assertEquals(100, h.readings().npuPercent());
        p.cpuLoading = 10_001;
        h = AxclProbe.fromProperties(1, p);
        assertEquals(null, h.readings().cpuPercent());
        assertTrue(h.warnings().get(0).contains("cpuLoading 10001"), h.warnings().toString());
    }

    /** A card of the test's own: the class's card ends hung. */
    private static Path ownLibrary(Path dir, java.util.function.Consumer<EmulatedCard> setUp) {
        EmulatedCard own = EmulatedCard.create(dir.resolve("card"));
        setUp.accept(own);
        return own.buildLibrary();
    }

    @Test
    void theEmulatedLibraryReportsLoadsInHundredths(@TempDir Path dir) {
        Path library = ownLibrary(dir, c -> c.setLoad(37, 5));
        try (AxclProbe probe = new AxclProbe(library.toString(), Duration.ofSeconds(2))) {
            DeviceHealth h = probe.probe(0);
            assertEquals(37, h.readings().cpuPercent(), String.valueOf(h));
            assertEquals(5, h.readings().npuPercent());
        }
        Raw raw = com.sun.jna.Native.load(library.toString(), Raw.class);
        DeviceProperties p = new DeviceProperties();
        try (AxclProbe probe = new AxclProbe(library.toString(), Duration.ofSeconds(2))) {
            probe.probe(0);
            // On this thread, activated as the sample does (SetDevice binds the default context): the raw field.
            assertEquals(0, raw.axclrtSetDevice(1));
            assertEquals(0, raw.axclrtGetDeviceProperties(1, p));
            assertEquals(3700, p.cpuLoading, "37 % as libaxcl_rt reports it");
            assertEquals(0, raw.axclrtResetDevice(1));
        }
    }

    /**
     * The sample activates the device and creates a context before reading its properties (sample/runtime/main.cpp:72,
     * :99, :115); the emulated library refuses otherwise, and the probe does what the sample does, releasing the device
     * when it closes.
     */
    @Test
    void thePropertiesNeedAnActiveDeviceAndAContextAndTheProbeReleasesThem(@TempDir Path dir) throws Exception {
        Path library = ownLibrary(dir, c -> { });
        Raw raw = com.sun.jna.Native.load(library.toString(), Raw.class);
        try (AxclProbe probe = new AxclProbe(library.toString(), Duration.ofSeconds(2))) {
            assertEquals(DeviceHealth.Status.ANSWERING, probe.probe(0).status(), "axclInit is the process's: done once for this library");
        }
        int[] seen = new int[3];
        Thread t = new Thread(() -> {
            DeviceProperties p = new DeviceProperties();
            seen[0] = raw.axclrtGetDeviceProperties(1, p);
            com.sun.jna.ptr.PointerByReference ctx = new com.sun.jna.ptr.PointerByReference();
            raw.axclrtCreateContext(ctx, 1); // activates the device when nothing else holds it
            seen[1] = raw.axclrtGetDeviceProperties(1, p);
            try (AxclProbe probe = new AxclProbe(library.toString(), Duration.ofSeconds(2))) {
                probe.probe(0);
            }
            raw.axclrtResetDevice(1);
            seen[2] = raw.axclrtGetDeviceProperties(1, p);
        });
        t.start();
        t.join(10_000);
        assertEquals(0x80300183, seen[0], "not active: " + AxclError.describe(seen[0]));
        assertEquals(0, seen[1], "active, with a context on this thread");
        assertEquals(0x80300183, seen[2], "the probe's close reset its activation, and ours is gone too: " + AxclError.describe(seen[2]));
    }

    /** The functions a test calls directly to look at the emulated library's state. */
    public interface Raw extends com.sun.jna.Library {
        int axclrtSetDevice(int deviceId);

        int axclrtResetDevice(int deviceId);

        int axclrtCreateContext(com.sun.jna.ptr.PointerByReference context, int deviceId);

        int axclrtGetDeviceProperties(int deviceId, DeviceProperties properties);
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
