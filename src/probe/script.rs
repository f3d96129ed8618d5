//! Writing the probe: one POSIX shell script that gathers what every check of a case
//! needs, in one exec.
//!
//! The script only collects facts (a stat line, a file's content, a command's output);
//! expected values never enter it, and every value that does (paths, names, commands) is
//! single-quoted, so a check can never run a value as code. Each fact goes to a file of
//! its own, named `<seq>.<check>.<field>`; at the end ONE `wc -c` lists their sizes and ONE
//! `cat` sends their bytes, so any bytes (newlines, non-UTF-8) come back intact and a
//! record costs no process of its own.

use crate::spec::check::{Assertion, FileAttrs, HttpCheck, ResourceCheck};
use crate::spec::Check;

/// Starts the list of records: `\n@@rehearsal-records <count>\n`, then `wc -c`'s lines.
pub const RECORDS: &str = "@@rehearsal-records";
/// Ends the list; the records' bytes follow, in the listed order.
pub const DATA: &str = "@@rehearsal-data";

/// Files larger than this are read only this far for `contains`.
pub const MAX_CONTENT_BYTES: u64 = 4 * 1024 * 1024;

/// Quotes a value for POSIX sh: inside single quotes nothing is special but the quote.
pub fn quote(value: &str) -> String {
    let clean: String = value.chars().filter(|c| *c != '\0').collect();
    format!("'{}'", clean.replace('\'', r"'\''"))
}

const PRELUDE: &str = r#"#!/bin/sh
# Written by rehearsal: gathers the facts its checks need, one file a fact.
T=$(mktemp -d 2>/dev/null || { mkdir -p /tmp/rehearsal-probe.$$ && echo /tmp/rehearsal-probe.$$; })
trap 'rm -rf "$T"' EXIT
mkdir "$T/r"; n=100000
# rec CHECK FIELD: points R at the file for this fact.
rec() { n=$((n+1)); R="$T/r/$n.$1.$2"; }
# val CHECK FIELD TEXT: a short value as one fact.
val() { rec "$1" "$2"; printf '%s' "$3" > "$R"; }
# need CHECK TOOL...: records the first tool that is missing, and fails.
need() { c=$1; shift; for t in "$@"; do command -v "$t" >/dev/null 2>&1 || { val "$c" missing "$t"; return 1; }; done; }
"#;

/// Sends every fact: their names and sizes (one `wc`), then their bytes (one `cat`).
const SEND: &str = r#"
cd "$T/r" && set -- * && [ -e "$1" ] && {
  printf '\n@@rehearsal-records %s\n' "$#"; wc -c -- "$@"; printf '@@rehearsal-data\n'; cat -- "$@"
}
exit 0
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
    script.push_str(SEND);
    script
}

