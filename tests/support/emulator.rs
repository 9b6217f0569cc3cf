//! moto in server mode: where it is installed, starting it on a free port, its control API
//! (reset, state), and stopping it on drop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http_client::{free_port, http_request};
use super::ids::COUNTER;

/// Where the scripts keep their tools (virtual environments, the Lambda build's target
/// directory): `$S3RP_TOOLS_DIR`, else `~/.cache/s3-replication-provider-tools` (as the
/// scripts compute it).
pub fn tools_dir() -> PathBuf {
    std::env::var_os("S3RP_TOOLS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
                .map(|c| c.join("s3-replication-provider-tools"))
        })
        .unwrap_or_default()
}

/// The command (program, leading args) that runs moto's server.
pub fn moto_command() -> (PathBuf, Vec<String>) {
    if let Some(explicit) = std::env::var_os("MOTO_SERVER").filter(|v| !v.is_empty()) {
        return (PathBuf::from(explicit), Vec::new());
    }
    // moto (with the project's fixes) in the venv `scripts/setup.sh` makes.
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/moto_server.py");
    let python = tools_dir().join("moto/bin/python");
    assert!(
        python.is_file(),
        "no moto: run `bash scripts/setup.sh` (it installs the pinned moto into {}), or set MOTO_SERVER",
        python.display()
    );
    (python, vec![wrapper.display().to_string()])
}

/// A moto server on 127.0.0.1, killed when dropped.
pub struct Emulator {
    child: Child,
    port: u16,
    log_path: PathBuf,
}

impl Emulator {
    /// Spawn moto on a free port and wait until it answers (panics if it cannot).
    pub async fn start() -> Emulator {
        let (program, prefix) = moto_command();
        let mut last_error = String::new();
        let mut last_log = PathBuf::new();
        for _attempt in 0..3 {
            let port = free_port();
            let log_path = std::env::temp_dir().join(format!(
                "moto-{}-{}-{port}.log",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let log = File::create(&log_path).expect("create moto log file");
            let child = Command::new(&program)
                .args(&prefix)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run {} ({e}); run `bash scripts/setup.sh` or set MOTO_SERVER",
                        program.display()
                    )
                });
            let mut emulator = Emulator {
                child,
                port,
                log_path: log_path.clone(),
            };
            last_log = log_path;
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Ok(Some(status)) = emulator.child.try_wait() {
                    last_error = format!("moto exited with {status}");
                    break;
                }
                if let Ok((code, _)) = http_request(port, "GET", "/moto-api/", b"").await {
                    if code < 500 && matches!(emulator.child.try_wait(), Ok(None)) {
                        return emulator;
                    }
                }
                if Instant::now() > deadline {
                    last_error = "moto did not answer within 60s".to_string();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            drop(emulator);
        }
        let tail = std::fs::read_to_string(&last_log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(20).collect();
        panic!(
            "could not start moto ({}): {last_error}\n{}",
            program.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Clear all state (`POST /moto-api/reset`).
    pub async fn reset(&self) {
        let (code, _) = http_request(self.port, "POST", "/moto-api/reset", b"")
            .await
            .expect("moto reset");
        assert_eq!(code, 200, "moto reset answered {code}");
    }

    /// moto's internal state (`GET /moto-api/data.json`).
    pub async fn data(&self) -> Value {
        let (code, body) = http_request(self.port, "GET", "/moto-api/data.json", b"")
            .await
            .expect("moto data.json");
        assert_eq!(code, 200, "moto data.json answered {code}");
        serde_json::from_slice(&body).expect("moto data.json is JSON")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("moto log kept at {}", self.log_path.display());
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}
