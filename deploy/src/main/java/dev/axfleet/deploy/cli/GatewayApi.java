package dev.axfleet.deploy.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The gateway as the command line reaches it: {@code --url}, else {@code gateway.bind}/{@code gateway.port} of the
 * settings (a wildcard bind is reached on loopback), with the API key of {@code gateway.api_key_file} when this user
 * may read it.
 */
final class GatewayApi {
    private final URI base;
    private final String apiKey;
    private final String adminTokenFile;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    GatewayApi(Settings s, String url) {
        if (url == null) {
            String bind = s.string("gateway.bind", "127.0.0.1");
            String host = bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind.contains(":") ? "[" + bind + "]" : bind;
            url = "http://" + host + ":" + s.integer("gateway.port", 8080);
        }
        this.base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        String keyFile = s.string("gateway.api_key_file", null);
        String key = null;
        if (keyFile != null && Files.isReadable(Path.of(keyFile))) {
            try {
                key = Files.readString(Path.of(keyFile)).trim();
            } catch (IOException e) {
                key = null;
            }
        }
        this.apiKey = key;
        this.adminTokenFile = s.string("gateway.admin_token_file", null);
    }

    /**
     * A request to an admin route: the admin token of {@code gateway.admin_token_file} as the bearer, the API key (when
     * there is one) as {@code X-API-Key}; a user who may not read the token file is told so.
     */
    HttpRequest.Builder adminRequest(String path) {
        if (adminTokenFile == null) {
            throw new UserError("this needs the gateway's admin token, and gateway.admin_token_file is not set (docs/configuration.md)");
        }
        String token;
        try {
            token = Files.readString(Path.of(adminTokenFile)).trim();
        } catch (IOException e) {
            throw new UserError("the admin token " + adminTokenFile + " cannot be read by this user (" + e.getClass().getSimpleName()
                    + "): run it with sudo");
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(10))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
        if (apiKey != null) {
            b.header("X-API-Key", apiKey);
        }
        return b;
    }

    /** POSTs {@code body} to an admin route and returns the answer's JSON; any other status than 200 is a UserError saying it. */
    JsonObject postAdmin(String path, String what, JsonObject body) throws IOException, InterruptedException {
        HttpResponse<String> r = send(adminRequest(path).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new UserError(what + ": " + r.statusCode() + " " + errorText(r.body()));
        }
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    URI base() {
        return base;
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(10));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) throws IOException, InterruptedException {
        try {
            return http.send(request, body);
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new UserError("no gateway answers at " + base + ": is it running? (systemctl status axfleet-gateway, or ./axfleet up;"
                    + " --url names another)");
        }
    }

    /** The {@code error} of an error body (the gateway's facades all say it so), else the body's start. */
    static String error(int status, InputStream body) throws IOException {
        String text = new String(body.readNBytes(2000), StandardCharsets.UTF_8);
        return status + " " + errorText(text);
    }

    static String errorText(String text) {
        try {
            JsonObject o = JsonParser.parseString(text).getAsJsonObject();
            if (o.has("error")) {
                return o.get("error").isJsonObject() && o.getAsJsonObject("error").has("message")
                        ? o.getAsJsonObject("error").get("message").getAsString() : o.get("error").getAsString();
            }
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
            // not JSON: said as it came
        }
        return text.length() > 200 ? text.substring(0, 200) + "..." : text.strip();
    }
}
