package dev.axfleet.emulator;

import java.util.Arrays;
import java.util.List;

/**
 * The emulator's command line. Each program takes the real runtime's arguments:
 * <pre>
 * Emulator axllm serve &lt;model_dir&gt; [--port N]          (server_timeout_ms, devices, system_prompt: config.json)
 * Emulator axllm version                                 (says it is the emulator)
 * Emulator main_api --system_prompt ... --url_tokenizer_model http://127.0.0.1:12345 ... --devices 0
 * Emulator tokenizer [--host H] [--port P]
 * Emulator asr_server --port N --model_path DIR [--api_key K] [--payload_limit_mb 25]
 * Emulator llm_sys --port N --models-dir DIR       (StackFlow llm_sys with its llm_melotts unit; the real one reads both
 *                                                  from its config: config_tcp_server, config_lsmod_dir)
 * Emulator axcl-smi --card-dir DIR [info --cmm|--temp] [reboot] [-d N]
 * Emulator modprobe --card-dir DIR [-r] module...
 * Emulator card DIR        creates an emulated card in DIR and prints its tools' paths
 * </pre>
 * Environment: {@code AXFLEET_EMULATOR_TIME_SCALE} (1 = the card's measured speed),
 * {@code AXFLEET_EMULATOR_FAULT} (a fault from the start, e.g. {@code crash:0}), {@code AXFLEET_EMULATOR_PORT}
 * (main_api only; the real binary always takes 8000), {@code AXFLEET_EMULATOR_AXLLM_SIGTERM=graceful} (axllm serve as
 * built after ax-llm PR #66, which handles SIGTERM like SIGINT), {@code AXFLEET_EMULATOR_TEST_FAULTS} (test-only
 * {@link TestFault}s, for axfleet doctor's tests). {@code AXLLM_DEVICES} is the runtime's own.
 */
public final class Emulator {
    private Emulator() {
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = Arrays.asList(args).subList(Math.min(1, args.length), args.length);
        switch (args.length == 0 ? "" : args[0]) {
            case "axllm" -> AxllmServe.main(rest);
            case "main_api" -> MainApi.main(rest);
            case "tokenizer" -> TokenizerServer.main(rest);
            case "asr_server" -> AsrServer.main(rest);
            case "llm_sys" -> StackFlowSys.main(rest);
            case "axcl-smi" -> System.exit(dev.axfleet.emulator.card.SmiTool.run(rest, System.in, System.out));
            case "modprobe" -> System.exit(dev.axfleet.emulator.card.ModprobeTool.run(rest, System.out));
            case "card" -> {
                dev.axfleet.emulator.card.EmulatedCard card = dev.axfleet.emulator.card.EmulatedCard.create(java.nio.file.Path.of(rest.get(0)));
                System.out.println("axcl_smi=" + card.axclSmi());
                System.out.println("modprobe=" + card.modprobe());
                System.out.println("device_node=" + card.deviceNode());
            }
            default -> {
                System.err.println("usage: Emulator axllm|main_api|tokenizer|asr_server|llm_sys|axcl-smi|modprobe|card <the runtime's own arguments>");
                System.exit(2);
            }
        }
    }
}
