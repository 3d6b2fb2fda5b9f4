package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.transcribe.Transcript;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * A transcription worker over MQTT, its runtime the emulated {@code asr_server}: a device's WAV at 44.1 kHz stereo float
 * is heard by the runtime as 16 kHz mono pieces cut at its silences, with each piece's times as segments; raw PCM and the
 * runtime's own refusals (a language it lacks) come back naming the field.
 */
class TranscribeWorkerTest extends WorkerHarness {
    static final String MODEL = "whisper-tiny";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        return EmulatedWorkers.asrServer(broker, MODEL, "whisper_tiny", dir, EmulatedWorkers.FAST);
    }

    /** Tone bursts of {@code seconds} each at {@code rate}, {@code gap} s of near silence between, in {@code channels} float channels. */
    static byte[] bursts(int rate, int channels, double[] seconds, double gap) {
        int frames = 0;
        for (double s : seconds) {
            frames += (int) ((s + gap) * rate);
        }
        frames += (int) (gap * rate);
        ByteBuffer data = ByteBuffer.allocate(frames * channels * 4).order(ByteOrder.LITTLE_ENDIAN);
        int at = (int) (gap * rate);
        float[] mono = new float[frames];
        for (double s : seconds) {
            int n = (int) (s * rate);
            for (int i = 0; i < n; i++) {
                mono[at + i] = (float) (0.4 * Math.sin(2 * Math.PI * 220 * i / rate) * Math.sin(Math.PI * i / n));
            }
            at += n + (int) (gap * rate);
        }
        int k = 0;
        for (float v : mono) {
            for (int c = 0; c < channels; c++) {
                data.putFloat(v + (float) (0.0005 * Math.sin(k++))); // a floor of faint noise, as a microphone has
            }
        }
        ByteBuffer wav = ByteBuffer.allocate(44 + data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        wav.put("RIFF".getBytes()).putInt(36 + data.capacity()).put("WAVEfmt ".getBytes()).putInt(16).putShort((short) 3)
                .putShort((short) channels).putInt(rate).putInt(rate * channels * 4).putShort((short) (channels * 4)).putShort((short) 32)
                .put("data".getBytes()).putInt(data.capacity()).put(data.array());
        return wav.array();
    }

    private JobResult transcribe(String id, String params) throws InterruptedException {
        return ask(id, "transcribe", params, false).result();
    }

    @Test
    void aDevicesWavIsHeardInPiecesCutAtItsSilencesWithTheirTimes() throws Exception {
        byte[] wav = bursts(44_100, 2, new double[] {1.0, 1.5, 0.8}, 0.8);
        JobResult r = transcribe("t1", "{\"audio\":\"" + Base64.getEncoder().encodeToString(wav) + "\",\"language\":\"en\"}");
        assertEquals(Outcome.DONE, r.outcome(), String.valueOf(r.error()));
        assertEquals(Task.TRANSCRIBE, r.task());
        Transcript t = r.output(Transcript.class);
        assertEquals(3, t.segments().size(), t.toString());
        assertEquals(6.5, t.duration(), 0.01);
        assertEquals("en", t.language());
        double[] starts = {0.8, 2.6, 4.9};
        for (int i = 0; i < 3; i++) {
            Transcript.Segment s = t.segments().get(i);
            assertTrue(Math.abs(s.start() - starts[i]) < 0.3, "segment " + i + " starts near its burst: " + s);
            assertTrue(s.text().startsWith("(emulated whisper_tiny, en: ") && s.text().endsWith(" at 16000 Hz)"),
                    "the runtime heard 16 kHz, and says it is emulated: " + s.text());
        }
        assertEquals(String.join(" ", t.segments().stream().map(Transcript.Segment::text).toList()), t.text());
    }

    @Test
    void rawPcmFromAMicrophoneAndSilenceAreTaken() throws Exception {
        byte[] pcm = Wav.pcm16(new float[16_000]);
        JobResult silent = transcribe("p1", "{\"format\":\"pcm\",\"sample_rate\":16000,\"audio\":\"" + Base64.getEncoder().encodeToString(pcm) + "\"}");
        assertEquals(Outcome.DONE, silent.outcome(), String.valueOf(silent.error()));
        assertEquals("", silent.output(Transcript.class).text(), "no speech, no request to the runtime, no text");
        assertEquals(0, silent.output(Transcript.class).segments().size());
    }

    @Test
    void wrongJobsAreAnsweredWithTheFieldAtFault() throws Exception {
        String wav = Base64.getEncoder().encodeToString(bursts(16_000, 1, new double[] {0.5}, 0.3));
        JobResult language = transcribe("w1", "{\"audio\":\"" + wav + "\",\"language\":\"xx\"}");
        assertEquals(ErrorCode.INVALID_JOB, language.error().code());
        assertEquals("params.language", language.error().field());
        assertTrue(language.error().message().contains("Unsupported language \"xx\" for model whisper_tiny"), language.error().message());
        JobResult prompt = transcribe("w2", "{\"audio\":\"" + wav + "\",\"prompt\":\"coyote\"}");
        assertEquals("params.prompt", prompt.error().field());
        JobResult notAudio = transcribe("w3", "{\"audio\":\"" + Base64.getEncoder().encodeToString("hello".getBytes()) + "\"}");
        assertEquals("params.audio", notAudio.error().field());
        JobResult eight = transcribe("w4", "{\"audio\":\"" + Base64.getEncoder().encodeToString(bursts(96_000, 8, new double[] {0.2}, 0.1)) + "\"}");
        assertEquals("params.audio", eight.error().field());
        assertTrue(eight.error().message().contains("8 channels"), eight.error().message());
    }
}
