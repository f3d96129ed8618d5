//! Where the paths a spec names may lead. What a spec names is mounted into containers
//! (fixtures, the hiera config's directory) or applied there (a case's manifest file), and
//! what a container prints ends up in reports and review comments: a spec must not be a
//! way to read the host's files. So:
//!
//! - a case's `manifest_file` and `goss` files stay inside the module (the spec's
//!   directory);
//! - fixtures and the hiera config stay inside the repository: the outermost directory
//!   above the module that holds a `.git` (the outermost, so that modules kept as
//!   submodules may use their siblings). A gate runs in a git checkout; a tree outside git
//!   is someone's own, and its fixtures and hiera config may be anywhere.
//!
//! Paths are compared once resolved, symbolic links followed.

use std::path::{Path, PathBuf};

/// The repository a module at `module_dir` belongs to; `None` outside git.
pub fn repository_of(module_dir: &Path) -> Option<PathBuf> {
    module_dir
        .ancestors()
        .filter(|dir| dir.join(".git").exists())
        .last()
        .map(Path::to_path_buf)
}

/// `resolved` (canonical) must be inside the module at `module_dir`.
pub fn inside_module(written: &str, resolved: &Path, module_dir: &Path) -> Result<(), String> {
    let module_dir = &module_dir
        .canonicalize()
        .unwrap_or_else(|_| module_dir.to_path_buf());
    if resolved.starts_with(module_dir) {
        return Ok(());
    }
    Err(format!(
        "`{written}` is outside the module ({}), at {}: a case's files must be inside the \
         module (hint: move the file into the module, under `examples/` for one)",
        module_dir.display(),
        resolved.display()
    ))
}

/// `resolved` (canonical) must be inside the repository of the module at `module_dir`.
pub fn inside_repository(written: &str, resolved: &Path, module_dir: &Path) -> Result<(), String> {
    let module_dir = module_dir
        .canonicalize()
        .unwrap_or_else(|_| module_dir.to_path_buf());
    let Some(root) = repository_of(&module_dir) else {
        return Ok(());
    };
    if resolved.starts_with(&root) {
        return Ok(());
    }
    Err(format!(
        "`{written}` is outside the repository ({}), at {}: fixtures and hiera files must be \
         inside it, since they are mounted into the containers (hint: copy the module or \
         file into the repository, or add it as a git submodule)",
        root.display(),
        resolved.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_is_the_outermost_git_tree() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        let module = root.join("repo/modules/web");
        std::fs::create_dir_all(&module).unwrap();
        assert_eq!(repository_of(&module), None);
        std::fs::create_dir_all(root.join("repo/.git")).unwrap();
        assert_eq!(repository_of(&module), Some(root.join("repo")));
        // A submodule's `.git` is a file; the superproject still holds its siblings.
        std::fs::write(module.join(".git"), "gitdir: ../../.git/modules/web\n").unwrap();
        assert_eq!(repository_of(&module), Some(root.join("repo")));
    }

    #[test]
    fn fixtures_stay_inside_a_git_repository_and_anywhere_outside_git() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        let module = root.join("repo/modules/web");
        std::fs::create_dir_all(&module).unwrap();
        let outside = root.join("elsewhere/lib");
        assert!(inside_repository("../../../elsewhere/lib", &outside, &module).is_ok());
        std::fs::create_dir_all(root.join("repo/.git")).unwrap();
        let inside = root.join("repo/vendor/lib");
        assert!(inside_repository("../../vendor/lib", &inside, &module).is_ok());
        let err = inside_repository("../../../elsewhere/lib", &outside, &module).unwrap_err();
        assert!(
            err.starts_with("`../../../elsewhere/lib` is outside the repository ("),
            "{err}"
        );
    }

    #[test]
    fn inside_and_outside() {
        let module = Path::new("/repo/modules/web");
        assert!(inside_module(
            "examples/a.pp",
            Path::new("/repo/modules/web/examples/a.pp"),
            module
        )
        .is_ok());
        let err =
            inside_module("../db/a.pp", Path::new("/repo/modules/db/a.pp"), module).unwrap_err();
        assert!(
            err.starts_with(
                "`../db/a.pp` is outside the module (/repo/modules/web), at /repo/modules/db/a.pp"
            ),
            "{err}"
        );
        // `/repo/modules/webby` is not inside `/repo/modules/web`.
        assert!(inside_module("x", Path::new("/repo/modules/webby/x"), module).is_err());
    }
}
