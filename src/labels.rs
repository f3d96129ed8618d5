//! The labels the harness puts on containers and images, in one place: the runner, the
//! snapshot layers, the image builds, `clean` and `login` find what they made by these.

/// Every container and image of the harness carries this label…
pub const MANAGED_BY: &str = "rehearsal.managed-by";
/// …with this value.
pub const MANAGED_BY_VALUE: &str = "rehearsal";
/// The run a container belongs to, so runs never touch each other's.
pub const RUN_ID: &str = "rehearsal.run-id";
/// A case container's module, case and platform (`login` finds a case's container by them).
pub const MODULE: &str = "rehearsal.module";
pub const CASE: &str = "rehearsal.case";
pub const PLATFORM: &str = "rehearsal.platform";
/// On a platform image: the content hash of its definition.
pub const DEFINITION: &str = "rehearsal.definition";

/// On a snapshot image: what it is (`baseline` or `prepare`).
pub const SNAPSHOT: &str = "rehearsal.snapshot";
/// A snapshot's whole content hash.
pub const SNAPSHOT_KEY: &str = "rehearsal.snapshot.key";
/// The file that defines a snapshot's code (site file or spec).
pub const SNAPSHOT_OF: &str = "rehearsal.snapshot.of";
/// The image a snapshot was made from.
pub const SNAPSHOT_PARENT: &str = "rehearsal.snapshot.parent";
/// On a snapshot build container: the host and process holding its lock.
pub const LOCK_HOST: &str = "rehearsal.lock.host";
pub const LOCK_PID: &str = "rehearsal.lock.pid";
/// What a container is for, when it is not a case's ([`ROLE_BUILD`]).
pub const ROLE: &str = "rehearsal.role";
/// The value of [`ROLE`] on a snapshot build container.
pub const ROLE_BUILD: &str = "snapshot-build";
