//! The probe, run for real: the generated script is executed by this machine's `sh`
//! against real files, users and commands, then judged. No container is needed for the
//! script's logic; the integration tests run it in containers.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::spec::check::Assertion;
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

/// Each check's failures as people read them.
fn failures(reports: &[CheckReport]) -> Vec<Vec<String>> {
    reports
        .iter()
        .map(|r| r.failures.iter().map(ToString::to_string).collect())
        .collect()
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

/// What the HTML table and the JSON report show comes from these fields, not from the line.
#[test]
fn a_mismatch_carries_its_attribute_expected_and_actual_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.conf");
    std::fs::write(&file, "listen 8080\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let list = checks(&format!(
        "- file: {}\n  mode: \"0644\"\n  contains: [\"listen 9090\", \"!listen\"]\n",
        file.display()
    ));
    let got = run(&list, None);
    assert_eq!(
        got[0].failures,
        [
            CheckFailure::Mismatch(crate::outcome::Mismatch {
                attribute: "mode".into(),
                expected: "0644".into(),
                actual: "0600".into(),
            }),
            CheckFailure::Contains {
                attribute: "contains".into(),
                expected: "listen 9090".into(),
                present: false,
            },
            CheckFailure::Contains {
                attribute: "contains".into(),
                expected: "listen".into(),
                present: true,
            },
        ]
    );
    let missing = judge(&list, b"");
    assert_eq!(
        missing[0].failures,
        [CheckFailure::cannot_check(
            "the probe gave no answer for this check"
        )]
    );
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
        Check::from(Assertion::File(crate::spec::check::FileCheck {
            path: evil.clone(),
            attrs: serde_yaml::from_str("contains: [\"'\\\"$HOME\\\"'\"]").unwrap(),
        })),
        Check::from(Assertion::User(crate::spec::check::UserCheck {
            name: "x'; touch pwned; '".to_string(),
            attrs: serde_yaml::from_str("exists: false").unwrap(),
        })),
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
    let bin = path_with(&["id", "stat"]);
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
        failures(&reports)[0],
        ["cannot check: the probe gave no answer for this check"]
    );
    assert_eq!(reports[0].label, "user root");
}

/// Runs the probe's checks on this machine with the real `run` (retries included).
struct Host;

impl crate::backend::Backend for Host {
    fn info(&self) -> crate::backend::EngineInfo {
        crate::backend::EngineInfo::test()
    }
    async fn start(&self, _: &crate::backend::ContainerConfig) -> crate::backend::Result<String> {
        unreachable!("the probe never starts containers")
    }
    async fn exec(
        &self,
        _: &str,
        cmd: &[&str],
    ) -> crate::backend::Result<crate::backend::ExecOutput> {
        let out = tokio::process::Command::new(cmd[0])
            .args(&cmd[1..])
            .output()
            .await
            .unwrap();
        Ok(crate::backend::ExecOutput {
            exit_code: out.status.code().unwrap_or(-1) as i64,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
    async fn remove(&self, _: &str) -> crate::backend::Result<()> {
        unreachable!()
    }
    async fn containers_labelled(&self, _: &[(&str, &str)]) -> crate::backend::Result<Vec<String>> {
        unreachable!()
    }
    async fn image(&self, _: &str) -> crate::backend::Result<Option<crate::backend::ImageInfo>> {
        unreachable!()
    }
    async fn container(
        &self,
        _: &str,
    ) -> crate::backend::Result<Option<crate::backend::ContainerInfo>> {
        unreachable!()
    }
    async fn commit(
        &self,
        _: &str,
        _: &str,
        _: std::collections::HashMap<String, String>,
    ) -> crate::backend::Result<()> {
        unreachable!()
    }
    async fn images_labelled(
        &self,
        _: &[(&str, &str)],
        _: bool,
    ) -> crate::backend::Result<Vec<crate::backend::ImageSummary>> {
        unreachable!()
    }
    async fn remove_image(&self, _: &str) -> crate::backend::Result<()> {
        unreachable!()
    }
    async fn import_rootfs(
        &self,
        _: crate::backend::ByteStream,
        _: &str,
        _: &crate::backend::ImageMeta,
    ) -> crate::backend::Result<()> {
        unreachable!()
    }
    async fn build_image(
        &self,
        _: crate::backend::ByteStream,
        _: &str,
        _: std::collections::HashMap<String, String>,
        _: &(dyn Fn(&str) + Send + Sync),
    ) -> crate::backend::Result<()> {
        unreachable!()
    }
}

fn run_with_retries(checks: &[Check]) -> Vec<CheckReport> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(super::run(&Host, "host", checks, Duration::from_secs(60)))
        .unwrap()
        .reports
}

#[test]
fn retry_reruns_only_the_failing_checks_until_they_pass_or_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let later = dir.path().join("later");
    let counter = dir.path().join("runs");
    let list = checks(&format!(
        r#"
- file: {later}
  retry: {{ timeout: 20s, interval: 100ms }}
- command: echo x >> {counter}
- file: {dir}/never
  retry: {{ timeout: 600ms, interval: 200ms }}
"#,
        later = later.display(),
        counter = counter.display(),
        dir = dir.path().display()
    ));
    let writer = {
        let later = later.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            std::fs::write(later, "up").unwrap();
        })
    };
    let got = run_with_retries(&list);
    writer.join().unwrap();
    assert_eq!(got[0].status, Status::Passed, "{:?}", got[0]);
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap(),
        "x\n",
        "a passing check without retry runs once"
    );
    let lines = &failures(&got)[2];
    assert_eq!(lines[0], "exists: expected true, got false (no such file)");
    assert!(
        lines[1].starts_with("still failing after 600ms (")
            && lines[1].ends_with("tries, every 200ms)"),
        "{lines:?}"
    );
    // The note is data too: how long, how many tries, how often.
    match &got[2].failures[1] {
        CheckFailure::StillFailing {
            after,
            tries,
            every,
        } => {
            assert_eq!(*after, Duration::from_millis(600));
            assert_eq!(*every, Duration::from_millis(200));
            assert!(*tries >= 2, "{tries}");
        }
        other => panic!("not a retry note: {other:?}"),
    }
}

