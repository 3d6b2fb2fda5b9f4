package dev.axfleet.deploy.doctor;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.image.Images;
import dev.axfleet.broker.image.ResizeMode;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.broker.interrogate.Interrogation;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.monitor.probe.SmiParser;
import dev.axfleet.worker.image.AxclDevice;
import dev.axfleet.worker.image.ClipInterrogator;
import dev.axfleet.worker.image.Engine;
import dev.axfleet.worker.image.Sd15Pipeline;
import dev.axfleet.worker.image.Sd15Runtime;
import dev.axfleet.worker.runtime.ImageRuntime;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * SD1.5-LCM and CLIP in this process through libaxcl_rt.so, as the image worker runs them: Sd15Runtime for the picture
 * and the interrogation, AxclDevice for the engines' own descriptions and CMM figures.
 */
final class ImageChecks {
    private static final Set<Need> ALONE = Set.of(Need.CARD_ALONE);
    /** The card's pace for one 512 × 512 picture: UNet 4 × 434 ms + VAE 914 ms (M5 docs lcm_lora_sd; docs/hardware.md U18). */
    static final long EXPECTED_CARD_MS = 4 * 434 + 914;

    private ImageChecks() {
    }

    static List<Check> all() {
        return List.of(
                Check.of("U24", "the SD and CLIP engines' tensor types", Duration.ofMinutes(5), ALONE, List.of("A8", "F38"), ImageChecks::tensorTypes),
                Check.of("U19", "the card's CMM figures", Duration.ofMinutes(5), ALONE, List.of("F25"), ImageChecks::cmm),
                Check.of("U18", "SD1.5-LCM in the worker's process, on the card", Duration.ofMinutes(5), ALONE, List.of("F26"), ImageChecks::picture),
                Check.of("U20", "CLIP interrogation's files", Duration.ofMinutes(5), ALONE, List.of("F27"), ImageChecks::clip));
    }

    private static List<Path> engines(Path dir) {
        Path square = Files.isRegularFile(dir.resolve("unet.axmodel")) || !Files.isDirectory(dir.resolve("models")) ? dir : dir.resolve("models");
        List<Path> out = new ArrayList<>(Sd15Pipeline.engines(square));
        out.add(dir.resolve("clip/clip_base_vision.axmodel"));
        out.add(dir.resolve("clip/clip_base_text.axmodel"));
        return out.stream().filter(Files::isRegularFile).toList();
    }

    private static AxclDevice device(Lab lab) throws Verdict.Skip {
        AxclDevice d = AxclDevice.open(lab.target().library(), 0, lab.settings().duration("runtime.call_timeout", Duration.ofSeconds(120)));
        lab.closeAfterCheck(d);
        return d;
    }

    /** axcl_rt_engine_type.h:55-73 (docs/hardware.md F38). */
    static String typeName(int type) {
        return switch (type) {
            case 3 -> "int8";
            case 4 -> "uint8";
            case 5 -> "int16";
            case 6 -> "uint16";
            case 7 -> "int32";
            case 8 -> "uint32";
            case 13 -> "fp16";
            case 14 -> "bf16";
            case 15 -> "fp32";
            default -> "type " + type;
        };
    }

