//! Judging each check against the facts the probe gathered: one [`CheckFailure`] per
//! attribute that does not hold (`{attribute: mode, expected: 0644, actual: 0600}`, which
//! reads `mode: expected 0644, got 0600`), or the reason it could not be answered.

use super::records::Fields;
use super::tables;
use crate::outcome::CheckFailure;
use crate::spec::check::{
    Assertion, CommandCheck, FileCheck, FileType, GroupCheck, HttpCheck, InterfaceCheck,
    KernelParamCheck, MountCheck, PackageCheck, PortCheck, ProcessCheck, Protocol, ResourceCheck,
    ServiceCheck, UserCheck,
};
use crate::spec::{Check, Matcher, Matchers};

/// Why a check failed, one reason per attribute; empty when it passed.
pub type Failures = Vec<CheckFailure>;

/// Evaluates one check. A check the probe could not answer fails with the reason.
pub fn evaluate(check: &Check, fields: Fields<'_>) -> Failures {
    if fields.is_empty() {
        return vec![CheckFailure::cannot_check(
            "the probe gave no answer for this check",
        )];
    }
    if let Some(tool) = fields.word("missing") {
        return vec![CheckFailure::cannot_check(format!(
            "{tool} not in the image"
        ))];
    }
    let mut out = Failures::new();
    match &check.what {
        Assertion::File(c) => file(c, fields, &mut out),
        Assertion::Package(c) => package(c, fields, &mut out),
        Assertion::Service(c) => service(c, fields, &mut out),
        Assertion::User(c) => user(c, fields, &mut out),
        Assertion::Group(c) => group(c, fields, &mut out),
        Assertion::Port(c) => port(c, fields, &mut out),
        Assertion::Process(c) => process(c, fields, &mut out),
        Assertion::Command(c) => command(c, fields, &mut out),
        Assertion::Http(c) => http(c, fields, &mut out),
        Assertion::Mount(c) => mount(c, fields, &mut out),
        Assertion::KernelParam(c) => kernel_param(c, fields, &mut out),
        Assertion::Interface(c) => interface(c, fields, &mut out),
        Assertion::Resource(c) => resource(c, fields, &mut out),
    }
    out
}

fn expect_bool(out: &mut Failures, attr: &str, want: Option<bool>, got: bool) {
    if let Some(want) = want {
        if want != got {
            out.push(CheckFailure::mismatch(attr, want, got));
        }
    }
}

fn expect_value(out: &mut Failures, attr: &str, want: Option<&Matcher>, got: &str) {
    if let Some(want) = want {
        if !want.matches_value(got) {
            out.push(CheckFailure::mismatch(attr, want, shown(got)));
        }
    }
}

/// A value as shown in a message: trimmed, and cut when long.
fn shown(text: &str) -> String {
    let text = text.trim_end_matches('\n');
    if text.is_empty() {
        return "nothing".to_string();
    }
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}").trim_matches('"').to_string()
}

/// Whether the thing should exist: `exists:` when given, else yes.
fn should_exist(exists: Option<bool>) -> bool {
    exists.unwrap_or(true)
}

fn file(c: &FileCheck, f: Fields<'_>, out: &mut Failures) {
    let a = &c.attrs;
    let exists = f.word("exists").as_deref() == Some("true");
    if !should_exist(a.exists) {
        if exists {
            out.push(CheckFailure::mismatch("exists", false, true));
        }
        return;
    }
    if !exists {
        out.push(CheckFailure::mismatch(
            "exists",
            true,
            "false (no such file)",
        ));
        return;
    }
    let is_link = f.word("symlink").as_deref() == Some("true");
    let stat = f.word("stat").unwrap_or_default();
    let parts: Vec<&str> = stat.split('|').collect();
    if parts.len() != 5 {
        // A dangling symlink cannot be followed: only its type and target are known.
        if !(is_link
            && (a.mode.is_none() && a.owner.is_none() && a.group.is_none() && a.size.is_none()))
        {
            out.push(CheckFailure::cannot_check(format!(
                "stat failed: {}",
                shown(&stat)
            )));
            return;
        }
    }
    let field = |i: usize| parts.get(i).copied().unwrap_or("");
    if let Some(want) = a.file_type {
        let got = if is_link {
            "symlink"
        } else {
            match field(0) {
                "directory" => "directory",
                t if t.starts_with("regular") => "file",
                other => other,
            }
        };
        if want.as_str() != got {
            out.push(CheckFailure::mismatch("type", want.as_str(), got));
        }
    }
    if let Some(want) = &a.mode {
        let got = format!("{:0>4}", field(1));
        if want.0 != got {
            out.push(CheckFailure::mismatch("mode", &want.0, got));
        }
    }
    expect_value(out, "owner", a.owner.as_ref(), field(2));
    expect_value(out, "group", a.group.as_ref(), field(3));
    if let Some(want) = a.size {
        if field(4) != want.to_string() {
            out.push(CheckFailure::mismatch("size", want, field(4)));
        }
    }
    if let Some(want) = &a.linked_to {
        match f.text("link") {
            Some(target) => expect_value(out, "linked_to", Some(want), &target),
            None => out.push(CheckFailure::mismatch("linked_to", want, "no symlink")),
        }
    }
    if !a.contains.0.is_empty() {
        match f.text("content") {
            Some(content) => {
                for m in &a.contains.0 {
                    if !m.found_in(&content) {
                        out.push(match m {
                            Matcher::Not(inner) => CheckFailure::Contains {
                                attribute: "contains".into(),
                                expected: inner.to_string(),
                                present: true,
                            },
                            _ => CheckFailure::Contains {
                                attribute: "contains".into(),
                                expected: m.to_string(),
                                present: false,
                            },
                        });
                    }
                }
            }
            None if a.file_type == Some(FileType::Directory) => {}
            None => out.push(CheckFailure::Note {
                attribute: Some("contains".into()),
                text: "cannot read the content (not a regular file)".into(),
            }),
        }
    }
    if let Some(want) = &a.sha256 {
        expect_value(
            out,
            "sha256",
            Some(want),
            f.word("sha256")
                .unwrap_or_default()
                .split_whitespace()
                .next()
                .unwrap_or(""),
        );
    }
}

