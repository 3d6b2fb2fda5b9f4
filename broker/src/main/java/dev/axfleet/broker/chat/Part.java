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
            return new Image(data);
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
