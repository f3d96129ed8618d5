//! What a manifest says at a glance: the classes it defines (their parameters, what
//! their bodies declare unconditionally), the resource types whose attributes something
//! overrides, and what the file declares at its top level (for `examples/`).
//!
//! Only statements at the top of a body count. Anything inside a block that is not a
//! resource's own body (`if`, `unless`, `case`, a selector, a lambda, a `define`, a
//! `node`) may or may not happen, so it is never looked into.

use std::collections::{BTreeMap, BTreeSet};

use super::lexer::{tokenize, Token};

/// A value written in the code, as far as it is a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A quoted string without interpolation.
    Str(String),
    /// A bare word: `present`, `true`, `running`…
    Word(String),
    Number(String),
    List(Vec<Value>),
    /// Anything else: a variable, a call, an interpolated string, an expression.
    Other,
}

impl Value {
    /// The value as text, if it is a single literal (a string, a word or a number).
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Word(s) | Value::Number(s) => Some(s),
            _ => None,
        }
    }
}

/// One resource, after a resource expression's `default:` body is merged into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The type, lower-case (`file`, `package`, `class`, `mymod::thing`).
    pub kind: String,
    /// The titles when every one is a literal string; `None` otherwise.
    pub titles: Option<Vec<String>>,
    pub attrs: BTreeMap<String, Value>,
    /// Declared with `@` or `@@`: not in the catalog unless realized.
    pub virtual_: bool,
    /// Has `* => …`: attributes nobody can read here.
    pub splat: bool,
}

/// What a body declares unconditionally.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    pub resources: Vec<Resource>,
    /// Classes named by `include`, `contain`, `require` or `class { 'x': }`.
    pub classes: Vec<String>,
    /// Calls `assert_private()` or is documented `@api private`: the module's other
    /// classes declare it.
    pub private: bool,
    /// Classes whose variables it reads (`$web::port` reads class `web`'s).
    pub reads: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub has_default: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    /// Without a leading `::`.
    pub name: String,
    pub params: Vec<Param>,
    pub parent: Option<String>,
    pub body: Body,
}

/// One manifest file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub classes: Vec<Class>,
    /// Declared at the top of the file, outside any class.
    pub top: Body,
    /// Types (lower-case) with resource defaults (`File { … }`), overrides
    /// (`File['x'] { … }`) or collectors (`File <| … |>`) anywhere in the file.
    pub overridden: BTreeSet<String>,
}

pub fn parse(source: &str) -> Manifest {
    let tokens = tokenize(source);
    let mut manifest = Manifest {
        overridden: overridden_types(&tokens),
        ..Manifest::default()
    };
    let mut classes = Vec::new();
    manifest.top = body(&tokens, &mut classes);
    let private = documented_private(source);
    for class in &mut classes {
        class.body.private |= private.contains(&class.name);
    }
    manifest.classes = classes;
    manifest
}

/// The index of the token closing the bracket opened at `open`, or the end.
fn closing(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::Punct("{" | "(" | "[") => depth += 1,
            Token::Punct("}" | ")" | "]") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// Splits at `sep` where no bracket is open.
fn split<'a>(tokens: &'a [Token], sep: &str) -> Vec<&'a [Token]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Punct("{" | "(" | "[") => depth += 1,
            Token::Punct("}" | ")" | "]") => depth = depth.saturating_sub(1),
            t if depth == 0 && t.is(sep) => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

fn overridden_types(tokens: &[Token]) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    for (i, t) in tokens.iter().enumerate() {
        let Token::Type(name) = t else { continue };
        let mut next = i + 1;
        if tokens.get(next).is_some_and(|t| t.is("[")) {
            next = closing(tokens, next) + 1;
        }
        if tokens
            .get(next)
            .is_some_and(|t| t.is("{") || t.is("<|") || t.is("<<|"))
        {
            types.insert(name.trim_start_matches("::").to_lowercase());
        }
    }
    types
}

const BLOCK_KEYWORDS: &[&str] = &["define", "node", "function", "plan", "application"];

