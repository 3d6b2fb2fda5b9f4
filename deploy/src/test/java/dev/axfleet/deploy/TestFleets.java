package dev.axfleet.deploy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

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
}
