//! The four seams through which nvctk touches a machine — filesystem, commands, the Docker
//! Engine API and NVML — each live or recorded. Nothing else reads the host.

pub mod command;
pub mod docker;
pub mod fs;
pub mod nvml;
pub mod snapshot;

use crate::facts::{Disk, Resources};
use command::Commands;
use docker::EngineApi;
use fs::FsRoot;
use nvml::NvmlSource;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variables doctor reads; a snapshot records only these.
pub const ENV_KEYS: [&str; 8] = [
    "WSL_DISTRO_NAME",
    "WSL_INTEROP",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "HOME",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
];

pub struct Host {
    pub fs: FsRoot,
    pub env: BTreeMap<String, String>,
    pub commands: Box<dyn Commands>,
    pub engine: Box<dyn EngineApi>,
    pub nvml: Box<dyn NvmlSource>,
    pub resources: ResourceSource,
    /// True for the machine nvctk runs on (or one mounted at --root), false for a snapshot.
    pub live: bool,
}

pub enum ResourceSource {
    Live,
    Recorded(Option<serde_json::Value>),
}

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub root: PathBuf,
    pub deadline: Duration,
    pub nvml_lib: Option<PathBuf>,
}

impl Host {
    pub fn live(opts: &LiveOptions) -> Self {
        let fs = FsRoot::new(&opts.root);
        let env: BTreeMap<String, String> = ENV_KEYS
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let endpoint = docker::resolve_endpoint(&fs, &env);
        let engine = docker::LiveEngine::new(endpoint, &fs, opts.deadline);
        let candidates = match &opts.nvml_lib {
            Some(p) => vec![p.clone()],
            None => nvml::LiveNvml::default_candidates(&opts.root),
        };
        Host {
            engine: Box::new(engine),
            nvml: Box::new(nvml::LiveNvml {
                candidates,
                deadline: opts.deadline,
            }),
            commands: Box::new(command::LiveCommands {
                deadline: opts.deadline,
                disabled: opts.root != std::path::Path::new("/"),
            }),
            fs,
            env,
            resources: ResourceSource::Live,
            live: true,
        }
    }

    /// Memory and free disk space of the mounts that matter.
    pub fn resources(&self) -> Resources {
        match &self.resources {
            ResourceSource::Recorded(doc) => doc
                .as_ref()
                .and_then(|d| serde_json::from_value(d.clone()).ok())
                .unwrap_or_default(),
            ResourceSource::Live => Self::live_resources(),
        }
    }

    pub fn live_resources() -> Resources {
        // Only what doctor uses: total memory and free space (no CPU, I/O or disk-kind scans).
        let memory_total_bytes = sysinfo::System::new().ok().map(|mut sys| {
            sys.refresh_memory_specifics(sysinfo::MemoryRefreshKind::nothing().with_ram());
            sys.total_memory()
        });
        let disks = sysinfo::Disks::new_with_refreshed_list_specifics(
            sysinfo::DiskRefreshKind::nothing().with_storage(),
        )
        .ok();
        Resources {
            memory_total_bytes,
            disks: disks
                .iter()
                .flat_map(|d| d.iter())
                .map(|d| Disk {
                    mount_point: d.mount_point().to_string_lossy().into_owned(),
                    available_bytes: d.available_space(),
                })
                .collect(),
        }
    }
}
