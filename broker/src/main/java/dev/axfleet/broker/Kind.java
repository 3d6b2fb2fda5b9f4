package dev.axfleet.broker;

import dev.axfleet.broker.chat.ChatCodec;
import dev.axfleet.broker.embed.EmbedCodec;
import dev.axfleet.broker.image.ImageCodec;
import dev.axfleet.broker.interrogate.InterrogateCodec;
import dev.axfleet.broker.speech.SpeechCodec;
import dev.axfleet.broker.transcribe.TranscribeCodec;

/**
 * A kind of work: what a model does, with its own params, output, codec and size limits (its package under
 * {@code dev.axfleet.broker}). This enum is where a kind is registered; every module that must know each kind
 * switches over it, so adding a constant makes the compiler list the places to fill in (docs/decisions.md).
 */
public enum Kind implements WireName {
    CHAT(ChatCodec.INSTANCE),
    IMAGE(ImageCodec.INSTANCE),
    INTERROGATION(InterrogateCodec.INSTANCE),
    EMBEDDING(EmbedCodec.INSTANCE),
    TRANSCRIPTION(TranscribeCodec.INSTANCE),
    SPEECH(SpeechCodec.INSTANCE);

    private final KindCodec<?, ?> codec;

    Kind(KindCodec<?, ?> codec) {
        this.codec = codec;
    }

    /** How jobs and results of this kind are written on the wire, and how large they may be. */
    public KindCodec<?, ?> codec() {
        return codec;
    }

    /** The tasks of this kind, in wire order. */
    public java.util.List<Task> tasks() {
        return java.util.Arrays.stream(Task.values()).filter(t -> t.kind() == this).toList();
    }
}
