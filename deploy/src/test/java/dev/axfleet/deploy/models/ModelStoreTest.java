package dev.axfleet.deploy.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model manager against a local HTTP server that answers like the model host (the tree listing in
 * pages, resolve URLs with byte ranges) and fails the ways downloads fail: a transfer cut short, bytes that
 * are not what the listing says, and a Git LFS pointer where the file should be.
 */
class ModelStoreTest {
    static final String REPO = "AXERA-TECH/Qwen3-1.7B";
    static final String POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146ea1b5a6e0b7d8d33d3ec4b3b9a5e6c5f7d1f0a9e8b7c6d5e4f3a2b1c\nsize 1806336\n";

    @TempDir
    Path dir;
    HttpServer server;
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    volatile String cutFile;
    volatile int cutAfter;
    volatile String corruptFile;
    volatile String pointerFile;
    final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeEach
    void host() throws IOException {
        Random random = new Random(7);
        byte[] model = new byte[300_000];
        random.nextBytes(model);
        byte[] binary = new byte[5_000];
        random.nextBytes(binary);
        files.put("config.json", "{\"model_name\":\"Qwen3-1.7B\",\"tokenizer_type\":\"Qwen3\"}".getBytes(StandardCharsets.UTF_8));
        files.put("qwen3-1.7b-ax650/qwen3_post.axmodel", model);
        files.put("main_api_axcl_aarch64", binary);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/api/models/" + REPO + "/tree/main", this::tree);
        server.createContext("/" + REPO + "/resolve/main/", this::resolve);
        // A mirror that serves the same API below a path of its own (HF_ENDPOINT=http://host/hf).
        server.createContext("/hf/api/models/" + REPO + "/tree/main", this::tree);
        server.createContext("/hf/" + REPO + "/resolve/main/", ex -> {
            requests.add("mirror " + ex.getRequestURI().getPath());
            resolve(ex, "/hf/");
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    ModelStore store() {
        return new ModelStore(dir.resolve("models"), new ModelHost(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), null),
                ModelCatalog.builtIn(), new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    /** Two pages: the first names the second in its Link header, as the model host paginates. */
    private void tree(HttpExchange ex) throws IOException {
        requests.add("GET " + ex.getRequestURI());
        boolean second = ex.getRequestURI().getQuery().contains("cursor=2");
        JsonArray page = new JsonArray();
        List<String> names = new ArrayList<>(files.keySet());
        if (!second) {
            JsonObject folder = new JsonObject();
            folder.addProperty("type", "directory");
            folder.addProperty("path", "qwen3-1.7b-ax650");
            folder.addProperty("size", 0);
            folder.addProperty("oid", "0".repeat(40));
            page.add(folder);
        }
        for (String name : second ? names.subList(2, 3) : names.subList(0, 2)) {
            page.add(entry(name, files.get(name)));
        }
        if (!second) {
            ex.getResponseHeaders().add("Link", "</api/models/" + REPO + "/tree/main?recursive=true&cursor=2>; rel=\"next\"");
        }
        byte[] body = page.toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Small files are kept in git (a blob id), large ones with LFS (their SHA-256), as on the model host. */
    private static JsonObject entry(String path, byte[] content) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "file");
        o.addProperty("path", path);
        if (content.length < 1000) {
            o.addProperty("size", content.length);
            o.addProperty("oid", hex("SHA-1", ("blob " + content.length + "\0").getBytes(StandardCharsets.UTF_8), content));
        } else {
            o.addProperty("size", 134);
            o.addProperty("oid", "f".repeat(40));
            JsonObject lfs = new JsonObject();
            lfs.addProperty("oid", hex("SHA-256", new byte[0], content));
            lfs.addProperty("size", content.length);
            lfs.addProperty("pointerSize", 134);
            o.add("lfs", lfs);
        }
        return o;
    }

    private void resolve(HttpExchange ex) throws IOException {
        resolve(ex, "/");
    }

    private void resolve(HttpExchange ex, String prefix) throws IOException {
        String path = ex.getRequestURI().getPath().substring((prefix + REPO + "/resolve/main/").length());
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add("GET " + path + (range == null ? "" : " " + range));
        byte[] content = files.get(path);
        if (path.equals(pointerFile)) {
            content = POINTER.getBytes(StandardCharsets.UTF_8);
        } else if (path.equals(corruptFile)) {
            content = content.clone();
            content[content.length / 2] ^= 1;
        }
        long from = range == null ? 0 : Long.parseLong(range.replaceAll("bytes=(\\d+)-", "$1"));
        int length = (int) (content.length - from);
        ex.sendResponseHeaders(from > 0 ? 206 : 200, length);
        try (OutputStream out = ex.getResponseBody()) {
            if (path.equals(cutFile)) {
                cutFile = null;
                out.write(content, 0, cutAfter);
                out.flush();
                throw new IOException("cut"); // the exchange ends before the promised length
            }
            out.write(content, (int) from, length);
        }
    }

    @Test
    void aCutDownloadIsResumedFromWhereItStoppedAndEveryFileChecks() throws Exception {
        cutFile = "qwen3-1.7b-ax650/qwen3_post.axmodel";
        cutAfter = 100_000;
        ModelStore store = store();
        assertEquals(3, store.pull("qwen3-1.7b", "main"), log.toString());
        // The server cuts after 100,000 bytes; how many of them reach the client before the reset varies.
        assertTrue(requests.stream().anyMatch(r -> r.matches("GET qwen3-1\\.7b-ax650/qwen3_post\\.axmodel bytes=([1-9]\\d{3,4}|100000)-")),
                "resumed with a range from where the bytes stopped: " + requests);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(dir.resolve("models/qwen3-1.7b").resolve(f.getKey())), f.getKey());
        }
        assertTrue(requests.stream().anyMatch(r -> r.contains("cursor=2")), "the listing's second page was read");
        assertEquals(List.of(), store.verify("qwen3-1.7b"));
        assertTrue(store.installed("qwen3-1.7b"));
        requests.clear();
        assertEquals(0, store.pull("qwen3-1.7b", "main"), "a second pull downloads nothing");
        assertTrue(requests.stream().noneMatch(r -> r.contains("resolve") || r.startsWith("GET q") || r.startsWith("GET m")));
    }

    @Test
    void anInterruptedPullIsResumedByTheNextOneFromItsPartFile() throws Exception {
        Path part = Files.createDirectories(dir.resolve("models/qwen3-1.7b/qwen3-1.7b-ax650")).resolve("qwen3_post.axmodel.part");
        Files.write(part, java.util.Arrays.copyOf(files.get("qwen3-1.7b-ax650/qwen3_post.axmodel"), 123_456)); // the last pull, killed
        assertEquals(3, store().pull("qwen3-1.7b", "main"), log.toString());
        assertTrue(requests.contains("GET qwen3-1.7b-ax650/qwen3_post.axmodel bytes=123456-"), requests.toString());
        assertTrue(log.toString().contains("resuming at 123 kB"), log.toString());
        assertArrayEquals(files.get("qwen3-1.7b-ax650/qwen3_post.axmodel"), Files.readAllBytes(part.resolveSibling("qwen3_post.axmodel")));
        assertFalse(Files.exists(part));
    }

    @Test
    void progressOffATerminalIsAPlainLinePerTenPercentWithBytesRateAndTimeLeft() throws Exception {
        store().pull("qwen3-1.7b", "main");
        List<String> lines = log.toString().lines().filter(l -> l.matches("\\s+\\d+% .*")).toList();
        List<Integer> percents = lines.stream().map(l -> Integer.parseInt(l.trim().substring(0, l.trim().indexOf('%')))).toList();
        assertTrue(percents.size() >= 4 && percents.size() <= 10, "at most a line per 10 %: " + percents);
        for (int i = 1; i < percents.size(); i++) {
            assertTrue(percents.get(i) / 10 > percents.get(i - 1) / 10, "each line past another tenth: " + percents);
        }
        assertEquals(100, percents.get(percents.size() - 1), log.toString());
        assertTrue(lines.get(2).matches("\\s+\\d+% [\\d.]+ kB of 305 kB, [\\d.]+ (B|kB|MB|GB)/s, (\\d+s|\\d+m\\d\\ds) left"), lines.get(2));
        assertTrue(log.toString().contains("  get     qwen3-1.7b-ax650/qwen3_post.axmodel (300 kB)"), "each file named with its size: " + log);
        assertFalse(log.toString().contains("\r"), "no terminal redraws into a log");
    }

    @Test
    void onATerminalTheProgressLineIsRedrawnInPlaceNamingTheFile() {
        java.io.ByteArrayOutputStream screen = new java.io.ByteArrayOutputStream();
        long[] now = {0};
        PullProgress p = new PullProgress(new PrintStream(screen, true, StandardCharsets.UTF_8), true, 4_000_000, 1_000_000, () -> now[0]);
        p.startFile("qwen3_p128_l0_together.axmodel", 3_000_000, 0);
        now[0] = 1_000_000_000L;
        p.advance(1_000_000);
        String drawn = screen.toString(StandardCharsets.UTF_8);
        assertTrue(drawn.contains("\rqwen3_p128_l0_together.axmodel 1.00 MB/3.00 MB | total  50% 2.00 MB of 4.00 MB, 1.00 MB/s, 2s left"), drawn);
    }

    @Test
    void aMirrorNamedByHfEndpointIsUsedPathAndAll() throws Exception {
        URI mirror = ModelsCommand.host(dev.axfleet.config.Settings.of(Map.of()), "http://127.0.0.1:" + server.getAddress().getPort() + "/hf/");
        ModelStore store = new ModelStore(dir.resolve("models"), new ModelHost(mirror, null), ModelCatalog.builtIn(),
                new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(3, store.pull("qwen3-1.7b", "main"), log.toString());
        assertTrue(requests.stream().anyMatch(r -> r.startsWith("mirror /hf/" + REPO)), requests.toString());
        assertEquals(URI.create("https://models.example"), ModelsCommand.host(dev.axfleet.config.Settings.of(Map.of("models.host",
                "https://models.example")), "http://ignored"), "models.host, when set, wins over HF_ENDPOINT");
        assertEquals(URI.create("https://huggingface.co"), ModelsCommand.host(dev.axfleet.config.Settings.of(Map.of()), null));
        dev.axfleet.deploy.UserError bad = assertThrows(dev.axfleet.deploy.UserError.class,
                () -> ModelsCommand.host(dev.axfleet.config.Settings.of(Map.of()), "hf-mirror.com"));
        assertEquals("HF_ENDPOINT must be an http(s) address like https://huggingface.co, not 'hf-mirror.com'", bad.getMessage());
    }

    @Test
    void aHostThatCannotBeReachedIsOneSentence() throws Exception {
        int closed = dev.axfleet.broker.testing.TestBroker.freePort();
        ModelStore store = new ModelStore(dir.resolve("models"), new ModelHost(URI.create("http://127.0.0.1:" + closed), null),
                ModelCatalog.builtIn(), new PrintStream(log, true, StandardCharsets.UTF_8));
        dev.axfleet.deploy.UserError e = assertThrows(dev.axfleet.deploy.UserError.class, () -> store.pull("qwen3-1.7b", "main"));
        assertEquals("cannot reach the model host http://127.0.0.1:" + closed + " (connection refused); check the network, or set"
                + " HF_ENDPOINT (or models.host) to a mirror", e.getMessage());
    }

    @Test
    void aPullThatWouldFillTheDiskIsRefusedBeforeItStartsAndADryRunFetchesNothing() throws Exception {
        byte[] huge = new byte[1];
        files.put("qwen3-1.7b-ax650/qwen3_post.axmodel", huge); // listed small; the listing below says how big
        long free = Files.getFileStore(dir).getUsableSpace();
        server.removeContext("/api/models/" + REPO + "/tree/main");
        server.createContext("/api/models/" + REPO + "/tree/main", ex -> {
            String big = "[{\"type\":\"file\",\"path\":\"model.axmodel\",\"size\":1,\"lfs\":{\"oid\":\"" + "0".repeat(64)
                    + "\",\"size\":" + (free + (1L << 30)) + "}}]";
            byte[] body = big.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        dev.axfleet.deploy.UserError e = assertThrows(dev.axfleet.deploy.UserError.class, () -> store().pull("qwen3-1.7b", "main"));
        assertTrue(e.getMessage().startsWith("not enough disk for qwen3-1.7b: "), e.getMessage());
        assertTrue(requests.stream().noneMatch(r -> r.contains("model.axmodel")), "nothing downloaded: " + requests);
        assertFalse(Files.exists(dir.resolve("models/qwen3-1.7b")), "no folder made");
    }

    @Test
    void aDryRunListsWhatItWouldFetchAndFetchesNothing() throws Exception {
        assertEquals(0, store().pull("qwen3-1.7b", "main", true));
        assertTrue(log.toString().contains("would get qwen3-1.7b-ax650/qwen3_post.axmodel (300 kB)"), log.toString());
        assertTrue(requests.stream().noneMatch(r -> r.startsWith("GET q") || r.startsWith("GET m") || r.startsWith("GET c")), requests.toString());
    }

    @Test
    void aModelIsNamedByItsIdOrItsAlias() {
        ModelCatalog c = ModelCatalog.builtIn();
        assertEquals("sd15-lcm", c.find("lcm-lora-sdv1-5").orElseThrow().id(), "the repository's name means the one the units use");
        assertEquals("sd15-lcm", c.canonical("sd15-lcm"));
        assertEquals("AXERA-TECH/lcm-lora-sdv1-5", c.find("sd15-lcm").orElseThrow().repo());
        dev.axfleet.deploy.UserError e = assertThrows(dev.axfleet.deploy.UserError.class, () -> store().pull("sd-nope", "main"));
        assertEquals("unknown model 'sd-nope'; axfleet models list names those there are", e.getMessage());
    }

    @Test
    void aFileWhoseBytesDoNotMatchItsChecksumIsRejected() {
        corruptFile = "main_api_axcl_aarch64";
        IOException e = assertThrows(IOException.class, () -> store().pull("qwen3-1.7b", "main"));
        assertTrue(e.getMessage().contains("main_api_axcl_aarch64: SHA-256"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("models/qwen3-1.7b/main_api_axcl_aarch64")));
        assertFalse(Files.exists(dir.resolve("models/qwen3-1.7b/main_api_axcl_aarch64.part")), "no half-checked bytes left behind");
    }

    @Test
    void anLfsPointerServedInsteadOfTheFileIsNamedAsSuch() {
        pointerFile = "main_api_axcl_aarch64";
        IOException e = assertThrows(IOException.class, () -> store().pull("qwen3-1.7b", "main"));
        assertTrue(e.getMessage().contains("Git LFS pointer"), e.getMessage());
    }

    @Test
    void verifyNamesPointersInAFolderNotPulledByAxfleetAndDamageInOneThatWas() throws Exception {
        ModelStore store = store();
        Path cloned = Files.createDirectories(dir.resolve("models/qwen3-0.6b"));
        Files.writeString(cloned.resolve("main_api_axcl_aarch64"), POINTER);
        Files.write(cloned.resolve("config.json"), files.get("config.json"));
        List<String> problems = store.verify("qwen3-0.6b");
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("main_api_axcl_aarch64: a " + POINTER.length() + "-byte Git LFS pointer")), problems.toString());

        store.pull("qwen3-1.7b", "main");
        Path model = dir.resolve("models/qwen3-1.7b/qwen3-1.7b-ax650/qwen3_post.axmodel");
        byte[] bytes = Files.readAllBytes(model);
        bytes[10] ^= 1;
        Files.write(model, bytes);
        List<String> damaged = store.verify("qwen3-1.7b");
        assertEquals(1, damaged.size(), damaged.toString());
        assertTrue(damaged.get(0).startsWith("qwen3-1.7b-ax650/qwen3_post.axmodel: SHA-256"));

        store.remove("qwen3-1.7b");
        assertFalse(Files.exists(dir.resolve("models/qwen3-1.7b")));
    }

    @Test
    void aPlanSaysWhetherModelsFitOnTheCardTogether() {
        ModelCatalog c = ModelCatalog.builtIn();
        assertTrue(new Plan(List.of(c.find("qwen3-1.7b").orElseThrow(), c.find("sd15-lcm").orElseThrow()), 7040, 256).fits());
        Plan tooMuch = new Plan(List.of(c.find("qwen3-4b").orElseThrow(), c.find("sd15-lcm").orElseThrow()), 7040, 256);
        assertFalse(tooMuch.fits(), "Qwen3-4B leaves no room for SD (../shared/axera.md 8.5)");
        assertTrue(tooMuch.describe().contains("does NOT fit"));
    }

    private static String hex(String algorithm, byte[] prefix, byte[] content) {
        try {
            MessageDigest d = MessageDigest.getInstance(algorithm);
            d.update(prefix);
            return HexFormat.of().formatHex(d.digest(content));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
