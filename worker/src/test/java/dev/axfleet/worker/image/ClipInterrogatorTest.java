package dev.axfleet.worker.image;

import dev.axfleet.broker.interrogate.Interrogation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedSdModel;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CLIP interrogation through the JNA binding on the emulated card: flat tags from the vocabulary, structured
 * categories whose confidences are a distribution, free terms in any script, and terms cached on disk.
 */
class ClipInterrogatorTest {
    static final Map<String, List<String>> CATEGORIES = new LinkedHashMap<>();

    static {
        CATEGORIES.put("Religion", List.of("Bahá'í", "Buddhist", "Christian", "Hindu", "Jewish", "Muslim", "None"));
        CATEGORIES.put("Age", List.of("Child", "Young adult", "Middle-aged", "Elderly"));
    }

    private static BufferedImage picture(Color a, Color b) {
        BufferedImage img = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(a);
        g.fillRect(0, 0, 640, 480);
        g.setColor(b);
        g.fillOval(200, 100, 240, 280);
        g.dispose();
        return img;
    }

    @Test
    void tagsCategoriesAndACacheThatOutlivesTheProcess(@TempDir Path dir) throws Exception {
        TestTools.require("cc", "apt-get install gcc libc6-dev", Files.isExecutable(Path.of("/usr/bin/cc")));
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path model = EmulatedSdModel.write(dir.resolve("sd15"), false, 0);
        Path clipDir = EmulatedSdModel.writeClip(model, 0);
        ClipTokenizer.writeFiles(model.resolve("tokenizer"), List.of());
        assertTrue(ClipInterrogator.installed(clipDir));
        String library = card.buildLibrary().toString();
        BufferedImage face = picture(Color.WHITE, new Color(200, 150, 120));
        try (AxclDevice device = AxclDevice.open(library, 0, Duration.ofSeconds(10))) {
            ClipInterrogator clip = ClipInterrogator.load(device, ClipTokenizer.load(model.resolve("tokenizer")), clipDir);
            Interrogation flat = clip.tags(face);
            assertTrue(!flat.tags().isEmpty() && flat.tags().size() <= 10, flat.toString());
            assertEquals(String.join(", ", flat.tags().stream().map(Interrogation.Tag::tag).toList()), flat.caption());
            for (int i = 1; i < flat.tags().size(); i++) {
                assertTrue(flat.tags().get(i - 1).score() >= flat.tags().get(i).score(), "best first");
            }
            assertEquals(flat, clip.tags(face), "the same image, the same tags");

            Interrogation structured = clip.categorise(face, CATEGORIES);
            assertEquals(List.of("Religion", "Age"), new ArrayList<>(structured.winners().keySet()));
            float[] v = clip.imageEmbedding(face);
            for (Map.Entry<String, List<String>> c : CATEGORIES.entrySet()) {
                double[] p = clip.probabilities(v, c.getValue(), new ArrayList<>());
                assertEquals(1.0, java.util.Arrays.stream(p).sum(), 1e-9, "a distribution over " + c.getKey());
                Interrogation.Winner w = structured.winners().get(c.getKey());
                assertTrue(c.getValue().contains(w.winner()), w.toString());
                assertEquals(java.util.Arrays.stream(p).max().orElseThrow(), w.confidence(), 1e-9);
            }
        }
        assertTrue(Files.size(clipDir.resolve("term-cache.bin")) > 0, "encoded terms are kept on disk");
        try (AxclDevice device = AxclDevice.open(library, 0, Duration.ofSeconds(10))) {
            ClipInterrogator again = ClipInterrogator.load(device, ClipTokenizer.load(model.resolve("tokenizer")), clipDir);
            assertEquals(320 + 11, again.cachedTerms(), "the vocabulary and every category term, read back from the cache");
        }
    }
}