#[test]
fn ports_from_the_socket_tables() {
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = tcp.local_addr().unwrap().port();
    let u = udp.local_addr().unwrap().port();
    let list = checks(&format!(
        r#"
- port: {t}
  address: 127.0.0.1
- port: "tcp:{t}"
  address: ["0.0.0.0", "!127.0.0.1"]
- port: {closed}
- port: {closed}
  listening: false
- port: "udp:{u}"
- port: {u}
  protocol: udp
  listening: false
"#
    ));
    let got = failures(&run(&list, None));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(
        got[1],
        [
            "address: expected 0.0.0.0, got 127.0.0.1",
            "address: expected !127.0.0.1, got 127.0.0.1"
        ]
    );
    assert!(
        got[2][0].starts_with("listening: expected true, got false (listening tcp ports: ")
            && got[2][0].contains(&t.to_string()),
        "{:?}",
        got[2]
    );
    assert_eq!(got[3], Vec::<String>::new());
    assert_eq!(got[4], Vec::<String>::new());
    assert!(
        got[5][0].starts_with("listening: expected false, got true"),
        "{:?}",
        got[5]
    );
}

#[test]
fn processes_by_command_name() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let list = checks(
        "- process: sleep\n- process: sleep\n  running: false\n- process: no-such-daemon\n- process: no-such-daemon\n  running: false\n",
    );
    let got = failures(&run(&list, None));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(got[0], Vec::<String>::new());
    assert!(
        got[1][0].starts_with("running: expected false, got true ("),
        "{:?}",
        got[1]
    );
    assert_eq!(
        got[2],
        ["running: expected true, got false (no process named no-such-daemon)"]
    );
    assert_eq!(got[3], Vec::<String>::new());
}

