//! Debian's own hardened units, unedited, start and serve in a case container: redis
//! (`User=`, `PrivateUsers=`, `ProtectProc=invisible`), memcached and unbound (on `::1`),
//! journal-gatewayd (`DynamicUser=`, `PrivateNetwork=`), hostnamed. The spec is
//! `tests/fixtures/hardened/rehearsal.yaml`; `harness/test` runs this on every engine
//! (Debian 12 and 13 on Docker, Debian 12 on the others, whose images it builds).
//! The packages come from Debian's archive inside the case, so the case needs the network.

mod common;

use common::{repo, Rehearsal};

#[test]
fn hardened_units_start_and_serve() {
    let mut args = vec!["run".to_string(), "tests/fixtures/hardened".to_string()];
    if common::engine_name() != "docker" {
        args.extend(["-p".into(), "debian12".into()]);
    }
    let out = Rehearsal::new()
        .current_dir(repo())
        .args(args.iter().map(String::as_str))
        .json()
        .run();
    let cases = common::cases(out.json());
    assert!(!cases.is_empty(), "{}", out.stdout());
    for case in cases {
        assert_eq!(case["status"], "passed", "{case:#}\n{}", out.stdout());
    }
    out.exit(0);
}
