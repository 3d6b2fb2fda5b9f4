package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.testing.TestTools;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the tests that start a fleet share. */
final class TestFleets {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private TestFleets() {
    }

    /** Waits up to 60 s for {@code base}/health to answer 200 (every model ready); fails with its last answer. */
    static void awaitHealthy(String base) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("fleet not healthy within 60 s: " + r.body());
            }
            Thread.sleep(100);
        }
    }

    /** Where the official JavaScript clients the suites drive are installed (npm ci). */
    static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();

    /** node, with the clients of deploy/src/test/node installed; the test is skipped without them. */
    static List<String> node() {
        Path nodeBin = Path.of("/usr/bin/node");
        TestTools.require("node and the official JavaScript clients", "apt-get install nodejs npm && npm ci --prefix deploy/src/test/node",
                Files.isExecutable(nodeBin) && Files.isDirectory(NODE_DIR.resolve("node_modules")));
        return List.of(nodeBin.toString());
    }

    /** Runs {@code command} (with {@code script} from {@link #NODE_DIR} when given) and returns what it printed; it must succeed. */
    static String run(List<String> command, String script, String... args) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(command);
        if (script != null) {
            full.add(NODE_DIR.resolve(script).toString());
        }
        full.addAll(List.of(args));
        Process p = new ProcessBuilder(full).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished");
        assertEquals(0, p.exitValue(), String.join(" ", full) + " printed: " + out);
        return out;
    }

    static JsonObject json(String out) {
        return JsonParser.parseString(out.trim()).getAsJsonObject();
    }
}
