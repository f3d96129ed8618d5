//! goss files: a case's `goss: path/to/goss.yaml` adds the file's checks to the case's
//! `expect`, read into rehearsal's own kinds, so teams with goss files can reuse them.
//!
//! A goss file holds one map per resource type (`file:`, `package:`, `port:`…), each
//! mapping a key (a path, a name, `tcp:22`, a command, a URL) to attributes. Whatever
//! rehearsal checks the same way is converted; everything else (`dns`, `addr`, `gossfile`
//! includes, `matching`, templates, attributes such as `md5` or `usage`, numeric and
//! whole-list matchers) is refused at its line and column, saying what to do instead.
//! Entries with `skip: true` are dropped unread, as goss would not run them either.
//!
//! How goss's values become matchers (goss 0.4's semantics):
//! - a plain value compares whole (`owner: root`, `uid: 33`);
//! - a list attribute (`groups`, `ip`, `opts`, `addrs`, `versions`) lists entries that
//!   must all be present;
//! - text (`contents`, `stdout`, `stderr`, `body`, `headers`) given as a list holds goss's
//!   patterns: `text` must appear on a line, `/re/` must match one, `!text` and `!/re/`
//!   must not, `\!text` is the literal `!text`; given as one string, the whole text must
//!   equal it;
//! - the advanced matchers that map cleanly: `equal`, `have-prefix`, `have-suffix`,
//!   `contain-substring`, `match-regexp`, `not`, `and`, `or` (single values), and
//!   `contain-element(s)` (lists and lines of text);
//! - timeouts are milliseconds in goss, rounded up to whole seconds (the probe's unit);
//! - `http` follows redirects unless `no-follow-redirects: true`, as goss does.
//!
//! Regexes use rehearsal's semantics: searched in the whole text, with `^` and `$` at line
//! ends (goss matches a pattern against each line, which is the same but for a pattern
//! that spans a line break).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::check::{
    Attributes, Check, CommandAttrs, FileAttrs, FileType, GroupAttrs, HttpAttrs, InterfaceAttrs,
    KernelParamAttrs, Mode, MountAttrs, PackageAttrs, PortAttrs, ProcessAttrs, ServiceAttrs,
    UserAttrs,
};
use super::error::SpecError;
use super::matcher::{scalar_with, Matcher};

/// Reads a goss file's checks, in file order.
pub fn load(file: &Path) -> Result<Vec<Check>, SpecError> {
    let source = super::read_source(file, "goss file")?;
    parse(file, &source)
}

/// Reads the checks of a goss file's text; `file` names it in errors.
pub fn parse(file: &Path, source: &str) -> Result<Vec<Check>, SpecError> {
    if source.trim().is_empty() {
        return Err(SpecError::whole_file(
            file,
            "the goss file is empty: it needs at least one resource type, like `file:`",
        ));
    }
    // goss runs every file through Go's text/template before reading it as YAML, so any
    // `{{` is a template action, wherever it stands.
    if let Some(position) = template_at(source) {
        return Err(SpecError {
            file: file.to_path_buf(),
            position: Some(position),
            message: "goss templates (`{{ … }}`) are not supported by rehearsal: render the \
                      file with `goss render` (with your `--vars`) and give the rendered file \
                      to `goss:`"
                .to_string(),
        });
    }
    super::scan::scan(source, "goss file", false).map_err(|found| SpecError {
        file: file.to_path_buf(),
        position: Some(found.position),
        message: found.message,
    })?;
    let ahead = Lookahead::read(source);
    let mut checks = Vec::new();
    GossFile {
        ahead: ahead.as_ref(),
        out: &mut checks,
    }
    .deserialize(serde_yaml::Deserializer::from_str(source))
    .map_err(|err| SpecError::from_yaml_in(file, source, &err))?;
    Ok(checks)
}

/// Where the first `{{` stands (1-based line and column).
fn template_at(source: &str) -> Option<(usize, usize)> {
    let before = &source[..source.find("{{")?];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some((line, column))
}

/// The goss resource types rehearsal reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Package,
    Service,
    User,
    Group,
    Port,
    Process,
    Command,
    Http,
    Mount,
    KernelParam,
    Interface,
}

impl Kind {
    const ALL: [Kind; 12] = [
        Kind::File,
        Kind::Package,
        Kind::Service,
        Kind::User,
        Kind::Group,
        Kind::Port,
        Kind::Process,
        Kind::Command,
        Kind::Http,
        Kind::Mount,
        Kind::KernelParam,
        Kind::Interface,
    ];

    fn goss_name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Package => "package",
            Kind::Service => "service",
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Port => "port",
            Kind::Process => "process",
            Kind::Command => "command",
            Kind::Http => "http",
            Kind::Mount => "mount",
            Kind::KernelParam => "kernel-param",
            Kind::Interface => "interface",
        }
    }

    /// The kind's name in a rehearsal spec.
    fn ours(self) -> &'static str {
        match self {
            Kind::KernelParam => "kernel_param",
            other => other.goss_name(),
        }
    }

    fn from_goss(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.goss_name() == name)
    }

    /// The attribute that names the thing checked when the entry's key is only a label
    /// (`command: {version: {exec: "app --version"}}`).
    fn id_attr(self) -> &'static str {
        match self {
            Kind::File => "path",
            Kind::Package | Kind::Service | Kind::KernelParam | Kind::Interface => "name",
            Kind::User => "username",
            Kind::Group => "groupname",
            Kind::Port => "port",
            Kind::Process => "comm",
            Kind::Command => "exec",
            Kind::Http => "url",
            Kind::Mount => "mountpoint",
        }
    }

    /// The goss attributes rehearsal reads for this kind (besides the id attribute and
    /// `skip`, `meta`, `title`).
    fn attributes(self) -> &'static [(&'static str, Attr)] {
        use Attr as A;
        match self {
            Kind::File => &[
                ("exists", A::Exists),
                ("mode", A::Mode),
                ("size", A::Size),
                ("owner", A::Owner),
                ("group", A::Group),
                ("filetype", A::FileType),
                ("contents", A::Contents),
                ("contains", A::Contents),
                ("sha256", A::Sha256),
                ("linked-to", A::LinkedTo),
            ],
            Kind::Package => &[("installed", A::Installed), ("versions", A::Versions)],
            Kind::Service => &[("enabled", A::Enabled), ("running", A::Running)],
            Kind::User => &[
                ("exists", A::Exists),
                ("uid", A::Uid),
                ("gid", A::Gid),
                ("groups", A::Groups),
                ("home", A::Home),
                ("shell", A::Shell),
            ],
            Kind::Group => &[("exists", A::Exists), ("gid", A::Gid)],
            Kind::Port => &[("listening", A::Listening), ("ip", A::Ip)],
            Kind::Process => &[("running", A::Running)],
            Kind::Command => &[
                ("exit-status", A::ExitStatus),
                ("stdout", A::Stdout),
                ("stderr", A::Stderr),
                ("timeout", A::Timeout),
            ],
            Kind::Http => &[
                ("status", A::Status),
                ("body", A::Body),
                ("headers", A::Headers),
                ("allow-insecure", A::AllowInsecure),
                ("no-follow-redirects", A::NoFollowRedirects),
                ("timeout", A::Timeout),
                ("method", A::Method),
            ],
            Kind::Mount => &[
                ("exists", A::Exists),
                ("opts", A::Opts),
                ("source", A::Source),
                ("filesystem", A::Filesystem),
                // How long goss waits for a hung mount; rehearsal reads /proc/mounts,
                // which does not hang, within the case's `verify` timeout.
                ("timeout", A::Ignored),
            ],
            Kind::KernelParam => &[("value", A::Value)],
            Kind::Interface => &[("exists", A::Exists), ("addrs", A::Addrs), ("mtu", A::Mtu)],
        }
    }

    /// Why a goss attribute rehearsal knows but cannot check is refused.
    fn unsupported(self, name: &str) -> Option<String> {
        let what = match (self, name) {
            (Kind::File, "md5" | "sha512") => "check `sha256` instead, or remove it",
            (Kind::Service, "runlevels") => {
                "rehearsal checks systemd's `enabled` instead: remove it"
            }
            (Kind::Mount, "vfs-opts") => {
                "rehearsal's `opts` reads /proc/mounts, which lists these options too: move \
                 them to `opts`, or remove them"
            }
            (Kind::Mount, "usage") => {
                "move it to `expect:` as a `command` check (with `df`), or remove it"
            }
            (
                Kind::Http,
                "request-headers" | "request-body" | "username" | "password" | "ca-file"
                | "cert-file" | "key-file" | "proxy",
            ) => {
                "rehearsal's http check sends a plain GET: move it to `expect:` as a \
                 `command` check (with curl), or remove it"
            }
            _ => return None,
        };
        Some(format!(
            "goss attribute `{name}` of `{}` is not supported by rehearsal: {what}",
            self.goss_name()
        ))
    }
}

fn supported_types() -> String {
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.goss_name()).collect();
    names.join(", ")
}

