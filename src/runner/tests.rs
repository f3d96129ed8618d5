//! The dispatcher on a scripted engine ([`FakeBackend`]) with tokio's clock paused: the
//! grace period, the engine's wait and the steps' durations pass in no wall time and are
//! exact, so each test can assert the precise reasons, statuses, events and times. What
//! the real engine does is tested in `tests/`; these test the decisions around it.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use super::*;
use crate::backend::fake::{build_on, case, Command, FakeBackend, Reply};
use crate::outcome::snapshot::{BuildStage, Outcome as LayerOutcome};
use crate::outcome::Event;
use crate::platform::Platform;
use crate::spec::ModuleSpec;

const RUN_ID: &str = "0123456789abcdef0123456789abcdef";

/// A module `m` with cases `a`, `b` and `c` (no checks), in `dir`; with a site baseline
/// when `site`.
fn spec(dir: &Path, site: bool) -> Arc<ModuleSpec> {
    let module = dir.join("modules/m");
    std::fs::create_dir_all(module.join("manifests")).unwrap();
    std::fs::write(module.join("manifests/init.pp"), "class m {}\n").unwrap();
    std::fs::write(
        module.join("rehearsal.yaml"),
        "cases:\n  a:\n    manifest: include m\n  b:\n    manifest: include m\n  c:\n    manifest: include m\n",
    )
    .unwrap();
    let mut spec = crate::spec::load(&module.join("rehearsal.yaml")).unwrap();
    if site {
        use crate::spec::site;
        std::fs::create_dir_all(dir.join("site/roles/manifests")).unwrap();
        std::fs::write(
            dir.join("site/roles/manifests/base.pp"),
            "class roles::base {}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join(site::SITE_FILE),
            "baseline:\n  manifest: include roles::base\n  modulepath: [site]\n",
        )
        .unwrap();
        spec.site = Some(Arc::new(site::load(&dir.join(site::SITE_FILE)).unwrap()));
    }
    Arc::new(spec)
}

fn platform(name: &str) -> Arc<Platform> {
    let all = crate::platform::load(None).unwrap();
    Arc::new(all.into_iter().find(|p| p.name == name).unwrap())
}

/// The cases `a`, `b`, `c` on each platform, in that order.
fn plan(spec: &Arc<ModuleSpec>, platforms: &[&str]) -> Vec<PlannedCase> {
    let mut rows = Vec::new();
    for name in platforms {
        let platform = platform(name);
        for case in 0..spec.cases.len() {
            rows.push(PlannedCase {
                spec: spec.clone(),
                case,
                platform: platform.clone(),
            });
        }
    }
    rows
}

/// A reporter that keeps every event, and lets a test wait for one.
#[derive(Clone, Default)]
struct Recorder {
    events: Arc<Mutex<Vec<Event>>>,
    seen: Arc<Notify>,
    finished: Arc<AtomicBool>,
    /// Fail on every finished case, as a full disk would.
    failing: bool,
}

impl Reporter for Recorder {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.events.lock().unwrap().push(event.clone());
        self.seen.notify_waiters();
        match (&event.kind, self.failing) {
            (EventKind::CaseFinished(_), true) => Err(io::Error::other("no space left on device")),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.finished.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl Recorder {
    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until an event like this was recorded.
    async fn until(&self, like: impl Fn(&EventKind) -> bool) {
        loop {
            // Created before looking, so an event recorded in between still wakes it.
            let seen = self.seen.notified();
            if self.events().iter().any(|e| like(&e.kind)) {
                return;
            }
            seen.await;
        }
    }
}

/// A run under way.
struct Run {
    backend: Arc<FakeBackend>,
    recorder: Recorder,
    interrupt: mpsc::UnboundedSender<()>,
    handle: JoinHandle<io::Result<RunSummary>>,
}

struct Options {
    jobs: usize,
    keep: Keep,
    fail_fast: bool,
    verbose: bool,
    retries: super::Retries,
    reporters: Vec<Box<dyn Reporter>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: 1,
            keep: Keep::Never,
            fail_fast: false,
            verbose: false,
            retries: Default::default(),
            reporters: Vec::new(),
        }
    }
}

