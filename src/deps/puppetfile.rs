//! An r10k `Puppetfile`, read as data: `forge`, `moduledir` and `mod` statements, whose
//! arguments are strings, symbols and a hash (`:git => URL` or `git: URL`). A Puppetfile
//! is Ruby, but the ones control repositories hold use only this much of it; anything
//! else (a variable, string interpolation, a loop) is refused at its line and column,
//! since running Ruby to read it would run whatever it says.
//!
//! `mod 'author/name', 'version'` (or `:latest`, or nothing) comes from the Forge;
//! `mod 'name', :git => URL` with `:ref`, `:tag`, `:branch` or `:commit` from git;
//! `mod 'name', :local => true` is the directory `moduledir/name` beside the Puppetfile.

use std::path::Path;

use super::fixtures_yml::{Entry, Kind};
use crate::spec::{GitSource, GitWant, SpecError};

/// One module a Puppetfile declares: the same [`Entry`] a `.fixtures.yml` gives.
pub type Module = Entry;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Symbol(String),
    /// `name:` (a hash key in Ruby's newer syntax).
    Key(String),
    Arrow,
    Comma,
    Open,
    Close,
    Newline,
}

struct Lexed {
    token: Token,
    line: usize,
    column: usize,
}

fn lex(file: &Path, source: &str) -> Result<Vec<Lexed>, SpecError> {
    let error = |line, column, message: String| SpecError {
        file: file.to_path_buf(),
        position: Some((line, column)),
        message,
    };
    let mut out = Vec::new();
    for (index, text) in source.lines().enumerate() {
        let line = index + 1;
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let column = i + 1;
            let push = |out: &mut Vec<Lexed>, token| {
                out.push(Lexed {
                    token,
                    line,
                    column,
                })
            };
            match c {
                ' ' | '\t' | '\r' => i += 1,
                '#' => break,
                ',' => {
                    push(&mut out, Token::Comma);
                    i += 1;
                }
                '(' => {
                    push(&mut out, Token::Open);
                    i += 1;
                }
                ')' => {
                    push(&mut out, Token::Close);
                    i += 1;
                }
                '=' if chars.get(i + 1) == Some(&'>') => {
                    push(&mut out, Token::Arrow);
                    i += 2;
                }
                '\'' | '"' => {
                    let mut value = String::new();
                    let mut j = i + 1;
                    loop {
                        match chars.get(j) {
                            None => return Err(error(line, column, "a string that does not end on its line".into())),
                            Some(&q) if q == c => break,
                            Some('\\') if chars.get(j + 1).is_some() => {
                                value.push(chars[j + 1]);
                                j += 2;
                            }
                            Some('#') if c == '"' && chars.get(j + 1) == Some(&'{') => {
                                return Err(error(line, j + 1, "string interpolation (`#{…}`) is Ruby rehearsal does not run: write the value out".into()))
                            }
                            Some(&other) => {
                                value.push(other);
                                j += 1;
                            }
                        }
                    }
                    push(&mut out, Token::Str(value));
                    i = j + 1;
                }
                ':' if chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') => {
                    let word: String = chars[i + 1..].iter().take_while(|n| n.is_ascii_alphanumeric() || **n == '_').collect();
                    i += 1 + word.chars().count();
                    push(&mut out, Token::Symbol(word));
                }
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let word: String = chars[i..].iter().take_while(|n| n.is_ascii_alphanumeric() || **n == '_').collect();
                    i += word.chars().count();
                    if chars.get(i) == Some(&':') && chars.get(i + 1) != Some(&':') {
                        i += 1;
                        push(&mut out, Token::Key(word));
                    } else {
                        push(&mut out, Token::Word(word));
                    }
                }
                other => {
                    return Err(error(line, column, format!("`{other}` is Ruby that a Puppetfile read as data cannot hold: only `forge`, `moduledir` and `mod` with strings, symbols and `key => value`")))
                }
            }
        }
        out.push(Lexed {
            token: Token::Newline,
            line,
            column: chars.len() + 1,
        });
    }
    Ok(out)
}

