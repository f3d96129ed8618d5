//! What LXC does not keep and the harness needs: an image's name, id, labels, command,
//! environment, creation time and size, and a container's labels, image and creation
//! time. Each LXC container the backend makes (image or case) has a `rehearsal.json`
//! beside its `config`; a directory of the lxcpath without one is not the harness's and
//! is never touched. The file is written whole and renamed into place, so a reader never
//! sees half of one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The metadata file's name, beside the LXC `config`.
pub const FILE: &str = "rehearsal.json";

/// Where the backend keeps its own work (image imports and commits under way, removals)
/// in the lxcpath: a hidden directory, which `lxc-ls` does not list.
pub const WORK_DIR: &str = ".rehearsal";

/// One LXC container of the harness: an image, or a container made from one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    Image(ImageRecord),
    Container(ContainerRecord),
}

/// An image: a stopped LXC container whose `rootfs` directory is the file system its
/// containers start from (an overlay's lower layer); never started itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// `repo:tag`; `None` once another image took the name while containers still stood
    /// on this one (Docker's dangling image).
    pub name: Option<String>,
    /// Unique per import or commit (`sha256:` and 64 hex digits, like Docker's ids): a
    /// rebuilt image has a new one, so snapshot keys made from it change.
    pub id: String,
    pub labels: BTreeMap<String, String>,
    /// Seconds since the Unix epoch.
    pub created: i64,
    /// Bytes of its files.
    pub size: i64,
    /// What its containers start as PID 1.
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// A container: an overlay snapshot (`lxc-copy -s -B overlay`) of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub name: String,
    /// The image it was made from, by name and by id (the id finds it once dangling).
    pub image: String,
    pub image_id: String,
    /// The image's labels with the container's own over them, as Docker merges them.
    pub labels: BTreeMap<String, String>,
    /// Seconds since the Unix epoch.
    pub created: i64,
    pub hostname: String,
    /// The image's command and environment, for a commit of this container.
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Its IPv4 address on the bridge, when it has one (released on removal).
    #[serde(default)]
    pub address: Option<String>,
}

impl Record {
    pub fn labels(&self) -> &BTreeMap<String, String> {
        match self {
            Record::Image(image) => &image.labels,
            Record::Container(container) => &container.labels,
        }
    }
}

/// A new image id: random, in Docker's shape.
pub fn new_id() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(uuid::Uuid::new_v4().as_bytes());
    hasher.update(
        chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or(0)
            .to_le_bytes(),
    );
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Whether `labels` carries all of `wanted` (an empty value: the label with any value).
pub fn has_labels(labels: &BTreeMap<String, String>, wanted: &[(&str, &str)]) -> bool {
    wanted.iter().all(|(key, value)| match labels.get(*key) {
        Some(found) => value.is_empty() || found == value,
        None => false,
    })
}

