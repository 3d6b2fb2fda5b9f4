package dev.axfleet.deploy.models;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.deploy.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The manufacturer's model host (Hugging Face), read the way its own client reads it
 * (huggingface/huggingface.js packages/hub/src/lib/list-files.ts): {@code GET
 * /api/models/{repo}/tree/{revision}?recursive=true} lists the files, page by page through the {@code Link}
 * header, each with its size and, when it is stored with Git LFS, the SHA-256 of its content; the bytes come
 * from {@code /{repo}/resolve/{revision}/{path}}, which serves the content, not the LFS pointer
 * (../shared/axera.md §8.4).
 */
final class ModelHost {
    private static final Pattern NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");

    /**
     * A file of a model repository.
     *
     * @param sha256 the content's SHA-256 for LFS files, else null
     * @param gitOid the git blob id (SHA-1) for files kept in git itself, else null
     */
    record RemoteFile(String path, long size, String sha256, String gitOid) {
    }

    private final URI base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(15))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();

    ModelHost(URI base, String token) {
        String b = base.toString();
        this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
        this.token = token;
    }

    URI base() {
        return base;
    }

    /** A path on the host, under the base's own path (a mirror may serve the API below a prefix). */
    private URI at(String path) {
        return URI.create(base + path);
    }

    /** Sends a request; a host that cannot be reached is one clear sentence, not the JDK's exception. */
    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) throws IOException, InterruptedException {
        try {
            return http.send(request, body);
        } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
            throw new UserError("cannot reach the model host " + base + " (" + reason(e) + "); check the network,"
                    + " or set HF_ENDPOINT (or models.host) to a mirror");
        } catch (HttpTimeoutException e) {
            throw new IOException("the model host " + base + " sent nothing for 60 s", e);
        }
    }

    /** Why the host could not be reached, in words: the JDK's exceptions here carry no message of their own. */
    private static String reason(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException || t instanceof java.nio.channels.UnresolvedAddressException) {
                return "its name does not resolve";
            }
            if (t instanceof HttpConnectTimeoutException) {
                return "no answer within 15 s";
            }
        }
        return e.getMessage() == null || e.getMessage().isBlank() ? "connection refused" : e.getMessage();
    }

    List<RemoteFile> list(String repo, String revision) throws IOException, InterruptedException {
        List<RemoteFile> files = new ArrayList<>();
        URI next = at("/api/models/" + repo + "/tree/" + URLEncoder.encode(revision, StandardCharsets.UTF_8)
                + "?recursive=true&expand=false");
        for (int page = 0; next != null && page < 1000; page++) {
            HttpResponse<String> r = send(request(next).header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                throw new IOException("the model host refused the listing of " + repo + " (" + r.statusCode() + "): a private or gated"
                        + " repository needs a token (HF_TOKEN or models.token)");
            }
            if (r.statusCode() == 404) {
                throw new IOException("the model host has no " + repo + " at revision " + revision + " (404 from " + base + ")");
            }
            if (r.statusCode() != 200) {
                throw new IOException("the model host answered " + r.statusCode() + " for " + next + ": " + brief(r.body()));
            }
            for (JsonElement e : JsonParser.parseString(r.body()).getAsJsonArray()) {
                JsonObject f = e.getAsJsonObject();
                if (!"file".equals(f.get("type").getAsString())) {
                    continue;
                }
                JsonObject lfs = f.has("lfs") && f.get("lfs").isJsonObject() ? f.getAsJsonObject("lfs") : null;
                files.add(new RemoteFile(f.get("path").getAsString(),
                        lfs != null ? lfs.get("size").getAsLong() : f.get("size").getAsLong(),
                        lfs != null ? lfs.get("oid").getAsString() : null,
                        lfs == null && f.has("oid") ? f.get("oid").getAsString() : null));
            }
            next = r.headers().firstValue("Link").map(NEXT::matcher).filter(Matcher::find).map(m -> next(m.group(1))).orElse(null);
        }
        return files;
    }

    /** A Link header's next page: absolute, or a path on the host. */
    private URI next(String link) {
        return link.startsWith("http://") || link.startsWith("https://") ? URI.create(link) : URI.create(base.getScheme() + "://"
                + base.getRawAuthority() + link);
    }

    /** The file's bytes from {@code offset} on: status 206 when the host honoured the range, 200 when it sends all. */
    HttpResponse<InputStream> download(String repo, String revision, String path, long offset) throws IOException, InterruptedException {
        URI uri = at("/" + repo + "/resolve/" + URLEncoder.encode(revision, StandardCharsets.UTF_8) + "/" + path);
        HttpRequest.Builder b = request(uri);
        if (offset > 0) {
            b.header("Range", "bytes=" + offset + "-");
        }
        HttpResponse<InputStream> r = send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200 && r.statusCode() != 206) {
            String body;
            try (InputStream in = r.body()) {
                body = new String(in.readNBytes(500), StandardCharsets.UTF_8);
            }
            throw new IOException("the model host answered " + r.statusCode() + " for " + uri + ": " + brief(body));
        }
        return r;
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET();
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private static String brief(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
