package dev.axfleet.deploy.models;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.deploy.UserError;
import dev.axfleet.deploy.models.ModelHost.RemoteFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The model folders under {@code models.dir} (/var/lib/axfleet/models/&lt;id&gt;): pulled from the model host
 * with resumable downloads, every file checked against the size and hash the host lists, and a manifest
 * kept so {@code verify} works offline later.
 */
public final class ModelStore {
    static final String MANIFEST = ".axfleet-manifest.json";
    /** The first line of a Git LFS pointer file (the 132-byte "binary" pitfall; ../shared/axera.md §8.4). */
    static final String LFS_POINTER = "version https://git-lfs.github.com/spec/v1";
    private static final int ATTEMPTS = 3;
    /** Room left on the disk after a pull: a full disk stops the journal and Mosquitto's persistence too. */
    static final long DISK_MARGIN = 256L << 20;

    private final Path root;
    private final ModelHost host;
    private final ModelCatalog catalog;
    private final PrintStream out;
    private final boolean terminal;

    ModelStore(Path root, ModelHost host, ModelCatalog catalog, PrintStream out) {
        this(root, host, catalog, out, false);
    }

    /** @param terminal whether {@code out} is a terminal: progress redrawn in place, else a line per 10 % */
    ModelStore(Path root, ModelHost host, ModelCatalog catalog, PrintStream out, boolean terminal) {
        this.root = root;
        this.host = host;
        this.catalog = catalog;
        this.out = out;
        this.terminal = terminal;
    }

    Path folder(String id) {
        return root.resolve(id);
    }

    boolean installed(String id) {
        return Files.isRegularFile(folder(id).resolve(MANIFEST));
    }

    /** Downloads every file of the model at {@code revision} that is missing or wrong; returns the number fetched. */
    int pull(String id, String revision) throws IOException, InterruptedException {
        return pull(id, revision, false);
    }

    /**
     * Downloads every file of the model at {@code revision} that is missing or wrong, after checking the disk
     * has room for them; returns the number fetched. {@code dryRun}: lists what it would fetch, fetches nothing.
     */
    int pull(String name, String revision, boolean dryRun) throws IOException, InterruptedException {
        ModelCatalog.Entry entry = catalog.find(name).orElseThrow(() -> new UserError("unknown model '" + name + "'; axfleet models list"
                + " names those there are"));
        String id = entry.id();
        if (entry.repo().startsWith("apt:")) {
            // StackFlow's models come as M5Stack's Debian packages, installed where its units look (/opt/m5stack/data).
            throw new UserError(id + " is installed with M5Stack's package, not pulled: sudo apt install llm-sys llm-melotts "
                    + entry.repo().substring(4) + " (M5 docs, \"RaspberryPi & LLM8850 软件包获取教程\")");
        }
        List<RemoteFile> files = host.list(entry.repo(), revision);
        if (files.isEmpty()) {
            throw new IOException(entry.repo() + " lists no files at revision " + revision);
        }
        Path dir = folder(id);
        List<RemoteFile> wanted = new ArrayList<>();
        long total = 0;
        long have = 0;
        long need = 0;
        for (RemoteFile f : files) {
            total += f.size();
            Path dest = inside(dir, f.path());
            if (Files.isRegularFile(dest) && problem(dest, f) == null) {
                out.println("  have    " + f.path());
                have += f.size();
                continue;
            }
            wanted.add(f);
            long part = partSize(dest, f);
            have += part;
            need += f.size() - part;
        }
        Path existing = dir;
        while (!Files.exists(existing)) {
            existing = existing.getParent();
        }
        long free = Files.getFileStore(existing).getUsableSpace();
        out.println(id + ": " + files.size() + " files, " + PullProgress.bytes(total) + " from " + host.base() + "/" + entry.repo() + " at "
                + revision + " into " + dir + "; " + PullProgress.bytes(need) + " to download, " + PullProgress.bytes(free) + " free there");
        if (need + DISK_MARGIN > free) {
            throw new UserError("not enough disk for " + id + ": " + PullProgress.bytes(need) + " to download and " + PullProgress.bytes(free)
                    + " free on " + existing + " (keeping " + PullProgress.bytes(DISK_MARGIN) + " spare); free some space or set models.dir");
        }
        if (dryRun) {
            wanted.forEach(f -> out.println("  would get " + f.path() + " (" + PullProgress.bytes(f.size()) + ")"));
            out.println(id + ": dry run, nothing downloaded");
            return 0;
        }
        Files.createDirectories(dir);
        PullProgress progress = new PullProgress(out, terminal, total, have, System::nanoTime);
        for (RemoteFile f : wanted) {
            fetch(entry.repo(), revision, f, inside(dir, f.path()), progress);
        }
        writeManifest(dir, entry, revision, files);
        out.println(id + ": " + files.size() + " files at " + revision + " in " + dir + " (" + wanted.size() + " downloaded, every one checked)");
        return wanted.size();
    }

