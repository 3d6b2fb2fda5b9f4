package dev.axfleet.broker;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * Token counts of one job (an embedding job has no completion tokens).
 *
 * @param estimated true when the runtime reported no counts and the worker estimated them
 */
public record Usage(int promptTokens, int completionTokens, boolean estimated) {
    public int totalTokens() {
        return promptTokens + completionTokens;
    }

    /** The wire's {@code usage} object. */
    public JsonObject toJson() {
        JsonObject u = new JsonObject();
        u.addProperty("prompt_tokens", promptTokens);
        u.addProperty("completion_tokens", completionTokens);
        u.addProperty("total_tokens", totalTokens());
        if (estimated) {
            u.addProperty("estimated", true);
        }
        return u;
    }

    /** The wire's {@code usage} object read back, or null when absent. */
    public static Usage fromJson(JsonElement e) {
        if (e == null || !e.isJsonObject()) {
            return null;
        }
        JsonObject u = e.getAsJsonObject();
        return new Usage(u.has("prompt_tokens") ? u.get("prompt_tokens").getAsInt() : 0,
                u.has("completion_tokens") ? u.get("completion_tokens").getAsInt() : 0,
                u.has("estimated") && u.get("estimated").getAsBoolean());
    }
}
