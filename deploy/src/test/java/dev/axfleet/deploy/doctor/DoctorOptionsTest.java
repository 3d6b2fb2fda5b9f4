package dev.axfleet.deploy.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command's promises that are not about the card: nothing downloaded without --pull, axfleet's services stopped around
 * the checks that need the card alone and started again (or left alone with --keep-running, or skipped without systemd),
 * secrets kept out of the report, test faults only on the emulator.
 */
class DoctorOptionsTest {
    @TempDir
    Path dir;

    /** A card host with nothing installed: no models, no card node (so the checks that need them say so). */
    Map<String, String> bareHost() throws Exception {
        return Doctors.with(Doctors.settings(dir), "models.dir", Files.createDirectories(dir.resolve("models")).toString(),
                "monitor.device_node", dir.resolve("no-card").toString(), "monitor.axcl_smi", dir.resolve("no-axcl-smi").toString());
    }

    @Test
    void nothingIsDownloadedWithoutPull() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        HttpServer host = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        host.createContext("/", ex -> {
            requests.incrementAndGet();
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        host.start();
        try {
            Map<String, String> s = Doctors.with(bareHost(), "models.host", "http://127.0.0.1:" + host.getAddress().getPort());
            Doctors.Run run = Doctors.doctor(dir, s, "--only", "U10");
            assertEquals("skipped", run.verdict("U10"), run.explain("U10"));
            assertTrue(run.seen("U10").contains("--pull"), run.seen("U10"));
            assertEquals(0, requests.get(), "no request to the model host without --pull");
            Doctors.Run pulled = Doctors.doctor(dir, s, "--only", "U10", "--pull");
            assertTrue(requests.get() > 0, "--pull asks the model host");
            assertTrue(pulled.json().getAsJsonArray("notes").toString().contains("axfleet models pull qwen3-1.7b"), pulled.json().toString());
        } finally {
            host.stop(0);
        }
    }

    /** A systemctl stand-in: lists two active axfleet units and writes down every call. */
    Path fakeSystemctl() throws Exception {
        Path calls = dir.resolve("systemctl.calls");
        Path script = dir.resolve("systemctl");
        Files.writeString(script, "#!/bin/sh\necho \"$*\" >> '" + calls + "'\n"
                + "if [ \"$1\" = list-units ]; then printf 'axfleet-gateway.service loaded active running gw\\n"
                + "axfleet-worker@qwen3-1.7b.service loaded active running w\\n'; fi\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    @Test
    void theServicesStopForTheCardAloneAndStartAgain() throws Exception {
        Path systemctl = fakeSystemctl();
        Doctors.Run run = Doctors.doctor(dir, Doctors.with(bareHost(), "doctor.systemctl", systemctl.toString()), "--only", "U1");
        List<String> calls = Files.readAllLines(dir.resolve("systemctl.calls"));
        assertEquals(List.of("list-units --type=service --state=active --plain --no-legend axfleet-*",
                "stop axfleet-gateway.service axfleet-worker@qwen3-1.7b.service", "start axfleet-gateway.service axfleet-worker@qwen3-1.7b.service"),
                calls);
        String notes = run.json().getAsJsonArray("notes").toString();
        assertTrue(notes.contains("stopped axfleet-gateway.service") && notes.contains("started axfleet-gateway.service"), notes);
        assertTrue(run.out().contains("stopped axfleet-gateway.service"), run.out());
    }

    @Test
    void keepRunningSkipsWhatNeedsTheCardAlone() throws Exception {
        Path systemctl = fakeSystemctl();
        Doctors.Run run = Doctors.doctor(dir, Doctors.with(bareHost(), "doctor.systemctl", systemctl.toString()), "--only", "U1,U13", "--keep-running");
        assertFalse(Files.exists(dir.resolve("systemctl.calls")), "nothing stopped with --keep-running");
        assertEquals("skipped", run.verdict("U1"));
        assertTrue(run.seen("U1").contains("--keep-running"), run.seen("U1"));
        assertFalse(run.seen("U13").contains("--keep-running"), "U13 only reads, so it runs: " + run.seen("U13"));
    }

    @Test
    void withoutSystemdTheStopIsSkippedAndSaid() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isDirectory(Path.of("/run/systemd/system")), "this machine runs systemd");
        Doctors.Run run = Doctors.doctor(dir, bareHost(), "--only", "U1");
        assertTrue(run.json().getAsJsonArray("notes").toString().contains("skipped: no systemd"), run.json().getAsJsonArray("notes").toString());
    }

    @Test
    void disruptiveChecksNeedTheFlag() throws Exception {
        Doctors.Run run = Doctors.doctor(dir, Doctors.settings(dir), "--emulated", "--only", "U14,U16");
        assertEquals("skipped", run.verdict("U14"));
        assertTrue(run.seen("U14").contains("--disruptive"), run.seen("U14"));
        assertEquals("skipped", run.verdict("U16"));
    }

    @Test
    void secretsStayOutOfTheReport() throws Exception {
        Path key = Files.writeString(dir.resolve("api-key"), "gw-key-5f1c2a9e\n");
        Map<String, String> s = Doctors.with(Doctors.settings(dir), "models.token", "hf_SecretTokenValue123", "worker.mqtt_password", "pw-9d8c7b6a",
                "broker.url", "mqtt://worker:pw-9d8c7b6a@127.0.0.1:1883", "gateway.api_key_file", key.toString(),
                "runtime.env", "OPENAI_API_KEY=sk-abcdefghijklmnop1234 HF_TOKEN=hf_SecretTokenValue123 AUTH='Bearer gw-key-5f1c2a9e'");
        Doctors.Run run = Doctors.doctor(dir, s, "--emulated", "--only", "F20");
        String json = run.json().toString();
        for (String secret : List.of("hf_SecretTokenValue123", "pw-9d8c7b6a", "gw-key-5f1c2a9e", "sk-abcdefghijklmnop1234")) {
            assertFalse(run.out().contains(secret), secret + " in the Markdown:\n" + run.out());
            assertFalse(json.contains(secret), secret + " in the JSON");
        }
        assertTrue(run.out().contains("models.token = [redacted]"), run.out());
        assertTrue(run.out().contains("mqtt://worker:[redacted]@127.0.0.1:1883"), run.out());
    }

    @Test
    void testFaultsAreTheEmulatorsOnly() throws Exception {
        Doctors.Run run = Doctors.doctor(dir, Doctors.settings(dir), "--only", "U1", "--emulator-fault", "HEALTH_NOT_HEALTHY");
        assertEquals(1, run.exit());
        assertTrue(run.err().contains("--emulated"), run.err());
        assertTrue(run.json() == null, "no report");
    }

    @Test
    void aCardHostWithoutTheCardSaysWhatIsMissing() throws Exception {
        Doctors.Run run = Doctors.doctor(dir, bareHost(), "--only", "F14,U1");
        assertEquals("differs", run.verdict("F14"), run.explain("F14"));
        assertTrue(run.seen("F14").contains("no-card is missing"), run.seen("F14"));
        assertEquals("skipped", run.verdict("U1"));
        assertTrue(run.seen("U1").contains("not installed"), run.seen("U1"));
        assertTrue(run.out().startsWith("# axfleet doctor report\n"), "not labelled emulated: " + run.out().substring(0, 80));
    }
}
