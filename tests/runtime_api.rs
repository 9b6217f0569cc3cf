//! The built `bootstrap` as a Lambda function, under AWS's Lambda Runtime Interface Emulator
//! (the `aws-lambda-rie` that SAM CLI ships in `samcli/local/rapid/`): the real Runtime API
//! loop (`/runtime/invocation/next`, deadlines, response posting), not `bootstrap invoke`.
//!
//! Create → Update → Delete (and an invalid Create) are POSTed to the emulator's
//! `/2015-03-31/functions/function/invocations`, starting from the event that
//! `sam local generate-event cloudformation create-request` prints (or, without SAM CLI, the
//! same shape from `support::cfn_event`). Each must end in exactly one PUT at the response
//! receiver, and moto's state must change accordingly.
//!
//! The emulator is `$AWS_LAMBDA_RIE`, else `aws-lambda-rie-<arch>` of the `samcli` package of
//! `$SAM_CLI_PYTHON`, of the tools venv `.ci/templates.sh` creates, or of `python3`. The test
//! is `#[ignore]`d, so a run without the emulator counts it as skipped, not passed; `.ci/sam.sh`
//! installs the emulator and runs it (`--run-ignored only`), and there a missing emulator fails.

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{cfn_event, http_request, unique, uuid, Emulator, Receiver, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const HOME_REGION: &str = "eu-west-1";
const ACCT_B: &str = "222222222222";
const REGION_B: &str = "us-west-2";
const ACCT_C: &str = "333333333333";
const REGION_C: &str = "ap-southeast-2";
const FUNCTION_NAME: &str = "s3-replication-provider";
const INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// Printed unbuffered to stderr, past the test harness' capture, so a skip is visible.
fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn rie_name() -> &'static str {
    if std::env::consts::ARCH == "aarch64" {
        "aws-lambda-rie-arm64"
    } else {
        "aws-lambda-rie-x86_64"
    }
}

/// Python interpreters that may have `aws-sam-cli` (module `samcli`) installed.
fn candidate_pythons() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("SAM_CLI_PYTHON").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(p));
    }
    out.push(support::tools_dir().join("sam/bin/python"));
    out.push(PathBuf::from("python3"));
    out
}

