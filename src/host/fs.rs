//! The filesystem seam: every host file nvctk reads goes through a `FsRoot`, so the
//! same probes work on `/`, on a host mounted at `--root /host`, and on a snapshot's `root/`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Files bigger than this are not host configuration; reading them would only cost time.
const MAX_READ: u64 = 4 * 1024 * 1024;

/// How a path was used; ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Exists,
    Listed,
    Read,
}

#[derive(Debug)]
pub struct FsRoot {
    root: PathBuf,
    /// Absolute host paths that were read, listed or looked for, so `snapshot save`
    /// records exactly what doctor used.
    accessed: Mutex<BTreeMap<String, Access>>,
}

impl FsRoot {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            accessed: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps an absolute host path (`/etc/os-release`) below the root.
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.root.join(host_path.trim_start_matches('/'))
    }

    fn note(&self, host_path: &str, how: Access) {
        if let Ok(mut map) = self.accessed.lock() {
            let e = map.entry(host_path.to_string()).or_insert(how);
            // A read is the strongest use: the snapshot then needs the content.
            if how > *e {
                *e = how;
            }
        }
    }

    pub fn accessed(&self) -> BTreeMap<String, Access> {
        self.accessed.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Reads without recording the access (scans of /proc that would bloat a snapshot).
    pub fn read_quiet(&self, host_path: &str) -> Option<String> {
        let file = std::fs::File::open(self.path(host_path)).ok()?;
        let mut buf = Vec::new();
        file.take(MAX_READ).read_to_end(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf).into_owned())
    }

    pub fn list_quiet(&self, host_path: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.path(host_path)) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// The file's text, or None when it is absent or unreadable. Invalid UTF-8 is replaced,
    /// not refused: host files are judged, and a stray byte must not hide the rest.
    pub fn read(&self, host_path: &str) -> Option<String> {
        self.read_bytes(host_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    pub fn read_bytes(&self, host_path: &str) -> Option<Vec<u8>> {
        let file = std::fs::File::open(self.path(host_path)).ok()?;
        let mut buf = Vec::new();
        file.take(MAX_READ).read_to_end(&mut buf).ok()?;
        self.note(host_path, Access::Read);
        Some(buf)
    }

    /// True for files, folders and device nodes alike (snapshots hold device nodes as empty files).
    pub fn exists(&self, host_path: &str) -> bool {
        let found = std::fs::symlink_metadata(self.path(host_path)).is_ok();
        if found {
            self.note(host_path, Access::Exists);
        }
        found
    }

    /// Sorted entry names of a folder; empty when it is absent.
    pub fn list(&self, host_path: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.path(host_path)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let base = host_path.trim_end_matches('/');
        self.note(host_path, Access::Listed);
        for n in &names {
            self.note(&format!("{base}/{n}"), Access::Exists);
        }
        names
    }

    /// Looks a program up in the usual system folders below the root. Used for runtime
    /// binaries named without a path, as dockerd resolves them through its own PATH.
    pub fn which(&self, program: &str) -> Option<String> {
        if program.starts_with('/') {
            return self.exists(program).then(|| program.to_string());
        }
        const DIRS: [&str; 6] = [
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/usr/bin",
            "/sbin",
            "/bin",
        ];
        DIRS.iter()
            .map(|d| format!("{d}/{program}"))
            .find(|p| self.exists(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_below_root_and_records_access() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/os-release"), "ID=ubuntu\n").unwrap();
        let fs = FsRoot::new(dir.path());
        assert_eq!(fs.read("/etc/os-release").as_deref(), Some("ID=ubuntu\n"));
        assert!(fs.read("/etc/missing").is_none());
        assert_eq!(fs.list("/etc"), vec!["os-release".to_string()]);
        let acc = fs.accessed();
        assert_eq!(acc.get("/etc/os-release"), Some(&Access::Read));
        assert_eq!(acc.get("/etc"), Some(&Access::Listed));
        assert!(fs.read_quiet("/etc/os-release").is_some());
        assert!(!fs.accessed().contains_key("/etc/missing"));
    }

    #[test]
    fn which_finds_programs_in_system_dirs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("usr/bin")).unwrap();
        std::fs::write(dir.path().join("usr/bin/nvidia-container-runtime"), "").unwrap();
        let fs = FsRoot::new(dir.path());
        assert_eq!(
            fs.which("nvidia-container-runtime").as_deref(),
            Some("/usr/bin/nvidia-container-runtime")
        );
        assert!(fs.which("runsc").is_none());
    }
}
