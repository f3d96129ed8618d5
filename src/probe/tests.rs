//! The probe, run for real: the generated script is executed by this machine's `sh`
//! against real files, users and commands, then judged. No container is needed for the
//! script's logic; the integration tests run it in containers.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::spec::Check;

fn checks(yaml: &str) -> Vec<Check> {
    serde_yaml::from_str(yaml).unwrap()
}

/// Runs the probe for these checks with `sh`, optionally with a restricted PATH.
fn run(checks: &[Check], path: Option<&Path>) -> Vec<CheckReport> {
    run_in(checks, path, Path::new("/"))
}

fn run_in(checks: &[Check], path: Option<&Path>, cwd: &Path) -> Vec<CheckReport> {
    let script = generate(checks);
    let mut cmd = Command::new("/bin/sh");
    cmd.current_dir(cwd);
    cmd.arg("-c").arg(&script);
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    judge(checks, &output.stdout)
}

fn failures(reports: &[CheckReport]) -> Vec<Vec<String>> {
    reports.iter().map(|r| r.failures.clone()).collect()
}

#[test]
fn file_attributes_pass_and_fail_with_expected_and_actual() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.conf");
    std::fs::write(&file, "listen 8080\nserver_name example.com\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let p = file.display();
    let list = checks(&format!(
        r#"
- file: {p}
  type: file
  mode: "0640"
  owner: root
  size: 36
  contains: ["listen 8080", "/^server_name\\s+example\\.com$/", "!debug"]
  sha256: /^[0-9a-f]{{64}}$/
- file: {p}
  type: directory
  mode: 644
  owner: nobody
  contains: ["listen 9090", "!listen"]
- file: {dir}/absent
  exists: false
- file: {dir}/absent
"#,
        dir = dir.path().display()
    ));
    let got = failures(&run(&list, None));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(
        got[1],
        [
            "type: expected directory, got file",
            "mode: expected 0644, got 0640",
            "owner: expected nobody, got root",
            "contains: expected listen 9090, not found",
            "contains: expected no listen, but it is there",
        ]
    );
    assert_eq!(got[2], Vec::<String>::new());
    assert_eq!(got[3], ["exists: expected true, got false (no such file)"]);
}

#[test]
fn symlinks_and_their_targets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("target"), "x").unwrap();
    std::os::unix::fs::symlink(dir.path().join("target"), dir.path().join("link")).unwrap();
    let list = checks(&format!(
        "- file: {d}/link\n  type: symlink\n  linked_to: {d}/target\n- file: {d}/link\n  linked_to: /elsewhere\n- file: {d}/target\n  linked_to: /x\n",
        d = dir.path().display()
    ));
    let got = failures(&run(&list, None));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(
        got[1],
        [format!(
            "linked_to: expected /elsewhere, got {}/target",
            dir.path().display()
        )]
    );
    assert_eq!(got[2], ["linked_to: expected /x, got no symlink"]);
}

#[test]
fn hostile_values_are_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("pwned");
    // Run from `dir`, so a value run as code would create `dir/pwned`.
    let evil = format!(
        "{}/it's a $(touch pwned) `touch pwned`\nname; touch pwned",
        dir.path().display()
    );
    std::fs::write(&evil, "content with '\"$HOME\"' and \\ and \u{0}\n").unwrap();
    let list = vec![
        Check::File(crate::spec::check::FileCheck {
            path: evil.clone(),
            attrs: serde_yaml::from_str("contains: [\"'\\\"$HOME\\\"'\"]").unwrap(),
        }),
        Check::User(crate::spec::check::UserCheck {
            name: "x'; touch pwned; '".to_string(),
            attrs: serde_yaml::from_str("exists: false").unwrap(),
        }),
    ];
    let got = failures(&run_in(&list, None, dir.path()));
    assert_eq!(got, [Vec::<String>::new(), Vec::<String>::new()]);
    assert!(!canary.exists(), "a value was run as code");
}

