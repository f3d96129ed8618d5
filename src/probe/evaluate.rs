//! Judging each check against the facts the probe gathered: one line per attribute that
//! does not hold, as `mode: expected 0644, got 0600`.

use super::records::Fields;
use crate::spec::check::{
    CommandCheck, FileCheck, FileType, GroupCheck, PackageCheck, ServiceCheck, UserCheck,
};
use crate::spec::{Check, Matcher};

/// Why a check failed, one line per attribute; empty when it passed.
pub type Failures = Vec<String>;

/// Evaluates one check. A check the probe could not answer fails with the reason.
pub fn evaluate(check: &Check, fields: Fields<'_>) -> Failures {
    if fields.is_empty() {
        return vec!["cannot check: the probe gave no answer for this check".to_string()];
    }
    if let Some(tool) = fields.word("missing") {
        return vec![format!("cannot check: {tool} not in the image")];
    }
    let mut out = Failures::new();
    match check {
        Check::File(c) => file(c, fields, &mut out),
        Check::Package(c) => package(c, fields, &mut out),
        Check::Service(c) => service(c, fields, &mut out),
        Check::User(c) => user(c, fields, &mut out),
        Check::Group(c) => group(c, fields, &mut out),
        Check::Command(c) => command(c, fields, &mut out),
    }
    out
}

fn expect_bool(out: &mut Failures, attr: &str, want: Option<bool>, got: bool) {
    if let Some(want) = want {
        if want != got {
            out.push(format!("{attr}: expected {want}, got {got}"));
        }
    }
}

fn expect_value(out: &mut Failures, attr: &str, want: Option<&Matcher>, got: &str) {
    if let Some(want) = want {
        if !want.matches_value(got) {
            out.push(format!("{attr}: expected {want}, got {}", shown(got)));
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
            out.push("exists: expected false, got true".to_string());
        }
        return;
    }
    if !exists {
        out.push("exists: expected true, got false (no such file)".to_string());
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
            out.push(format!("cannot check: stat failed: {}", shown(&stat)));
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
            out.push(format!("type: expected {}, got {got}", want.as_str()));
        }
    }
    if let Some(want) = &a.mode {
        let got = format!("{:0>4}", field(1));
        if want.0 != got {
            out.push(format!("mode: expected {}, got {got}", want.0));
        }
    }
    expect_value(out, "owner", a.owner.as_ref(), field(2));
    expect_value(out, "group", a.group.as_ref(), field(3));
    if let Some(want) = a.size {
        if field(4) != want.to_string() {
            out.push(format!("size: expected {want}, got {}", field(4)));
        }
    }
    if let Some(want) = &a.linked_to {
        match f.text("link") {
            Some(target) => expect_value(out, "linked_to", Some(want), &target),
            None => out.push(format!("linked_to: expected {want}, got no symlink")),
        }
    }
    if !a.contains.0.is_empty() {
        match f.text("content") {
            Some(content) => {
                for m in &a.contains.0 {
                    if !m.found_in(&content) {
                        out.push(match m {
                            Matcher::Not(inner) => {
                                format!("contains: expected no {inner}, but it is there")
                            }
                            _ => format!("contains: expected {m}, not found"),
                        });
                    }
                }
            }
            None if a.file_type == Some(FileType::Directory) => {}
            None => out.push("contains: cannot read the content (not a regular file)".to_string()),
        }
    }
    if let Some(want) = &a.sha256 {
        expect_value(
            out,
            "sha256",
            Some(want),
            &f.word("sha256").unwrap_or_default(),
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
            out.push("cannot check enabled: systemd is not PID 1 in this container".to_string());
        }
        return;
    }
    let active = f.word("active").unwrap_or_default();
    let enabled = f.word("enabled").unwrap_or_default();
    if let Some(want) = c.attrs.running {
        if want != (active == "active") {
            out.push(format!(
                "running: expected {want}, got {} ({active})",
                !want
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
            out.push(format!(
                "enabled: expected {want}, got {is_enabled} ({state})"
            ));
        }
    }
}

fn user(c: &UserCheck, f: Fields<'_>, out: &mut Failures) {
    let a = &c.attrs;
    let Some(passwd) = f.word("passwd") else {
        if should_exist(a.exists) {
            out.push("exists: expected true, got false (no such user)".to_string());
        }
        return;
    };
    if !should_exist(a.exists) {
        out.push("exists: expected false, got true".to_string());
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
        out.push(format!(
            "groups: expected to include {}, got {}",
            missing.join(", "),
            if member.is_empty() {
                "none".to_string()
            } else {
                member.join(", ")
            }
        ));
    }
}

fn group(c: &GroupCheck, f: Fields<'_>, out: &mut Failures) {
    let Some(line) = f.word("group") else {
        if should_exist(c.attrs.exists) {
            out.push("exists: expected true, got false (no such group)".to_string());
        }
        return;
    };
    if !should_exist(c.attrs.exists) {
        out.push("exists: expected false, got true".to_string());
        return;
    }
    let gid = line.split(':').nth(2).unwrap_or("");
    expect_value(out, "gid", c.attrs.gid.as_ref(), gid);
}

fn command(c: &CommandCheck, f: Fields<'_>, out: &mut Failures) {
    let exit = f.word("exit").unwrap_or_default();
    if f.word("timeout").is_some() && exit == "124" {
        out.push(format!("timed out after {}s", c.timeout().as_secs()));
        return;
    }
    let want = c.attrs.exit_status.unwrap_or(0);
    if exit != want.to_string() {
        out.push(format!("exit_status: expected {want}, got {exit}"));
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
                out.push(format!("{name}: expected {m}, got {}", shown(got)));
            }
        }
    }
}
