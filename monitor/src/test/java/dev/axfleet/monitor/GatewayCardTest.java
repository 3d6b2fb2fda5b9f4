package dev.axfleet.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.CardState;
import dev.axfleet.broker.WorkerState.Phase;
import dev.axfleet.config.Settings;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.gateway.Gateway;
import dev.axfleet.gateway.GatewayConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's side of the card: 503 + Retry-After while it is down, /health and /metrics, the admin reset. */
class GatewayCardTest {
    private static final String TOKEN = "s3cret-admin-token-0123456789";
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    CardFixture f;
    Gateway gateway;

    @AfterEach
    void tearDown() {
        if (gateway != null) {
            gateway.close();
        }
        f.close();
    }

    private Gateway gateway(Path tokenFile) {
        Map<String, String> s = new HashMap<>(Map.of("broker.url", f.brokerUrl(), "gateway.port", "0", "gateway.models", CardFixture.MODEL));
        if (tokenFile != null) {
            s.put("gateway.admin_token_file", tokenFile.toString());
        }
        return Gateway.start(GatewayConfig.from(Settings.of(s)));
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + gateway.port() + path);
    }

    @Test
    void whileTheCardIsDownNewRequestsGet503WithRetryAfterAndHealthAndMetricsSaySo() throws Exception {
        f = new CardFixture(dir);
        f.startWorker(Map.of());
        f.startMonitor(Map.of());
        gateway = gateway(null);
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        f.card.cureAt(EmulatedCard.Cure.NEVER);
        f.card.lose();
        f.awaitEvent("needs-person", "failed");
        f.awaitCard("lost, needing a person", h -> h.state() == CardState.LOST && h.needsPerson() != null);

        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + CardFixture.MODEL
                        + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")));
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("30", r.headers().firstValue("Retry-After").orElse(""));
        assertTrue(r.body().contains("\"error\"") && r.body().contains("test-pi/0 is lost"), r.body());

        HttpResponse<String> health = send(HttpRequest.newBuilder(uri("/health")));
        assertEquals(503, health.statusCode());
        assertTrue(health.body().contains("\"status\":\"card_down\"") && health.body().contains("\"needs_person\""), health.body());

        String metrics = send(HttpRequest.newBuilder(uri("/metrics"))).body();
        // Prometheus' client writes labels in name order.
        assertTrue(metrics.contains("axfleet_card_state{card=\"0\",emulated=\"true\",host=\"test-pi\",state=\"lost\"} 1"), metrics);
        assertTrue(metrics.contains("axfleet_card_needs_person{card=\"0\",emulated=\"true\",host=\"test-pi\"} 1"), metrics);
        assertTrue(metrics.contains("axfleet_worker_held{"), metrics);
    }

    @Test
    void theAdminResetNeedsTheTokenFromA0600File() throws Exception {
        f = new CardFixture(dir);
        f.startMonitor(Map.of());
        Path open = Files.writeString(dir.resolve("open-token"), TOKEN);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> gateway(open));
        assertTrue(refused.getMessage().contains("chmod 600"), refused.getMessage());

        gateway = gateway(null);
        HttpRequest.Builder reset = HttpRequest.newBuilder(uri("/admin/cards/test-pi/0/reset")).POST(HttpRequest.BodyPublishers.noBody());
        assertEquals(403, send(reset).statusCode(), "disabled without a token file");
        gateway.close();

        Path token = Files.writeString(dir.resolve("token"), TOKEN + "\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        gateway = gateway(token);
        f.awaitCard("ok", h -> h.state() == CardState.OK);
        HttpResponse<String> wrong = send(HttpRequest.newBuilder(uri("/admin/cards/test-pi/0/reset"))
                .header("Authorization", "Bearer nope").POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(401, wrong.statusCode());
        assertEquals("Bearer", wrong.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals(400, send(HttpRequest.newBuilder(uri("/admin/cards/test-pi/999/reset")).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody())).statusCode());
        assertEquals(0, f.card.snapshot().reboots(), "refused requests reset nothing");

        HttpResponse<String> ok = send(HttpRequest.newBuilder(uri("/admin/cards/test-pi/0/reset")).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"stuck installation\"}")));
        assertEquals(202, ok.statusCode(), ok.body());
        assertTrue(f.awaitEvent("reset-requested", "started").detail().contains("stuck installation"));
        f.awaitEvent("card-reboot", "ok");
        assertEquals(1, f.card.snapshot().reboots());
    }
}
