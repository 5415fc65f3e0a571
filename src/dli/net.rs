//! Addresses: which are this machine's own.

use std::net::IpAddr;

/// Whether `ip` is a loopback address: 127.0.0.0/8, `::1`, or 127.x written as an IPv4-mapped
/// IPv6 address (`::ffff:127.0.0.1`, which `Ipv6Addr::is_loopback` does not count).
pub fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_loopback_is_loopback() {
        for (ip, loopback) in [
            ("127.0.0.1", true),
            ("127.1.2.3", true),
            ("::1", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:7f00:2", true),
            ("0.0.0.0", false),
            ("::", false),
            ("::ffff:10.0.0.1", false),
            ("::127.0.0.1", false),
            ("10.0.0.1", false),
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(is_loopback_ip(parsed), loopback, "{ip}");
        }
    }
}
