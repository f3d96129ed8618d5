# Run inside the bench container by bench/verify (bash -c, the state table on stdin):
# creates the state that the three tools then verify. Table rows, tab-separated:
#   user <name> <uid> | file <path> <mode> <owner> <line> | package <name>
#   service <name>    | command <command> <stdout>
set -euo pipefail
rows=$(cat)
mkdir -p /srv/bench
while IFS=$'\t' read -r kind a b c d; do
  case $kind in
    user) useradd --no-create-home --uid "$b" --shell /usr/sbin/nologin "$a" ;;
  esac
done <<<"$rows"
while IFS=$'\t' read -r kind a b c d; do
  case $kind in
    file)
      printf '# written by bench/verify\n%s\n' "$d" > "$a"
      chown "$c" "$a"
      chmod "$b" "$a"
      ;;
    package)
      dpkg-query -W -f='${db:Status-Abbrev}' "$a" 2>/dev/null | grep -q '^ii' \
        || { echo "setup: package $a is not installed in the image" >&2; exit 1; }
      ;;
    service) systemctl enable --now "$a" >/dev/null 2>&1 ;;
  esac
done <<<"$rows"