/// Why a goss resource type rehearsal knows but does not read is refused.
fn unsupported_type(name: &str) -> Option<String> {
    let what = match name {
        "gossfile" => {
            return Some(
                "goss `gossfile` includes are not supported by rehearsal: list the included \
                 files under the case's `goss:` instead (it takes a list), or merge them into \
                 one with `goss render`"
                    .to_string(),
            )
        }
        "dns" => {
            "move it to `expect:` as a `command` check (like `getent hosts <name>`), or remove it"
        }
        "addr" => "move it to `expect:` as a `command` or `http` check, or remove it",
        "matching" => "it checks values given to goss (`--vars`), not the system: remove it",
        _ => return None,
    };
    Some(format!(
        "goss resource type `{name}` is not supported by rehearsal (supported: {}): {what}",
        supported_types()
    ))
}

/// " (hint: did you mean `x`?)" for the closest candidate, or nothing.
fn hint<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), c))
        .filter(|(distance, c)| *distance <= 2.max(c.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| format!(" (hint: did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// What the converter needs to know about an entry before reading it: read once ahead,
/// without positions, from the same text.
#[derive(Debug, Default)]
struct Lookahead {
    /// By (resource type, key).
    entries: HashMap<(String, String), Ahead>,
    /// Resource types all of whose entries are skipped (or that have none).
    all_skipped: HashSet<String>,
}

#[derive(Debug, Clone, Copy)]
struct Ahead {
    /// `skip: true`: dropped unread.
    skip: bool,
    /// The id attribute (`path:`, `url:`…) names the thing checked: the key is a label.
    relabelled: bool,
}

impl Lookahead {
    /// `None` when the text does not read as YAML; the real read then says where.
    fn read(source: &str) -> Option<Lookahead> {
        use serde_yaml::Value;
        fn text(value: &Value) -> Option<String> {
            match value {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
        let doc: Value = serde_yaml::from_str(source).ok()?;
        let mut ahead = Lookahead::default();
        for (kind, entries) in doc.as_mapping()? {
            let Some(kind) = text(kind) else { continue };
            let mut all_skipped = entries.is_null();
            if let Some(entries) = entries.as_mapping() {
                all_skipped = true;
                for (key, attrs) in entries {
                    let skip = attrs.get("skip") == Some(&Value::Bool(true));
                    all_skipped &= skip;
                    let relabelled =
                        Kind::from_goss(&kind).is_some_and(|k| attrs.get(k.id_attr()).is_some());
                    if let Some(key) = text(key) {
                        ahead
                            .entries
                            .insert((kind.clone(), key), Ahead { skip, relabelled });
                    }
                }
            }
            if all_skipped {
                ahead.all_skipped.insert(kind);
            }
        }
        Some(ahead)
    }

    fn entry(&self, kind: Kind, key: &str) -> Option<Ahead> {
        self.entries
            .get(&(kind.goss_name().to_string(), key.to_string()))
            .copied()
    }
}

/// The whole file: resource types in file order.
struct GossFile<'a> {
    ahead: Option<&'a Lookahead>,
    out: &'a mut Vec<Check>,
}

impl<'de> DeserializeSeed<'de> for GossFile<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GossFile<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a goss file: a map of resource types (`file:`, `package:`…) to entries")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: Vec<String> = Vec::new();
        while let Some(kind) = map.next_key_seed(TypeKey {
            seen: &seen,
            ahead: self.ahead,
        })? {
            match kind.kind {
                Some(k) => map.next_value_seed(Entries {
                    kind: k,
                    ahead: self.ahead,
                    out: &mut *self.out,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            seen.push(kind.name);
        }
        Ok(())
    }
}

/// A resource type; `kind` is `None` for an unsupported type whose entries are all
/// skipped (goss would not run them either).
struct TypeName {
    name: String,
    kind: Option<Kind>,
}

struct TypeKey<'a> {
    seen: &'a [String],
    ahead: Option<&'a Lookahead>,
}

impl<'de> DeserializeSeed<'de> for TypeKey<'_> {
    type Value = TypeName;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<TypeName, D::Error> {
        scalar_with(de, |name| {
            if self.seen.contains(&name) {
                return Err(format!(
                    "`{name}` appears twice in the goss file: goss would read only the last \
                     one; merge them into one `{name}:`"
                ));
            }
            if let Some(kind) = Kind::from_goss(&name) {
                return Ok(TypeName {
                    name,
                    kind: Some(kind),
                });
            }
            if let Some(why) = unsupported_type(&name) {
                if self.ahead.is_some_and(|a| a.all_skipped.contains(&name)) {
                    return Ok(TypeName { name, kind: None });
                }
                return Err(why);
            }
            Err(format!(
                "unknown goss resource type `{name}` (rehearsal reads {}){}",
                supported_types(),
                hint(&name, Kind::ALL.iter().map(|k| k.goss_name()))
            ))
        })
    }
}

/// The entries of one resource type.
struct Entries<'a> {
    kind: Kind,
    ahead: Option<&'a Lookahead>,
    out: &'a mut Vec<Check>,
}

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a map of {} entries, like `/etc/motd: {{exists: true}}`",
            self.kind.goss_name()
        )
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key_seed(EntryKey {
            kind: self.kind,
            seen: &seen,
            ahead: self.ahead,
        })? {
            if key.skipped {
                map.next_value::<IgnoredAny>()?;
            } else if let Some(check) = map.next_value_seed(Entry {
                kind: self.kind,
                key: &key.name,
                key_checked: key.checked,
            })? {
                self.out.push(check);
            }
            seen.push(key.name);
        }
        Ok(())
    }
}

struct EntryName {
    name: String,
    /// Dropped unread (`skip: true`).
    skipped: bool,
    /// Already checked as the subject, where it stands.
    checked: bool,
}

struct EntryKey<'a> {
    kind: Kind,
    seen: &'a [String],
    ahead: Option<&'a Lookahead>,
}

impl<'de> DeserializeSeed<'de> for EntryKey<'_> {
    type Value = EntryName;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<EntryName, D::Error> {
        let kind = self.kind.goss_name();
        scalar_with(de, |name| {
            if self.seen.contains(&name) {
                return Err(format!(
                    "`{name}` appears twice under `{kind}`: goss would read only the last \
                     one; merge them"
                ));
            }
            let ahead = self.ahead.and_then(|a| a.entry(self.kind, &name));
            let skipped = ahead.is_some_and(|a| a.skip);
            // Check the key as the subject here, where it stands, unless an attribute
            // names the subject instead (then it is checked there).
            let checked = ahead.is_some_and(|a| !a.skip && !a.relabelled);
            if checked {
                check_subject(self.kind, &name)?;
            }
            Ok(EntryName {
                name,
                skipped,
                checked,
            })
        })
    }
}

/// Whether `subject` is one for a check of this kind, by the spec's own rules (a URL for
/// `http`, `tcp:22` for `port`…).
fn check_subject(kind: Kind, subject: &str) -> Result<(), String> {
    use serde::de::value::{Error, MapDeserializer};
    let map = MapDeserializer::<_, Error>::new(std::iter::once((kind.ours(), subject)));
    Check::deserialize(map)
        .map(drop)
        .map_err(|err| err.to_string())
}

/// The subject given by the id attribute (`exec:`, `url:`…).
struct Subject(Kind);

impl<'de> DeserializeSeed<'de> for Subject {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<String, D::Error> {
        scalar_with(de, |text| check_subject(self.0, &text).map(|()| text))
    }
}

/// One entry: its attributes, into a check (`None` when it says `skip: true`).
struct Entry<'a> {
    kind: Kind,
    key: &'a str,
    key_checked: bool,
}

impl Entry<'_> {
    fn finish(self, subject: Option<String>, attrs: Attributes) -> Result<Check, String> {
        let subject = match subject {
            Some(subject) => subject,
            None => {
                if !self.key_checked {
                    check_subject(self.kind, self.key)?;
                }
                self.key.to_string()
            }
        };
        attrs.into_check(subject)
    }
}

impl<'de> DeserializeSeed<'de> for Entry<'_> {
    type Value = Option<Check>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<Check>, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entry<'_> {
    type Value = Option<Check>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the attributes of a goss {}", self.kind.goss_name())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Check>, E> {
        let attrs = Attributes::goss(self.kind);
        self.finish(None, attrs).map(Some).map_err(E::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Check>, A::Error> {
        let mut attrs = Attributes::goss(self.kind);
        let (mut subject, mut skip) = (None, false);
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some((name, attr)) = map.next_key_seed(AttrKey {
            kind: self.kind,
            seen: &seen,
        })? {
            seen.push(name);
            match attr {
                Attr::Skip => skip = map.next_value_seed(Plain::new(name, parse_bool))?,
                Attr::Ignored => {
                    map.next_value::<IgnoredAny>()?;
                }
                Attr::Id => subject = Some(map.next_value_seed(Subject(self.kind))?),
                attr => attrs.read(name, attr, &mut map)?,
            }
        }
        if skip {
            return Ok(None);
        }
        self.finish(subject, attrs)
            .map(Some)
            .map_err(de::Error::custom)
    }
}

