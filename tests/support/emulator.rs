//! moto in server mode: started through `scripts/emulator.py` (the one harness the demo and the
//! Python tests use too), its control API (reset, state), and stopping it on drop.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http_client::http_request;
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

/// The Python of the venv `scripts/setup.sh` makes (the pinned moto is installed there).
pub fn python() -> PathBuf {
    let python = tools_dir().join("moto/bin/python");
    assert!(
        python.is_file(),
        "no moto: run `bash scripts/setup.sh` (it installs the pinned moto into {})",
        python.display()
    );
    python
}

/// A moto server on 127.0.0.1, stopped when dropped.
///
/// Started as the demo and the Python tests start theirs: `scripts/emulator.py moto` runs
/// `MotoServer` (the pinned moto through `scripts/moto_server.py`, or `$MOTO_SERVER`; a free
/// port; waiting until it answers, with retries), prints `ready <endpoint>`, and stops moto
/// when its stdin closes.
pub struct Emulator {
    child: Child,
    /// Closing it (on drop) tells `emulator.py` to stop moto.
    stdin: Option<ChildStdin>,
    port: u16,
    log_path: PathBuf,
}

impl Emulator {
    /// Starts moto and waits until it answers (panics, with its log's tail, if it cannot).
    pub async fn start() -> Emulator {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/emulator.py");
        let log_path = std::env::temp_dir().join(format!(
            "moto-{}-{}.log",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // Append: emulator.py's own messages and moto's output share the file.
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("create moto log file");
        let mut child = Command::new(python())
            .arg(&script)
            .args(["moto", "--log"])
            .arg(&log_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} ({e})", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let announced = tokio::time::timeout(Duration::from_secs(200), first_line).await;
        let endpoint = match announced {
            Ok(Ok(Ok(line))) => line.trim().strip_prefix("ready ").map(str::to_owned),
            _ => None,
        };
        let port = endpoint
            .as_deref()
            .and_then(|e| e.rsplit(':').next())
            .and_then(|p| p.parse().ok());
        let mut emulator = Emulator {
            stdin: child.stdin.take(),
            child,
            port: port.unwrap_or_default(),
            log_path,
        };
        if port.is_none() {
            let status = emulator.child.try_wait().ok().flatten();
            let log = std::fs::read_to_string(&emulator.log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            drop(emulator);
            panic!(
                "could not start moto through {} (exit: {status:?})\n{}",
                script.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        emulator
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
    /// Closes `emulator.py`'s stdin (it stops moto and exits), and kills it if it has not
    /// within five seconds (moto then gets SIGTERM as its parent dies).
    fn drop(&mut self) {
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("moto log kept at {}", self.log_path.display());
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}
