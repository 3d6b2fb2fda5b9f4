package dev.axfleet.gateway;

/**
 * The ports the installations' clients were written against (../shared/clients.md §6), where the gateway
 * also listens with {@code AXFLEET_COMPAT_PORTS=1}, each serving what the old server there served.
 */
public enum CompatPort {
    /** Ollama serves its own API and OpenAI's /v1 on one port (the coyote). */
    OLLAMA("gateway.ollama_port", 11434, "Ollama /api and OpenAI /v1"),
    /** The previous SD service (the picker, the SD explorer). */
    SD_SERVICE("gateway.sd_port", 5000, "the SD service: /generate, /sdapi/v1"),
    /** AUTOMATIC1111's web UI port (the kiosk, the Pico's passthrough). */
    A1111("gateway.a1111_port", 7860, "AUTOMATIC1111: /sdapi/v1"),
    /** The legacy main_api runtime's fixed port, for its session API (the coyote's AX650 mode). */
    LEGACY("gateway.legacy_port", 8000, "the legacy runtime's session API: /api/reset, /api/stop, /api/generate");

    private final String setting;
    private final int classic;
    private final String describe;

    CompatPort(String setting, int classic, String describe) {
        this.setting = setting;
        this.classic = classic;
        this.describe = describe;
    }

    /** The setting that moves it (0: any free port, -1: not offered). */
    public String setting() {
        return setting;
    }

    public int classic() {
        return classic;
    }

    public String describe() {
        return describe;
    }
}
