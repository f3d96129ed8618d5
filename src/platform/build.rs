//! Making a platform's image: debootstrap a root filesystem on the host, finish it with
//! apt inside the new root, keep it as a tar in the host's cache (one per platform and
//! definition, so every engine imports the same tree and debootstrap runs once), and
//! import it through the engine; or send the definition directory to the engine as a
//! Dockerfile build context.

use crate::host::is_root;
use crate::labels;
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio_util::io::ReaderStream;

use super::{Platform, Source};
use crate::backend::{Backend, ImageMeta};

/// Why an image could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the {platform} image: {message}")]
pub struct BuildError {
    pub platform: String,
    pub message: String,
}

/// Progress lines, for the console.
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// Whether the platform's current image exists.
pub async fn is_current<B: Backend>(backend: &B, platform: &Platform) -> Result<bool, BuildError> {
    let found = backend
        .image(&platform.image())
        .await
        .map_err(|err| BuildError {
            platform: platform.name.clone(),
            message: err.to_string(),
        })?;
    Ok(found.is_some_and(|image| image.labels.get(labels::DEFINITION) == Some(&platform.hash())))
}

/// Makes sure the platform's image exists and is current; builds it when not (or when
/// `force`). Returns the image name.
pub async fn ensure<B: Backend>(
    backend: &B,
    platform: &Platform,
    source: Option<Source>,
    force: bool,
    progress: Progress<'_>,
) -> Result<String, BuildError> {
    let image = platform.image();
    if !force && is_current(backend, platform).await? {
        return Ok(image);
    }
    let fail = |message: String| BuildError {
        platform: platform.name.clone(),
        message,
    };
    let source = source.or(platform.default_source()).ok_or_else(|| {
        fail("its definition has neither a `debootstrap` section nor a Dockerfile".into())
    })?;
    match source {
        Source::Debootstrap => debootstrap(backend, platform, progress)
            .await
            .map_err(fail)?,
        Source::Dockerfile => dockerfile(backend, platform, progress)
            .await
            .map_err(fail)?,
    }
    Ok(image)
}

fn labels(platform: &Platform) -> Vec<(String, String)> {
    vec![
        (
            labels::MANAGED_BY.to_string(),
            labels::MANAGED_BY_VALUE.to_string(),
        ),
        (labels::DEFINITION.to_string(), platform.hash()),
        (labels::PLATFORM.to_string(), platform.name.clone()),
    ]
}

async fn dockerfile<B: Backend>(
    backend: &B,
    platform: &Platform,
    progress: Progress<'_>,
) -> Result<(), String> {
    if !platform.files.contains_key("Dockerfile") {
        return Err(format!("{} has no Dockerfile", platform.origin));
    }
    let mut builder = tar::Builder::new(Vec::new());
    for (name, content) in &platform.files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, content.as_slice())
            .map_err(|e| e.to_string())?;
    }
    let context = builder.into_inner().map_err(|e| e.to_string())?;
    let stream = futures_util::stream::once(async move { Ok(bytes::Bytes::from(context)) });
    let labels: HashMap<String, String> = labels(platform).into_iter().collect();
    backend
        .build_image(Box::pin(stream), &platform.image(), labels, progress)
        .await
        .map_err(|err| err.to_string())
}

/// Where built root filesystems are kept, so a second engine (or a rebuilt engine's
/// store) imports the same tree instead of running debootstrap again:
/// `$REHEARSAL_CACHE/rootfs`, else `/var/cache/rehearsal/rootfs`.
pub fn rootfs_cache() -> std::path::PathBuf {
    std::env::var_os("REHEARSAL_CACHE")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/var/cache/rehearsal".into())
        .join("rootfs")
}

/// The cached root filesystem of the platform's current definition.
fn rootfs_tar(platform: &Platform) -> std::path::PathBuf {
    rootfs_cache().join(format!("{}-{}.tar", platform.name, &platform.hash()[..16]))
}

async fn debootstrap<B: Backend>(
    backend: &B,
    platform: &Platform,
    progress: Progress<'_>,
) -> Result<(), String> {
    let tar = rootfs_tar(platform);
    if tar.is_file() {
        progress(&format!(
            "reusing the root filesystem built before ({})",
            tar.display()
        ));
    } else {
        build_rootfs(platform, &tar, progress).await?;
    }
    progress("importing the root filesystem");
    let file = tokio::fs::File::open(&tar)
        .await
        .map_err(|err| format!("cannot read {}: {err}", tar.display()))?;
    let stream = ReaderStream::with_capacity(file, 1 << 20).boxed();
    let meta = ImageMeta {
        command: vec!["/lib/systemd/systemd".into()],
        env: vec![("container".into(), "docker".into())],
        labels: labels(platform).into_iter().collect(),
    };
    backend
        .import_rootfs(stream, &platform.image(), &meta)
        .await
        .map_err(|err| err.to_string())
}