/// A one-thread HTTP server: `/` answers 200 with a header and "hello web", anything
/// else 404.
fn http_server() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let (status, body) = if request.starts_with("GET / ") {
                ("200 OK", "hello web")
            } else {
                ("404 Not Found", "nope")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nX-Served-By: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A PATH holding links to just these tools (and what the probe itself needs).
fn path_with(tools: &[&str]) -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    let base = [
        "mktemp", "mkdir", "rm", "wc", "cat", "head", "grep", "tail", "awk", "timeout", "sh",
    ];
    for tool in base.iter().chain(tools) {
        let found = ["/usr/bin", "/bin", "/usr/sbin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists());
        std::os::unix::fs::symlink(found.unwrap(), bin.path().join(tool)).unwrap();
    }
    bin
}

#[test]
fn http_status_body_and_headers_through_curl_and_wget() {
    let port = http_server();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let list = checks(&format!(
        r#"
- http: http://127.0.0.1:{port}/
  body: [hello, "/w.b/"]
  headers: ["x-served-by: test"]
- http: http://127.0.0.1:{port}/missing
  body: hello
  headers: ["/^Server:/", "!X-Served-By"]
- http: http://127.0.0.1:{port}/missing
  status: 404
- http: http://127.0.0.1:{closed}/
"#
    ));
    for client in ["curl", "wget"] {
        let bin = path_with(&[client]);
        let got = failures(&run(&list, Some(bin.path())));
        assert_eq!(got[0], Vec::<String>::new(), "{client}");
        assert_eq!(got[1][0], "status: expected 200, got 404", "{client}");
        assert_eq!(got[1][1], "body: expected hello, got nope", "{client}");
        assert!(
            got[1][2].starts_with("headers: expected /^Server:/, got "),
            "{client}: {:?}",
            got[1]
        );
        assert!(
            got[1][3].starts_with("headers: expected !X-Served-By, got "),
            "{client}: {:?}",
            got[1]
        );
        assert_eq!(got[2], Vec::<String>::new(), "{client}");
        assert!(
            got[3][0].starts_with(&format!("cannot reach http://127.0.0.1:{closed}/: ")),
            "{client}: {:?}",
            got[3]
        );
    }
    let bare = path_with(&[]);
    assert_eq!(
        failures(&run(&list[..1], Some(bare.path()))),
        [["cannot check: curl or wget not in the image"]]
    );
}

#[test]
fn mounts_kernel_params_and_interfaces() {
    let list = checks(
        r#"
- mount: /proc
  filesystem: proc
  opts: [rw, "/^(rw|ro)$/", "!bogus"]
- mount: /proc
  filesystem: ext4
  opts: [bogus]
- mount: /no/such/mount
- mount: /no/such/mount
  exists: false
- kernel_param: kernel.ostype
  value: Linux
- kernel_param: kernel.ostype
  value: /BSD/
- kernel_param: kernel.no_such_param
- interface: lo
  mtu: 65536
  addrs: [127.0.0.1/8]
- interface: lo
  mtu: 1500
  addrs: [10.9.9.9/8]
- interface: nosuch0
- interface: nosuch0
  exists: false
"#,
    );
    let got = failures(&run(&list, None));
    assert_eq!(got[0], Vec::<String>::new());
    assert!(
        got[1][0].starts_with("opts: expected bogus, got rw"),
        "{:?}",
        got[1]
    );
    assert_eq!(got[1][1], "filesystem: expected ext4, got proc");
    assert_eq!(
        got[2],
        ["exists: expected true, got false (nothing is mounted at /no/such/mount)"]
    );
    assert_eq!(got[3], Vec::<String>::new());
    assert_eq!(got[4], Vec::<String>::new());
    assert_eq!(got[5], ["value: expected /BSD/, got Linux"]);
    assert_eq!(
        got[6],
        ["cannot check: no kernel parameter kernel.no_such_param (/proc/sys/kernel/no_such_param does not exist in the container)"]
    );
    assert_eq!(got[7], Vec::<String>::new());
    assert_eq!(got[8][0], "mtu: expected 1500, got 65536");
    assert!(
        got[8][1].starts_with("addrs: expected 10.9.9.9/8, got 127.0.0.1/8"),
        "{:?}",
        got[8]
    );
    assert_eq!(
        got[9],
        ["exists: expected true, got false (no such interface)"]
    );
    assert_eq!(got[10], Vec::<String>::new());
}

#[test]
fn resources_are_judged_from_what_puppet_reported() {
    let list = checks(
        r#"
- resource: Service[cron]
  ensure: running
  enable: true
- resource: User[deploy]
  groups: [adm, "!wheel"]
  shell: /bash/
  uid: 1500
- resource: Package[nginx]
  ensure: installed
  flavor: x
- resource: Widget[x]
"#,
    );
    let out = Records::encode(&[
        (0, "attr:ensure", b"running"),
        (0, "attr:enable", b"true"),
        (0, "found", b"true"),
        (1, "attr:groups", b"adm\nwheel"),
        (1, "attr:shell", b"/bin/sh"),
        (1, "attr:uid", b"01500"),
        (2, "attr:ensure", b"purged"),
        (2, "attr:provider", b"apt"),
        (
            3,
            "error",
            b"unknown resource type widget (puppet resource reads native types only)",
        ),
    ]);
    let got = failures(&judge(&list, &out));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(
        got[1],
        [
            "groups: expected !wheel, got adm\\nwheel",
            "shell: expected /bash/, got /bin/sh"
        ]
    );
    assert_eq!(
        got[2],
        [
            "ensure: expected installed, got purged",
            "flavor: Package[nginx] has no such attribute (it has: ensure, provider)"
        ]
    );
    assert_eq!(
        got[3],
        ["cannot check: unknown resource type widget (puppet resource reads native types only)"]
    );
}

#[test]
fn hostile_values_of_every_kind_are_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("pwned");
    let evil = "x'; touch pwned; echo '$(touch pwned)`touch pwned`";
    let list: Vec<Check> = vec![
        Assertion::Process(crate::spec::check::ProcessCheck {
            name: evil.into(),
            attrs: Default::default(),
        }),
        Assertion::Http(crate::spec::check::HttpCheck {
            url: format!("http://127.0.0.1:1/{evil}"),
            attrs: Default::default(),
        }),
        Assertion::Mount(crate::spec::check::MountCheck {
            path: evil.into(),
            attrs: Default::default(),
        }),
        Assertion::Package(crate::spec::check::PackageCheck {
            name: evil.into(),
            attrs: Default::default(),
        }),
        Assertion::Service(crate::spec::check::ServiceCheck {
            name: evil.into(),
            attrs: Default::default(),
        }),
        Assertion::Group(crate::spec::check::GroupCheck {
            name: evil.into(),
            attrs: Default::default(),
        }),
        Assertion::Resource(crate::spec::check::ResourceCheck {
            reference: format!("File[{evil}]"),
            type_name: "file".into(),
            title: evil.into(),
            attrs: Default::default(),
        }),
    ]
    .into_iter()
    .map(Check::from)
    .collect();
    let got = run_in(&list, None, dir.path());
    assert_eq!(got.len(), list.len());
    assert!(!canary.exists(), "a value was run as code");
}