fn launch(backend: FakeBackend, plan: Vec<PlannedCase>, options: Options) -> Run {
    let backend = Arc::new(backend);
    let ctx = Arc::new(Context {
        backend: backend.clone(),
        run_id: RUN_ID.into(),
        keep: options.keep,
        fail_fast: options.fail_fast,
        verbose: options.verbose,
        engine_lost: AtomicBool::new(false),
        engine_wait: Duration::from_secs(60),
        gate: None,
        diff: None,
        retries: options.retries,
    });
    let recorder = Recorder::default();
    let mut reporters = options.reporters;
    reporters.insert(0, Box::new(recorder.clone()));
    let (interrupt, interrupts) = Interrupts::channel();
    let handle = tokio::spawn(run(ctx, plan, options.jobs, reporters, interrupts));
    Run {
        backend,
        recorder,
        interrupt,
        handle,
    }
}

impl Run {
    /// Waits for the run; its summary and every event.
    async fn end(self) -> (RunSummary, Vec<Event>) {
        let summary = self.handle.await.unwrap().unwrap();
        (summary, self.recorder.events())
    }

    async fn until_step(&self, name: &str, step: Step) {
        self.recorder
            .until(|e| matches!(e, EventKind::StepStarted { id, step: s } if id.case == name && *s == step))
            .await;
    }
}

/// The report of case `name` (on the first platform it ran on).
fn report<'a>(events: &'a [Event], name: &str) -> &'a CaseReport {
    reports(events)
        .into_iter()
        .find(|r| r.id.case == name)
        .unwrap_or_else(|| panic!("no report of {name}"))
}

fn reports(events: &[Event]) -> Vec<&CaseReport> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CaseFinished(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

/// The stages of the stop, and when each came.
fn cancels(events: &[Event]) -> Vec<(CancelReason, CancelStage, Duration)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Cancel { reason, stage } => Some((reason, stage, e.elapsed)),
            _ => None,
        })
        .collect()
}

fn finished_totals(events: &[Event]) -> Totals {
    match &events.last().unwrap().kind {
        EventKind::RunFinished { totals } => *totals,
        other => panic!("the last event is {other:?}"),
    }
}

/// The one step of a case that did not run: its status and why.
fn not_run_because_of(report: &CaseReport) -> (Status, Vec<(Step, Status, &str)>) {
    (
        report.status(),
        report
            .steps
            .iter()
            .map(|s| (s.step, s.status, s.message.as_deref().unwrap_or("")))
            .collect(),
    )
}

fn steps(report: &CaseReport) -> Vec<(Step, Status, Option<&str>)> {
    report
        .steps
        .iter()
        .map(|s| (s.step, s.status, s.message.as_deref()))
        .collect()
}

/// Every run: events in time order, started first and finished last, every case of the
/// plan reported once, and the totals of the run's end counted from those reports.
fn check_the_stream(events: &[Event], planned: usize, summary: &RunSummary) {
    assert!(matches!(events[0].kind, EventKind::RunStarted { total, .. } if total == planned));
    assert!(events.windows(2).all(|w| w[0].elapsed <= w[1].elapsed));
    let cases = reports(events);
    assert_eq!(cases.len(), planned);
    let counted: Totals = cases.iter().copied().collect();
    assert_eq!(finished_totals(events), counted);
    assert_eq!(summary.totals, counted);
}

fn the_plan(site: bool, platforms: &[&str]) -> (tempfile::TempDir, Vec<PlannedCase>) {
    let dir = tempfile::tempdir().unwrap();
    let rows = plan(&spec(dir.path(), site), platforms);
    (dir, rows)
}

fn engine(platforms: &[&str]) -> FakeBackend {
    platforms.iter().fold(FakeBackend::new(), |b, p| {
        b.with_image(&platform(p).image())
    })
}

