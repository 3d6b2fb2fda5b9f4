package dev.axfleet.emulator;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The emulated card's one NPU, shared by every emulated runtime on it (docs/hardware.md A29): a model's compute is a run of
 * short turns on the NPU ({@link #TURN_MS} at most, as ax-llm runs a model an axmodel, a layer, at a time), and runtimes
 * with work at the same time take turns, so two at once each go at about half speed. The card's folder holds the NPU:
 * {@code npu.lock} (a file lock, held for a turn, given back by the OS when a process dies) and {@code npu.state} (mapped
 * shared memory: how many processes wait, and a count of turns taken), by which a process that ends its turn and has
 * more to do lets a waiting one go first instead of taking the lock again at once.
 *
 * <p>Without a card ({@code AXFLEET_EMULATOR_CARD} unset), or with {@code AXFLEET_EMULATOR_SHARED_NPU=off} (the
 * benchmark's "as if each model had an NPU of its own"), the time is slept and nobody waits.
 */
final class Npu {
    /** The longest turn a runtime takes before another may have the NPU, in wall-clock (scaled) milliseconds. */
    static final double TURN_MS = 10;
    /** How long a process that ended its turn waits for a waiting one to take the next. */
    private static final long HANDOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final int WAITERS = 0;
    private static final int TURNS = 8;

    /** Threads of this process take the NPU one at a time, in order. */
    private static final ReentrantLock local = new ReentrantLock(true);
    private static Npu shared;
    private static boolean looked;

    private final Path lockFile;
    private final MappedByteBuffer state;
    private FileChannel lock;

    private Npu(Path dir) throws IOException {
        this.lockFile = dir.resolve("npu.lock");
        try (FileChannel s = FileChannel.open(dir.resolve("npu.state"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            this.state = s.map(FileChannel.MapMode.READ_WRITE, 0, 64);
        }
        this.lock = open();
    }

    /** This process's card's NPU, or null when it has none to share. */
    static synchronized Npu shared() {
        if (!looked) {
            looked = true;
            String dir = System.getenv("AXFLEET_EMULATOR_CARD");
            if (dir != null && !dir.isBlank() && !"off".equalsIgnoreCase(System.getenv("AXFLEET_EMULATOR_SHARED_NPU"))) {
                try {
                    shared = new Npu(Path.of(dir));
                } catch (IOException e) {
                    AxllmServe.say("[W] emulated NPU: cannot open " + dir + " (" + e.getMessage() + "); compute is not shared");
                }
            }
        }
        return shared;
    }

    /** Runs {@code wallMs} of compute on the NPU, a turn at a time; false when interrupted. */
    boolean run(double wallMs) {
        double left = wallMs;
        while (left > 0) {
            double turn = Math.min(left, TURN_MS);
            if (!turn(Math.round(turn * 1_000_000))) {
                return false;
            }
            left -= turn;
        }
        return true;
    }

    private boolean turn(long nanos) {
        try {
            local.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            FileLock held = take();
            if (held == null) {
                return false;
            }
            long turn = (long) LONGS.getAndAdd(state, TURNS, 1L) + 1;
            boolean slept;
            try {
                slept = sleep(nanos);
            } finally {
                release(held);
            }
            if ((long) LONGS.getVolatile(state, WAITERS) > 0) {
                long until = System.nanoTime() + HANDOFF_NANOS;
                while ((long) LONGS.getVolatile(state, TURNS) == turn && System.nanoTime() < until) {
                    LockSupport.parkNanos(POLL_NANOS);
                }
            }
            return slept;
        } finally {
            local.unlock();
        }
    }

    /** The NPU's lock, polled (a blocked lock() would have the channel closed by an interrupt); null when interrupted. */
    private FileLock take() {
        LONGS.getAndAdd(state, WAITERS, 1L);
        try {
            while (true) {
                try {
                    FileLock l = lock.tryLock();
                    if (l != null) {
                        return l;
                    }
                } catch (IOException e) {
                    // The channel was closed under us (an interrupt): open it again.
                    try {
                        lock = open();
                    } catch (IOException again) {
                        return null;
                    }
                }
                if (Thread.currentThread().isInterrupted()) {
                    return null;
                }
                LockSupport.parkNanos(POLL_NANOS);
            }
        } finally {
            LONGS.getAndAdd(state, WAITERS, -1L);
        }
    }

    private void release(FileLock l) {
        try {
            l.release();
        } catch (IOException e) {
            // Its channel is closed, which released the lock too.
        }
    }

    private FileChannel open() throws IOException {
        return FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    private static boolean sleep(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
