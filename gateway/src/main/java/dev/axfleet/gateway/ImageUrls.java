package dev.axfleet.gateway;

import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.config.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;

/**
 * Images named by URL in a chat message (OpenAI's {@code image_url}), made into the bytes a job carries. {@code data:}
 * URLs always; {@code http(s)} ones only when {@code gateway.fetch_image_urls} is on, bounded in size, time and
 * redirects, and never from this machine or a link-local address (a client must not make the gateway read the Pi's own
 * services). Anything else (a path, {@code file:}) is refused: {@code axllm serve} would read a bare string as a path on
 * the Pi (main.cpp@00d7aaf {@code resolve_media_uri}), so nothing but bytes ever reaches it.
 *
 * @param fetch         whether http(s) URLs are fetched (off by default)
 * @param allowLoopback for tests only: loopback hosts are fetched too, so the fetch itself can be tested over loopback
 */
public record ImageUrls(boolean fetch, boolean allowLoopback, int maxBytes, Duration timeout, int maxRedirects) {

    public static ImageUrls from(Settings s) {
        return new ImageUrls(s.bool("gateway.fetch_image_urls", false), s.bool("gateway.fetch_image_urls_allow_loopback", false),
                s.integer("gateway.fetch_image_max_bytes", ChatParams.MAX_IMAGE_BYTES), s.duration("gateway.fetch_image_timeout",
                Duration.ofSeconds(10)), 3);
    }

    /** The image at {@code url}, for the message part named {@code field}. */
    public Part.Image image(String field, String url) throws FieldException {
        if (url.startsWith("data:")) {
            return Part.Image.fromBase64(field, url);
        }
        String scheme = URI.create(url.replace(" ", "%20")).getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw new FieldException(field, "must be a data: URL (data:image/png;base64,...) or, where the gateway fetches them, an "
                    + "http(s) URL; paths and other schemes are refused");
        }
        if (!fetch) {
            throw new FieldException(field, "image URLs are not fetched here (gateway.fetch_image_urls is off); send the image as a data: URL");
        }
        return new Part.Image(get(field, URI.create(url)));
    }

    private byte[] get(String field, URI start) throws FieldException {
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(timeout).build();
        URI uri = start;
        for (int hop = 0; hop <= maxRedirects; hop++) {
            checkHost(field, uri);
            HttpResponse<InputStream> r;
            try {
                r = http.send(HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "image/*").GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new FieldException(field, "the image could not be fetched from " + uri.getHost() + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FieldException(field, "interrupted while fetching the image");
            }
            int status = r.statusCode();
            if (status >= 300 && status < 400 && r.headers().firstValue("Location").isPresent()) {
                close(r.body());
                uri = uri.resolve(r.headers().firstValue("Location").get());
                continue;
            }
            if (status != 200) {
                close(r.body());
                throw new FieldException(field, "fetching the image answered HTTP " + status);
            }
            try (InputStream in = r.body()) {
                byte[] data = in.readNBytes(maxBytes + 1);
                if (data.length > maxBytes) {
                    throw new FieldException(field, "the image at that URL is larger than " + maxBytes + " bytes");
                }
                if (data.length == 0) {
                    throw new FieldException(field, "the URL gave an empty body");
                }
                return data;
            } catch (IOException e) {
                throw new FieldException(field, "the image could not be read from " + uri.getHost() + ": " + e.getMessage());
            }
        }
        throw new FieldException(field, "more than " + maxRedirects + " redirects");
    }

    /** Every hop's host: not this machine, not link-local (cloud metadata lives there), unless a test allows loopback. */
    private void checkHost(String field, URI uri) throws FieldException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
            throw new FieldException(field, "redirected to something that is not an http(s) URL");
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw new FieldException(field, "unknown host " + uri.getHost());
        }
        for (InetAddress a : addresses) {
            boolean local = a.isLoopbackAddress() || a.isAnyLocalAddress();
            if (a.isLinkLocalAddress() || a.isMulticastAddress() || local && !allowLoopback) {
                throw new FieldException(field, "images are not fetched from " + uri.getHost() + " (" + a.getHostAddress()
                        + "): this machine's and link-local addresses are refused");
            }
        }
    }

    private static void close(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // Only the redirect's or error's body is dropped.
        }
    }
}