fn package(c: &PackageCheck, f: Fields<'_>, out: &mut Failures) {
    let (installed, version) = if let Some(dpkg) = f.text("dpkg") {
        let (status, version) = dpkg.split_once('|').unwrap_or((&dpkg, ""));
        (
            status.as_bytes().get(1) == Some(&b'i'),
            version.trim().to_string(),
        )
    } else {
        let rpm = f.word("rpm").unwrap_or_default();
        (!rpm.is_empty(), rpm)
    };
    let want_installed = c.attrs.installed.unwrap_or(true);
    expect_bool(out, "installed", Some(want_installed), installed);
    if installed {
        expect_value(out, "version", c.attrs.version.as_ref(), &version);
    }
}

fn service(c: &ServiceCheck, f: Fields<'_>, out: &mut Failures) {
    if let Some(status) = f.word("sysv_status") {
        expect_bool(out, "running", c.attrs.running, status == "0");
        if c.attrs.enabled.is_some() {
            out.push(CheckFailure::CannotCheck {
                attribute: Some("enabled".into()),
                reason: "systemd is not PID 1 in this container".into(),
            });
        }
        return;
    }
    let active = f.word("active").unwrap_or_default();
    let enabled = f.word("enabled").unwrap_or_default();
    if let Some(want) = c.attrs.running {
        if want != (active == "active") {
            out.push(CheckFailure::mismatch(
                "running",
                want,
                format!("{} ({active})", !want),
            ));
        }
    }
    if let Some(want) = c.attrs.enabled {
        let is_enabled = matches!(
            enabled.as_str(),
            "enabled" | "enabled-runtime" | "static" | "alias" | "indirect" | "generated"
        );
        if want != is_enabled {
            let state = if enabled.is_empty() {
                "unknown unit".to_string()
            } else {
                enabled
            };
            out.push(CheckFailure::mismatch(
                "enabled",
                want,
                format!("{is_enabled} ({state})"),
            ));
        }
    }
}

fn user(c: &UserCheck, f: Fields<'_>, out: &mut Failures) {
    let a = &c.attrs;
    let Some(passwd) = f.word("passwd").filter(|p| !p.is_empty()) else {
        if should_exist(a.exists) {
            out.push(CheckFailure::mismatch(
                "exists",
                true,
                "false (no such user)",
            ));
        }
        return;
    };
    if !should_exist(a.exists) {
        out.push(CheckFailure::mismatch("exists", false, true));
        return;
    }
    // name:password:uid:gid:gecos:home:shell
    let p: Vec<&str> = passwd.lines().next().unwrap_or("").split(':').collect();
    let field = |i: usize| p.get(i).copied().unwrap_or("");
    expect_value(out, "uid", a.uid.as_ref(), field(2));
    expect_value(out, "gid", a.gid.as_ref(), field(3));
    expect_value(out, "home", a.home.as_ref(), field(5));
    expect_value(out, "shell", a.shell.as_ref(), field(6));
    let groups = f.word("groups").unwrap_or_default();
    let member: Vec<&str> = groups.split_whitespace().collect();
    let missing: Vec<&str> = a
        .groups
        .iter()
        .map(String::as_str)
        .filter(|g| !member.contains(g))
        .collect();
    if !missing.is_empty() {
        out.push(CheckFailure::mismatch(
            "groups",
            format!("to include {}", missing.join(", ")),
            listed(member),
        ));
    }
}

