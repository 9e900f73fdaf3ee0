//! The test image catalog, `checks/test-images.json`, embedded at build time.

use super::Api;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
pub struct Catalog {
    pub schema: u32,
    pub apis: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub api: Api,
    /// A full reference, or a repository when `tag` says how to pick the tag.
    pub image: String,
    #[serde(default)]
    pub tag: Option<TagPolicy>,
    pub status: String,
    pub seed: String,
    #[serde(default)]
    pub replacement: Option<String>,
    /// argv of the command that proves the API.
    pub command: Vec<String>,
    /// The program whose absence means the image cannot prove anything.
    pub tool: String,
    /// NVIDIA_DRIVER_CAPABILITIES.
    pub capabilities: String,
    #[serde(default)]
    pub unsupported: Vec<Unsupported>,
    pub source: String,
    pub confidence: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TagPolicy {
    /// `cuda`: `<major>.<minor>[.<patch>]-<flavor>-<os><version>` tags, judged by the driver.
    pub resolve: String,
    pub flavors: Vec<String>,
    pub os: String,
    /// Used when the registry cannot be asked.
    pub fallback: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Unsupported {
    /// `wsl2` or `docker-desktop`.
    pub when: String,
    pub reason: String,
}

impl<'de> Deserialize<'de> for Api {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match Api::parse_list(&s) {
            Ok(v) if v.len() == 1 => Ok(v[0]),
            _ => Err(serde::de::Error::custom(format!("unknown api {s}"))),
        }
    }
}

pub const SOURCE: &str = include_str!("../../checks/test-images.json");

pub fn get() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        // The file ships inside the binary; the unit test below proves it parses.
        serde_json::from_str(SOURCE).unwrap_or(Catalog {
            schema: 0,
            apis: Vec::new(),
        })
    })
}

pub fn entry(api: Api) -> Option<&'static Entry> {
    get().apis.iter().find(|e| e.api == api)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_has_one_sourced_row() {
        let c: Catalog = serde_json::from_str(SOURCE).expect("checks/test-images.json parses");
        assert_eq!(c.schema, 1);
        for api in Api::ALL {
            let rows: Vec<_> = c.apis.iter().filter(|e| e.api == api).collect();
            assert_eq!(rows.len(), 1, "{api:?}");
            let e = rows[0];
            assert!(!e.source.is_empty() && !e.command.is_empty());
            assert!(["A", "B", "C"].contains(&e.confidence.as_str()));
            assert!(e.capabilities.split(',').all(|c| {
                [
                    "compute", "utility", "graphics", "video", "display", "compat32",
                ]
                .contains(&c)
            }));
        }
        let vk = entry(Api::Vulkan).unwrap();
        assert_eq!(vk.command, ["vulkaninfo", "--summary"]);
        assert!(vk.capabilities.contains("graphics"));
        assert!(vk.unsupported.iter().any(|u| u.when == "wsl2"));
    }
}