/// A goss attribute, by what rehearsal does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    Skip,
    Ignored,
    Id,
    Exists,
    Mode,
    Size,
    Owner,
    Group,
    FileType,
    Contents,
    Sha256,
    LinkedTo,
    Installed,
    Versions,
    Enabled,
    Running,
    Uid,
    Gid,
    Groups,
    Home,
    Shell,
    Listening,
    Ip,
    ExitStatus,
    Stdout,
    Stderr,
    Timeout,
    Status,
    Body,
    Headers,
    AllowInsecure,
    NoFollowRedirects,
    Method,
    Opts,
    Source,
    Filesystem,
    Value,
    Addrs,
    Mtu,
}

/// Every entry may carry these: `skip` drops it, `meta` and `title` are goss's notes.
const COMMON: &[(&str, Attr)] = &[
    ("skip", Attr::Skip),
    ("meta", Attr::Ignored),
    ("title", Attr::Ignored),
];

struct AttrKey<'a> {
    kind: Kind,
    seen: &'a [&'static str],
}

impl<'de> DeserializeSeed<'de> for AttrKey<'_> {
    type Value = (&'static str, Attr);
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let kind = self.kind;
        scalar_with(de, |name| {
            let id = (kind.id_attr(), Attr::Id);
            let known = std::iter::once(&id)
                .chain(kind.attributes())
                .chain(COMMON)
                .find(|(n, _)| *n == name);
            match known {
                Some((n, _)) if self.seen.contains(n) => Err(format!(
                    "`{name}` is given twice in this {} entry: keep one",
                    kind.goss_name()
                )),
                Some(&found) => Ok(found),
                None => Err(kind.unsupported(&name).unwrap_or_else(|| {
                    let expected: Vec<String> = std::iter::once(&id)
                        .chain(kind.attributes())
                        .chain(COMMON)
                        .map(|(n, _)| format!("`{n}`"))
                        .collect();
                    // The wording serde uses, so the error gets its "did you mean" hint.
                    format!(
                        "unknown field `{name}`, expected one of {}",
                        expected.join(", ")
                    )
                })),
            }
        })
    }
}

/// Reading a goss entry into rehearsal's attributes.
impl Attributes {
    /// A goss entry's attributes before any is read: goss's defaults.
    fn goss(kind: Kind) -> Attributes {
        match kind {
            Kind::File => Attributes::File(FileAttrs::default()),
            Kind::Package => Attributes::Package(PackageAttrs::default()),
            Kind::Service => Attributes::Service(ServiceAttrs::default()),
            Kind::User => Attributes::User(UserAttrs::default()),
            Kind::Group => Attributes::Group(GroupAttrs::default()),
            Kind::Port => Attributes::Port(PortAttrs::default()),
            Kind::Process => Attributes::Process(ProcessAttrs::default()),
            Kind::Command => Attributes::Command(CommandAttrs::default()),
            // goss follows redirects unless told not to; rehearsal's default is not to.
            Kind::Http => Attributes::Http(HttpAttrs {
                follow_redirects: Some(true),
                ..HttpAttrs::default()
            }),
            Kind::Mount => Attributes::Mount(MountAttrs::default()),
            Kind::KernelParam => Attributes::KernelParam(KernelParamAttrs::default()),
            Kind::Interface => Attributes::Interface(InterfaceAttrs::default()),
        }
    }

    /// Reads the value of attribute `name` (one of the kind's `attributes()`).
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        name: &'static str,
        attr: Attr,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let boolean = |map: &mut A| map.next_value_seed(Plain::new(name, parse_bool));
        let one = |map: &mut A| {
            let mut all = map.next_value_seed(Expect::new(Slot::Value, name))?;
            all.pop()
                .ok_or_else(|| de::Error::custom(format!("`{name}` has no value")))
        };
        let list = |map: &mut A| map.next_value_seed(Expect::new(Slot::List { line: false }, name));
        let text = |map: &mut A, substring| {
            map.next_value_seed(Expect::new(Slot::Text { substring }, name))
        };
        let millis = |map: &mut A| map.next_value_seed(Plain::new(name, parse_millis));
        match (self, attr) {
            (Attributes::File(a), Attr::Exists) => a.exists = Some(boolean(map)?),
            (Attributes::File(a), Attr::Mode) => {
                a.mode = Some(map.next_value_seed(Plain::new(name, Mode::parse))?)
            }
            (Attributes::File(a), Attr::Size) => {
                a.size = Some(map.next_value_seed(Plain::new(name, parse_number::<u64>))?)
            }
            (Attributes::File(a), Attr::Owner) => a.owner = Some(one(map)?),
            (Attributes::File(a), Attr::Group) => a.group = Some(one(map)?),
            (Attributes::File(a), Attr::FileType) => {
                a.file_type = Some(map.next_value_seed(Plain::new(name, parse_file_type))?)
            }
            (Attributes::File(a), Attr::Contents) => a.contains.0.extend(text(map, true)?),
            (Attributes::File(a), Attr::Sha256) => a.sha256 = Some(one(map)?),
            (Attributes::File(a), Attr::LinkedTo) => a.linked_to = Some(one(map)?),
            (Attributes::Package(a), Attr::Installed) => a.installed = Some(boolean(map)?),
            (Attributes::Package(a), Attr::Versions) => {
                let mut expect = Expect::new(Slot::List { line: false }, name);
                expect.single = true;
                a.version = map.next_value_seed(expect)?.pop();
            }
            (Attributes::Service(a), Attr::Enabled) => a.enabled = Some(boolean(map)?),
            (Attributes::Service(a), Attr::Running) => a.running = Some(boolean(map)?),
            (Attributes::User(a), Attr::Exists) => a.exists = Some(boolean(map)?),
            (Attributes::User(a), Attr::Uid) => a.uid = Some(one(map)?),
            (Attributes::User(a), Attr::Gid) => a.gid = Some(one(map)?),
            (Attributes::User(a), Attr::Groups) => a.groups.extend(map.next_value_seed(Names)?),
            (Attributes::User(a), Attr::Home) => a.home = Some(one(map)?),
            (Attributes::User(a), Attr::Shell) => a.shell = Some(one(map)?),
            (Attributes::Group(a), Attr::Exists) => a.exists = Some(boolean(map)?),
            (Attributes::Group(a), Attr::Gid) => a.gid = Some(one(map)?),
            (Attributes::Port(a), Attr::Listening) => a.listening = Some(boolean(map)?),
            (Attributes::Port(a), Attr::Ip) => a.address.0.extend(list(map)?),
            (Attributes::Process(a), Attr::Running) => a.running = Some(boolean(map)?),
            (Attributes::Command(a), Attr::ExitStatus) => {
                a.exit_status = Some(map.next_value_seed(Plain::new(name, parse_number::<i64>))?)
            }
            (Attributes::Command(a), Attr::Stdout) => a.stdout.0.extend(text(map, false)?),
            (Attributes::Command(a), Attr::Stderr) => a.stderr.0.extend(text(map, false)?),
            (Attributes::Command(a), Attr::Timeout) => a.timeout = millis(map)?,
            (Attributes::Http(a), Attr::Status) => {
                a.status = Some(map.next_value_seed(Plain::new(name, parse_number::<u16>))?)
            }
            (Attributes::Http(a), Attr::Body) => a.body.0.extend(text(map, true)?),
            (Attributes::Http(a), Attr::Headers) => a.headers.0.extend(text(map, true)?),
            (Attributes::Http(a), Attr::AllowInsecure) => a.allow_insecure = Some(boolean(map)?),
            (Attributes::Http(a), Attr::NoFollowRedirects) => {
                a.follow_redirects = Some(!boolean(map)?)
            }
            (Attributes::Http(a), Attr::Timeout) => a.timeout = millis(map)?,
            (Attributes::Http(_), Attr::Method) => {
                map.next_value_seed(Plain::new(name, parse_get))?
            }
            (Attributes::Mount(a), Attr::Exists) => a.exists = Some(boolean(map)?),
            (Attributes::Mount(a), Attr::Opts) => a.opts.0.extend(list(map)?),
            (Attributes::Mount(a), Attr::Source) => a.source = Some(one(map)?),
            (Attributes::Mount(a), Attr::Filesystem) => a.filesystem = Some(one(map)?),
            (Attributes::KernelParam(a), Attr::Value) => a.value = Some(one(map)?),
            (Attributes::Interface(a), Attr::Exists) => a.exists = Some(boolean(map)?),
            (Attributes::Interface(a), Attr::Addrs) => a.addrs.0.extend(list(map)?),
            (Attributes::Interface(a), Attr::Mtu) => {
                a.mtu = Some(map.next_value_seed(Plain::new(name, parse_number::<u32>))?)
            }
            (_, attr) => {
                // `attributes()` and this table disagree: a bug here, not in the file.
                return Err(de::Error::custom(format!(
                    "rehearsal cannot read `{name}` ({attr:?}) here"
                )));
            }
        }
        Ok(())
    }

    fn into_check(self, subject: String) -> Result<Check, String> {
        self.with_subject(subject).map(Check::from)
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("expected true or false, got `{other}`")),
    }
}

