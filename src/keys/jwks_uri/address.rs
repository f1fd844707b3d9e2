//! Which IP addresses a `jwks_uri` fetch may connect to. The URL is chosen by whoever
//! registered the application, so without this check Pintu would be a proxy into its own
//! network (server-side request forgery).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where an address leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Globally routable: always allowed.
    Public,
    /// Loopback, RFC 1918, shared (RFC 6598), unique-local: only when configured.
    Internal,
    /// Unspecified, link-local (cloud metadata services live at 169.254.169.254), multicast,
    /// broadcast, documentation, benchmarking and reserved ranges: never.
    Never,
}

/// Refuses an address the configuration does not allow.
pub fn check_address(ip: IpAddr, allow_internal: bool) -> Result<(), String> {
    match reach(ip) {
        Reach::Public => Ok(()),
        Reach::Internal if allow_internal => Ok(()),
        Reach::Internal => Err(format!("{ip} is a private or loopback address")),
        Reach::Never => Err(format!("{ip} is not a routable unicast address")),
    }
}

fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => reach_v6(v6),
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() || ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        return Reach::Internal;
    }
    let never = a == 0 // "this network" (RFC 791)
        || ip.is_link_local()
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments (RFC 6890)
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19)) // benchmarking (RFC 2544)
        || a >= 224; // multicast, reserved, broadcast
    if never { Reach::Never } else { Reach::Public }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return reach_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s[0] {
        _ if ip.is_loopback() => Reach::Internal,
        _ if ip.is_unspecified() => Reach::Never,
        // NAT64 well-known prefix (RFC 6052): where the embedded IPv4 address leads.
        0x0064 if s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] => reach_v4(embedded(s[6], s[7])),
        // Local-use NAT64 (RFC 8215).
        0x0064 if s[1] == 0xff9b && s[2] == 1 => Reach::Internal,
        // 6to4 (RFC 3056): the IPv4 address is in bits 16..48.
        0x2002 => reach_v4(embedded(s[1], s[2])),
        // Teredo (RFC 4380) hides its address; documentation (RFC 3849).
        0x2001 if s[1] == 0 || s[1] == 0x0db8 => Reach::Never,
        0xfc00..=0xfdff => Reach::Internal, // unique local (RFC 4193)
        0xfec0..=0xfeff => Reach::Internal, // site-local (deprecated, RFC 3879)
        0x2000..=0x3fff => Reach::Public,   // global unicast
        _ => Reach::Never,                  // link-local fe80::/10, multicast ff00::/8, IPv4-compatible, reserved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &str) -> Reach {
        reach(s.parse().unwrap())
    }

    #[test]
    fn public_addresses_are_reachable() {
        for ip in ["203.0.114.1", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"] {
            assert_eq!(of(ip), Reach::Public, "{ip}");
        }
    }

    #[test]
    fn loopback_and_private_addresses_are_internal() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "::1", "fd00::1"] {
            assert_eq!(of(ip), Reach::Internal, "{ip}");
        }
        for ip in ["::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:c0a8:101::1"] {
            assert_eq!(of(ip), Reach::Internal, "{ip} hides an internal IPv4 address");
        }
    }

    #[test]
    fn link_local_and_special_addresses_are_never_reachable() {
        for ip in [
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "::",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
        ] {
            assert_eq!(of(ip), Reach::Never, "{ip}");
        }
    }

    #[test]
    fn internal_addresses_need_the_configuration() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(check_address(lo, false).is_err());
        assert!(check_address(lo, true).is_ok());
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert!(check_address(metadata, true).is_err(), "link-local stays refused even when allowed");
    }
}
