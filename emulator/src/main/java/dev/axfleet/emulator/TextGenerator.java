package dev.axfleet.emulator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic answers: the same model, prompt, seed and temperature give the same tokens, so tests can
 * predict them. Every answer starts by saying it is emulated.
 */
public final class TextGenerator {
    private static final String[] WORDS = {
            "the", "coyote", "listens", "to", "a", "quiet", "desert", "wind", "and", "answers", "with", "stars",
            "over", "red", "rock", "light", "moves", "slowly", "across", "old", "stone", "while", "visitors",
            "wait", "for", "stories", "about", "rivers", "moon", "shadows", "songs", "dust", "morning", "night",
            "small", "bright", "warm", "cold", "far", "near", "every", "voice", "carries", "memory", "of", "rain"};

    private TextGenerator() {
    }

    /**
     * The tokens of an answer, each a piece of text such as {@code " wind"} or {@code "."}. Between 24
     * and 63 tokens, the first ones {@code "(emulated <model>)"}.
     */
    public static List<String> tokens(String model, String prompt, long seed, double temperature) {
        SplittableRandom random = new SplittableRandom(hash(model + "\u0000" + prompt + "\u0000" + seed + "\u0000" + temperature));
        int length = 24 + random.nextInt(40);
        List<String> out = new ArrayList<>(length);
        out.add("(emulated");
        out.add(" " + model + ")");
        int sentence = 0;
        boolean capital = true;
        while (out.size() < length) {
            String w = WORDS[random.nextInt(WORDS.length)];
            if (capital) {
                w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
                capital = false;
            }
            out.add(" " + w);
            sentence++;
            if (sentence >= 6 + random.nextInt(7) && out.size() < length) {
                out.add(".");
                sentence = 0;
                capital = true;
                // Now and then a stage direction or a hashtag, as chat models write them: the text an
                // installation's stop sequences ("[", "#") are there to cut.
                int aside = random.nextInt(16);
                if (aside == 0 && out.size() < length) {
                    out.add(" [howls]");
                } else if (aside == 1 && out.size() < length) {
                    out.add(" #desert");
                }
            }
        }
        if (!out.get(out.size() - 1).equals(".")) {
            out.set(out.size() - 1, out.get(out.size() - 1) + ".");
        }
        return out;
    }

    /**
     * What an emulated vision model says of the images it was given: only what can be measured (size, mean colour), so
     * a test can check that the image reached the runtime, and nothing that pretends to be a description.
     */
    static List<String> sightings(List<ApiMessages.Seen> images) {
        List<String> out = new ArrayList<>();
        out.add(" I was given " + images.size() + (images.size() == 1 ? " image" : " images") + ":");
        for (ApiMessages.Seen s : images) {
            out.add(" " + s.width() + "x" + s.height());
            out.add(String.format(" mean #%06x", s.meanRgb()));
            out.add(";");
        }
        return out;
    }

    /** What a Qwen3 model thinks before it answers: 12 to 31 tokens, deterministic like the answer. */
    public static List<String> thinking(String prompt, long seed) {
        SplittableRandom random = new SplittableRandom(hash("think\u0000" + prompt + "\u0000" + seed));
        int length = 12 + random.nextInt(20);
        List<String> out = new ArrayList<>(List.of("Okay,", " the", " visitor", " asks"));
        while (out.size() < length) {
            out.add(" " + WORDS[random.nextInt(WORDS.length)]);
        }
        out.add(".");
        return out;
    }

    private static long hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            long h = 0;
            for (int i = 0; i < 8; i++) {
                h = (h << 8) | (d[i] & 0xff);
            }
            return h;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
