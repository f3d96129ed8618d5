//! From a resource Puppet will manage to the checks that are sure to hold after the
//! apply. Conservative: a check is written only where the resource's title and the
//! attributes it rests on are literals, and nothing (a default, an override, a
//! schedule, a provider of its own, `noop`) can change what the apply does.

use std::collections::BTreeSet;

use super::manifest::{Resource, Value};

/// A value in the generated YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    Str(String),
    Int(u64),
    Bool(bool),
    List(Vec<String>),
}

/// One check to write: `kind: subject` and its attributes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub kind: &'static str,
    pub subject: String,
    pub attrs: Vec<(&'static str, Yaml)>,
}

/// Attributes that make the outcome depend on more than the resource itself says.
const UNSAFE: &[&str] = &["noop", "schedule", "audit", "tag_only"];

/// The checks for one resource (one per title), or none.
pub fn for_resource(resource: &Resource, overridden: &BTreeSet<String>) -> Vec<Check> {
    let Some(titles) = &resource.titles else {
        return vec![];
    };
    if resource.virtual_
        || resource.splat
        || overridden.contains(&resource.kind)
        || UNSAFE.iter().any(|a| resource.attrs.contains_key(*a))
    {
        return vec![];
    }
    titles
        .iter()
        .filter_map(|title| match resource.kind.as_str() {
            "file" => file(title, resource),
            "package" => package(title, resource),
            "service" => service(title, resource),
            "user" => user(title, resource),
            "group" => group(title, resource),
            _ => None,
        })
        .collect()
}

fn has_any(resource: &Resource, names: &[&str]) -> bool {
    names.iter().any(|n| resource.attrs.contains_key(*n))
}

fn text<'a>(resource: &'a Resource, name: &str) -> Option<&'a str> {
    resource.attrs.get(name).and_then(Value::text)
}