    /** Bytes of {@code dest}'s unfinished download that a pull resumes from. */
    private static long partSize(Path dest, RemoteFile f) throws IOException {
        Path part = dest.resolveSibling(dest.getFileName() + ".part");
        long n = Files.isRegularFile(part) ? Files.size(part) : 0;
        return n > f.size() ? 0 : n;
    }

    private void fetch(String repo, String revision, RemoteFile f, Path dest, PullProgress progress) throws IOException, InterruptedException {
        Files.createDirectories(dest.getParent());
        Path part = dest.resolveSibling(dest.getFileName() + ".part");
        IOException last = null;
        boolean announced = false;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (have > f.size()) {
                Files.delete(part);
                have = 0;
            }
            if (!announced) {
                progress.startFile(f.path(), f.size(), have);
                announced = true;
            }
            try {
                HttpResponse<InputStream> r = host.download(repo, revision, f.path(), have);
                boolean append = have > 0 && r.statusCode() == 206;
                if (have > 0 && !append) {
                    progress.restartFile(have);
                }
                try (InputStream in = r.body();
                     OutputStream w = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                             append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        w.write(buffer, 0, n);
                        progress.advance(n);
                    }
                }
                long got = Files.size(part);
                if (got < f.size() && !isLfsPointer(part)) {
                    throw new IOException("the transfer ended after " + got + " of " + f.size() + " bytes");
                }
                String wrong = problem(part, f);
                if (wrong != null) {
                    progress.restartFile(got);
                    Files.deleteIfExists(part);
                    throw new IOException(f.path() + ": " + wrong);
                }
                Files.move(part, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                progress.endFile();
                return;
            } catch (IOException e) {
                last = e;
                progress.endFile();
                if (Files.notExists(part)) {
                    break; // the file came whole and was wrong: downloading it again gives the same bytes
                }
                out.println("  cut     " + f.path() + " after " + Files.size(part) + " bytes (" + e.getMessage() + "); resuming");
            }
        }
        throw last;
    }

    /** What is wrong with {@code file} as the listed {@code expected}, or null when it is right. */
    static String problem(Path file, RemoteFile expected) throws IOException {
        long size = Files.size(file);
        if (size != expected.size()) {
            if (size < 1024 && expected.size() > 1024 && isLfsPointer(file)) {
                return "a " + size + "-byte Git LFS pointer, not the " + expected.size() + "-byte file (a git clone without"
                        + " git-lfs, or a mirror that stores pointers; axfleet models pull fetches the content)";
            }
            return size + " bytes where the model host lists " + expected.size();
        }
        if (expected.sha256() != null) {
            String got = hash(file, "SHA-256", null);
            if (!got.equalsIgnoreCase(expected.sha256())) {
                return "SHA-256 " + got + " where the model host lists " + expected.sha256();
            }
        } else if (expected.gitOid() != null && expected.gitOid().matches("[0-9a-f]{40}")) {
            String got = hash(file, "SHA-1", ("blob " + size + "\0").getBytes(StandardCharsets.UTF_8));
            if (!got.equals(expected.gitOid())) {
                return "git object " + got + " where the model host lists " + expected.gitOid();
            }
        }
        return null;
    }

    /**
     * Checks a model folder: against its manifest when axfleet pulled it, and in every case for Git LFS
     * pointers standing in for real files. Returns the problems, none when all is well.
     */
    List<String> verify(String id) throws IOException {
        Path dir = folder(id);
        List<String> problems = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            problems.add(dir + " does not exist: sudo axfleet models pull " + id);
            return problems;
        }
        Path manifest = dir.resolve(MANIFEST);
        if (Files.isRegularFile(manifest)) {
            for (JsonElement e : JsonParser.parseString(Files.readString(manifest)).getAsJsonObject().getAsJsonArray("files")) {
                JsonObject f = e.getAsJsonObject();
                RemoteFile expected = new RemoteFile(f.get("path").getAsString(), f.get("size").getAsLong(),
                        f.has("sha256") ? f.get("sha256").getAsString() : null, f.has("git_oid") ? f.get("git_oid").getAsString() : null);
                Path file = inside(dir, expected.path());
                String wrong = Files.isRegularFile(file) ? problem(file, expected) : "missing";
                if (wrong != null) {
                    problems.add(expected.path() + ": " + wrong);
                }
            }
        } else {
            problems.add("no " + MANIFEST + ": not pulled by axfleet, so only checked for Git LFS pointers");
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.filter(Files::isRegularFile).sorted().toList()) {
                if (Files.size(p) < 1024 && isLfsPointer(p)) {
                    String name = dir.relativize(p).toString();
                    if (problems.stream().noneMatch(x -> x.startsWith(name + ":"))) {
                        problems.add(name + ": a " + Files.size(p) + "-byte Git LFS pointer, not the file it names");
                    }
                }
            }
        }
        return problems;
    }

    void remove(String id) throws IOException {
        Path dir = folder(id);
        if (!Files.isDirectory(dir)) {
            out.println(id + ": nothing to remove at " + dir);
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        out.println(id + ": removed " + dir);
    }

    private static void writeManifest(Path dir, ModelCatalog.Entry entry, String revision, List<RemoteFile> files) throws IOException {
        JsonObject m = new JsonObject();
        m.addProperty("id", entry.id());
        m.addProperty("repo", entry.repo());
        m.addProperty("revision", revision);
        JsonArray list = new JsonArray();
        for (RemoteFile f : files) {
            JsonObject o = new JsonObject();
            o.addProperty("path", f.path());
            o.addProperty("size", f.size());
            if (f.sha256() != null) {
                o.addProperty("sha256", f.sha256());
            }
            if (f.gitOid() != null) {
                o.addProperty("git_oid", f.gitOid());
            }
            list.add(o);
        }
        m.add("files", list);
        Files.writeString(dir.resolve(MANIFEST), new GsonBuilder().setPrettyPrinting().create().toJson(m));
    }

    /** {@code relative} under {@code dir}; a listed path that would lead outside it is refused. */
    private static Path inside(Path dir, String relative) throws IOException {
        Path p = dir.resolve(relative).normalize();
        if (!p.startsWith(dir) || p.equals(dir)) {
            throw new IOException("the model host lists a path outside the model folder: " + relative);
        }
        return p;
    }

    static boolean isLfsPointer(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(LFS_POINTER.length()), StandardCharsets.UTF_8).equals(LFS_POINTER);
        }
    }

    private static String hash(Path file, String algorithm, byte[] prefix) throws IOException {
        try {
            MessageDigest d = MessageDigest.getInstance(algorithm);
            if (prefix != null) {
                d.update(prefix);
            }
            byte[] buffer = new byte[1 << 16];
            try (InputStream in = Files.newInputStream(file)) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    d.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
