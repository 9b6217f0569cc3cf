//! Running the provider's binary: `bootstrap invoke -` against the emulator, with only the
//! environment a test gives it.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{Emulator, LOCAL_RESPONSE_URLS, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY};

impl Emulator {
    /// Environment for `bootstrap invoke` against this emulator.
    pub fn provider_env(&self, region: &str) -> Vec<(String, String)> {
        // An empty config/credentials file: nothing from ~/.aws leaks in, no SDK warnings.
        let no_config = std::env::temp_dir().join("s3-replication-provider-empty-aws-config");
        if !no_config.exists() {
            let _ = std::fs::write(&no_config, b"");
        }
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_REGION".into(), region.into()),
            ("AWS_DEFAULT_REGION".into(), region.into()),
            ("AWS_ACCESS_KEY_ID".into(), TEST_ACCESS_KEY_ID.into()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                TEST_SECRET_ACCESS_KEY.into(),
            ),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_CONFIG_FILE".into(), no_config.display().to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                no_config.display().to_string(),
            ),
            ("PROVIDER_TIME_BUDGET_SECONDS".into(), "60".into()),
            (
                "PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES".into(),
                LOCAL_RESPONSE_URLS.into(),
            ),
            // The tests' events name stacks no CloudFormation runs.
            ("PROVIDER_VERIFY_STACK_EVENTS".into(), "false".into()),
        ]
    }

    /// Run `bootstrap invoke -` with `event` on stdin, in `region`.
    pub async fn invoke(&self, region: &str, event: &Value) -> Invocation {
        self.invoke_with_env(region, event, &[]).await
    }

    /// Like [`Emulator::invoke`], with extra environment variables (they win).
    pub async fn invoke_with_env(
        &self,
        region: &str,
        event: &Value,
        extra_env: &[(&str, &str)],
    ) -> Invocation {
        let mut cmd = tokio::process::Command::new(bootstrap_path());
        cmd.arg("invoke").arg("-");
        scrub_aws_env(&mut cmd);
        cmd.envs(self.provider_env(region));
        cmd.envs(extra_env.iter().copied());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn bootstrap");
        let mut stdin = child.stdin.take().expect("bootstrap stdin");
        stdin
            .write_all(event.to_string().as_bytes())
            .await
            .expect("write event to bootstrap");
        drop(stdin);
        let output = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
            .await
            .expect("bootstrap invoke did not finish within 300s")
            .expect("wait for bootstrap");
        Invocation {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Removes every AWS and Lambda variable of this process from `cmd`'s environment, so a child
/// sees only what the test gives it (never the machine's credentials or region).
pub fn scrub_aws_env(cmd: &mut tokio::process::Command) {
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name.starts_with("AWS_") || name.starts_with("LAMBDA_") || name.starts_with("_LAMBDA") {
            cmd.env_remove(&k);
        }
    }
}

/// The binary the tests run: `$PROVIDER_BOOTSTRAP` (scripts/test.sh points it at the release
/// build) or the debug build cargo made for this test.
pub fn bootstrap_path() -> PathBuf {
    std::env::var_os("PROVIDER_BOOTSTRAP")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")))
}

/// The outcome of one `bootstrap invoke`.
#[derive(Debug)]
pub struct Invocation {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Invocation {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The response JSON printed on stdout (the whole of stdout, else its last line).
    pub fn stdout_json(&self) -> Option<Value> {
        serde_json::from_str(self.stdout.trim()).ok().or_else(|| {
            self.stdout
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .and_then(|l| serde_json::from_str(l).ok())
        })
    }
}
