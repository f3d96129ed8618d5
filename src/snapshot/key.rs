//! A layer's cache key: SHA-256 over everything that could change what the layer's apply
//! leaves behind. Files are hashed by content (and path, type and mode), so a checkout
//! on another machine or a `touch` keeps the key; any edit changes it.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Layer, LayerError};

/// Bumped when what a snapshot holds changes for the same inputs (the build steps).
const FORMAT: &str = "rehearsal-snapshot/1";

pub(super) fn layer_key(layer: &Layer, parent_id: &str) -> Result<String, LayerError> {
    let mut hash = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hash.update(name.as_bytes());
        hash.update((value.len() as u64).to_le_bytes());
        hash.update(value);
    };
    field("format", FORMAT.as_bytes());
    field("parent", parent_id.as_bytes());
    field("kind", layer.kind.name().as_bytes());
    field("code", layer.code.as_bytes());
    field("modulepath", layer.modulepath.as_bytes());
    field(
        "hiera_data",
        serde_json::to_string(&layer.hiera_data)
            .unwrap_or_default()
            .as_bytes(),
    );
    field(
        "facts",
        serde_json::to_string(&layer.facts)
            .unwrap_or_default()
            .as_bytes(),
    );
    for (host, at) in &layer.mounts {
        field("mount", at.as_bytes());
        field("tree", &tree_hash(host)?);
    }
    if let Some(config) = &layer.hiera_config {
        // The config's whole directory is mounted: its datadirs live there.
        field(
            "hiera_config",
            config
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .as_bytes(),
        );
        if let Some(dir) = config.parent() {
            field("hiera_tree", &tree_hash(dir)?);
        }
    }
    Ok(format!("{:x}", hash.finalize()))
}

/// SHA-256 over a directory tree: each entry's relative path, type, mode and content, in
/// name order. Version-control directories are left out.
pub(super) fn tree_hash(root: &Path) -> Result<Vec<u8>, LayerError> {
    let mut hash = Sha256::new();
    walk(root, root, &mut hash).map_err(|source| LayerError::Tree {
        dir: root.to_path_buf(),
        source,
    })?;
    Ok(hash.finalize().to_vec())
}

fn walk(root: &Path, dir: &Path, hash: &mut Sha256) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name == ".git" || name == ".svn" || name == ".hg" {
            continue;
        }
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let meta = fs::symlink_metadata(&path)?;
        hash.update(rel.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(meta.permissions().mode().to_le_bytes());
        if meta.file_type().is_symlink() {
            hash.update(b"l");
            hash.update(fs::read_link(&path)?.to_string_lossy().as_bytes());
        } else if meta.is_dir() {
            hash.update(b"d");
            walk(root, &path, hash)?;
        } else {
            hash.update(b"f");
            hash.update(meta.len().to_le_bytes());
            let mut file = fs::File::open(&path)?;
            let mut buf = [0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hash.update(&buf[..n]);
            }
        }
        hash.update([0]);
    }
    Ok(())
}