fn group(c: &GroupCheck, f: Fields<'_>, out: &mut Failures) {
    let Some(line) = f.word("group").filter(|g| !g.is_empty()) else {
        if should_exist(c.attrs.exists) {
            out.push(CheckFailure::mismatch(
                "exists",
                true,
                "false (no such group)",
            ));
        }
        return;
    };
    if !should_exist(c.attrs.exists) {
        out.push(CheckFailure::mismatch("exists", false, true));
        return;
    }
    let gid = line.split(':').nth(2).unwrap_or("");
    expect_value(out, "gid", c.attrs.gid.as_ref(), gid);
}

fn command(c: &CommandCheck, f: Fields<'_>, out: &mut Failures) {
    let exit = f.word("exit").unwrap_or_default();
    if f.word("timeout").is_some() && exit == "124" {
        out.push(CheckFailure::note(format!(
            "timed out after {}s",
            c.timeout().as_secs()
        )));
        return;
    }
    let want = c.attrs.exit_status.unwrap_or(0);
    if exit != want.to_string() {
        out.push(CheckFailure::mismatch("exit_status", want, exit));
    }
    let stdout = f.text("stdout").unwrap_or_default();
    let stderr = f.text("stderr").unwrap_or_default();
    for (name, matchers, got) in [
        ("stdout", &c.attrs.stdout, &stdout),
        ("stderr", &c.attrs.stderr, &stderr),
    ] {
        for m in &matchers.0 {
            let ok = match m {
                Matcher::Text(_) => m.matches_value(got),
                _ => m.found_in(got),
            };
            if !ok {
                out.push(CheckFailure::mismatch(name, m, shown(got)));
            }
        }
    }
}

/// Each matcher must match at least one of `values` (a `!` matcher: none of them).
fn expect_among(out: &mut Failures, attr: &str, want: &Matchers, values: &[String]) {
    for m in &want.0 {
        let ok = match m {
            Matcher::Not(inner) => !values.iter().any(|v| inner.matches_value(v)),
            _ => values.iter().any(|v| m.matches_value(v)),
        };
        if !ok {
            out.push(CheckFailure::mismatch(attr, m, listed(values)));
        }
    }
}

/// A list for a message, or "none".
fn listed<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    let all: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if all.is_empty() {
        "none".to_string()
    } else {
        all.join(", ")
    }
}

fn port(c: &PortCheck, f: Fields<'_>, out: &mut Failures) {
    let udp = c.protocol == Protocol::Udp;
    let p = c.protocol.as_str();
    let all: Vec<tables::Listener> = [p.to_string(), format!("{p}6")]
        .iter()
        .filter_map(|table| f.text(table))
        .flat_map(|table| tables::listeners(&table, udp))
        .collect();
    let addresses: Vec<String> = all
        .iter()
        .filter(|l| l.port == c.number)
        .map(|l| l.address.clone())
        .collect();
    let listening = !addresses.is_empty();
    let want = c.attrs.listening.unwrap_or(true);
    if want != listening {
        let mut ports: Vec<u16> = all.iter().map(|l| l.port).collect();
        ports.sort_unstable();
        ports.dedup();
        out.push(CheckFailure::mismatch(
            "listening",
            want,
            format!("{listening} (listening {p} ports: {})", listed(ports)),
        ));
        return;
    }
    if listening {
        expect_among(out, "address", &c.attrs.address, &addresses);
    }
}

fn process(c: &ProcessCheck, f: Fields<'_>, out: &mut Failures) {
    // The kernel keeps 15 bytes of a command name.
    let name: String = c.name.chars().take(15).collect();
    let comms = f.text("comms").unwrap_or_default();
    let count = comms.lines().filter(|comm| *comm == name).count();
    let want = c.attrs.running.unwrap_or(true);
    if want != (count > 0) {
        out.push(if want {
            CheckFailure::mismatch("running", true, format!("false (no process named {name})"))
        } else {
            CheckFailure::mismatch(
                "running",
                false,
                format!("true ({count} process(es) named {name})"),
            )
        });
    }
}

