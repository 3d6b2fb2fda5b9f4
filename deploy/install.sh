#!/usr/bin/env bash
# axfleet installer for Raspberry Pi OS (Bookworm or later, 64-bit) on a Raspberry Pi 5 with the M5Stack LLM-8850 card.
#
#   sudo ./install.sh [--models qwen3-1.7b,...] [--api-key] [--dry-run] [--prefix DIR]
#   sudo ./install.sh --uninstall [--purge] [--dry-run] [--prefix DIR]
#
#   --models     resident models to enable as services (default: qwen3-1.7b); sd15-lcm is the image model
#                (SD1.5-LCM and CLIP in its worker's process: /etc/axfleet/worker-sd15-lcm.env says so)
#   --api-key    also make an API key (/etc/axfleet/api-key): then /v1 and /api need it (clients must send it)
#   --uninstall  stop and remove the services and axfleet's files; keeps settings, secrets, models, conversations
#   --purge      with --uninstall: remove those too, and the axfleet user
#   --dry-run    print every action, change nothing
#   --prefix     install the files under DIR instead of /, and only print system actions (for tests)
#
# Run it from the release archive (axfleet-VERSION.tar.gz: nothing to build, no Maven) or from a clone (deploy/,
# after mvn package). Safe to run again, and over an older version (an upgrade): files you may have edited
# (/etc/axfleet/axfleet.conf), generated secrets, models and conversations are kept; axfleet's own files are
# replaced when they changed, and the services running are restarted onto them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DRY=0
PREFIX=""
MODELS="qwen3-1.7b"
API_KEY=0
UNINSTALL=0
changed=0
PURGE=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift ;;
    --models) MODELS="${2:?--models needs a list}"; shift ;;
    --api-key) API_KEY=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $PURGE -eq 1 && $UNINSTALL -eq 0 ]]; then
  echo "--purge goes with --uninstall" >&2
  exit 2
fi

# Where axfleet's files are: beside this script in the release archive, under target/ in a clone's deploy/.
if [[ -f "$here/axfleet.jar" ]]; then
  jar="$here/axfleet.jar" libs="$here/lib" docs="$here/docs"
else
  jar="$here/target/axfleet.jar" libs="$here/target/lib" docs="$(dirname "$here")/docs"
fi

# One name per model: the catalog's aliases mean its ids (sd15-lcm is also called lcm-lora-sdv1-5).
MODELS="$(printf '%s' "$MODELS" | sed -e 's/\blcm-lora-sdv1-5\b/sd15-lcm/g')"
if [[ -n "$PREFIX" ]]; then
  PREFIX="$(cd "$PREFIX" && pwd)"
fi
if [[ $DRY -eq 0 && -z "$PREFIX" && "$(id -u)" -ne 0 ]]; then
  echo "run as root (sudo), or with --dry-run to see what it would do" >&2
  exit 1
fi

