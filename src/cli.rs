//! Command-line types. Only this file knows clap; it converts to plain settings structs.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use nvctk::doctor;
use nvctk::output::ColorChoice;
use std::path::PathBuf;
use std::time::Duration;

/// `nvctk --version`: the version, then the commit, target and profile it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("NVCTK_GIT_COMMIT"),
    ", ",
    env!("NVCTK_TARGET"),
    ", ",
    env!("NVCTK_PROFILE"),
    " build)"
);

/// `--api` values: completed by the shells, checked by clap (aliases accepted, not shown).
fn api_values() -> PossibleValuesParser {
    PossibleValuesParser::new([
        PossibleValue::new("cuda"),
        PossibleValue::new("opengl").aliases(["gl", "egl"]),
        PossibleValue::new("vulkan"),
        PossibleValue::new("opencl"),
        PossibleValue::new("video").aliases(["nvenc", "nvdec"]),
        PossibleValue::new("all"),
    ])
}

/// Check ids (and preflight's own ids) for `explain` and `--allow`: offered to shell
/// completion, but any text is accepted here so an unknown id gets nvctk's own
/// did-you-mean error rather than clap's.
#[derive(Clone)]
struct CheckIds;

impl TypedValueParser for CheckIds {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            nvctk::preflight::completion_ids()
                .into_iter()
                .map(PossibleValue::new),
        ))
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "nvctk",
    version = VERSION,
    about = "Make Linux and WSL2 hosts ready for GPU containers with the NVIDIA Container Toolkit, and prove it",
    propagate_version = true
)]
pub struct Cli {
    /// When to use colour: auto follows the terminal, NO_COLOR and CLICOLOR_FORCE
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
    /// Show details and skipped checks (every command)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Show only problems; hints and progress are left out (every command)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Inspect this host (or a snapshot) and explain what stops GPU containers
    Doctor(DoctorArgs),
    /// Make an engine GPU-ready: register the nvidia runtime safely and reversibly
    #[command(subcommand)]
    Setup(SetupCmd),
    /// Prove the GPU works in containers: one short container per API, judged by its output
    Test(TestArgs),
    /// The CI job: doctor plus required runtimes and API tests, strict and time-bounded
    ///
    /// Any warning or error fails unless allowed (--allow, .nvctk.toml). Reports as human
    /// text, JSON, JUnit XML or GitHub annotations with a job summary.
    #[command(after_help = PREFLIGHT_HELP)]
    Preflight(PreflightArgs),
    /// Record what doctor reads, redacted, to attach to a bug report
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
    /// Work with saved reports
    #[command(subcommand)]
    Report(ReportCmd),
    /// Print the long explanation and fix for one check id
    Explain {
        /// A check id, e.g. docker.runtime-missing; `nvctk explain --list` shows all
        #[arg(value_parser = CheckIds, hide_possible_values = true)]
        id: Option<String>,
        /// List every check id
        #[arg(long)]
        list: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a folder
    Man {
        /// Write nvctk.1 and nvctk-COMMAND.1 pages here instead of printing nvctk.1
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct HostArgs {
    /// Inspect a host whose / is mounted at DIR (e.g. /host in a Kubernetes pod)
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Seconds each probe may take before it is reported as hung
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 5.0,
        env = "NVCTK_TIMEOUT"
    )]
    pub timeout: f64,
    /// Load NVML from this file instead of libnvidia-ml.so.1
    #[arg(long, value_name = "PATH", env = "NVCTK_NVML_LIB")]
    pub nvml_lib: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub host: HostArgs,
    /// Replay a snapshot (folder or .tar.gz) instead of inspecting this host
    #[arg(long, value_name = "PATH", conflicts_with = "root")]
    pub snapshot: Option<PathBuf>,
    /// Also judge the driver against this CUDA version, e.g. 12.8
    #[arg(long, value_name = "X.Y")]
    pub cuda: Option<String>,
    /// Also judge the driver against this local image's NVIDIA_REQUIRE_CUDA
    #[arg(long, value_name = "REF", conflicts_with = "cuda")]
    pub image: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutFormat::Human)]
    pub format: OutFormat,
    /// Exit 1 on warnings too
    #[arg(long)]
    pub strict: bool,
}

