//! Text from containers (Puppet's output, engine messages) is cleaned before any reporter
//! shows it: terminal escape sequences would garble the console and, in a JUnit file, make
//! Jenkins drop the whole report (`[failed-to-read]`), as would any character XML 1.0 forbids.

/// The escape character that starts every terminal control sequence.
const ESC: char = '\u{1b}';
/// The bell character, which ends an operating-system command (`ESC ] … BEL`).
const BEL: char = '\u{7}';

/// Removes terminal escape sequences and every character that XML 1.0 does not allow,
/// and turns carriage returns into line ends.
///
/// - `ESC [ … final` (colours, cursor moves), `ESC ] … BEL` or `ESC ] … ESC \` (window
///   titles, links), `ESC P`/`X`/`^`/`_` strings up to `ESC \`, two-character escapes
///   (`ESC ( B`) and any other stray `ESC` are dropped.
/// - Control characters other than tab and line feed are dropped (also DEL and the C1 range
///   `U+0080`–`U+009F`, which terminals read as controls too), and so are `U+FFFE`/`U+FFFF`.
/// - `\r\n` becomes `\n`, and a lone `\r` (a progress line redrawn in place) becomes `\n`.
///
/// Then secrets are redacted ([`super::redact`]): every reporter shows container text
/// through here, so no report can show a secret.
pub fn clean(text: &str) -> String {
    let out = clean_codes(text);
    match super::redact::redact(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(redacted) => redacted,
    }
}

/// [`clean`] without the redaction.
fn clean_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => skip_escape(&mut chars),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\t' | '\n' => out.push(c),
            c if is_unwanted(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// True for the characters [`clean`] drops outright (line ends and tabs are handled apart).
fn is_unwanted(c: char) -> bool {
    c.is_control() || c == '\u{fffe}' || c == '\u{ffff}'
}

/// Skips the rest of an escape sequence whose `ESC` was just read.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek().copied() {
        // Control Sequence Introducer: parameters and intermediates, then one final byte.
        Some('[') => {
            chars.next();
            while chars
                .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
                .is_some()
            {}
            // The final byte; a sequence cut short by a line end or another control ends
            // without one, and the caller sees that character.
            chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
        }
        // Operating System Command: ends with BEL or with the string terminator `ESC \`.
        Some(']') => {
            chars.next();
            skip_string(chars, true);
        }
        // Device control, start of string, privacy message, application program command:
        // end with the string terminator.
        Some('P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars, false);
        }
        // nF escapes (`ESC ( B`): intermediates, then one final character.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
        }
        // Two-character escapes (`ESC 7`, `ESC M`, `ESC c`).
        Some(c) if ('\u{30}'..='\u{7e}').contains(&c) => {
            chars.next();
        }
        // A lone ESC (end of text, or followed by something that starts no sequence).
        _ => {}
    }
}

/// Skips a control string up to its terminator (`ESC \`, or BEL when `bel_ends` is set).
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, bel_ends: bool) {
    while let Some(c) = chars.next() {
        if c == BEL && bel_ends {
            return;
        }
        if c == ESC {
            chars.next_if_eq(&'\\');
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn plain_text_is_kept() {
        let text = "Notice: /Stage[main]/Motd/File[/etc/motd]/content: changed 'a' to 'b' → ok ✓";
        assert_eq!(clean(text), text);
    }

    #[test]
    fn tabs_and_line_ends_are_kept() {
        assert_eq!(clean("a\tb\nc\n"), "a\tb\nc\n");
    }

    #[test]
    fn colours_are_removed() {
        assert_eq!(
            clean("\u{1b}[0;32mNotice: Applied catalog\u{1b}[0m"),
            "Notice: Applied catalog"
        );
        assert_eq!(clean("\u{1b}[1;31mError:\u{1b}[m x"), "Error: x");
        assert_eq!(clean("\u{1b}[38;5;196mred\u{1b}[39m"), "red");
    }

    #[test]
    fn cursor_and_erase_sequences_are_removed() {
        assert_eq!(clean("a\u{1b}[2K\u{1b}[1Gb\u{1b}[?25lc"), "abc");
    }

    #[test]
    fn operating_system_commands_are_removed() {
        assert_eq!(clean("\u{1b}]0;title\u{7}text"), "text");
        assert_eq!(
            clean("\u{1b}]8;;https://example.com\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
    }

    #[test]
    fn other_escapes_are_removed() {
        assert_eq!(clean("\u{1b}(Bx\u{1b}7y\u{1b}Pq#0\u{1b}\\z"), "xyz");
    }

    #[test]
    fn stray_escape_characters_are_removed() {
        assert_eq!(clean("end\u{1b}"), "end");
        assert_eq!(clean("a\u{1b}\u{1b}[0mb"), "ab");
        assert_eq!(clean("a\u{1b}éb"), "aéb");
        assert_eq!(clean("a\u{1b}\nb"), "a\nb");
    }

    #[test]
    fn a_sequence_cut_by_a_line_end_keeps_the_line_end() {
        assert_eq!(clean("a\u{1b}[31\nb"), "a\nb");
    }

    #[test]
    fn characters_invalid_in_xml_are_removed() {
        assert_eq!(clean("a\u{0}b\u{7}c\u{8}d\u{b}e\u{c}f\u{1f}g"), "abcdefg");
        assert_eq!(clean("a\u{7f}b\u{85}c\u{9b}d"), "abcd");
        assert_eq!(clean("a\u{fffe}b\u{ffff}c"), "abc");
    }

    #[test]
    fn characters_valid_in_xml_beyond_ascii_are_kept() {
        let text = "\u{a0}\u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff}";
        assert_eq!(clean(text), text);
    }

    #[test]
    fn carriage_returns_become_line_ends() {
        assert_eq!(clean("a\r\nb\r\n"), "a\nb\n");
        assert_eq!(clean("10%\r50%\r100%"), "10%\n50%\n100%");
    }

    #[test]
    fn cdata_terminators_pass_through_unchanged() {
        // Escaping `]]>` is the XML writer's job; the text itself must not change.
        assert_eq!(clean("a]]>b"), "a]]>b");
    }
}
