package dev.axfleet.bench;

import dev.axfleet.worker.chat.VisionInput;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * The host's share of an image turn (docs/benchmarks.md): what the worker does to a client's image before
 * {@code axllm serve} sees it ({@link VisionInput}: decode, EXIF, Pillow's bicubic down to InternVL3-1B's 448 × 448,
 * PNG), against two baselines: ImageIO decoding the same bytes alone, in the same run, and the card's vision encoder
 * (Qwen3-VL-2B's 191.6 ms, M5 docs qwen3_vl_2b; docs/hardware.md F40). {@code bench/vision [rounds]}.
 */
public final class VisionBench {
    static final double CARD_ENCODER_MS = 191.6;

    private VisionBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        record Case(String name, byte[] bytes) {
        }
        List<Case> cases = List.of(
                new Case("12 MP phone photo, JPEG 4000×3000", encode(photo(4000, 3000), "jpeg")),
                new Case("2 MP webcam frame, JPEG 1920×1080", encode(photo(1920, 1080), "jpeg")),
                new Case("sketch canvas, PNG 640×480", encode(photo(640, 480), "png")));
        System.out.printf(Locale.ROOT, "| image | bytes | decode alone, ms | VisionInput.prepare, ms | prepare / decode | prepare / card encoder (%.1f ms) |%n",
                CARD_ENCODER_MS);
        System.out.println("|---|---|---|---|---|---|");
        for (Case c : cases) {
            for (int i = 0; i < 3; i++) {
                VisionInput.prepare(c.bytes(), 448, 448);
                ImageIO.read(new ByteArrayInputStream(c.bytes()));
            }
            List<Double> decode = new ArrayList<>();
            List<Double> prepare = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                // Alternated, so both see the same machine at the same moments.
                long t0 = System.nanoTime();
                ImageIO.read(new ByteArrayInputStream(c.bytes()));
                long t1 = System.nanoTime();
                VisionInput.prepare(c.bytes(), 448, 448);
                long t2 = System.nanoTime();
                decode.add((t1 - t0) / 1e6);
                prepare.add((t2 - t1) / 1e6);
            }
            double d = median(decode);
            double p = median(prepare);
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.2f× | %.2f× |%n", c.name(), c.bytes().length, d, p, p / d, p / CARD_ENCODER_MS);
        }
    }

    /** Smooth gradients with noise, so JPEG sizes are a photo's rather than a flat colour's. */
    static BufferedImage photo(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        SplittableRandom random = new SplittableRandom(7);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = (x * 255 / w + random.nextInt(24)) & 0xFF;
                int g = (y * 255 / h + random.nextInt(24)) & 0xFF;
                int b = ((x + y) * 127 / (w + h) + random.nextInt(24)) & 0xFF;
                img.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, format, out);
        return out.toByteArray();
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
