//! A small tokenizer for the Puppet language: enough to find where classes, resources and
//! blocks begin and end. Comments, strings (with interpolation), heredocs and regexes are
//! consumed whole, so a brace inside any of them never counts as a block's brace.

/// One token of Puppet code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare word: a keyword, a name (`motd::config`), `true`, `present`…
    Name(String),
    /// A capitalised type reference: `File`, `Motd::Config`.
    Type(String),
    /// `$name`, `$::name`, `$mod::name`.
    Variable(String),
    /// A string; `literal` is false when it interpolates anything (its text is then
    /// the raw source and must not be trusted).
    Str {
        text: String,
        literal: bool,
    },
    /// A heredoc; never taken as a literal.
    Heredoc,
    Number(String),
    Regex,
    /// Punctuation and operators: `{`, `}`, `=>`, `->`, `<|`, `,`…
    Punct(&'static str),
}

impl Token {
    pub fn is(&self, punct: &str) -> bool {
        matches!(self, Token::Punct(p) if *p == punct)
    }

    pub fn is_name(&self, name: &str) -> bool {
        matches!(self, Token::Name(n) if n == name)
    }
}

/// Operators of more than one character, longest first.
const MULTI: &[&str] = &[
    "<<|", "|>>", "=>", "+>", "->", "~>", "<-", "<~", "<|", "|>", "==", "!=", "=~", "!~", "<=",
    ">=", "<<", ">>", "@@",
];
const SINGLE: &[&str] = &[
    "{", "}", "(", ")", "[", "]", ",", ";", ":", "=", "?", "|", "@", "!", "+", "-", "*", "/", "%",
    "<", ">", ".", "~",
];

