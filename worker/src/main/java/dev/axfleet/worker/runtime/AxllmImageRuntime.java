package dev.axfleet.worker.runtime;

import dev.axfleet.broker.Base64Data;
import dev.axfleet.broker.image.Images;
import dev.axfleet.broker.interrogate.Interrogation;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.broker.image.ResizeMode;
import dev.axfleet.broker.Task;
import dev.axfleet.worker.image.Pictures;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The second image engine: {@code axllm serve} running the SD1.5-LCM repository as an upstream, for installs
 * that already run it (AXERA-TECH/ax-llm docs/sd15_axllm_implementation.md; ../shared/axera.md §4.6). The process
 * is kept as {@link AxllmServeRuntime} keeps a chat model's; images come from {@code POST /v1/images/generations}
 * (JSON) and {@code POST /v1/images/edits} (multipart) on its 512 × 512 variant, then are scaled and centre-cropped
 * to the size asked for, as the in-process engine does. It reports no steps while it runs and cannot stop a job
 * between steps; it has no CLIP interrogation. ax-llm validated it on the AX650 board, not through AXCL.
 */
public final class AxllmImageRuntime extends AxllmUpstream implements ImageRuntime {
    static final String VARIANT = "512x512";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    private final Duration requestTimeout;

    public AxllmImageRuntime(AxllmServeRuntime.Config config, Duration requestTimeout) {
        super(config);
        this.requestTimeout = requestTimeout;
    }

    @Override
    public String kind() {
        return "axllm-serve-images";
    }

    @Override
    public Set<Task> tasks() {
        return EnumSet.of(Task.TXT2IMG, Task.IMG2IMG);
    }

    @Override
    public void start(Duration timeout) throws RuntimeStartException {
        super.start(timeout);
        if (variant() == null) {
            throw new RuntimeStartException("axllm serve lists no " + VARIANT + " image variant: " + process.models());
        }
    }

    /** The model id of the 512 × 512 variant, as {@code /v1/models} lists it. */
    private String variant() {
        return process.models().stream().filter(m -> m.endsWith(VARIANT)).findFirst().orElse(null);
    }

    @Override
    public Images generate(ImageParams params, Progress progress) throws EngineException {
        if (progress.cancelled()) {
            throw new CancellationException("cancelled before it was sent to axllm serve");
        }
        long seed = params.seed() != null ? params.seed() : ThreadLocalRandom.current().nextLong(1L << 31);
        long start = System.nanoTime();
        HttpRequest request;
        if (params.task() == Task.IMG2IMG) {
            BufferedImage init;
            try {
                init = Pictures.fit(Pictures.decode(Base64Data.decode(params.initImage())), 512, 512, params.resizeMode());
            } catch (IllegalArgumentException e) {
                throw new EngineException(EngineException.Kind.REJECTED, "the input image: " + e.getMessage(), "params.init_image");
            }
            String boundary = "axfleet" + Long.toHexString(seed) + Long.toHexString(System.nanoTime());
            request = post("/v1/images/edits", "multipart/form-data; boundary=" + boundary,
                    multipart(boundary, params.prompt(), variant(), Pictures.png(init)));
        } else {
            JsonObject body = new JsonObject();
            body.addProperty("model", variant());
            body.addProperty("prompt", params.prompt());
            body.addProperty("size", VARIANT);
            body.addProperty("n", 1);
            body.addProperty("response_format", "b64_json");
            body.addProperty("seed", seed);
            request = post("/v1/images/generations", "application/json", body.toString().getBytes(StandardCharsets.UTF_8));
        }
        JsonObject answer = send(request);
        JsonArray data = answer.getAsJsonArray("data");
        if (data == null || data.isEmpty() || !data.get(0).getAsJsonObject().has("b64_json")) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve answered without an image: " + answer);
        }
        BufferedImage rendered = Pictures.decode(Base64.getDecoder().decode(data.get(0).getAsJsonObject().get("b64_json").getAsString()));
        // axllm serve says nothing while it renders; its txt2img runs the four LCM steps of its time embeddings.
        progress.step(1, 1);
        BufferedImage out = Pictures.fit(rendered, params.width(), params.height(), ResizeMode.CROP);
        JsonObject info = new JsonObject();
        info.addProperty("prompt", params.prompt());
        info.addProperty("seed", seed);
        if (params.task() == Task.TXT2IMG) {
            info.addProperty("steps", 4);
        }
        info.addProperty("sampler_name", "LCM");
        info.addProperty("width", params.width());
        info.addProperty("height", params.height());
        info.addProperty("render_size", rendered.getWidth() + "x" + rendered.getHeight());
        info.addProperty("sd_model_name", variant());
        info.addProperty("engine", kind());
        info.addProperty("emulated", emulated());
        JsonArray warnings = new JsonArray();
        if (params.task() == Task.IMG2IMG && params.denoisingStrength() != null) {
            warnings.add("denoising_strength " + params.denoisingStrength() + " not passed on: axllm serve's image edits run at their own strength");
        }
        if (params.task() == Task.IMG2IMG) {
            warnings.add("seed not passed on: axllm serve's image edits take none");
        }
        if (params.width() != rendered.getWidth() || params.height() != rendered.getHeight()) {
            warnings.add("rendered at " + rendered.getWidth() + "x" + rendered.getHeight() + ", then scaled and centre-cropped to "
                    + params.width() + "x" + params.height());
        }
        info.add("warnings", warnings);
        info.addProperty("total_ms", (System.nanoTime() - start) / 1_000_000);
        return new Images(List.of(Base64.getEncoder().encodeToString(Pictures.png(out))), seed, info.toString());
    }

    private HttpRequest post(String path, String type, byte[] body) {
        return HttpRequest.newBuilder(process.base().resolve(path)).timeout(requestTimeout).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    private JsonObject send(HttpRequest request) throws EngineException {
        HttpResponse<String> r;
        try {
            r = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve is not answering: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.STALLED, "axllm serve: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted", e);
        }
        JsonObject o;
        try {
            o = JsonParser.parseString(r.body()).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve answered " + r.statusCode() + " with no JSON");
        }
        if (r.statusCode() != 200) {
            String message = o.has("error") ? o.getAsJsonObject("error").get("message").getAsString() : r.body();
            throw new EngineException(r.statusCode() < 500 ? EngineException.Kind.REJECTED : EngineException.Kind.UNAVAILABLE,
                    "axllm serve: " + message);
        }
        return o;
    }

    private static byte[] multipart(String boundary, String prompt, String model, byte[] png) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(png.length + 1024);
        field(out, boundary, "model", model);
        field(out, boundary, "prompt", prompt);
        field(out, boundary, "size", VARIANT);
        field(out, boundary, "response_format", "b64_json");
        out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"init.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(png);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static void field(ByteArrayOutputStream out, String boundary, String name, String value) {
        out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n")
                .getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public Interrogation interrogate(InterrogateParams params) throws EngineException {
        throw new EngineException(EngineException.Kind.REJECTED, "axllm serve has no CLIP interrogation; use runtime.kind=sd15-lcm");
    }
}