/// A name as a check's subject: no whitespace, no control characters.
fn plain_name(title: &str) -> bool {
    !title.is_empty() && !title.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn numeric(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn octal_mode(text: &str) -> bool {
    (3..=4).contains(&text.len()) && text.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// A value written as a matcher that means itself: not `!text` nor `/regex/`.
fn plain_matcher(text: &str) -> bool {
    plain_name(text)
        && !text.starts_with('!')
        && !(text.len() > 1 && text.starts_with('/') && text.ends_with('/'))
}

/// An owner or group by name (a number would be shown by name after the apply).
fn account_name(text: &str) -> bool {
    plain_matcher(text) && numeric(text).is_none()
}

fn file(title: &str, r: &Resource) -> Option<Check> {
    if has_any(r, &["path"]) || !title.starts_with('/') || title.contains(['\n', '\0']) {
        return None;
    }
    let path = match title.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let mut attrs = Vec::new();
    match text(r, "ensure")? {
        "absent" => attrs.push(("exists", Yaml::Bool(false))),
        "present" => attrs.push(("exists", Yaml::Bool(true))),
        "file" => {
            attrs.push(("type", Yaml::Str("file".into())));
            // On a directory Puppet adds search bits to a numeric mode; only a plain
            // file has exactly the mode written.
            if let Some(mode) = text(r, "mode").filter(|m| octal_mode(m)) {
                attrs.push(("mode", Yaml::Str(format!("{mode:0>4}"))));
            }
        }
        "directory" => attrs.push(("type", Yaml::Str("directory".into()))),
        "link" => {
            attrs.push(("type", Yaml::Str("symlink".into())));
            if let Some(target) = text(r, "target").filter(|t| plain_matcher(t)) {
                attrs.push(("linked_to", Yaml::Str(target.to_string())));
            }
        }
        _ => return None,
    }
    if text(r, "ensure") != Some("absent") {
        for attr in ["owner", "group"] {
            if let Some(name) = text(r, attr).filter(|n| account_name(n)) {
                attrs.push((attr, Yaml::Str(name.to_string())));
            }
        }
    }
    Some(Check {
        kind: "file",
        subject: path.to_string(),
        attrs,
    })
}

fn package(title: &str, r: &Resource) -> Option<Check> {
    // Another provider (gem, pip…) installs where dpkg and rpm do not look.
    if has_any(r, &["name", "provider", "source"]) || !plain_name(title) {
        return None;
    }
    let installed = match r.attrs.get("ensure") {
        // Puppet's default for a package is `installed`.
        None => true,
        Some(v) => match v.text()? {
            "absent" | "purged" => false,
            "disabled" => return None,
            _ => true,
        },
    };
    let attrs = if installed {
        vec![]
    } else {
        vec![("installed", Yaml::Bool(false))]
    };
    Some(Check {
        kind: "package",
        subject: title.to_string(),
        attrs,
    })
}

fn service(title: &str, r: &Resource) -> Option<Check> {
    let custom = [
        "name",
        "provider",
        "status",
        "start",
        "binary",
        "pattern",
        "hasstatus",
    ];
    if has_any(r, &custom) || !plain_name(title) {
        return None;
    }
    let mut attrs = Vec::new();
    // An attribute that is not a literal is left out; the other still holds.
    match text(r, "ensure") {
        Some("running" | "true") => attrs.push(("running", Yaml::Bool(true))),
        Some("stopped" | "false") => attrs.push(("running", Yaml::Bool(false))),
        _ => {}
    }
    if let Some(enable) = text(r, "enable") {
        match enable {
            "true" => attrs.push(("enabled", Yaml::Bool(true))),
            "false" => attrs.push(("enabled", Yaml::Bool(false))),
            // manual, mask, delayed: not what `enabled` reads.
            _ => {}
        }
    }
    (!attrs.is_empty()).then(|| Check {
        kind: "service",
        subject: title.to_string(),
        attrs,
    })
}

fn user(title: &str, r: &Resource) -> Option<Check> {
    if has_any(r, &["name"]) || !plain_name(title) {
        return None;
    }
    match text(r, "ensure")? {
        "absent" => {
            return Some(Check {
                kind: "user",
                subject: title.to_string(),
                attrs: vec![("exists", Yaml::Bool(false))],
            })
        }
        "present" => {}
        _ => return None,
    }
    let mut attrs = Vec::new();
    for attr in ["uid", "gid"] {
        if let Some(n) = text(r, attr).and_then(numeric) {
            attrs.push((attr, Yaml::Int(n)));
        }
    }
    match r.attrs.get("groups") {
        Some(Value::List(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|v| v.text().filter(|t| plain_name(t)).map(str::to_string))
                .collect();
            if let Some(names) = names.filter(|n| !n.is_empty()) {
                attrs.push(("groups", Yaml::List(names)));
            }
        }
        Some(v) => {
            if let Some(name) = v.text().filter(|t| plain_name(t)) {
                attrs.push(("groups", Yaml::List(vec![name.to_string()])));
            }
        }
        None => {}
    }
    for attr in ["home", "shell"] {
        if let Some(path) = text(r, attr).filter(|p| p.starts_with('/') && plain_matcher(p)) {
            attrs.push((attr, Yaml::Str(path.to_string())));
        }
    }
    Some(Check {
        kind: "user",
        subject: title.to_string(),
        attrs,
    })
}

fn group(title: &str, r: &Resource) -> Option<Check> {
    if has_any(r, &["name"]) || !plain_name(title) {
        return None;
    }
    let mut attrs = Vec::new();
    match text(r, "ensure")? {
        "absent" => attrs.push(("exists", Yaml::Bool(false))),
        "present" => {
            if let Some(n) = text(r, "gid").and_then(numeric) {
                attrs.push(("gid", Yaml::Int(n)));
            }
        }
        _ => return None,
    }
    Some(Check {
        kind: "group",
        subject: title.to_string(),
        attrs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::manifest::parse;

    fn checks(code: &str) -> Vec<Check> {
        let m = parse(code);
        m.top
            .resources
            .iter()
            .flat_map(|r| for_resource(r, &m.overridden))
            .collect()
    }

    fn subjects(code: &str) -> Vec<String> {
        checks(code)
            .into_iter()
            .map(|c| format!("{} {}", c.kind, c.subject))
            .collect()
    }

    #[test]
    fn a_file_with_literal_values() {
        let c = checks(
            "file { '/etc/app.conf/': ensure => file, mode => '640', owner => 'root', group => 'adm' }",
        );
        assert_eq!(
            c,
            [Check {
                kind: "file",
                subject: "/etc/app.conf".into(),
                attrs: vec![
                    ("type", Yaml::Str("file".into())),
                    ("mode", Yaml::Str("0640".into())),
                    ("owner", Yaml::Str("root".into())),
                    ("group", Yaml::Str("adm".into())),
                ],
            }]
        );
    }

    #[test]
    fn a_directory_keeps_no_mode_and_variables_are_left_out() {
        let c = checks("file { '/srv/d': ensure => directory, mode => '0644', owner => $owner }");
        assert_eq!(c[0].attrs, vec![("type", Yaml::Str("directory".into()))]);
    }

    #[test]
    fn what_is_not_safe_gives_no_check() {
        let code = r#"
file { $path: ensure => file }
file { "/etc/${name}": ensure => file }
file { '/etc/no-ensure': content => 'x' }
file { '/etc/ensure-var': ensure => $ensure }
file { 'relative': ensure => file }
file { '/etc/aliased': ensure => file, path => '/etc/real' }
package { 'scheduled': schedule => 'nightly' }
package { 'from-gem': provider => gem }
package { 'splatted': * => $opts }
service { 'no-state': }
service { 'custom-status': ensure => running, status => '/bin/true' }
user { 'no-ensure': uid => 1 }
@user { 'virtual': ensure => present }
group { ['g1', $g2]: ensure => present }
"#;
        assert_eq!(subjects(code), Vec::<String>::new());
    }

    #[test]
    fn defaults_and_overrides_make_a_type_unsafe() {
        assert_eq!(
            subjects(
                "Package { ensure => absent }\npackage { 'p': }\nuser { 'u': ensure => present }"
            ),
            ["user u"]
        );
        assert_eq!(
            subjects("package { 'p': }\nPackage['p'] { ensure => absent }"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn arrays_make_one_check_each() {
        assert_eq!(
            subjects("package { ['curl', 'jq']: ensure => latest }"),
            ["package curl", "package jq"]
        );
        let c = checks("package { 'telnet': ensure => purged }");
        assert_eq!(c[0].attrs, vec![("installed", Yaml::Bool(false))]);
    }

    #[test]
    fn services_users_and_groups() {
        let c = checks(
            r#"
service { 'cron': ensure => running, enable => true }
service { 'atd': enable => false }
user { 'app': ensure => present, uid => 1500, gid => 'app', groups => ['adm'], home => '/srv/app', shell => '/bin/sh' }
user { 'old': ensure => absent }
group { 'app': ensure => present, gid => 1500 }
"#,
        );
        assert_eq!(
            c.iter().map(|c| c.attrs.clone()).collect::<Vec<_>>(),
            vec![
                vec![("running", Yaml::Bool(true)), ("enabled", Yaml::Bool(true))],
                vec![("enabled", Yaml::Bool(false))],
                vec![
                    ("uid", Yaml::Int(1500)),
                    ("groups", Yaml::List(vec!["adm".into()])),
                    ("home", Yaml::Str("/srv/app".into())),
                    ("shell", Yaml::Str("/bin/sh".into())),
                ],
                vec![("exists", Yaml::Bool(false))],
                vec![("gid", Yaml::Int(1500))],
            ]
        );
    }
}
