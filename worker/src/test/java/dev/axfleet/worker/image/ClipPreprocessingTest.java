package dev.axfleet.worker.image;

import dev.axfleet.broker.interrogate.Interrogation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.testing.TestTools;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CLIP sees the pixels the manufacturer's service gives it: its CLIPProcessor resizes with Pillow's bicubic
 * (pi_axera_sd_generator.py:98, :163). Compared with Debian's python3-pil on photos (the manufacturer's samples, and one
 * tiled to a phone photo's size) and on a zone plate, the pattern that shows aliasing: the mean absolute difference per
 * channel, in 0-255 steps.
 */
class ClipPreprocessingTest {
    /** Debian's interpreter, where python3-pil installs (a pyenv or venv python on PATH may lack it). */
    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    private static final int SIDE = 224;

    @TempDir
    Path dir;

    private static boolean pillow() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import PIL").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static BufferedImage photo(String name) throws IOException {
        try (InputStream in = ClipPreprocessingTest.class.getResourceAsStream("/photos/" + name)) {
            return rgbCopy(ImageIO.read(in));
        }
    }

    private static BufferedImage rgbCopy(BufferedImage src) {
        BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, src.getWidth(), src.getHeight(), src.getRGB(0, 0, src.getWidth(), src.getHeight(), null, 0, src.getWidth()), 0,
                src.getWidth());
        return out;
    }

    /** {@code tile} repeated {@code n} × {@code n}: a photo of a phone camera's size, with a photo's content. */
    private static BufferedImage tiled(BufferedImage tile, int n) {
        BufferedImage out = new BufferedImage(tile.getWidth() * n, tile.getHeight() * n, BufferedImage.TYPE_INT_RGB);
        int[] px = tile.getRGB(0, 0, tile.getWidth(), tile.getHeight(), null, 0, tile.getWidth());
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                out.setRGB(x * tile.getWidth(), y * tile.getHeight(), tile.getWidth(), tile.getHeight(), px, 0, tile.getWidth());
            }
        }
        return out;
    }

    /** Concentric rings whose frequency rises outwards: any resampler that does not filter shows moiré. */
    private static BufferedImage zonePlate(int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double r2 = (x - w / 2.0) * (x - w / 2.0) + (y - h / 2.0) * (y - h / 2.0);
                int v = (int) Math.round(127.5 + 127.5 * Math.cos(Math.PI * r2 / (1.6 * w)));
                out.setRGB(x, y, v << 16 | (255 - v) << 8 | (v / 2 + 64));
            }
        }
        return out;
    }

    /** A portrait: the image turned a quarter, so the long side is the height. */
    private static BufferedImage portrait(BufferedImage src) {
        BufferedImage out = new BufferedImage(src.getHeight(), src.getWidth(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < src.getHeight(); y++) {
            for (int x = 0; x < src.getWidth(); x++) {
                out.setRGB(src.getHeight() - 1 - y, x, src.getRGB(x, y));
            }
        }
        return out;
    }

    /** The old way, one Java2D bicubic draw with the long side rounded, for the record next to the port. */
    private static int[] java2d(BufferedImage image) {
        double s = (double) SIDE / Math.min(image.getWidth(), image.getHeight());
        int w = Math.max(SIDE, (int) Math.round(image.getWidth() * s));
        int h = Math.max(SIDE, (int) Math.round(image.getHeight() * s));
        BufferedImage scaled = Pictures.fit(image, w, h, dev.axfleet.broker.image.ResizeMode.STRETCH);
        return scaled.getRGB((w - SIDE) / 2, (h - SIDE) / 2, SIDE, SIDE, null, 0, SIDE);
    }

    private static double[] meanAbsoluteDifference(int[] ours, byte[] pil, int offset) {
        double[] sum = new double[3];
        for (int i = 0; i < SIDE * SIDE; i++) {
            for (int c = 0; c < 3; c++) {
                int mine = (ours[i] >> (16 - 8 * c)) & 0xFF;
                int theirs = pil[offset + i * 3 + c] & 0xFF;
                sum[c] += Math.abs(mine - theirs);
            }
        }
        for (int c = 0; c < 3; c++) {
            sum[c] /= SIDE * SIDE;
        }
        return sum;
    }

    @Test
    void ourPixelsAreDebiansPillowsPixels() throws Exception {
        TestTools.require("python3-pil", "apt-get install python3-pil", pillow());
        BufferedImage dog = photo("voc_dog.jpg");
        List<String> names = List.of("voc_dog 768x576", "ssd_car 500x375", "voc_dog tiled 2304x1728", "voc_dog portrait 576x768",
                "zone plate 2400x1600", "small 150x100 (enlarged)");
        List<BufferedImage> images = List.of(dog, photo("ssd_car.jpg"), tiled(dog, 3), portrait(dog), zonePlate(2400, 1600),
                rgbCopy(Pictures.fit(dog, 150, 100, dev.axfleet.broker.image.ResizeMode.STRETCH)));
        List<String> command = new ArrayList<>(List.of(PYTHON, Path.of("src/test/python/clip_preprocess.py").toAbsolutePath().toString()));
        for (int i = 0; i < images.size(); i++) {
            Path png = dir.resolve(i + ".png");
            ImageIO.write(images.get(i), "png", png.toFile()); // lossless: both sides start from the same pixels
            command.add(png.toString());
        }
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] pil = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python3 finished");
        assertEquals(0, p.exitValue());
        assertEquals(images.size() * SIDE * SIDE * 3, pil.length);
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < images.size(); i++) {
            double[] port = meanAbsoluteDifference(ClipInterrogator.preprocess(images.get(i)), pil, i * SIDE * SIDE * 3);
            double[] old = meanAbsoluteDifference(java2d(images.get(i)), pil, i * SIDE * SIDE * 3);
            report.append(String.format("%-28s port R %.4f G %.4f B %.4f | Java2D R %.2f G %.2f B %.2f%n", names.get(i), port[0], port[1], port[2],
                    old[0], old[1], old[2]));
            for (int c = 0; c < 3; c++) {
                assertTrue(port[c] < 0.05, names.get(i) + ", channel " + "RGB".charAt(c) + ":\n" + report);
            }
        }
        System.out.print(report);
    }

    /** pi_axera_sd_generator.py: /interrogate keeps ≥ 0.22, best 10, else the best one; general_tags the best 10 above 0.2. */
    @Test
    void theServicesTwoTagRules() {
        List<Interrogation.Tag> scored = List.of(new Interrogation.Tag("fox", 0.25), new Interrogation.Tag("snow", 0.21), new Interrogation.Tag("owl", 0.19));
        assertEquals(List.of("fox"), ClipInterrogator.flat(scored).stream().map(Interrogation.Tag::tag).toList());
        assertEquals(List.of("fox", "snow"), ClipInterrogator.general(scored).stream().map(Interrogation.Tag::tag).toList());
        List<Interrogation.Tag> weak = List.of(new Interrogation.Tag("fox", 0.15), new Interrogation.Tag("snow", 0.1));
        assertEquals(List.of("fox"), ClipInterrogator.flat(weak).stream().map(Interrogation.Tag::tag).toList(), "the flat route falls back");
        assertEquals(List.of(), ClipInterrogator.general(weak), "general_tags has no fallback");
        List<Interrogation.Tag> many = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            many.add(new Interrogation.Tag("t" + i, 0.5 - i * 0.01));
        }
        assertEquals(10, ClipInterrogator.general(many).size());
        List<Interrogation.Tag> edge = List.of(new Interrogation.Tag("at", 0.2));
        assertEquals(List.of(), ClipInterrogator.general(edge), "above 0.2, not at it");
    }
}