/// The record in an LXC container's directory, if it is the harness's.
pub fn read(dir: &Path) -> Option<Record> {
    let text = std::fs::read(dir.join(FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes the record into an LXC container's directory, whole or not at all.
pub fn write(dir: &Path, record: &Record) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    let temp = dir.join(format!(".{FILE}.{}", uuid::Uuid::new_v4().simple()));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(&text)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, dir.join(FILE)).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// Every record of the harness in the lxcpath, with its LXC name.
pub fn scan(lxcpath: &Path) -> std::io::Result<Vec<(String, Record)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(lxcpath)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if let Some(record) = read(&entry.path()) {
            found.push((name, record));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The images in the lxcpath.
pub fn images(lxcpath: &Path) -> std::io::Result<Vec<(String, ImageRecord)>> {
    Ok(scan(lxcpath)?
        .into_iter()
        .filter_map(|(dir, record)| match record {
            Record::Image(image) => Some((dir, image)),
            Record::Container(_) => None,
        })
        .collect())
}

/// The containers in the lxcpath.
pub fn containers(lxcpath: &Path) -> std::io::Result<Vec<ContainerRecord>> {
    Ok(scan(lxcpath)?
        .into_iter()
        .filter_map(|(_, record)| match record {
            Record::Container(container) => Some(container),
            Record::Image(_) => None,
        })
        .collect())
}

/// The image named `name` (normalized) or with the id `name`, and its LXC name.
pub fn find_image(lxcpath: &Path, name: &str) -> std::io::Result<Option<(String, ImageRecord)>> {
    if name.starts_with("sha256:") {
        return Ok(images(lxcpath)?.into_iter().find(|(_, i)| i.id == name));
    }
    let Ok(dir) = super::names::image_dir(name) else {
        return Ok(None);
    };
    match read(&lxcpath.join(&dir)) {
        Some(Record::Image(image)) => Ok(Some((dir, image))),
        _ => Ok(None),
    }
}

/// The names of the containers that stand on the image `id` (its overlay's lower layer).
pub fn dependents(lxcpath: &Path, id: &str) -> std::io::Result<Vec<String>> {
    Ok(containers(lxcpath)?
        .into_iter()
        .filter(|c| c.image_id == id)
        .map(|c| c.name)
        .collect())
}

/// The backend's work directory in the lxcpath, made when missing.
pub fn work_dir(lxcpath: &Path) -> std::io::Result<PathBuf> {
    let dir = lxcpath.join(WORK_DIR);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Bytes of the files under `root`, each hard-linked file once.
pub fn tree_size(root: &Path) -> i64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total: u64 = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.nlink() <= 1 || seen.insert((meta.dev(), meta.ino())) {
                total += meta.len();
            }
        }
    }
    i64::try_from(total).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(name: Option<&str>) -> ImageRecord {
        ImageRecord {
            name: name.map(String::from),
            id: new_id(),
            labels: [("rehearsal.platform".to_string(), "debian12".to_string())].into(),
            created: 1_700_000_000,
            size: 42,
            command: vec!["/lib/systemd/systemd".into()],
            env: vec![("container".into(), "docker".into())],
        }
    }

    #[test]
    fn records_are_written_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let record = Record::Image(image(Some("rehearsal/debian12:abc")));
        write(dir.path(), &record).unwrap();
        assert_eq!(read(dir.path()), Some(record));
        // Nothing but the record is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE]);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(text.contains(r#""kind": "image""#), "{text}");
    }

    #[test]
    fn a_scan_finds_the_harness_records_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let img = root.path().join("rehearsal+debian12@abc");
        std::fs::create_dir(&img).unwrap();
        write(&img, &Record::Image(image(Some("rehearsal/debian12:abc")))).unwrap();
        let case = root.path().join("rehearsal-1-0");
        std::fs::create_dir(&case).unwrap();
        let container = ContainerRecord {
            name: "rehearsal-1-0".into(),
            image: "rehearsal/debian12:abc".into(),
            image_id: match read(&img) {
                Some(Record::Image(i)) => i.id,
                _ => unreachable!(),
            },
            labels: [("rehearsal.run-id".to_string(), "1".to_string())].into(),
            created: 1,
            hostname: "h".into(),
            command: vec![],
            env: vec![],
            address: None,
        };
        write(&case, &Record::Container(container.clone())).unwrap();
        // Somebody else's container, and the backend's own work.
        std::fs::create_dir(root.path().join("theirs")).unwrap();
        std::fs::write(root.path().join("theirs/config"), "").unwrap();
        std::fs::create_dir(root.path().join(WORK_DIR)).unwrap();

        let found = scan(root.path()).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(containers(root.path()).unwrap(), [container]);
        let (dir, found) = find_image(root.path(), "rehearsal/debian12:abc")
            .unwrap()
            .unwrap();
        assert_eq!(dir, "rehearsal+debian12@abc");
        assert_eq!(
            find_image(root.path(), &found.id).unwrap().unwrap().0,
            "rehearsal+debian12@abc"
        );
        assert_eq!(find_image(root.path(), "rehearsal/other:x").unwrap(), None);
        assert_eq!(
            dependents(root.path(), &found.id).unwrap(),
            ["rehearsal-1-0"]
        );
        assert!(dependents(root.path(), &new_id()).unwrap().is_empty());
    }

    #[test]
    fn labels_match_exactly_or_by_key_alone() {
        let labels: BTreeMap<String, String> =
            [("a".to_string(), "1".to_string()), ("b".into(), "".into())].into();
        assert!(has_labels(&labels, &[("a", "1")]));
        assert!(has_labels(&labels, &[("a", ""), ("b", "")]));
        assert!(!has_labels(&labels, &[("a", "2")]));
        assert!(!has_labels(&labels, &[("c", "")]));
        assert!(has_labels(&labels, &[]));
    }

    #[test]
    fn ids_are_unique_and_shaped_like_dockers() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), "sha256:".len() + 64);
        assert!(a.starts_with("sha256:"));
    }

    #[test]
    fn a_tree_counts_each_hard_linked_file_once() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("d")).unwrap();
        std::fs::write(root.path().join("d/a"), [0u8; 100]).unwrap();
        std::fs::hard_link(root.path().join("d/a"), root.path().join("b")).unwrap();
        std::fs::write(root.path().join("c"), [0u8; 10]).unwrap();
        assert_eq!(tree_size(root.path()), 110);
    }
}