/// The statements at the top of a body; class definitions found on the way go to
/// `classes`.
fn body(tokens: &[Token], classes: &mut Vec<Class>) -> Body {
    let mut out = Body::default();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            // A block whose content may not happen (if, case, selector, lambda, hash…).
            Token::Punct("{" | "(" | "[") => i = closing(tokens, i) + 1,
            Token::Name(kw)
                if kw == "class" && matches!(tokens.get(i + 1), Some(Token::Name(_))) =>
            {
                i = class(tokens, i, classes);
            }
            Token::Name(kw) if BLOCK_KEYWORDS.contains(&kw.as_str()) => {
                // Up to its block, and past it.
                let mut j = i + 1;
                while j < tokens.len() && !tokens[j].is("{") {
                    if tokens[j].is("(") || tokens[j].is("[") {
                        j = closing(tokens, j);
                    }
                    j += 1;
                }
                i = closing(tokens, j) + 1;
            }
            Token::Name(kw) if matches!(kw.as_str(), "include" | "contain" | "require") => {
                let (names, next) = class_names(tokens, i + 1);
                out.classes.extend(names);
                i = next;
            }
            Token::Name(kw) if kw == "assert_private" => {
                out.private = true;
                i += 1;
            }
            Token::Name(kind) if tokens.get(i + 1).is_some_and(|t| t.is("{")) => {
                let end = closing(tokens, i + 1);
                let virtual_ = i > 0 && (tokens[i - 1].is("@") || tokens[i - 1].is("@@"));
                let inner = &tokens[(i + 2).min(end)..end];
                let kind = kind.trim_start_matches("::").to_lowercase();
                for resource in resources(&kind, inner, virtual_) {
                    if kind == "class" && !virtual_ {
                        out.classes
                            .extend(resource.titles.iter().flatten().map(|t| class_name(t)));
                    }
                    out.resources.push(resource);
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// `class name (params) inherits parent { body }`; returns the index after it.
fn class(tokens: &[Token], at: usize, classes: &mut Vec<Class>) -> usize {
    let Some(Token::Name(name)) = tokens.get(at + 1) else {
        return at + 1;
    };
    let mut i = at + 2;
    let mut params = Vec::new();
    if tokens.get(i).is_some_and(|t| t.is("(")) {
        let end = closing(tokens, i);
        params = parameters(&tokens[i + 1..end.min(tokens.len())]);
        i = end + 1;
    }
    let mut parent = None;
    if tokens.get(i).is_some_and(|t| t.is_name("inherits")) {
        if let Some(Token::Name(p)) = tokens.get(i + 1) {
            parent = Some(class_name(p));
        }
        i += 2;
    }
    if !tokens.get(i).is_some_and(|t| t.is("{")) {
        return i;
    }
    let end = closing(tokens, i);
    let inner = &tokens[i + 1..end.min(tokens.len())];
    let mut body = body(inner, classes);
    body.reads = reads(inner);
    classes.push(Class {
        name: class_name(name),
        params,
        parent,
        body,
    });
    end + 1
}

/// The classes whose variables these tokens read, wherever they are.
fn reads(tokens: &[Token]) -> BTreeSet<String> {
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Variable(name) => name
                .trim_start_matches("::")
                .rsplit_once("::")
                .map(|(class, _)| class_name(class)),
            _ => None,
        })
        .collect()
}

/// Classes documented `@api private` (puppet-strings): the comment block right above
/// `class name`.
fn documented_private(source: &str) -> BTreeSet<String> {
    let mut private = BTreeSet::new();
    let mut in_block = false;
    for line in source.lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix('#') {
            if comment.split_whitespace().collect::<Vec<_>>() == ["@api", "private"] {
                in_block = true;
            }
            continue;
        }
        if in_block {
            if let Some(name) = line.strip_prefix("class ").and_then(|rest| {
                rest.split(|c: char| c.is_whitespace() || c == '(' || c == '{')
                    .find(|w| !w.is_empty())
            }) {
                private.insert(class_name(name));
            }
        }
        in_block = false;
    }
    private
}

fn parameters(tokens: &[Token]) -> Vec<Param> {
    split(tokens, ",")
        .into_iter()
        .filter_map(|param| {
            let at = param.iter().position(|t| matches!(t, Token::Variable(_)))?;
            let Token::Variable(name) = &param[at] else {
                return None;
            };
            Some(Param {
                name: name.clone(),
                has_default: param[at + 1..].iter().any(|t| t.is("=")),
            })
        })
        .collect()
}

