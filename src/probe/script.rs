//! Writing the probe: one POSIX shell script that gathers what every check of a case
//! needs, in one exec.
//!
//! The script only collects facts (a stat line, a file's content, a command's output);
//! expected values never enter it, and every value that does (paths, names, commands) is
//! single-quoted, so a check can never run a value as code. Each fact is written as a
//! length-prefixed record, so any bytes (newlines, non-UTF-8) come back intact.

use crate::spec::check::{Assertion, FileAttrs, HttpCheck, ResourceCheck};
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
    generate_for(checks.iter().enumerate())
}

/// The probe for some of a case's checks, each with the id its records carry (a retry
/// runs only the checks that still fail, under their first ids).
pub fn generate_for<'a>(checks: impl IntoIterator<Item = (usize, &'a Check)>) -> String {
    let mut script = String::from(PRELUDE);
    let mut resources = Vec::new();
    for (id, check) in checks {
        script.push_str(&format!("\n# {id}: {}\n", check.kind()));
        match &check.what {
            Assertion::Resource(c) => resources.push((id, c)),
            what => script.push_str(&snippet(id, what)),
        }
    }
    if !resources.is_empty() {
        script.push_str(&resource_batch(&resources));
    }
    script.push_str("\nexit 0\n");
    script
}

fn snippet(id: usize, what: &Assertion) -> String {
    match what {
        Assertion::File(c) => file(id, &quote(&c.path), &c.attrs),
        Assertion::Package(c) => format!(
            r#"p={name}
if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='${{db:Status-Abbrev}}|${{Version}}' "$p" > "$T/o" 2>/dev/null || : > "$T/o"; out {id} dpkg "$T/o"
elif command -v rpm >/dev/null 2>&1; then
  rpm -q --qf '%{{VERSION}}-%{{RELEASE}}' "$p" > "$T/o" 2>/dev/null || : > "$T/o"; out {id} rpm "$T/o"
else val {id} missing "dpkg-query or rpm"; fi
"#,
            name = quote(&c.name)
        ),
        Assertion::Service(c) => format!(
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
        Assertion::User(c) => format!(
            r#"u={name}
if need {id} getent id; then
  if getent passwd "$u" > "$T/o"; then out {id} passwd "$T/o"; id -Gn "$u" > "$T/o" 2>/dev/null; out {id} groups "$T/o"; else val {id} absent 1; fi
fi
"#,
            name = quote(&c.name)
        ),
        Assertion::Group(c) => format!(
            r#"g={name}
if need {id} getent; then
  if getent group "$g" > "$T/o"; then out {id} group "$T/o"; else val {id} absent 1; fi
fi
"#,
            name = quote(&c.name)
        ),
        Assertion::Port(c) => {
            // The container's own socket tables: no tool needed, and no `ss` to install.
            let p = c.protocol.as_str();
            format!(
                r#"if [ -r /proc/net/{p} ]; then
  for t in {p} {p}6; do if [ -r /proc/net/$t ]; then cat /proc/net/$t > "$T/o"; out {id} $t "$T/o"; fi; done
else val {id} missing "/proc/net/{p}"; fi
"#
            )
        }
        Assertion::Process(_) => format!(
            r#": > "$T/o"
for d in /proc/[0-9]*; do
  [ "${{d#/proc/}}" = "$$" ] || [ "${{d#/proc/}}" = "$PPID" ] && continue
  {{ IFS= read -r c < "$d/comm"; }} 2>/dev/null && printf '%s\n' "$c" >> "$T/o"
done
out {id} comms "$T/o"
"#
        ),
        Assertion::Command(c) => format!(
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
        Assertion::Http(c) => http(id, c),
        Assertion::Mount(_) => format!(
            r#"if [ -r /proc/mounts ]; then cat /proc/mounts > "$T/o"; out {id} mounts "$T/o"; else val {id} missing /proc/mounts; fi
"#
        ),
        Assertion::KernelParam(c) => format!(
            r#"k={path}
if [ -r "$k" ] && [ -f "$k" ]; then cat "$k" > "$T/o" 2>&1; out {id} value "$T/o"; else val {id} absent 1; fi
"#,
            path = quote(&c.proc_path())
        ),
        Assertion::Interface(c) => {
            let mut body = format!(
                r#"i={name}
if [ -d "/sys/class/net/$i" ]; then
  val {id} exists true
  if [ -r "/sys/class/net/$i/mtu" ]; then cat "/sys/class/net/$i/mtu" > "$T/o"; out {id} mtu "$T/o"; fi
"#,
                name = quote(&c.name)
            );
            if !c.attrs.addrs.0.is_empty() {
                body.push_str(&format!(
                    "  if need {id} ip; then ip -o addr show dev \"$i\" > \"$T/o\" 2>&1; out {id} addrs \"$T/o\"; fi\n"
                ));
            }
            body.push_str(&format!("else\n  val {id} exists false\nfi\n"));
            body
        }
        Assertion::Resource(_) => unreachable!("resource checks are batched"),
    }
}

/// An HTTP request from inside the container: curl where the image has it, else wget.
fn http(id: usize, c: &HttpCheck) -> String {
    let secs = c.timeout().as_secs().max(1);
    let insecure = c.attrs.allow_insecure == Some(true);
    let follow = c.attrs.follow_redirects == Some(true);
    format!(
        r#"u={url}
: > "$T/b"; : > "$T/h"; : > "$T/e"
if command -v curl >/dev/null 2>&1; then
  curl -sS -g{k}{l} --max-time {secs} -o "$T/b" -D "$T/h" -w '%{{http_code}}' -- "$u" > "$T/o" 2> "$T/e"; val {id} exit "$?"
  out {id} status "$T/o"
elif command -v wget >/dev/null 2>&1; then
  wget -q -S --content-on-error -O "$T/b" -T {secs}{wk} {wl} "$u" 2> "$T/h"; val {id} exit "$?"
  grep -a '^ *HTTP/' "$T/h" | tail -n 1 | awk '{{print $2}}' > "$T/o"; out {id} status "$T/o"
else val {id} missing "curl or wget"; fi
head -c {MAX_CONTENT_BYTES} "$T/b" > "$T/o"; out {id} body "$T/o"; out {id} headers "$T/h"; out {id} error "$T/e"
"#,
        url = quote(&c.url),
        k = if insecure { "k" } else { "" },
        l = if follow { "L" } else { "" },
        wk = if insecure {
            " --no-check-certificate"
        } else {
            ""
        },
        wl = if follow {
            "--max-redirect=20"
        } else {
            "--max-redirect=0"
        },
    )
}

/// Every `resource` check of the probe, in ONE Ruby process that loads Puppet once
/// and asks it for each resource as `puppet resource` would. Puppet's Ruby is found
/// where the AIO packages put it, else on PATH.
fn resource_batch(resources: &[(usize, &ResourceCheck)]) -> String {
    let mut args = String::new();
    for (id, c) in resources {
        args.push_str(&format!(
            " {id} {} {}",
            quote(&c.type_name),
            quote(&c.title)
        ));
    }
    let missing: String = resources
        .iter()
        .map(|(id, _)| format!(" val {id} missing \"puppet's ruby\";"))
        .collect();
    format!(
        r#"
# resources, in one Puppet
R=
if [ -x /opt/puppetlabs/puppet/bin/ruby ]; then R=/opt/puppetlabs/puppet/bin/ruby; elif command -v ruby >/dev/null 2>&1; then R=ruby; fi
if [ -n "$R" ]; then
  "$R" -e {ruby} --{args} 2> "$T/e" || {{ for i in{ids}; do out $i error "$T/e"; done; }}
else{missing} fi
"#,
        ruby = quote(RESOURCE_RUBY),
        ids = resources
            .iter()
            .map(|(id, _)| format!(" {id}"))
            .collect::<String>(),
    )
}

/// Loads Puppet once, then finds each resource through the RAL (what `puppet resource`
/// does) and writes its attributes as records `attr:<name>`; arrays one element a line.
const RESOURCE_RUBY: &str = r##"
def rec(id, field, value)
  v = value.to_s.b
  $stdout.write("\n@@rehearsal #{id} #{field} #{v.bytesize}\n")
  $stdout.write(v)
end
begin
  require 'puppet'
  Puppet.initialize_settings
rescue Exception => e
  ARGV.each_slice(3) { |id, _, _| rec(id, 'error', "cannot load Puppet: #{e.message}") }
  exit 0
end
ARGV.each_slice(3) do |id, type, title|
  begin
    if Puppet::Type.type(type.to_sym).nil?
      rec(id, 'error', "unknown resource type #{type} (puppet resource reads native types only)")
      next
    end
    res = Puppet::Resource.indirection.find("#{type}/#{title}")
    if res.nil?
      rec(id, 'error', "puppet found no #{type} #{title}")
      next
    end
    res.to_hash.each do |k, v|
      rec(id, "attr:#{k}", v.is_a?(Array) ? v.map(&:to_s).join("\n") : v.to_s)
    end
    rec(id, 'found', 'true')
  rescue Exception => e
    rec(id, 'error', "#{e.class}: #{e.message}")
  end
end
$stdout.flush
"##;

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
