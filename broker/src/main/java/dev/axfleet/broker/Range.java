package dev.axfleet.broker;

/** The bounds of a number a client sends, written once in the params record that owns it. */
public record Range(double min, double max) {
    public int minInt() {
        return (int) min;
    }

    public int maxInt() {
        return (int) Math.min(Integer.MAX_VALUE, max);
    }
}