#[tokio::test(start_paused = true)]
async fn fail_fast_reports_the_later_cases_not_run_with_its_reason() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"]).script(
        case("a"),
        Command::Apply,
        vec![Reply::Exit {
            code: 1,
            stdout: "Error: boom\n".into(),
        }],
    );
    let options = Options {
        fail_fast: true,
        ..Options::default()
    };
    let run = launch(backend, plan, options);
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 3, &summary);

    assert_eq!(
        steps(report(&events, "a")),
        [
            (Step::Start, Status::Passed, None),
            (
                Step::Apply,
                Status::Failed,
                Some("puppet apply failed (exit 1):\nError: boom")
            ),
            (
                Step::Idempotent,
                Status::Skipped,
                Some("an earlier step failed")
            ),
        ]
    );
    for name in ["b", "c"] {
        assert_eq!(
            not_run_because_of(report(&events, name)),
            (
                Status::Skipped,
                vec![(
                    Step::Start,
                    Status::Skipped,
                    "not run: --fail-fast stopped the run at the first failure"
                )]
            )
        );
    }
    assert_eq!(
        cancels(&events),
        [(CancelReason::FailFast, CancelStage::Stop, Duration::ZERO)]
    );
    assert_eq!(
        summary.totals,
        Totals {
            failed: 1,
            skipped: 2,
            ..Totals::default()
        }
    );
    assert!(!summary.interrupted && !summary.engine_lost);
    // Nothing ran for b and c: no container, no command.
    assert!(backend.execs().iter().all(|(name, _)| name.ends_with("-0")));
    let started: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CaseStarted { .. }))
        .collect();
    assert_eq!(started.len(), 1);
}