const PREFLIGHT_HELP: &str = "\
Exit status: 0 nothing failed; 1 a check, requirement or API test failed (warnings too,
unless allowed); 2 nvctk itself failed (bad arguments or config, or --timeout exceeded).

Settings may also come from .nvctk.toml in the current folder (or --config PATH):
  [preflight]
  allow = [\"os.unsupported-distro\"]
  api = [\"cuda\"]
  cuda = \"12.4\"
  require-runtime = [\"nvidia\"]
  timeout = 60
  image = \"registry.local/nvidia/vulkan:1.3-470\"
  pull = \"never\"
  registry = \"registry.local:5000\"
  mode = \"runtime\"
Flags win over the file; --allow lists are added to the file's.";

#[derive(Args, Debug)]
pub struct PreflightArgs {
    /// Inspect a host whose / is mounted at DIR
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Replay a snapshot (folder or .tar.gz) instead of inspecting this host
    #[arg(long, value_name = "PATH", conflicts_with = "root")]
    pub snapshot: Option<PathBuf>,
    /// Run these API tests in containers: cuda, opengl, vulkan, opencl, video or all (comma-separated)
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = api_values(), hide_possible_values = true)]
    pub api: Vec<String>,
    /// Fail unless the driver supports this CUDA version, e.g. 12.4
    #[arg(long, value_name = "X.Y")]
    pub cuda: Option<String>,
    /// Fail unless the engine has this runtime registered (repeat or comma-separate)
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub require_runtime: Vec<String>,
    /// A check id (or api.NAME) whose warning or error does not fail the job (repeat or comma-separate)
    #[arg(long, value_name = "ID", value_delimiter = ',', value_parser = CheckIds, hide_possible_values = true)]
    pub allow: Vec<String>,
    /// How the API test containers ask for the GPU [default: chosen from the host's facts]
    #[arg(long, value_enum)]
    pub mode: Option<GpuMode>,
    /// Run this image for every API test instead of the catalog's
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// When to pull the API test images [default: missing]
    #[arg(long, value_enum)]
    pub pull: Option<PullPolicy>,
    /// A registry mirror (host[:port] or URL) for the API test images
    #[arg(long, value_name = "HOST")]
    pub registry: Option<String>,
    /// Seconds the whole preflight may take [default: 120]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Seconds each probe may take before it is reported as hung
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 5.0,
        env = "NVCTK_TIMEOUT"
    )]
    pub probe_timeout: f64,
    /// Load NVML from this file instead of libnvidia-ml.so.1
    #[arg(long, value_name = "PATH", env = "NVCTK_NVML_LIB")]
    pub nvml_lib: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = PreflightFormat::Human)]
    pub format: PreflightFormat,
    /// Also write a JUnit XML report to this file, whatever --format says
    #[arg(long, value_name = "PATH")]
    pub junit_file: Option<PathBuf>,
    /// Read settings from this file instead of ./.nvctk.toml
    #[arg(long, value_name = "PATH", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore ./.nvctk.toml
    #[arg(long)]
    pub no_config: bool,
    /// Where `--format github` appends its Markdown job summary
    #[arg(long, value_name = "PATH", env = "GITHUB_STEP_SUMMARY", hide = true)]
    pub step_summary: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PreflightFormat {
    Human,
    Json,
    Junit,
    Github,
}

impl PreflightArgs {
    pub fn settings(
        self,
        verbose: bool,
        quiet: bool,
    ) -> Result<nvctk::preflight::Settings, String> {
        use nvctk::preflight::{Flags, Format, Settings};
        let cwd =
            std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
        let flags = Flags {
            snapshot: self.snapshot,
            root: self.root,
            probe_deadline: deadline(self.probe_timeout)
                .map_err(|e| e.replace("--timeout", "--probe-timeout"))?,
            nvml_lib: self.nvml_lib,
            cuda: self.cuda,
            api: (!self.api.is_empty()).then(|| self.api.join(",")),
            require_runtimes: self
                .require_runtime
                .into_iter()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
            allow: self
                .allow
                .into_iter()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            mode: self.mode.map(GpuMode::into_mode),
            image: self.image,
            pull: self.pull.map(PullPolicy::into_pull),
            registry: self.registry,
            timeout: self.timeout,
            format: match self.format {
                PreflightFormat::Human => Format::Human,
                PreflightFormat::Json => Format::Json,
                PreflightFormat::Junit => Format::Junit,
                PreflightFormat::Github => Format::Github,
            },
            config: self.config,
            no_config: self.no_config,
            step_summary: self.step_summary.filter(|p| !p.as_os_str().is_empty()),
            junit_file: self.junit_file,
            human: nvctk::report::human::Options { verbose, quiet },
        };
        Settings::resolve(flags, &cwd)
    }
}