fn http(c: &HttpCheck, f: Fields<'_>, out: &mut Failures) {
    let status = f.word("status").unwrap_or_default();
    let exit = f.word("exit").unwrap_or_default();
    if status.is_empty() || status == "000" {
        let error = f.text("error").unwrap_or_default();
        let reason = match exit.as_str() {
            "28" => format!("timed out after {}s", c.timeout().as_secs()),
            _ if !error.trim().is_empty() => shown(error.trim()),
            _ => format!("the client exited with {exit}"),
        };
        out.push(CheckFailure::note(format!(
            "cannot reach {}: {reason}",
            c.url
        )));
        return;
    }
    if status != c.status().to_string() {
        out.push(CheckFailure::mismatch("status", c.status(), status));
    }
    let body = f.text("body").unwrap_or_default();
    for m in &c.attrs.body.0 {
        if !m.found_in(&body) {
            out.push(CheckFailure::mismatch("body", m, shown(&body)));
        }
    }
    // wget indents its header lines; header names are case-insensitive.
    let headers: Vec<String> = f
        .text("headers")
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| l.contains(':'))
        .collect();
    for m in &c.attrs.headers.0 {
        let found = |m: &Matcher| match m {
            Matcher::Text(t) => headers
                .iter()
                .any(|h| h.to_ascii_lowercase().contains(&t.to_ascii_lowercase())),
            _ => headers.iter().any(|h| m.found_in(h)),
        };
        let ok = match m {
            Matcher::Not(inner) => !found(inner),
            _ => found(m),
        };
        if !ok {
            out.push(CheckFailure::mismatch("headers", m, listed(&headers)));
        }
    }
}

fn mount(c: &MountCheck, f: Fields<'_>, out: &mut Failures) {
    let table = f.text("mounts").unwrap_or_default();
    let found = tables::mount_at(&table, &c.path);
    let want = should_exist(c.attrs.exists);
    let Some(m) = found else {
        if want {
            out.push(CheckFailure::mismatch(
                "exists",
                true,
                format!("false (nothing is mounted at {})", c.path),
            ));
        }
        return;
    };
    if !want {
        out.push(CheckFailure::mismatch(
            "exists",
            false,
            format!("true ({} on {})", m.filesystem, m.source),
        ));
        return;
    }
    expect_among(out, "opts", &c.attrs.opts, &m.opts);
    expect_value(out, "source", c.attrs.source.as_ref(), &m.source);
    expect_value(
        out,
        "filesystem",
        c.attrs.filesystem.as_ref(),
        &m.filesystem,
    );
}

fn kernel_param(c: &KernelParamCheck, f: Fields<'_>, out: &mut Failures) {
    let Some(value) = f.text("value") else {
        out.push(CheckFailure::cannot_check(format!(
            "no kernel parameter {} ({} does not exist in the container)",
            c.name,
            c.proc_path()
        )));
        return;
    };
    // sysctl separates the parts of a value with tabs; compare them as single spaces.
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    expect_value(out, "value", c.attrs.value.as_ref(), &value);
}

fn interface(c: &InterfaceCheck, f: Fields<'_>, out: &mut Failures) {
    let exists = f.word("exists").as_deref() == Some("true");
    let want = should_exist(c.attrs.exists);
    if want != exists {
        out.push(CheckFailure::mismatch(
            "exists",
            want,
            format!(
                "{exists}{}",
                if exists { "" } else { " (no such interface)" }
            ),
        ));
        return;
    }
    if !exists {
        return;
    }
    if let Some(mtu) = c.attrs.mtu {
        let got = f.word("mtu").unwrap_or_default();
        if got != mtu.to_string() {
            out.push(CheckFailure::mismatch("mtu", mtu, got));
        }
    }
    if !c.attrs.addrs.0.is_empty() {
        let addrs = tables::interface_addrs(&f.text("addrs").unwrap_or_default());
        expect_among(out, "addrs", &c.attrs.addrs, &addrs);
    }
}

fn resource(c: &ResourceCheck, f: Fields<'_>, out: &mut Failures) {
    if let Some(error) = f.text("error") {
        out.push(CheckFailure::cannot_check(shown(error.trim())));
        return;
    }
    for (attr, matchers) in &c.attrs {
        let Some(value) = f.text(&format!("attr:{attr}")) else {
            out.push(CheckFailure::Note {
                attribute: Some(attr.clone()),
                text: format!(
                    "{} has no such attribute (it has: {})",
                    c.reference,
                    listed(f.names_with_prefix("attr:"))
                ),
            });
            continue;
        };
        // An array attribute comes one element a line: text matches the whole or an element.
        let elements: Vec<&str> = value.lines().collect();
        for m in &matchers.0 {
            let ok = match m {
                Matcher::Text(_) => {
                    m.matches_value(&value) || elements.iter().any(|e| m.matches_value(e))
                }
                Matcher::Not(inner) if matches!(**inner, Matcher::Text(_)) => {
                    !inner.matches_value(&value) && !elements.iter().any(|e| inner.matches_value(e))
                }
                _ => m.found_in(&value),
            };
            if !ok {
                out.push(CheckFailure::mismatch(attr.as_str(), m, shown(&value)));
            }
        }
    }
}
