//! Tag resolution through the registry's HTTP API (Docker Registry v2 / OCI distribution):
//! `GET /v2/<name>/tags/list`, paginated by `Link`, with the bearer-token flow a 401's
//! `WWW-Authenticate` challenge asks for (Docker Hub's auth.docker.io, or any other realm).

use super::catalog::TagPolicy;
use std::cmp::Reverse;
use std::sync::OnceLock;
use std::time::Duration;

/// A CUDA image tag such as `12.4.1-base-ubuntu22.04`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaTag {
    pub version: (u32, u32, u32),
    pub flavor: String,
    pub os_version: Vec<u32>,
    pub raw: String,
}

pub fn parse_cuda_tag(tag: &str, os: &str) -> Option<CudaTag> {
    let mut parts = tag.split('-');
    let (ver, flavor, osv) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let nums: Vec<u32> = ver
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let version = match nums.as_slice() {
        [a, b] => (*a, *b, 0),
        [a, b, c] => (*a, *b, *c),
        _ => return None,
    };
    let os_version: Vec<u32> = osv
        .strip_prefix(os)?
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    Some(CudaTag {
        version,
        flavor: flavor.to_string(),
        os_version,
        raw: tag.to_string(),
    })
}

/// The newest CUDA not newer than the driver's (`driver_cuda` = NVML's integer, 12040 =
/// 12.4), in the first flavor the policy lists, on the newest OS release.
pub fn choose_cuda_tag(
    tags: &[String],
    policy: &TagPolicy,
    driver_cuda: Option<i32>,
) -> Option<String> {
    let limit = driver_cuda.map(|v| ((v / 1000) as u32, ((v % 1000) / 10) as u32));
    let mut cands: Vec<CudaTag> = tags
        .iter()
        .filter_map(|t| parse_cuda_tag(t, &policy.os))
        .filter(|t| policy.flavors.contains(&t.flavor))
        .filter(|t| limit.is_none_or(|l| (t.version.0, t.version.1) <= l))
        .collect();
    let rank = |f: &str| {
        policy
            .flavors
            .iter()
            .position(|x| x == f)
            .unwrap_or(usize::MAX)
    };
    cands.sort_by_key(|t| {
        (
            Reverse(t.version),
            rank(&t.flavor),
            Reverse(t.os_version.clone()),
        )
    });
    cands.into_iter().next().map(|t| t.raw)
}

/// Splits `[registry/]name[:tag]` into (registry host, repository path, tag).
/// Docker Hub names get `registry-1.docker.io` and the `library/` prefix for official images.
pub fn split_reference(reference: &str) -> (String, String, Option<String>) {
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t.to_string())),
        _ => (reference, None),
    };
    let name = name.split('@').next().unwrap_or(name);
    let mut parts = name.splitn(2, '/');
    let first = parts.next().unwrap_or("");
    match parts.next() {
        Some(rest) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_string(), rest.to_string(), tag)
        }
        Some(_) => ("registry-1.docker.io".into(), name.to_string(), tag),
        None => (
            "registry-1.docker.io".into(),
            format!("library/{name}"),
            tag,
        ),
    }
}

/// `http://` for loopback registries (as dockerd allows them insecure), `https://` otherwise;
/// an explicit scheme wins.
pub fn base_url(host: &str) -> String {
    if host.starts_with("http://") || host.starts_with("https://") {
        return host.trim_end_matches('/').to_string();
    }
    let h = host.split(':').next().unwrap_or(host);
    if h == "localhost" || h.starts_with("127.") || h == "[::1]" {
        format!("http://{host}")
    } else {
        format!("https://{host}")
    }
}

