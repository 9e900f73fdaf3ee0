//! Redaction for snapshots attached to bug reports: user names, host names, IPv4
//! addresses and GPU UUIDs/serials never leave the machine.

/// Replaces every secret word and every IPv4 address in `text`.
pub struct Redactor {
    /// (secret, replacement), longest first so a host name inside an FQDN goes whole.
    words: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(users: &[String], hosts: &[String]) -> Self {
        let mut words: Vec<(String, String)> = Vec::new();
        for h in hosts
            .iter()
            .filter(|h| h.len() >= 2 && h.as_str() != "localhost")
        {
            words.push((h.clone(), "host-redacted".into()));
        }
        // "root" is no secret and would mangle paths like /root.
        for u in users
            .iter()
            .filter(|u| u.len() >= 2 && u.as_str() != "root")
        {
            words.push((u.clone(), "user".into()));
        }
        words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        Redactor { words }
    }

    pub fn text(&self, input: &str) -> String {
        let mut s = input.to_string();
        for (w, r) in &self.words {
            s = replace_word(&s, w, r);
        }
        redact_gpu_uuids(&redact_ipv6(&redact_ipv4(&s)))
    }
}

/// Characters that continue a name: `vm` must not match inside `open-vm-tools`.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Replaces `word` where it is not part of a longer identifier.
fn replace_word(s: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Dotted quads that stand alone; version strings such as 5.15.153.1-microsoft are kept
/// because a dash, dot or letter touches them. Loopback stays: it identifies nobody.
pub fn redact_ipv4(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    // Package versions such as 2.0.10.4+dfsg or 1.2.3.4~rc continue past the quad.
    let boundary = |c: Option<&u8>| {
        !c.is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(*c, b'.' | b'-' | b'_' | b'+' | b'~')
        })
    };
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || boundary(b.get(i - 1))) {
            let mut j = i;
            let mut parts = 0;
            let mut ok = true;
            loop {
                let start = j;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let n = &s[start..j];
                if n.is_empty() || n.len() > 3 || n.parse::<u16>().map(|v| v > 255).unwrap_or(true)
                {
                    ok = false;
                    break;
                }
                parts += 1;
                if parts == 4 || j >= b.len() || b[j] != b'.' {
                    break;
                }
                j += 1;
            }
            if ok
                && parts == 4
                && boundary(b.get(j))
                && !s[i..j].starts_with("127.")
                && &s[i..j] != "0.0.0.0"
            {
                out.push_str("192.0.2.0");
                i = j;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// IPv6 addresses (a `::` or seven colons between 1–4 digit hex groups) become the
/// documentation prefix; loopback `::1` and times such as 09:35:42 stay.
pub fn redact_ipv6(s: &str) -> String {
    let is_part = |c: char| c.is_ascii_hexdigit() || c == ':';
    let mut out = String::with_capacity(s.len());
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let prev_ok = i == 0
            || !(chars[i - 1].1.is_ascii_alphanumeric()
                || matches!(chars[i - 1].1, '.' | '_' | '-'));
        if is_part(c) && prev_ok {
            let mut j = i;
            while j < chars.len() && is_part(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map(|(b, _)| *b).unwrap_or(s.len());
            let next_ok = !chars
                .get(j)
                .is_some_and(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
            let run = &s[start..end];
            let groups_ok = run.split(':').all(|g| g.len() <= 4);
            let colons = run.matches(':').count();
            let looks_v6 = (run.contains("::") && colons >= 2 || colons == 7)
                && groups_ok
                && run.chars().any(|c| c.is_ascii_hexdigit())
                && run != "::1";
            // An address followed by `.` may be IPv4-mapped (::ffff:192.0.2.0): take it too.
            if looks_v6 && next_ok {
                out.push_str("2001:db8::");
                i = j;
                continue;
            }
            out.push_str(run);
            i = j.max(i + 1);
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `GPU-` followed by a UUID (8-4-4-4-12 hex) becomes `GPU-redacted`; MIG ids likewise.
pub fn redact_gpu_uuids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("GPU-").or_else(|| rest.find("MIG-")) {
        out.push_str(&rest[..i + 4]);
        let tail = &rest[i + 4..];
        let len = tail
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
            .count();
        if len >= 32 {
            out.push_str("redacted");
            rest = &tail[len..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_go_versions_stay() {
        assert_eq!(
            redact_ipv4("dns 10.1.2.3, bip 172.17.0.1/16"),
            "dns 192.0.2.0, bip 192.0.2.0/16"
        );
        assert_eq!(
            redact_ipv4("5.15.153.1-microsoft-standard-WSL2"),
            "5.15.153.1-microsoft-standard-WSL2"
        );
        assert_eq!(redact_ipv4("v1.2.3.4"), "v1.2.3.4");
        assert_eq!(redact_ipv4("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(redact_ipv4("999.1.1.1"), "999.1.1.1");
        assert_eq!(redact_ipv4("héllo 8.8.8.8"), "héllo 192.0.2.0");
        assert_eq!(
            redact_ipv4("ebtables (<< 2.0.10.4+dfsg)"),
            "ebtables (<< 2.0.10.4+dfsg)"
        );
    }

    #[test]
    fn ipv6_goes_times_and_loopback_stay() {
        assert_eq!(
            redact_ipv6("addr fe80::1c2b:3aff:fe4d:5e6f/64"),
            "addr 2001:db8::/64"
        );
        assert_eq!(
            redact_ipv6("2a02:0c7f:dc9a:5a00:1234:5678:9abc:def0"),
            "2001:db8::"
        );
        assert_eq!(redact_ipv6("[fd00::5]:2375"), "[2001:db8::]:2375");
        assert_eq!(
            redact_ipv6("Fri May 31 09:35:42 UTC 2024"),
            "Fri May 31 09:35:42 UTC 2024"
        );
        assert_eq!(redact_ipv6("listen ::1 and ::"), "listen ::1 and ::");
        assert_eq!(redact_ipv6("sha256:abcd"), "sha256:abcd");
    }

    #[test]
    fn users_hosts_and_uuids() {
        let r = Redactor::new(&["alice".into()], &["gpu-box-7".into()]);
        let out = r.text(
            "/home/alice/.docker on gpu-box-7 alicex GPU-5c6a8a1e-1f3b-4c2d-9e8f-0123456789ab",
        );
        assert_eq!(
            out,
            "/home/user/.docker on host-redacted alicex GPU-redacted"
        );
    }
}