/// A PATH with the probe's own tools and these fake ones (name, shell body).
fn path_with_fakes(fakes: &[(&str, &str)]) -> tempfile::TempDir {
    let bin = path_with(&[]);
    for (name, body) in fakes {
        let file = bin.path().join(name);
        std::fs::write(&file, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[test]
fn packages_through_rpm_where_there_is_no_dpkg() {
    let bin = path_with_fakes(&[(
        "rpm",
        r#"[ "$4" = httpd ] && { printf '2.4.57-5.el9'; exit 0; }; echo "package $4 is not installed"; exit 1"#,
    )]);
    let list = checks("- package: httpd\n  version: /^2\\.4\\./\n- package: httpd\n  version: '2.2'\n- package: nginx\n- package: nginx\n  installed: false\n");
    let got = failures(&run(&list, Some(bin.path())));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(got[1], ["version: expected 2.2, got 2.4.57-5.el9"]);
    assert_eq!(got[2], ["installed: expected true, got false"]);
    assert_eq!(got[3], Vec::<String>::new());
    let none = path_with(&[]);
    assert_eq!(
        failures(&run(&list[..1], Some(none.path()))),
        [["cannot check: dpkg-query or rpm not in the image"]]
    );
}

#[test]
fn services_fall_back_to_sysv_where_systemd_is_not_pid_1() {
    if Path::new("/run/systemd/system").exists() {
        return; // a systemd host takes the systemd branch; the container tests cover it
    }
    let bin = path_with_fakes(&[("service", r#"[ "$1" = cron ] && [ "$2" = status ]"#)]);
    let list = checks(
        "- service: cron\n  running: true\n- service: ntp\n  running: true\n- service: cron\n  enabled: true\n",
    );
    let got = failures(&run(&list, Some(bin.path())));
    assert_eq!(got[0], Vec::<String>::new());
    assert_eq!(got[1], ["running: expected true, got false"]);
    assert_eq!(
        got[2],
        ["cannot check enabled: systemd is not PID 1 in this container"]
    );
}
