package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.testing.TestBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The optional API key: Bearer on the facades, each refusal in the facade's own error format, health left open. */
class ApiKeyTest {
    static final String KEY = "sk-axfleet-0123456789abcdef";
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;
    TestBroker broker;
    Gateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        broker.close();
    }

    private Gateway start(Path keyFile) {
        broker = TestBroker.embedded(dir.resolve("broker"));
        return TestGateways.start(broker, Map.of("gateway.models", "qwen3-1.7b", "gateway.api_key_file", keyFile.toString()));
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        return getWith(path, authorization == null ? new String[0] : new String[] {"Authorization", authorization});
    }

    private HttpResponse<String> getWith(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String basic(String user, String password) {
        return "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void theKeyPassesAsBearerAsBasicPasswordAndAsXApiKey() throws Exception {
        Path key = Files.writeString(dir.resolve("api-key"), KEY + "\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        gateway = start(key);
        assertEquals(200, getWith("/sdapi/v1/options", "Authorization", "Bearer " + KEY).statusCode());
        assertEquals(200, getWith("/sdapi/v1/options", "Authorization", basic("kiosk", KEY)).statusCode(), "the kiosk's Basic auth");
        assertEquals(200, getWith("/api/tags", "X-API-Key", KEY).statusCode(), "the Pico's X-API-Key");
        assertEquals(401, getWith("/sdapi/v1/options", "Authorization", basic(KEY, "wrong")).statusCode(), "the key is the password, not the user");
        assertEquals(401, getWith("/api/tags", "X-API-Key", KEY + "x").statusCode());
        HttpResponse<String> a1111 = getWith("/sdapi/v1/options", "Authorization", basic("kiosk", "nope"));
        assertEquals(401, a1111.statusCode());
        assertTrue(a1111.body().contains("\"detail\":"), "AUTOMATIC1111's shape: " + a1111.body());
    }

    @Test
    void withoutAKeyCredentialsAreIgnoredAndNeverA401() throws Exception {
        broker = TestBroker.embedded(dir.resolve("broker"));
        gateway = TestGateways.start(broker, Map.of("gateway.models", "qwen3-1.7b"));
        assertEquals(200, getWith("/sdapi/v1/options", "Authorization", basic("kiosk", "whatever")).statusCode());
        assertEquals(200, getWith("/api/tags", "Authorization", basic("u", "p"), "X-API-Key", "some-key").statusCode());
        assertEquals(200, getWith("/v1/models", "Authorization", "Bearer sk-anything").statusCode());
    }

    @Test
    void listeningBeyondLoopbackWithoutAKeyNeedsAllowAnonymousAsMosquittoDoes() {
        broker = TestBroker.embedded(dir.resolve("broker"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> gateway = TestGateways.start(broker, Map.of("gateway.models", "qwen3-1.7b", "gateway.bind", "0.0.0.0")));
        assertTrue(e.getMessage().contains("gateway.allow_anonymous=true") && e.getMessage().contains("gateway.api_key_file"), e.getMessage());
    }

    @Test
    void theFacadesNeedTheKeyAndSayItInTheirOwnFormat() throws Exception {
        Path key = Files.writeString(dir.resolve("api-key"), KEY + "\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        gateway = start(key);

        HttpResponse<String> none = get("/v1/models", null);
        assertEquals(401, none.statusCode());
        assertTrue(none.body().contains("\"type\":\"authentication_error\"") && none.body().contains("\"code\":\"invalid_api_key\""), none.body());
        assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals(401, get("/v1/models", "Bearer wrong-key-0123456789").statusCode());
        HttpResponse<String> ollama = get("/api/tags", "Basic Zm9vOmJhcg==");
        assertEquals(401, ollama.statusCode());
        assertTrue(ollama.body().startsWith("{\"error\":\"a valid API key"), ollama.body());

        assertEquals(200, get("/v1/models", "Bearer " + KEY).statusCode());
        assertEquals(200, get("/api/tags", "Bearer " + KEY).statusCode());
        assertTrue(get("/health", null).body().contains("\"broker\""), "health stays open");
        assertEquals(200, get("/metrics", null).statusCode(), "metrics stay open (loopback by default)");
    }

    @Test
    void aKeyFileOthersCanReadIsRefusedAtStart() throws Exception {
        Path key = Files.writeString(dir.resolve("api-key"), KEY);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> gateway = start(key));
        assertTrue(e.getMessage().contains("gateway.api_key_file") && e.getMessage().contains("chmod 600"), e.getMessage());
    }
}
