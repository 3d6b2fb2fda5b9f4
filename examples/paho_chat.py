#!/usr/bin/env python3
"""Ask axfleet a question over MQTT from a Raspberry Pi or a laptop, with paho-mqtt.

    python3 examples/paho_chat.py "What do you see tonight?" [--host 127.0.0.1] [--port 1883] [--stream]

Debian / Raspberry Pi OS: apt install python3-paho-mqtt (1.6 on Bookworm; 2.x works too).
With --stream the answer is printed as it is generated (deltas), then the result line.
"""
import argparse
import json
import sys
import threading
import uuid

import paho.mqtt.client as mqtt


def make_client(client_id):
    # paho 2.x wants the callback API version; 1.x has no such argument.
    if hasattr(mqtt, "CallbackAPIVersion"):
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    return mqtt.Client(client_id=client_id)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("question")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--model", default="qwen3-1.7b")
    p.add_argument("--stream", action="store_true")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--username", help="with the shipped ACL: device")
    p.add_argument("--password", help="with the shipped ACL: the content of /etc/axfleet/device-password")
    args = p.parse_args()

    job_id = "py" + uuid.uuid4().hex[:12]
    reply = "axfleet/v1/reply/python/" + job_id
    done = threading.Event()
    result = {}

    def on_message(client, userdata, msg):
        message = json.loads(msg.payload)
        if message.get("type") == "delta":
            sys.stdout.write(message["text"])
            sys.stdout.flush()
        else:
            result.update(message)
            done.set()

    client = make_client("paho-" + job_id)
    client.on_message = on_message
    if args.username:
        client.username_pw_set(args.username, args.password)
    client.connect(args.host, args.port)
    client.loop_start()
    # The subscription goes out before the job on the same connection, so no reply can be missed.
    client.subscribe(reply, qos=1)
    job = {"id": job_id, "reply_to": reply, "stream": args.stream,
           "params": {"prompt": args.question, "max_tokens": 80}}
    client.publish("axfleet/v1/jobs/" + args.model, json.dumps(job), qos=1)
    finished = done.wait(args.timeout)
    client.loop_stop()
    client.disconnect()
    if not finished:
        print("no answer within %s s" % args.timeout, file=sys.stderr)
        return 2
    if args.stream:
        print()
    print(json.dumps(result))
    return 0 if result.get("outcome") == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