say() { printf '%s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*"; }

# An action on the files being installed: printed, then done unless --dry-run.
act() {
  say "+ $*"
  if [[ $DRY -eq 0 ]]; then "$@"; fi
}

# An action on the system itself (packages, users, services): printed, done only for a real install.
sys() {
  if [[ $DRY -eq 1 || -n "$PREFIX" ]]; then
    say "+ (not run) $*"
  else
    say "+ $*"
    "$@"
  fi
}

new_password() { head -c 18 /dev/urandom | base64 | tr -d '/+=' ; }

# Installs SRC as DEST with MODE; "keep" leaves an existing DEST alone (the operator may have edited it).
install_file() {
  local src="$1" dest="$PREFIX$2" mode="$3" keep="${4:-}"
  if [[ -e "$dest" && "$keep" == keep ]]; then
    say "  kept $dest"
  elif [[ -e "$dest" ]] && cmp -s "$src" "$dest"; then
    say "  unchanged $dest"
  else
    act install -D -m "$mode" "$src" "$dest"
    changed=1
  fi
}

# ---- uninstall: the services and axfleet's own files; settings, secrets, models and conversations stay unless --purge ----
if [[ $UNINSTALL -eq 1 ]]; then
  say "== stopping the services"
  sys systemctl disable --now axfleet-gateway.service axfleet-monitor.service
  sys systemctl stop 'axfleet-worker@*.service'
  for wanted in /etc/systemd/system/multi-user.target.wants/axfleet-worker@*.service; do
    if [[ -e "$wanted" || -L "$wanted" ]]; then sys systemctl disable "$(basename "$wanted")"; fi
  done
  say "== removing axfleet"
  for f in /etc/systemd/system/axfleet-gateway.service /etc/systemd/system/axfleet-monitor.service \
           /etc/systemd/system/axfleet-worker@.service /usr/local/bin/axfleet /etc/mosquitto/conf.d/axfleet.conf \
           /etc/mosquitto/axfleet.acl; do
    if [[ -e "$PREFIX$f" ]]; then act rm -f "$PREFIX$f"; fi
  done
  if [[ -d "$PREFIX/opt/axfleet" ]]; then act rm -rf "$PREFIX/opt/axfleet"; fi
  sys systemctl daemon-reload
  sys systemctl try-restart mosquitto
  if [[ $PURGE -eq 1 ]]; then
    say "== purging settings, secrets, models and conversations"
    for d in /etc/axfleet /var/lib/axfleet; do
      if [[ -e "$PREFIX$d" ]]; then act rm -rf "$PREFIX$d"; fi
    done
    if [[ -e "$PREFIX/etc/mosquitto/axfleet.passwd" ]]; then act rm -f "$PREFIX/etc/mosquitto/axfleet.passwd"; fi
    sys userdel axfleet
  else
    say "  kept /etc/axfleet (settings, secrets), /etc/mosquitto/axfleet.passwd and /var/lib/axfleet (models,"
    say "  conversations): install again to use them, or remove them with --uninstall --purge"
  fi
  say "== done: axfleet is uninstalled (Mosquitto and Java stay installed: apt-get remove them if nothing else uses them)"
  exit 0
fi

# ---- 1. the machine: board, card, driver (warnings only: without the card axfleet runs its emulator) ----
say "== checking the machine"
board=""
if [[ -r /proc/device-tree/model ]]; then
  board="$(tr -d '\0' < /proc/device-tree/model)"
fi
if [[ "$board" == *"Raspberry Pi 5"* ]]; then
  say "  board: $board"
else
  warn "not a Raspberry Pi 5 (${board:-unknown board}); continuing"
fi
# lspci names the card "Axera Semiconductor Co., Ltd Device 0650" (M5 docs software_install).
if command -v lspci >/dev/null && lspci 2>/dev/null | grep -qiE 'axera.*0650'; then
  say "  card: $(lspci | grep -iE 'axera.*0650' | head -n 1)"
else
  warn "no AX650 card on PCIe (lspci shows no 'Axera ... Device 0650'): check the card is seated, the power
  supply (27 W PD with the LLM-8850 PiHat), and dtparam=pciex1 + dtoverlay=pciex1-compat-pi5,no-mip in
  /boot/firmware/config.txt (docs/hardware.md). Without the card, axfleet up runs its emulator."
fi
if command -v axcl-smi >/dev/null || [[ -x /usr/bin/axcl/axcl-smi ]]; then
  say "  driver: axcl-smi found"
else
  warn "the card's driver (axclhost) is not installed. As M5Stack documents it (M5 docs software_install):
    sudo wget -qO /etc/apt/keyrings/StackFlow.gpg https://repo.llm.m5stack.com/m5stack-apt-repo/key/StackFlow.gpg
    echo 'deb [signed-by=/etc/apt/keyrings/StackFlow.gpg] https://repo.llm.m5stack.com/m5stack-apt-repo axclhost main' | sudo tee /etc/apt/sources.list.d/axclhost.list
    sudo apt update && sudo apt install dkms axclhost && sudo apt-mark hold axclhost
  then run this installer again."
fi

# ---- 2. packages ----
say "== packages"
# default-jre-headless: the distribution's own Java (17 on Bookworm, 21 after it), not one release's package name.
# ffmpeg: the gateway decodes uploads other than WAV and encodes speech as mp3 (OpenAI's default), opus, aac and flac.
sys apt-get install -y mosquitto mosquitto-clients default-jre-headless ffmpeg
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1; }
if command -v java >/dev/null; then
  major="$(java_major)"
  if [[ -z "$major" || "$major" -lt 17 ]]; then
    echo "axfleet needs Java 17 or later; $(command -v java) is ${major:-of unknown version}: apt-get install default-jre-headless" >&2
    exit 1
  fi
  say "  java: $major ($(command -v java))"
elif [[ $DRY -eq 0 && -z "$PREFIX" ]]; then
  echo "no java after installing default-jre-headless: install Java 17 or later" >&2
  exit 1
else
  warn "no java on PATH: a real install gets it from default-jre-headless"
fi

# ---- 3. the service user ----
say "== user"
if id axfleet >/dev/null 2>&1; then
  say "  user axfleet exists"
else
  sys useradd --system --home-dir /var/lib/axfleet --shell /usr/sbin/nologin axfleet
fi

# ---- 4. axfleet itself ----
say "== axfleet"
if [[ ! -f "$jar" ]]; then
  echo "no $jar: install from the release archive (axfleet-VERSION.tar.gz, made by mvn package in" \
    "deploy/target/), or build this clone first: mvn -DskipTests package" >&2
  exit 1
