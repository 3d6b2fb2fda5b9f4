package dev.axfleet.worker.chat;

import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegment;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegmentUtil;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.worker.image.PilBicubic;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image for a vision model, made from what a client sent: decoded (PNG, JPEG, WebP, GIF, BMP; the JDK's readers and
 * TwelveMonkeys' for WebP and the JPEGs the JDK refuses), turned upright by its EXIF orientation, scaled down with
 * Pillow's bicubic (the CLIP preprocessing's resampler, {@link PilBicubic}) until it just covers the encoder's input,
 * never up, and sent on as a PNG (lossless: the encoder sees Pillow's pixels). The runtime then stretches it to its
 * encoder's size itself (src/runner/utils/image_processor.cpp@0700091: {@code axcv::resize(img, img_rs, tgt_w, tgt_h)});
 * a 12-MP phone photo costs what the encoder needs, not 12 MP of base64 and decoding inside the runtime.
 */
public final class VisionInput {
    /** Decoded pixels at most: a 20-MP phone photo fits; a decompression bomb does not reach memory. */
    public static final long MAX_PIXELS = 25_000_000L;

    private VisionInput() {
    }

    /** The image as sent to the runtime. */
    public record Prepared(byte[] png, int width, int height, int sourceWidth, int sourceHeight) {
        public String dataUrl() {
            return "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(png);
        }
    }

    /**
     * @param coverWidth  the encoder's input width ({@code vision_width}); the result is at least this wide unless the
     *                    image was narrower
     * @throws IllegalArgumentException naming what is wrong with the bytes (not an image, HEIC, too many pixels)
     */
    public static Prepared prepare(byte[] data, int coverWidth, int coverHeight) {
        String unsupported = new Part.Image(data).formatProblem();
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        BufferedImage image = decode(data);
        int orientation = exifOrientation(data);
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        if (orientation > 1 && orientation <= 8) {
            Oriented o = orient(rgb, w, h, orientation);
            rgb = o.rgb;
            w = o.w;
            h = o.h;
        }
        double scale = Math.max((double) coverWidth / w, (double) coverHeight / h);
        int outW = w;
        int outH = h;
        if (scale < 1) {
            outW = Math.max(coverWidth, (int) Math.round(w * scale));
            outH = Math.max(coverHeight, (int) Math.round(h * scale));
            rgb = PilBicubic.resize(rgb, w, h, outW, outH);
        }
        BufferedImage out = new BufferedImage(outW, outH, BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, outW, outH, rgb, 0, outW);
        return new Prepared(png(out), outW, outH, image.getWidth(), image.getHeight());
    }

    private static BufferedImage decode(byte[] data) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IllegalArgumentException("not an image this server reads (PNG, JPEG, WebP, GIF or BMP; " + data.length + " bytes)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new IllegalArgumentException("an image of " + reader.getWidth(0) + " × " + reader.getHeight(0) + " pixels is larger than "
                            + MAX_PIXELS / 1_000_000 + " MP");
                }
                BufferedImage image = reader.read(0);
                if (image == null) {
                    throw new IllegalArgumentException("an image with no pixels");
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage() != null) {
                throw iae;
            }
            throw new IllegalArgumentException("not a readable image (" + data.length + " bytes): " + e.getMessage());
        }
    }

    /** TIFF tag 274 of a JPEG's Exif segment (1 upright ... 8), or 1 when there is none. */
    static int exifOrientation(byte[] data) {
        if (data.length < 3 || (data[0] & 0xFF) != 0xFF || (data[1] & 0xFF) != 0xD8) {
            return 1;
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            List<JPEGSegment> exif = JPEGSegmentUtil.readSegments(in, 0xFFE1, "Exif");
            if (exif.isEmpty()) {
                return 1;
            }
            byte[] tiff = exif.get(0).data().readAllBytes();
            int start = 0;
            // "Exif" is followed by one pad byte before the TIFF header ("II*\0" or "MM\0*").
            while (start < Math.min(4, tiff.length) && tiff[start] != 'I' && tiff[start] != 'M') {
                start++;
            }
            try (ImageInputStream t = ImageIO.createImageInputStream(new ByteArrayInputStream(tiff, start, tiff.length - start))) {
                Directory dir = new TIFFReader().read(t);
                Entry e = dir.getEntryById(TIFF.TAG_ORIENTATION);
                return e != null && e.getValue() instanceof Number n ? n.intValue() : 1;
            }
        } catch (IOException | RuntimeException e) {
            return 1; // Unreadable EXIF: the pixels are still good, shown as stored.
        }
    }

    private record Oriented(int[] rgb, int w, int h) {
    }

    /** The stored pixels turned as EXIF orientation {@code o} says they are to be shown. */
    static Oriented orient(int[] rgb, int w, int h, int o) {
        boolean swap = o >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        int[] out = new int[rgb.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int nx;
                int ny;
                switch (o) {
                    case 2 -> { nx = w - 1 - x; ny = y; }
                    case 3 -> { nx = w - 1 - x; ny = h - 1 - y; }
                    case 4 -> { nx = x; ny = h - 1 - y; }
                    case 5 -> { nx = y; ny = x; }
                    case 6 -> { nx = h - 1 - y; ny = x; }
                    case 7 -> { nx = h - 1 - y; ny = w - 1 - x; }
                    case 8 -> { nx = y; ny = w - 1 - x; }
                    default -> { nx = x; ny = y; }
                }
                out[ny * ow + nx] = rgb[y * w + x];
            }
        }
        return new Oriented(out, ow, oh);
    }

    private static byte[] png(BufferedImage image) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(image.getWidth() * image.getHeight() * 2);
        try {
            ImageIO.write(image, "png", bytes);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a PNG: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }
}
