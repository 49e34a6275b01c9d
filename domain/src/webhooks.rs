//! Partner integration rules: event types, where a webhook may point, and
//! when a failed delivery is tried again. No I/O: name resolution happens in
//! the API, which asks [`forbidden_address`] about every address it finds.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::Duration;

use crate::identity::{StringEnum, UnknownValue, string_enum};

string_enum!(
    /// What a partner organisation can be told about.
    EventType, "event type" {
        ReferralStatusChanged => "referral.status_changed",
        AppointmentBooked => "appointment.booked",
        AppointmentCancelled => "appointment.cancelled",
        ShareGranted => "share.granted",
        ShareRevoked => "share.revoked",
    }
);

/// Why a webhook target is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an absolute `https://` URL (or `http://` where allowed).
    #[error("the target must be an absolute https:// URL with a host")]
    Malformed,
    /// `http://` outside development.
    #[error("the target must use https")]
    NotHttps,
    /// Loopback, private, link-local, metadata or otherwise internal.
    #[error("the target's address is internal (loopback, private, link-local or metadata)")]
    InternalAddress,
    /// The host name does not resolve.
    #[error("the target's host name does not resolve")]
    Unresolvable,
}

impl TargetError {
    /// The problem tag.
    pub fn tag(&self) -> &'static str {
        match self {
            Self::Malformed => "webhook-target-malformed",
            Self::NotHttps => "webhook-target-not-https",
            Self::InternalAddress => "webhook-target-internal",
            Self::Unresolvable => "webhook-target-unresolvable",
        }
    }
}

/// The host of a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// A literal address.
    Ip(IpAddr),
    /// A DNS name (lower case), to resolve before every delivery.
    Name(String),
}

/// A parsed webhook target: scheme, host and port, the URL as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    url: String,
    https: bool,
    host: Host,
    port: u16,
}

impl Target {
    /// Parses `url`; `http://` only when `allow_http` (development).
    /// Literal internal addresses are refused here unless `allow_internal`;
    /// names are checked once resolved.
    pub fn parse(url: &str, allow_http: bool, allow_internal: bool) -> Result<Self, TargetError> {
        if !url.bytes().all(|b| (b'!'..=b'~').contains(&b)) || url.len() > 2000 {
            return Err(TargetError::Malformed);
        }
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(TargetError::Malformed);
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end).ok_or(TargetError::Malformed)?;
        if authority.contains('@') {
            return Err(TargetError::Malformed);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or(TargetError::Malformed)?;
            let addr: Ipv6Addr = addr.parse().map_err(|_| TargetError::Malformed)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or(TargetError::Malformed)?),
            };
            (Host::Ip(IpAddr::V6(addr)), port)
        } else {
            let (host, port) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            let valid = !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !valid {
                return Err(TargetError::Malformed);
            }
            let host = host.to_ascii_lowercase();
            match host.parse::<Ipv4Addr>() {
                Ok(v4) => (Host::Ip(IpAddr::V4(v4)), port),
                // All digits and dots but not an address (`10.1`, `0x7f.1`…): refused.
                Err(_) if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
                    return Err(TargetError::Malformed);
                }
                Err(_) => (Host::Name(host), port),
            }
        };
        let port = match port {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(p) if (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u16>().map_err(|_| TargetError::Malformed)?
            }
            Some(_) => return Err(TargetError::Malformed),
        };
        if port == 0 {
            return Err(TargetError::Malformed);
        }
        if !https && !allow_http {
            return Err(TargetError::NotHttps);
        }
        if let Host::Ip(ip) = host
            && !allow_internal
            && forbidden_address(ip)
        {
            return Err(TargetError::InternalAddress);
        }
        Ok(Self {
            url: url.to_owned(),
            https,
            host,
            port,
        })
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port (443 or 80 unless given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether it uses https.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Checks the addresses a name resolved to: all must be public.
    pub fn check_resolved(addresses: &[IpAddr], allow_internal: bool) -> Result<(), TargetError> {
        if addresses.is_empty() {
            return Err(TargetError::Unresolvable);
        }
        if !allow_internal && addresses.iter().any(|a| forbidden_address(*a)) {
            return Err(TargetError::InternalAddress);
        }
        Ok(())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// Whether a webhook may not be sent to `ip`: unspecified, loopback,
/// private (RFC 1918, unique local), shared (CGNAT), link-local (which holds
/// the cloud metadata address 169.254.169.254), multicast, broadcast,
/// documentation and reserved ranges; IPv4-mapped/compatible IPv6 addresses
/// are judged as their IPv4 address.
pub fn forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let segments = v6.segments();
            let first = segments.first().copied().unwrap_or(0);
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                // IPv4-compatible (deprecated) ::a.b.c.d
                || segments.iter().take(6).all(|s| *s == 0)
                // unique local fc00::/7
                || (first & 0xfe00) == 0xfc00
                // link-local fe80::/10 and site-local fec0::/10
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                // documentation 2001:db8::/32
                || (first == 0x2001 && segments.get(1).copied() == Some(0x0db8))
                // NAT64 64:ff9b::/96 can reach IPv4 internals
                || (first == 0x0064 && segments.get(1).copied() == Some(0xff9b))
        }
    }
}