/// An argument of a statement: a value, or a `key => value` pair (at its key).
enum Arg {
    Value(Token, usize, usize),
    Pair(String, Token, usize, usize),
}

/// Reads a Puppetfile; `file` names it in errors, and `:local` modules are relative to
/// its directory.
pub fn parse(file: &Path, source: &str) -> Result<Vec<Module>, SpecError> {
    let error = |line, column, message: String| SpecError {
        file: file.to_path_buf(),
        position: Some((line, column)),
        message,
    };
    let tokens = lex(file, source)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut forge: Option<String> = None;
    let mut moduledir = "modules".to_string();
    let mut modules = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Lexed {
            token,
            line,
            column,
        } = &tokens[i];
        let (line, column) = (*line, *column);
        let Token::Word(word) = token else {
            if *token != Token::Newline {
                return Err(error(
                    line,
                    column,
                    "a statement starts with `forge`, `moduledir` or `mod`".into(),
                ));
            }
            i += 1;
            continue;
        };
        // The statement's arguments: to the end of the line, on past a trailing comma.
        i += 1;
        let paren = matches!(tokens.get(i).map(|t| &t.token), Some(Token::Open));
        if paren {
            i += 1;
        }
        let mut args = Vec::new();
        loop {
            while paren && matches!(tokens.get(i).map(|t| &t.token), Some(Token::Newline)) {
                i += 1;
            }
            let Some(t) = tokens.get(i) else { break };
            // `key: value` (one token before the value) or `key => value` (two).
            let arrow = matches!(tokens.get(i + 1).map(|t| &t.token), Some(Token::Arrow));
            let pair = match &t.token {
                Token::Key(key) => Some((key, 1, ":")),
                Token::Symbol(key) | Token::Str(key) if arrow => Some((key, 2, " =>")),
                _ => None,
            };
            if let Some((key, skip, sep)) = pair {
                let value = tokens
                    .get(i + skip)
                    .ok_or_else(|| error(t.line, t.column, format!("`{key}{sep}` has no value")))?;
                args.push(Arg::Pair(
                    key.clone(),
                    value.token.clone(),
                    t.line,
                    t.column,
                ));
                i += skip + 1;
            } else {
                match &t.token {
                    Token::Newline if !paren => break,
                    Token::Close if paren => {
                        i += 1;
                        break;
                    }
                    Token::Str(_) | Token::Symbol(_) | Token::Word(_) => {
                        args.push(Arg::Value(t.token.clone(), t.line, t.column));
                        i += 1;
                    }
                    _ => {
                        return Err(error(
                            t.line,
                            t.column,
                            format!(
                            "unexpected here in `{word}`: write `{word} 'value', key => 'value'`"
                        ),
                        ))
                    }
                }
            }
            match tokens.get(i).map(|t| &t.token) {
                Some(Token::Comma) => {
                    i += 1;
                    // A trailing comma continues the statement on the next line.
                    while matches!(tokens.get(i).map(|t| &t.token), Some(Token::Newline)) {
                        i += 1;
                    }
                }
                Some(Token::Newline) | Some(Token::Close) | None => {}
                Some(_) => {
                    let t = &tokens[i];
                    return Err(error(
                        t.line,
                        t.column,
                        "a comma is missing between arguments".into(),
                    ));
                }
            }
        }
        let text = |token: &Token| match token {
            Token::Str(s) | Token::Symbol(s) => Some(s.clone()),
            _ => None,
        };
        match word.as_str() {
            "forge" | "moduledir" => {
                let value = match args.as_slice() {
                    [Arg::Value(v, ..)] => text(v),
                    _ => None,
                }
                .ok_or_else(|| error(line, column, format!("`{word}` takes one string: `{word} '…'`")))?;
                if word == "forge" {
                    forge = Some(value);
                } else {
                    moduledir = value;
                }
            }
            "mod" => modules.push(module(&args, line, column, base, &moduledir, &forge, &error)?),
            other => {
                return Err(error(
                    line,
                    column,
                    format!("`{other}` is not a Puppetfile statement rehearsal reads: `forge`, `moduledir` and `mod` are"),
                ))
            }
        }
    }
    Ok(modules)
}