    static Verdict tensorTypes(Lab lab) throws Exception {
        Path dir = lab.target().imageModelDir();
        List<Path> files = engines(dir);
        if (files.isEmpty()) {
            throw new Verdict.Skip("no engines in " + dir);
        }
        lab.releaseAll();
        AxclDevice d = device(lab);
        List<String> notFp32 = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Path f : files) {
            try {
                Engine e = d.load(f);
                for (Engine.Tensor t : e.inputs()) {
                    lab.note(dir.relativize(f) + ": input " + t + " " + typeName(t.dataType()) + " (" + t.bytes() + " bytes)");
                    if (t.dataType() != 15) {
                        notFp32.add(f.getFileName() + " input " + t.name() + " " + typeName(t.dataType()));
                    }
                }
                for (Engine.Tensor t : e.outputs()) {
                    lab.note(dir.relativize(f) + ": output " + t + " " + typeName(t.dataType()) + " (" + t.bytes() + " bytes)");
                    if (t.dataType() != 15) {
                        notFp32.add(f.getFileName() + " output " + t.name() + " " + typeName(t.dataType()));
                    }
                }
            } catch (RuntimeException e) {
                failed.add(dir.relativize(f) + ": " + e.getMessage());
            }
        }
        String others = notFp32.isEmpty() ? "every tensor is FP32" : "not FP32: " + String.join(", ", notFp32);
        return failed.isEmpty() ? Verdict.verified(files.size() + " engines load and every tensor's type is one Engine converts; " + others
                + " (make EmulatedSdModel's descriptors match)") : Verdict.differs(String.join("; ", failed) + "; " + others);
    }

    static Verdict cmm(Lab lab) throws Exception {
        Path dir = lab.target().imageModelDir();
        lab.releaseAll();
        SmiParser.CmmInfo before = SmiParser.cmm(lab.smi("info", "--cmm", "-d", "0").output());
        long need;
        long free;
        try (AxclDevice d = AxclDevice.open(lab.target().library(), 0, lab.settings().duration("runtime.call_timeout", Duration.ofSeconds(120)))) {
            need = 0;
            for (Path f : engines(dir)) {
                long bytes = d.cmmBytes(f);
                lab.note("axclrtEngineGetUsage(" + dir.relativize(f) + "): " + bytes + " bytes of CMM");
                need += bytes;
            }
            free = d.freeCmmBytes();
        }
        lab.image();
        SmiParser.CmmInfo after = SmiParser.cmm(lab.smi("info", "--cmm", "-d", "0").output());
        if (before.usedMiB() == null || after.usedMiB() == null || before.totalMiB() == null) {
            return Verdict.differs("axcl-smi info --cmm gave no CMM Used/Total lines");
        }
        long needMiB = need >> 20;
        long grew = after.usedMiB() - before.usedMiB();
        long freeMiB = free >> 20;
        long smiFree = before.totalMiB() - before.usedMiB();
        String figures = "nothing loaded: " + before.usedMiB() + " of " + before.totalMiB() + " MiB used (axcl-smi), " + freeMiB
                + " MiB free (freeCmmSize, taken as KB); the engines need " + needMiB + " MiB (axclrtEngineGetUsage, taken as bytes); "
                + "with SD1.5-LCM loaded axcl-smi's Used grew by " + grew + " MiB";
        List<String> off = new ArrayList<>();
        if (Math.abs(grew - needMiB) > Math.max(64, needMiB / 10)) {
            off.add("the engines' figure and axcl-smi's growth differ");
        }
        if (Math.abs(freeMiB - smiFree) > 64) {
            off.add("freeCmmSize and axcl-smi's free CMM differ (" + freeMiB + " against " + smiFree + " MiB)");
        }
        return off.isEmpty() ? Verdict.verified(figures) : Verdict.differs(String.join("; ", off) + ": " + figures);
    }

    static Verdict picture(Lab lab) throws Exception {
        long t0 = System.nanoTime();
        boolean loaded = lab.imageLoaded();
        Sd15Runtime sd = lab.image();
        long loadMs = (System.nanoTime() - t0) / 1_000_000;
        ImageParams p = new ImageParams(Task.TXT2IMG, "a red fox in the snow", null, 42L, 512, 512, null, null, null, null, null, ResizeMode.CROP);
        Images images = sd.generate(p, new ImageRuntime.Progress() {
            @Override
            public void step(int done, int total) {
                lab.note("step " + done + "/" + total);
            }

            @Override
            public boolean cancelled() {
                return false;
            }
        });
        JsonObject info = JsonParser.parseString(images.info()).getAsJsonObject();
        lab.note("info: " + images.info());
        byte[] png = Base64.getDecoder().decode(images.png().get(0));
        Path file = lab.target().stateDir().resolve("fox.png");
        Files.createDirectories(file.getParent());
        Files.write(file, png);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        double spread = spread(image);
        long cardMs = info.get("card_ms").getAsLong();
        long expected = lab.emulated() ? Math.round(EXPECTED_CARD_MS * lab.settings().decimal("doctor.time_scale", 0.05)) : EXPECTED_CARD_MS;
        String figures = image.getWidth() + "x" + image.getHeight() + ", " + info.get("steps") + " steps, text encoder " + info.get("text_ms")
                + " ms, UNet and VAE on the card " + cardMs + " ms (the card's measured pace: about " + expected + "), host " + info.get("host_ms")
                + " ms" + (loaded ? "" : ", loaded in " + loadMs + " ms") + "; saved to " + file + ": look at it (a fox, not noise or a mosaic), "
                + "and attach it";
        if (spread < 2) {
            return Verdict.differs("the picture is flat (luminance spread " + Math.round(spread) + "): " + figures);
        }
        if (!lab.emulated() && cardMs > 2 * expected) {
            return Verdict.differs("the card took more than twice its measured time: " + figures);
        }
        return Verdict.verified(figures);
    }

    /** The standard deviation of the picture's luminance: 0 for one colour. */
    private static double spread(BufferedImage image) {
        double sum = 0;
        double sq = 0;
        int n = 0;
        for (int y = 0; y < image.getHeight(); y += 4) {
            for (int x = 0; x < image.getWidth(); x += 4) {
                int rgb = image.getRGB(x, y);
                double l = 0.299 * (rgb >> 16 & 255) + 0.587 * (rgb >> 8 & 255) + 0.114 * (rgb & 255);
                sum += l;
                sq += l * l;
                n++;
            }
        }
        double mean = sum / n;
        return Math.sqrt(Math.max(0, sq / n - mean * mean));
    }

    static Verdict clip(Lab lab) throws Exception {
        Path clip = lab.target().imageModelDir().resolve("clip");
        if (!ClipInterrogator.installed(clip)) {
            throw new Verdict.Skip("CLIP's files are not in " + clip + " (" + String.join(", ", ClipInterrogator.FILES) + "; docs/hardware.md U20)");
        }
        List<String> off = new ArrayList<>();
        AxclDevice d = device(lab);
        for (String[] e : new String[][] {{"clip_base_vision.axmodel", "768"}, {"clip_base_text.axmodel", "512"}}) {
            Engine engine = d.load(clip.resolve(e[0]));
            List<Engine.Tensor> outs = engine.outputs();
            lab.note(e[0] + ": outputs " + outs);
            if (outs.size() < 2 || outs.get(1).elements() != Long.parseLong(e[1])) {
                off.add(e[0] + "'s output 1 is " + (outs.size() < 2 ? "missing" : outs.get(1)) + ", not the pooled " + e[1] + " floats");
            }
        }
        Map<String, List<String>> categories = new LinkedHashMap<>();
        categories.put("animal", List.of("fox", "dog", "cat", "owl"));
        categories.put("season", List.of("winter", "summer"));
        Path fox = lab.target().stateDir().resolve("fox.png");
        String image = Files.isRegularFile(fox) ? Base64.getEncoder().encodeToString(Files.readAllBytes(fox)) : testImage();
        Interrogation i;
        try {
            i = lab.image().interrogate(new InterrogateParams(image, categories));
        } catch (RuntimeException | dev.axfleet.worker.runtime.EngineException e) {
            off.add("interrogation failed: " + e.getMessage());
            return Verdict.differs(String.join("; ", off));
        }
        lab.note("winners: " + i.winners());
        if (i.winners().size() != categories.size()) {
            off.add("winners for " + i.winners().keySet() + " of " + categories.keySet());
        }
        String seen = "output 1 is the pooled vector of both encoders (768 and 512 floats); on " + (Files.isRegularFile(fox) ? fox : "a test picture")
                + ": " + i.winners() + " (compare with the installations' service on the same picture)";
        return off.isEmpty() ? Verdict.verified(seen) : Verdict.differs(String.join("; ", off));
    }

    private static String testImage() throws java.io.IOException {
        BufferedImage b = new BufferedImage(224, 224, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 224; y++) {
            for (int x = 0; x < 224; x++) {
                b.setRGB(x, y, (x * 255 / 224) << 16 | (y * 255 / 224) << 8 | 128);
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ImageIO.write(b, "png", out);
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }
}
