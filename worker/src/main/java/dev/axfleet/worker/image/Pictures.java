package dev.axfleet.worker.image;

import dev.axfleet.broker.image.ResizeMode;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Pixels between the pipeline's tensors (channels × height × width in [-1, 1]) and images clients send and get. */
public final class Pictures {
    private Pictures() {
    }

    /** A PNG or JPEG from its bytes. */
    public static BufferedImage decode(byte[] bytes) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
            if (img == null) {
                throw new IllegalArgumentException("not a PNG or JPEG image (" + bytes.length + " bytes)");
            }
            return img;
        } catch (IOException e) {
            throw new IllegalArgumentException("not a readable image: " + e.getMessage());
        }
    }

    public static byte[] png(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(img.getWidth() * img.getHeight());
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An RGB image from a 3 × h × w tensor in [-1, 1] (the VAE decoder's output). */
    public static BufferedImage fromTensor(float[] chw, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int plane = w * h;
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = channel(chw[i]) << 16 | channel(chw[plane + i]) << 8 | channel(chw[2 * plane + i]);
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    private static int channel(float v) {
        return Math.max(0, Math.min(255, Math.round((v + 1) * 127.5f)));
    }

    /** A 3 × h × w tensor in [-1, 1] from an image of exactly that size (the VAE encoder's input). */
    public static float[] toTensor(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int plane = w * h;
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        float[] chw = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            chw[i] = ((rgb[i] >> 16) & 0xFF) / 127.5f - 1;
            chw[plane + i] = ((rgb[i] >> 8) & 0xFF) / 127.5f - 1;
            chw[2 * plane + i] = (rgb[i] & 0xFF) / 127.5f - 1;
        }
        return chw;
    }

    /** {@code src} brought to exactly {@code w} × {@code h}: stretched, scaled to cover and centre-cropped, or scaled to fit and padded. */
    public static BufferedImage fit(BufferedImage src, int w, int h, ResizeMode mode) {
        if (src.getWidth() == w && src.getHeight() == h && src.getType() == BufferedImage.TYPE_INT_RGB) {
            return src;
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        double sx = (double) w / src.getWidth();
        double sy = (double) h / src.getHeight();
        switch (mode) {
            case STRETCH -> g.drawImage(src, 0, 0, w, h, null);
            case CROP, PAD -> {
                double s = mode == ResizeMode.CROP ? Math.max(sx, sy) : Math.min(sx, sy);
                int dw = (int) Math.round(src.getWidth() * s);
                int dh = (int) Math.round(src.getHeight() * s);
                g.drawImage(src, (w - dw) / 2, (h - dh) / 2, dw, dh, null);
            }
        }
        g.dispose();
        return out;
    }
}
