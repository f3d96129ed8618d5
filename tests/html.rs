//! The HTML report of a real run (the binary, against the real engine), opened in headless
//! Chromium: a screenshot for people to look at, and the page's DOM after its script ran
//! for the assertions. The run is small: `tests/fixtures/html` (a passing case, a failed
//! check and a failed step, with markup in the texts that reach the page) and
//! `tests/fixtures/modules/good`, on debian12 only.
//!
//! The screenshot is written to `target/html-report/screenshot.png`, beside the page.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{repo, Rehearsal};

const CHROMIUM: &str = "/usr/bin/chromium";
/// How long Chromium may take to render one page before the test gives up on it.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// Where the page and the screenshot are kept for people to look at.
fn out_dir() -> PathBuf {
    repo().join("target/html-report")
}

/// The page of one run, shared by the tests below (the first to get here starts it).
fn report() -> &'static PathBuf {
    static REPORT: OnceLock<PathBuf> = OnceLock::new();
    REPORT.get_or_init(|| {
        let dir = out_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let page = dir.join("report.html");
        let _ = std::fs::remove_file(&page);
        // The page is kept where people can find it, not in a temporary directory.
        let run = Rehearsal::new()
            .args([
                "run",
                "tests/fixtures/html",
                "tests/fixtures/modules/good",
                "-p",
                "debian12",
                "--jobs",
                "2",
                "--html",
            ])
            .arg(&page)
            .run();
        // Two of the four cases fail, as the fixture means them to.
        run.exit(1);
        assert!(
            page.is_file(),
            "no HTML report at {}; {}",
            page.display(),
            run.show()
        );
        page
    })
}

/// Chromium, or a failure that says how to get it: this test never passes without it.
fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run harness/test, which installs Debian's chromium package \
         (or `apt-get install chromium`)"
    );
    CHROMIUM
}

/// Runs headless Chromium with `args` on the page at `url`, in a profile of its own,
/// and returns what it printed; a Chromium that hangs is killed and fails the test.
fn run_chromium(args: &[String], url: &str) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {CHROMIUM}: {err}"));
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "chromium took more than {CHROMIUM_TIMEOUT:?} on {url}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "chromium failed on {url}: {}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn url(page: &Path, fragment: &str) -> String {
    format!(
        "file://{}{fragment}",
        page.canonicalize().unwrap().display()
    )
}

/// The page as Chromium has it once its script ran.
fn dom(fragment: &str) -> String {
    let output = run_chromium(&["--dump-dom".into()], &url(report(), fragment));
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}

/// The opening tag of the element with this `id`.
fn tag_with_id<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in\n{dom}"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

#[test]
fn a_screenshot_of_the_report() {
    let shot = out_dir().join("screenshot.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,900".into(),
            "--hide-scrollbars".into(),
        ],
        &url(report(), ""),
    );
    let png = std::fs::read(&shot)
        .unwrap_or_else(|err| panic!("no screenshot at {}: {err}", shot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // The width and height in the PNG's header: the window asked for.
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (1280, 900));
    // A blank page compresses to a few kilobytes; a page with text and colours does not.
    assert!(
        png.len() > 40_000,
        "the screenshot looks empty ({} bytes)",
        png.len()
    );
    println!("screenshot: {}", shot.display());
}

#[test]
fn the_matrix_has_a_cell_per_module_and_platform_with_its_result() {
    let dom = dom("");
    assert!(
        dom.contains(
            "<td class=\"cell passed\" data-module=\"good\" data-platform=\"debian12\" \
             data-status=\"passed\">"
        ),
        "{dom}"
    );
    assert!(dom.contains(
        "<td class=\"cell failed\" data-module=\"htmlreport\" data-platform=\"debian12\" \
         data-status=\"failed\">"
    ));
    assert!(dom.contains("<span class=\"count\">1/3 passed</span>"));
    assert!(dom.contains("<title>rehearsal: 2 failed of 4 cases</title>"));
}

#[test]
fn a_failure_shows_the_check_the_expected_and_actual_values_and_the_log() {
    let dom = dom("");
    // The failed check, where it is written, and what it expected against what it found.
    assert!(dom.contains("check <code>file /etc/htmlreport.conf</code> failed"));
    assert!(
        dom.contains(
            "<span class=\"where\">tests/fixtures/html/htmlreport/rehearsal.yaml:14</span>"
        ),
        "{dom}"
    );
    assert!(dom.contains(
        "<tr><td>mode</td><td class=\"expected\">0644</td><td class=\"actual\">0600</td></tr>"
    ));
    // The failed step and the end of its Puppet output, open.
    // With where each changed resource is declared (the case's inline code, here), in
    // the order Puppet evaluated them.
    assert!(
        dom.contains(
            "<h4>idempotent failed <span class=\"where\">/etc/rehearsal/case/site.pp:1</span> \
             <span class=\"where\">/etc/rehearsal/case/site.pp:2</span></h4>"
        ),
        "{dom}"
    );
    assert!(dom.contains("<details class=\"log\" open=\"\"><summary>idempotent output"));
    assert!(dom.contains("Notice: Applied catalog in"));
}

/// What the containers said is shown as text: the markup in the check's values and in
/// Puppet's output never ran.
#[test]
fn markup_from_the_run_stays_text() {
    let dom = dom("");
    assert!(
        !dom.contains("data-pwned"),
        "a script from the run ran:\n{dom}"
    );
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(dom.contains("&lt;script&gt;document.body.dataset.pwned = 'check'&lt;/script&gt;"));
    assert!(dom.contains("&lt;img src=x onerror=\"document.body.dataset.pwned = 'log'\"&gt;"));
}

/// The script opens the case list a cell links to (as a click on the cell does); lists
/// with a failure are open from the start, passing ones are not.
#[test]
fn a_cell_opens_its_case_list() {
    let closed = dom("");
    let group = |dom: &str, module: &str| {
        let at = dom
            .find(&format!("<strong>{module}</strong> on"))
            .unwrap_or_else(|| panic!("no case list of {module}"));
        let id_at = dom[..at].rfind("id=\"group-").unwrap() + 4;
        let id = &dom[id_at..id_at + dom[id_at..].find('"').unwrap()];
        id.to_owned()
    };
    let good = group(&closed, "good");
    let failing = group(&closed, "htmlreport");
    assert!(!tag_with_id(&closed, &good).contains("open"));
    assert!(tag_with_id(&closed, &failing).contains("open"));
    // The cell links to the list.
    assert!(closed.contains(&format!("href=\"#{good}\"")));

    let opened = dom(&format!("#{good}"));
    let tag = tag_with_id(&opened, &good);
    assert!(tag.contains("open=\"\"") && tag.contains("target"), "{tag}");
}