/// The fields of a `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` challenge.
pub fn parse_challenge(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim().strip_prefix("Bearer ")?;
    let mut out = Vec::new();
    let mut s = rest;
    while !s.is_empty() {
        let (k, after) = s.split_once('=')?;
        let key = k.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (value, remain) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (q[..end].to_string(), &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        out.push((key, value));
        s = remain.trim_start_matches(',').trim_start();
    }
    Some(out)
}

/// The `rel="next"` target of a Link header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

pub struct Registry {
    base: String,
    timeout: Duration,
    client: OnceLock<Result<reqwest::blocking::Client, String>>,
}

impl Registry {
    pub fn new(host: &str, timeout: Duration) -> Self {
        Registry {
            base: base_url(host),
            timeout,
            client: OnceLock::new(),
        }
    }

    /// Built on first use, so TLS is set up only when a registry is really asked.
    fn client(&self) -> Result<&reqwest::blocking::Client, String> {
        self.client
            .get_or_init(|| {
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::blocking::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout)
                    .user_agent(concat!("nvctk/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("cannot set up an HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| e.clone())
    }

    fn token(&self, challenge: &str) -> Result<String, String> {
        let fields = parse_challenge(challenge).ok_or_else(|| {
            format!("the registry asked for an unknown authentication: {challenge}")
        })?;
        let realm = fields
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone())
            .ok_or("the registry's challenge names no realm")?;
        let query: Vec<String> = fields
            .into_iter()
            .filter(|(k, _)| k != "realm")
            .map(|(k, v)| format!("{}={}", super::run::enc(&k), super::run::enc(&v)))
            .collect();
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", query.join("&"));
        let resp = self
            .client()?
            .get(&url)
            .send()
            .map_err(|e| format!("{realm}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("{realm} refused a token: {}", resp.status()));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&resp.bytes().map_err(|e| e.to_string())?)
                .map_err(|e| format!("{realm}: the token answer is not JSON: {e}"))?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("{realm}: the answer carries no token"))
    }

    /// Every tag of `repo`, following pagination (at most 100 pages).
    pub fn tags(&self, repo: &str) -> Result<Vec<String>, String> {
        let client = self.client()?;
        let mut url = format!("{}/v2/{repo}/tags/list?n=1000", self.base);
        let mut token: Option<String> = None;
        let mut tags = Vec::new();
        for _ in 0..100 {
            let mut req = client.get(&url);
            if let Some(t) = &token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().map_err(|e| format!("{url}: {e}"))?;
            if resp.status().as_u16() == 401 && token.is_none() {
                let challenge = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                token = Some(self.token(&challenge)?);
                continue;
            }
            if !resp.status().is_success() {
                return Err(format!("{url}: {}", resp.status()));
            }
            let link = resp
                .headers()
                .get("link")
                .and_then(|h| h.to_str().ok())
                .and_then(next_link);
            let v: serde_json::Value =
                serde_json::from_slice(&resp.bytes().map_err(|e| format!("{url}: {e}"))?)
                    .map_err(|e| format!("{url}: not JSON: {e}"))?;
            tags.extend(
                v.get("tags")
                    .and_then(|t| t.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string)),
            );
            match link {
                Some(next) if next.starts_with("http") => url = next,
                Some(next) => url = format!("{}{next}", self.base),
                None => return Ok(tags),
            }
        }
        Ok(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TagPolicy {
        TagPolicy {
            resolve: "cuda".into(),
            flavors: vec!["base".into(), "runtime".into()],
            os: "ubuntu".into(),
            fallback: "12.4.1-base-ubuntu22.04".into(),
        }
    }

    #[test]
    fn picks_the_newest_cuda_the_driver_supports() {
        let tags: Vec<String> = [
            "12.8.1-base-ubuntu24.04",
            "12.4.1-base-ubuntu22.04",
            "12.4.1-base-ubuntu20.04",
            "12.4.1-runtime-ubuntu22.04",
            "12.4.1-cudnn-runtime-ubuntu22.04",
            "12.4.0-base-ubuntu22.04",
            "12.3.2-base-ubuntu22.04",
            "12.4.1-base-rockylinux9",
            "12.6.3-devel-ubuntu24.04",
            "latest",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            choose_cuda_tag(&tags, &policy(), Some(12040)).as_deref(),
            Some("12.4.1-base-ubuntu22.04")
        );
        assert_eq!(
            choose_cuda_tag(&tags, &policy(), Some(12030)).as_deref(),
            Some("12.3.2-base-ubuntu22.04")
        );
        assert_eq!(
            choose_cuda_tag(&tags, &policy(), Some(12080)).as_deref(),
            Some("12.8.1-base-ubuntu24.04")
        );
        assert_eq!(choose_cuda_tag(&tags, &policy(), Some(11080)), None);
        assert_eq!(
            choose_cuda_tag(&tags, &policy(), None).as_deref(),
            Some("12.8.1-base-ubuntu24.04")
        );
    }

    #[test]
    fn references_and_urls() {
        assert_eq!(
            split_reference("nvidia/cuda:12.4.1-base-ubuntu22.04"),
            (
                "registry-1.docker.io".into(),
                "nvidia/cuda".into(),
                Some("12.4.1-base-ubuntu22.04".into())
            )
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/nvidia/cuda"),
            ("127.0.0.1:5000".into(), "nvidia/cuda".into(), None)
        );
        assert_eq!(split_reference("busybox").1, "library/busybox");
        assert_eq!(base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(base_url("mirror.example.com"), "https://mirror.example.com");
    }

    #[test]
    fn challenges_and_links() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:nvidia/cuda:pull""#,
        )
        .unwrap();
        assert_eq!(
            c[0],
            ("realm".into(), "https://auth.docker.io/token".into())
        );
        assert_eq!(c[2], ("scope".into(), "repository:nvidia/cuda:pull".into()));
        assert_eq!(
            next_link(r#"</v2/nvidia/cuda/tags/list?last=12.4.1-base&n=1000>; rel="next""#)
                .as_deref(),
            Some("/v2/nvidia/cuda/tags/list?last=12.4.1-base&n=1000")
        );
        assert!(parse_challenge("Basic realm=x").is_none());
    }
}