fi
upgrade=0
if [[ -e "$PREFIX/opt/axfleet/axfleet.jar" ]]; then
  upgrade=1
  say "  over an installed axfleet: an upgrade (settings, secrets, models and conversations are kept; the new"
  say "  version's settings file is /opt/axfleet/axfleet.conf: diff /opt/axfleet/axfleet.conf /etc/axfleet/axfleet.conf)"
fi
# The class path exactly as shipped: a library an older version had and this one has not is removed.
if [[ -d "$PREFIX/opt/axfleet/lib" ]]; then
  for old in "$PREFIX"/opt/axfleet/lib/*.jar; do
    if [[ -e "$old" && ! -e "$libs/$(basename "$old")" ]]; then
      act rm -f "$old"
      changed=1
    fi
  done
fi
install_file "$jar" /opt/axfleet/axfleet.jar 0644
for lib in "$libs"/*.jar; do
  install_file "$lib" "/opt/axfleet/lib/$(basename "$lib")" 0644
done
for doc in "$docs"/*.md; do
  install_file "$doc" "/opt/axfleet/docs/$(basename "$doc")" 0644
done
# The settings file, with the chosen models accepted by the gateway before their workers finish loading,
# the admin token (made below) and, with --api-key, the API key.
conf="$(mktemp)"
api_key_line='# gateway.api_key_file ='
if [[ $API_KEY -eq 1 ]]; then api_key_line='gateway.api_key_file = /etc/axfleet/api-key'; fi
sed -e "s|^# gateway.models =.*|gateway.models = $MODELS|" \
    -e "s|^# gateway.admin_token_file =.*|gateway.admin_token_file = /etc/axfleet/admin-token|" \
    -e "s|^# gateway.api_key_file =.*|$api_key_line|" "$here/axfleet.conf" > "$conf"
install_file "$conf" /etc/axfleet/axfleet.conf 0644 keep
rm -f "$conf"
# The shipped settings as they are, so a kept file can be compared with a new version's: diff them.
install_file "$here/axfleet.conf" /opt/axfleet/axfleet.conf 0644
install_file "$here/bin/axfleet" /usr/local/bin/axfleet 0755
install_file "$here/systemd/axfleet-gateway.service" /etc/systemd/system/axfleet-gateway.service 0644
install_file "$here/systemd/axfleet-worker@.service" /etc/systemd/system/axfleet-worker@.service 0644
install_file "$here/systemd/axfleet-monitor.service" /etc/systemd/system/axfleet-monitor.service 0644
sys install -d -o axfleet -g axfleet /var/lib/axfleet/models

# ---- 5. the broker: settings, ACL, users ----
say "== mosquitto"
install_file "$here/mosquitto/axfleet.conf" /etc/mosquitto/conf.d/axfleet.conf 0644
install_file "$here/mosquitto/axfleet.acl" /etc/mosquitto/axfleet.acl 0644
passwd="$PREFIX/etc/mosquitto/axfleet.passwd"
secrets="$PREFIX/etc/axfleet/secrets.env"
if [[ -e "$passwd" && -e "$secrets" ]]; then
  say "  kept $passwd and $secrets (delete both to make new passwords)"
else
  # One password per ACL user; services read theirs from secrets.env, people from files only root reads.
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  : > "$work/passwd"
  for user in device gateway worker monitor; do
    pw="$(new_password)"
    printf '%s' "$pw" > "$work/$user-password"
    if [[ $DRY -eq 0 ]]; then
      mosquitto_passwd -b "$work/passwd" "$user" "$pw"
    fi
  done
  {
    printf 'AXFLEET_GATEWAY_MQTT_USERNAME=gateway\nAXFLEET_GATEWAY_MQTT_PASSWORD=%s\n' "$(cat "$work/gateway-password")"
    printf 'AXFLEET_WORKER_MQTT_USERNAME=worker\nAXFLEET_WORKER_MQTT_PASSWORD=%s\n' "$(cat "$work/worker-password")"
    printf 'AXFLEET_MONITOR_MQTT_USERNAME=monitor\nAXFLEET_MONITOR_MQTT_PASSWORD=%s\n' "$(cat "$work/monitor-password")"
  } > "$work/secrets.env"
  say "+ mosquitto_passwd -b $passwd device|gateway|worker|monitor <new passwords>"
  act install -D -m 0600 "$work/passwd" "$passwd"
  act install -D -m 0600 "$work/secrets.env" "$secrets"
  act install -D -m 0600 "$work/device-password" "$PREFIX/etc/axfleet/device-password"
  act install -D -m 0600 "$work/monitor-password" "$PREFIX/etc/axfleet/monitor-password"
fi
# Home Assistant's user (docs/home-assistant.md), added to a kept password file too (installs made before it).
ha_user() {
  if [[ $DRY -eq 0 && -e "$passwd" ]] && grep -q '^homeassistant:' "$passwd"; then
    return
  fi
  local pw work_ha
  pw="$(new_password)"
  work_ha="$(mktemp -d)"
  printf '%s' "$pw" > "$work_ha/homeassistant-password"
  say "+ mosquitto_passwd -b $passwd homeassistant <new password>"
  if [[ $DRY -eq 0 ]]; then
    mosquitto_passwd -b "$passwd" homeassistant "$pw"
  fi
  act install -D -m 0600 "$work_ha/homeassistant-password" "$PREFIX/etc/axfleet/homeassistant-password"
  rm -rf "$work_ha"
}
ha_user
# Mosquitto reads its password file after dropping to its own user.
sys chown mosquitto:mosquitto /etc/mosquitto/axfleet.passwd

# ---- 6. the gateway's own secrets: the admin token, and the API key with --api-key ----
# Owned by the gateway's user with mode 0600: the gateway refuses to start on a file others can read.
gateway_secret() {
  local name="$1" file="$PREFIX/etc/axfleet/$1" tmp
  if [[ -e "$file" ]]; then
    say "  kept $file"
    return
  fi
  tmp="$(mktemp)"
  new_password > "$tmp"
  act install -D -m 0600 "$tmp" "$file"
  rm -f "$tmp"
  sys chown axfleet:axfleet "/etc/axfleet/$name"
}
say "== gateway secrets"
gateway_secret admin-token
if [[ $API_KEY -eq 1 ]]; then
  gateway_secret api-key
fi

# ---- 7. per-model settings: the image model runs in its worker's process, with a larger heap ----
IFS=',' read -r -a models <<< "$MODELS"
for model in "${models[@]}"; do
  if [[ "$model" == sd15* ]]; then
    envfile="$(mktemp)"
    printf '%s\n' "# Written by deploy/install.sh: $model is an image model (docs/configuration.md, runtime.kind)." \
      "AXFLEET_RUNTIME_KIND=sd15-lcm" \
      "JAVA_OPTS=-Xms64m -Xmx384m -XX:+UseSerialGC -XX:MaxMetaspaceSize=64m -Xss512k" > "$envfile"
    install_file "$envfile" "/etc/axfleet/worker-$model.env" 0644 keep
    rm -f "$envfile"
  fi
done

# ---- 8. the settings, read by the version just installed ----
if [[ $DRY -eq 0 ]] && command -v java >/dev/null; then
  say "== checking $PREFIX/etc/axfleet/axfleet.conf"
  if ! java -jar "$PREFIX/opt/axfleet/axfleet.jar" config check "$PREFIX/etc/axfleet/axfleet.conf" | sed 's/^/  /'; then
    warn "fix the settings above (axfleet config check), then: sudo systemctl restart axfleet-gateway 'axfleet-worker@*'"
  fi
fi

# ---- 9. services ----
say "== services"
sys systemctl daemon-reload
sys systemctl restart mosquitto
if [[ $upgrade -eq 1 && $changed -eq 1 ]]; then
  # An upgrade: the services already running move onto the new files (a worker stops its runtime gently first).
  sys systemctl try-restart axfleet-gateway.service axfleet-monitor.service 'axfleet-worker@*.service'
fi
sys systemctl enable --now axfleet-gateway.service
sys systemctl enable --now axfleet-monitor.service
for model in "${models[@]}"; do
  sys systemctl enable --now "axfleet-worker@$model.service"
  if [[ ! -d "$PREFIX/var/lib/axfleet/models/$model" ]]; then
    say "  the model folder /var/lib/axfleet/models/$model is missing: sudo axfleet models pull $model"
  fi
done

say "== done"
say "  OpenAI API: http://127.0.0.1:8080/v1   Ollama API: http://127.0.0.1:8080/api   MQTT: 127.0.0.1:1883"
say "  devices log in to MQTT as 'device' with the password in /etc/axfleet/device-password"
say "  admin (card reset): curl -X POST -H \"Authorization: Bearer \$(sudo cat /etc/axfleet/admin-token)\" http://127.0.0.1:8080/admin/cards/\$(hostname)/0/reset"
if [[ $API_KEY -eq 1 ]]; then
  say "  API key (Authorization: Bearer ...): sudo cat /etc/axfleet/api-key"
fi
say "  Home Assistant: MQTT user 'homeassistant', password in /etc/axfleet/homeassistant-password; Ollama integration at http://THIS-PI:11434 (docs/home-assistant.md)"
say "  card health: mosquitto_sub -u monitor -P \"\$(sudo cat /etc/axfleet/monitor-password)\" -t 'axfleet/v1/cards/#' -v"
say "  logs: journalctl -u axfleet-gateway -u axfleet-monitor -u 'axfleet-worker@*' -f"