fn module(
    args: &[Arg],
    line: usize,
    column: usize,
    base: &Path,
    moduledir: &str,
    forge: &Option<String>,
    error: &dyn Fn(usize, usize, String) -> SpecError,
) -> Result<Module, SpecError> {
    let Some(Arg::Value(Token::Str(full), ..)) = args.first() else {
        return Err(error(
            line,
            column,
            "`mod` takes the module's name first: `mod 'author/name'`".into(),
        ));
    };
    let name = full.rsplit(['/', '-']).next().unwrap_or(full).to_string();
    let mut version: Option<String> = None;
    let mut options: Vec<(&str, String, usize, usize)> = Vec::new();
    for arg in &args[1..] {
        match arg {
            Arg::Value(Token::Str(v), ..) => version = Some(v.clone()),
            Arg::Value(Token::Symbol(s), ..) if s == "latest" => version = None,
            Arg::Value(_, l, c) => {
                return Err(error(
                    *l,
                    *c,
                    format!("`mod '{full}'`: a version is a string ('1.2.3') or :latest"),
                ))
            }
            Arg::Pair(key, value, l, c) => {
                let value = match value {
                    Token::Str(s) | Token::Symbol(s) => s.clone(),
                    Token::Word(w) if w == "true" || w == "false" => w.clone(),
                    _ => {
                        return Err(error(
                            *l,
                            *c,
                            format!("`{key}` of `mod '{full}'` is a string"),
                        ))
                    }
                };
                options.push((key.as_str(), value, *l, *c));
            }
        }
    }
    let get = |key: &str| options.iter().find(|(k, ..)| *k == key);
    for (key, _, l, c) in &options {
        if !matches!(
            *key,
            "git"
                | "ref"
                | "tag"
                | "branch"
                | "commit"
                | "local"
                | "install_path"
                | "default_branch"
        ) {
            return Err(error(*l, *c, format!("`mod '{full}'`: rehearsal does not read `:{key}` (it reads :git with :ref, :tag, :branch or :commit, and :local)")));
        }
    }
    if let Some((_, value, ..)) = get("local") {
        if value == "true" {
            let dir = base.join(moduledir).join(&name);
            let path = dir.canonicalize().map_err(|_| {
                error(
                    line,
                    column,
                    format!(
                        "`mod '{full}', :local => true`: {} does not exist",
                        dir.display()
                    ),
                )
            })?;
            return Ok(Module {
                name,
                kind: Kind::Local(path),
                line,
            });
        }
    }
    if let Some((_, url, l, c)) = get("git") {
        let wants: Vec<(&str, String)> = ["ref", "tag", "commit", "branch"]
            .iter()
            .filter_map(|k| get(k).map(|(key, v, ..)| (*key, v.clone())))
            .collect();
        let mut want = GitWant::from_keys(&wants)
            .map_err(|m| error(line, column, format!("`mod '{full}'`: {m}")))?;
        if want == GitWant::DefaultBranch {
            if let Some((_, branch, ..)) = get("default_branch") {
                want = GitWant::Branch(branch.clone());
            }
        }
        let url = crate::spec::raw::local_url_from(base, url)
            .map_err(|m| error(*l, *c, format!("`mod '{full}'`: {m}")))?;
        return Ok(Module {
            name,
            kind: Kind::Git(GitSource {
                url,
                want,
                subdir: None,
            }),
            line,
        });
    }
    if let Some((key, _, l, c)) = options
        .iter()
        .find(|(k, ..)| matches!(*k, "ref" | "tag" | "branch" | "commit"))
    {
        return Err(error(
            *l,
            *c,
            format!("`mod '{full}'`: `:{key}` needs `:git`"),
        ));
    }
    let slug = full.replace('-', "/");
    if slug.split('/').count() != 2 {
        return Err(error(line, column, format!("`mod '{full}'`: a Forge module is named `author/name` (or give it `:git` or `:local`)")));
    }
    Ok(Module {
        name,
        kind: Kind::Forge {
            slug,
            version,
            forge: forge.clone(),
        },
        line,
    })
}

#[cfg(test)]
mod tests;
