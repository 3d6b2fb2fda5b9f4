package dev.axfleet.worker.image;

import dev.axfleet.broker.interrogate.Interrogation;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CLIP ViT-B/32 interrogation on the card, as the installations' SD service does it (../shared/axera.md §8.7;
 * gregm123456/sd1.5-lcm.axera pi_axera_sd_generator.py): the vision encoder's pooled output (index 1) times
 * {@code visual_projection} (768 → 512), each term as "a photo of a {term}" through the text encoder's pooled
 * output (index 1) times {@code text_projection} (512 → 512), both L2-normalised; cosine similarity between them.
 * Flat tagging keeps the vocabulary's terms scoring at least 0.22, best 10; structured interrogation takes a
 * softmax of 100 × cosine over each category's terms. Terms are encoded on first use and kept in memory and in
 * {@code clip/term-cache.bin}; the vocabulary's embeddings come from the shipped {@code tags/clip_cache_*.npy}
 * when it is there.
 */
public final class ClipInterrogator {
    private static final Logger log = LoggerFactory.getLogger(ClipInterrogator.class);
    /** The files under the image model's {@code clip/} folder interrogation needs. */
    public static final List<String> FILES = List.of("clip_base_vision.axmodel", "clip_base_text.axmodel", "visual_projection.npy",
            "text_projection.npy", "tags/imagenet_21k_labels_clean.txt");
    /** {@code /sdapi/v1/interrogate}: score at least 0.22, best 10, else the best one (pi_axera_sd_generator.py:828-843). */
    static final double FLAT_THRESHOLD = 0.22;
    static final int FLAT_TOP = 10;
    /** {@code general_tags} of the structured route: of the best 10, those scoring above 0.2, no fallback (:886-891). */
    static final double GENERAL_THRESHOLD = 0.2;
    private static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    private static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};
    private static final int SIDE = 224;

    private final AxclDevice device;
    private final ClipTokenizer tokenizer;
    private final Engine vision;
    private final Engine text;
    private final float[][] visualProjection;
    private final float[][] textProjection;
    private final List<String> vocabulary;
    private final Map<String, float[]> terms = new HashMap<>();
    private final Path cacheFile;

    private ClipInterrogator(AxclDevice device, ClipTokenizer tokenizer, Engine vision, Engine text, float[][] visualProjection,
                             float[][] textProjection, List<String> vocabulary, Path cacheFile) {
        this.device = device;
        this.tokenizer = tokenizer;
        this.vision = vision;
        this.text = text;
        this.visualProjection = visualProjection;
        this.textProjection = textProjection;
        this.vocabulary = vocabulary;
        this.cacheFile = cacheFile;
    }

    /** Whether {@code clipDir} holds everything interrogation needs. */
    public static boolean installed(Path clipDir) {
        return FILES.stream().allMatch(f -> Files.isRegularFile(clipDir.resolve(f)));
    }

    /** Loads both encoders onto {@code device} and whatever term embeddings are cached. */
    public static ClipInterrogator load(AxclDevice device, ClipTokenizer tokenizer, Path clipDir) throws IOException {
        for (String f : FILES) {
            if (!Files.isRegularFile(clipDir.resolve(f))) {
                throw new IOException("CLIP interrogation needs " + clipDir.resolve(f));
            }
        }
        List<String> vocabulary = Files.readAllLines(clipDir.resolve("tags/imagenet_21k_labels_clean.txt"), StandardCharsets.UTF_8).stream()
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        ClipInterrogator c = new ClipInterrogator(device, tokenizer, device.load(clipDir.resolve("clip_base_vision.axmodel")),
                device.load(clipDir.resolve("clip_base_text.axmodel")), Npy.readFloat32Matrix(clipDir.resolve("visual_projection.npy")),
                Npy.readFloat32Matrix(clipDir.resolve("text_projection.npy")), vocabulary, clipDir.resolve("term-cache.bin"));
        c.readShippedCache(clipDir.resolve("tags"));
        c.readCache();
        return c;
    }

    /** The vocabulary's terms scoring at least 0.22, best 10 (at least the best one), with their cosine. */
    public synchronized Interrogation tags(BufferedImage image) {
        return tags(imageEmbedding(image));
    }

    private Interrogation tags(float[] v) {
        return interrogation(flat(scored(v)));
    }

    private Interrogation generalTags(float[] v) {
        return interrogation(general(scored(v)));
    }

    private static Interrogation interrogation(List<Interrogation.Tag> tags) {
        return new Interrogation(String.join(", ", tags.stream().map(Interrogation.Tag::tag).toList()), tags, Map.of());
    }

    /** The flat route's rule on tags sorted best first: at least 0.22, best 10, else the best one. */
    static List<Interrogation.Tag> flat(List<Interrogation.Tag> scored) {
        List<Interrogation.Tag> best = scored.stream().filter(t -> t.score() >= FLAT_THRESHOLD).limit(FLAT_TOP).toList();
        return best.isEmpty() && !scored.isEmpty() ? List.of(scored.get(0)) : best;
    }

    /** The structured route's general tags on tags sorted best first: of the best 10, those above 0.2; none is none. */
    static List<Interrogation.Tag> general(List<Interrogation.Tag> scored) {
        return scored.stream().limit(FLAT_TOP).filter(t -> t.score() > GENERAL_THRESHOLD).toList();
    }

    /** Every vocabulary term with its cosine to {@code v}, best first. */
    private List<Interrogation.Tag> scored(float[] v) {
        List<Interrogation.Tag> scored = new ArrayList<>(vocabulary.size());
        List<String> encoded = new ArrayList<>();
        for (String term : vocabulary) {
            float[] t = terms.get(term);
            if (t == null) {
                t = encodeTerm(term);
                encoded.add(term);
            }
            scored.add(new Interrogation.Tag(term, dot(v, t)));
        }
        saveCache(encoded);
        scored.sort(Comparator.comparingDouble(Interrogation.Tag::score).reversed());
        return scored;
    }

    /** Each category's winning term with its softmax confidence over that category, and the service's general tags. */
    public synchronized Interrogation categorise(BufferedImage image, Map<String, List<String>> categories) {
        float[] v = imageEmbedding(image);
        List<String> encoded = new ArrayList<>();
        Map<String, Interrogation.Winner> winners = new LinkedHashMap<>();
        categories.forEach((name, candidates) -> {
            double[] p = probabilities(v, candidates, encoded);
            int best = 0;
            for (int i = 1; i < p.length; i++) {
                best = p[i] > p[best] ? i : best;
            }
            winners.put(name, new Interrogation.Winner(candidates.get(best), p[best]));
        });
        saveCache(encoded);
        Interrogation general = generalTags(v);
        return new Interrogation(general.caption(), general.tags(), winners);
    }

    /** Softmax of 100 × cosine over {@code candidates}; terms not yet known are encoded and listed in {@code encoded}. */
    double[] probabilities(float[] image, List<String> candidates, List<String> encoded) {
        double[] logits = new double[candidates.size()];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            float[] t = terms.get(candidates.get(i));
            if (t == null) {
                t = encodeTerm(candidates.get(i));
                encoded.add(candidates.get(i));
            }
            logits[i] = 100.0 * dot(image, t);
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            logits[i] = Math.exp(logits[i] - max);
            sum += logits[i];
        }
        for (int i = 0; i < logits.length; i++) {
            logits[i] /= sum;
        }
        return logits;
    }

    /**
     * CLIP's preprocessing as Hugging Face's {@code CLIPProcessor} for openai/clip-vit-base-patch32 does it (the service:
     * pi_axera_sd_generator.py:163): RGB; the short side to 224 and the long side to {@code int(224 * long / short)}
     * (truncated: {@code get_resize_output_image_size}) with Pillow's bicubic ({@link PilBicubic}); the centre 224 × 224
     * ({@code (size - 224) // 2}); scaled to [0, 1]; normalised per channel.
     */
    float[] imageEmbedding(BufferedImage image) {
        int[] rgb = preprocess(image);
        float[] pixels = new float[3 * SIDE * SIDE];
        int plane = SIDE * SIDE;
        for (int i = 0; i < plane; i++) {
            pixels[i] = (((rgb[i] >> 16) & 0xFF) / 255f - MEAN[0]) / STD[0];
            pixels[plane + i] = (((rgb[i] >> 8) & 0xFF) / 255f - MEAN[1]) / STD[1];
            pixels[2 * plane + i] = ((rgb[i] & 0xFF) / 255f - MEAN[2]) / STD[2];
        }
        float[] pooled = device.run(vision, Map.of(vision.inputs().get(0).name(), pixels))[1];
        return normalise(project(visualProjection, pooled));
    }

    /** The 224 × 224 RGB pixels (0xRRGGBB) CLIP is given for {@code image}, before scaling and normalising. */
    static int[] preprocess(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = rgb(image);
        int outW;
        int outH;
        if (w <= h) {
            outW = SIDE;
            outH = (int) (SIDE * (double) h / w);
        } else {
            outH = SIDE;
            outW = (int) (SIDE * (double) w / h);
        }
        int[] scaled = PilBicubic.resize(rgb, w, h, outW, outH);
        int top = (outH - SIDE) / 2;
        int left = (outW - SIDE) / 2;
        int[] crop = new int[SIDE * SIDE];
        for (int y = 0; y < SIDE; y++) {
            System.arraycopy(scaled, (top + y) * outW + left, crop, y * SIDE, SIDE);
        }
        return crop;
    }

    /**
     * An image's pixels as PIL's {@code convert("RGB")} gives them: alpha dropped, a grey sample repeated in R, G and B
     * (Java's getRGB would pass a grey image through a linear colour space and brighten it).
     */
    static int[] rgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        java.awt.image.Raster raster = image.getRaster();
        if (raster.getNumBands() <= 2 && image.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY
                && raster.getSampleModel().getSampleSize(0) == 8) {
            int[] grey = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            int[] out = new int[w * h];
            for (int i = 0; i < out.length; i++) {
                out[i] = grey[i] << 16 | grey[i] << 8 | grey[i];
            }
            return out;
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < argb.length; i++) {
            argb[i] &= 0xFFFFFF;
        }
        return argb;
    }

    private float[] encodeTerm(String term) {
        int[] ids = tokenizer.encode("a photo of a " + term);
        float[] pooled = device.run(text, Map.of(text.inputs().get(0).name(), ids))[1];
        float[] t = normalise(project(textProjection, pooled));
        terms.put(term, t);
        return t;
    }

    /** {@code weight} as Hugging Face stores a projection: out × in. */
    private static float[] project(float[][] weight, float[] x) {
        float[] out = new float[weight.length];
        for (int o = 0; o < weight.length; o++) {
            double acc = 0;
            float[] row = weight[o];
            for (int i = 0; i < row.length; i++) {
                acc += row[i] * x[i];
            }
            out[o] = (float) acc;
        }
        return out;
    }

    private static float[] normalise(float[] v) {
        double n = 0;
        for (float f : v) {
            n += f * f;
        }
        n = Math.sqrt(n);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] / (n == 0 ? 1 : n));
        }
        return v;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private void readShippedCache(Path tags) throws IOException {
        try (var files = Files.list(tags)) {
            Path npy = files.filter(f -> f.getFileName().toString().matches("clip_cache_.*\\.npy")).findFirst().orElse(null);
            if (npy == null) {
                return;
            }
            float[][] rows = Npy.readFloat32Matrix(npy);
            if (rows.length != vocabulary.size()) {
                log.warn("{} has {} rows for {} terms; not used", npy, rows.length, vocabulary.size());
                return;
            }
            for (int i = 0; i < rows.length; i++) {
                terms.put(vocabulary.get(i), rows[i]);
            }
        }
    }

    private void readCache() {
        if (!Files.isRegularFile(cacheFile)) {
            return;
        }
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(cacheFile)))) {
            while (true) {
                String term;
                try {
                    term = in.readUTF();
                } catch (EOFException end) {
                    break;
                }
                float[] t = new float[in.readInt()];
                for (int i = 0; i < t.length; i++) {
                    t[i] = in.readFloat();
                }
                terms.put(term, t);
            }
        } catch (IOException e) {
            log.warn("the CLIP term cache {} is unreadable ({}); terms are encoded again", cacheFile, e.toString());
        }
    }

    /** Appends newly encoded terms to the cache file; a cache that cannot be written only costs time later. */
    private void saveCache(List<String> encoded) {
        if (encoded.isEmpty()) {
            return;
        }
        try (OutputStream raw = Files.newOutputStream(cacheFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
             DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(raw))) {
            for (String term : encoded) {
                float[] t = terms.get(term);
                out.writeUTF(term);
                out.writeInt(t.length);
                for (float f : t) {
                    out.writeFloat(f);
                }
            }
        } catch (IOException e) {
            log.warn("the CLIP term cache {} cannot be written: {}", cacheFile, e.toString());
        }
    }

    int cachedTerms() {
        return terms.size();
    }
}
