//! Property tests for the atomic writer behind `nvctk setup docker`: whatever the bytes
//! and wherever the write fails, the file keeps its original bytes and no temp file is
//! left; when nothing fails, the file holds exactly the new bytes with its mode kept.

use nvctk::setup::apply::{Stage, backup, backups, write_atomic, write_atomic_with};
use proptest::prelude::*;
use std::os::unix::fs::PermissionsExt;

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_failed_write_leaves_the_original_bytes(
        original in proptest::collection::vec(any::<u8>(), 0..4096),
        new in proptest::collection::vec(any::<u8>(), 0..4096),
        stage in 0usize..Stage::ALL.len(),
        mode in prop_oneof![Just(0o600u32), Just(0o640), Just(0o644)],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        std::fs::write(&f, &original).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
        let fail_at = Stage::ALL[stage];
        let res = write_atomic_with(&f, &new, &mut |s| {
            if s == fail_at { Err(std::io::Error::other("injected")) } else { Ok(()) }
        });
        prop_assert!(res.is_err());
        prop_assert_eq!(std::fs::read(&f).unwrap(), original);
        prop_assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, mode);
        prop_assert_eq!(entries(dir.path()), vec!["daemon.json".to_string()]);
    }

    #[test]
    fn a_successful_write_is_exact_and_keeps_the_mode(
        original in proptest::collection::vec(any::<u8>(), 0..2048),
        new in proptest::collection::vec(any::<u8>(), 0..2048),
        mode in prop_oneof![Just(0o600u32), Just(0o640), Just(0o644)],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        std::fs::write(&f, &original).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
        let b = backup(&f, &original).unwrap();
        write_atomic(&f, &new).unwrap();
        prop_assert_eq!(std::fs::read(&f).unwrap(), new);
        prop_assert_eq!(std::fs::read(&b).unwrap(), original);
        prop_assert_eq!(backups(&f), vec![b]);
        prop_assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, mode);
        prop_assert_eq!(entries(dir.path()).len(), 2);
    }

    /// A real failure, not an injected one: the folder cannot take a new file.
    #[test]
    fn a_read_only_folder_leaves_the_original_bytes(
        original in proptest::collection::vec(any::<u8>(), 0..1024),
        new in proptest::collection::vec(any::<u8>(), 1..1024),
    ) {
        // root ignores directory permissions; a read-only bind is not available to tests,
        // so as root the same failure is made by a folder that is not there any more.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        std::fs::write(&f, &original).unwrap();
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            let gone = dir.path().join("gone/daemon.json");
            prop_assert!(write_atomic(&gone, &new).is_err());
        } else {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
            prop_assert!(write_atomic(&f, &new).is_err());
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        prop_assert_eq!(std::fs::read(&f).unwrap(), original);
        prop_assert_eq!(entries(dir.path()), vec!["daemon.json".to_string()]);
    }
}
