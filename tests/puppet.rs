//! Puppet's rules against the real engine, on Puppet 5.5 (debian11), 7 (debian12) and 8
//! (debian13): an idempotency exemption that changes (passes, with its reason said), a
//! stale one (said), and Puppet 8's strict defaults (an undefined variable fails the apply;
//! `strict: false` lets it pass on 5.5 and 7, and keeps Puppet 8's own rules on 8). One run
//! of `tests/fixtures/puppet` (its module puppetrules on debian11 and 12, puppeteight on
//! debian13), shared by the tests.

mod common;

use std::sync::OnceLock;

use common::{Outcome, Rehearsal};
use serde_json::Value;

fn rules_run() -> &'static Outcome {
    static RUN: OnceLock<Outcome> = OnceLock::new();
    RUN.get_or_init(|| {
        Rehearsal::new()
            .args(["run", "tests/fixtures/puppet", "--jobs", "2"])
            .json()
            .run()
    })
}

fn case(name: &str, platform: &str) -> &'static Value {
    common::find_case(
        rules_run().json(),
        &[
            ("module", module(platform)),
            ("case", name),
            ("platform", platform),
        ],
    )
    .unwrap_or_else(|| panic!("no case {name} on {platform}: {}", rules_run().stdout()))
}

const PLATFORMS: [&str; 3] = ["debian11", "debian12", "debian13"];

/// The fixture module run on `platform`.
fn module(platform: &str) -> &'static str {
    match platform {
        "debian13" => "puppeteight",
        _ => "puppetrules",
    }
}

#[test]
fn every_case_passes_on_puppet_5_7_and_8() {
    rules_run().exit(0);
}

#[test]
fn an_exempt_change_passes_and_says_why_and_where() {
    for platform in PLATFORMS {
        let c = case("an exempt resource changes", platform);
        assert_eq!(c["status"], "passed", "{c:#}");
        let idem = common::step(c, "idempotent");
        assert_eq!(idem["status"], "passed");
        assert_eq!(
            idem["message"],
            format!(
                "exempt: Exec[stamp] (tests/fixtures/puppet/{}/manifests/stamp.pp:3) returns: \
                 notrun → 0 (stamps the time by design)",
                module(platform)
            ),
            "on {platform}"
        );
    }
}

#[test]
fn a_stale_exemption_is_said() {
    for platform in PLATFORMS {
        let idem = common::step(case("a stale exemption", platform), "idempotent");
        assert_eq!(idem["status"], "passed");
        assert_eq!(
            idem["message"],
            "stale exemption: Exec[gone] did not change (was removed from the module): remove \
             it from `except`",
            "on {platform}"
        );
    }
}

#[test]
fn strict_defaults_hold_on_every_puppet_unless_turned_off() {
    for platform in PLATFORMS {
        // `fails_with: /Unknown variable/`: the apply failed, saying so.
        let failed = case("an undefined variable fails", platform);
        assert_eq!(failed["status"], "passed", "{failed:#}");
        assert!(
            common::step(failed, "apply")["output"]
                .as_str()
                .unwrap()
                .contains("Error: "),
            "on {platform}"
        );
        // On 8, `strict: false` keeps Puppet's own rules: there, the same failure.
        let lenient = match platform {
            "debian13" => case("strict off keeps Puppet 8's own rules", platform),
            _ => case("strict off lets it pass", platform),
        };
        assert_eq!(lenient["status"], "passed", "{lenient:#}");
    }
}