/// Each step is told as it starts and ends, the case's report holds the same steps, and
/// an apply is judged by what Puppet's exit status says.
#[tokio::test(start_paused = true)]
async fn each_step_is_an_event_and_an_apply_is_judged_by_its_exit() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"])
        // Changes, then settles: a pass.
        .script(
            case("a"),
            Command::Apply,
            vec![
                Reply::After {
                    after: Duration::from_secs(3),
                    code: 2,
                },
                Reply::exit(0),
            ],
        )
        // Changes every time: not idempotent.
        .script(case("b"), Command::Apply, vec![Reply::exit(2)])
        // Killed by its own timeout.
        .script(case("c"), Command::Apply, vec![Reply::exit(124)]);
    let (summary, events) = launch(backend, plan, Options::default()).end().await;
    check_the_stream(&events, 3, &summary);

    let of_a: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CaseStarted { id } if id.case == "a" => Some("case started".into()),
            EventKind::StepStarted { id, step } if id.case == "a" => {
                Some(format!("{} started", step.name()))
            }
            EventKind::StepFinished { id, report } if id.case == "a" => Some(format!(
                "{} {} at {:?}",
                report.step.name(),
                report.status.verb(),
                e.elapsed
            )),
            EventKind::CaseFinished(r) if r.id.case == "a" => Some("case finished".into()),
            _ => None,
        })
        .collect();
    assert_eq!(
        of_a,
        [
            "case started",
            "start started",
            "start passed at 0ns",
            "apply started",
            "apply passed at 3s",
            "idempotent started",
            "idempotent passed at 3s",
            "case finished"
        ]
    );
    let a = report(&events, "a");
    assert_eq!(a.status(), Status::Passed);
    assert_eq!(
        a.step(Step::Apply).unwrap().duration,
        Duration::from_secs(3)
    );
    let finished: Vec<(Step, Status)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepFinished { id, report } if id.case == "a" => {
                Some((report.step, report.status))
            }
            _ => None,
        })
        .collect();
    let in_report: Vec<(Step, Status)> = a.steps.iter().map(|s| (s.step, s.status)).collect();
    assert_eq!(finished, in_report);

    assert_eq!(
        steps(report(&events, "b")),
        [
            (Step::Start, Status::Passed, None),
            (Step::Apply, Status::Passed, None),
            (
                Step::Idempotent,
                Status::Failed,
                Some("the second apply changed something (exit 2), so the manifest is not idempotent")
            ),
        ]
    );
    assert_eq!(
        steps(report(&events, "c")),
        [
            (Step::Start, Status::Passed, None),
            (
                Step::Apply,
                Status::Error,
                Some("timed out after 10m (raise `timeouts: { apply: … }` in the spec if it needs longer)")
            ),
            (
                Step::Idempotent,
                Status::Skipped,
                Some("an earlier step failed")
            ),
        ]
    );
    assert!(cancels(&events).is_empty());
    assert_eq!(
        summary.totals,
        Totals {
            passed: 1,
            failed: 1,
            errors: 1,
            skipped: 0,
            flaky: 0
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_start_the_engine_refuses_errs_that_case_and_the_run_goes_on() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend =
        engine(&["debian12"]).unreachable_start(case("a"), "connection refused", usize::MAX);
    let (summary, events) = launch(backend, plan, Options::default()).end().await;
    check_the_stream(&events, 3, &summary);
    assert_eq!(
        steps(report(&events, "a")),
        [(
            Step::Start,
            Status::Error,
            Some("cannot reach the container engine: connection refused")
        )]
    );
    for name in ["b", "c"] {
        assert_eq!(report(&events, name).status(), Status::Passed);
    }
    // The engine answered pings: no wait, no stop.
    assert_eq!(report(&events, "a").duration, Duration::ZERO);
    assert!(cancels(&events).is_empty());
    assert!(!summary.engine_lost);
}

#[tokio::test(start_paused = true)]
async fn verbose_output_is_one_event_a_line_of_the_step_that_printed_it() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"]).script(
        case("a"),
        Command::Apply,
        vec![
            Reply::Exit {
                code: 2,
                stdout: "Notice: one\nNotice: two\r\nNotice: no newline".into(),
            },
            Reply::Exit {
                code: 0,
                stdout: "Notice: again\n".into(),
            },
        ],
    );
    let options = Options {
        verbose: true,
        ..Options::default()
    };
    let (summary, events) = launch(backend, plan, options).end().await;
    check_the_stream(&events, 3, &summary);
    let lines: Vec<(String, Step, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Output { id, step, line } => Some((id.case.clone(), *step, line.clone())),
            _ => None,
        })
        .filter(|(case, _, _)| case == "a")
        .collect();
    let a = |step, line: &str| ("a".to_string(), step, line.to_string());
    assert_eq!(
        lines,
        [
            a(Step::Apply, "Notice: one"),
            a(Step::Apply, "Notice: two"),
            a(Step::Apply, "Notice: no newline"),
            a(Step::Idempotent, "Notice: again"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_container_that_does_not_come_up_says_what_its_init_printed() {
    // systemd on a cgroup v2 host with a read-only cgroup: it exits at once, and the exec
    // of the readiness wait is refused.
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"])
        .script(
            case("a"),
            Command::Ready,
            vec![Reply::Fail("container 4f2c is not running".into())],
        )
        .init_prints(
            "systemd 252 running in system mode\n\
             Failed to create /init.scope control group: Read-only file system\n\
             Failed to allocate manager object.\n",
        );
    let (summary, events) = launch(backend, plan, Options::default()).end().await;
    check_the_stream(&events, 3, &summary);
    let start = &report(&events, "a").steps[0];
    assert_eq!((start.step, start.status), (Step::Start, Status::Error));
    let message = start.message.as_deref().unwrap();
    assert!(
        message.starts_with("the container did not come up: ")
            && message.contains("container 4f2c is not running")
            && message.contains(
                "its init printed (last lines):\n  systemd 252 running in system mode\n  \
                 Failed to create /init.scope control group: Read-only file system\n  \
                 Failed to allocate manager object."
            ),
        "{message}"
    );
    // Cases whose container came up do not quote their init.
    let b = report(&events, "b");
    assert_eq!(b.status(), Status::Passed);
}

#[tokio::test(start_paused = true)]
async fn a_first_interrupt_lets_a_running_step_finish_within_the_grace_period() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"]).script(
        case("a"),
        Command::Apply,
        vec![
            Reply::After {
                after: Duration::from_secs(8),
                code: 2,
            },
            Reply::exit(0),
        ],
    );
    let run = launch(backend, plan, Options::default());
    run.until_step("a", Step::Apply).await;
    run.interrupt.send(()).unwrap();
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 3, &summary);

    let a = report(&events, "a");
    assert_eq!(a.status(), Status::Passed, "{a:?}");
    assert_eq!(
        a.step(Step::Apply).unwrap().duration,
        Duration::from_secs(8)
    );
    for name in ["b", "c"] {
        assert_eq!(
            not_run_because_of(report(&events, name)),
            (
                Status::Skipped,
                vec![(
                    Step::Start,
                    Status::Skipped,
                    "not run: the run was interrupted"
                )]
            )
        );
    }
    // The grace began at once; the run stopped when the last running case ended, 8 s
    // later, before the grace was over.
    assert_eq!(
        cancels(&events),
        [
            (
                CancelReason::Interrupt,
                CancelStage::Grace { grace: GRACE },
                Duration::ZERO
            ),
            (
                CancelReason::Interrupt,
                CancelStage::Stop,
                Duration::from_secs(8)
            ),
        ]
    );
    assert!(summary.interrupted);
    assert!(backend.containers_now().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_step_that_outlasts_the_grace_period_is_stopped_when_it_ends() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"]).script(case("a"), Command::Apply, vec![Reply::Hang]);
    let run = launch(backend, plan, Options::default());
    run.until_step("a", Step::Apply).await;
    run.interrupt.send(()).unwrap();
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 3, &summary);

    assert_eq!(
        cancels(&events),
        [
            (
                CancelReason::Interrupt,
                CancelStage::Grace { grace: GRACE },
                Duration::ZERO
            ),
            (CancelReason::Interrupt, CancelStage::GraceOver, GRACE),
            (CancelReason::Interrupt, CancelStage::Stop, GRACE),
        ]
    );
    for name in ["a", "b", "c"] {
        assert_eq!(
            not_run_because_of(report(&events, name)),
            (
                Status::Skipped,
                vec![(
                    Step::Start,
                    Status::Skipped,
                    "not run: the run was interrupted"
                )]
            )
        );
    }
    // The hanging apply never finished: no StepFinished for it.
    assert!(!events.iter().any(|e| matches!(
        &e.kind,
        EventKind::StepFinished { report, .. } if report.step == Step::Apply
    )));
    assert!(summary.interrupted);
    // Its container, left by the cancelled case, is gone: the sweep removed it.
    assert!(backend.containers_now().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_second_interrupt_stops_at_once() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"]).script(case("a"), Command::Apply, vec![Reply::Hang]);
    let run = launch(backend, plan, Options::default());
    run.until_step("a", Step::Apply).await;
    run.interrupt.send(()).unwrap();
    run.interrupt.send(()).unwrap();
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 3, &summary);

    assert_eq!(
        cancels(&events),
        [
            (
                CancelReason::Interrupt,
                CancelStage::Grace { grace: GRACE },
                Duration::ZERO
            ),
            (CancelReason::Interrupt, CancelStage::Again, Duration::ZERO),
            (CancelReason::Interrupt, CancelStage::Stop, Duration::ZERO),
        ]
    );
    assert_eq!(
        finished_totals(&events),
        Totals {
            skipped: 3,
            ..Totals::default()
        }
    );
    assert!(summary.interrupted);
    assert!(backend.containers_now().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_engine_that_stays_away_stops_the_run() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"])
        .unreachable_start(case("a"), "connection refused", usize::MAX)
        .failing_pings(usize::MAX);
    let (summary, events) = launch(backend, plan, Options::default()).end().await;
    check_the_stream(&events, 3, &summary);

    let a = report(&events, "a");
    assert_eq!(
        steps(a),
        [(
            Step::Start,
            Status::Error,
            Some(
                "the container engine stopped answering and did not come back within 1m: \
                 cannot reach the container engine: connection refused"
            )
        )]
    );
    // It waited the whole minute for the engine.
    assert_eq!(a.duration, Duration::from_secs(60));
    for name in ["b", "c"] {
        assert_eq!(
            not_run_because_of(report(&events, name)),
            (
                Status::Skipped,
                vec![(
                    Step::Start,
                    Status::Skipped,
                    "not run: the container engine stopped answering"
                )]
            )
        );
    }
    assert_eq!(
        cancels(&events),
        [(
            CancelReason::EngineLost,
            CancelStage::Stop,
            Duration::from_secs(60)
        )]
    );
    assert!(summary.engine_lost && !summary.interrupted);
}

#[tokio::test(start_paused = true)]
async fn an_engine_back_within_the_wait_lets_the_case_run() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    // The first ping (right after the failed start) and the next two fail; the fourth,
    // 1.5 s later, answers.
    let backend = engine(&["debian12"])
        .unreachable_start(case("a"), "connection refused", 1)
        .failing_pings(3);
    let (summary, events) = launch(backend, plan, Options::default()).end().await;
    check_the_stream(&events, 3, &summary);
    let a = report(&events, "a");
    assert_eq!(a.status(), Status::Passed);
    assert_eq!(
        a.step(Step::Start).unwrap().duration,
        Duration::from_millis(1500)
    );
    assert!(cancels(&events).is_empty());
    assert!(summary.totals.all_passed() && !summary.engine_lost);
}

