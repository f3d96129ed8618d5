//! Writing the probe: one POSIX shell script that gathers what every check of a case
//! needs, in one exec.
//!
//! The script only collects facts (a stat line, a file's content, a command's output);
//! expected values never enter it, and every value that does (paths, names, commands) is
//! single-quoted, so a check can never run a value as code. Each fact is written as a
//! length-prefixed record, so any bytes (newlines, non-UTF-8) come back intact.

use crate::spec::check::FileAttrs;
use crate::spec::Check;

/// The marker that starts every record: `\n@@rehearsal <check> <field> <length>\n`.
pub const MARKER: &str = "@@rehearsal";

/// Files larger than this are read only this far for `contains`.
pub const MAX_CONTENT_BYTES: u64 = 4 * 1024 * 1024;

/// Quotes a value for POSIX sh: inside single quotes nothing is special but the quote.
pub fn quote(value: &str) -> String {
    let clean: String = value.chars().filter(|c| *c != '\0').collect();
    format!("'{}'", clean.replace('\'', r"'\''"))
}

const PRELUDE: &str = r#"#!/bin/sh
# Written by rehearsal: gathers the facts its checks need, as length-prefixed records.
T=$(mktemp -d 2>/dev/null || { mkdir -p /tmp/rehearsal-probe.$$ && echo /tmp/rehearsal-probe.$$; })
trap 'rm -rf "$T"' EXIT
# out CHECK FIELD FILE: the file's bytes as one record.
out() { n=$(wc -c < "$3" | tr -d ' '); printf '\n@@rehearsal %s %s %s\n' "$1" "$2" "$n"; cat "$3"; }
# val CHECK FIELD TEXT: a short value as one record.
val() { printf '%s' "$3" > "$T/v"; out "$1" "$2" "$T/v"; }
# need CHECK TOOL...: records the first tool that is missing, and fails.
need() { c=$1; shift; for t in "$@"; do command -v "$t" >/dev/null 2>&1 || { val "$c" missing "$t"; return 1; }; done; }
"#;

/// The whole probe for a list of checks; check `i`'s records carry the id `i`.
pub fn generate(checks: &[Check]) -> String {
    let mut script = String::from(PRELUDE);
    for (id, check) in checks.iter().enumerate() {
        script.push_str(&format!("\n# {id}: {}\n", check.kind()));
        script.push_str(&snippet(id, check));
    }
    script.push_str("\nexit 0\n");
    script
}

fn snippet(id: usize, check: &Check) -> String {
    match check {
        Check::File(c) => file(id, &quote(&c.path), &c.attrs),
        Check::Package(c) => format!(
            r#"p={name}
if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='${{db:Status-Abbrev}}|${{Version}}' "$p" > "$T/o" 2>/dev/null || : > "$T/o"; out {id} dpkg "$T/o"
elif command -v rpm >/dev/null 2>&1; then
  rpm -q --qf '%{{VERSION}}-%{{RELEASE}}' "$p" > "$T/o" 2>/dev/null || : > "$T/o"; out {id} rpm "$T/o"
else val {id} missing "dpkg-query or rpm"; fi
"#,
            name = quote(&c.name)
        ),
        Check::Service(c) => format!(
            r#"s={name}
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl is-active "$s" > "$T/o" 2>/dev/null; out {id} active "$T/o"
  systemctl is-enabled "$s" > "$T/o" 2>/dev/null; out {id} enabled "$T/o"
elif need {id} service; then
  service "$s" status >/dev/null 2>&1; val {id} sysv_status "$?"
fi
"#,
            name = quote(&c.name)
        ),
        Check::User(c) => format!(
            r#"u={name}
if need {id} getent id; then
  if getent passwd "$u" > "$T/o"; then out {id} passwd "$T/o"; id -Gn "$u" > "$T/o" 2>/dev/null; out {id} groups "$T/o"; else val {id} absent 1; fi
fi
"#,
            name = quote(&c.name)
        ),
        Check::Group(c) => format!(
            r#"g={name}
if need {id} getent; then
  if getent group "$g" > "$T/o"; then out {id} group "$T/o"; else val {id} absent 1; fi
fi
"#,
            name = quote(&c.name)
        ),
        Check::Command(c) => format!(
            r#"c={cmd}
if command -v timeout >/dev/null 2>&1; then
  timeout -k 5 {secs} sh -c "$c" < /dev/null > "$T/o" 2> "$T/e"; val {id} exit "$?"; val {id} timeout {secs}
else
  sh -c "$c" < /dev/null > "$T/o" 2> "$T/e"; val {id} exit "$?"
fi
out {id} stdout "$T/o"; out {id} stderr "$T/e"
"#,
            cmd = quote(&c.command),
            secs = c.timeout().as_secs().max(1)
        ),
    }
}

fn file(id: usize, path: &str, attrs: &FileAttrs) -> String {
    let mut body = format!(
        r#"f={path}
if [ -e "$f" ] || [ -L "$f" ]; then
  val {id} exists true
  if need {id} stat; then stat -L -c '%F|%a|%U|%G|%s' "$f" > "$T/o" 2>&1; out {id} stat "$T/o"; fi
  if [ -L "$f" ]; then val {id} symlink true; fi
"#
    );
    if attrs.linked_to.is_some() {
        body.push_str(&format!(
            "  if [ -L \"$f\" ] && need {id} readlink; then readlink \"$f\" > \"$T/o\"; out {id} link \"$T/o\"; fi\n"
        ));
    }
    if !attrs.contains.0.is_empty() {
        body.push_str(&format!(
            "  if [ -f \"$f\" ] && need {id} head; then head -c {MAX_CONTENT_BYTES} \"$f\" > \"$T/o\" 2>&1; out {id} content \"$T/o\"; fi\n"
        ));
    }
    if attrs.sha256.is_some() {
        body.push_str(&format!(
            "  if [ -f \"$f\" ] && need {id} sha256sum; then sha256sum < \"$f\" | cut -d' ' -f1 > \"$T/o\"; out {id} sha256 \"$T/o\"; fi\n"
        ));
    }
    body.push_str(&format!("else\n  val {id} exists false\nfi\n"));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_everything_literal() {
        assert_eq!(quote("plain"), "'plain'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(rm -rf /)`x`\n\"y\""), "'$(rm -rf /)`x`\n\"y\"'");
        assert_eq!(quote("a\0b"), "'ab'");
    }
}
