package dev.axfleet.broker.interrogate;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.KindCodec;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.image.ImageCodec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Interrogation on the wire: {@code params.image} and optional {@code categories}; results carry caption, tags, winners. */
public final class InterrogateCodec extends KindCodec<InterrogateParams, Interrogation> {
    public static final InterrogateCodec INSTANCE = new InterrogateCodec();

    private InterrogateCodec() {
        super(InterrogateParams.class, Interrogation.class);
    }

    /** It carries an image, as an image job does. */
    @Override
    public int maxJobBytes() {
        return ImageCodec.MAX_JOB_BYTES;
    }

    @Override
    protected void writeParams(InterrogateParams p, JsonObject o) {
        o.addProperty("image", p.image());
        if (p.categories() != null) {
            JsonObject c = new JsonObject();
            p.categories().forEach((name, terms) -> {
                JsonArray a = new JsonArray();
                terms.forEach(a::add);
                c.add(name, a);
            });
            o.add("categories", c);
        }
    }

    @Override
    protected InterrogateParams readParams(Task task, JsonFields f) throws FieldException {
        String image = ImageCodec.image(f, "image");
        JsonElement c = f.get("categories");
        if (c == null) {
            return new InterrogateParams(image, null);
        }
        if (!c.isJsonObject() || c.getAsJsonObject().size() == 0 || c.getAsJsonObject().size() > InterrogateParams.MAX_CATEGORIES) {
            throw new FieldException(f.prefix() + "categories", "must be an object of 1 to " + InterrogateParams.MAX_CATEGORIES
                    + " categories, each a list of terms");
        }
        JsonFields cf = new JsonFields(c.getAsJsonObject(), f.prefix() + "categories.");
        Map<String, List<String>> categories = new LinkedHashMap<>();
        for (String name : c.getAsJsonObject().keySet()) {
            List<String> terms = cf.optStringList(name, InterrogateParams.MAX_TERMS, InterrogateParams.MAX_TERM_LENGTH);
            if (terms.isEmpty() || name.isEmpty() || name.length() > InterrogateParams.MAX_TERM_LENGTH) {
                throw new FieldException(cf.prefix() + name, "a category needs a name of 1 to " + InterrogateParams.MAX_TERM_LENGTH
                        + " characters and 1 to " + InterrogateParams.MAX_TERMS + " terms");
            }
            categories.put(name, terms);
        }
        return new InterrogateParams(image, categories);
    }

    @Override
    protected void writeOutput(Interrogation i, JsonObject o) {
        o.addProperty("caption", i.caption());
        JsonArray tags = new JsonArray();
        for (Interrogation.Tag t : i.tags()) {
            JsonObject to = new JsonObject();
            to.addProperty("tag", t.tag());
            to.addProperty("score", t.score());
            tags.add(to);
        }
        o.add("interrogations", tags);
        if (!i.winners().isEmpty()) {
            JsonObject results = new JsonObject();
            i.winners().forEach((name, w) -> {
                JsonObject wo = new JsonObject();
                wo.addProperty("winner", w.winner());
                wo.addProperty("confidence", w.confidence());
                results.add(name, wo);
            });
            o.add("results", results);
        }
    }

    @Override
    protected Interrogation readOutput(JsonObject o) {
        List<Interrogation.Tag> tags = new ArrayList<>();
        o.getAsJsonArray("interrogations").forEach(e -> tags.add(new Interrogation.Tag(string(e.getAsJsonObject(), "tag"),
                e.getAsJsonObject().get("score").getAsDouble())));
        Map<String, Interrogation.Winner> winners = new LinkedHashMap<>();
        if (o.has("results")) {
            o.getAsJsonObject("results").entrySet().forEach(e -> winners.put(e.getKey(), new Interrogation.Winner(
                    string(e.getValue().getAsJsonObject(), "winner"), e.getValue().getAsJsonObject().get("confidence").getAsDouble())));
        }
        return new Interrogation(string(o, "caption"), tags, winners);
    }
}
