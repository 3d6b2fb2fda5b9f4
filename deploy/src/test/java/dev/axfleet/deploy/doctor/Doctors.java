package dev.axfleet.deploy.doctor;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Axfleet;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code axfleet doctor} as a person runs it: the command line's entry point, its output, its exit status and its JSON. */
final class Doctors {
    private Doctors() {
    }

    record Run(int exit, String out, String err, JsonObject json) {
        /** The verdict of the check named {@code id}. */
        String verdict(String id) {
            return check(id).get("verdict").getAsString();
        }

        JsonObject check(String id) {
            for (var c : json.getAsJsonArray("checks")) {
                if (c.getAsJsonObject().get("id").getAsString().equals(id)) {
                    return c.getAsJsonObject();
                }
            }
            throw new AssertionError("no check " + id + " in the report");
        }

        String seen(String id) {
            return check(id).get("seen").getAsString();
        }

        /** For a failed assertion: the check's verdict, what it saw, and the run's progress lines. */
        String explain(String id) {
            return id + ": " + verdict(id) + ": " + seen(id) + "\nevidence: " + check(id).getAsJsonArray("evidence") + "\nstderr:\n" + err;
        }
    }

    /** Settings for a run in {@code dir}: the emulator at no pace, short waits where a test fault makes a check wait them out. */
    static Map<String, String> settings(Path dir) {
        Map<String, String> s = new HashMap<>();
        s.put("doctor.state_dir", dir.resolve("doctor").toString());
        s.put("doctor.time_scale", "0");
        s.put("runtime.stop_grace", "2s");
        s.put("runtime.stall_timeout", "2s");
        s.put("runtime.first_token_timeout", "20s");
        s.put("runtime.load_timeout", "60s");
        s.put("monitor.reboot_wait", "5s");
        s.put("monitor.reload_wait", "5s");
        s.put("gateway.port", "1");
        return s;
    }

    static Run doctor(Path dir, Map<String, String> settings, String... args) throws IOException {
        Path json = dir.resolve("report-" + System.nanoTime() + ".json");
        List<String> all = new ArrayList<>(List.of("doctor"));
        all.addAll(Arrays.asList(args));
        all.addAll(List.of("--json", json.toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Axfleet.run(all.toArray(String[]::new), Settings.of(settings), new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        JsonObject report = Files.isRegularFile(json) ? JsonParser.parseString(Files.readString(json)).getAsJsonObject() : null;
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), report);
    }

    static Map<String, String> with(Map<String, String> base, String... kv) {
        Map<String, String> m = new HashMap<>(base);
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }
}
