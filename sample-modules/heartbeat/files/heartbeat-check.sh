#!/bin/sh
# heartbeat-check - monitoring plugin (Nagios conventions) that reports
# whether the heartbeat daemon has written its state file recently.
# Managed by Puppet (heartbeat module).
set -u

CONFIG="${HEARTBEAT_CONFIG:-/etc/heartbeat/heartbeat.conf}"
INTERVAL=5
STATE_FILE=/var/lib/heartbeat/beat

if [ -r "$CONFIG" ]; then
  . "$CONFIG"
fi

if [ ! -r "$STATE_FILE" ]; then
  echo "HEARTBEAT CRITICAL - no state file $STATE_FILE"
  exit 2
fi

last=$(cat "$STATE_FILE")
now=$(date +%s)
age=$((now - last))
max_age=$((INTERVAL * 3))

if [ "$age" -gt "$max_age" ]; then
  echo "HEARTBEAT CRITICAL - last beat ${age}s ago (limit ${max_age}s)"
  exit 2
fi

echo "HEARTBEAT OK - last beat ${age}s ago (interval ${INTERVAL}s)"
exit 0
