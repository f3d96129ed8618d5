//! rehearsal's Puppet driver failing, against the real engine on every built-in Puppet
//! (5.5, 7, 8): an apply killed by a signal and a server killed mid-apply are each their
//! case's error, saying so (not a Puppet failure, not a timeout); a hung apply is still
//! timed out, and what it started is gone with it; a failed resource is read from the run's
//! report, with its place; the facts an apply sees are Facter's own; the types a first
//! apply's catalog uses are loaded by the server for the applies after it; a Puppet that
//! cannot run the driver runs plain `puppet apply`, and the run says where
//! (`tests/fixtures/plain`). One run of `tests/fixtures/driver`,
//! its failed containers kept so that the hung apply's can be looked into.
//! `REHEARSAL_TEST_PLATFORMS` (comma-separated) narrows the platforms (other engines).

mod common;

use std::sync::OnceLock;

use common::{Outcome, Rehearsal};
use serde_json::Value;

fn platforms() -> Vec<String> {
    std::env::var("REHEARSAL_TEST_PLATFORMS")
        .unwrap_or_else(|_| "debian11,debian12,debian13".into())
        .split(',')
        .map(str::to_string)
        .collect()
}

fn driver_run() -> &'static Outcome {
    static RUN: OnceLock<Outcome> = OnceLock::new();
    RUN.get_or_init(|| {
        let mut args: Vec<String> = ["run", "tests/fixtures/driver", "--jobs", "2"]
            .map(String::from)
            .into();
        args.extend(["--keep".into(), "on-failure".into()]);
        for platform in platforms() {
            args.extend(["--platform".into(), platform]);
        }
        Rehearsal::new().args(args).json().run()
    })
}

fn case(name: &str, platform: &str) -> &'static Value {
    common::find_case(
        driver_run().json(),
        &[
            ("module", "driverfaults"),
            ("case", name),
            ("platform", platform),
        ],
    )
    .unwrap_or_else(|| panic!("no case {name} on {platform}: {}", driver_run().show()))
}

/// The kept containers go when the tests that look into them are done.
struct Kept(Vec<String>);

impl Drop for Kept {
    fn drop(&mut self) {
        common::remove_containers(&self.0);
    }
}

#[test]
fn a_killed_apply_or_server_is_the_drivers_error_and_a_hung_apply_times_out() {
    let run = driver_run();
    let kept = Kept(
        common::cases(run.json())
            .iter()
            .filter_map(|c| c["kept_container"].as_str().map(str::to_string))
            .collect(),
    );
    for platform in platforms() {
        let killed = common::step(case("its apply is killed", &platform), "apply");
        assert_eq!(killed["status"], "error", "on {platform}: {killed:#}");
        assert_eq!(
            killed["message"],
            "the Puppet driver failed: Puppet's apply was killed by signal 9 (SIGKILL), not \
             by its timeout",
            "on {platform}"
        );

        let lost = common::step(case("its server is killed", &platform), "apply");
        assert_eq!(lost["status"], "error", "on {platform}: {lost:#}");
        assert_eq!(
            lost["message"],
            "the Puppet driver failed: the Puppet driver's server ended before this apply did \
             (was it killed?)",
            "on {platform}"
        );

        let hung = case("a hung apply", &platform);
        let apply = common::step(hung, "apply");
        assert_eq!(apply["status"], "error", "on {platform}: {apply:#}");
        assert!(
            apply["message"]
                .as_str()
                .unwrap()
                .starts_with("timed out after 5s"),
            "on {platform}: {apply:#}"
        );
        // The server killed what the apply had started when its client went.
        let container = hung["kept_container"].as_str().expect("kept on failure");
        let processes = common::processes_in(container);
        assert!(
            !processes.contains("sleep 600"),
            "on {platform}, the hung apply's exec still runs:\n{processes}"
        );
    }
    drop(kept);
    assert_eq!(run.code(), Some(1), "{}", run.show());
}

/// A failed resource is read from the run's report: named with Puppet's words and the
/// place it is declared (the message, and the errors that Gerrit comments on), and the
/// apply's slowest resources are listed.
#[test]
fn a_failed_resource_is_named_from_the_report_with_its_place() {
    for platform in platforms() {
        let apply = common::step(case("a resource fails", &platform), "apply");
        assert_eq!(apply["status"], "failed", "on {platform}: {apply:#}");
        let place = "tests/fixtures/driver/driverfaults/manifests/fails.pp";
        assert_eq!(
            apply["message"],
            format!(
                "puppet apply failed (exit 4): 1 resource failed:\n  Exec[fails] ({place}:3): \
                 change from 'notrun' to ['0'] failed: '/bin/false' returned 1 instead of one \
                 of [0]"
            ),
            "on {platform}"
        );
        assert_eq!(apply["errors"][0]["file"], place, "on {platform}");
        assert_eq!(apply["errors"][0]["line"], 3, "on {platform}");
        let slowest = apply["slowest"].as_array().expect("slowest resources");
        assert!(
            slowest.iter().any(|r| r["resource"] == "Exec[fails]"),
            "on {platform}: {slowest:?}"
        );
    }
}

/// The facts an apply sees through the driver are Facter's own: the augeas version (which
/// the driver reads without opening Augeas in full) is the one `facter` reports in the same
/// container.
#[test]
fn the_facts_through_the_driver_are_facters_own() {
    for platform in platforms() {
        let case = case("its facts are facter's", &platform);
        assert_eq!(case["status"], "passed", "on {platform}: {case:#}");
        assert_eq!(
            common::step(case, "verify")["status"],
            "passed",
            "on {platform}"
        );
    }
}

/// The types of a catalog that the server does not preload (package, service) are loaded
/// by the server once the first apply has told it which, for the idempotency apply and the
/// checks (the case's check reads the server's log); the case's verdicts stay the same.
#[test]
fn the_types_a_catalog_uses_are_loaded_for_the_applies_after_it() {
    for platform in platforms() {
        let case = case(
            "its catalog's types are loaded for the applies after it",
            &platform,
        );
        assert_eq!(case["status"], "passed", "on {platform}: {case:#}");
        assert_eq!(
            common::step(case, "idempotent")["status"],
            "passed",
            "on {platform}"
        );
    }
}

/// A platform whose Puppet cannot run the driver (`tests/fixtures/plain`: its `puppet` is
/// a shell script) runs plain `puppet apply`: the case still passes, its apply says so, and
/// the run's summary names the platform.
#[test]
fn a_puppet_that_cannot_run_the_driver_runs_plain_and_the_run_says_where() {
    let run = Rehearsal::new()
        .args(["run", "tests/fixtures/plain", "--platform", "debian12"])
        .json()
        .run();
    run.exit(0);
    let case = common::case(
        run.json(),
        &[("case", "plain puppet apply"), ("platform", "debian12")],
    );
    assert_eq!(
        common::step(case, "apply")["without_driver"],
        true,
        "{case:#}"
    );
    assert!(
        run.stdout().contains(
            "plain `puppet apply` on debian12 (its Puppet cannot run rehearsal's driver)"
        ),
        "{}",
        run.show()
    );
}
