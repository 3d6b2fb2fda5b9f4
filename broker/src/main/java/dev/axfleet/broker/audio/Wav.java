package dev.axfleet.broker.audio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * RIFF WAVE files as people send them: PCM of 8 (unsigned), 16, 24 or 32 bits, IEEE float of 32 or 64 bits, plain or
 * WAVE_FORMAT_EXTENSIBLE, any rate and channel count, chunks in any order (unknown ones skipped), and a data chunk whose
 * size is 0 or 0xFFFFFFFF (a recorder that streamed it) read to the end of the file. Written back as 16-bit PCM, the
 * form ax_asr_api's AudioFile reads and what a device plays.
 */
public final class Wav {
    /** WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT and WAVE_FORMAT_EXTENSIBLE (mmreg.h). */
    private static final int PCM = 1;
    private static final int FLOAT = 3;
    private static final int EXTENSIBLE = 0xFFFE;

    private Wav() {
    }

    /** What a header says, read without decoding the samples. */
    public record Info(int sampleRate, int channels, int bitsPerSample, boolean floating, int dataOffset, int dataBytes) {
        public int bytesPerFrame() {
            return channels * (bitsPerSample / 8);
        }

        public long frames() {
            return dataBytes / Math.max(1, bytesPerFrame());
        }

        public double seconds() {
            return frames() / (double) sampleRate;
        }
    }

    /** Not a WAV file axfleet can read, in words a person can act on. */
    public static final class FormatException extends Exception {
        public FormatException(String message) {
            super(message);
        }
    }

    /** Whether the bytes start as a RIFF WAVE file does (the rest may still be wrong). */
    public static boolean looksLikeWav(byte[] b) {
        return b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'A' && b[10] == 'V'
                && b[11] == 'E';
    }

    public static Info info(byte[] b) throws FormatException {
        if (!looksLikeWav(b)) {
            throw new FormatException("not a RIFF WAVE file");
        }
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int at = 12;
        Integer format = null;
        int channels = 0;
        int rate = 0;
        int bits = 0;
        while (at + 8 <= b.length) {
            String id = new String(b, at, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            long size = in.getInt(at + 4) & 0xFFFFFFFFL;
            int body = at + 8;
            if (id.equals("fmt ")) {
                if (size < 16 || body + 16 > b.length) {
                    throw new FormatException("the fmt chunk is shorter than 16 bytes");
                }
                format = in.getShort(body) & 0xFFFF;
                channels = in.getShort(body + 2) & 0xFFFF;
                rate = in.getInt(body + 4);
                bits = in.getShort(body + 14) & 0xFFFF;
                if (format == EXTENSIBLE) {
                    if (size < 40 || body + 40 > b.length) {
                        throw new FormatException("a WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes");
                    }
                    format = in.getShort(body + 24) & 0xFFFF; // the sub-format GUID starts with the format tag
                }
            } else if (id.equals("data")) {
                if (format == null) {
                    throw new FormatException("the data chunk comes before the fmt chunk");
                }
                long available = b.length - body;
                long bytes = size == 0 || size == 0xFFFFFFFFL || size > available ? available : size;
                return check(new Info(rate, channels, bits, format == FLOAT, body, (int) bytes), format);
            }
            at = (int) Math.min(Integer.MAX_VALUE, body + size + (size & 1));
        }
        throw new FormatException(format == null ? "no fmt chunk" : "no data chunk");
    }

    private static Info check(Info i, int format) throws FormatException {
        if (format != PCM && format != FLOAT) {
            throw new FormatException("format tag " + format + " is neither PCM (1) nor IEEE float (3): compressed WAV is not read");
        }
        boolean bitsOk = format == PCM ? i.bitsPerSample() == 8 || i.bitsPerSample() == 16 || i.bitsPerSample() == 24 || i.bitsPerSample() == 32
                : i.bitsPerSample() == 32 || i.bitsPerSample() == 64;
        if (!bitsOk) {
            throw new FormatException((format == PCM ? "PCM" : "float") + " of " + i.bitsPerSample() + " bits is not read");
        }
        if (i.channels() < 1 || i.sampleRate() < 1) {
            throw new FormatException("the header says " + i.channels() + " channels at " + i.sampleRate() + " Hz");
        }
        return i;
    }

    /** The samples as floats in [-1, 1], all channels averaged into one. */
    public static Mono readMono(byte[] b) throws FormatException {
        Info i = info(b);
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int frames = (int) i.frames();
        int width = i.bitsPerSample() / 8;
        float[] out = new float[frames];
        int at = i.dataOffset();
        for (int f = 0; f < frames; f++) {
            double sum = 0;
            for (int c = 0; c < i.channels(); c++) {
                sum += sample(in, at, width, i.floating());
                at += width;
            }
            out[f] = (float) (sum / i.channels());
        }
        return new Mono(out, i.sampleRate());
    }

    private static double sample(ByteBuffer in, int at, int width, boolean floating) {
        if (floating) {
            return width == 4 ? in.getFloat(at) : in.getDouble(at);
        }
        return switch (width) {
            case 1 -> ((in.get(at) & 0xFF) - 128) / 128.0;
            case 2 -> in.getShort(at) / 32768.0;
            case 3 -> ((in.get(at) & 0xFF) | (in.get(at + 1) & 0xFF) << 8 | in.get(at + 2) << 16) / 8388608.0;
            default -> in.getInt(at) / 2147483648.0;
        };
    }

    /** Mono 16-bit PCM WAV of {@code samples}, clipped to [-1, 1]. */
    public static byte[] write16(float[] samples, int sampleRate) {
        return withHeader(pcm16(samples), sampleRate);
    }

    /** A 44-byte header (RIFF, fmt of PCM mono 16-bit, data) before little-endian 16-bit samples. */
    public static byte[] withHeader(byte[] pcm16, int sampleRate) {
        ByteBuffer out = ByteBuffer.allocate(44 + pcm16.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(header(pcm16.length, sampleRate));
        out.put(pcm16);
        return out.array();
    }

    /** The 44 bytes before {@code dataBytes} of mono 16-bit PCM; 0xFFFFFFFF sizes say "as long as the stream" (a streamed WAV). */
    public static byte[] header(long dataBytes, int sampleRate) {
        ByteBuffer out = ByteBuffer.allocate(44).order(ByteOrder.LITTLE_ENDIAN);
        boolean open = dataBytes < 0;
        out.put("RIFF".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).putInt(open ? -1 : (int) (36 + dataBytes));
        out.put("WAVEfmt ".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).putInt(16);
        out.putShort((short) PCM).putShort((short) 1).putInt(sampleRate).putInt(sampleRate * 2).putShort((short) 2).putShort((short) 16);
        out.put("data".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).putInt(open ? -1 : (int) dataBytes);
        return out.array();
    }

    /** Little-endian signed 16-bit samples, clipped. */
    public static byte[] pcm16(float[] samples) {
        ByteBuffer out = ByteBuffer.allocate(samples.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float s : samples) {
            out.putShort((short) Math.round(Math.max(-1f, Math.min(1f, s)) * 32767f));
        }
        return out.array();
    }

    /** The inverse of {@link #pcm16}. */
    public static float[] fromPcm16(byte[] pcm) {
        ByteBuffer in = ByteBuffer.wrap(pcm).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[pcm.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = in.getShort() / 32768f;
        }
        return out;
    }
}
