//! Where Puppet says an error is. An apply's output is read once, here, where it is
//! produced (the runner's failed apply, a snapshot layer's), and each `Error:` that names
//! a file and line becomes a [`PuppetError`]; the reports and the review take the place
//! from its fields and never read Puppet's text again.
//!
//! The shapes Puppet 5.5, 7 and 8 print (the tests hold real messages of each):
//! - `(file: F, line: L, column: C)` and `(file: F, line: L)`: evaluation and parse errors,
//!   failed resources (these end without ` on node …`);
//! - `at F:L:C` and `at F:L`: older parse errors (Puppet 4 and early 5);
//! - an ERB template's `Filepath: F` and `Line: L` on the lines under the `Error:`.
//!
//! An error that names only a line (`(line: L)`, code given with `-e`) is not placed: no
//! file of the change can be named. When an error names several places (an EPP template's
//! error inside its `epp()` call, a duplicate declaration and the first one), the first
//! is taken: it is the template's line, or the resource Puppet names first.

use std::sync::OnceLock;

use regex::Regex;

use crate::outcome::PuppetError;

/// The errors of an apply's output that name their place, in order, each once.
///
/// An error is its `Error:` line and the lines that continue it (a template error's
/// `Filepath:`, `Line:`, `Detail:` and the call's place under them), up to the next line
/// Puppet logs.
pub fn located(output: &str) -> Vec<PuppetError> {
    let mut found: Vec<PuppetError> = Vec::new();
    for text in errors(output) {
        let Some((file, line, column)) = place(&text) else {
            continue;
        };
        let error = PuppetError {
            file,
            line: line.max(1),
            column,
            message: without_node(&text),
        };
        if !found.contains(&error) {
            found.push(error);
        }
    }
    found
}

/// Each error's text: the `Error:` line and its continuation lines, joined.
fn errors(output: &str) -> Vec<String> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    for line in output.lines() {
        let line = line.trim_end();
        if line.starts_with("Error: ") || line.starts_with("Error ") {
            out.push(vec![line]);
            open = true;
        } else if open && !logged(line) {
            if let Some(error) = out.last_mut() {
                error.push(line);
            }
        } else {
            open = false;
        }
    }
    out.into_iter().map(|lines| lines.join("\n")).collect()
}

/// A line Puppet logs on its own (`Notice: …`, `Warning: …`), which ends an error; so
/// does a blank line, and the `Wrapped exception:` Puppet adds after a failed resource.
fn logged(line: &str) -> bool {
    static LEVEL: OnceLock<Regex> = OnceLock::new();
    let level = LEVEL.get_or_init(|| {
        Regex::new(
            r"^(?:Debug|Info|Notice|Warning|Error|Critical|Alert|Emergency|Wrapped exception):",
        )
        .unwrap()
    });
    line.is_empty() || level.is_match(line)
}

/// The first place an error's text names: file, line, column.
fn place(text: &str) -> Option<(String, u32, Option<u32>)> {
    static PAREN: OnceLock<Regex> = OnceLock::new();
    static AT: OnceLock<Regex> = OnceLock::new();
    static TEMPLATE: OnceLock<Regex> = OnceLock::new();
    let paren = PAREN.get_or_init(|| {
        Regex::new(r"\(file: ([^,()\n]+), line: (\d+)(?:, column: (\d+))?\)").unwrap()
    });
    let at = AT.get_or_init(|| {
        Regex::new(r"\bat ((?:[A-Za-z]:)?[^\s:()]+\.(?:pp|epp|erb)):(\d+)(?::(\d+))?\b").unwrap()
    });
    let template = TEMPLATE
        .get_or_init(|| Regex::new(r"(?m)^[ \t]+Filepath: (\S+)\n[ \t]+Line: (\d+)$").unwrap());
    [paren, at, template]
        .into_iter()
        .filter_map(|re| re.captures(text))
        .min_by_key(|caps| caps.get(0).map(|m| m.start()))
        .and_then(|caps| {
            let line = caps[2].parse().ok()?;
            let column = caps
                .get(3)
                .and_then(|c| c.as_str().parse().ok())
                .filter(|c| *c > 0);
            Some((caps[1].trim().to_string(), line, column))
        })
}