/// The names after `include` (`a, b`, `('a')`, `['a', 'b']`); returns the index after.
fn class_names(tokens: &[Token], mut i: usize) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let parenthesised = tokens.get(i).is_some_and(|t| t.is("("));
    if parenthesised {
        i += 1;
    }
    loop {
        match tokens.get(i) {
            Some(Token::Name(n)) => names.push(class_name(n)),
            Some(Token::Str {
                text,
                literal: true,
            }) => names.push(class_name(text)),
            Some(t) if t.is("[") => {
                let end = closing(tokens, i);
                for item in split(&tokens[i + 1..end.min(tokens.len())], ",") {
                    if let [Token::Str {
                        text,
                        literal: true,
                    }]
                    | [Token::Name(text)] = item
                    {
                        names.push(class_name(text));
                    }
                }
                i = end;
            }
            _ => break,
        }
        i += 1;
        if tokens.get(i).is_some_and(|t| t.is(",")) {
            i += 1;
        } else {
            break;
        }
    }
    if parenthesised && tokens.get(i).is_some_and(|t| t.is(")")) {
        i += 1;
    }
    (names, i)
}

fn class_name(name: &str) -> String {
    name.trim_start_matches("::").to_lowercase()
}

/// The bodies of one resource expression (`title: attrs; title: attrs`), with its
/// `default:` body merged into the others.
fn resources(kind: &str, tokens: &[Token], virtual_: bool) -> Vec<Resource> {
    let mut defaults: Option<(BTreeMap<String, Value>, bool)> = None;
    let mut bodies = Vec::new();
    for part in split(tokens, ";") {
        let Some(colon) = part
            .iter()
            .enumerate()
            .position(|(i, t)| t.is(":") && depth_at(part, i) == 0)
        else {
            continue;
        };
        let (attrs, splat) = attributes(&part[colon + 1..]);
        match &part[..colon] {
            [Token::Name(d)] if d == "default" => defaults = Some((attrs, splat)),
            title => bodies.push((titles(title), attrs, splat)),
        }
    }
    bodies
        .into_iter()
        .map(|(titles, own, splat)| {
            let (mut attrs, default_splat) = defaults.clone().unwrap_or_default();
            attrs.extend(own);
            Resource {
                kind: kind.to_string(),
                titles,
                attrs,
                virtual_,
                splat: splat || default_splat,
            }
        })
        .collect()
}

