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
import javax.imageio.IIOImage;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * An image for a vision model, made from what a client sent: decoded (PNG, JPEG, WebP, GIF, BMP; the JDK's readers and
 * TwelveMonkeys' for WebP and the JPEGs the JDK refuses), turned upright by its EXIF orientation, scaled down with
 * Pillow's bicubic (the CLIP preprocessing's resampler, {@link PilBicubic}) until it just covers the encoder's input,
 * never up, and sent on as a PNG (lossless: the encoder sees Pillow's pixels). The runtime then stretches it to its
 * encoder's size itself (src/runner/utils/image_processor.cpp@0700091: {@code axcv::resize(img, img_rs, tgt_w, tgt_h)});
 * a 12-MP phone photo costs what the encoder needs, not 12 MP of base64 and decoding inside the runtime.
 */
public final class VisionInput {
    /** Source pixels at most: a 48-MP phone photo fits (it is read subsampled); a decompression bomb is refused unread. */
    public static final long MAX_PIXELS = 50_000_000L;

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
        Decoded decoded = decode(data, coverWidth, coverHeight);
        BufferedImage image = decoded.image();
        int orientation = exifOrientation(data);
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = pixels(image);
        if (orientation > 1 && orientation <= 8) {
            Oriented o = orient(rgb, w, h, orientation);
            rgb = o.rgb;
            w = o.w;
            h = o.h;
        }
        // The size comes from the source's own sides (turned as shown), not from the subsampled pixels', so the shape is kept.
        boolean turned = orientation >= 5 && orientation <= 8;
        int srcW = turned ? decoded.height() : decoded.width();
        int srcH = turned ? decoded.width() : decoded.height();
        double scale = Math.max((double) coverWidth / srcW, (double) coverHeight / srcH);
        int outW = srcW;
        int outH = srcH;
        if (scale < 1) {
            outW = Math.max(coverWidth, (int) Math.round(srcW * scale));
            outH = Math.max(coverHeight, (int) Math.round(srcH * scale));
        }
        if (outW != w || outH != h) {
            rgb = PilBicubic.resize(rgb, w, h, outW, outH);
        }
        BufferedImage out = new BufferedImage(outW, outH, BufferedImage.TYPE_INT_RGB);
        System.arraycopy(rgb, 0, ((java.awt.image.DataBufferInt) out.getRaster().getDataBuffer()).getData(), 0, rgb.length);
        return new Prepared(png(out), outW, outH, decoded.width(), decoded.height());
    }

    private record Decoded(BufferedImage image, int width, int height) {
    }

    /**
     * Decoded, reading only every k-th pixel of an image more than twice as large as it must be in each direction
     * ({@code ImageReadParam.setSourceSubsampling}), so that at least twice the pixels the encoder needs are left for
     * the bicubic to average: a 12-MP photo becomes 1.3 MP before any pixel is touched.
     */
    private static Decoded decode(byte[] data, int coverWidth, int coverHeight) {
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
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                // An EXIF turn swaps the sides; the smaller factor covers both ways.
                double room = Math.min(Math.min((double) width / coverWidth, (double) height / coverHeight),
                        Math.min((double) width / coverHeight, (double) height / coverWidth));
                int step = Math.max(1, (int) Math.floor(room / 2));
                javax.imageio.ImageReadParam param = reader.getDefaultReadParam();
                if (step > 1) {
                    param.setSourceSubsampling(step, step, 0, 0);
                }
                BufferedImage image = reader.read(0, param);
                if (image == null) {
                    throw new IllegalArgumentException("an image with no pixels");
                }
                return new Decoded(image, width, height);
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

    /** Packed 0xRRGGBB, read from the raster where its layout is the usual one (getRGB converts pixel by pixel). */
    static int[] pixels(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        if (image.getType() == BufferedImage.TYPE_3BYTE_BGR && image.getRaster().getDataBuffer() instanceof java.awt.image.DataBufferByte db
                && image.getRaster().getNumDataElements() == 3 && db.getNumBanks() == 1 && image.getRaster().getSampleModelTranslateX() == 0
                && image.getRaster().getSampleModelTranslateY() == 0) {
            byte[] b = db.getData();
            int[] out = new int[w * h];
            for (int i = 0, j = 0; i < out.length; i++, j += 3) {
                out[i] = (b[j + 2] & 0xFF) << 16 | (b[j + 1] & 0xFF) << 8 | (b[j] & 0xFF);
            }
            return out;
        }
        if ((image.getType() == BufferedImage.TYPE_INT_RGB || image.getType() == BufferedImage.TYPE_INT_ARGB)
                && image.getRaster().getDataBuffer() instanceof java.awt.image.DataBufferInt di && di.getNumBanks() == 1
                && image.getRaster().getSampleModelTranslateX() == 0 && image.getRaster().getSampleModelTranslateY() == 0
                && di.getData().length == w * h) {
            int[] out = di.getData().clone();
            for (int i = 0; i < out.length; i++) {
                out[i] &= 0xFFFFFF;
            }
            return out;
        }
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] &= 0xFFFFFF;
        }
        return rgb;
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

    /**
     * A PNG stored without compression (ImageIO's quality 1.0): the bytes only cross loopback to the runtime, and
     * deflating a photo costs the Pi three times the time for a tenth off its size.
     */
    private static byte[] png(BufferedImage image) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(image.getWidth() * image.getHeight() * 3 + 1024);
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(1.0f);
            writer.write(null, new IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a PNG: " + e.getMessage(), e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
