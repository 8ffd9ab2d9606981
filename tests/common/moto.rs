//! moto's S3 server on a free loopback port, for tests that need a real
//! S3-compatible server. moto is found through `MOTO_SERVER_BIN`, else
//! `.ci/cache/venv/bin/moto_server` (`bash .ci/install-moto.sh`), else
//! `PATH`; when it is missing, [`Moto::start`] reports it through
//! [`super::unavailable`] and returns `None`.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::unavailable;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `moto_server`; killed when dropped.
pub struct Moto {
    child: Child,
    port: u16,
    logs: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Option<Moto> {
        let bin = find_moto()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("free port");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let logs = tempfile::tempdir().expect("log dir");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(File::create(logs.path().join("out")).expect("log"))
            .stderr(File::create(logs.path().join("err")).expect("log"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let mut moto = Moto { child, port, logs };
        let started = Instant::now();
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited ({status}):\n{}", moto.output());
            }
            assert!(
                started.elapsed() < STARTUP_TIMEOUT,
                "moto_server not listening after {STARTUP_TIMEOUT:?}:\n{}",
                moto.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn output(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.logs.path().join(name)).unwrap_or_default();
        format!("{}\n{}", read("out"), read("err"))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_moto() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("MOTO_SERVER_BIN") {
        return Some(PathBuf::from(explicit));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/cache/venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|candidate| candidate.is_file())
    });
    if on_path.is_none() {
        unavailable(
            "moto_server not found (run `bash .ci/install-moto.sh`, or set MOTO_SERVER_BIN)",
        );
    }
    on_path
}