fn depth_at(tokens: &[Token], at: usize) -> usize {
    let mut depth = 0usize;
    for t in &tokens[..at] {
        match t {
            Token::Punct("{" | "(" | "[") => depth += 1,
            Token::Punct("}" | ")" | "]") => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

fn titles(tokens: &[Token]) -> Option<Vec<String>> {
    match value(tokens) {
        Value::Str(s) => Some(vec![s]),
        Value::List(items) if !items.is_empty() => items
            .into_iter()
            .map(|v| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn attributes(tokens: &[Token]) -> (BTreeMap<String, Value>, bool) {
    let mut attrs = BTreeMap::new();
    let mut splat = false;
    for attr in split(tokens, ",") {
        match attr {
            [] => {}
            [Token::Punct("*"), Token::Punct("=>"), ..] => splat = true,
            [Token::Name(name), Token::Punct("=>"), rest @ ..] => {
                attrs.insert(name.clone(), value(rest));
            }
            // `+>` (append), or something unreadable: the attribute is there, its
            // value unknown.
            [Token::Name(name), ..] => {
                attrs.insert(name.clone(), Value::Other);
            }
            _ => splat = true,
        }
    }
    (attrs, splat)
}

fn value(tokens: &[Token]) -> Value {
    match tokens {
        [Token::Str {
            text,
            literal: true,
        }] => Value::Str(text.clone()),
        [Token::Name(word)] => Value::Word(word.clone()),
        [Token::Number(n)] => Value::Number(n.clone()),
        [Token::Punct("["), inner @ .., Token::Punct("]")]
            if closing(tokens, 0) == tokens.len() - 1 =>
        {
            let items: Vec<Value> = split(inner, ",")
                .into_iter()
                .filter(|item| !item.is_empty())
                .map(value)
                .collect();
            if items.contains(&Value::Other) {
                Value::Other
            } else {
                Value::List(items)
            }
        }
        _ => Value::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class<'a>(m: &'a Manifest, name: &str) -> &'a Class {
        m.classes
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no class {name} in {m:#?}"))
    }

    #[test]
    fn parameters_with_and_without_defaults() {
        let m = parse(
            r#"class web (
  String $name,                         # required
  Pattern[/\A[a-z]{1,}\z/] $site = 'x', # a regex with braces in a type
  Hash $opts = { 'a' => [1, 2] },
  Optional[String] $x = undef,
) inherits web::params { }"#,
        );
        let web = class(&m, "web");
        let params: Vec<(&str, bool)> = web
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.has_default))
            .collect();
        assert_eq!(
            params,
            [("name", false), ("site", true), ("opts", true), ("x", true)]
        );
        assert_eq!(web.parent.as_deref(), Some("web::params"));
    }

    #[test]
    fn only_unconditional_resources_count() {
        let m = parse(
            r#"class m {
  if $facts['x'] { package { 'in-if': } }
  unless $y { package { 'in-unless': } }
  case $z { 'a': { package { 'in-case': } } default: {} }
  $v = $w ? { 'a' => 'b', default => 'c' }
  ['a'].each |$n| { package { "in-lambda-${n}": } }
  package { 'top': ensure => installed }
  @package { 'virtual': }
}
define m::thing { package { 'in-define': } }"#,
        );
        let m_class = class(&m, "m");
        let titles: Vec<_> = m_class
            .body
            .resources
            .iter()
            .filter(|r| !r.virtual_)
            .map(|r| r.titles.clone().unwrap())
            .collect();
        assert_eq!(titles, [vec!["top".to_string()]]);
        assert!(m_class.body.resources.iter().any(|r| r.virtual_));
        assert!(m.top.resources.is_empty(), "{:?}", m.top);
    }

    #[test]
    fn arrays_defaults_and_literal_values() {
        let m = parse(
            r#"class m {
  package { ['a', "b"]: ensure => present, }
  file {
    default: owner => 'root', mode => '0644';
    '/etc/one': ensure => file;
    '/etc/two': ensure => file, mode => "0600", content => "${x}";
    "/etc/${x}": ensure => file;
  }
  user { 'u': groups => ['adm', 'sudo'], uid => 1500, shell => $shell }
}"#,
        );
        let r = &class(&m, "m").body.resources;
        assert_eq!(r[0].titles, Some(vec!["a".into(), "b".into()]));
        assert_eq!(r[0].attrs["ensure"], Value::Word("present".into()));
        assert_eq!(r[1].attrs["mode"], Value::Str("0644".into()));
        assert_eq!(r[1].attrs["owner"], Value::Str("root".into()));
        assert_eq!(r[2].attrs["mode"], Value::Str("0600".into()));
        assert_eq!(r[2].attrs["content"], Value::Other);
        assert_eq!(r[3].titles, None);
        assert_eq!(
            r[4].attrs["groups"],
            Value::List(vec![Value::Str("adm".into()), Value::Str("sudo".into())])
        );
        assert_eq!(r[4].attrs["uid"], Value::Number("1500".into()));
        assert_eq!(r[4].attrs["shell"], Value::Other);
    }

    #[test]
    fn includes_declarations_privacy_and_overrides() {
        let m = parse(
            r#"class m::config { assert_private() }
class m {
  include m::install, ::m::config
  contain('m::service')
  class { 'm::extra': x => 1 }
  -> file { '/x': ensure => file }
  File { mode => '0600' }
  Service['s'] { enable => false }
  Package <| tag == 'x' |>
  Exec['e'] -> User['u']
}"#,
        );
        let body = &class(&m, "m").body;
        assert_eq!(
            body.classes,
            ["m::install", "m::config", "m::service", "m::extra"]
        );
        assert!(body.resources.iter().any(|r| r.kind == "file"));
        assert!(class(&m, "m::config").body.private);
        let documented = parse(
            "# @summary x\n#\n# @api private\nclass m::install (\n) {\n  $x = \"${m::port}\"\n}\n",
        );
        let install = class(&documented, "m::install");
        assert!(install.body.private);
        assert_eq!(install.body.reads.iter().collect::<Vec<_>>(), ["m"]);
        assert_eq!(
            m.overridden.iter().collect::<Vec<_>>(),
            ["file", "package", "service"]
        );
    }

    #[test]
    fn strings_and_comments_with_braces_do_not_end_the_class() {
        let m = parse(
            r#"class m {
  $a = '}'   # }
  $b = "}${facts['a']}"
  /* } */
  package { 'after': }
}
class n { }"#,
        );
        assert_eq!(class(&m, "m").body.resources.len(), 1);
        class(&m, "n");
    }
}
