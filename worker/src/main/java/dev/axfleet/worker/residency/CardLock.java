package dev.axfleet.worker.residency;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One card's load lock on this host: whoever loads a model onto the card (or restarts one) holds it, so two loads never
 * overlap and each decides what fits from a card that is not changing under it. The workers of a host are separate
 * processes (one service per model) or threads of one ({@code axfleet up}): a file lock for the first, and a lock per
 * file in this JVM for the second (a JVM cannot hold the same file lock twice). Loading past the card's memory can take
 * the driver down (../shared/axera.md §8.5), which is why this is a lock and not a check.
 */
public final class CardLock {
    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private final Path file;

    public CardLock(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    /** The lock, held: close it to let the next loader in. */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /** Waits for the lock; null when {@code gone} says the wait is no longer wanted first. */
    public Held acquire(BooleanSupplier gone) {
        ReentrantLock local = IN_PROCESS.computeIfAbsent(file, f -> new ReentrantLock(true));
        try {
            while (!local.tryLock(100, TimeUnit.MILLISECONDS)) {
                if (gone.getAsBoolean()) {
                    return null;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        if (local.getHoldCount() > 1) {
            return local::unlock; // this thread holds the file lock already
        }
        try {
            Files.createDirectories(file.getParent());
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            while ((lock = channel.tryLock()) == null) {
                if (gone.getAsBoolean()) {
                    channel.close();
                    local.unlock();
                    return null;
                }
                Thread.sleep(100);
            }
            FileLock held = lock;
            return () -> {
                try {
                    held.release();
                    channel.close();
                } catch (IOException e) {
                    // closing the channel releases it all the same
                } finally {
                    local.unlock();
                }
            };
        } catch (IOException e) {
            local.unlock();
            throw new IllegalStateException("the card's load lock " + file + " cannot be taken: " + e.getMessage()
                    + " (worker.card_lock names it; the folder must be writable by every worker of this host)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            local.unlock();
            return null;
        }
    }

    public Path file() {
        return file;
    }
}
