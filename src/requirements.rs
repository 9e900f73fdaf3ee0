//! Requirement tables from the repository's checks/ folder, embedded at build time.
//! Every row carries its public source; see checks/README.md.

use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
pub struct CudaRow {
    pub cuda: String,
    pub release: String,
    pub min_driver_linux: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Deserialize)]
pub struct CompatRow {
    pub family: String,
    pub min_driver_linux: String,
    pub max_driver_exclusive: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ValueRow {
    pub value: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Deserialize)]
pub struct CudaTable {
    pub rows: Vec<CudaRow>,
    pub minor_version_compat: Vec<CompatRow>,
    pub container_toolkit_min_driver: ValueRow,
}

#[derive(Debug, Deserialize)]
pub struct DistroVersion {
    pub version: String,
    #[serde(rename = "match", default)]
    pub matching: String,
}

#[derive(Debug, Deserialize)]
pub struct DistroRow {
    pub id: String,
    pub name: String,
    pub versions: Vec<DistroVersion>,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Deserialize)]
pub struct DistroTable {
    pub supported: Vec<DistroRow>,
    #[serde(default)]
    pub legacy: Vec<DistroRow>,
}

#[derive(Debug, Deserialize)]
pub struct DockerTable {
    pub engine_min: ValueRow,
    pub gpus_flag_min: ValueRow,
    pub client_min: ValueRow,
    pub kernel_min: ValueRow,
    pub wsl_kernel_min: ValueRow,
    pub wsl_kernel_recommended: ValueRow,
    pub host_disk_low: ValueRow,
}

#[derive(Debug, Deserialize)]
pub struct SecurityRow {
    pub cve: String,
    pub fixed_in: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub bulletin: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Deserialize)]
pub struct SecurityTable {
    pub rows: Vec<SecurityRow>,
}

pub struct Requirements {
    /// The first Docker release that reads `features.cdi` (from checks/docker.json `cdi_min`).
    pub docker_cdi_min: String,
    pub cuda: CudaTable,
    pub distros: DistroTable,
    pub docker: DockerTable,
    pub security: SecurityTable,
}

pub const CUDA_JSON: &str = include_str!("../checks/cuda-driver.json");
pub const DISTROS_JSON: &str = include_str!("../checks/distros.json");
pub const DOCKER_JSON: &str = include_str!("../checks/docker.json");
pub const SECURITY_JSON: &str = include_str!("../checks/toolkit-security.json");

