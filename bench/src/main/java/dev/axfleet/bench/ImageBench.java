package dev.axfleet.bench;

import dev.axfleet.broker.image.Images;
import com.google.gson.JsonParser;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.broker.image.ResizeMode;
import dev.axfleet.broker.Task;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedSdModel;
import dev.axfleet.worker.image.ClipTokenizer;
import dev.axfleet.worker.image.Pictures;
import dev.axfleet.worker.image.Sd15Runtime;
import dev.axfleet.worker.runtime.ImageRuntime;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Time an image costs outside the card (docs/benchmarks.md): the image runtime as the worker runs it, through the
 * JNA binding, on the emulated libaxcl_rt.so with engines that take no time, so what remains is the host's share —
 * tokenizing, Java arrays into and out of the pinned buffers, the LCM scheduler, scaling, PNG encoding. The card's
 * calls (copies and executions) are measured apart and left out. Baseline in the same run: ImageIO's PNG encoding of
 * one 512 × 512 image. {@code bench/images [rounds]}.
 */
public final class ImageBench {
    private ImageBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        Path dir = Files.createTempDirectory("axfleet-image-bench");
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path model = EmulatedSdModel.write(dir.resolve("sd15"), true, 0);
        EmulatedSdModel.writeClip(model, 0);
        ClipTokenizer.writeFiles(model.resolve("tokenizer"), List.of());
        try (Sd15Runtime sd = new Sd15Runtime(new Sd15Runtime.Config(card.buildLibrary().toString(), 0, model, Duration.ofSeconds(60)))) {
            sd.start(Duration.ofSeconds(60));
            ImageRuntime.Progress quiet = new ImageRuntime.Progress() {
                @Override
                public void step(int done, int total) {
                }

                @Override
                public boolean cancelled() {
                    return false;
                }
            };
            Images first = sd.generate(txt2img(512, 512, 1), quiet);
            BufferedImage sample = Pictures.decode(Base64.getDecoder().decode(first.png().get(0)));
            Map<String, List<Double>> host = new LinkedHashMap<>();
            List<Double> png = new ArrayList<>();
            for (int i = 0; i < rounds + 5; i++) {
                boolean warm = i >= 5;
                record("txt2img 512x512", warm, host, hostMs(sd.generate(txt2img(512, 512, i), quiet)));
                record("txt2img 240x240 (scaled)", warm, host, hostMs(sd.generate(txt2img(240, 240, i), quiet)));
                record("img2img 512x512, strength 0.5", warm, host, hostMs(sd.generate(img2img(first.png().get(0), i), quiet)));
                long t = System.nanoTime();
                Pictures.png(sample);
                if (warm) {
                    png.add((System.nanoTime() - t) / 1e6);
                }
            }
            Map<String, List<String>> categories = new LinkedHashMap<>();
            categories.put("Age", List.of("Child", "Young adult", "Middle-aged", "Elderly"));
            categories.put("Religion", List.of("Bahá'í", "Buddhist", "Christian", "None"));
            List<Double> interrogate = new ArrayList<>();
            List<Double> decode = new ArrayList<>();
            byte[] firstPng = Base64.getDecoder().decode(first.png().get(0));
            InterrogateParams p = new InterrogateParams(first.png().get(0), categories);
            sd.interrogate(p);
            for (int i = 0; i < rounds + 5; i++) {
                long t = System.nanoTime();
                sd.interrogate(p);
                long d = System.nanoTime();
                Pictures.decode(firstPng);
                if (i >= 5) {
                    interrogate.add((d - t) / 1e6);
                    decode.add((System.nanoTime() - d) / 1e6);
                }
            }
            double base = median(png);
            System.out.printf(Locale.ROOT, "## Image host time (%d rounds after 5 warm-up, medians; emulated engines take no time)%n%n", rounds);
            System.out.println("| image | outside the card, ms | vs one PNG encode |");
            System.out.println("|---|---|---|");
            host.forEach((k, v) -> System.out.printf(Locale.ROOT, "| %s | %.1f | %.2f× |%n", k, median(v), median(v) / base));
            System.out.printf(Locale.ROOT, "| baseline: ImageIO PNG encode of one 512×512 | %.1f | 1× |%n", base);
            System.out.printf(Locale.ROOT, "| structured interrogation, 2 categories of cached terms (whole call, card calls included) | %.1f | %.2f× |%n",
                    median(interrogate), median(interrogate) / base);
            System.out.printf(Locale.ROOT, "| of which: decoding the 512×512 input PNG | %.1f | %.2f× |%n", median(decode), median(decode) / base);
        }
    }

    private static ImageParams txt2img(int w, int h, long seed) {
        return new ImageParams(Task.TXT2IMG, "a red fox in the snow, digital art, highly detailed", null, seed, w, h, null, null, null, null, null,
                ResizeMode.STRETCH);
    }

    private static ImageParams img2img(String init, long seed) {
        return new ImageParams(Task.IMG2IMG, "the same in winter", null, seed, 512, 512, null, null, null, init, 0.5, ResizeMode.STRETCH);
    }

    private static double hostMs(Images out) {
        return JsonParser.parseString(out.info()).getAsJsonObject().get("host_ms").getAsDouble();
    }

    private static void record(String name, boolean warm, Map<String, List<Double>> into, double ms) {
        if (warm) {
            into.computeIfAbsent(name, k -> new ArrayList<>()).add(ms);
        }
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
