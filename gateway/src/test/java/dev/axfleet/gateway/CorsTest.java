package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.axfleet.broker.testing.TestBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Browser pages on other origins, over real HTTP on the gateway's port and every classic port (moved to free ones): a
 * preflight answered before the API key on every route, calls from an origin let in marked for the browser, calls
 * from any other origin refused with 403 in the facade's format, as Ollama does; and {@code /} still Ollama's for
 * everything but a browser.
 */
class CorsTest {
    static final String KEY = "sk-axfleet-cors-0123456789";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    @TempDir
    static Path dir;
    static TestBroker broker;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        broker = TestBroker.embedded(dir.resolve("broker"));
        Path key = dir.resolve("api-key");
        Files.writeString(key, KEY);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        gateway = TestGateways.start(broker, Map.of("gateway.models", "qwen3-1.7b,sd15-lcm=image",
                "gateway.api_key_file", key.toString(), "gateway.cors_origins", "https://editor.p5js.org, http://192.168.4.20:*",
                "gateway.compat_ports", "true", "gateway.ollama_port", "0", "gateway.sd_port", "0", "gateway.a1111_port", "0",
                "gateway.legacy_port", "0"));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static HttpResponse<String> send(int port, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("{}") : HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> preflight(int port, String path, String origin) throws Exception {
        return send(port, "OPTIONS", path, "Origin", origin, "Access-Control-Request-Method", "POST",
                "Access-Control-Request-Headers", "authorization,content-type,x-stainless-retry-count");
    }

    static List<Integer> ports() {
        List<Integer> out = new java.util.ArrayList<>(gateway.ports().keySet());
        assertEquals(5, out.size(), "the gateway's port and the four classic ones: " + gateway.ports());
        return out;
    }

    @Test
    void aPreflightFromAnOriginLetInIsAnsweredOnEveryRouteOfEveryPortWithoutTheKey() throws Exception {
        for (int port : ports()) {
            for (String path : List.of("/v1/chat/completions", "/api/chat", "/sdapi/v1/txt2img", "/no/such/route")) {
                HttpResponse<String> r = preflight(port, path, "https://editor.p5js.org");
                String where = port + " " + path;
                assertEquals(204, r.statusCode(), where + ": " + r.body());
                assertEquals("https://editor.p5js.org", r.headers().firstValue("Access-Control-Allow-Origin").orElse(null), where);
                assertTrue(r.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"), where);
                assertEquals("authorization,content-type,x-stainless-retry-count",
                        r.headers().firstValue("Access-Control-Allow-Headers").orElse(null), where);
                assertEquals("43200", r.headers().firstValue("Access-Control-Max-Age").orElse(null), where);
                assertEquals("Origin", r.headers().firstValue("Vary").orElse(null), where);
            }
        }
    }

    @Test
    void aPublicPageAskingForTheLocalNetworkIsToldYesWhenItsOriginIsLetIn() throws Exception {
        HttpResponse<String> r = send(gateway.port(), "OPTIONS", "/api/chat", "Origin", "https://editor.p5js.org",
                "Access-Control-Request-Method", "POST", "Access-Control-Request-Private-Network", "true");
        assertEquals(204, r.statusCode());
        assertEquals("true", r.headers().firstValue("Access-Control-Allow-Private-Network").orElse(null));
        assertFalse(preflight(gateway.port(), "/api/chat", "https://editor.p5js.org").headers()
                .firstValue("Access-Control-Allow-Private-Network").isPresent(), "only when asked");
    }

    @Test
    void ollamasDefaultOriginsAreLetInOnAnyPortAndLookalikesAreNot() throws Exception {
        int port = gateway.port();
        for (String origin : List.of("http://localhost:5173", "http://127.0.0.1:3000", "https://localhost", "http://0.0.0.0:8000",
                "tauri://localhost", "http://192.168.4.20:8080")) {
            assertEquals(204, preflight(port, "/api/chat", origin).statusCode(), origin);
        }
        for (String origin : List.of("http://localhost.example.com", "http://localhost:80.example.com", "https://editor.p5js.org.example.com",
                "http://192.168.4.21:8080", "null")) {
            HttpResponse<String> r = preflight(port, "/api/chat", origin);
            assertEquals(403, r.statusCode(), origin);
            assertFalse(r.headers().firstValue("Access-Control-Allow-Origin").isPresent(), origin);
        }
    }

    @Test
    void aCallFromAnOriginLetInIsMarkedForTheBrowserAndStillNeedsTheKey() throws Exception {
        int served = 0;
        for (int port : ports()) {
            HttpResponse<String> withKey = send(port, "GET", "/api/tags", "Origin", "http://localhost:5173", "Authorization", "Bearer " + KEY);
            assertEquals("http://localhost:5173", withKey.headers().firstValue("Access-Control-Allow-Origin").orElse(null), "port " + port);
            if (withKey.statusCode() == 404) {
                continue; // a classic port that serves no Ollama API
            }
            served++;
            assertEquals(200, withKey.statusCode(), withKey.body());
            HttpResponse<String> noKey = send(port, "GET", "/api/tags", "Origin", "http://localhost:5173");
            assertEquals(401, noKey.statusCode());
            assertTrue(withKey.headers().firstValue("Access-Control-Expose-Headers").orElse("").contains("Retry-After"));
            assertEquals("http://localhost:5173", noKey.headers().firstValue("Access-Control-Allow-Origin").orElse(null),
                    "the page can read why it was refused");
        }
        assertEquals(2, served, "the gateway's port and the Ollama one");
    }

    @Test
    void aCallFromAnyOtherOriginIsRefusedInTheFacadesFormatWhateverTheMethod() throws Exception {
        int port = gateway.port();
        HttpResponse<String> ollama = send(port, "POST", "/api/chat", "Origin", "http://sketch.example", "Authorization", "Bearer " + KEY,
                "Content-Type", "text/plain");
        assertEquals(403, ollama.statusCode(), "a simple POST, which needs no preflight, is refused too");
        assertTrue(JsonParser.parseString(ollama.body()).getAsJsonObject().get("error").getAsString().contains("http://sketch.example"));
        HttpResponse<String> openAi = send(port, "POST", "/v1/chat/completions", "Origin", "http://sketch.example",
                "Authorization", "Bearer " + KEY);
        assertEquals(403, openAi.statusCode());
        assertEquals("origin_not_allowed",
                JsonParser.parseString(openAi.body()).getAsJsonObject().getAsJsonObject("error").get("code").getAsString());
        assertNull(openAi.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
    }

    @Test
    void theGatewaysOwnPagesAreNotCrossOrigin() throws Exception {
        int port = gateway.port();
        HttpResponse<String> r = send(port, "GET", "/api/tags", "Origin", "http://127.0.0.1:" + port, "Authorization", "Bearer " + KEY);
        assertEquals(200, r.statusCode(), "the page at / posting to its own gateway");
        assertFalse(r.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    @Test
    void slashIsOllamasForClientsAndThePageForBrowsers() throws Exception {
        int port = gateway.port();
        assertEquals("Ollama is running", send(port, "GET", "/").body(), "no Accept, as Java's and Go's clients send");
        assertEquals("Ollama is running", send(port, "GET", "/", "Accept", "*/*").body(), "curl, python");
        assertEquals("Ollama is running", send(port, "GET", "/", "Accept", "application/json").body());
        HttpResponse<String> page = send(port, "GET", "/", "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("<script type=\"module\" src=\"/page/app.js\">"), page.body());
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"));
        assertEquals(200, send(port, "GET", "/page/app.js").statusCode(), "the page itself needs no key");
        assertEquals(200, send(port, "GET", "/page/kinds/chat.js").statusCode());
        int traversal = send(port, "GET", "/page/..%2Fhealth").statusCode();
        assertTrue(traversal == 400 || traversal == 404, "Jetty refuses the ambiguous path, or the page finds no such file: " + traversal);
        assertEquals(404, send(port, "GET", "/page/nothing.js").statusCode());
        assertEquals(401, send(port, "GET", "/fleet").statusCode(), "its data does, as the APIs do");
        assertEquals(200, send(port, "GET", "/fleet", "X-API-Key", KEY).statusCode());
    }

    @Test
    void anyOriginWithAStar() {
        CorsOrigins any = CorsOrigins.parse("*");
        assertTrue(any.any() && any.allows("https://anything.example"));
        assertThrows(IllegalArgumentException.class, () -> CorsOrigins.parse("editor.p5js.org"), "an origin has a scheme");
        assertThrows(IllegalArgumentException.class, () -> CorsOrigins.parse("http://*.example:*"), "one * at most, as gin-contrib/cors");
        assertTrue(CorsOrigins.parse("https://*.example.org").allows("https://sketch.example.org"));
        assertFalse(CorsOrigins.parse("").allows("https://example.org"));
    }
}