impl Requirements {
    /// The embedded tables. They are part of the build, so a broken table is a bug in
    /// nvctk: the unit tests below parse every one.
    pub fn get() -> &'static Requirements {
        static REQ: OnceLock<Requirements> = OnceLock::new();
        REQ.get_or_init(|| {
            Requirements::parse().unwrap_or_else(|e| panic!("embedded requirement table: {e}"))
        })
    }

    pub fn parse() -> Result<Requirements, serde_json::Error> {
        let docker_raw: serde_json::Value = serde_json::from_str(DOCKER_JSON)?;
        Ok(Requirements {
            docker_cdi_min: docker_raw
                .pointer("/cdi_min/value")
                .and_then(|v| v.as_str())
                .unwrap_or("25.0")
                .to_string(),
            cuda: serde_json::from_str(CUDA_JSON)?,
            distros: serde_json::from_str(DISTROS_JSON)?,
            docker: serde_json::from_str(DOCKER_JSON)?,
            security: serde_json::from_str(SECURITY_JSON)?,
        })
    }

    /// The lowest Linux driver that fully supports a CUDA version ("12.8" → 570.26): the GA
    /// row, which is the oldest release of that version.
    pub fn min_driver_for_cuda(&self, cuda: &str) -> Option<&CudaRow> {
        let want = crate::version::Version::parse(cuda)?;
        self.cuda
            .rows
            .iter()
            .filter(|r| {
                crate::version::Version::parse(&r.cuda)
                    .is_some_and(|v| v.major() == want.major() && v.minor() == want.minor())
            })
            .min_by(|a, b| {
                crate::version::compare(&a.min_driver_linux, &b.min_driver_linux)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    }

    /// The newest CUDA whose GA driver minimum is at or below `driver` (offline estimate).
    pub fn max_cuda_for_driver(&self, driver: &str) -> Option<&CudaRow> {
        let d = crate::version::Version::parse(driver)?;
        self.cuda
            .rows
            .iter()
            .filter(|r| {
                crate::version::Version::parse(&r.min_driver_linux)
                    .is_some_and(|m| m.cmp_num(&d) != std::cmp::Ordering::Greater)
            })
            .max_by(|a, b| {
                crate::version::compare(&a.cuda, &b.cuda).unwrap_or(std::cmp::Ordering::Equal)
            })
    }

    /// Whether a distro/version is in NVIDIA's current list, and the row that matched.
    pub fn distro_supported(
        &self,
        id: &str,
        ids_like: &[String],
        version: Option<&str>,
    ) -> Option<&DistroRow> {
        let version = version.unwrap_or("");
        let candidates = std::iter::once(id);
        // Derivatives (e.g. "pop", "linuxmint") are not in the list under their own id;
        // we only match the exact id, and let ID_LIKE inform the message, not the verdict.
        let _ = ids_like;
        self.distros.supported.iter().find(|row| {
            candidates.clone().any(|c| c == row.id)
                && row
                    .versions
                    .iter()
                    .any(|v| version_matches(&v.version, &v.matching, version))
        })
    }
}

fn version_matches(table: &str, how: &str, host: &str) -> bool {
    let major = |s: &str| s.split('.').next().unwrap_or("").to_string();
    match how {
        "major" => major(table) == major(host),
        _ if table.ends_with(".x") => major(table) == major(host),
        _ => table == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_and_every_row_has_a_source() {
        let r = Requirements::parse().expect("tables parse");
        assert!(r.cuda.rows.len() >= 50, "CUDA 8.0 to the newest");
        assert!(r.cuda.rows.iter().all(|x| !x.source.is_empty()));
        assert!(r.distros.supported.iter().all(|x| !x.source.is_empty()));
        assert!(
            r.security
                .rows
                .iter()
                .all(|x| !x.source.is_empty() && !x.fixed_in.is_empty())
        );
        for raw in [CUDA_JSON, DISTROS_JSON, DOCKER_JSON, SECURITY_JSON] {
            let v: serde_json::Value = serde_json::from_str(raw).unwrap();
            assert_eq!(v.get("schema").and_then(|s| s.as_u64()), Some(1));
        }
    }

    #[test]
    fn cuda_lookups() {
        let r = Requirements::get();
        assert_eq!(
            r.min_driver_for_cuda("12.8")
                .map(|x| x.min_driver_linux.as_str()),
            Some("570.26")
        );
        assert_eq!(
            r.min_driver_for_cuda("12.4")
                .map(|x| x.min_driver_linux.as_str()),
            Some("550.54.14")
        );
        assert_eq!(
            r.max_cuda_for_driver("550.144.03").map(|x| x.cuda.as_str()),
            Some("12.4")
        );
        assert_eq!(
            r.max_cuda_for_driver("535.104.05").map(|x| x.cuda.as_str()),
            Some("12.2")
        );
        assert!(r.min_driver_for_cuda("99.0").is_none());
    }

    #[test]
    fn distro_matching() {
        let r = Requirements::get();
        assert!(r.distro_supported("ubuntu", &[], Some("22.04")).is_some());
        assert!(r.distro_supported("ubuntu", &[], Some("20.04")).is_none());
        assert!(r.distro_supported("rhel", &[], Some("9.4")).is_some());
        assert!(r.distro_supported("arch", &[], None).is_none());
    }
}