#[test]
fn non_utf8_content_is_read_and_matched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bin");
    std::fs::write(&file, b"\xff\xfe head\n\n@@rehearsal 9 fake 3\nxyz tail").unwrap();
    let list = checks(&format!(
        "- file: {}\n  contains: [head, tail, '!fake 4']\n",
        file.display()
    ));
    assert_eq!(failures(&run(&list, None)), [Vec::<String>::new()]);
}

#[test]
fn users_and_groups() {
    let list = checks(
        r#"
- user: root
  uid: 0
  gid: 0
  home: /root
  groups: [root]
- user: root
  uid: 1500
  shell: /bin/false
  groups: [wheel, root, adm2]
- user: no-such-user-here
- user: no-such-user-here
  exists: false
- group: root
  gid: 0
- group: root
  gid: 7
- group: no-such-group-here
"#,
    );
    let got = failures(&run(&list, None));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(got[1][0], "uid: expected 1500, got 0");
    assert!(
        got[1][1].starts_with("shell: expected /bin/false, got /bin/"),
        "{:?}",
        got[1]
    );
    assert!(
        got[1][2].starts_with("groups: expected to include wheel, adm2, got root"),
        "{:?}",
        got[1]
    );
    assert_eq!(got[2], ["exists: expected true, got false (no such user)"]);
    assert_eq!(got[3], Vec::<String>::new());
    assert_eq!(got[4], Vec::<String>::new());
    assert_eq!(got[5], ["gid: expected 7, got 0"]);
    assert_eq!(got[6], ["exists: expected true, got false (no such group)"]);
}

#[test]
fn commands_exit_status_output_and_timeout() {
    let list = checks(
        r#"
- command: echo hello; echo oops >&2
  stdout: hello
  stderr: /oo+ps/
- command: exit 3
  exit_status: 3
- command: printf 'a\nb'
  exit_status: 1
  stdout: ["/^b$/", "!a"]
- command: sleep 10
  timeout: 1s
"#,
    );
    let got = failures(&run(&list, None));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(got[1], Vec::<String>::new());
    assert_eq!(
        got[2],
        [
            "exit_status: expected 1, got 0",
            "stdout: expected !a, got a\\nb"
        ]
    );
    assert_eq!(got[3], ["timed out after 1s"]);
}

#[test]
fn packages_through_dpkg() {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        return; // an rpm host: the container tests cover dpkg
    }
    let list = checks(
        r#"
- package: dpkg
  version: /^\d+\.\d+/
- package: dpkg
  version: "0.0"
- package: no-such-package-here
- package: no-such-package-here
  installed: false
"#,
    );
    let got = failures(&run(&list, None));
    assert_eq!(got[0], Vec::<String>::new());
    assert!(
        got[1][0].starts_with("version: expected 0.0, got 1."),
        "{:?}",
        got[1]
    );
    assert_eq!(got[2], ["installed: expected true, got false"]);
    assert_eq!(got[3], Vec::<String>::new());
}

#[test]
fn a_missing_tool_is_named_not_a_crash() {
    // A PATH with what the probe itself needs, but no getent.
    let bin = tempfile::tempdir().unwrap();
    for tool in ["mktemp", "rm", "wc", "tr", "cat", "id", "stat"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists());
        std::os::unix::fs::symlink(found.unwrap(), bin.path().join(tool)).unwrap();
    }
    let list = checks("- user: root\n- file: /etc/hostname\n");
    let got = failures(&run(&list, Some(bin.path())));
    assert_eq!(got[0], ["cannot check: getent not in the image"]);
    assert_eq!(got[1], Vec::<String>::new());
}

#[test]
fn a_check_without_an_answer_says_so() {
    let list = checks("- user: root\n");
    let reports = judge(&list, b"the probe died\n");
    assert_eq!(reports[0].status, Status::Failed);
    assert_eq!(
        reports[0].failures,
        ["cannot check: the probe gave no answer for this check"]
    );
    assert_eq!(reports[0].label, "user root");
}
