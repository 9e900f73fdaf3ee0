//! NVIDIA Container Toolkit facts: packages, binaries, version, config.toml.

use crate::facts::{ConfigFile, Probed, ToolkitFacts};
use crate::host::Host;
use crate::probe::config::parse_config_toml;
use std::collections::BTreeMap;

pub const BINARIES: [&str; 5] = [
    "nvidia-container-runtime-hook",
    "nvidia-container-cli",
    "nvidia-ctk",
    "nvidia-container-runtime",
    "nvidia-container-toolkit",
];

/// Installed packages from dpkg's status database: name → version.
pub fn parse_dpkg_status(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        let mut installed = false;
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package:") {
                name = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Version:") {
                version = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Status:") {
                installed = v.trim().ends_with(" installed");
            }
        }
        if let (Some(n), Some(v), true) = (name, version, installed) {
            out.insert(n, v);
        }
    }
    out
}

/// `rpm -q --qf '%{NAME} %{VERSION}\n' …` output; "package X is not installed" lines are skipped.
pub fn parse_rpm_query(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.contains("not installed"))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

/// `nvidia-ctk --version`: "NVIDIA Container Toolkit CLI version 1.17.8\ncommit: …".
pub fn parse_ctk_version(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|l| l.split_once(" version "))
        .map(|(_, v)| v.split_whitespace().next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty())
}

pub const RPM_PACKAGES: [&str; 6] = [
    "nvidia-container-toolkit",
    "nvidia-container-toolkit-base",
    "libnvidia-container1",
    "libnvidia-container-tools",
    "nvidia-docker2",
    "nvidia-driver",
];

/// The package database: dpkg's status file, or rpm's answer where there is no dpkg.
pub fn packages(host: &Host) -> BTreeMap<String, String> {
    if let Some(text) = host.fs.read("/var/lib/dpkg/status") {
        return parse_dpkg_status(&text);
    }
    let mut argv = vec!["rpm", "-q", "--qf", "%{NAME} %{VERSION}\\n"];
    argv.extend(RPM_PACKAGES);
    host.commands
        .run("rpm-toolkit", &argv)
        .map(|o| parse_rpm_query(&o.stdout))
        .unwrap_or_default()
}

pub fn gather(host: &Host, packages: &BTreeMap<String, String>) -> ToolkitFacts {
    let fs = &host.fs;
    let binaries: Vec<String> = BINARIES.iter().filter_map(|b| fs.which(b)).collect();
    let ctk_version = if binaries.iter().any(|b| b.ends_with("/nvidia-ctk")) {
        host.commands
            .run("nvidia-ctk-version", &["nvidia-ctk", "--version"])
            .ok()
            .and_then(|o| parse_ctk_version(&o.stdout))
    } else {
        None
    };
    let path = "/etc/nvidia-container-runtime/config.toml";
    let config = fs.read(path).map(|text| ConfigFile {
        path: path.to_string(),
        parsed: match parse_config_toml(&text) {
            Ok(value) => Probed::Ok { value },
            Err(e) => Probed::Err {
                kind: "parse".into(),
                message: format!("{}:{}: {}", e.line, e.column, e.message),
            },
        },
    });
    let packages = packages
        .iter()
        .filter(|(n, _)| n.contains("nvidia-container") || n.as_str() == "nvidia-docker2")
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    ToolkitFacts {
        binaries,
        packages,
        ctk_version,
        config,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_status_keeps_installed_packages_only() {
        let text = "Package: nvidia-container-toolkit\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.17.8-1\nDepends: nvidia-container-toolkit-base (= 1.17.8-1)\n\nPackage: nvidia-docker2\nStatus: deinstall ok config-files\nVersion: 2.13.0-1\n\nPackage: libnvidia-container1\nStatus: install ok installed\nVersion: 1.17.8-1\n";
        let p = parse_dpkg_status(text);
        assert_eq!(
            p.get("nvidia-container-toolkit").map(String::as_str),
            Some("1.17.8-1")
        );
        assert_eq!(
            p.get("libnvidia-container1").map(String::as_str),
            Some("1.17.8-1")
        );
        assert!(!p.contains_key("nvidia-docker2"));
    }

    #[test]
    fn rpm_and_ctk_outputs() {
        let p = parse_rpm_query(
            "nvidia-container-toolkit 1.17.8\nlibnvidia-container1 1.17.8\npackage nvidia-docker2 is not installed\n",
        );
        assert_eq!(p.len(), 2);
        assert_eq!(
            parse_ctk_version("NVIDIA Container Toolkit CLI version 1.17.8\ncommit: f202b80a9b9d0db00d9b1d73c0128c8962c55f4d\n").as_deref(),
            Some("1.17.8")
        );
        assert_eq!(parse_ctk_version(""), None);
    }
}
