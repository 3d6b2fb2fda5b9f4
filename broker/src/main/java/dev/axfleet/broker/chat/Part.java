package dev.axfleet.broker.chat;

import dev.axfleet.broker.Base64Data;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.WireName;
import java.util.Arrays;
import java.util.Objects;

/**
 * One typed part of a chat message, as the anchors have them (OpenAI content parts, Ollama's {@code images}): text,
 * or an image for a vision model (audio would be the next). Java 17 has no pattern-matching switch: switch on {@link #type()}.
 */
public sealed interface Part permits Part.Text, Part.Image {

    enum Type implements WireName {
        TEXT, IMAGE
    }

    Type type();

    record Text(String text) implements Part {
        public Text {
            Objects.requireNonNull(text, "text");
        }

        @Override
        public Type type() {
            return Type.TEXT;
        }
    }

    /** An image as the client sent it (PNG, JPEG, WebP, ...): the worker decodes and sizes it for the model's encoder. */
    record Image(byte[] data) implements Part {
        public Image {
            Objects.requireNonNull(data, "data");
            if (data.length == 0) {
                throw new IllegalArgumentException("an image has at least one byte");
            }
        }

        /**
         * An image as clients write it in JSON: base64 (Ollama's {@code images}) or a {@code data:} URL (OpenAI's).
         *
         * @throws FieldException naming {@code field} when it is not base64 or not 1 to {@link ChatParams#MAX_IMAGE_BYTES} bytes
         */
        public static Image fromBase64(String field, String b64) throws FieldException {
            byte[] data;
            try {
                data = Base64Data.decode(b64);
            } catch (IllegalArgumentException e) {
                throw new FieldException(field, "not base64 (or a data: URL of base64)");
            }
            if (data.length == 0 || data.length > ChatParams.MAX_IMAGE_BYTES) {
                throw new FieldException(field, "an image is 1 to " + ChatParams.MAX_IMAGE_BYTES + " bytes, not " + data.length);
            }
            Image image = new Image(data);
            String problem = image.formatProblem();
            if (problem != null) {
                throw new FieldException(field, problem);
            }
            return image;
        }

        /**
         * Why these bytes are not an image a worker reads, told from their first bytes alone (PNG, JPEG, GIF, WebP, BMP are
         * read), or null. HEIC and AVIF are named: phones send them and no Java decoder exists.
         */
        public String formatProblem() {
            byte[] d = data;
            if (d.length >= 12 && d[4] == 'f' && d[5] == 't' && d[6] == 'y' && d[7] == 'p') {
                String brand = new String(d, 8, 4, java.nio.charset.StandardCharsets.US_ASCII);
                if (brand.startsWith("avi")) {
                    return "an AVIF image cannot be read here (no Java decoder); send JPEG, PNG or WebP";
                }
                return "a HEIC/HEIF image (an iPhone's default) cannot be read here (no Java decoder); send JPEG, PNG or WebP";
            }
            boolean png = d.length >= 8 && (d[0] & 0xFF) == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G';
            boolean jpeg = d.length >= 3 && (d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF;
            boolean gif = d.length >= 6 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8';
            boolean webp = d.length >= 12 && d[0] == 'R' && d[1] == 'I' && d[2] == 'F' && d[3] == 'F' && d[8] == 'W' && d[9] == 'E'
                    && d[10] == 'B' && d[11] == 'P';
            boolean bmp = d.length >= 2 && d[0] == 'B' && d[1] == 'M';
            return png || jpeg || gif || webp || bmp ? null : "not an image (PNG, JPEG, WebP, GIF or BMP; " + d.length + " bytes)";
        }

        @Override
        public Type type() {
            return Type.IMAGE;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Image other && Arrays.equals(data, other.data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Image[" + data.length + " bytes]";
        }
    }
}
