//! Report files are replaced in one step, so Jenkins (or a person) never reads half a file,
//! and a run that dies while writing leaves the previous report whole.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Writes `contents` to `path` atomically: into a temporary file in the same directory,
/// synced to disk, then renamed over `path`. Missing parent directories are created.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|e| annotate(e, "create the directory", dir))?;

    let mut builder = tempfile::Builder::new();
    builder.prefix(".rehearsal-").suffix(".tmp");
    // A temporary file is owner-only; a report gets the mode of any new file (umask applies).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder
        .tempfile_in(dir)
        .map_err(|e| annotate(e, "create a temporary file in", dir))?;
    temp.write_all(contents)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| annotate(e, "write", temp.path()))?;
    temp.persist(path)
        .map_err(|e| annotate(e.error, "replace", path))?;

    // Make the rename itself durable; not every platform can sync a directory, and the
    // report is already in place, so a failure here is not worth failing the run for.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Says which file operation failed, keeping the error's kind.
fn annotate(error: io::Error, action: &str, path: &Path) -> io::Error {
    io::Error::new(
        error.kind(),
        format!("failed to {action} {}: {error}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    #[test]
    fn creates_missing_directories_and_writes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/report.xml");
        write_atomically(&path, b"first").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
    }

    #[test]
    fn replaces_an_existing_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_gets_the_permissions_of_an_ordinary_new_file() {
        // Not the owner-only mode of a temporary file: Jenkins may read as another user.
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
        let ordinary = dir.path().join("ordinary");
        std::fs::write(&ordinary, b"x").unwrap();
        let path = dir.path().join("report.xml");
        write_atomically(&path, b"x").unwrap();
        assert_eq!(mode(&path) & 0o777, mode(&ordinary) & 0o777);
    }
}