fn parse_number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("expected a whole number, got `{text}`"))
}

/// goss's timeouts are milliseconds; the probe counts whole seconds, so round up (a
/// check never gets less time than goss gave it). 0 means goss's default: ours.
fn parse_millis(text: &str) -> Result<Option<Duration>, String> {
    let millis: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected milliseconds (a whole number, like 5000), got `{text}`"))?;
    Ok((millis > 0).then(|| Duration::from_secs(millis.div_ceil(1000))))
}

fn parse_file_type(text: &str) -> Result<FileType, String> {
    match text {
        "file" => Ok(FileType::File),
        "directory" => Ok(FileType::Directory),
        "symlink" => Ok(FileType::Symlink),
        "socket" | "block-device" | "character-device" | "pipe" => Err(format!(
            "filetype `{text}` is not supported by rehearsal's file check (it knows file, \
             directory and symlink): move it to `expect:` as a `command` check (like \
             `test -S <path>`), or remove it"
        )),
        other => Err(format!(
            "unknown filetype `{other}`: goss's are file, directory, symlink, socket, \
             block-device, character-device and pipe"
        )),
    }
}

fn parse_get(text: &str) -> Result<(), String> {
    if text.eq_ignore_ascii_case("GET") {
        Ok(())
    } else {
        Err(format!(
            "`method: {text}` is not supported by rehearsal: its http check sends GET; move \
             it to `expect:` as a `command` check (with curl), or remove it"
        ))
    }
}

/// A plain value (boolean, number, mode…), read as text and parsed where it stands.
/// goss's advanced matchers are refused here.
struct Plain<T> {
    attr: &'static str,
    parse: fn(&str) -> Result<T, String>,
}

impl<T> Plain<T> {
    fn new(attr: &'static str, parse: fn(&str) -> Result<T, String>) -> Plain<T> {
        Plain { attr, parse }
    }
}

impl<'de, T> DeserializeSeed<'de> for Plain<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<T, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de, T> Visitor<'de> for Plain<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a plain value for `{}`", self.attr)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Err(E::custom(format!(
            "`{}` has no value: give one, or remove it",
            self.attr
        )))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        Err(de::Error::custom(format!(
            "`{}` takes one plain value, not a list",
            self.attr
        )))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<T, A::Error> {
        Err(de::Error::custom(format!(
            "goss matchers are not supported by rehearsal for `{}`: write a plain value, or \
             move the check to `expect:` as a `command` check",
            self.attr
        )))
    }
}

/// `user`'s `groups`: names that must all be among the user's groups.
struct Names;

impl<'de> DeserializeSeed<'de> for Names {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<String>, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Names {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of group names")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut names = Vec::new();
        while let Some(name) = seq.next_element_seed(Plain::new("groups", |t| Ok(t.to_string())))? {
            names.push(name);
        }
        Ok(names)
    }
}

/// Where a goss value is used, which decides what its matchers mean here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// One value compared whole (`owner`, `uid`, `value`…): exactly one matcher.
    Value,
    /// One entry of a list (`line: false`) or one line of text (`line: true`): exactly
    /// one matcher, never negated.
    Element { line: bool },
    /// A list (`ip`, `opts`…; or the lines of text): entries that must all be present.
    List { line: bool },
    /// `not:` over a list: only `contain-element`, meaning no entry matches.
    NotList { line: bool },
    /// Text (`contents`, `stdout`…); `substring`: rehearsal's plain text means "appears
    /// in" here (not for `stdout` and `stderr`, where it means "equals").
    Text { substring: bool },
}

/// goss's advanced matchers rehearsal converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    HavePrefix,
    HaveSuffix,
    ContainSubstring,
    MatchRegexp,
    Not,
    And,
    Or,
    ContainElement,
    ContainElements,
    HavePatterns,
}

const OPS: &[(&str, Op)] = &[
    ("equal", Op::Equal),
    ("have-prefix", Op::HavePrefix),
    ("have-suffix", Op::HaveSuffix),
    ("contain-substring", Op::ContainSubstring),
    ("match-regexp", Op::MatchRegexp),
    ("not", Op::Not),
    ("and", Op::And),
    ("or", Op::Or),
    ("contain-element", Op::ContainElement),
    ("contain-elements", Op::ContainElements),
    ("have-patterns", Op::HavePatterns),
];

/// goss's advanced matchers rehearsal refuses.
const REFUSED_OPS: &[&str] = &[
    "consist-of",
    "have-len",
    "gt",
    "ge",
    "lt",
    "le",
    "semver-constraint",
    "gjson",
    "have-key",
    "have-key-with-value",
];

impl Slot {
    fn ops(self) -> &'static [Op] {
        use Op::*;
        match self {
            Slot::Value => &[
                Equal,
                HavePrefix,
                HaveSuffix,
                ContainSubstring,
                MatchRegexp,
                Not,
                And,
                Or,
            ],
            Slot::Element { .. } => &[
                Equal,
                HavePrefix,
                HaveSuffix,
                ContainSubstring,
                MatchRegexp,
                And,
                Or,
            ],
            Slot::List { .. } => &[ContainElement, ContainElements, And, Not],
            Slot::NotList { .. } => &[ContainElement],
            Slot::Text { .. } => &[
                Equal,
                HavePrefix,
                HaveSuffix,
                ContainSubstring,
                MatchRegexp,
                Not,
                And,
                ContainElement,
                ContainElements,
                HavePatterns,
            ],
        }
    }

    /// Which advanced matcher `name` is, if rehearsal converts it here.
    fn op(self, attr: &str, name: &str) -> Result<Op, String> {
        let refused = |what: &str| format!("goss matcher `{name}` {what}");
        if let Some(&(_, op)) = OPS.iter().find(|(n, _)| *n == name) {
            if self.ops().contains(&op) {
                return Ok(op);
            }
            return Err(match (self, op) {
                (Slot::Element { .. }, Op::Not) => refused(
                    "inside a list entry (\"some entry is not …\") is not supported by \
                     rehearsal: write `not: {contain-element: …}` for \"no entry is …\"",
                ),
                (Slot::List { .. } | Slot::NotList { .. }, Op::Equal) => refused(&format!(
                    "compares the whole list, which rehearsal does not: it checks that each \
                     listed entry is present; list under `{attr}` the entries that must be"
                )),
                (_, Op::Or) => refused(
                    "is supported by rehearsal only for single values (like `owner` or an \
                     entry of `versions`): write a `match-regexp` with `|` instead",
                ),
                _ => {
                    let usable: Vec<&str> = OPS
                        .iter()
                        .filter(|(_, op)| self.ops().contains(op))
                        .map(|(n, _)| *n)
                        .collect();
                    refused(&format!(
                        "does not apply to `{attr}` here (usable here: {})",
                        usable.join(", ")
                    ))
                }
            });
        }
        Err(match name {
            "gt" | "ge" | "lt" | "le" => refused(&format!(
                "(a numeric comparison) is not supported by rehearsal, which compares `{attr}` \
                 exactly or by regex: write the exact value, or move the check to `expect:` \
                 as a `command` check"
            )),
            "semver-constraint" => refused(
                "is not supported by rehearsal: match the version with `match-regexp` (like \
                 '^1\\.2\\.'), or move the check to `expect:` as a `command` check",
            ),
            "consist-of" | "have-len" => refused(&format!(
                "checks the whole list, which rehearsal does not: it checks that each listed \
                 entry is present; list under `{attr}` the entries that must be"
            )),
            "gjson" | "have-key" | "have-key-with-value" => refused(
                "reads JSON, which rehearsal does not: move the check to `expect:` as a \
                 `command` check (with jq), or remove it",
            ),
            _ => format!(
                "unknown goss matcher `{name}`{}",
                hint(
                    name,
                    OPS.iter()
                        .map(|(n, _)| *n)
                        .chain(REFUSED_OPS.iter().copied())
                )
            ),
        })
    }
}

/// A regex matcher, with rehearsal's semantics; `pattern` without slashes.
fn regex(pattern: &str) -> Result<Matcher, String> {
    Matcher::parse(&format!("/{pattern}/"))
}

/// The pattern of a text or regex matcher, for an alternation.
fn pattern_of(m: &Matcher) -> Option<String> {
    match m {
        Matcher::Text(text) => Some(format!("^{}$", regex::escape(text))),
        Matcher::Regex(_) => {
            let shown = m.to_string();
            Some(shown[1..shown.len() - 1].to_string())
        }
        Matcher::Not(_) => None,
    }
}

/// `text` appears (in the whole text, or on one line of it).
fn appears(text: &str, substring: bool) -> Result<Matcher, String> {
    if substring {
        Ok(Matcher::Text(text.to_string()))
    } else {
        regex(&regex::escape(text))
    }
}

