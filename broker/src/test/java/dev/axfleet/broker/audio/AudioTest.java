package dev.axfleet.broker.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.AudioChunk;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.transcribe.TranscribeCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** WAV files as people send them, the resampler's pass and stop bands, and audio messages that fit what the job set. */
class AudioTest {
    static float[] sine(double hz, int rate, double seconds, double amplitude) {
        float[] s = new float[(int) (rate * seconds)];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (amplitude * Math.sin(2 * Math.PI * hz * i / rate));
        }
        return s;
    }

    static double rms(float[] s, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += s[i] * s[i];
        }
        return Math.sqrt(sum / (to - from));
    }

    /** A WAV of {@code format} (1 PCM, 3 float, 0xFFFE extensible), {@code bits}, {@code channels}, the same sample in each. */
    static byte[] wav(int format, int bits, int channels, int rate, float[] mono, boolean openEnded) {
        int width = bits / 8;
        int fmtSize = format == 0xFFFE ? 40 : 16;
        ByteBuffer data = ByteBuffer.allocate(mono.length * channels * width).order(ByteOrder.LITTLE_ENDIAN);
        boolean floating = format == 3;
        for (float v : mono) {
            for (int c = 0; c < channels; c++) {
                if (floating) {
                    data.putFloat(v);
                } else if (bits == 8) {
                    data.put((byte) (Math.round(v * 127) + 128));
                } else if (bits == 24) {
                    int x = Math.round(v * 8388607);
                    data.put((byte) x).put((byte) (x >> 8)).put((byte) (x >> 16));
                } else {
                    data.putShort((short) Math.round(v * 32767));
                }
            }
        }
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + fmtSize + 8 + 12 + data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(b.capacity() - 8).put("WAVE".getBytes());
        b.put("fmt ".getBytes()).putInt(fmtSize).putShort((short) format).putShort((short) channels).putInt(rate)
                .putInt(rate * channels * width).putShort((short) (channels * width)).putShort((short) bits);
        if (format == 0xFFFE) {
            b.putShort((short) 22).putShort((short) bits).putInt(0).putShort((short) 1).put(new byte[14]);
        }
        b.put("LIST".getBytes()).putInt(4).put("INFO".getBytes()); // a chunk readers must skip
        b.put("data".getBytes()).putInt(openEnded ? -1 : data.capacity()).put(data.array());
        return b.array();
    }

    @Test
    void everyWavPeopleSendReadsAsTheSameSound() throws Exception {
        float[] tone = sine(440, 22_050, 0.5, 0.5);
        for (byte[] file : new byte[][] {wav(1, 16, 1, 22_050, tone, false), wav(3, 32, 2, 22_050, tone, false), wav(1, 24, 2, 22_050, tone, true),
                wav(1, 8, 1, 22_050, tone, false), wav(0xFFFE, 16, 2, 22_050, tone, false)}) {
            Mono m = Wav.readMono(file);
            assertEquals(22_050, m.sampleRate());
            assertEquals(tone.length, m.samples().length);
            for (int i = 0; i < tone.length; i++) {
                assertEquals(tone[i], m.samples()[i], 0.01, "sample " + i);
            }
        }
        byte[] ours = Wav.write16(tone, 22_050);
        Wav.Info info = Wav.info(ours);
        assertEquals(44, info.dataOffset());
        assertEquals(tone.length * 2, info.dataBytes());
        assertEquals(0.5, info.seconds(), 1e-3);
        assertThrows(Wav.FormatException.class, () -> Wav.info("RIFF....WAVEnope".getBytes()));
        byte[] adpcm = wav(1, 16, 1, 8000, tone, false);
        adpcm[20] = 2;
        assertThrows(Wav.FormatException.class, () -> Wav.info(adpcm), "compressed WAV is refused, not misread");
    }

    @Test
    void theResamplerKeepsWhatFitsTheNewRateAndRemovesWhatDoesNot() {
        float[] in = sine(1000, 48_000, 1.0, 0.5);
        float[] out = Resampler.resample(in, 48_000, 16_000);
        assertEquals(16_000, out.length);
        assertEquals(rms(in, 4800, 43_200), rms(out, 1600, 14_400), 0.005, "a 1 kHz tone passes at its level");
        int crossings = 0;
        for (int i = 1601; i < 14_400; i++) {
            if (out[i - 1] < 0 && out[i] >= 0) {
                crossings++;
            }
        }
        assertEquals(800, crossings, 2, "and at its pitch");
        float[] high = Resampler.resample(sine(10_000, 48_000, 1.0, 0.5), 48_000, 16_000);
        assertTrue(rms(high, 1600, 14_400) < 0.5 / Math.sqrt(2) / 100, "10 kHz cannot be held at 16 kHz: more than 40 dB down");
        float[] up = Resampler.resample(sine(440, 16_000, 0.5, 0.5), 16_000, 24_000);
        assertEquals(12_000, up.length);
        assertEquals(0.5 / Math.sqrt(2), rms(up, 1200, 10_800), 0.005);
    }

    @Test
    void theJobsBoundsAreCheckedFromTheHeader() {
        FieldException eight = assertThrows(FieldException.class, () -> TranscribeCodec.checkAudio(wav(1, 16, 8, 96_000, new float[9600], false), "file"));
        assertTrue(eight.getMessage().contains("8 channels"), eight.getMessage());
        FieldException click = assertThrows(FieldException.class, () -> TranscribeCodec.checkAudio(Wav.write16(new float[160], 16_000), "file"));
        assertTrue(click.getMessage().contains("shortest"), click.getMessage());
    }

    @Test
    void audioMessagesFitTheSizeAskedEnvelopeIncluded() {
        for (int size : new int[] {96, 232, 1000, 65_536}) {
            for (int seq : new int[] {0, 9, 10, 12_345}) {
                int room = AudioChunk.capacity("b1", seq, true, size);
                assertTrue(room > 0, size + "/" + seq);
                byte[] payload = WireCodec.encodeAudio(new AudioChunk("b1", seq, new byte[room], true));
                assertTrue(payload.length <= size, payload.length + " > " + size);
                assertTrue(WireCodec.encodeAudio(new AudioChunk("b1", seq, new byte[room + 3], true)).length > size, "and no more fits");
            }
        }
        AudioChunk back = (AudioChunk) WireCodec.decodeReply(WireCodec.encodeAudio(new AudioChunk("b1", 3, new byte[] {1, 2, 3}, true)));
        assertEquals(3, back.seq());
        assertTrue(back.last());
        assertEquals(3, back.audio().length);
    }
}
