//! `nvctk setup docker`: plan a daemon.json change as data, show it, apply it safely.

pub mod daemon_json;
