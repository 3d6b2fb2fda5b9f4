#!/usr/bin/env bash
# Ask one question over MQTT with the mosquitto command-line clients and print the result (JSON).
#   examples/ask.sh "What do you see tonight?" [host] [port] [model]
# Add `| jq -r .text` for the answer alone. With the shipped ACL, log in as the device user:
#   MQTT_USER=device MQTT_PASSWORD="$(sudo cat /etc/axfleet/device-password)" examples/ask.sh "Hello"
set -euo pipefail
question=${1:?usage: ask.sh "question" [host] [port] [model]}
host=${2:-127.0.0.1}
port=${3:-1883}
model=${4:-qwen3-1.7b}
id="sh$$x$RANDOM"
reply="axfleet/v1/reply/shell/$id"
escaped=$(printf '%s' "$question" | sed 's/\\/\\\\/g; s/"/\\"/g')
auth=()
if [[ -n "${MQTT_USER:-}" ]]; then
  auth=(-u "$MQTT_USER" -P "${MQTT_PASSWORD:-}")
fi

# Subscribe first; -C 1 ends after the one result, -W gives up after 120 s.
mosquitto_sub "${auth[@]}" -h "$host" -p "$port" -q 1 -t "$reply" -C 1 -W 120 &
listener=$!
sleep 0.3
mosquitto_pub "${auth[@]}" -h "$host" -p "$port" -q 1 -t "axfleet/v1/jobs/$model" \
  -m "{\"id\":\"$id\",\"reply_to\":\"$reply\",\"params\":{\"prompt\":\"$escaped\",\"max_tokens\":80}}"
wait "$listener"