#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// Merge doctor JSON reports (one per node; the file stem names the node) into one fleet
    /// table: which checks fail on which nodes
    ///
    /// A preflight JSON report (`nvctk preflight --format json`) is accepted too: its embedded
    /// doctor report is used. A bad file inside a folder is skipped with a warning; a bad file
    /// named on the command line is an error. Exit 0 all nodes ready, 1 a node has an error or
    /// a file was skipped, 2 nvctk failed (a named file is not a report).
    Merge {
        /// Doctor or preflight JSON report files, or folders of *.json reports
        #[arg(required = true, value_name = "FILES")]
        files: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = OutFormat::Human)]
        format: OutFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum OutFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum SnapshotCmd {
    /// Save this host's facts as a snapshot folder, or a .tar.gz when PATH ends in .tar.gz
    Save {
        path: PathBuf,
        #[command(flatten)]
        host: HostArgs,
        /// A note stored in the snapshot (what you were trying to do)
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SetupCmd {
    /// Register the nvidia runtime in the daemon.json the running engine reads, reload or
    /// restart it, verify through the Engine API, and roll back if it does not come back
    Docker(SetupDockerArgs),
}

#[derive(Args, Debug)]
pub struct SetupDockerArgs {
    /// Show the change as a unified diff and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also make nvidia the default runtime (asks first: images built here become non-portable)
    #[arg(long)]
    pub set_as_default: bool,
    /// Answer yes to every confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// Also enable CDI in the engine (`"features": {"cdi": true}`; needs a restart)
    #[arg(long)]
    pub cdi: bool,
    /// Restore the newest nvctk backup (or remove only what nvctk adds)
    #[arg(long, conflicts_with_all = ["set_as_default", "cdi", "install_toolkit"])]
    pub undo: bool,
    /// The runtime binary to register
    #[arg(long, value_name = "PATH", default_value = "nvidia-container-runtime")]
    pub runtime_path: String,
    /// Edit this daemon.json instead of the one the running engine was found to read
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Restart the engine even when a reload (SIGHUP) would do
    #[arg(long)]
    pub restart: bool,
    /// Shell command that restarts the engine, for init systems nvctk does not know (and tests)
    #[arg(long, value_name = "CMD", env = "NVCTK_RESTART_COMMAND", hide = true)]
    pub restart_command: Option<String>,
    /// Install the NVIDIA Container Toolkit from NVIDIA's repository when it is missing (asks first)
    #[arg(long)]
    pub install_toolkit: bool,
    /// Seconds to wait for the lock, a restart, and the engine to report the change
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutFormat::Human)]
    pub format: OutFormat,
}

