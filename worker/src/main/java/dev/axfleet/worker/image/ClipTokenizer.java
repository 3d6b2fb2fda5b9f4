package dev.axfleet.worker.image;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer, read from a model folder's {@code tokenizer/vocab.json} and {@code merges.txt}
 * (the files SD1.5's text encoder ships with, ../shared/axera.md §4.1; CLIP ViT-B/32's text encoder uses the same
 * vocabulary, §8.7). It follows OpenAI's {@code simple_tokenizer.py} and Hugging Face's {@code CLIPTokenizer}:
 * whitespace collapsed, lower-cased, split by CLIP's pattern, each piece's UTF-8 bytes mapped to printable
 * characters and merged by rank, the last symbol of a word marked {@code </w>}; then start and end tokens,
 * truncation to {@link #CONTEXT} (the end token kept) and padding with the end token. Not done: ftfy's mojibake
 * repair and HTML unescaping (clients send plain text).
 */
public final class ClipTokenizer {
    public static final int CONTEXT = 77;
    private static final Pattern PIECES = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    private static final Pattern SPACES = Pattern.compile("\\s+");
    private static final String[] BYTE_CHARS = byteChars();

    private final Map<String, Integer> vocab;
    private final Map<String, Integer> ranks;
    private final int start;
    private final int end;
    private final Map<String, int[]> cache = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
            return size() > 10_000;
        }
    };

    private ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> ranks) {
        this.vocab = vocab;
        this.ranks = ranks;
        this.start = id(vocab, "<|startoftext|>");
        this.end = id(vocab, "<|endoftext|>");
    }

    private static int id(Map<String, Integer> vocab, String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("vocab.json has no " + token);
        }
        return id;
    }

    /** Reads {@code dir/vocab.json} and {@code dir/merges.txt}. */
    public static ClipTokenizer load(Path dir) {
        try {
            JsonObject v = JsonParser.parseString(Files.readString(dir.resolve("vocab.json"), StandardCharsets.UTF_8)).getAsJsonObject();
            Map<String, Integer> vocab = new HashMap<>(v.size() * 2);
            v.entrySet().forEach(e -> vocab.put(e.getKey(), e.getValue().getAsInt()));
            Map<String, Integer> ranks = new HashMap<>();
            List<String> lines = Files.readAllLines(dir.resolve("merges.txt"), StandardCharsets.UTF_8);
            for (String line : lines) {
                if (line.startsWith("#version") || line.isBlank()) {
                    continue;
                }
                ranks.putIfAbsent(line, ranks.size());
            }
            return new ClipTokenizer(vocab, ranks);
        } catch (IOException e) {
            throw new UncheckedIOException("the CLIP tokenizer files in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The ids of {@code text}: start token, at most 75 text tokens, end token, padded with the end token to 77. */
    public int[] encode(String text) {
        int[] ids = new int[CONTEXT];
        Arrays.fill(ids, end);
        ids[0] = start;
        int n = 1;
        for (int id : textIds(text)) {
            if (n == CONTEXT - 1) {
                break;
            }
            ids[n++] = id;
        }
        return ids;
    }

    /** The BPE ids of {@code text} alone, without start, end, truncation or padding. */
    public synchronized List<Integer> textIds(String text) {
        String clean = SPACES.matcher(text).replaceAll(" ").trim().toLowerCase(java.util.Locale.ROOT);
        List<Integer> out = new ArrayList<>();
        Matcher m = PIECES.matcher(clean);
        while (m.find()) {
            StringBuilder mapped = new StringBuilder();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                mapped.append(BYTE_CHARS[b & 0xFF]);
            }
            for (int id : cache.computeIfAbsent(mapped.toString(), this::bpe)) {
                out.add(id);
            }
        }
        return out;
    }

    /** The text of {@code ids} (start, end and padding left out), as OpenAI's decoder gives it. */
    public String decode(int[] ids) {
        if (inverse == null) {
            inverse = new HashMap<>(vocab.size() * 2);
            vocab.forEach((k, v) -> inverse.put(v, k));
            for (int b = 0; b < 256; b++) {
                byteOf.put(BYTE_CHARS[b].charAt(0), b);
            }
        }
        StringBuilder symbols = new StringBuilder();
        for (int id : ids) {
            if (id != start && id != end) {
                symbols.append(inverse.getOrDefault(id, ""));
            }
        }
        String text = symbols.toString().replace("</w>", " ");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (char c : text.toCharArray()) {
            bytes.write(c == ' ' ? ' ' : byteOf.getOrDefault(c, (int) '?'));
        }
        return bytes.toString(StandardCharsets.UTF_8).trim();
    }

    private Map<Integer, String> inverse;
    private final Map<Character, Integer> byteOf = new HashMap<>();

    private int[] bpe(String token) {
        List<String> word = new ArrayList<>();
        token.codePoints().forEach(c -> word.add(new String(Character.toChars(c))));
        word.set(word.size() - 1, word.get(word.size() - 1) + "</w>");
        while (word.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i < word.size() - 1; i++) {
                Integer r = ranks.get(word.get(i) + " " + word.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            String first = word.get(best);
            String second = word.get(best + 1);
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); i++) {
                if (i < word.size() - 1 && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(word.get(i));
                }
            }
            word.clear();
            word.addAll(merged);
        }
        int[] ids = new int[word.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(word.get(i));
            if (id == null) {
                throw new IllegalStateException("vocab.json lacks the symbol " + word.get(i) + " its merges produce");
            }
            ids[i] = id;
        }
        return ids;
    }

    /** GPT-2's map from bytes to printable characters, which CLIP's vocabulary is written in. */
    static String[] byteChars() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        String[] out = new String[256];
        for (int b : bs) {
            out[b] = String.valueOf((char) b);
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (out[b] == null) {
                out[b] = String.valueOf((char) (256 + n++));
            }
        }
        return out;
    }

    /**
     * Writes {@code vocab.json} and {@code merges.txt} for {@code merges} as OpenAI's {@code simple_tokenizer.py} builds
     * the vocabulary: the 256 byte symbols, the same marked {@code </w>}, one symbol per merge, then the start and
     * end tokens. With the 48,894 merges of {@code bpe_simple_vocab_16e6.txt} this is CLIP's vocabulary of 49,408.
     */
    public static void writeFiles(Path dir, List<String> merges) {
        JsonObject vocab = new JsonObject();
        List<String> symbols = byteSymbols();
        symbols.forEach(s -> vocab.addProperty(s, vocab.size()));
        symbols.forEach(s -> vocab.addProperty(s + "</w>", vocab.size()));
        merges.forEach(m -> vocab.addProperty(m.replace(" ", ""), vocab.size()));
        vocab.addProperty("<|startoftext|>", vocab.size());
        vocab.addProperty("<|endoftext|>", vocab.size());
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("vocab.json"), vocab.toString(), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The byte characters in CLIP's vocabulary order: the printable ranges first, then the rest by byte value. */
    static List<String> byteSymbols() {
        String[] chars = byteChars();
        List<String> order = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            (printable ? order : rest).add(chars[b]);
        }
        order.addAll(rest);
        return order;
    }
}
