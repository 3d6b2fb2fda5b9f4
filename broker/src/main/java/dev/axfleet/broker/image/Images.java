package dev.axfleet.broker.image;

import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import java.util.List;

/**
 * Generated images.
 *
 * @param png  base64 PNGs (no {@code data:} prefix), at the requested size
 * @param seed the seed that was used (the one asked for, or the one the worker picked)
 * @param info JSON text saying what ran: steps, sampler, render and output size, seed, warnings
 */
public record Images(List<String> png, long seed, String info) implements TaskOutput {
    public Images {
        png = List.copyOf(png);
    }

    @Override
    public Kind kind() {
        return Kind.IMAGE;
    }

    @Override
    public String logLine() {
        return "images=" + png.size() + " seed=" + seed;
    }
}