/// Splits Puppet source into tokens. Never fails: what it cannot read (an unterminated
/// string, a stray byte) ends the token stream or is skipped, and the callers only ever
/// draw conservative conclusions.
pub fn tokenize(source: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        chars: source.chars().collect(),
        pos: 0,
        heredocs: Vec::new(),
        interpolated: Vec::new(),
    };
    let mut tokens = Vec::new();
    lexer.run(&mut tokens, false);
    tokens
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    /// End tags of heredocs whose text starts on the next line.
    heredocs: Vec<String>,
    /// Variables read by the string being lexed.
    interpolated: Vec<String>,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn starts_with(&self, text: &str) -> bool {
        text.chars()
            .enumerate()
            .all(|(i, c)| self.peek(i) == Some(c))
    }

    /// Tokens until the end, or (inside `${…}`) until the brace that closes it.
    fn run(&mut self, tokens: &mut Vec<Token>, interpolation: bool) {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            match c {
                '\n' => {
                    self.pos += 1;
                    self.skip_heredoc_bodies();
                }
                c if c.is_whitespace() => self.pos += 1,
                '#' => self.skip_line(),
                '/' if self.peek(1) == Some('*') => self.skip_block_comment(),
                '\'' => {
                    let text = self.single_quoted();
                    tokens.push(Token::Str {
                        text,
                        literal: true,
                    });
                }
                '"' => {
                    let (text, literal) = self.double_quoted();
                    tokens.push(Token::Str { text, literal });
                    // The variables it reads follow it, so readers of variables see them.
                    tokens.extend(self.interpolated.drain(..).map(Token::Variable));
                }
                '@' if self.peek(1) == Some('(') => {
                    self.heredoc_start();
                    tokens.push(Token::Heredoc);
                }
                '/' if regex_may_start(tokens.last()) && self.regex() => tokens.push(Token::Regex),
                '$' => {
                    self.pos += 1;
                    let name = self.word();
                    tokens.push(Token::Variable(name));
                }
                c if c.is_ascii_digit() => {
                    let start = self.pos;
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
                    {
                        self.pos += 1;
                    }
                    tokens.push(Token::Number(self.chars[start..self.pos].iter().collect()));
                }
                c if c.is_ascii_alphabetic()
                    || c == '_'
                    || (c == ':' && self.peek(1) == Some(':')) =>
                {
                    let word = self.word();
                    let bare = word.trim_start_matches("::");
                    if bare.starts_with(|c: char| c.is_ascii_uppercase()) {
                        tokens.push(Token::Type(word));
                    } else {
                        tokens.push(Token::Name(word));
                    }
                }
                _ => {
                    if let Some(op) = MULTI.iter().find(|op| self.starts_with(op)) {
                        self.pos += op.chars().count();
                        tokens.push(Token::Punct(op));
                    } else if let Some(op) = SINGLE.iter().find(|op| self.starts_with(op)) {
                        self.pos += 1;
                        if interpolation {
                            if *op == "{" {
                                depth += 1;
                            } else if *op == "}" {
                                if depth == 0 {
                                    return;
                                }
                                depth -= 1;
                            }
                        }
                        tokens.push(Token::Punct(op));
                    } else {
                        self.pos += 1;
                    }
                }
            }
        }
    }

    /// A name with its `::` segments (`::motd::config`, `$facts`).
    fn word(&mut self) -> String {
        let start = self.pos;
        loop {
            if self.peek(0) == Some(':') && self.peek(1) == Some(':') {
                self.pos += 2;
            } else if self
                .peek(0)
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn skip_line(&mut self) {
        while self.peek(0).is_some_and(|c| c != '\n') {
            self.pos += 1;
        }
    }

    fn skip_block_comment(&mut self) {
        self.pos += 2;
        while self.peek(0).is_some() && !self.starts_with("*/") {
            if self.peek(0) == Some('\n') {
                self.pos += 1;
                self.skip_heredoc_bodies();
            } else {
                self.pos += 1;
            }
        }
        self.pos += 2;
    }

    /// `'…'`: only `\\` and `\'` are escapes.
    fn single_quoted(&mut self) -> String {
        self.pos += 1;
        let mut text = String::new();
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '\'' => break,
                '\\' if matches!(self.peek(0), Some('\\') | Some('\'')) => {
                    text.push(self.peek(0).unwrap_or('\\'));
                    self.pos += 1;
                }
                c => text.push(c),
            }
        }
        text
    }

    /// `"…"`: escapes, `$var` and `${expr}`; literal only when nothing is interpolated
    /// and no escape other than `\"`, `\\` and `\$` is used.
    fn double_quoted(&mut self) -> (String, bool) {
        self.pos += 1;
        let mut text = String::new();
        let mut literal = true;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '"' => break,
                '\\' => {
                    let next = self.peek(0);
                    self.pos += 1;
                    match next {
                        Some(e @ ('"' | '\\' | '$')) => text.push(e),
                        Some(e) => {
                            literal = false;
                            text.push('\\');
                            text.push(e);
                        }
                        None => break,
                    }
                }
                '$' if self.peek(0) == Some('{') => {
                    literal = false;
                    self.pos += 1;
                    // The expression inside, with its own strings and braces.
                    let mut inner = Vec::new();
                    self.run(&mut inner, true);
                    self.interpolated
                        .extend(inner.into_iter().filter_map(|t| match t {
                            Token::Variable(v) => Some(v),
                            // `${name}` is the variable `name`.
                            Token::Name(v) => Some(v),
                            _ => None,
                        }));
                }
                '$' if self
                    .peek(0)
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':') =>
                {
                    literal = false;
                    let name = self.word();
                    self.interpolated.push(name);
                }
                c => text.push(c),
            }
        }
        (text, literal)
    }

    /// `@(TAG)`, `@("TAG":syntax/flags)`: the text follows from the next line up to a
    /// line holding `|- TAG` or `TAG`.
    fn heredoc_start(&mut self) {
        self.pos += 2;
        let start = self.pos;
        while self.peek(0).is_some_and(|c| c != ')' && c != '\n') {
            self.pos += 1;
        }
        let spec: String = self.chars[start..self.pos].iter().collect();
        if self.peek(0) == Some(')') {
            self.pos += 1;
        }
        let tag = spec
            .split([':', '/'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .to_string();
        self.heredocs.push(tag);
    }

    fn skip_heredoc_bodies(&mut self) {
        for tag in std::mem::take(&mut self.heredocs) {
            loop {
                let start = self.pos;
                self.skip_line();
                let line: String = self.chars[start..self.pos].iter().collect();
                if self.peek(0).is_some() {
                    self.pos += 1;
                }
                let end = line
                    .trim()
                    .trim_start_matches('|')
                    .trim_start()
                    .trim_start_matches('-')
                    .trim();
                if end == tag || self.peek(0).is_none() {
                    break;
                }
            }
        }
    }

    /// A `/regex/` on one line; false (nothing consumed) when there is none.
    fn regex(&mut self) -> bool {
        let mut i = 1;
        loop {
            match self.peek(i) {
                None | Some('\n') => return false,
                Some('\\') => i += 2,
                Some('/') => {
                    self.pos += i + 1;
                    return true;
                }
                Some(_) => i += 1,
            }
        }
    }
}

/// After a value, `/` divides; anywhere else it starts a regex.
fn regex_may_start(previous: Option<&Token>) -> bool {
    !matches!(
        previous,
        Some(Token::Number(_) | Token::Variable(_) | Token::Punct(")") | Token::Punct("]"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn puncts(tokens: &[Token]) -> String {
        tokens
            .iter()
            .filter_map(|t| match t {
                Token::Punct(p) => Some(*p),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn braces_in_comments_strings_regexes_and_heredocs_are_not_braces() {
        let source = r#"
# a comment with { a brace
/* a block { comment */
$a = '{ single }'
$b = "{ double ${facts['os']['name']} }"
$c = $x =~ /\{re}/
$d = @("EOT"/L)
  text with { braces }
  | EOT
$e = 4 / 2
"#;
        let tokens = tokenize(source);
        assert_eq!(puncts(&tokens), "= = = =~ = = /");
        assert!(tokens.contains(&Token::Variable("facts".into())));
        assert!(tokens.contains(&Token::Str {
            text: "{ single }".into(),
            literal: true
        }));
        assert!(tokens
            .iter()
            .any(|t| matches!(t, Token::Str { literal: false, .. })));
        assert!(tokens.contains(&Token::Regex));
        assert!(tokens.contains(&Token::Heredoc));
    }

    #[test]
    fn code_after_a_heredoc_start_on_the_same_line_is_read() {
        let tokens = tokenize("f(@(END), 'x')\nbody }\nEND\n}");
        assert_eq!(puncts(&tokens), "( , ) }");
    }

    #[test]
    fn escapes_and_names() {
        let tokens = tokenize(r#"'it\'s' "a \$b" "tab\t" ::motd::config File $::os"#);
        assert_eq!(
            tokens,
            vec![
                Token::Str {
                    text: "it's".into(),
                    literal: true
                },
                Token::Str {
                    text: "a $b".into(),
                    literal: true
                },
                Token::Str {
                    text: "tab\\t".into(),
                    literal: false
                },
                Token::Name("::motd::config".into()),
                Token::Type("File".into()),
                Token::Variable("::os".into()),
            ]
        );
    }

    #[test]
    fn chaining_arrows_after_names() {
        let tokens = tokenize("Package['a']->Service['a'] ~> b");
        assert_eq!(puncts(&tokens), "[ ] -> [ ] ~>");
    }
}
