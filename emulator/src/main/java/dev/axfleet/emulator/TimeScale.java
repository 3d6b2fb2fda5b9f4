package dev.axfleet.emulator;

/**
 * The emulator runs at the card's measured speed times {@code AXFLEET_EMULATOR_TIME_SCALE} (default 1;
 * tests use 0.01 so a 34 s model load takes 0.34 s). A scale of 0 means no delays at all.
 */
public final class TimeScale {
    private final double scale;

    public TimeScale(double scale) {
        if (scale < 0) {
            throw new IllegalArgumentException("time scale must be >= 0");
        }
        this.scale = scale;
    }

    public static TimeScale fromEnvironment() {
        String v = System.getenv("AXFLEET_EMULATOR_TIME_SCALE");
        return new TimeScale(v == null ? 1.0 : Double.parseDouble(v));
    }

    public double scale() {
        return scale;
    }

    /**
     * Computes for {@code ms} scaled on the card's NPU, which every emulated runtime on the card shares ({@link Npu},
     * docs/hardware.md A29): a runtime with work waits its turns while another computes. Without a card, as {@link #sleep}.
     */
    public boolean npu(double ms) {
        double wall = ms * scale;
        if (wall <= 0) {
            return true;
        }
        Npu npu = Npu.shared();
        return npu == null ? sleep(ms) : npu.run(wall);
    }

    /** Sleeps {@code ms} scaled; returns false when interrupted. */
    public boolean sleep(double ms) {
        long nanos = Math.round(ms * scale * 1_000_000);
        if (nanos <= 0) {
            return true;
        }
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
