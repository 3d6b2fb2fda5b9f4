#!/usr/bin/env python3
"""A Wyoming client written from the protocol's README (OHF-Voice/wyoming@22f8dea "Format", "Event Types", "Event Flow"),
with Python's standard library only: what Home Assistant's wyoming integration does, without the wyoming package.

  wyoming_client.py info HOST PORT
  wyoming_client.py transcribe HOST PORT WAV [LANGUAGE]
  wyoming_client.py synthesize HOST PORT TEXT OUT_WAV [VOICE]
  wyoming_client.py stream HOST PORT OUT_WAV CHUNK...      (synthesize-start, synthesize-chunk each, synthesize, synthesize-stop)

Each prints one JSON object: what came back, and every event's type in order. Every read is bounded by a 60 s timeout.
"""
import json
import socket
import sys
import time
import wave


def write_event(sock, type_, data=None, payload=b"", inline=False):
    """One event: the header line, then (not inline) the data as its own section, then the payload."""
    header = {"type": type_}
    data_bytes = b""
    if data:
        if inline:
            header["data"] = data
        else:
            data_bytes = json.dumps(data).encode("utf-8")
            header["data_length"] = len(data_bytes)
    if payload:
        header["payload_length"] = len(payload)
    sock.sendall(json.dumps(header).encode("utf-8") + b"\n" + data_bytes + payload)


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buf += chunk

    def line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def event(self):
        header = json.loads(self.line())
        data = header.get("data") or {}
        if header.get("data_length"):
            data.update(json.loads(self.exactly(header["data_length"])))
        payload = self.exactly(header["payload_length"]) if header.get("payload_length") else b""
        return header["type"], data, payload, header


def connect(host, port):
    sock = socket.create_connection((host, int(port)), timeout=60)
    return sock, Reader(sock)


def info(host, port):
    sock, reader = connect(host, port)
    t0 = time.monotonic()
    write_event(sock, "describe")
    type_, data, _, header = reader.event()
    return {"type": type_, "data": data, "version": header.get("version"), "ms": round((time.monotonic() - t0) * 1000)}


def transcribe(host, port, wav_path, language=None):
    sock, reader = connect(host, port)
    with wave.open(wav_path, "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        fmt = {"rate": rate, "width": width, "channels": channels}
        write_event(sock, "transcribe", {"language": language} if language else None)
        write_event(sock, "audio-start", fmt)
        chunks = 0
        while True:
            frames = w.readframes(1024)
            if not frames:
                break
            write_event(sock, "audio-chunk", fmt, frames, inline=True)
            chunks += 1
    write_event(sock, "audio-stop", {"timestamp": 0})
    types = []
    while True:
        type_, data, _, _ = reader.event()
        types.append(type_)
        if type_ in ("transcript", "error"):
            return {"type": type_, "data": data, "chunks_sent": chunks, "events": types}


def collect(reader, until):
    """Audio events until `until` (audio-stop or synthesize-stopped); an error ends it too."""
    types, pcm, fmt, chunks = [], b"", None, 0
    while True:
        type_, data, payload, _ = reader.event()
        types.append(type_)
        if type_ == "audio-chunk":
            f = (data["rate"], data["width"], data["channels"])
            if fmt is not None and f != fmt:
                raise ValueError("a chunk in another format: %s after %s" % (f, fmt))
            fmt = f
            pcm += payload
            chunks += 1
        if type_ == until or type_ == "error":
            return {"events": types, "pcm": pcm, "format": fmt, "chunks": chunks, "error": data if type_ == "error" else None}


def save(out_wav, got):
    if got["format"]:
        rate, width, channels = got["format"]
        with wave.open(out_wav, "wb") as w:
            w.setframerate(rate)
            w.setsampwidth(width)
            w.setnchannels(channels)
            w.writeframes(got["pcm"])
    return {"events": got["events"], "chunks": got["chunks"], "bytes": len(got["pcm"]), "error": got["error"],
            "rate": got["format"][0] if got["format"] else None}


def synthesize(host, port, text, out_wav, voice=None):
    sock, reader = connect(host, port)
    data = {"text": text}
    if voice:
        data["voice"] = {"name": voice}
    t0 = time.monotonic()
    write_event(sock, "synthesize", data)
    got = collect(reader, "audio-stop")
    out = save(out_wav, got)
    out["ms"] = round((time.monotonic() - t0) * 1000)
    return out


def stream(host, port, out_wav, chunks):
    sock, reader = connect(host, port)
    write_event(sock, "synthesize-start", {})
    for c in chunks:
        write_event(sock, "synthesize-chunk", {"text": c})
    write_event(sock, "synthesize", {"text": "".join(chunks)})
    write_event(sock, "synthesize-stop")
    return save(out_wav, collect(reader, "synthesize-stopped"))


def main():
    command, host, port = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    if command == "info":
        out = info(host, port)
    elif command == "transcribe":
        out = transcribe(host, port, *args)
    elif command == "synthesize":
        out = synthesize(host, port, *args)
    elif command == "stream":
        out = stream(host, port, args[0], args[1:])
    else:
        raise SystemExit("unknown command " + command)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
