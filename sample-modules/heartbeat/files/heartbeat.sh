#!/bin/sh
# heartbeat - writes the current time (epoch seconds) to a state file at a
# fixed interval, so that monitoring can tell the host is alive.
# Managed by Puppet (heartbeat module).
set -eu

CONFIG="${HEARTBEAT_CONFIG:-/etc/heartbeat/heartbeat.conf}"
INTERVAL=5
STATE_FILE=/var/lib/heartbeat/beat

if [ -r "$CONFIG" ]; then
  . "$CONFIG"
fi

trap 'exit 0' TERM INT

while :; do
  date +%s > "$STATE_FILE.tmp"
  mv "$STATE_FILE.tmp" "$STATE_FILE"
  sleep "$INTERVAL" &
  wait $!
done
