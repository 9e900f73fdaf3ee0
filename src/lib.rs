//! nvctk: makes Linux and WSL2 hosts ready for GPU containers with the NVIDIA Container
//! Toolkit, and proves it. Architecture: host seams → probes → Facts → checks → reports
//! (see DESIGN in the repository's docs).

pub mod checks;
pub mod doctor;
pub mod facts;
pub mod gputest;
pub mod host;
pub mod install;
pub mod output;
pub mod preflight;
pub mod probe;
pub mod redact;
pub mod report;
pub mod requirements;
pub mod setup;
pub mod version;
