//! The NVML seam: the real libnvidia-ml through dlopen (nvml-wrapper), or a snapshot's nvml.json.

use crate::facts::{NvmlDevice, NvmlFacts, Probed};
use nvml_wrapper::Nvml;
use nvml_wrapper::error::NvmlError;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

pub trait NvmlSource: Send + Sync {
    fn query(&self) -> Probed<NvmlFacts>;
}

pub struct LiveNvml {
    /// Libraries to try in order; the first that loads answers.
    pub candidates: Vec<PathBuf>,
    pub deadline: Duration,
}

impl LiveNvml {
    /// The system library first, then WSL2's copy of the Windows driver's, as the toolkit does.
    pub fn default_candidates(root: &std::path::Path) -> Vec<PathBuf> {
        let wsl = root.join("usr/lib/wsl/lib/libnvidia-ml.so.1");
        if root == std::path::Path::new("/") {
            vec![PathBuf::from("libnvidia-ml.so.1"), wsl]
        } else {
            // A host mounted elsewhere: its libraries are only reachable by path.
            [
                "usr/lib/x86_64-linux-gnu",
                "usr/lib64",
                "usr/lib/aarch64-linux-gnu",
                "usr/lib",
            ]
            .iter()
            .map(|d| root.join(d).join("libnvidia-ml.so.1"))
            .chain([wsl])
            .collect()
        }
    }
}

fn err(kind: &str, message: impl Into<String>) -> Probed<NvmlFacts> {
    Probed::Err {
        kind: kind.into(),
        message: message.into(),
    }
}

fn kind_of(e: &NvmlError) -> &'static str {
    match e {
        NvmlError::LibloadingError(_) | NvmlError::LibraryNotFound => "library-not-found",
        NvmlError::DriverNotLoaded => "driver-not-loaded",
        NvmlError::LibRmVersionMismatch => "lib-rm-version-mismatch",
        NvmlError::NoPermission => "no-permission",
        _ => "unknown",
    }
}

fn query_one(lib: &std::path::Path) -> Probed<NvmlFacts> {
    let nvml = match Nvml::builder().lib_path(lib.as_os_str()).init() {
        Ok(n) => n,
        Err(e) => return err(kind_of(&e), format!("{}: {e}", lib.display())),
    };
    let driver_version = match nvml.sys_driver_version() {
        Ok(v) => v,
        Err(e) => return err(kind_of(&e), format!("nvmlSystemGetDriverVersion: {e}")),
    };
    let cuda_driver_version = nvml.sys_cuda_driver_version().ok();
    let mut devices = Vec::new();
    // A device that can't be queried is still a device; keep what could be read.
    let count = nvml.device_count().unwrap_or(0);
    for index in 0..count {
        let Ok(dev) = nvml.device_by_index(index) else {
            continue;
        };
        devices.push(NvmlDevice {
            index,
            name: dev.name().unwrap_or_else(|_| "unknown NVIDIA GPU".into()),
            uuid: dev.uuid().unwrap_or_default(),
            memory_total_bytes: dev.memory_info().map(|m| m.total).unwrap_or(0),
            compute_capability: dev
                .cuda_compute_capability()
                .ok()
                .map(|c| format!("{}.{}", c.major, c.minor)),
        });
    }
    Probed::Ok {
        value: NvmlFacts {
            driver_version,
            cuda_driver_version,
            devices,
            library: Some(lib.display().to_string()),
        },
    }
}

impl NvmlSource for LiveNvml {
    fn query(&self) -> Probed<NvmlFacts> {
        let candidates = self.candidates.clone();
        let (tx, rx) = mpsc::channel();
        // NVML calls can block forever inside a wedged driver. The query runs on its own
        // thread that is never joined: on timeout we walk away and the process exit reaps it.
        std::thread::spawn(move || {
            let mut last = err("library-not-found", "libnvidia-ml.so.1 was not found");
            for lib in &candidates {
                last = query_one(lib);
                if last.err_kind() != Some("library-not-found") {
                    break;
                }
            }
            let _ = tx.send(last);
        });
        rx.recv_timeout(self.deadline).unwrap_or_else(|_| {
            err(
                "timeout",
                format!(
                    "NVML did not answer within {:.1}s; the driver may be hung",
                    self.deadline.as_secs_f64()
                ),
            )
        })
    }
}

/// A snapshot's nvml.json; its absence means the library was not there.
pub struct RecordedNvml {
    pub doc: Option<serde_json::Value>,
}

impl NvmlSource for RecordedNvml {
    fn query(&self) -> Probed<NvmlFacts> {
        let Some(doc) = &self.doc else {
            return err("library-not-found", "libnvidia-ml.so.1 was not found");
        };
        if let Some(e) = doc.get("error") {
            let s = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            return err(&s("kind"), s("message"));
        }
        match serde_json::from_value::<NvmlFacts>(doc.clone()) {
            Ok(value) => Probed::Ok { value },
            Err(e) => err("unknown", format!("nvml.json: {e}")),
        }
    }
}
