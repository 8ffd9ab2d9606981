//! Runs Prism (`@stoplight/prism-cli`) as a validating mock of one OpenAPI
//! file under `../shared/specs`, for contract tests.
//!
//! Prism is found through `PRISM_BIN`, else `./node_modules/.bin/prism`
//! (`bash .ci/install-prism.sh` puts it there), else `PATH`. Prism serves
//! paths without the spec's server base path: point a client at
//! [`Prism::base_url`] with no `/v2`, `/client/v4`, ... prefix.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{specs_dir, unavailable};

/// How long Prism may take to load a spec and listen (a busy 2-core box
/// with several test binaries starting node at once is slow).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Picking a free port and handing it to Prism can race with other
/// processes; a start that loses the race is retried on a new port.
const START_ATTEMPTS: u32 = 3;

/// A running `prism mock --errors`; killed when dropped.
pub struct Prism {
    child: Child,
    port: u16,
    spec: PathBuf,
    logs: tempfile::TempDir,
}

impl Prism {
    /// Starts Prism on `spec` (a path relative to `../shared/specs`, e.g.
    /// `pagerduty/events-v2-openapiv3.json`) and waits until it answers.
    /// `None` when Prism or the specs are missing (printed; a panic under
    /// `CI=true`). Panics, with Prism's output, if Prism exists but fails to start.
    pub fn start(spec: &str) -> Option<Prism> {
        let specs = specs_dir()?;
        let spec_path = specs.join(spec);
        if !spec_path.is_file() {
            unavailable(&format!("spec file {} not found", spec_path.display()));
            return None;
        }
        Prism::start_file(&spec_path)
    }

    /// As [`Prism::start`], for a spec file anywhere (one built by
    /// `spec_patch` in a temp dir, say).
    pub fn start_file(spec_path: &Path) -> Option<Prism> {
        let bin = find_prism()?;
        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            match Prism::spawn(&bin, spec_path) {
                Ok(prism) => return Some(prism),
                Err(failure) => last_failure = failure,
            }
        }
        panic!(
            "prism ({}) did not start on {} after {START_ATTEMPTS} attempts:\n{last_failure}",
            bin.display(),
            spec_path.display()
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`: the API root as Prism serves it.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything Prism printed so far (each request's validation report).
    pub fn output(&self) -> String {
        read_logs(self.logs.path())
    }

    fn spawn(bin: &Path, spec: &Path) -> Result<Prism, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let logs = tempfile::tempdir().map_err(|e| format!("no temp dir for logs: {e}"))?;
        // Files, not pipes: Prism logs every request, and a pipe nobody reads
        // would fill up and stall it.
        let stdout = File::create(logs.path().join("stdout")).map_err(|e| e.to_string())?;
        let stderr = File::create(logs.path().join("stderr")).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .args(["mock", "--errors", "-h", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let mut prism = Prism {
            child,
            port,
            spec: spec.to_path_buf(),
            logs,
        };
        prism.wait_until_listening()?;
        Ok(prism)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "prism exited ({status}) before listening on port {}; its output:\n{}",
                    self.port,
                    self.output()
                ));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(format!(
                    "prism on {} was not listening on port {} after {STARTUP_TIMEOUT:?}; its output:\n{}",
                    self.spec.display(),
                    self.port,
                    self.output()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        // Already exited is fine; anything else cannot be handled in drop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_prism() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("PRISM_BIN") {
        let explicit = PathBuf::from(explicit);
        if is_executable(&explicit) {
            return Some(explicit);
        }
        unavailable(&format!(
            "PRISM_BIN={} is not an executable file",
            explicit.display()
        ));
        return None;
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/.bin/prism");
    if is_executable(&local) {
        return Some(local);
    }
    if let Some(on_path) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("prism"))
            .find(|candidate| is_executable(candidate))
    }) {
        return Some(on_path);
    }
    unavailable(
        "prism not found (set PRISM_BIN, or run `bash .ci/install-prism.sh` to install it into ./node_modules)",
    );
    None
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn read_logs(dir: &Path) -> String {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        read("stdout"),
        read("stderr")
    )
}
