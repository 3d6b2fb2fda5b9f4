package dev.axfleet.worker;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Ids of jobs whose result the broker has acknowledged. A worker that dies after publishing a result but
 * before acknowledging its job gets that job again on restart; this record, kept on disk, makes it
 * acknowledge the job instead of answering twice. Bounded: the oldest ids are forgotten.
 */
final class AnsweredJobs {
    private final Path file;
    private final int capacity;
    private final LinkedHashSet<String> ids = new LinkedHashSet<>();
    private BufferedWriter out;
    private int lines;

    AnsweredJobs(Path file, int capacity) {
        this.file = file;
        this.capacity = capacity;
        try {
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
                all.subList(Math.max(0, all.size() - capacity), all.size()).forEach(this::remember);
            }
            rewrite();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the answered-jobs record at " + file, e);
        }
    }

    synchronized boolean contains(String id) {
        return ids.contains(id);
    }

    /** Records a job as answered; written through to the OS before the job is acknowledged. */
    synchronized void add(String id) {
        if (!remember(id)) {
            return;
        }
        try {
            out.write(id);
            out.newLine();
            out.flush();
            if (++lines > 2 * capacity) {
                rewrite();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean remember(String id) {
        if (!ids.add(id)) {
            return false;
        }
        if (ids.size() > capacity) {
            ids.remove(ids.iterator().next());
        }
        return true;
    }

    private void rewrite() throws IOException {
        if (out != null) {
            out.close();
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, ids, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        lines = ids.size();
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }
}
