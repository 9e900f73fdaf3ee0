//! Writing daemon.json so that it cannot be lost or half-written: a lock against a
//! concurrent nvctk, a backup beside the file, a temp file in the same folder that is
//! fsynced and renamed over the target, the target's mode and owner kept, and a symlink's
//! target written instead of the link.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Points of the atomic write where a test can inject a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The temp file exists, still empty.
    TempCreated,
    /// The new bytes are in the temp file, not yet synced.
    Written,
    /// Mode and owner copied, data fsynced.
    Synced,
    /// Just before the rename that makes the new file visible.
    BeforeRename,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::TempCreated,
        Stage::Written,
        Stage::Synced,
        Stage::BeforeRename,
    ];
}

/// Follows symlinks (also a dangling one, up to 40 hops) to the file that really gets
/// written. A missing file resolves to itself.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut cur = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&cur)?;
                cur = if link.is_absolute() {
                    link
                } else {
                    cur.parent().unwrap_or(Path::new("/")).join(link)
                };
            }
            Ok(_) => return Ok(cur),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(cur),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

fn file_name(path: &Path) -> io::Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| io::Error::other(format!("{} is not a file path", path.display())))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the temp file unless the write went through.
struct TempGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn fchown(f: &File, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: fchown on a descriptor we own; no memory is passed.
    if unsafe { libc::fchown(f.as_raw_fd(), uid, gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes `bytes` to `target` (already resolved, see [`resolve`]) atomically: readers see
/// the old file or the new one, never a mix, and a crash or an error at any point leaves
/// the old bytes. The new file gets the old one's mode and owner (0644 and the caller's
/// ids for a new file). `fault` is called at each [`Stage`]; an error from it aborts the
/// write there, as a real failure would (tests inject failures through it).
pub fn write_atomic_with(
    target: &Path,
    bytes: &[u8],
    fault: &mut dyn FnMut(Stage) -> io::Result<()>,
) -> io::Result<()> {
    let dir = parent(target);
    let name = file_name(target)?;
    let old = fs::metadata(target).ok();
    let mode = old.as_ref().map(|m| m.mode() & 0o7777).unwrap_or(0o644);
    let mut n = 0u32;
    let (mut file, tmp) = loop {
        let tmp = dir.join(format!(".{name}.nvctk-tmp-{}-{n}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(f) => break (f, tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    };
    let mut guard = TempGuard {
        path: tmp.clone(),
        armed: true,
    };
    fault(Stage::TempCreated)?;
    file.write_all(bytes)?;
    fault(Stage::Written)?;
    if let Some(m) = &old {
        if (m.uid(), m.gid()) != (file.metadata()?.uid(), file.metadata()?.gid()) {
            fchown(&file, m.uid(), m.gid()).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot keep the owner {}:{} of {}: {e}",
                        m.uid(),
                        m.gid(),
                        target.display()
                    ),
                )
            })?;
        }
    }
    // After fchown, which may clear set-id bits.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.sync_all()?;
    fault(Stage::Synced)?;
    drop(file);
    fault(Stage::BeforeRename)?;
    fs::rename(&tmp, target)?;
    guard.armed = false;
    // The rename itself is durable once the folder is synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(target, bytes, &mut |_| Ok(()))
}

/// An exclusive flock on `<file>.nvctk.lock`, released when dropped. The lock file stays
/// (removing it would let two processes lock two different files).
pub struct Lock {
    _file: File,
    pub path: PathBuf,
}

pub fn lock_path(target: &Path) -> io::Result<PathBuf> {
    Ok(parent(target).join(format!("{}.nvctk.lock", file_name(target)?)))
}

/// Waits up to `wait` for the lock; `Ok(None)` when another process still holds it.
pub fn lock(target: &Path, wait: Duration) -> io::Result<Option<Lock>> {
    let path = lock_path(target)?;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)?;
    let start = Instant::now();
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Some(Lock { _file: file, path }));
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) && err.kind() != io::ErrorKind::Interrupted
        {
            return Err(err);
        }
        if start.elapsed() >= wait {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const BACKUP_TAG: &str = ".nvctk-backup-";
const UNDONE_TAG: &str = ".nvctk-undone-";

/// UTC `YYYYMMDDTHHMMSS.mmmZ`: sorts by time as text.
pub fn stamp(t: SystemTime) -> String {
    let (year, month, day, hh, mm, ss, ms) = utc_parts(t);
    format!("{year:04}{month:02}{day:02}T{hh:02}{mm:02}{ss:02}.{ms:03}Z")
}

/// Year, month, day, hour, minute, second and millisecond in UTC, without a date crate.
pub fn utc_parts(t: SystemTime) -> (i64, i64, i64, u64, u64, u64, u32) {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis(),
    )
}