fn snippet(id: usize, what: &Assertion) -> String {
    match what {
        Assertion::File(c) => file(id, &quote(&c.path), &c.attrs),
        Assertion::Package(c) => format!(
            r#"p={name}
if command -v dpkg-query >/dev/null 2>&1; then
  rec {id} dpkg; dpkg-query -W -f='${{db:Status-Abbrev}}|${{Version}}' "$p" > "$R" 2>/dev/null || : > "$R"
elif command -v rpm >/dev/null 2>&1; then
  rec {id} rpm; rpm -q --qf '%{{VERSION}}-%{{RELEASE}}' "$p" > "$R" 2>/dev/null || : > "$R"
else val {id} missing "dpkg-query or rpm"; fi
"#,
            name = quote(&c.name)
        ),
        Assertion::Service(c) => format!(
            r#"s={name}
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  rec {id} active; systemctl is-active "$s" > "$R" 2>/dev/null
  rec {id} enabled; systemctl is-enabled "$s" > "$R" 2>/dev/null
elif need {id} service; then
  service "$s" status >/dev/null 2>&1; val {id} sysv_status "$?"
fi
"#,
            name = quote(&c.name)
        ),
        Assertion::User(c) => format!(
            r#"u={name}
if need {id} getent{id_tool}; then
  rec {id} passwd
  if getent passwd "$u" > "$R"; then {groups}:; else val {id} absent 1; fi
fi
"#,
            name = quote(&c.name),
            id_tool = if c.attrs.groups.is_empty() { "" } else { " id" },
            groups = if c.attrs.groups.is_empty() {
                String::new()
            } else {
                format!(r#"rec {id} groups; id -Gn "$u" > "$R" 2>/dev/null; "#)
            }
        ),
        Assertion::Group(c) => format!(
            r#"g={name}
if need {id} getent; then
  rec {id} group; getent group "$g" > "$R" || val {id} absent 1
fi
"#,
            name = quote(&c.name)
        ),
        Assertion::Port(c) => {
            // The container's own socket tables: no tool needed, and no `ss` to install.
            let p = c.protocol.as_str();
            format!(
                r#"if [ -r /proc/net/{p} ]; then
  rec {id} {p}; cat /proc/net/{p} > "$R"; if [ -r /proc/net/{p}6 ]; then rec {id} {p}6; cat /proc/net/{p}6 > "$R"; fi
else val {id} missing "/proc/net/{p}"; fi
"#
            )
        }
        Assertion::Process(_) => format!(
            r#"rec {id} comms
for d in /proc/[0-9]*; do
  [ "${{d#/proc/}}" = "$$" ] || [ "${{d#/proc/}}" = "$PPID" ] && continue
  {{ IFS= read -r c < "$d/comm"; }} 2>/dev/null && printf '%s\n' "$c"
done > "$R"
"#
        ),
        Assertion::Command(c) => format!(
            r#"c={cmd}; rec {id} stdout; o=$R; rec {id} stderr
if command -v timeout >/dev/null 2>&1; then
  timeout -k 5 {secs} sh -c "$c" < /dev/null > "$o" 2> "$R"; val {id} exit "$?"; val {id} timeout {secs}
else
  sh -c "$c" < /dev/null > "$o" 2> "$R"; val {id} exit "$?"
fi
"#,
            cmd = quote(&c.command),
            secs = c.timeout().as_secs().max(1)
        ),
        Assertion::Http(c) => http(id, c),
        Assertion::Mount(_) => format!(
            r#"if [ -r /proc/mounts ]; then rec {id} mounts; cat /proc/mounts > "$R"; else val {id} missing /proc/mounts; fi
"#
        ),
        Assertion::KernelParam(c) => format!(
            r#"k={path}
if [ -r "$k" ] && [ -f "$k" ]; then rec {id} value; cat "$k" > "$R" 2>&1; else val {id} absent 1; fi
"#,
            path = quote(&c.proc_path())
        ),
        Assertion::Interface(c) => {
            let mut body = format!(
                r#"i={name}
if [ -d "/sys/class/net/$i" ]; then
  val {id} exists true
  if [ -r "/sys/class/net/$i/mtu" ]; then rec {id} mtu; IFS= read -r m < "/sys/class/net/$i/mtu"; printf '%s' "$m" > "$R"; fi
"#,
                name = quote(&c.name)
            );
            if !c.attrs.addrs.0.is_empty() {
                body.push_str(&format!(
                    "  if need {id} ip; then rec {id} addrs; ip -o addr show dev \"$i\" > \"$R\" 2>&1; fi\n"
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
rec {id} body; b=$R; rec {id} headers; h=$R; rec {id} error; e=$R; rec {id} status; s=$R
if command -v curl >/dev/null 2>&1; then
  curl -sS -g{k}{l} --max-time {secs} -o "$b" -D "$h" -w '%{{http_code}}' -- "$u" > "$s" 2> "$e"; val {id} exit "$?"
elif command -v wget >/dev/null 2>&1; then
  wget -q -S --content-on-error -O "$b" -T {secs}{wk} {wl} "$u" 2> "$h"; val {id} exit "$?"
  grep -a '^ *HTTP/' "$h" | tail -n 1 | awk '{{print $2}}' > "$s"
else val {id} missing "curl or wget"; fi
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
/// and asks it for each resource as `puppet resource` would: in a case's container, a
/// child of the Puppet driver's server (Puppet already loaded), else a Ruby of its own.
/// Puppet's Ruby is found where the AIO packages put it, else on PATH.
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
if [ -n "$R" ] && [ -f {driver} ]; then
  "$R" --disable-gems {driver} eval {ruby} "$T/r"{args} > "$T/e" 2>&1 || {{ for i in{ids}; do rec $i error; cat "$T/e" > "$R"; done; }}
elif [ -n "$R" ]; then
  "$R" -e {ruby} -- "$T/r"{args} 2> "$T/e" || {{ for i in{ids}; do rec $i error; cat "$T/e" > "$R"; done; }}
else{missing} fi
"#,
        ruby = quote(RESOURCE_RUBY),
        driver = quote(&crate::layout::case_file(crate::layout::DRIVER_RB)),
        ids = resources
            .iter()
            .map(|(id, _)| format!(" {id}"))
            .collect::<String>(),
    )
}

/// Loads Puppet once, then finds each resource through the RAL (what `puppet resource`
/// does) and writes its attributes as facts `attr:<name>` in the directory given first;
/// arrays one element a line.
const RESOURCE_RUBY: &str = r##"
$dir = ARGV.shift
$seq = 0
def rec(id, field, value)
  $seq += 1
  File.binwrite(format('%s/r%06d.%s.%s', $dir, $seq, id, field), value.to_s)
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
"##;

fn file(id: usize, path: &str, attrs: &FileAttrs) -> String {
    let mut body = format!(
        r#"f={path}
if [ -e "$f" ] || [ -L "$f" ]; then
  val {id} exists true
  if need {id} stat; then rec {id} stat; stat -L -c '%F|%a|%U|%G|%s' "$f" > "$R" 2>&1; fi
  if [ -L "$f" ]; then val {id} symlink true; fi
"#
    );
    if attrs.linked_to.is_some() {
        body.push_str(&format!(
            "  if [ -L \"$f\" ] && need {id} readlink; then rec {id} link; readlink \"$f\" > \"$R\"; fi\n"
        ));
    }
    if !attrs.contains.0.is_empty() {
        body.push_str(&format!(
            "  if [ -f \"$f\" ] && need {id} head; then rec {id} content; head -c {MAX_CONTENT_BYTES} \"$f\" > \"$R\" 2>&1; fi\n"
        ));
    }
    if attrs.sha256.is_some() {
        body.push_str(&format!(
            "  if [ -f \"$f\" ] && need {id} sha256sum; then rec {id} sha256; sha256sum < \"$f\" > \"$R\"; fi\n"
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