/// One of goss's patterns for text: `text`, `!text`, `/re/`, `!/re/`, `\!text`.
fn pattern(text: &str, substring: bool) -> Result<Matcher, String> {
    if let Some(literal) = text.strip_prefix('\\') {
        return appears(literal, substring);
    }
    let (negated, rest) = match text.strip_prefix('!') {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, text),
    };
    let m = if rest.len() > 2 && rest.starts_with('/') && rest.ends_with('/') {
        regex(&rest[1..rest.len() - 1])?
    } else {
        appears(rest, substring)?
    };
    Ok(if negated {
        Matcher::Not(Box::new(m))
    } else {
        m
    })
}

/// A goss value where matchers are expected, converted for its slot.
#[derive(Debug, Clone, Copy)]
struct Expect {
    slot: Slot,
    attr: &'static str,
    /// At most one matcher may come out (`versions`, and what `not:` negates).
    single: bool,
}

impl Expect {
    fn new(slot: Slot, attr: &'static str) -> Expect {
        Expect {
            slot,
            attr,
            single: false,
        }
    }

    fn at(self, slot: Slot) -> Expect {
        Expect::new(slot, self.attr)
    }

    fn finish(self, out: Vec<Matcher>) -> Result<Vec<Matcher>, String> {
        if !self.single || out.len() <= 1 {
            return Ok(out);
        }
        Err(if self.attr == "versions" {
            "goss's `versions` lists versions that must all be installed at once; rehearsal \
             checks the one installed version: keep one entry, or accept any of several with \
             `contain-element: {or: [1.2.3, 1.2.4]}`"
                .to_string()
        } else {
            format!(
                "`not` negates one matcher here, not {}: write one `not` for each",
                out.len()
            )
        })
    }

    /// A plain value in this slot.
    fn scalar(self, text: &str) -> Result<Vec<Matcher>, String> {
        let attr = self.attr;
        Ok(vec![match self.slot {
            Slot::Value | Slot::Element { line: false } => Matcher::Text(text.to_string()),
            Slot::Element { line: true } => regex(&format!("^{}$", regex::escape(text)))?,
            // goss compares one string with the whole text.
            Slot::Text { substring: true } => regex(&format!("\\A{}\\n?\\z", regex::escape(text)))?,
            Slot::Text { substring: false } => Matcher::Text(text.to_string()),
            Slot::List { .. } => {
                return Err(format!(
                    "goss compares `{attr}` as a list: write a list, like `[{text}]`"
                ))
            }
            Slot::NotList { .. } => {
                return Err(format!(
                    "`not` over `{attr}` (a list) takes `{{contain-element: {text}}}`"
                ))
            }
        }])
    }

