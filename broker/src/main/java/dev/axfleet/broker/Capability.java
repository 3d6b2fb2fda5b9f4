package dev.axfleet.broker;

/**
 * What a model takes beyond its kind's plain form, announced by its worker (from the model folder) so the gateway
 * refuses at once what the model would not read, and Ollama's {@code /api/show} can list it.
 */
public enum Capability implements WireName {
    /** Images in chat messages: a vision model ({@code vlm_type} in its config.json). */
    VISION,
    /** Tool calls: the runtime renders tools and parses the model's calls for this model family. */
    TOOLS
}