#[tokio::test(start_paused = true)]
async fn a_failed_baseline_errs_every_case_of_its_platform_and_stops_the_run() {
    let (_dir, plan) = the_plan(true, &["debian12", "debian13"]);
    let backend = engine(&["debian12", "debian13"]).script(
        build_on("debian12"),
        Command::Apply,
        vec![Reply::Exit {
            code: 1,
            stdout: "Error: boom\n".into(),
        }],
    );
    let options = Options {
        jobs: 2,
        ..Options::default()
    };
    let run = launch(backend, plan, options);
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 6, &summary);

    let failure = "baseline (rehearsal-site.yaml) failed on debian12, so the case did not start: \
                   puppet apply failed (exit 1), so no case starts from it:\nError: boom";
    for r in reports(&events) {
        let expected = match r.id.platform.as_str() {
            "debian12" => (Step::Prepare, Status::Error, failure),
            _ => (
                Step::Start,
                Status::Skipped,
                "not run: the site baseline failed, so the run stopped",
            ),
        };
        assert_eq!(not_run_because_of(r).1, [expected], "{}", r.id);
    }
    assert!(report(&events, "a").steps[0].output.contains("Error: boom"));
    assert_eq!(
        cancels(&events),
        [(
            CancelReason::BaselineFailed,
            CancelStage::Stop,
            Duration::ZERO
        )]
    );
    // Both layers were tried, and told as they went; no case started.
    let layers: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Snapshot(s) => Some((
                s.platform.clone(),
                matches!(s.outcome, LayerOutcome::Failed { .. }),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(layers.len(), 2);
    assert!(layers.contains(&("debian12".into(), true)));
    assert!(layers.contains(&("debian13".into(), false)));
    let built: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SnapshotProgress(p) if matches!(p.stage, BuildStage::Built { .. }) => {
                Some(p.platform.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(built, ["debian13"]);
    assert!(!events
        .iter()
        .any(|e| matches!(e.kind, EventKind::CaseStarted { .. })));
    assert!(backend
        .execs()
        .iter()
        .all(|(name, _)| name.starts_with("rehearsal-snapshot-")));
    assert_eq!(summary.totals.errors, 3);
    assert_eq!(summary.totals.skipped, 3);
    assert!(backend.containers_now().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_sweep_removes_this_runs_containers_but_the_kept_ones() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"])
        .script(case("a"), Command::Apply, vec![Reply::exit(1)])
        .script(case("b"), Command::Apply, vec![Reply::Hang])
        .with_container(
            "another-runs",
            &[
                (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
                (labels::RUN_ID, "another-run"),
            ],
        );
    let options = Options {
        jobs: 2,
        keep: Keep::OnFailure,
        ..Options::default()
    };
    let run = launch(backend, plan, options);
    run.recorder
        .until(|e| matches!(e, EventKind::CaseFinished(r) if r.id.case == "a"))
        .await;
    run.until_step("b", Step::Apply).await;
    // b's container is there, mid-apply, when the run stops.
    assert_eq!(run.backend.containers_now().len(), 3);
    run.interrupt.send(()).unwrap();
    run.interrupt.send(()).unwrap();
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 3, &summary);

    let a = report(&events, "a");
    assert_eq!(a.status(), Status::Failed);
    let kept = a
        .kept_container
        .clone()
        .expect("a failed: its container is kept");
    assert_eq!(backend.case_of(&kept).as_deref(), Some("a"));
    assert_eq!(report(&events, "b").status(), Status::Skipped);
    // What remains: the kept container, and the other run's.
    let mut left = backend.containers_now();
    left.sort();
    let mut expected = vec![kept, "another-runs".to_string()];
    expected.sort();
    assert_eq!(left, expected);
    assert!(!events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Warning(_))));
}

#[tokio::test(start_paused = true)]
async fn a_reporters_error_is_returned_and_the_run_still_ends_cleanly() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let failing = Recorder {
        failing: true,
        ..Recorder::default()
    };
    let options = Options {
        reporters: vec![Box::new(failing.clone())],
        ..Options::default()
    };
    let run = launch(engine(&["debian12"]), plan, options);
    let backend = run.backend.clone();
    let recorder = run.recorder.clone();
    let err = run.handle.await.unwrap().unwrap_err();
    assert_eq!(err.to_string(), "no space left on device");
    // Every case still ran, every reporter saw the whole run and was finished, and no
    // container remains.
    for seen in [&recorder, &failing] {
        let events = seen.events();
        assert_eq!(reports(&events).len(), 3);
        assert_eq!(finished_totals(&events).passed, 3);
        assert!(seen.finished.load(Ordering::SeqCst));
    }
    assert!(backend.containers_now().is_empty());
}

/// A case whose apply the engine failed to run (an error, not the module's verdict) is
/// tried again with `--retries`, in a container of its own; passing then, it is flaky,
/// with the attempt that errored in its report.
#[tokio::test(start_paused = true)]
async fn an_error_is_retried_and_a_pass_after_it_is_flaky() {
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let backend = engine(&["debian12"]).script(
        case("a"),
        Command::Apply,
        vec![
            Reply::Fail("connection reset by peer".into()),
            Reply::exit(2),
            Reply::exit(0),
        ],
    );
    let options = Options {
        retries: Retries {
            count: 2,
            failures: false,
        },
        ..Options::default()
    };
    let run = launch(backend, plan, options);
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 3, &summary);

    let a = report(&events, "a");
    assert!(a.flaky(), "{a:?}");
    assert_eq!(a.status(), Status::Passed);
    assert_eq!(a.attempts.len(), 1);
    assert_eq!(a.attempts[0].status(), Status::Error);
    assert!(
        a.attempts[0].reason().starts_with("apply errored: "),
        "{}",
        a.attempts[0].reason()
    );
    assert_eq!(
        steps(a)
            .iter()
            .map(|(s, st, _)| (*s, *st))
            .collect::<Vec<_>>(),
        [
            (Step::Start, Status::Passed),
            (Step::Apply, Status::Passed),
            (Step::Idempotent, Status::Passed),
        ]
    );
    let retried: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CaseRetried {
                id,
                attempt,
                attempts,
                status,
                ..
            } => Some((id.case.clone(), *attempt, *attempts, *status)),
            _ => None,
        })
        .collect();
    assert_eq!(retried, [("a".to_string(), 1, 3, Status::Error)]);
    assert_eq!(
        summary.totals,
        Totals {
            passed: 3,
            flaky: 1,
            ..Totals::default()
        }
    );
    // Each attempt had a container of its own, and none is left.
    let names: std::collections::BTreeSet<String> =
        backend.execs().into_iter().map(|(name, _)| name).collect();
    assert!(names.contains("rehearsal-01234567-0"), "{names:?}");
    assert!(names.contains("rehearsal-01234567-0-2"), "{names:?}");
    assert!(backend.containers_now().is_empty());
}