/// Saves `bytes` as `<file><tag><time>` beside `target`, with the target's mode and owner,
/// fsynced. Never overwrites an existing file.
fn save_beside(target: &Path, tag: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let dir = parent(target);
    let name = file_name(target)?;
    let old = fs::metadata(target).ok();
    for _ in 0..50 {
        let path = dir.join(format!("{name}{tag}{}", stamp(SystemTime::now())));
        let mut f = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            Err(e) => return Err(e),
        };
        let result = (|| {
            f.write_all(bytes)?;
            if let Some(m) = &old {
                if unsafe { libc::geteuid() } == 0 {
                    fchown(&f, m.uid(), m.gid())?;
                }
                f.set_permissions(fs::Permissions::from_mode(m.mode() & 0o777))?;
            }
            f.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        return Ok(path);
    }
    Err(io::Error::other("could not find a free backup name"))
}

/// `daemon.json.nvctk-backup-<time>` beside the file: what it held before nvctk changed it.
pub fn backup(target: &Path, original: &[u8]) -> io::Result<PathBuf> {
    let p = save_beside(target, BACKUP_TAG, original)?;
    prune(target, BACKUP_TAG);
    Ok(p)
}

/// How many backups (and undo copies) of a file nvctk keeps; older ones are removed so
/// repeated runs do not fill /etc/docker.
pub const KEEP: usize = 5;

fn prune(target: &Path, tag: &str) {
    let found = tagged(target, tag);
    if found.len() > KEEP {
        for old in &found[..found.len() - KEEP] {
            let _ = fs::remove_file(old);
        }
    }
}

/// `daemon.json.nvctk-undone-<time>`: what `--undo` replaced, kept so nothing is lost.
pub fn save_undone(target: &Path, current: &[u8]) -> io::Result<PathBuf> {
    let p = save_beside(target, UNDONE_TAG, current)?;
    prune(target, UNDONE_TAG);
    Ok(p)
}

/// nvctk's backups of `target`, oldest first.
pub fn backups(target: &Path) -> Vec<PathBuf> {
    tagged(target, BACKUP_TAG)
}

/// Files beside `target` named `<name><tag><time>`, oldest first (the time sorts as text).
fn tagged(target: &Path, tag: &str) -> Vec<PathBuf> {
    let dir = parent(target);
    let Ok(name) = file_name(target) else {
        return Vec::new();
    };
    let prefix = format!("{name}{tag}");
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Whether the current user may create and replace files in `target`'s folder (and the
/// file itself), as the write needs.
pub fn writable(target: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ok = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            // SAFETY: a valid NUL-terminated path.
            .map(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
            .unwrap_or(false)
    };
    let dir = parent(target);
    let dir_ok = if dir.exists() {
        ok(dir)
    } else {
        // A folder still to create: judge by its nearest existing ancestor.
        dir.ancestors().find(|a| a.exists()).is_some_and(ok)
    };
    dir_ok && (!target.exists() || ok(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_backups_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("daemon.json");
        std::fs::write(&target, "{}").unwrap();
        for i in 0..(KEEP + 3) {
            backup(&target, format!("{{\"n\": {i}}}").as_bytes()).unwrap();
        }
        let kept = backups(&target);
        assert_eq!(kept.len(), KEEP);
        let newest = std::fs::read_to_string(kept.last().unwrap()).unwrap();
        assert_eq!(newest, format!("{{\"n\": {}}}", KEEP + 2));
    }
    use std::os::unix::fs::symlink;

    #[test]
    fn stamps_are_utc_calendar_times() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_709_251_200_123);
        assert_eq!(stamp(t), "20240301T000000.123Z");
        assert_eq!(stamp(SystemTime::UNIX_EPOCH), "19700101T000000.000Z");
    }

    #[test]
    fn writes_through_a_symlink_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "{}").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("daemon.json");
        symlink("real.json", &link).unwrap();
        let target = resolve(&link).unwrap();
        assert_eq!(target, real);
        write_atomic(&target, b"{\"a\": 1}\n").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&link).unwrap(), b"{\"a\": 1}\n");
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o640);
    }

    #[test]
    fn a_failure_at_any_stage_keeps_the_old_file_and_no_temp() {
        for stage in Stage::ALL {
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("daemon.json");
            fs::write(&f, "old").unwrap();
            let res = write_atomic_with(&f, b"new", &mut |s| {
                if s == stage {
                    Err(io::Error::other("injected"))
                } else {
                    Ok(())
                }
            });
            assert!(res.is_err());
            assert_eq!(fs::read(&f).unwrap(), b"old");
            assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "{stage:?}");
        }
    }

    #[test]
    fn the_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        let held = lock(&f, Duration::ZERO).unwrap();
        assert!(held.is_some());
        // flock locks belong to the open file description: a second open conflicts.
        assert!(lock(&f, Duration::from_millis(100)).unwrap().is_none());
        drop(held);
        assert!(lock(&f, Duration::ZERO).unwrap().is_some());
    }

    #[test]
    fn backups_sort_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        fs::write(&f, "1").unwrap();
        let a = backup(&f, b"1").unwrap();
        let b = backup(&f, b"2").unwrap();
        assert_eq!(backups(&f), vec![a, b]);
        assert!(save_undone(&f, b"3").is_ok());
        assert_eq!(backups(&f).len(), 2);
    }
}
