//! Tolerant version numbers. Driver versions (418.81.07), Docker's (18.09.7, 20.10.24+dfsg1)
//! and kernel strings (5.15.153.1-microsoft-standard-WSL2) are not semver: leading zeros and
//! suffixes are normal. We compare the leading run of numeric components and ignore the rest.

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    parts: Vec<u64>,
    text: String,
}

impl Version {
    /// Reads `550.54.14`, `v1.17.8-1`, `20.10.24+dfsg1`, `4.4.0-19041-Microsoft`, `12.4`.
    /// Returns None when the text does not start with a number.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        // Debian epochs ("1:20.10.24") come before the version proper.
        let t = match t.split_once(':') {
            Some((epoch, rest)) if epoch.chars().all(|c| c.is_ascii_digit()) => rest,
            _ => t,
        };
        let mut parts = Vec::new();
        for piece in t.split('.') {
            let digits: String = piece.chars().take_while(|c| c.is_ascii_digit()).collect();
            if digits.is_empty() {
                break;
            }
            parts.push(digits.parse().ok()?);
            if digits.len() != piece.len() {
                break;
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(Self {
            parts,
            text: text.trim().to_string(),
        })
    }

    pub fn parts(&self) -> &[u64] {
        &self.parts
    }

    pub fn major(&self) -> u64 {
        self.parts.first().copied().unwrap_or(0)
    }

    pub fn minor(&self) -> u64 {
        self.parts.get(1).copied().unwrap_or(0)
    }

    /// Compares numerically, missing components counting as zero (12.4 == 12.4.0).
    pub fn cmp_num(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        (0..n)
            .map(|i| {
                let a = self.parts.get(i).copied().unwrap_or(0);
                let b = other.parts.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    }

    pub fn lt(&self, other: &str) -> bool {
        Version::parse(other).is_some_and(|o| self.cmp_num(&o) == Ordering::Less)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Compares two version strings; None when either does not parse.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(Version::parse(a)?.cmp_num(&Version::parse(b)?))
}

/// NVML's CUDA driver version integer (12040) as "12.4".
pub fn cuda_from_int(v: i32) -> String {
    format!("{}.{}", v / 1000, (v % 1000) / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_hosts_report() {
        let p = |s: &str| Version::parse(s).map(|v| v.parts().to_vec());
        assert_eq!(p("418.81.07"), Some(vec![418, 81, 7]));
        assert_eq!(p("18.09.7"), Some(vec![18, 9, 7]));
        assert_eq!(p("20.10.24+dfsg1"), Some(vec![20, 10, 24]));
        assert_eq!(p("1:20.10.24+dfsg1-1+deb12u1"), Some(vec![20, 10, 24]));
        assert_eq!(p("v1.17.8"), Some(vec![1, 17, 8]));
        assert_eq!(p("1.17.8-1"), Some(vec![1, 17, 8]));
        assert_eq!(
            p("5.15.153.1-microsoft-standard-WSL2"),
            Some(vec![5, 15, 153, 1])
        );
        assert_eq!(p("4.4.0-19041-Microsoft"), Some(vec![4, 4, 0]));
        assert_eq!(p("570.26"), Some(vec![570, 26]));
        assert_eq!(p("26.1.4-ce"), Some(vec![26, 1, 4]));
        assert_eq!(p("1.14.0~rc.2-1"), Some(vec![1, 14, 0]));
        assert_eq!(p("latest"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn compares_numerically_not_lexically() {
        assert_eq!(compare("418.81.07", "418.39"), Some(Ordering::Greater));
        assert_eq!(compare("550.54.14", "550.54.15"), Some(Ordering::Less));
        assert_eq!(compare("18.09", "18.9.0"), Some(Ordering::Equal));
        assert_eq!(compare("1.9.0", "1.10.0"), Some(Ordering::Less));
        assert_eq!(compare("x", "1"), None);
    }

    #[test]
    fn cuda_ints_read_as_nvidia_prints_them() {
        assert_eq!(cuda_from_int(12040), "12.4");
        assert_eq!(cuda_from_int(11080), "11.8");
        assert_eq!(cuda_from_int(13000), "13.0");
    }
}