/// The directory of the `samcli` package of `python`, if it has one.
fn samcli_dir(python: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import importlib.util, os; s = importlib.util.find_spec('samcli'); \
             print(os.path.dirname(s.origin) if s and s.origin else '')",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

struct Tools {
    rie: PathBuf,
    /// A Python with `samcli`, to generate the event skeleton.
    sam_python: Option<PathBuf>,
}

/// Finds the emulator, or says why there is none.
fn find_tools() -> Result<Tools, String> {
    let mut sam_python = None;
    let mut rie = None;
    let mut tried = Vec::new();
    for python in candidate_pythons() {
        match samcli_dir(&python) {
            Some(dir) => {
                let candidate = dir.join("local/rapid").join(rie_name());
                if candidate.is_file() && rie.is_none() {
                    rie = Some(candidate);
                } else if !candidate.is_file() {
                    tried.push(format!(
                        "{} has no {}",
                        python.display(),
                        candidate.display()
                    ));
                }
                sam_python.get_or_insert(python);
            }
            None => tried.push(format!("{}: no samcli module", python.display())),
        }
    }
    if let Some(explicit) = std::env::var_os("AWS_LAMBDA_RIE").filter(|v| !v.is_empty()) {
        let explicit = PathBuf::from(explicit);
        // A path that was asked for but is wrong is an error, not a skip.
        assert!(
            explicit.is_file(),
            "AWS_LAMBDA_RIE={} does not exist",
            explicit.display()
        );
        return Ok(Tools {
            rie: explicit,
            sam_python,
        });
    }
    match rie {
        Some(rie) => Ok(Tools { rie, sam_python }),
        None => Err(format!(
            "no Lambda Runtime Interface Emulator: AWS_LAMBDA_RIE is unset and no aws-sam-cli was found ({}); \
             `bash .ci/sam.sh` installs it",
            tried.join("; ")
        )),
    }
}

/// The event skeleton printed by `sam local generate-event cloudformation create-request`.
fn sam_event_skeleton(python: &Path) -> Result<Value, String> {
    let app_dir = std::env::temp_dir().join(format!("s3rp-sam-app-{}", std::process::id()));
    let out = std::process::Command::new(python)
        .args([
            "-m",
            "samcli",
            "local",
            "generate-event",
            "cloudformation",
            "create-request",
        ])
        .args([
            "--region",
            HOME_REGION,
            "--account-id",
            SRC,
            "--stack",
            "runtime-api-test",
        ])
        .env("SAM_CLI_TELEMETRY", "0")
        .env("__SAM_CLI_APP_DIR", &app_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", python.display()))?;
    let _ = std::fs::remove_dir_all(&app_dir);
    if !out.status.success() {
        return Err(format!(
            "sam local generate-event failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("generate-event printed no JSON: {e}"))
}

/// Builds CloudFormation requests from a skeleton event.
struct Events {
    skeleton: Value,
    source: &'static str,
}

impl Events {
    fn new(sam_python: Option<&Path>) -> Events {
        if let Some(python) = sam_python {
            match sam_event_skeleton(python) {
                Ok(skeleton) => {
                    assert_eq!(skeleton["RequestType"], "Create", "{skeleton}");
                    assert!(skeleton.get("ResponseURL").is_some(), "{skeleton}");
                    return Events {
                        skeleton,
                        source: "sam local generate-event cloudformation create-request",
                    };
                }
                Err(e) => loud(&format!("note: {e}; using support::cfn_event")),
            }
        }
        Events {
            skeleton: cfn_event("Create", "http://unused", json!({}), None, None),
            source: "support::cfn_event",
        }
    }

    /// A request of `kind` answering to `response_url`.
    fn request(
        &self,
        kind: &str,
        response_url: &str,
        props: &Value,
        physical_id: Option<&str>,
        old: Option<&Value>,
    ) -> Value {
        let service_token = format!("arn:aws:lambda:{HOME_REGION}:{SRC}:function:{FUNCTION_NAME}");
        let with_token = |p: &Value| {
            let mut p = p.clone();
            p["ServiceToken"] = json!(service_token);
            // CloudFormation forwards the resource's ServiceTimeout as a string too.
            p["ServiceTimeout"] = json!("600");
            p
        };
        let mut e = self.skeleton.clone();
        let obj = e.as_object_mut().expect("event is an object");
        obj.insert("RequestType".into(), json!(kind));
        obj.insert("ServiceToken".into(), json!(service_token));
        obj.insert("ResponseURL".into(), json!(response_url));
        obj.insert("RequestId".into(), json!(uuid()));
        obj.insert("ResourceType".into(), json!("Custom::S3Replication"));
        obj.insert("LogicalResourceId".into(), json!("Replication"));
        obj.insert("ResourceProperties".into(), with_token(props));
        obj.remove("PhysicalResourceId");
        obj.remove("OldResourceProperties");
        if let Some(id) = physical_id {
            obj.insert("PhysicalResourceId".into(), json!(id));
        }
        if let Some(old) = old {
            obj.insert("OldResourceProperties".into(), with_token(old));
        }
        e
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// `aws-lambda-rie <bootstrap>` on loopback ports, killed on drop.
struct Rie {
    child: tokio::process::Child,
    port: u16,
    log_path: PathBuf,
}

impl Rie {
    async fn start(rie: &Path, emu: &Emulator) -> Rie {
        let bootstrap = env!("CARGO_BIN_EXE_bootstrap");
        let mut last = String::new();
        for attempt in 0..3 {
            let (port, api_port) = (free_port(), free_port());
            let log_path = std::env::temp_dir().join(format!(
                "runtime-api-{}-{attempt}-{port}.log",
                std::process::id()
            ));
            let log = std::fs::File::create(&log_path).expect("create RIE log");
            let mut cmd = tokio::process::Command::new(rie);
            cmd.args(["--log-level", "info"])
                .args([
                    "--runtime-interface-emulator-address",
                    &format!("127.0.0.1:{port}"),
                ])
                .args(["--runtime-api-address", &format!("127.0.0.1:{api_port}")])
                .arg(bootstrap)
                .current_dir(Path::new(bootstrap).parent().expect("bootstrap dir"));
            support::scrub_aws_env(&mut cmd);
            cmd.envs(emu.provider_env(HOME_REGION))
                .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                // The RIE derives each invocation's deadline from this.
                .env("AWS_LAMBDA_FUNCTION_TIMEOUT", "120")
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log"))
                .stderr(log)
                .kill_on_drop(true);
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", rie.display()));
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!(
                        "{} exited with {status}:\n{}",
                        rie.display(),
                        std::fs::read_to_string(&log_path).unwrap_or_default()
                    );
                    break;
                }
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return Rie {
                        child,
                        port,
                        log_path,
                    };
                }
                if Instant::now() > deadline {
                    last = format!("{} did not listen on {port} within 20s", rie.display());
                    let _ = child.kill().await;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("could not start the Runtime Interface Emulator: {last}");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// POSTs one event; returns the function's result (the JSON the handler returned).
    async fn invoke(&mut self, event: &Value) -> Value {
        let body = event.to_string();
        let started = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(180),
            http_request(self.port, "POST", INVOKE_PATH, body.as_bytes()),
        )
        .await;
        let (status, reply) = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => panic!("invoke failed: {e}\n--- RIE log ---\n{}", self.log()),
            Err(_) => panic!("invoke took over 180s\n--- RIE log ---\n{}", self.log()),
        };
        let reply = String::from_utf8_lossy(&reply).into_owned();
        assert_eq!(
            status,
            200,
            "RIE answered {status}: {reply}\n--- RIE log ---\n{}",
            self.log()
        );
        assert!(
            matches!(self.child.try_wait(), Ok(None)),
            "RIE exited\n--- RIE log ---\n{}",
            self.log()
        );
        loud(&format!(
            "runtime_api: {} answered in {:.1}s: {reply}",
            event["RequestType"],
            started.elapsed().as_secs_f64()
        ));
        serde_json::from_str(&reply)
            .unwrap_or_else(|e| panic!("function result is not JSON ({e}): {reply}"))
    }
}

impl Drop for Rie {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!(
                "RIE log kept at {}:\n{}",
                self.log_path.display(),
                self.log()
            );
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}

/// Sends `event` (whose ResponseURL is `rx.url(id)`) and returns the one answer PUT for it.
async fn answer(rie: &mut Rie, rx: &Receiver, id: &str, event: &Value) -> Value {
    let result = rie.invoke(event).await;
    assert_eq!(
        result["Delivered"],
        json!(true),
        "function result: {result}\n--- RIE log ---\n{}",
        rie.log()
    );
    // The handler returns after delivering; allow a moment for a (wrong) second PUT to show.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let puts: Vec<_> = rx
        .requests()
        .into_iter()
        .filter(|r| r.response_id() == id)
        .collect();
    assert_eq!(
        puts.len(),
        1,
        "exactly one answer per request, got {}\n--- RIE log ---\n{}",
        puts.len(),
        rie.log()
    );
    assert_eq!(puts[0].method, "PUT");
    assert_eq!(
        puts[0].header("content-type").unwrap_or(""),
        "",
        "Content-Type must be empty"
    );
    puts[0].json().expect("response body is JSON")
}

fn rule_buckets(replication: &Value) -> Vec<String> {
    let mut out: Vec<String> = replication["Rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .map(|r| r["Bucket"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
#[ignore = "needs AWS's Lambda Runtime Interface Emulator: .ci/sam.sh installs it and runs this"]
async fn lifecycle_through_the_lambda_runtime_api() {
    // Ignored in the first test run (it has no emulator yet); `.ci/sam.sh` runs it where it
    // has installed one, and there a missing emulator is a failure, never a skip.
    let tools = find_tools().unwrap_or_else(|why| panic!("runtime_api: {why}"));
    let emu = Emulator::start().await;
    let rx = Receiver::start().await;
    let events = Events::new(tools.sam_python.as_deref());
    loud(&format!(
        "runtime_api: RIE {}, events from {}",
        tools.rie.display(),
        events.source
    ));

    let (src, dst_b, dst_c) = (unique("rie-src"), unique("rie-dst"), unique("rie-dst"));
    emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    emu.create_bucket(ACCT_B, REGION_B, &dst_b, false).await;
    emu.create_bucket(ACCT_C, REGION_C, &dst_c, true).await;
    let role_name = format!("s3-replication-{src}");
    let one = json!({
        "SourceBucket": src,
        "Destinations": [{"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B}]
    });
    let two = json!({
        "SourceBucket": src,
        "Destinations": [
            {"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B},
            {"Bucket": dst_c, "AccountId": ACCT_C, "Region": REGION_C, "StorageClass": "STANDARD_IA"}
        ]
    });

    let mut rie = Rie::start(&tools.rie, &emu).await;

    // Create
    let id = uuid();
    let created = answer(
        &mut rie,
        &rx,
        &id,
        &events.request("Create", &rx.url(&id), &one, None, None),
    )
    .await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    support::oracle::assert_healthy(&emu, &one, "Create through the Runtime API").await;
    let physical_id = created["PhysicalResourceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        physical_id,
        format!("s3-replication:{SRC}:{HOME_REGION}:{src}")
    );
    let replication = emu
        .replication(SRC, HOME_REGION, &src)
        .await
        .expect("replication configuration after Create");
    assert_eq!(
        rule_buckets(&replication),
        vec![format!("arn:aws:s3:::{dst_b}")]
    );
    assert_eq!(
        replication["Role"],
        json!(format!(
            "arn:aws:iam::{SRC}:role/s3-replication/{role_name}"
        ))
    );
    assert!(emu.role_exists(SRC, &role_name).await, "role after Create");

    // Update: add a destination in a third account and region
    let id = uuid();
    let updated = answer(
        &mut rie,
        &rx,
        &id,
        &events.request("Update", &rx.url(&id), &two, Some(&physical_id), Some(&one)),
    )
    .await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    support::oracle::assert_healthy(&emu, &two, "Update through the Runtime API").await;
    assert_eq!(updated["PhysicalResourceId"], json!(physical_id));
    let replication = emu
        .replication(SRC, HOME_REGION, &src)
        .await
        .expect("replication configuration after Update");
    let mut want = vec![
        format!("arn:aws:s3:::{dst_b}"),
        format!("arn:aws:s3:::{dst_c}"),
    ];
    want.sort();
    assert_eq!(rule_buckets(&replication), want);

    // Delete
    let id = uuid();
    let deleted = answer(
        &mut rie,
        &rx,
        &id,
        &events.request("Delete", &rx.url(&id), &two, Some(&physical_id), None),
    )
    .await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(deleted["PhysicalResourceId"], json!(physical_id));
    assert_eq!(
        emu.replication(SRC, HOME_REGION, &src).await,
        None,
        "replication configuration after Delete"
    );
    assert!(!emu.role_exists(SRC, &role_name).await, "role after Delete");

    // An invalid request is answered FAILED once, and the runtime loop goes on.
    let id = uuid();
    let bad = json!({"SourceBucket": src, "Destinations": [], "NoSuchProperty": "x"});
    let failed = answer(
        &mut rie,
        &rx,
        &id,
        &events.request("Create", &rx.url(&id), &bad, None, None),
    )
    .await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    assert!(
        failed["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains("NoSuchProperty"),
        "{failed}"
    );
    // The RIE of SAM CLI 1.170 reports each invocation's end; every one must have succeeded
    // (no runtime crash, no timeout). Other RIE versions may word it differently.
    let log = rie.log();
    if log.contains("INVOKE RTDONE") {
        assert_eq!(
            log.matches("INVOKE RTDONE(status: success").count(),
            4,
            "every invocation completed through the Runtime API\n{log}"
        );
    }
}
