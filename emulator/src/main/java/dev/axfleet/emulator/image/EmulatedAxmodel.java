package dev.axfleet.emulator.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the model descriptors axfleet's emulated {@code libaxcl_rt.so} loads in place of real {@code .axmodel}
 * files: their IO names, types and shapes as the manufacturer's models have them (../shared/axera.md §4.2, §8.7),
 * the CMM they occupy and how long a run takes on the card. Not models: the library computes a deterministic
 * function of the inputs instead.
 */
public final class EmulatedAxmodel {
    private final String kind;
    private final List<String> lines = new ArrayList<>();
    private long execMs;
    private long cmmKib;

    private EmulatedAxmodel(String kind) {
        this.kind = kind;
    }

    public static EmulatedAxmodel of(String kind) {
        return new EmulatedAxmodel(kind);
    }

    /**
     * @param type  int8, uint8, int16, uint16, int32, uint32, fp16, bf16 or fp32 (axcl_rt_engine_type.h's types the emulated
     *              library reads and writes)
     * @param shape like {@code 1x4x64x64}
     */
    public EmulatedAxmodel input(String name, String type, String shape) {
        lines.add("input=" + name + "," + type + "," + shape);
        return this;
    }

    public EmulatedAxmodel output(String name, String type, String shape) {
        lines.add("output=" + name + "," + type + "," + shape);
        return this;
    }

    public EmulatedAxmodel execMs(long ms) {
        this.execMs = ms;
        return this;
    }

    public EmulatedAxmodel cmmMiB(long mib) {
        this.cmmKib = mib * 1024;
        return this;
    }

    public Path write(Path file) {
        StringBuilder sb = new StringBuilder("# axfleet emulated axmodel: NOT a model, a descriptor for the emulated libaxcl_rt.so\n");
        sb.append("kind=").append(kind).append('\n');
        sb.append("exec_ms=").append(execMs).append('\n');
        sb.append("cmm_kib=").append(cmmKib).append('\n');
        lines.forEach(l -> sb.append(l).append('\n'));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