/// debootstraps the platform's root, finishes it with apt, and writes it as the tar
/// `dest` (whole or not at all); older trees of the platform in the cache go.
async fn build_rootfs(
    platform: &Platform,
    dest: &Path,
    progress: Progress<'_>,
) -> Result<(), String> {
    let Some(boot) = &platform.definition.debootstrap else {
        return Err(format!("{} has no `debootstrap` section", platform.origin));
    };
    if which("debootstrap").is_none() {
        return Err(
            "debootstrap is not installed: run `harness/engine` (it installs it), \
                    or build from the Dockerfile with `--from dockerfile`"
                .into(),
        );
    }
    if !is_root() {
        return Err(
            "debootstrap needs root: run the build as root (sudo rehearsal images build)".into(),
        );
    }
    // /var/tmp, not /tmp: a root filesystem does not belong in a tmpfs.
    let work = tempfile::Builder::new()
        .prefix("rehearsal-rootfs-")
        .tempdir_in("/var/tmp")
        .map_err(|err| format!("cannot make a work directory in /var/tmp: {err}"))?;
    let root = work.path().join("root");
    let log = work.path().join("build.log");

    progress(&format!("debootstrap {} ({})", boot.suite, boot.variant));
    let mut cmd = Command::new("debootstrap");
    cmd.arg(format!("--variant={}", boot.variant));
    if !boot.include.is_empty() {
        cmd.arg(format!("--include={}", boot.include.join(",")));
    }
    cmd.arg(&boot.suite).arg(&root);
    if let Some(mirror) = &boot.mirror {
        cmd.arg(mirror);
    }
    run_logged(cmd, &log, progress).await?;

    if !platform.definition.packages.is_empty() {
        progress(&format!(
            "apt-get install {}",
            platform.definition.packages.join(" ")
        ));
        // Services must not start inside the build root.
        std::fs::write(root.join("usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n")
            .and_then(|_| set_mode(&root.join("usr/sbin/policy-rc.d"), 0o755))
            .map_err(|err| format!("cannot write policy-rc.d: {err}"))?;
        let script = format!(
            "set -e; export DEBIAN_FRONTEND=noninteractive; apt-get -f install -y -q; \
             apt-get install -y -q --no-install-recommends {}",
            platform.definition.packages.join(" ")
        );
        let mut cmd = Command::new("chroot");
        cmd.arg(&root).args(["sh", "-c", &script]);
        run_logged(cmd, &log, progress).await?;
        let _ = std::fs::remove_file(root.join("usr/sbin/policy-rc.d"));
    }
    let mut cmd = Command::new("chroot");
    cmd.arg(&root)
        .args(["sh", "-c", "apt-get clean && puppet --version"]);
    run_logged(cmd, &log, progress)
        .await
        .map_err(|err| format!("the new root has no working Puppet: {err}"))?;

    let dir = dest.parent().expect("a file in the cache");
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot make the cache directory {}: {err}", dir.display()))?;
    let partial = tempfile::Builder::new()
        .prefix(".rootfs-")
        .suffix(".tar")
        .tempfile_in(dir)
        .map_err(|err| format!("cannot write in {}: {err}", dir.display()))?;
    let output = Command::new("tar")
        .args(["--numeric-owner", "--xattrs", "-C"])
        .arg(&root)
        .arg("-cf")
        .arg(partial.path())
        .arg(".")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|err| format!("cannot run tar: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "tar failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    // Only the current definition's tree stays.
    if let Ok(entries) = std::fs::read_dir(dir) {
        let prefix = format!("{}-", platform.name);
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let hash = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".tar"));
            if hash.is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    // Readable by others: a rootless engine's user imports the same tree.
    set_mode(partial.path(), 0o644)
        .map_err(|err| format!("cannot share {}: {err}", dest.display()))?;
    partial
        .persist(dest)
        .map_err(|err| format!("cannot keep {}: {err}", dest.display()))?;
    Ok(())
}

/// Runs a build command, appending its output to the log and passing each line to
/// `progress`; a failure quotes the log's last lines.
async fn run_logged(mut cmd: Command, log: &Path, progress: Progress<'_>) -> Result<(), String> {
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|err| format!("cannot run {program}: {err}"))?;
    let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut lines =
        futures_util::stream::select(tokio_stream_lines(stdout), tokio_stream_lines(stderr));
    let mut tail: Vec<String> = Vec::new();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .ok();
    while let Some(line) = lines.next().await {
        if let Some(f) = file.as_mut() {
            use std::io::Write;
            let _ = writeln!(f, "{line}");
        }
        // debootstrap's stages, not its line per package.
        const PER_PACKAGE: &[&str] = &[
            "Retrieving ",
            "Validating ",
            "Extracting ",
            "Unpacking ",
            "Configuring ",
        ];
        if let Some(stage) = line.strip_prefix("I: ") {
            if !PER_PACKAGE.iter().any(|p| stage.starts_with(p))
                || stage.starts_with("Retrieving Release")
            {
                progress(stage);
            }
        }
        tail.push(line);
        if tail.len() > 15 {
            tail.remove(0);
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|err| format!("{program} failed: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed ({status}); its last lines:\n  {}",
            tail.join("\n  ")
        ))
    }
}

fn tokio_stream_lines<R: tokio::io::AsyncBufRead + Unpin + Send + 'static>(
    lines: tokio::io::Lines<R>,
) -> futures_util::stream::BoxStream<'static, String> {
    futures_util::stream::unfold(lines, |mut lines| async move {
        match lines.next_line().await {
            Ok(Some(line)) => Some((line, lines)),
            _ => None,
        }
    })
    .boxed()
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