impl SetupDockerArgs {
    pub fn settings(&self, quiet: bool) -> Result<nvctk::setup::Settings, String> {
        let invocation = std::env::args()
            .skip(1)
            .map(|a| {
                if a.is_empty()
                    || a.contains(|c: char| c.is_whitespace() || "'\"$`\\;&|<>*?()".contains(c))
                {
                    format!("'{}'", a.replace('\'', "'\\''"))
                } else {
                    a
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        Ok(nvctk::setup::Settings {
            quiet,
            dry_run: self.dry_run,
            set_default: self.set_as_default,
            yes: self.yes,
            cdi: self.cdi,
            undo: self.undo,
            runtime_name: nvctk::setup::daemon_json::DEFAULT_RUNTIME_NAME.into(),
            runtime_path: self.runtime_path.clone(),
            config: self.config.clone(),
            restart: self.restart,
            restart_command: self.restart_command.clone(),
            install_toolkit: self.install_toolkit,
            timeout: deadline(self.timeout)?,
            probe_deadline: Duration::from_secs(5),
            format: match self.format {
                OutFormat::Human => nvctk::setup::Format::Human,
                OutFormat::Json => nvctk::setup::Format::Json,
            },
            invocation,
        })
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum GpuMode {
    /// `--gpus all` (a DeviceRequest the engine hands to the toolkit)
    Gpus,
    /// `--runtime nvidia` with NVIDIA_VISIBLE_DEVICES=all
    Runtime,
    /// CDI device nvidia.com/gpu=all (Docker 25+ with CDI enabled)
    Cdi,
}

impl GpuMode {
    fn into_mode(self) -> nvctk::gputest::Mode {
        use nvctk::gputest::Mode;
        match self {
            GpuMode::Gpus => Mode::Gpus,
            GpuMode::Runtime => Mode::Runtime,
            GpuMode::Cdi => Mode::Cdi,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PullPolicy {
    Missing,
    Always,
    Never,
}

impl PullPolicy {
    fn into_pull(self) -> nvctk::gputest::Pull {
        use nvctk::gputest::Pull;
        match self {
            PullPolicy::Missing => Pull::Missing,
            PullPolicy::Always => Pull::Always,
            PullPolicy::Never => Pull::Never,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum TestFormat {
    Human,
    Json,
    Junit,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// APIs to prove: cuda, opengl, vulkan, opencl, video, or all (comma-separated)
    #[arg(long, value_name = "API", default_value = "cuda", value_delimiter = ',', value_parser = api_values(), hide_possible_values = true)]
    pub api: Vec<String>,
    /// How the container asks for the GPU (default: chosen from the host's facts)
    #[arg(long, value_enum)]
    pub mode: Option<GpuMode>,
    /// Run this image instead of the catalog's, for every API asked
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// When to pull images
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,
    /// A registry mirror (host[:port] or URL) for tag resolution and pulls
    #[arg(long, value_name = "HOST")]
    pub registry: Option<String>,
    /// Seconds each test container may run before it is killed and fails
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    pub timeout: f64,
    /// Seconds each engine call and doctor probe may take
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 5.0,
        env = "NVCTK_TIMEOUT"
    )]
    pub probe_timeout: f64,
    /// Output format (json and junit go to stdout; progress always goes to stderr)
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    /// Load NVML from this file instead of libnvidia-ml.so.1 (for the driver's CUDA version)
    #[arg(long, value_name = "PATH", env = "NVCTK_NVML_LIB")]
    pub nvml_lib: Option<PathBuf>,
}

impl TestArgs {
    pub fn settings(&self, quiet: bool) -> Result<nvctk::gputest::Settings, String> {
        use nvctk::gputest::Api;
        Ok(nvctk::gputest::Settings {
            apis: Api::parse_list(&self.api.join(","))?,
            mode: self.mode.map(GpuMode::into_mode),
            image: self.image.clone(),
            pull: self.pull.into_pull(),
            registry: self.registry.clone(),
            timeout: deadline(self.timeout)?,
            deadline: deadline(self.probe_timeout)?,
            progress: !quiet,
        })
    }

    pub fn doctor_settings(&self) -> Result<doctor::Settings, String> {
        Ok(doctor::Settings {
            deadline: deadline(self.probe_timeout)?,
            nvml_lib: self.nvml_lib.clone(),
            ..Default::default()
        })
    }

    pub fn format(&self) -> nvctk::gputest::Format {
        match self.format {
            TestFormat::Human => nvctk::gputest::Format::Human,
            TestFormat::Json => nvctk::gputest::Format::Json,
            TestFormat::Junit => nvctk::gputest::Format::Junit,
        }
    }
}

impl From<Color> for ColorChoice {
    fn from(c: Color) -> Self {
        match c {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        }
    }
}

pub fn deadline(secs: f64) -> Result<Duration, String> {
    if !(secs.is_finite() && secs > 0.0 && secs <= 600.0) {
        return Err(format!(
            "--timeout {secs} must be more than 0 and at most 600 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl DoctorArgs {
    pub fn settings(&self, verbose: bool, quiet: bool) -> Result<doctor::Settings, String> {
        Ok(doctor::Settings {
            snapshot: self.snapshot.clone(),
            root: self.host.root.clone(),
            deadline: deadline(self.host.timeout)?,
            nvml_lib: self.host.nvml_lib.clone(),
            cuda: self.cuda.clone(),
            image: self.image.clone(),
            format: match self.format {
                OutFormat::Human => doctor::Format::Human,
                OutFormat::Json => doctor::Format::Json,
            },
            strict: self.strict,
            human: nvctk::report::human::Options { verbose, quiet },
        })
    }
}
