//! The Forge client against a local server that keeps the API v3 contract: releases by
//! name and version (`/v3/releases/<author>-<name>-<version>`), a module's releases page
//! by page (`/v3/releases?module=…`, `pagination.next`), archives sent through a redirect
//! (as the public Forge sends them to its CDN), SHA-256 and MD5 checksums. Nothing leaves
//! the machine.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;

/// A `.tar.gz` of a module: `entries` as (path, contents), `links` as (path, target).
fn archive(entries: &[(&str, &str)], links: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, text) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, text.as_bytes()).unwrap();
    }
    for (path, target) in links {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        tar.append_link(&mut header, path, target).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn module_archive(dashed: &str, version: &str) -> Vec<u8> {
    let top = format!("{dashed}-{version}");
    archive(
        &[
            (
                &format!("{top}/metadata.json"),
                &format!("{{\"name\": \"{dashed}\", \"version\": \"{version}\"}}"),
            ),
            (&format!("{top}/manifests/init.pp"), "class dep { }\n"),
        ],
        &[(&format!("{top}/manifests/alias.pp"), "init.pp")],
    )
}

/// The local Forge: its answers by path, and the paths asked for.
pub(crate) struct Server {
    pub(crate) base: String,
    asked: Arc<Mutex<Vec<String>>>,
}

fn release(
    dashed: &str,
    version: &str,
    body: &[u8],
    checksum: &str,
    deleted: bool,
) -> serde_json::Value {
    let sha = hex(&Sha256::digest(body));
    let md5 = {
        use md5::Digest as _;
        hex(&md5::Md5::digest(body))
    };
    serde_json::json!({
        "slug": format!("{dashed}-{version}"),
        "version": version,
        "file_uri": format!("/v3/files/{dashed}-{version}.tar.gz"),
        "file_sha256": if checksum == "sha256" { serde_json::json!(sha) } else if checksum == "bad" { serde_json::json!("00".repeat(32)) } else { serde_json::Value::Null },
        "file_md5": md5,
        "deleted_at": if deleted { serde_json::json!("2025-01-01 00:00:00 -0800") } else { serde_json::Value::Null },
    })
}

impl Server {
    pub(crate) fn start() -> Server {
        let mut files: HashMap<String, Vec<u8>> = HashMap::new();
        let mut json: HashMap<String, serde_json::Value> = HashMap::new();
        let dashed = "test-dep";
        let versions = [
            ("1.0.0", false),
            ("1.2.0", false),
            ("2.0.0-rc1", false),
            ("2.1.0", true),
            ("1.5.0", false),
        ];
        let mut all = Vec::new();
        for (version, deleted) in versions {
            let body = module_archive(dashed, version);
            let r = release(dashed, version, &body, "sha256", deleted);
            json.insert(format!("/v3/releases/{dashed}-{version}"), r.clone());
            files.insert(format!("/cdn/{dashed}-{version}.tar.gz"), body);
            all.push(r);
        }
        // Two pages: the second holds 1.5.0.
        json.insert(
            "/v3/releases?module=test-dep&limit=100&sort_by=release_date".into(),
            serde_json::json!({"pagination": {"next": "/v3/releases?module=test-dep&limit=100&offset=100&sort_by=release_date"}, "results": all[..4]}),
        );
        json.insert(
            "/v3/releases?module=test-dep&limit=100&offset=100&sort_by=release_date".into(),
            serde_json::json!({"pagination": {"next": null}, "results": all[4..]}),
        );
        // A release whose archive does not match its checksum; one with MD5 alone; one
        // whose archive has a link leading out.
        for (name, checksum, body) in [
            ("test-bad", "bad", module_archive("test-bad", "1.0.0")),
            ("test-md5", "md5", module_archive("test-md5", "1.0.0")),
            (
                "test-evil",
                "sha256",
                archive(
                    &[("test-evil-1.0.0/manifests/init.pp", "")],
                    &[("test-evil-1.0.0/x", "../../../etc/passwd")],
                ),
            ),
        ] {
            json.insert(
                format!("/v3/releases/{name}-1.0.0"),
                release(name, "1.0.0", &body, checksum, false),
            );
            files.insert(format!("/cdn/{name}-1.0.0.tar.gz"), body);
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let seen = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                reader.read_line(&mut line).unwrap_or(0);
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(path.clone());
                let (status, kind, body, extra): (&str, &str, Vec<u8>, String) = if let Some(
                    value,
                ) =
                    json.get(&path)
                {
                    (
                        "200 OK",
                        "application/json",
                        value.to_string().into_bytes(),
                        String::new(),
                    )
                } else if let Some(name) = path.strip_prefix("/v3/files/") {
                    (
                        "302 Found",
                        "text/plain",
                        Vec::new(),
                        format!("Location: /cdn/{name}\r\n"),
                    )
                } else if let Some(body) = files.get(&path) {
                    (
                        "200 OK",
                        "application/octet-stream",
                        body.clone(),
                        String::new(),
                    )
                } else {
                    ("404 Not Found", "application/json", br#"{"message":"404 Not Found","errors":["The requested resource could not be found"]}"#.to_vec(), String::new())
                };
                let head = format!("HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Server { base, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

#[test]
fn an_exact_release_is_downloaded_through_its_redirect_checked_unpacked_and_cached() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let forge = Forge::new(&server.base, cache.path().to_path_buf(), false).unwrap();
    let got = forge
        .fetch("test/dep", &Want::Exact("1.2.0".into()))
        .unwrap();
    assert_eq!(got.version, "1.2.0");
    assert_eq!(got.path, cache.path().join("test-dep-1.2.0"));
    assert_eq!(
        std::fs::read_to_string(got.path.join("manifests/init.pp")).unwrap(),
        "class dep { }\n"
    );
    assert_eq!(
        std::fs::read_link(got.path.join("manifests/alias.pp")).unwrap(),
        Path::new("init.pp")
    );
    assert_eq!(
        server.asked(),
        [
            "/v3/releases/test-dep-1.2.0",
            "/v3/files/test-dep-1.2.0.tar.gz",
            "/cdn/test-dep-1.2.0.tar.gz"
        ]
    );
    // Cached by name and version: neither online nor offline asks again.
    forge
        .fetch("test/dep", &Want::Exact("1.2.0".into()))
        .unwrap();
    let offline = Forge::new(&server.base, cache.path().to_path_buf(), true).unwrap();
    assert_eq!(
        offline
            .fetch("test/dep", &Want::Exact("1.2.0".into()))
            .unwrap(),
        got
    );
    assert_eq!(server.asked().len(), 3);
}

#[test]
fn the_newest_release_in_a_range_over_every_page_skipping_deleted_and_prereleases() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let forge = Forge::new(
        &format!("{}/", server.base),
        cache.path().to_path_buf(),
        false,
    )
    .unwrap();
    assert_eq!(
        forge
            .fetch("test/dep", &Want::Range(">= 1.0.0 < 2.0.0".into()))
            .unwrap()
            .version,
        "1.5.0"
    );
    assert_eq!(
        forge.fetch("test/dep", &Want::Newest).unwrap().version,
        "1.5.0"
    );
    assert_eq!(
        forge
            .fetch("test/dep", &Want::Range("1.0.x".into()))
            .unwrap()
            .version,
        "1.0.0"
    );
    let err = forge
        .fetch("test/dep", &Want::Range(">= 3.0.0".into()))
        .unwrap_err();
    assert_eq!(
        err,
        format!(
            "{} has no release of test/dep in the newest in >= 3.0.0",
            server.base
        )
    );
    // Offline, the newest cached release the range allows.
    let offline = Forge::new(&server.base, cache.path().to_path_buf(), true).unwrap();
    assert_eq!(
        offline
            .fetch("test/dep", &Want::Range("< 1.2.0".into()))
            .unwrap()
            .version,
        "1.0.0"
    );
    assert!(offline
        .fetch("test/dep", &Want::Range(">= 1.6.0".into()))
        .unwrap_err()
        .contains("--offline"));
}

#[test]
fn a_bad_checksum_an_unknown_release_and_a_link_leading_out_unpack_nothing() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let forge = Forge::new(&server.base, cache.path().to_path_buf(), false).unwrap();
    let err = forge
        .fetch("test/bad", &Want::Exact("1.0.0".into()))
        .unwrap_err();
    assert!(
        err.starts_with(&format!("the archive of test/bad 1.0.0 from {}/cdn/test-bad-1.0.0.tar.gz does not match its SHA-256", server.base)),
        "{err}"
    );
    let err = forge
        .fetch("test/dep", &Want::Exact("9.9.9".into()))
        .unwrap_err();
    assert_eq!(
        err,
        format!("{} has no release 9.9.9 of test/dep", server.base)
    );
    let err = forge
        .fetch("test/evil", &Want::Exact("1.0.0".into()))
        .unwrap_err();
    assert!(
        err.contains("the link `test-evil-1.0.0/x` leads outside the module"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "nothing is left in the cache: {left:?}");
    // A mirror that gives only MD5 is checked by it.
    assert_eq!(
        forge
            .fetch("test/md5", &Want::Exact("1.0.0".into()))
            .unwrap()
            .version,
        "1.0.0"
    );
}

#[test]
fn an_unreachable_forge_is_named_without_its_credentials() {
    let cache = tempfile::tempdir().unwrap();
    let forge = Forge::new(
        "http://user:pw@127.0.0.1:9",
        cache.path().to_path_buf(),
        false,
    )
    .unwrap();
    let err = forge.fetch("test/dep", &Want::Newest).unwrap_err();
    assert!(
        err.starts_with("cannot reach http://***@127.0.0.1:9/v3/releases?module=test-dep"),
        "{err}"
    );
    assert!(!err.contains("pw"), "{err}");
}

#[test]
fn paths_and_links_that_lead_out_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // tar's builder refuses `..`, so the name is written into the header by hand.
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..11].copy_from_slice(b"top/../../x");
    header.set_size(1);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append(&header, &b"x"[..]).unwrap();
    let bad = tar.into_inner().unwrap().finish().unwrap();
    assert!(unpack(&bad, dir.path())
        .unwrap_err()
        .contains("leads outside the module"));
    assert!(!dir.path().parent().unwrap().join("x").exists());
    let absolute = archive(&[("top/a", "")], &[("top/b", "/etc/passwd")]);
    assert!(unpack(&absolute, dir.path())
        .unwrap_err()
        .contains("leads outside"));
    let inside = archive(&[("top/a/b", "")], &[("top/a/c", "../a/b")]);
    let fresh = tempfile::tempdir().unwrap();
    unpack(&inside, fresh.path()).unwrap();
    assert!(
        fresh.path().join("a/c").is_file(),
        "the link inside resolves"
    );
}
