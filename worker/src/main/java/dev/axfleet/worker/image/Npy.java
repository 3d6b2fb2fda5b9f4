package dev.axfleet.worker.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a little-endian float32 2-D {@code .npy} array (the shipped {@code time_input_*.npy}: 4 rows of 1280). */
public final class Npy {
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\((\\d+),\\s*(\\d+)\\)");

    private Npy() {
    }

    public static float[][] readFloat32Matrix(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[6];
        b.get(magic);
        if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IOException(file + " is not a .npy file");
        }
        int major = b.get();
        b.get();
        int headerLength = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
        byte[] h = new byte[headerLength];
        b.get(h);
        String header = new String(h, StandardCharsets.US_ASCII);
        Matcher m = SHAPE.matcher(header);
        if (!header.contains("'<f4'") || header.contains("'fortran_order': True") || !m.find()) {
            throw new IOException(file + ": expected a C-ordered little-endian float32 2-D array, header " + header.trim());
        }
        float[][] out = new float[Integer.parseInt(m.group(1))][Integer.parseInt(m.group(2))];
        for (float[] row : out) {
            b.asFloatBuffer().get(row);
            b.position(b.position() + row.length * 4);
        }
        return out;
    }
}