fn forbidden_v4(v4: Ipv4Addr) -> bool {
    let [a, b, _, _] = v4.octets();
    v4.is_unspecified()
        || v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_multicast()
        || v4.is_broadcast()
        || v4.is_documentation()
        || a == 0
        // shared address space 100.64.0.0/10
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments 192.0.0.0/24, benchmarking 198.18.0.0/15
        || (a == 192 && b == 0 && v4.octets().get(2).copied() == Some(0))
        || (a == 198 && (b == 18 || b == 19))
        // reserved 240.0.0.0/4
        || a >= 240
}

/// The delay before attempt `failed + 1` after `failed` failures (from 1):
/// `base · 2^(failed−1)`, capped at `cap`, then "equal jitter": half of it
/// fixed, the other half scaled by `jitter` in [0, 1] (random, from the
/// caller), so that many receivers' retries do not come back in step.
pub fn retry_delay(base: Duration, failed: u32, jitter: f64, cap: Duration) -> Duration {
    let exponent = failed.saturating_sub(1).min(30);
    let full = base.checked_mul(1_u32 << exponent).unwrap_or(cap).min(cap);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let half = full / 2;
    half + half.mul_f64(jitter)
}

/// Parses a comma-separated list of event types as stored.
pub fn parse_event_types(stored: &str) -> Result<Vec<EventType>, UnknownValue> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(EventType::from_str)
        .collect()
}

/// All event type names (for documentation).
pub fn event_type_names() -> Vec<&'static str> {
    <EventType as StringEnum>::all()
        .iter()
        .map(|e| e.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Target, TargetError> {
        Target::parse(url, false, false)
    }

    #[test]
    fn internal_literal_addresses_are_refused() {
        for url in [
            "https://127.0.0.1/hook",
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://[::ffff:a9fe:a9fe]/hook",
            "https://192.168.1.10:8443/hook",
            "https://172.16.0.1/hook",
            "https://100.64.0.1/hook",
            "https://0.0.0.0/hook",
            "https://[fd00::1]/hook",
            "https://[fe80::1]/hook",
        ] {
            assert_eq!(parse(url), Err(TargetError::InternalAddress), "{url}");
            assert!(
                Target::parse(url, false, true).is_ok(),
                "{url} with the test setting"
            );
        }
    }

    #[test]
    fn public_targets_are_accepted() {
        let target = parse("https://hooks.example.org/adosexo?x=1").expect("valid");
        assert_eq!(target.host(), &Host::Name("hooks.example.org".into()));
        assert_eq!(target.port(), 443);
        let target = parse("https://93.184.216.34:8443/h").expect("valid");
        assert_eq!(target.port(), 8443);
        assert!(parse("https://[2606:4700::1111]/h").is_ok());
    }

    #[test]
    fn malformed_and_plain_http_targets_are_refused() {
        assert_eq!(
            parse("http://hooks.example.org/"),
            Err(TargetError::NotHttps)
        );
        assert!(Target::parse("http://hooks.example.org/", true, false).is_ok());
        for url in [
            "ftp://x.org",
            "https://",
            "https://user@x.org/",
            "https://x.org:0/",
            "https://x.org:99999/",
            "https://x .org/",
            "https://2130706433/",
            "https://[::1/",
            "hooks.example.org",
        ] {
            assert_eq!(parse(url), Err(TargetError::Malformed), "{url}");
        }
    }

    #[test]
    fn resolved_addresses_must_all_be_public() {
        let public: IpAddr = "93.184.216.34".parse().expect("ip");
        let private: IpAddr = "10.1.2.3".parse().expect("ip");
        assert_eq!(Target::check_resolved(&[public], false), Ok(()));
        assert_eq!(
            Target::check_resolved(&[public, private], false),
            Err(TargetError::InternalAddress)
        );
        assert_eq!(Target::check_resolved(&[private], true), Ok(()));
        assert_eq!(
            Target::check_resolved(&[], true),
            Err(TargetError::Unresolvable)
        );
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_cap() {
        let base = Duration::from_secs(10);
        let cap = Duration::from_secs(3600);
        assert_eq!(retry_delay(base, 1, 0.0, cap), Duration::from_secs(5));
        assert_eq!(retry_delay(base, 1, 1.0, cap), Duration::from_secs(10));
        assert_eq!(retry_delay(base, 3, 1.0, cap), Duration::from_secs(40));
        assert_eq!(retry_delay(base, 3, 0.5, cap), Duration::from_secs(30));
        assert_eq!(retry_delay(base, 40, 1.0, cap), cap);
        assert_eq!(retry_delay(base, 2, f64::NAN, cap), Duration::from_secs(10));
    }

    #[test]
    fn event_types_round_trip() {
        for name in event_type_names() {
            assert_eq!(name.parse::<EventType>().map(|e| e.as_str()), Ok(name));
        }
        assert_eq!(
            parse_event_types("referral.status_changed,share.revoked"),
            Ok(vec![
                EventType::ReferralStatusChanged,
                EventType::ShareRevoked
            ])
        );
        assert!(parse_event_types("referral.deleted").is_err());
    }
}
