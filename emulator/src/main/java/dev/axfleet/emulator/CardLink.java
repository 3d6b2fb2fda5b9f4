package dev.axfleet.emulator;

import dev.axfleet.emulator.card.EmulatedCard;
import java.nio.file.Path;

/**
 * Ties an emulated runtime to the emulated card named by {@code AXFLEET_EMULATOR_CARD}, as a real runtime is
 * tied to the real one: it does not start on a lost card (the documented 0x8030010b) or without the CMM
 * for its model (axllm's mem guard), it holds its CMM while it lives, it hangs when the card stops answering,
 * and it dies when the card is reset under it (its models are gone).
 */
final class CardLink {
    private static final long WATCH_MS = 200;
    /** Held open for the life of the process, as a runtime holds /dev/axcl_host. */
    private static java.nio.channels.FileChannel deviceNode;
    /** The card this process is registered on, or null without one. */
    private static EmulatedCard attached;
    /** How many parts a load takes the model's CMM in (LLM::Init takes it an axmodel at a time). */
    static final int LOAD_STEPS = 8;
    /** What the models this process loaded so far hold (asr_server keeps every model it loaded, load_asr_). */
    private static long heldKiB;

    private CardLink() {
    }

    /** Registers this process on the card, or exits the way the runtime would when it cannot. No-op without a card. */
    static Integer attach(String program, ModelProfile profile, Control control) {
        String dir = System.getenv("AXFLEET_EMULATOR_CARD");
        if (dir == null || dir.isBlank()) {
            return null;
        }
        EmulatedCard card = EmulatedCard.open(Path.of(dir));
        EmulatedCard.Snapshot s = card.snapshot();
        if (s.hung()) {
            AxllmServe.say("[E] axcl_pcie_port_create: Recv port ack timeout");
            System.exit(1);
        }
        if (!s.visible()) {
            AxllmServe.say("open /dev/axcl_host fail, errno: 2");
            AxllmServe.say("axcl init fail, ret = 0x8030010b");
            System.exit(1);
        }
        long needKiB = profile.cmmMiB() * 1024L;
        if (s.cmmFreeKiB() < needKiB) {
            AxllmServe.say("[E] mem guard: model needs " + profile.cmmMiB() + " MB of CMM, card has " + s.cmmFreeKiB() / 1024
                    + " MB free; not loading");
            System.exit(1);
        }
        long pid = ProcessHandle.current().pid();
        try {
            Path node = card.deviceNode();
            if (card.testFault(TestFault.HOLDS_OTHER_NODE)) {
                // Test fault HOLDS_OTHER_NODE: the runtime holds another of the driver's nodes (docs/hardware.md U15).
                node = node.resolveSibling("ax_mmb_dev");
                java.nio.file.Files.write(node, new byte[0]);
            }
            deviceNode = java.nio.channels.FileChannel.open(node, java.nio.file.StandardOpenOption.READ);
        } catch (java.io.IOException e) {
            AxllmServe.say("open /dev/axcl_host fail: " + e.getMessage());
            System.exit(1);
        }
        // Nothing held yet: load() takes it as the model's parts load, and all of it is given back when the process ends.
        card.register(pid, program, 0);
        attached = card;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> card.unregister(pid)));
        long boot = s.boot();
        Thread watcher = new Thread(() -> watch(card, boot, control), "emulated-card");
        watcher.setDaemon(true);
        watcher.start();
        return (int) ((s.cmmFreeKiB() - needKiB) / 1024);
    }

    /**
     * Loads the model: its load time slept in {@link #LOAD_STEPS} parts, the card's CMM taken part by part, as ax-llm's
     * {@code LLM::Init} initialises one axmodel after another and logs the card's remaining CMM after each
     * (src/runner/LLM.hpp@c26dcbb:182-213, "init %d axmodel ok,remain_cmm(%d MB)"). A second model loaded by the same process
     * (asr_server's) adds to what the first holds. False when interrupted.
     */
    static synchronized boolean load(String program, ModelProfile profile, TimeScale time) {
        long needKiB = profile.cmmMiB() * 1024L;
        long pid = ProcessHandle.current().pid();
        for (int i = 1; i <= LOAD_STEPS; i++) {
            if (!time.sleep((double) profile.loadMs() / LOAD_STEPS)) {
                return false;
            }
            if (attached != null) {
                attached.register(pid, program, heldKiB + needKiB * i / LOAD_STEPS);
            }
        }
        heldKiB += needKiB;
        return true;
    }

    /** Whether this process is registered on a card already (a second model's load only adds to it). */
    static synchronized boolean attached() {
        return attached != null;
    }

    private static void watch(EmulatedCard card, long boot, Control control) {
        boolean hanging = false;
        while (true) {
            try {
                Thread.sleep(WATCH_MS);
            } catch (InterruptedException e) {
                return;
            }
            EmulatedCard.Snapshot s = card.snapshot();
            if (s.boot() != boot) {
                AxllmServe.say("[E] device 1 is dead");
                Runtime.getRuntime().halt(1);
            }
            if (!s.answering() && !hanging) {
                hanging = true;
                AxllmServe.say("[E] heartbeat_recv_thread: device 1: dead!");
                control.set(new Fault(Fault.Mode.HANG, 0, Integer.MAX_VALUE));
            }
        }
    }
}
