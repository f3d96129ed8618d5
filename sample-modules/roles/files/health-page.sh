#!/bin/sh
# Answers one HTTP request on stdin/stdout (started by systemd's health.socket, one
# instance per connection): the health page for GET /health.html, 404 otherwise.
# Managed by Puppet (roles::profile::web).
docroot=${1:-/srv/www}
read -r method path _
while read -r header && [ "$(printf '%s' "$header" | tr -d '\r')" != "" ]; do :; done
if [ "$method" = GET ] && [ "$path" = /health.html ] && [ -r "$docroot/health.html" ]; then
  printf 'HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nCache-Control: no-store\r\n\r\n'
  cat "$docroot/health.html"
else
  printf 'HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot found\n'
fi
