//! Exit statuses, as documented in the README. A leaf: the top-level error maps each
//! kind of failure to one of these, and a stage's own error (Gerrit's) may say which
//! applies to it.

/// Every case passed (or there was nothing to test).
pub const SUCCESS: u8 = 0;
/// At least one case failed or could not finish.
pub const TEST_FAILED: u8 = 1;
/// Bad usage or a bad spec: nothing was started.
pub const USAGE: u8 = 2;
/// The engine, an image or Gerrit is in trouble.
pub const ENGINE: u8 = 3;
/// Stopped by Ctrl-C or SIGTERM.
pub const INTERRUPTED: u8 = 130;