/// `… on node web-debian12` names the platform's host: dropped from every line, so that
/// one error on three platforms reads the same.
fn without_node(text: &str) -> String {
    static NODE: OnceLock<Regex> = OnceLock::new();
    let node = NODE.get_or_init(|| Regex::new(r"(?m)\s+on node \S+\s*$").unwrap());
    node.replace_all(text, "").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(output: &str) -> Vec<(String, u32, Option<u32>)> {
        located(output)
            .into_iter()
            .map(|e| (e.file, e.line, e.column))
            .collect()
    }

    fn at(file: &str, line: u32, column: Option<u32>) -> (String, u32, Option<u32>) {
        (file.to_string(), line, column)
    }

    /// The shapes the review has always read, as its tests wrote them.
    #[test]
    fn puppet_errors_name_their_file_and_line_in_every_version() {
        let message = "puppet apply failed (exit 1):
Error: Could not parse for environment production: Syntax error at '}' (file: modules/m/manifests/a.pp, line: 5, column: 3) on node m-debian12
Error: Evaluation Error: Error while evaluating a Resource Statement, Unknown resource type: 'fil' (file: /etc/rehearsal/case/site.pp, line: 2, column: 1) on node m-debian13
Error: Could not parse for environment production: Syntax error at '}' at /srv/ci/modules/m/manifests/init.pp:3:5 on node m-debian11
Error: Evaluation Error: Unknown variable: '$x'. (file: modules/m/templates/motd.epp, line: 7) on node h
Error: Try 'puppet help apply' for usage";
        let found = located(message);
        let places: Vec<(&str, u32)> = found.iter().map(|e| (e.file.as_str(), e.line)).collect();
        assert_eq!(
            places,
            [
                ("modules/m/manifests/a.pp", 5),
                ("/etc/rehearsal/case/site.pp", 2),
                ("/srv/ci/modules/m/manifests/init.pp", 3),
                ("modules/m/templates/motd.epp", 7),
            ]
        );
        assert!(found.iter().all(|e| !e.message.contains("on node")));
        assert!(found[0]
            .message
            .ends_with("(file: modules/m/manifests/a.pp, line: 5, column: 3)"));
        assert_eq!(
            found.iter().map(|e| e.column).collect::<Vec<_>>(),
            [Some(3), Some(1), Some(5), None]
        );
    }

    /// Puppet 5.5.22 (Debian 11), 7.23 (Debian 12) and 8.10 (Debian 13) print these
    /// alike, but for the `Did you mean?` Ruby 2.7 adds under a template's error.
    #[test]
    fn real_messages_of_puppet_5_7_and_8() {
        let syntax = "Error: Syntax error at '}' (file: /etc/rehearsal/modules/m/manifests/syntax.pp, line: 5, column: 3) on node m-x\n";
        assert_eq!(
            places(syntax),
            [at(
                "/etc/rehearsal/modules/m/manifests/syntax.pp",
                5,
                Some(3)
            )]
        );
        assert_eq!(
            located(syntax)[0].message,
            "Error: Syntax error at '}' (file: /etc/rehearsal/modules/m/manifests/syntax.pp, line: 5, column: 3)"
        );

        let main = "Error: Could not parse for environment production: Syntax error at '}' (file: /etc/rehearsal/case/site.pp, line: 5, column: 1) on node m-x\n";
        assert_eq!(
            places(main),
            [at("/etc/rehearsal/case/site.pp", 5, Some(1))]
        );

        let typed = "Notice: Compiled catalog\nError: Evaluation Error: Error while evaluating a Resource Statement, Class[M::Typed]: parameter 'port' expects an Integer value, got String (file: /etc/rehearsal/case/site.pp, line: 1, column: 1) on node m-x\n";
        assert_eq!(
            places(typed),
            [at("/etc/rehearsal/case/site.pp", 1, Some(1))]
        );

        // A failed resource: no column, no node; Puppet says it twice and once more with
        // the resource, and adds the wrapped exception.
        let resource = "\
Notice: Compiled catalog for m-x in environment production in 0.02 seconds
Error: Could not set 'file' on ensure: No such file or directory @ rb_sysopen - /nonexistent/dir/x (file: /etc/rehearsal/modules/m/manifests/res.pp, line: 2)
Error: Could not set 'file' on ensure: No such file or directory @ rb_sysopen - /nonexistent/dir/x (file: /etc/rehearsal/modules/m/manifests/res.pp, line: 2)
Wrapped exception:
No such file or directory @ rb_sysopen - /nonexistent/dir/x
Error: /Stage[main]/M::Res/File[/nonexistent/dir/x]/ensure: change from 'absent' to 'file' failed: Could not set 'file' on ensure: No such file or directory @ rb_sysopen - /nonexistent/dir/x (file: /etc/rehearsal/modules/m/manifests/res.pp, line: 2)
Notice: Applied catalog in 0.01 seconds
";
        let found = located(resource);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|e| (e.file.as_str(), e.line, e.column)
            == ("/etc/rehearsal/modules/m/manifests/res.pp", 2, None)));
        assert!(!found[0].message.contains("Wrapped"));
        assert!(found[1]
            .message
            .starts_with("Error: /Stage[main]/M::Res/File"));

        // An EPP template's error inside the call: the template's place comes first.
        let epp = "Error: Evaluation Error: Error while evaluating a Function Call, epp(): Invalid EPP: This Name has no effect. A value was produced and then forgotten (one or more preceding expressions may have the wrong form) (file: /etc/rehearsal/modules/m/templates/motd.epp, line: 3, column: 4) (file: /etc/rehearsal/modules/m/manifests/epp.pp, line: 3, column: 16) on node m-x\n";
        assert_eq!(
            places(epp),
            [at(
                "/etc/rehearsal/modules/m/templates/motd.epp",
                3,
                Some(4)
            )]
        );

        let duplicate = "Error: Evaluation Error: Error while evaluating a Resource Statement, Duplicate declaration: Notify[a] is already declared at (file: /etc/rehearsal/case/site.pp, line: 1); cannot redeclare (file: /etc/rehearsal/case/site.pp, line: 2) (file: /etc/rehearsal/case/site.pp, line: 2, column: 1) on node m-x\n";
        assert_eq!(
            places(duplicate),
            [at("/etc/rehearsal/case/site.pp", 1, None)]
        );

        let undefined = "Error: Evaluation Error: Unknown variable: 'undefined_var'. (file: /etc/rehearsal/case/site.pp, line: 1, column: 8) on node m-x\n";
        assert_eq!(
            places(undefined),
            [at("/etc/rehearsal/case/site.pp", 1, Some(8))]
        );
    }

    /// An ERB template's error spans lines; its place is the template's line.
    #[test]
    fn a_template_error_is_at_the_templates_line_with_all_its_lines() {
        for (version, did_you_mean) in [("5.5", "Did you mean?  case\n"), ("8", "")] {
            let output = format!(
                "Warning: /etc/puppet/hiera.yaml: Use of 'hiera.yaml' version 3 is deprecated.\n   (file: /etc/puppet/hiera.yaml)\n\
                 Error: Evaluation Error: Error while evaluating a Function Call, Failed to parse template m/motd.erb:\n  \
                 Filepath: /etc/rehearsal/modules/m/templates/motd.erb\n  Line: 2\n  Detail: undefined method `upcase' for nil:NilClass\n\
                 {did_you_mean} (file: /etc/rehearsal/modules/m/manifests/tmpl.pp, line: 3, column: 16) on node m-x\n"
            );
            let found = located(&output);
            assert_eq!(found.len(), 1, "{version}: {found:#?}");
            assert_eq!(
                (found[0].file.as_str(), found[0].line, found[0].column),
                ("/etc/rehearsal/modules/m/templates/motd.erb", 2, None),
                "{version}"
            );
            assert!(found[0].message.starts_with(
                "Error: Evaluation Error: Error while evaluating a Function Call, Failed to parse template m/motd.erb:\n  Filepath: "
            ));
            assert!(found[0].message.ends_with(
                "\n (file: /etc/rehearsal/modules/m/manifests/tmpl.pp, line: 3, column: 16)"
            ));
        }
    }

    #[test]
    fn errors_without_a_file_are_not_placed() {
        for output in [
            "Error: Function lookup() did not find a value for the name 'nope::key'\n",
            "Error: '/bin/false' returned 1 instead of one of [0]\n",
            "Error: Evaluation Error: Unknown variable: 'x'. (line: 1, column: 9) on node m-x\n",
            "Error: Could not parse for environment production: Syntax error at end of input at line 3:1 on node m-x\n",
            // A place in a warning is not an error's.
            "Warning: Unknown variable: 'x'. (file: /etc/rehearsal/case/site.pp, line: 1, column: 8)\n",
            "Notice: Applied catalog in 0.01 seconds\n",
        ] {
            assert!(located(output).is_empty(), "{output}");
        }
    }
}
