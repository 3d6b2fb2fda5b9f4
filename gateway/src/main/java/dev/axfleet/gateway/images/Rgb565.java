package dev.axfleet.gateway.images;

import dev.axfleet.gateway.ApiException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import spark.Request;
import spark.Response;

/**
 * Pictures as a microcontroller's LCD takes them: raw RGB565, big-endian, row by row, with no header (what the
 * Pico's passthrough, gregm123456/automatic1111_pico_passthrough, sent it: 240×240 is 115,200 bytes). Asked for with
 * {@code Accept: application/octet-stream} or {@code format=rgb565} (query or body); the size is the picture's,
 * named in {@code X-Image-Width}, {@code X-Image-Height} and {@code X-Image-Format}. A Content-Length goes with it,
 * so HTTP/1.0 clients that cannot read chunked replies read it whole.
 */
final class Rgb565 {
    static final String FORMAT = "rgb565be";

    private Rgb565() {
    }

    /** Whether the caller asked for raw pixels instead of JSON. */
    static boolean wanted(Request req, String bodyFormat) {
        String accept = req.headers("Accept");
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("application/octet-stream")
                || "rgb565".equalsIgnoreCase(req.queryParams("format")) || "rgb565".equalsIgnoreCase(bodyFormat);
    }

    /** The base64 PNG's pixels as RGB565 big-endian. */
    static byte[] pixels(String pngBase64) throws ApiException {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(pngBase64)));
        } catch (IOException | IllegalArgumentException e) {
            throw new ApiException(500, "the worker's picture could not be read: " + e.getMessage(), null, "internal_error", Map.of());
        }
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        byte[] out = new byte[w * h * 2];
        for (int i = 0; i < rgb.length; i++) {
            int p = rgb[i];
            int v = ((p >> 19) & 0x1f) << 11 | ((p >> 10) & 0x3f) << 5 | ((p >> 3) & 0x1f);
            out[2 * i] = (byte) (v >> 8);
            out[2 * i + 1] = (byte) v;
        }
        return out;
    }

    /** Writes the pixels as the reply. */
    static byte[] respond(Response res, String pngBase64, int width, int height) throws ApiException {
        byte[] pixels = pixels(pngBase64);
        res.status(200);
        res.type("application/octet-stream");
        res.header("X-Image-Width", String.valueOf(width));
        res.header("X-Image-Height", String.valueOf(height));
        res.header("X-Image-Format", FORMAT);
        res.raw().setContentLength(pixels.length);
        return pixels;
    }
}
