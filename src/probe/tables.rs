//! Reading the kernel's own tables as the probe sends them back: /proc/net sockets,
//! /proc/mounts and `ip -o addr`. Parsed here, not in the container, so the probe needs
//! no tool beyond `cat` and each format is unit-tested.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A socket that accepts connections or datagrams on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub address: String,
    pub port: u16,
}

/// The listening sockets of one /proc/net/{tcp,tcp6,udp,udp6} table: TCP sockets in
/// state LISTEN (0A), UDP sockets unconnected (07).
pub fn listeners(table: &str, udp: bool) -> Vec<Listener> {
    let wanted = if udp { "07" } else { "0A" };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split_whitespace();
            let local = cols.nth(1)?;
            let state = cols.nth(1)?;
            if !state.eq_ignore_ascii_case(wanted) {
                return None;
            }
            let (addr, port) = local.split_once(':')?;
            Some(Listener {
                address: hex_address(addr)?,
                port: u16::from_str_radix(port, 16).ok()?,
            })
        })
        .collect()
}

/// The kernel writes addresses as 32-bit words in its own byte order, in hex; the
/// engines this runs on (x86-64, arm64) are little-endian.
fn hex_address(hex: &str) -> Option<String> {
    if hex.len() != 8 && hex.len() != 32 {
        return None;
    }
    let mut bytes = Vec::with_capacity(16);
    for i in 0..hex.len() / 8 {
        let word = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    Some(match <[u8; 4]>::try_from(bytes.as_slice()) {
        Ok(v4) => Ipv4Addr::from(v4).to_string(),
        Err(_) => Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice()).ok()?).to_string(),
    })
}

/// One line of /proc/mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub source: String,
    pub target: String,
    pub filesystem: String,
    pub opts: Vec<String>,
}

/// The mount at `target` (the last one listed: it hides those beneath it).
pub fn mount_at(table: &str, target: &str) -> Option<Mount> {
    table
        .lines()
        .rev()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split(' ').collect();
            (cols.len() >= 4).then(|| Mount {
                source: unescape(cols[0]),
                target: unescape(cols[1]),
                filesystem: unescape(cols[2]),
                opts: cols[3].split(',').map(unescape).collect(),
            })
        })
        .find(|m| m.target == target.trim_end_matches('/') || (target == "/" && m.target == "/"))
}

/// /proc/mounts writes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = bytes
            .get(i + 1..i + 4)
            .filter(|d| d[0] <= b'3' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if let (b'\\', Some(d)) = (bytes[i], code) {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The addresses (CIDR form) in `ip -o addr show dev X` output.
pub fn interface_addrs(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "inet" || *w == "inet6")?;
            words.next().map(str::to_string)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 020011AC:1F90 010011AC:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
";
    const TCP6: &str =
        "  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 0
";
    const UDP: &str = "   sl  local_address rem_address   st
  100: 0B00007F:0035 00000000:0000 07 00000000:00000000
  101: 00000000:0044 0100007F:0035 01 00000000:00000000
";

    #[test]
    fn tcp_listeners_with_their_addresses() {
        assert_eq!(
            listeners(TCP, false),
            [
                Listener {
                    address: "0.0.0.0".into(),
                    port: 8080
                },
                Listener {
                    address: "127.0.0.1".into(),
                    port: 25
                },
            ],
            "the established connection on 8080 is not a listener"
        );
        assert_eq!(
            listeners(TCP6, false),
            [
                Listener {
                    address: "::".into(),
                    port: 22
                },
                Listener {
                    address: "::1".into(),
                    port: 631
                },
            ]
        );
    }

    #[test]
    fn udp_listeners_are_the_unconnected_sockets() {
        assert_eq!(
            listeners(UDP, true),
            [Listener {
                address: "127.0.0.11".into(),
                port: 53
            }]
        );
        assert!(listeners("garbage\nnot a table at all\n: : :", false).is_empty());
    }

    #[test]
    fn mounts_unescape_and_the_last_one_wins() {
        let table = "overlay / overlay rw,relatime,lowerdir=/x 0 0
tmpfs /run tmpfs rw,nosuid,nodev,size=65536k 0 0
/dev/sda1 /srv/my\\040data ext4 ro,noatime 0 0
tmpfs /run tmpfs rw,size=1k 0 0
";
        let run = mount_at(table, "/run").unwrap();
        assert_eq!(run.opts, ["rw", "size=1k"]);
        let data = mount_at(table, "/srv/my data/").unwrap();
        assert_eq!(data.source, "/dev/sda1");
        assert_eq!(data.filesystem, "ext4");
        assert_eq!(mount_at(table, "/").unwrap().filesystem, "overlay");
        assert_eq!(mount_at(table, "/nope"), None);
    }

    #[test]
    fn interface_addresses_in_cidr_form() {
        let out = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever
";
        assert_eq!(interface_addrs(out), ["127.0.0.1/8", "::1/128"]);
    }
}