/// A failure is the module's verdict: `--retries` alone does not hide it behind another
/// attempt; `--retry-failures` retries it, and a case that fails every attempt shows each.
/// With `--keep on-failure`, only the last attempt's container is kept.
#[tokio::test(start_paused = true)]
async fn a_failure_is_retried_only_when_asked_and_each_attempt_is_kept_in_the_report() {
    let failing = || {
        engine(&["debian12"]).script(
            case("a"),
            Command::Apply,
            vec![Reply::Exit {
                code: 1,
                stdout: "Error: boom\n".into(),
            }],
        )
    };
    let retries = Retries {
        count: 2,
        failures: false,
    };
    let (_dir, plan) = the_plan(false, &["debian12"]);
    let options = Options {
        retries,
        ..Options::default()
    };
    let (summary, events) = launch(failing(), plan.clone(), options).end().await;
    let a = report(&events, "a");
    assert_eq!(a.status(), Status::Failed);
    assert!(a.attempts.is_empty());
    assert!(!events
        .iter()
        .any(|e| matches!(e.kind, EventKind::CaseRetried { .. })));
    assert_eq!(summary.totals.failed, 1);

    let options = Options {
        retries: Retries {
            failures: true,
            ..retries
        },
        keep: Keep::OnFailure,
        ..Options::default()
    };
    let run = launch(failing(), plan, options);
    let backend = run.backend.clone();
    let (summary, events) = run.end().await;
    check_the_stream(&events, 3, &summary);
    let a = report(&events, "a");
    assert_eq!(a.status(), Status::Failed);
    assert!(!a.flaky());
    assert_eq!(a.attempts.len(), 2);
    assert!(a.attempts.iter().all(|t| t.status() == Status::Failed));
    assert_eq!(
        a.attempts[0].reason(),
        "apply failed: puppet apply failed (exit 1): Error: boom"
    );
    assert_eq!(
        summary.totals,
        Totals {
            passed: 2,
            failed: 1,
            ..Totals::default()
        }
    );
    // Only the last attempt's container stays, and it is the one the report names.
    let left = backend.containers_now();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(a.kept_container.as_deref(), Some(left[0].as_str()));
    assert_eq!(backend.case_of(&left[0]).as_deref(), Some("a"));
}