    /// The value of advanced matcher `op` (the map's only key).
    fn op_value<'de, A: MapAccess<'de>>(
        self,
        op: Op,
        map: &mut A,
    ) -> Result<Vec<Matcher>, A::Error> {
        let text_slot = matches!(self.slot, Slot::Text { .. });
        let substring = matches!(self.slot, Slot::Text { substring: true });
        let one = |m: Result<Matcher, String>| m.map(|m| vec![m]);
        Ok(match op {
            Op::Equal => map.next_value_seed(With(|t: String| self.scalar(&t)))?,
            Op::HavePrefix => map.next_value_seed(With(|t: String| {
                let start = if text_slot { "\\A" } else { "^" };
                one(regex(&format!("{start}{}", regex::escape(&t))))
            }))?,
            Op::HaveSuffix => map.next_value_seed(With(|t: String| {
                let end = if text_slot { "\\n?\\z" } else { "$" };
                one(regex(&format!("{}{end}", regex::escape(&t))))
            }))?,
            Op::ContainSubstring => {
                map.next_value_seed(With(|t: String| one(appears(&t, substring))))?
            }
            Op::MatchRegexp => map.next_value_seed(With(|t: String| one(regex(&t))))?,
            Op::Not => {
                let (slot, wrap) = match self.slot {
                    Slot::List { line } => (Slot::NotList { line }, false),
                    other => (other, true),
                };
                let mut inner = map.next_value_seed(Expect {
                    slot,
                    attr: self.attr,
                    single: true,
                })?;
                let Some(m) = inner.pop() else {
                    return Err(de::Error::custom("`not` of nothing: give it a matcher"));
                };
                vec![if wrap { Matcher::Not(Box::new(m)) } else { m }]
            }
            Op::And => map.next_value_seed(AllOf(self.at(self.slot)))?,
            Op::Or => {
                let alternative = match self.slot {
                    Slot::Value => Slot::Element { line: false },
                    other => other,
                };
                vec![map.next_value_seed(AnyOf(self.at(alternative)))?]
            }
            Op::ContainElement => {
                let line = match self.slot {
                    Slot::List { line } | Slot::NotList { line } => line,
                    _ => true,
                };
                let mut m = map.next_value_seed(self.at(Slot::Element { line }))?;
                if matches!(self.slot, Slot::NotList { .. }) {
                    m = m.into_iter().map(|m| Matcher::Not(Box::new(m))).collect();
                }
                m
            }
            Op::ContainElements => {
                let line = !matches!(self.slot, Slot::List { line: false });
                map.next_value_seed(self.at(Slot::List { line }))?
            }
            Op::HavePatterns => map.next_value_seed(self.at(self.slot))?,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Expect {
    type Value = Vec<Matcher>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<Matcher>, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Expect {
    type Value = Vec<Matcher>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a value, list or goss matcher for `{}`", self.attr)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<Matcher>, E> {
        self.scalar(v)
            .and_then(|out| self.finish(out))
            .map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<Matcher>, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<Matcher>, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<Matcher>, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<Matcher>, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<Matcher>, E> {
        match self.slot {
            Slot::List { .. } | Slot::Text { .. } => Ok(Vec::new()),
            _ => Err(E::custom(format!(
                "`{}` has no value: give one, or remove it",
                self.attr
            ))),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Matcher>, A::Error> {
        let mut out = Vec::new();
        match self.slot {
            Slot::List { line } => {
                while let Some(m) = seq.next_element_seed(self.at(Slot::Element { line }))? {
                    out.extend(m);
                }
            }
            Slot::Text { substring } => {
                while let Some(m) = seq.next_element_seed(Pattern {
                    substring,
                    attr: self.attr,
                })? {
                    out.push(m);
                }
            }
            Slot::NotList { .. } => {
                return Err(de::Error::custom(format!(
                    "`not` over `{}` (a list) takes `{{contain-element: …}}`, not a list",
                    self.attr
                )))
            }
            Slot::Value | Slot::Element { .. } => {
                return Err(de::Error::custom(format!(
                    "`{}` takes one value here, not a list",
                    self.attr
                )))
            }
        }
        self.finish(out).map_err(de::Error::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Matcher>, A::Error> {
        let Some(op) = map.next_key_seed(OpName(self))? else {
            return Err(de::Error::custom(format!(
                "an empty map is not a goss matcher: give `{}` a value",
                self.attr
            )));
        };
        let out = self.op_value(op, &mut map)?;
        map.next_key_seed(NoSecondKey)?;
        self.finish(out).map_err(de::Error::custom)
    }
}

/// The key of an advanced matcher, checked where it stands.
struct OpName(Expect);

impl<'de> DeserializeSeed<'de> for OpName {
    type Value = Op;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Op, D::Error> {
        scalar_with(de, |name| self.0.slot.op(self.0.attr, &name))
    }
}

/// goss allows one matcher per map: a second key is refused where it stands.
struct NoSecondKey;

impl<'de> DeserializeSeed<'de> for NoSecondKey {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        // Refused inside the read, so the error stands at the key.
        scalar_with(de, |name| {
            Err(format!(
                "a goss matcher map has one key; `{name}` is a second: put both under `and: [...]`"
            ))
        })
    }
}

/// `and: [...]`: every matcher must hold.
struct AllOf(Expect);

impl<'de> DeserializeSeed<'de> for AllOf {
    type Value = Vec<Matcher>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<Matcher>, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AllOf {
    type Value = Vec<Matcher>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of goss matchers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Matcher>, A::Error> {
        let mut out = Vec::new();
        while let Some(m) = seq.next_element_seed(self.0)? {
            out.extend(m);
        }
        if matches!(self.0.slot, Slot::Value | Slot::Element { .. }) && out.len() != 1 {
            return Err(de::Error::custom(format!(
                "`{}` takes one matcher: `and` over {} cannot be checked; keep one",
                self.0.attr,
                out.len()
            )));
        }
        Ok(out)
    }
}

/// `or: [...]`: one of them must hold; a regex alternation.
struct AnyOf(Expect);

impl<'de> DeserializeSeed<'de> for AnyOf {
    type Value = Matcher;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Matcher, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AnyOf {
    type Value = Matcher;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of goss matchers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Matcher, A::Error> {
        let mut all = Vec::new();
        while let Some(m) = seq.next_element_seed(self.0)? {
            all.extend(m);
        }
        let texts: Option<Vec<String>> = all
            .iter()
            .map(|m| match m {
                Matcher::Text(t) => Some(regex::escape(t)),
                _ => None,
            })
            .collect();
        let pattern = match texts {
            Some(texts) if !texts.is_empty() => format!("^(?:{})$", texts.join("|")),
            _ => {
                let parts: Option<Vec<String>> = all.iter().map(pattern_of).collect();
                match parts {
                    Some(parts) if !parts.is_empty() => parts
                        .iter()
                        .map(|p| format!("(?:{p})"))
                        .collect::<Vec<_>>()
                        .join("|"),
                    _ => {
                        return Err(de::Error::custom(format!(
                            "`or` for `{}` needs at least one value",
                            self.0.attr
                        )))
                    }
                }
            }
        };
        regex(&pattern).map_err(de::Error::custom)
    }
}

/// An entry of a list under text (`contents`, `stdout`…): one of goss's patterns.
struct Pattern {
    substring: bool,
    attr: &'static str,
}

impl<'de> DeserializeSeed<'de> for Pattern {
    type Value = Matcher;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Matcher, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pattern {
    type Value = Matcher;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a goss pattern: text, /regex/ or !text")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Matcher, E> {
        pattern(v, self.substring).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Matcher, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Matcher, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Matcher, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Matcher, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Matcher, A::Error> {
        Err(self.not_a_pattern())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Matcher, A::Error> {
        Err(self.not_a_pattern())
    }
}

impl Pattern {
    fn not_a_pattern<E: de::Error>(&self) -> E {
        E::custom(format!(
            "goss reads the entries of a list under `{}` as patterns (text, /regex/, !text): \
             put matchers under `and: [...]` instead",
            self.attr
        ))
    }
}

/// A scalar, read as text and handed to a function where it stands.
struct With<F>(F);

impl<'de, T, F: FnOnce(String) -> Result<T, String>> DeserializeSeed<'de> for With<F> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<T, D::Error> {
        scalar_with(de, self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::spec::check::{
        Assertion, CommandCheck, FileCheck, GroupCheck, HttpCheck, InterfaceCheck,
        KernelParamCheck, MountCheck, PackageCheck, PortCheck, ProcessCheck, Protocol,
        ServiceCheck, UserCheck,
    };
    use crate::spec::matcher::Matchers;

    fn read(yaml: &str) -> Result<Vec<Check>, String> {
        parse(Path::new("goss.yaml"), yaml).map_err(|err| err.to_string())
    }

    /// The one check a goss text yields.
    fn one(yaml: &str) -> Assertion {
        let mut checks = read(yaml).unwrap();
        assert_eq!(checks.len(), 1, "{checks:?}");
        checks.remove(0).what
    }

    fn error(yaml: &str) -> String {
        read(yaml).expect_err("the goss file should be refused")
    }

    fn text(t: &str) -> Matcher {
        Matcher::Text(t.to_string())
    }

    fn re(pattern: &str) -> Matcher {
        regex(pattern).unwrap()
    }

    fn not(m: Matcher) -> Matcher {
        Matcher::Not(Box::new(m))
    }

    fn fixture() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/goss/goss.yaml")
    }

    #[test]
    fn a_goss_file_with_every_supported_type_converts() {
        let checks = load(&fixture()).unwrap();
        let expected = vec![
            Assertion::File(FileCheck {
                path: "/etc/webserver/site.conf".into(),
                attrs: FileAttrs {
                    exists: Some(true),
                    file_type: Some(FileType::File),
                    mode: Some(Mode("0644".into())),
                    owner: Some(text("root")),
                    group: Some(text("root")),
                    contains: Matchers(vec![
                        text("listen 8080"),
                        re(r"server_name\s+example\.com"),
                        not(text("debug")),
                    ]),
                    ..FileAttrs::default()
                },
            }),
            Assertion::File(FileCheck {
                path: "/etc/alternatives/mta".into(),
                attrs: FileAttrs {
                    exists: Some(true),
                    file_type: Some(FileType::Symlink),
                    linked_to: Some(text("/usr/sbin/exim4")),
                    ..FileAttrs::default()
                },
            }),
            Assertion::File(FileCheck {
                path: "/var/www".into(),
                attrs: FileAttrs {
                    exists: Some(true),
                    file_type: Some(FileType::Directory),
                    owner: Some(re("^www")),
                    ..FileAttrs::default()
                },
            }),
            Assertion::File(FileCheck {
                path: "/etc/motd".into(),
                attrs: FileAttrs {
                    exists: Some(true),
                    size: Some(286),
                    sha256: Some(text(
                        "0e2a8f8ed1ff3b0e2b8e62d9ab5a0e1c5c9d3c8dbf1f7a6e7a0c4e4d5f6a7b8c",
                    )),
                    ..FileAttrs::default()
                },
            }),
            Assertion::File(FileCheck {
                path: "/etc/legacy.conf".into(),
                attrs: FileAttrs {
                    exists: Some(false),
                    ..FileAttrs::default()
                },
            }),
            Assertion::Package(PackageCheck {
                name: "nginx".into(),
                attrs: PackageAttrs {
                    installed: Some(true),
                    version: Some(text("1.22.1-9")),
                },
            }),
            Assertion::Package(PackageCheck {
                name: "telnet".into(),
                attrs: PackageAttrs {
                    installed: Some(false),
                    version: None,
                },
            }),
            // apache2 is `skip: true`: gone, its `runlevels` unread.
            Assertion::Service(ServiceCheck {
                name: "nginx".into(),
                attrs: ServiceAttrs {
                    enabled: Some(true),
                    running: Some(true),
                },
            }),
            Assertion::User(UserCheck {
                name: "www-data".into(),
                attrs: UserAttrs {
                    exists: Some(true),
                    uid: Some(text("33")),
                    gid: Some(text("33")),
                    groups: vec!["www-data".into()],
                    home: Some(text("/var/www")),
                    shell: Some(text("/usr/sbin/nologin")),
                },
            }),
            Assertion::Group(GroupCheck {
                name: "www-data".into(),
                attrs: GroupAttrs {
                    exists: Some(true),
                    gid: Some(text("33")),
                },
            }),
            Assertion::Port(PortCheck {
                subject: "tcp:80".into(),
                number: 80,
                protocol: Protocol::Tcp,
                attrs: PortAttrs {
                    listening: Some(true),
                    protocol: None,
                    address: Matchers(vec![text("0.0.0.0")]),
                },
            }),
            Assertion::Port(PortCheck {
                subject: "tcp6:443".into(),
                number: 443,
                protocol: Protocol::Tcp,
                attrs: PortAttrs {
                    listening: Some(true),
                    ..PortAttrs::default()
                },
            }),
            Assertion::Port(PortCheck {
                subject: "udp:53".into(),
                number: 53,
                protocol: Protocol::Udp,
                attrs: PortAttrs {
                    listening: Some(false),
                    ..PortAttrs::default()
                },
            }),
            Assertion::Process(ProcessCheck {
                name: "nginx".into(),
                attrs: ProcessAttrs {
                    running: Some(true),
                },
            }),
            Assertion::Command(CommandCheck {
                command: "nginx -t".into(),
                attrs: CommandAttrs {
                    exit_status: Some(0),
                    stdout: Matchers(vec![]),
                    stderr: Matchers(vec![re("syntax is ok"), re("test is successful")]),
                    timeout: Some(Duration::from_secs(5)),
                },
            }),
            Assertion::Command(CommandCheck {
                command: "webserver --version".into(),
                attrs: CommandAttrs {
                    exit_status: Some(0),
                    stdout: Matchers(vec![re(r"^webserver 2\.")]),
                    stderr: Matchers(vec![]),
                    timeout: Some(Duration::from_secs(2)),
                },
            }),
            Assertion::Http(HttpCheck {
                url: "http://localhost/health".into(),
                attrs: HttpAttrs {
                    status: Some(200),
                    body: Matchers(vec![text("ok")]),
                    headers: Matchers(vec![text("Content-Type: text/plain")]),
                    timeout: Some(Duration::from_secs(1)),
                    allow_insecure: None,
                    follow_redirects: Some(true),
                },
            }),
            Assertion::Http(HttpCheck {
                url: "https://localhost/".into(),
                attrs: HttpAttrs {
                    status: Some(301),
                    allow_insecure: Some(true),
                    follow_redirects: Some(false),
                    ..HttpAttrs::default()
                },
            }),
            Assertion::Mount(MountCheck {
                path: "/srv/data".into(),
                attrs: MountAttrs {
                    exists: Some(true),
                    opts: Matchers(vec![text("rw"), text("nosuid")]),
                    source: Some(text("tmpfs")),
                    filesystem: Some(text("tmpfs")),
                },
            }),
            Assertion::KernelParam(KernelParamCheck {
                name: "net.ipv4.ip_forward".into(),
                attrs: KernelParamAttrs {
                    value: Some(text("1")),
                },
            }),
            Assertion::Interface(InterfaceCheck {
                name: "eth0".into(),
                attrs: InterfaceAttrs {
                    exists: Some(true),
                    addrs: Matchers(vec![text("172.17.0.2/16")]),
                    mtu: Some(1500),
                },
            }),
            // dns: every entry skipped, so the unsupported type is dropped, not refused.
        ];
        assert_eq!(checks.len(), expected.len(), "{checks:#?}");
        for (check, want) in checks.iter().zip(&expected) {
            assert_eq!(&check.what, want);
            assert_eq!(check.retry, None);
        }
    }

    #[test]
    fn unsupported_resource_types_say_what_to_do() {
        let err =
            error("file:\n  /etc/motd: {exists: true}\ndns:\n  localhost:\n    resolvable: true\n");
        assert_eq!(
            err,
            "goss.yaml:3:1: goss resource type `dns` is not supported by rehearsal (supported: \
             file, package, service, user, group, port, process, command, http, mount, \
             kernel-param, interface): move it to `expect:` as a `command` check (like \
             `getent hosts <name>`), or remove it"
        );
        let err = error("addr:\n  tcp://db:5432: {reachable: true}\n");
        assert!(
            err.starts_with("goss.yaml:1:1: goss resource type `addr` is not supported"),
            "{err}"
        );
        let err = error("matching:\n  count: {content: 1, matches: 1}\n");
        assert!(err.contains("`matching` is not supported"), "{err}");
        assert!(err.ends_with("not the system: remove it"), "{err}");
        let err = error("package:\n  nginx: {installed: true}\ngossfile:\n  more.yaml: {}\n");
        assert!(
            err.starts_with(
                "goss.yaml:3:1: goss `gossfile` includes are not supported by rehearsal: list the \
                 included files under the case's `goss:` instead"
            ),
            "{err}"
        );
        // One entry not skipped is enough to refuse the type.
        let err = error("dns:\n  a: {skip: true}\n  b: {resolvable: true}\n");
        assert!(err.contains("`dns` is not supported"), "{err}");
    }

    #[test]
    fn unknown_resource_types_suggest_the_closest() {
        let err = error("file:\n  /etc/motd: {}\nkernel_param:\n  vm.swappiness: {value: 10}\n");
        assert!(
            err.starts_with(
                "goss.yaml:3:1: unknown goss resource type `kernel_param` (rehearsal reads file, "
            ),
            "{err}"
        );
        assert!(
            err.ends_with("(hint: did you mean `kernel-param`?)"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_attributes_are_located_at_their_key() {
        let err = error("file:\n  /etc/motd:\n    exists: true\n    md5: 7c9bb14b\n");
        assert_eq!(
            err,
            "goss.yaml:4:5: file./etc/motd: goss attribute `md5` of `file` is not supported by \
             rehearsal: check `sha256` instead, or remove it"
        );
        let err = error("mount:\n  /home:\n    exists: true\n    usage:\n      lt: 95\n");
        assert!(
            err.starts_with(
                "goss.yaml:4:5: mount./home: goss attribute `usage` of `mount` is not supported"
            ),
            "{err}"
        );
        assert!(err.contains("`command` check (with `df`)"), "{err}");
        let err = error("mount:\n  /home:\n    vfs-opts: [rw]\n");
        assert!(
            err.starts_with("goss.yaml:3:5: mount./home: goss attribute `vfs-opts`"),
            "{err}"
        );
        assert!(err.contains("move them to `opts`"), "{err}");
        let err = error("service:\n  sshd:\n    runlevels: ['3']\n");
        assert!(
            err.contains("`runlevels` of `service` is not supported"),
            "{err}"
        );
        let err = error(
            "http:\n  http://localhost/:\n    status: 200\n    request-headers: ['X-A: 1']\n",
        );
        assert!(err.starts_with("goss.yaml:4:5: "), "{err}");
        assert!(err.contains("sends a plain GET"), "{err}");
        let err = error("http:\n  http://localhost/:\n    method: POST\n");
        assert!(err.starts_with("goss.yaml:3:13: "), "{err}");
        assert!(err.contains("`method: POST` is not supported"), "{err}");
        let err = error("file:\n  /run/app.sock:\n    filetype: socket\n");
        assert!(err.starts_with("goss.yaml:3:15: "), "{err}");
        assert!(err.contains("`test -S <path>`"), "{err}");
    }

    #[test]
    fn unknown_attributes_suggest_the_closest() {
        let err = error("file:\n  /etc/motd:\n    mdoe: '0644'\n");
        assert!(
            err.starts_with("goss.yaml:3:5: file./etc/motd: unknown field `mdoe`, expected one of `path`, `exists`, `mode`"),
            "{err}"
        );
        assert!(err.ends_with("(hint: did you mean `mode`?)"), "{err}");
        let err = error("service:\n  sshd:\n    running: true\n    running: false\n");
        assert!(err.starts_with("goss.yaml:4:5: "), "{err}");
        assert!(err.contains("`running` is given twice"), "{err}");
    }

    #[test]
    fn refused_matchers_are_located_and_explained() {
        let err = error("file:\n  /var/log/big:\n    size: {lt: 100}\n");
        assert!(err.starts_with("goss.yaml:3:11: file./var/log/big.size: goss matchers are not supported by rehearsal for `size`"), "{err}");
        let err = error("user:\n  app:\n    uid:\n      gt: 1000\n");
        assert!(err.starts_with("goss.yaml:4:7: user.app.uid: goss matcher `gt` (a numeric comparison) is not supported"), "{err}");
        let err = error("package:\n  nginx:\n    versions:\n      semver-constraint: '>1.20'\n");
        assert!(err.starts_with("goss.yaml:4:7: "), "{err}");
        assert!(err.contains("`semver-constraint` is not supported by rehearsal: match the version with `match-regexp`"), "{err}");
        let err = error("port:\n  tcp:22:\n    ip:\n      consist-of: [0.0.0.0]\n");
        assert!(err.contains("`consist-of` checks the whole list"), "{err}");
        let err = error("command:\n  cat /etc/app.json:\n    stdout:\n      gjson: {a: 1}\n");
        assert!(err.contains("`gjson` reads JSON"), "{err}");
        let err = error("kernel-param:\n  vm.swappiness:\n    value: {have-prefx: '1'}\n");
        assert!(err.starts_with("goss.yaml:3:13: "), "{err}");
        assert!(
            err.contains("unknown goss matcher `have-prefx` (hint: did you mean `have-prefix`?)"),
            "{err}"
        );
        let err = error("user:\n  app:\n    shell: {have-prefix: /bin, have-suffix: sh}\n");
        assert!(err.starts_with("goss.yaml:3:32: "), "{err}");
        assert!(
            err.contains("`have-suffix` is a second: put both under `and: [...]`"),
            "{err}"
        );
        let err = error("user:\n  app:\n    groups: [{have-prefix: adm}]\n");
        assert!(
            err.contains("goss matchers are not supported by rehearsal for `groups`"),
            "{err}"
        );
        let err = error("port:\n  tcp:22:\n    ip: [{not: 0.0.0.0}]\n");
        assert!(err.contains("`not` inside a list entry"), "{err}");
        let err = error("port:\n  tcp:22:\n    ip: 0.0.0.0\n");
        assert!(err.starts_with("goss.yaml:3:9: "), "{err}");
        assert!(err.contains("write a list, like `[0.0.0.0]`"), "{err}");
        let err =
            error("user:\n  app:\n    home: {and: [{have-prefix: /srv}, {have-suffix: app}]}\n");
        assert!(
            err.contains("`home` takes one matcher: `and` over 2 cannot be checked"),
            "{err}"
        );
    }

    #[test]
    fn several_versions_are_refused_with_the_reason() {
        let err =
            error("package:\n  kernel:\n    installed: true\n    versions: [5.10.1, 6.1.2]\n");
        assert!(err.starts_with("goss.yaml:4:15: "), "{err}");
        assert!(err.contains("must all be installed at once"), "{err}");
        assert!(
            err.contains("`contain-element: {or: [1.2.3, 1.2.4]}`"),
            "{err}"
        );
        // The way out it names works: any one of several versions.
        let Assertion::Package(p) = one(
            "package:\n  nginx:\n    versions: {contain-element: {or: [1.22.1-9, 1.24.0-1]}}\n",
        ) else {
            panic!()
        };
        let version = p.attrs.version.unwrap();
        assert_eq!(version.to_string(), r"/^(?:1\.22\.1\-9|1\.24\.0\-1)$/");
        assert!(version.matches_value("1.24.0-1"));
        assert!(!version.matches_value("1.24.0-10"));
    }

    #[test]
    fn templates_are_refused_where_they_start() {
        let err = error(
            "file:\n  /etc/motd:\n    exists: true\n  {{ .Env.APP_CONF }}:\n    exists: true\n",
        );
        assert!(
            err.starts_with("goss.yaml:4:3: goss templates (`{{ … }}`) are not supported"),
            "{err}"
        );
        assert!(err.contains("`goss render`"), "{err}");
    }

    #[test]
    fn bad_keys_are_located() {
        let err = error("port:\n  tcp:ssh:\n    listening: true\n");
        assert!(
            err.starts_with("goss.yaml:2:3: port: invalid port `tcp:ssh`"),
            "{err}"
        );
        let err = error("http:\n  localhost:8080/health:\n    status: 200\n");
        assert!(
            err.starts_with("goss.yaml:2:3: http: invalid url `localhost:8080/health`"),
            "{err}"
        );
        let err = error("kernel-param:\n  ../../etc/shadow:\n    value: x\n");
        assert!(err.contains("invalid kernel parameter"), "{err}");
        // A key that is only a label: the id attribute names the subject, and is checked.
        let Assertion::Http(h) =
            one("http:\n  health:\n    url: http://localhost/health\n    status: 200\n")
        else {
            panic!()
        };
        assert_eq!(h.url, "http://localhost/health");
        let err = error("http:\n  health:\n    url: localhost/health\n");
        assert!(
            err.starts_with("goss.yaml:3:10: http.health.url: invalid url"),
            "{err}"
        );
        let err = error("file:\n  /etc/motd: {}\nfile:\n  /etc/issue: {}\n");
        assert!(
            err.starts_with("goss.yaml:3:1: `file` appears twice in the goss file"),
            "{err}"
        );
        let err = error("file:\n  /etc/motd: {}\n  /etc/motd: {mode: '0644'}\n");
        assert!(
            err.starts_with("goss.yaml:3:3: file: `/etc/motd` appears twice under `file`"),
            "{err}"
        );
    }

    #[test]
    fn bad_patterns_are_located() {
        let err = error("file:\n  /etc/motd:\n    contents:\n      - ok\n      - /a(b/\n");
        assert!(
            err.starts_with("goss.yaml:5:9: file./etc/motd.contents[1]: invalid regex /a(b/"),
            "{err}"
        );
        let err = error("command:\n  id:\n    stdout:\n      - {have-prefix: uid}\n");
        assert!(err.starts_with("goss.yaml:4:9: "), "{err}");
        assert!(
            err.contains("as patterns (text, /regex/, !text): put matchers under `and: [...]`"),
            "{err}"
        );
    }

    #[test]
    fn skip_drops_the_entry_unread() {
        let checks = read(
            "service:\n  nginx: {running: true}\n  apache2:\n    runlevels: [3]\n    skip: true\n  \
             cron: {running: true, skip: false}\n",
        )
        .unwrap();
        let names: Vec<String> = checks.iter().map(|c| c.to_string()).collect();
        assert_eq!(names, ["service nginx", "service cron"]);
        assert!(read("dns:\n  localhost: {resolvable: true, skip: true}\n")
            .unwrap()
            .is_empty());
        assert!(read("gossfile:\n  other.yaml: {skip: true}\n")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn millisecond_timeouts_round_up_to_seconds() {
        let timeout = |ms: &str| match one(&format!("command:\n  true:\n    timeout: {ms}\n")) {
            Assertion::Command(c) => c.attrs.timeout,
            other => panic!("{other:?}"),
        };
        assert_eq!(timeout("10000"), Some(Duration::from_secs(10)));
        assert_eq!(timeout("1500"), Some(Duration::from_secs(2)));
        assert_eq!(timeout("1"), Some(Duration::from_secs(1)));
        assert_eq!(timeout("0"), None, "goss's 0 is its default: ours applies");
        let Assertion::Http(h) = one("http:\n  http://localhost/:\n    timeout: 250\n") else {
            panic!()
        };
        assert_eq!(h.timeout(), Duration::from_secs(1));
        assert!(error("command:\n  true:\n    timeout: 5s\n").contains("expected milliseconds"));
    }

    #[test]
    fn text_patterns_mean_what_they_mean_in_goss() {
        // contents: plain text appears; `!` must not; `\!` is a literal bang; /re/ is a regex.
        let Assertion::File(f) = one(
            "file:\n  /etc/app.conf:\n    contents: ['listen 80', '!debug', '\\!important', '!/^#/', '/port = \\d+/']\n",
        ) else {
            panic!()
        };
        let content = "listen 8080\nport = 12\n!important\n";
        for m in &f.attrs.contains.0 {
            assert!(m.found_in(content), "{m} in {content:?}");
        }
        assert_eq!(f.attrs.contains.0[2], text("!important"));
        assert!(!f.attrs.contains.0[1].found_in("debug = 1"));
        assert!(!f.attrs.contains.0[3].found_in("# comment\n"));
        // stdout: rehearsal's plain text would mean "equals", so patterns become regexes.
        let Assertion::Command(c) =
            one("command:\n  go version:\n    stdout: [go version go1.6, '!error']\n")
        else {
            panic!()
        };
        let out = "go version go1.6 linux/amd64\n";
        assert_eq!(c.attrs.stdout.0[0], re(r"go version go1\.6"));
        assert!(c.attrs.stdout.0.iter().all(|m| m.found_in(out)));
        // One string (not a list) compares with the whole text, as goss 0.4 does.
        let Assertion::Command(c) = one("command:\n  hostname:\n    stdout: web1\n") else {
            panic!()
        };
        assert_eq!(c.attrs.stdout.0, vec![text("web1")]);
        let Assertion::File(f) = one("file:\n  /etc/hostname:\n    contents: web1\n") else {
            panic!()
        };
        assert!(f.attrs.contains.0[0].found_in("web1\n"));
        assert!(!f.attrs.contains.0[0].found_in("web10\n"));
    }

    #[test]
    fn advanced_matchers_that_map_cleanly() {
        let Assertion::User(u) = one(
            "user:\n  app:\n    uid: {not: 0}\n    home: {have-prefix: /srv/}\n    shell: {have-suffix: sh}\n    \
             gid: {match-regexp: '^10\\d\\d$'}\n    groups: [adm, sudo]\n",
        ) else {
            panic!()
        };
        assert_eq!(u.attrs.uid, Some(not(text("0"))));
        assert_eq!(u.attrs.home, Some(re("^/srv/")));
        assert_eq!(u.attrs.shell, Some(re("sh$")));
        assert!(u.attrs.gid.as_ref().unwrap().matches_value("1001"));
        assert_eq!(u.attrs.groups, ["adm", "sudo"]);
        let Assertion::File(f) = one(
            "file:\n  /etc/app.conf:\n    owner: {equal: app}\n    group: {contain-substring: app}\n    contents:\n      and:\n        \
             - contain-element: 'enabled = true'\n        - not: {contain-element: {have-prefix: debug}}\n        \
             - contain-substring: port\n        - have-patterns: ['!/^#/']\n",
        ) else {
            panic!()
        };
        assert_eq!(f.attrs.owner, Some(text("app")));
        assert_eq!(f.attrs.group, Some(re("app")));
        let content = "name = x\nenabled = true\nport = 80\n";
        let [whole_line, no_debug, port, no_comment] = &f.attrs.contains.0[..] else {
            panic!("{:?}", f.attrs.contains)
        };
        assert!(whole_line.found_in(content));
        assert!(!whole_line.found_in("enabled = true # no"));
        assert!(no_debug.found_in(content));
        assert!(!no_debug.found_in("debug = 1\n"));
        assert_eq!(port, &text("port"));
        assert!(no_comment.found_in(content));
        let Assertion::Port(p) =
            one("port:\n  tcp:22:\n    ip:\n      and:\n        - contain-element: 0.0.0.0\n        - not: {contain-element: '::'}\n")
        else {
            panic!()
        };
        assert_eq!(p.attrs.address.0, vec![text("0.0.0.0"), not(text("::"))]);
        let Assertion::KernelParam(k) =
            one("kernel-param:\n  vm.swappiness:\n    value: {or: ['0', '1']}\n")
        else {
            panic!()
        };
        assert!(k.attrs.value.as_ref().unwrap().matches_value("1"));
        assert!(!k.attrs.value.as_ref().unwrap().matches_value("10"));
    }

    #[test]
    fn entries_without_attributes_and_labels() {
        let Assertion::File(f) = one("file:\n  /etc/motd:\n") else {
            panic!()
        };
        assert_eq!(f.attrs, FileAttrs::default());
        let Assertion::Command(c) =
            one("command:\n  version:\n    exec: app --version\n    exit-status: 0\n")
        else {
            panic!()
        };
        assert_eq!(c.command, "app --version");
        assert!(read("file: {}\nport:\n").unwrap().is_empty());
    }

    #[test]
    fn empty_and_malformed_files_are_refused() {
        assert_eq!(
            error(" \n"),
            "goss.yaml: the goss file is empty: it needs at least one resource type, like `file:`"
        );
        let err = error("file:\n  /etc/motd: {exists: true\n");
        assert!(err.starts_with("goss.yaml:3:1: "), "{err}");
        let err = error("- file\n");
        assert!(err.contains("expected a goss file"), "{err}");
    }
}
