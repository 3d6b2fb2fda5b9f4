package dev.axfleet.gateway.images;

import dev.axfleet.broker.Base64Data;
import dev.axfleet.broker.image.Images;
import dev.axfleet.broker.interrogate.Interrogation;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.Task;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.bus.Submission;
import dev.axfleet.gateway.openai.OpenAiFacade;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The image routes, each in the shape its clients read (../shared/clients.md): AUTOMATIC1111's
 * {@code /sdapi/v1/*} ({@code {images, parameters, info}}, errors {@code {"detail"}}), the installations'
 * {@code POST /generate} ({@code {status, base64, seed, ...}}, errors {@code {status: "error", error}}) and
 * OpenAI's {@code POST /v1/images/generations}. All run jobs on {@code gateway.image_model} through the bus.
 */
public final class ImageFacade {
    private static final Logger log = LoggerFactory.getLogger(ImageFacade.class);
    private static final Pattern SIZE = Pattern.compile("(\\d{1,4})x(\\d{1,4})");
    /** What an interrogation needs on the image worker (axera.md §8.7). */
    static final String CLIP_FILES = "clip/clip_base_vision.axmodel, clip/clip_base_text.axmodel, clip/visual_projection.npy, "
            + "clip/text_projection.npy and clip/tags/imagenet_21k_labels_clean.txt";

    private final JobRunner runner;
    private final ModelRegistry registry;
    private final GatewayConfig config;

    public ImageFacade(JobRunner runner, ModelRegistry registry, GatewayConfig config) {
        this.runner = runner;
        this.registry = registry;
        this.config = config;
    }

    public void register(Service http) {
        http.post("/sdapi/v1/txt2img", (req, res) -> a1111(req, res, Task.TXT2IMG));
        http.post("/sdapi/v1/img2img", (req, res) -> a1111(req, res, Task.IMG2IMG));
        http.get("/sdapi/v1/sd-models", (req, res) -> Json.respond(res, sdModels()));
        http.get("/sdapi/v1/samplers", (req, res) -> Json.respond(res, samplers()));
        http.get("/sdapi/v1/options", (req, res) -> Json.respond(res, options()));
        http.post("/sdapi/v1/options", (req, res) -> Json.respond(res, options()));
        http.get("/sdapi/v1/progress", (req, res) -> Json.respond(res, progress()));
        http.post("/sdapi/v1/interrupt", (req, res) -> {
            runner.imageJobs().forEach(Submission::interrupt);
            return Json.respond(res, new JsonObject());
        });
        http.post("/sdapi/v1/interrogate", (req, res) -> interrogate(req, res, false));
        http.post("/sdapi/v1/interrogate/structured", (req, res) -> interrogate(req, res, true));
        http.post("/generate", this::generate);
        http.post("/v1/images/generations", this::openAi);
    }

    /** Runs {@code count} images of {@code params}, the seed counting up from the first as AUTOMATIC1111 does. */
    private List<Images> run(ImageParams params, int count, Request req) throws ApiException {
        String model = runner.defaultModel(Kind.IMAGE);
        List<Images> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ImageParams p = params;
            if (i > 0) {
                long seed = out.get(0).seed() + i;
                p = new ImageParams(params.task(), params.prompt(), params.negativePrompt(), seed, params.width(), params.height(),
                        params.steps(), params.cfgScale(), params.sampler(), params.initImage(), params.denoisingStrength(),
                        params.resizeMode());
            }
            JobResult r = runner.callShared(model, p, req, i);
            out.add(r.output(Images.class));
        }
        return out;
    }

    private Object a1111(Request req, Response res, Task task) {
        try {
            JsonObject body = Bodies.json(req, config.maxImageBodyBytes(), "gateway.max_image_body_bytes");
            ImageParams params = ImageRequest.params(body, task);
            List<Images> images = run(params, ImageRequest.count(body), req);
            if (Rgb565.wanted(req, ImageRequest.string(body, "format"))) {
                return Rgb565.respond(res, images.get(0).png().get(0), params.width(), params.height());
            }
            JsonObject o = new JsonObject();
            JsonArray list = new JsonArray();
            images.forEach(i -> list.add(i.png().get(0)));
            o.add("images", list);
            JsonObject parameters = body.deepCopy();
            parameters.remove("init_images");
            parameters.remove("init_image");
            o.add("parameters", parameters);
            o.addProperty("info", info(images).toString());
            return Json.respond(res, o);
        } catch (ApiException e) {
            return detail(req, res, e);
        }
    }

    /** The worker's info of the first image, with every image's seed and prompt as AUTOMATIC1111 lists them. */
    private static JsonObject info(List<Images> images) {
        JsonObject info = JsonParser.parseString(images.get(0).info()).getAsJsonObject();
        JsonArray seeds = new JsonArray();
        JsonArray prompts = new JsonArray();
        for (Images i : images) {
            seeds.add(i.seed());
            prompts.add(info.get("prompt"));
        }
        info.add("all_seeds", seeds);
        info.add("all_prompts", prompts);
        info.addProperty("batch_size", images.size());
        return info;
    }

    private Object generate(Request req, Response res) {
        try {
            JsonObject body = Bodies.json(req, config.maxImageBodyBytes(), "gateway.max_image_body_bytes");
            String mode = ImageRequest.string(body, "mode");
            if (mode == null || ImageRequest.string(body, "prompt") == null) {
                throw ApiException.badRequest(mode == null ? "mode" : "prompt", "required (mode: txt2img or img2img, and a prompt)");
            }
            Task task = switch (mode) {
                case "txt2img" -> Task.TXT2IMG;
                case "img2img" -> Task.IMG2IMG;
                default -> throw ApiException.badRequest("mode", "must be txt2img or img2img, not " + mode);
            };
            long start = System.nanoTime();
            ImageParams params = ImageRequest.params(body, task);
            Images image = run(params, 1, req).get(0);
            if (Rgb565.wanted(req, ImageRequest.string(body, "format"))) {
                return Rgb565.respond(res, image.png().get(0), params.width(), params.height());
            }
            JsonObject info = JsonParser.parseString(image.info()).getAsJsonObject();
            JsonObject o = new JsonObject();
            o.addProperty("status", "ok");
            o.addProperty("base64", image.png().get(0));
            JsonArray images = new JsonArray();
            images.add(image.png().get(0));
            o.add("images", images);
            o.addProperty("seed", image.seed());
            o.addProperty("text_time_ms", info.has("text_ms") ? info.get("text_ms").getAsLong() : 0);
            o.addProperty("total_time_ms", (System.nanoTime() - start) / 1_000_000);
            o.addProperty("info", image.info());
            return Json.respond(res, o);
        } catch (ApiException e) {
            log.info("{} {} refused: {}", req.requestMethod(), req.pathInfo(), e.getMessage());
            JsonObject o = new JsonObject();
            o.addProperty("status", "error");
            o.addProperty("error", e.getMessage());
            return Json.respond(res, e.status(), o, e.headers());
        }
    }

    private String openAi(Request req, Response res) {
        try {
            JsonObject body = Bodies.json(req, config.maxImageBodyBytes(), "gateway.max_image_body_bytes");
            String prompt = ImageRequest.string(body, "prompt");
            if (prompt == null || prompt.isBlank()) {
                throw ApiException.badRequest("prompt", "required");
            }
            String format = ImageRequest.string(body, "response_format");
            if (format != null && !format.equals("b64_json")) {
                throw ApiException.badRequest("response_format", "only b64_json is served (images are not stored for URLs)");
            }
            ImageRequest.number(body, "n", 1, 1);
            String size = ImageRequest.string(body, "size");
            JsonObject a1111 = new JsonObject();
            a1111.addProperty("prompt", prompt);
            if (body.has("seed")) {
                a1111.add("seed", body.get("seed"));
            }
            if (size != null && !size.equals("auto")) {
                Matcher m = SIZE.matcher(size);
                if (!m.matches()) {
                    throw ApiException.badRequest("size", "must be WIDTHxHEIGHT, e.g. 512x512");
                }
                a1111.addProperty("width", Integer.parseInt(m.group(1)));
                a1111.addProperty("height", Integer.parseInt(m.group(2)));
            }
            Images image = run(ImageRequest.params(a1111, Task.TXT2IMG), 1, req).get(0);
            JsonObject o = new JsonObject();
            o.addProperty("created", System.currentTimeMillis() / 1000);
            JsonArray data = new JsonArray();
            JsonObject d = new JsonObject();
            d.addProperty("b64_json", image.png().get(0));
            d.addProperty("revised_prompt", prompt);
            data.add(d);
            o.add("data", data);
            return Json.respond(res, o);
        } catch (ApiException e) {
            return OpenAiFacade.error(res, e);
        }
    }

    private String interrogate(Request req, Response res, boolean structured) {
        try {
            JsonObject body = Bodies.json(req, config.maxImageBodyBytes(), "gateway.max_image_body_bytes");
            String image = ImageRequest.string(body, "image");
            if (image == null || image.isBlank()) {
                throw ApiException.badRequest("image", "required: a base64 PNG or JPEG");
            }
            try {
                Base64Data.decode(image);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("image", "not base64: " + e.getMessage());
            }
            Map<String, List<String>> categories = null;
            if (structured) {
                categories = categories(body.get("categories"));
            }
            JobResult r;
            try {
                r = runner.callShared(interrogationModel(), new InterrogateParams(image.startsWith("data:")
                        ? image.substring(image.indexOf(',') + 1) : image, categories), req);
            } catch (ApiException e) {
                if ("task".equals(e.param())) {
                    throw clipMissing();
                }
                throw e;
            }
            Interrogation out = r.output(Interrogation.class);
            JsonObject o = new JsonObject();
            if (structured) {
                JsonObject results = new JsonObject();
                out.winners().forEach((name, w) -> {
                    JsonObject wo = new JsonObject();
                    wo.addProperty("winner", w.winner());
                    wo.addProperty("confidence", w.confidence());
                    results.add(name, wo);
                });
                o.add("results", results);
                JsonArray general = new JsonArray();
                out.tags().forEach(t -> general.add(t.tag()));
                o.add("general_tags", general);
            } else {
                o.addProperty("caption", out.caption());
                JsonArray tags = new JsonArray();
                out.tags().forEach(t -> {
                    JsonObject to = new JsonObject();
                    to.addProperty("tag", t.tag());
                    to.addProperty("score", t.score());
                    tags.add(to);
                });
                o.add("interrogations", tags);
            }
            return Json.respond(res, o);
        } catch (ApiException e) {
            return detail(req, res, e);
        }
    }

    /** The image model AUTOMATIC1111's routes list as loaded: the first that does images, else the configured name. */
    private String imageModelName() {
        return registry.modelsOf(Kind.IMAGE).stream().findFirst().orElse(config.imageModel());
    }

    /**
     * The model that tags images: one whose workers take interrogation (or a configured image model they have not
     * spoken for yet; its worker then refuses the task, answered 501 below), else 501 at once.
     */
    private String interrogationModel() throws ApiException {
        try {
            return runner.defaultModel(Kind.INTERROGATION);
        } catch (ApiException e) {
            if (!registry.modelsOf(Kind.IMAGE).isEmpty()) {
                throw clipMissing();
            }
            throw e;
        }
    }

    private static ApiException clipMissing() {
        return new ApiException(501, "CLIP interrogation is not installed on the image worker: it needs " + CLIP_FILES
                + " in its model folder (docs/hardware.md)", null, "not_implemented", Map.of());
    }

    private static Map<String, List<String>> categories(JsonElement c) throws ApiException {
        if (!(c instanceof JsonObject o) || o.size() == 0 || o.size() > InterrogateParams.MAX_CATEGORIES) {
            throw ApiException.badRequest("categories", "must be an object of 1 to " + InterrogateParams.MAX_CATEGORIES
                    + " categories, each a list of terms");
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            List<String> terms = new ArrayList<>();
            if (e.getValue() instanceof JsonArray a) {
                for (JsonElement t : a) {
                    if (t.isJsonPrimitive() && t.getAsJsonPrimitive().isString() && !t.getAsString().isEmpty()
                            && t.getAsString().length() <= InterrogateParams.MAX_TERM_LENGTH) {
                        terms.add(t.getAsString());
                    } else {
                        throw ApiException.badRequest("categories." + e.getKey(), "terms must be strings of 1 to "
                                + InterrogateParams.MAX_TERM_LENGTH + " characters");
                    }
                }
            }
            if (terms.isEmpty() || terms.size() > InterrogateParams.MAX_TERMS) {
                throw ApiException.badRequest("categories." + e.getKey(), "needs 1 to " + InterrogateParams.MAX_TERMS + " terms");
            }
            out.put(e.getKey(), terms);
        }
        return out;
    }

    /** AUTOMATIC1111's error body, plus {@code error} as the installations' SD service writes it. */
    private static String detail(Request req, Response res, ApiException e) {
        log.info("{} {} refused: {}", req.requestMethod(), req.pathInfo(), e.getMessage());
        JsonObject o = new JsonObject();
        o.addProperty("detail", e.getMessage());
        o.addProperty("error", e.getMessage());
        return Json.respond(res, e.status(), o, e.headers());
    }

    private JsonArray sdModels() {
        JsonArray a = new JsonArray();
        JsonObject m = new JsonObject();
        String model = imageModelName();
        m.addProperty("title", model + (registry.emulated(model) ? " (EMULATED)" : ""));
        m.addProperty("model_name", model);
        m.addProperty("hash", (String) null);
        m.addProperty("sha256", (String) null);
        m.addProperty("filename", "lcm-lora-sdv1-5 (AX650, 512x512, 4 LCM steps)");
        m.addProperty("config", (String) null);
        a.add(m);
        return a;
    }

    private static JsonArray samplers() {
        JsonArray a = new JsonArray();
        JsonObject lcm = new JsonObject();
        lcm.addProperty("name", "LCM");
        lcm.add("aliases", new JsonArray());
        lcm.add("options", new JsonObject());
        a.add(lcm);
        return a;
    }

    private JsonObject options() {
        JsonObject o = new JsonObject();
        o.addProperty("sd_model_checkpoint", imageModelName());
        o.addProperty("samples_format", "png");
        return o;
    }

    /** The progress of this gateway's image jobs, from their workers' step reports. */
    private JsonObject progress() {
        List<Submission> jobs = runner.imageJobs();
        JobStatus latest = jobs.stream().map(Submission::progress).filter(java.util.Objects::nonNull).findFirst().orElse(null);
        JsonObject state = new JsonObject();
        state.addProperty("job_count", jobs.size());
        state.addProperty("sampling_step", latest == null ? 0 : latest.step());
        state.addProperty("sampling_steps", latest == null ? 0 : latest.steps());
        state.addProperty("interrupted", false);
        state.addProperty("skipped", false);
        JsonObject o = new JsonObject();
        o.addProperty("progress", latest == null || latest.steps() == 0 ? 0.0 : (double) latest.step() / latest.steps());
        o.addProperty("eta_relative", 0.0);
        o.add("state", state);
        o.add("current_image", com.google.gson.JsonNull.INSTANCE);
        o.add("textinfo", com.google.gson.JsonNull.INSTANCE);
        return o;
    }
}
