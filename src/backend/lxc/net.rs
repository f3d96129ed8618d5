//! A case container's network on LXC: a veth on a host bridge (LXC's `lxcbr0` from
//! lxc-net, or the one `REHEARSAL_LXC_BRIDGE` names) with a fixed IPv4 address the backend
//! hands out, since a platform image configures no network of its own (Docker's engine
//! gives its containers an address; LXC leaves that to the container). Each address is a
//! file in the backend's work directory, made with `O_EXCL`, naming the container that
//! holds it; the container's removal frees it, and an address whose container is gone is
//! taken back.

use std::net::Ipv4Addr;
use std::path::Path;

/// The bridge's IPv4 address and prefix length, from `ip -j -4 addr show dev BRIDGE`.
pub fn parse_bridge_address(json: &str) -> Option<(Ipv4Addr, u8)> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.as_array()?.iter().find_map(|link| {
        link.get("addr_info")?.as_array()?.iter().find_map(|a| {
            if a.get("family")?.as_str()? != "inet" {
                return None;
            }
            let local = a.get("local")?.as_str()?.parse().ok()?;
            let prefix = u8::try_from(a.get("prefixlen")?.as_u64()?).ok()?;
            Some((local, prefix))
        })
    })
}

/// Whether a network device of this name exists on the host.
pub fn device_exists(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && Path::new("/sys/class/net").join(name).exists()
}

/// The addresses a container may take in the bridge's subnet, starting at one that
/// depends on its name (so concurrent starts rarely try the same first): every host
/// address but the bridge's own, the network's and the broadcast. At most 4096 tried.
pub fn candidates(bridge: Ipv4Addr, prefix: u8, name: &str) -> Vec<Ipv4Addr> {
    if !(8..=30).contains(&prefix) {
        return Vec::new();
    }
    let size: u32 = 1 << (32 - prefix);
    let network = u32::from(bridge) & !(size - 1);
    let hosts = size - 2;
    let start = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()))
        % hosts;
    (0..hosts.min(4096))
        .map(|i| Ipv4Addr::from(network + 1 + (start + i) % hosts))
        .filter(|a| *a != bridge)
        .collect()
}

/// Takes an address for `container` in `dir` (one file per address); `lxcpath` tells
/// whether the holder of a taken one still exists.
pub fn take(
    dir: &Path,
    lxcpath: &Path,
    candidates: &[Ipv4Addr],
    container: &str,
) -> std::io::Result<Option<Ipv4Addr>> {
    std::fs::create_dir_all(dir)?;
    for address in candidates {
        let file = dir.join(address.to_string());
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(container.as_bytes())?;
                    return Ok(Some(*address));
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&file).unwrap_or_default();
                    // Taken back only from a container that no longer exists (a file
                    // being written has no holder yet: left alone).
                    if !holder.is_empty() && !lxcpath.join(holder.trim()).exists() {
                        let _ = std::fs::remove_file(&file);
                        continue;
                    }
                    break;
                }
                Err(err) => return Err(err),
            }
        }
    }
    Ok(None)
}

/// Frees `address` if `container` holds it.
pub fn release(dir: &Path, address: &str, container: &str) {
    let file = dir.join(address);
    if std::fs::read_to_string(&file).is_ok_and(|holder| holder.trim() == container) {
        let _ = std::fs::remove_file(file);
    }
}

/// The container's `/etc/resolv.conf`: the host's, unless it names a resolver on the
/// host's loopback (unreachable from the container), then the bridge's own address
/// (where lxc-net's dnsmasq answers).
pub fn resolv_conf(host: &str, bridge: Option<Ipv4Addr>) -> String {
    let loopback = host.lines().any(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some("nameserver")
            && words
                .next()
                .is_some_and(|a| a.starts_with("127.") || a == "::1")
    });
    match (loopback, bridge) {
        (false, _) if host.contains("nameserver") => host.to_string(),
        (_, Some(bridge)) => format!("nameserver {bridge}\n"),
        _ => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_address_is_read_from_ip_json() {
        let json = r#"[{"ifindex":5,"ifname":"lxcbr0","addr_info":[{"family":"inet","local":"10.0.3.1","prefixlen":24,"broadcast":"10.0.3.255","scope":"global"}]}]"#;
        assert_eq!(
            parse_bridge_address(json),
            Some(("10.0.3.1".parse().unwrap(), 24))
        );
        assert_eq!(parse_bridge_address("[]"), None);
        assert_eq!(parse_bridge_address("not json"), None);
    }

    #[test]
    fn candidates_are_the_subnets_hosts_but_the_bridge() {
        let bridge: Ipv4Addr = "10.0.3.1".parse().unwrap();
        let all = candidates(bridge, 24, "rehearsal-1-0");
        assert_eq!(all.len(), 253);
        assert!(!all.contains(&bridge));
        assert!(!all.contains(&"10.0.3.0".parse().unwrap()));
        assert!(!all.contains(&"10.0.3.255".parse().unwrap()));
        assert_ne!(
            candidates(bridge, 24, "rehearsal-1-0")[0],
            candidates(bridge, 24, "rehearsal-1-1")[0]
        );
        assert!((4095..=4096).contains(&candidates(bridge, 16, "x").len()));
        assert!(candidates(bridge, 31, "x").is_empty());
    }

    #[test]
    fn an_address_is_held_once_and_taken_back_from_a_gone_container() {
        let lxcpath = tempfile::tempdir().unwrap();
        let dir = lxcpath.path().join(".rehearsal/addresses");
        let pool: Vec<Ipv4Addr> = ["10.0.3.2", "10.0.3.3"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        std::fs::create_dir(lxcpath.path().join("a")).unwrap();
        std::fs::create_dir(lxcpath.path().join("b")).unwrap();
        let a = take(&dir, lxcpath.path(), &pool, "a").unwrap();
        let b = take(&dir, lxcpath.path(), &pool, "b").unwrap();
        assert_eq!((a, b), (Some(pool[0]), Some(pool[1])));
        assert_eq!(take(&dir, lxcpath.path(), &pool, "c").unwrap(), None);
        // `a` is gone: its address is free for `c`.
        std::fs::remove_dir(lxcpath.path().join("a")).unwrap();
        std::fs::create_dir(lxcpath.path().join("c")).unwrap();
        assert_eq!(
            take(&dir, lxcpath.path(), &pool, "c").unwrap(),
            Some(pool[0])
        );
        release(&dir, "10.0.3.3", "not-b");
        assert!(dir.join("10.0.3.3").exists());
        release(&dir, "10.0.3.3", "b");
        assert!(!dir.join("10.0.3.3").exists());
    }

    #[test]
    fn a_resolver_on_the_hosts_loopback_is_replaced_by_the_bridge() {
        let bridge = Some("10.0.3.1".parse().unwrap());
        assert_eq!(
            resolv_conf("nameserver 127.0.0.53\nsearch x\n", bridge),
            "nameserver 10.0.3.1\n"
        );
        let host = "nameserver 10.255.255.53\n";
        assert_eq!(resolv_conf(host, bridge), host);
        assert_eq!(resolv_conf("", bridge), "nameserver 10.0.3.1\n");
    }
}
