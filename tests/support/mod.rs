//! Test helpers for the integration tests: a moto server per test, a
//! CloudFormation response receiver, event builders and "world" helpers that
//! create and inspect buckets, keys and roles across accounts and regions.
//!
//! Use from a test file with `mod support;`. Everything runs on 127.0.0.1.
//!
//! * [`Emulator::start`] spawns moto (from `$MOTO_SERVER`, else `scripts/moto_server.py` with
//!   the Python of the venv `scripts/setup.sh` makes) on a free port and kills it on drop.
//! * [`Receiver::start`] is a tiny HTTP/1.1 server that records every request
//!   made to its pre-signed-looking URLs and answers 200 (or a scripted status).
//! * [`cfn_event`] builds a CloudFormation custom-resource request event.
//! * [`Emulator::invoke`] runs `bootstrap invoke -` against the emulator.
//!
//! moto 5.2.5 quirks worth knowing (see [`Emulator::replication`]):
//! GetBucketReplication answers every rule with `Filter: {Prefix: ""}` and
//! `DeleteMarkerReplication: Disabled` and drops `SourceSelectionCriteria`, so
//! `replication()` overlays those fields from moto's stored copy of the PUT;
//! GetBucketVersioning's reply has a root element the Rust SDK rejects (always:
//! "expected VersioningConfiguration"), so `versioning()` falls back to moto's
//! state;
//! ScheduleKeyDeletion/DisableKey/EnableKey/CancelKeyDeletion answer 500 when
//! given a key ARN instead of a key id; KMS calls only find a key in its own
//! account (use the owner account's config).
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The account that static test credentials act in.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// Role assumed (it need not exist in moto) to act in another account.
pub const TEST_ADMIN_ROLE: &str = "test-admin";
pub const TEST_ACCESS_KEY_ID: &str = "testing";
pub const TEST_SECRET_ACCESS_KEY: &str = "testing";
/// Region used for IAM (a global service).
pub const IAM_REGION: &str = "us-east-1";
/// The ResponseURL prefix of every local receiver: admitted by the function only through its
/// `PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES` setting, as an operator would for an emulator.
pub const LOCAL_RESPONSE_URLS: &str = "http://127.0.0.1:";

/// [`s3_replication_provider::handler::Settings`] for the in-process handler in tests: the
/// defaults, with the local receivers admitted as ResponseURLs.
pub fn local_settings() -> s3_replication_provider::handler::Settings {
    s3_replication_provider::handler::Settings {
        response_urls: s3_replication_provider::cfn::AllowedPrefixes::parse(LOCAL_RESPONSE_URLS),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------
// small utilities
// ---------------------------------------------------------------------------

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random 64-bit number from std's randomly seeded hasher (no extra crates).
pub fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// A unique, bucket-name-safe name: `unique("src")` -> `src-1a2b3c4d5e`.
pub fn unique(prefix: &str) -> String {
    format!("{}-{:010x}", prefix, random_u64() & 0xff_ffff_ffff)
}

/// A fresh UUID-looking id (version 4 layout).
pub fn uuid() -> String {
    let a = random_u64();
    let b = random_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// `(account, region)` of an ARN such as `arn:aws:kms:us-west-2:222222222222:key/...`.
pub fn arn_account_region(arn: &str) -> (String, String) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    assert!(parts.len() == 6 && parts[0] == "arn", "not an ARN: {arn:?}");
    (parts[4].to_string(), parts[3].to_string())
}

/// The `Sid`s of a policy document's statements (`"(no Sid)"` for unnamed ones).
pub fn policy_sids(doc: &Value) -> Vec<String> {
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .map(|s| {
            s.get("Sid")
                .and_then(Value::as_str)
                .unwrap_or("(no Sid)")
                .to_string()
        })
        .collect()
}

/// Whether `needle` appears anywhere in the JSON text of `doc`.
pub fn mentions(doc: &Value, needle: &str) -> bool {
    doc.to_string().contains(needle)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse a policy document that IAM may return URL-encoded.
pub fn parse_policy(doc: &str) -> Value {
    serde_json::from_str(doc)
        .or_else(|_| serde_json::from_str(&percent_decode(doc)))
        .unwrap_or_else(|e| panic!("policy document is not JSON ({e}): {doc}"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = body.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&body[..pos]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        body = &body[pos + 2..];
        if size == 0 || body.len() < size {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// A minimal HTTP/1.1 request to 127.0.0.1:`port`; returns (status, body).
pub async fn http_request(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head:?}")))?;
    let rest = &raw[split + 4..];
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    Ok((
        status,
        if chunked {
            dechunk(rest)
        } else {
            rest.to_vec()
        },
    ))
}

// ---------------------------------------------------------------------------
// Emulator: moto in server mode
// ---------------------------------------------------------------------------

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

    // ---- SDK configuration and clients

    /// Static test credentials (account 123456789012), endpoint set to moto.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        self.config_with(
            region,
            Credentials::new(
                TEST_ACCESS_KEY_ID,
                TEST_SECRET_ACCESS_KEY,
                None,
                None,
                "support-static",
            ),
        )
        .await
    }

    async fn config_with(&self, region: &str, credentials: Credentials) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(credentials)
            .load()
            .await
    }

    /// Credentials from `sts:AssumeRole` on `arn:aws:iam::<account>:role/test-admin`,
    /// so every call acts in `account`.
    pub async fn account_config(&self, account: &str, region: &str) -> SdkConfig {
        let sts = aws_sdk_sts::Client::new(&self.sdk_config(region).await);
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/{TEST_ADMIN_ROLE}"))
            .role_session_name("integration-tests")
            .send()
            .await
            .unwrap_or_else(|e| panic!("assume role in {account}: {e:?}"));
        let c = out.credentials().expect("assume role returned credentials");
        self.config_with(
            region,
            Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "support-assumed",
            ),
        )
        .await
    }

    /// S3 client acting in `account` (path-style addressing).
    pub async fn s3(&self, account: &str, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.account_config(account, region).await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub async fn kms(&self, account: &str, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.account_config(account, region).await)
    }

    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.account_config(account, IAM_REGION).await)
    }

    pub async fn sts(&self, account: &str, region: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.account_config(account, region).await)
    }

    // ---- world: creation

    /// Create a bucket owned by `account` in `region`, optionally versioned.
    pub async fn create_bucket(&self, account: &str, region: &str, name: &str, versioned: bool) {
        use aws_sdk_s3::types::{
            BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
            VersioningConfiguration,
        };
        let s3 = self.s3(account, region).await;
        let mut req = s3.create_bucket().bucket(name);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        req.send()
            .await
            .unwrap_or_else(|e| panic!("create bucket {name} in {account}/{region}: {e:?}"));
        if versioned {
            s3.put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("enable versioning on {name}: {e:?}"));
        }
    }

    /// Tag a bucket (replacing its tags), e.g. with the replication double's control tag.
    pub async fn tag_bucket(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        key: &str,
        value: &str,
    ) {
        use aws_sdk_s3::types::{Tag, Tagging};
        let tag = Tag::builder().key(key).value(value).build().unwrap();
        self.s3(account, region)
            .await
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(Tagging::builder().tag_set(tag).build().unwrap())
            .send()
            .await
            .unwrap_or_else(|e| panic!("tag bucket {bucket}: {e:?}"));
    }

    /// Put an object (a user's data); returns its version id.
    pub async fn put_object(&self, account: &str, region: &str, bucket: &str, key: &str) -> String {
        let out = self
            .s3(account, region)
            .await
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(
                b"user data",
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"));
        out.version_id().unwrap_or("null").to_owned()
    }

    /// Every object version and delete marker in a bucket, as `key@version`.
    pub async fn object_versions(&self, account: &str, region: &str, bucket: &str) -> Vec<String> {
        let out = self
            .s3(account, region)
            .await
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list versions of {bucket}: {e:?}"));
        let versions = out
            .versions()
            .iter()
            .map(|v| (v.key().unwrap_or(""), v.version_id().unwrap_or("")));
        let markers = out
            .delete_markers()
            .iter()
            .map(|m| (m.key().unwrap_or(""), m.version_id().unwrap_or("")));
        versions
            .chain(markers)
            .map(|(k, v)| format!("{k}@{v}"))
            .collect()
    }

    /// Create a customer-managed KMS key in `account`/`region`; returns its ARN.
    pub async fn create_key(&self, account: &str, region: &str) -> String {
        let kms = self.kms(account, region).await;
        let out = kms
            .create_key()
            .description(format!("test key in {account}/{region}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create key in {account}/{region}: {e:?}"));
        out.key_metadata()
            .and_then(|m| m.arn())
            .expect("created key has an ARN")
            .to_string()
    }

    /// Makes `account` the management account of a new organization; returns its id (`o-…`).
    pub async fn create_organization(&self, account: &str) -> String {
        let org =
            aws_sdk_organizations::Client::new(&self.account_config(account, IAM_REGION).await);
        let out = org
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create organization in {account}: {e:?}"));
        out.organization
            .and_then(|o| o.id)
            .expect("created organization has an id")
    }

    /// Set a bucket's policy (e.g. to check that foreign statements survive).
    pub async fn put_bucket_policy(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        policy: &Value,
    ) {
        self.s3(account, region)
            .await
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put bucket policy on {bucket}: {e:?}"));
    }

    /// Replace a key's default policy.
    pub async fn put_key_policy(&self, account: &str, region: &str, key: &str, policy: &Value) {
        self.kms(account, region)
            .await
            .put_key_policy()
            .key_id(key_id_of(key))
            .policy_name("default")
            .policy(policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put key policy on {key}: {e:?}"));
    }

    // ---- world: inspection

    pub async fn bucket_exists(&self, account: &str, region: &str, bucket: &str) -> bool {
        match self
            .s3(account, region)
            .await
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => false,
            Err(e) if e.code() == Some("NoSuchBucket") || e.code() == Some("NotFound") => false,
            Err(e) => panic!("head bucket {bucket}: {e:?}"),
        }
    }

    /// The bucket policy as JSON, or None if it has none.
    pub async fn bucket_policy(&self, account: &str, region: &str, bucket: &str) -> Option<Value> {
        match self
            .s3(account, region)
            .await
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out.policy().map(parse_policy),
            Err(e) if e.code() == Some("NoSuchBucketPolicy") => None,
            Err(e) => panic!("get bucket policy of {bucket}: {e:?}"),
        }
    }

    /// `Some("Enabled")`, `Some("Suspended")`, or None if versioning was never set.
    ///
    /// moto 5.2.5 answers GetBucketVersioning with a `<GetBucketVersioningResponse>`
    /// root that the Rust SDK refuses to parse; then this reads moto's state instead.
    pub async fn versioning(&self, account: &str, region: &str, bucket: &str) -> Option<String> {
        match self
            .s3(account, region)
            .await
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out.status().map(|s| s.as_str().to_string()),
            Err(e) if format!("{e:?}").contains("GetBucketVersioningResponse") => {
                self.stored_versioning(bucket).await
            }
            Err(e) => panic!("get versioning of {bucket}: {e:?}"),
        }
    }

    /// A bucket's versioning status from moto's state (`/moto-api/data.json`).
    pub async fn stored_versioning(&self, bucket: &str) -> Option<String> {
        let data = self.data().await;
        let found = data
            .get("s3")
            .and_then(|s| s.get("FakeBucket"))
            .and_then(Value::as_array)
            .and_then(|buckets| {
                buckets
                    .iter()
                    .find(|b| b.get("name").and_then(Value::as_str) == Some(bucket))
                    .cloned()
            })
            .unwrap_or_else(|| panic!("moto has no bucket {bucket}"));
        found
            .get("versioning_status")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// Default encryption: `{"Algorithm", "KmsKeyId", "BucketKeyEnabled"}`, or None.
    pub async fn encryption(&self, account: &str, region: &str, bucket: &str) -> Option<Value> {
        let out = match self
            .s3(account, region)
            .await
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => {
                return None
            }
            Err(e) => panic!("get encryption of {bucket}: {e:?}"),
        };
        let rule = out
            .server_side_encryption_configuration()?
            .rules()
            .first()?;
        let default = rule.apply_server_side_encryption_by_default();
        Some(json!({
            "Algorithm": default.map(|d| d.sse_algorithm().as_str().to_string()),
            "KmsKeyId": default.and_then(|d| d.kms_master_key_id()),
            "BucketKeyEnabled": rule.bucket_key_enabled(),
        }))
    }

    /// A simplified, flat JSON view of the bucket's replication configuration,
    /// or None if it has none:
    ///
    /// ```json
    /// {"Role": "arn:aws:iam::…:role/…",
    ///  "Rules": [{"Id", "Priority", "Status", "Prefix", "Tags": {…},
    ///             "DeleteMarkerReplication", "SseKmsEncryptedObjects",
    ///             "ReplicaModifications", "Bucket", "Account", "StorageClass",
    ///             "ReplicaKmsKeyId", "OwnerOverride", "ReplicationTime",
    ///             "ReplicationTimeMinutes", "Metrics", "MetricsMinutes"}]}
    /// ```
    ///
    /// Status-like fields are `"Enabled"`/`"Disabled"` or null when absent.
    /// moto's GetBucketReplication loses the filter, DeleteMarkerReplication
    /// and SourceSelectionCriteria, so those come from moto's stored copy of
    /// what was PUT (see [`Emulator::stored_replication`]).
    pub async fn replication(&self, account: &str, region: &str, bucket: &str) -> Option<Value> {
        let out = match self
            .s3(account, region)
            .await
            .get_bucket_replication()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("ReplicationConfigurationNotFoundError") => return None,
            Err(e) => panic!("get replication of {bucket}: {e:?}"),
        };
        let config = out.replication_configuration()?;
        let stored = self.stored_replication(bucket).await;
        let stored_rules: BTreeMap<String, Value> = stored
            .as_ref()
            .and_then(|s| s.get("Rules"))
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(|r| Some((r.get("Id")?.as_str()?.to_string(), r.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let rules: Vec<Value> = config
            .rules()
            .iter()
            .map(|rule| {
                let mut view = sdk_rule_view(rule);
                let id = view["Id"].as_str().unwrap_or_default().to_string();
                if let (Some(stored), Some(obj)) = (stored_rules.get(&id), view.as_object_mut()) {
                    for k in [
                        "Prefix",
                        "Tags",
                        "DeleteMarkerReplication",
                        "SseKmsEncryptedObjects",
                        "ReplicaModifications",
                    ] {
                        obj.insert(k.to_string(), stored[k].clone());
                    }
                }
                view
            })
            .collect();
        Some(json!({ "Role": config.role(), "Rules": rules }))
    }

    /// The same simplified view built only from moto's stored copy of the
    /// PutBucketReplication body (`/moto-api/data.json`); None if none.
    pub async fn stored_replication(&self, bucket: &str) -> Option<Value> {
        let data = self.data().await;
        let buckets = data.get("s3")?.get("FakeBucket")?.as_array()?;
        let stored = buckets
            .iter()
            .find(|b| b.get("name").and_then(Value::as_str) == Some(bucket))?
            .get("replication")
            .filter(|r| !r.is_null())?;
        let rules = match stored.get("Rule") {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => Vec::new(),
        };
        Some(json!({
            "Role": stored.get("Role").cloned().unwrap_or(Value::Null),
            "Rules": rules.iter().map(stored_rule_view).collect::<Vec<_>>(),
        }))
    }

    /// The key's default policy as JSON.
    pub async fn key_policy(&self, account: &str, region: &str, key: &str) -> Value {
        let out = self
            .kms(account, region)
            .await
            .get_key_policy()
            .key_id(key_id_of(key))
            .policy_name("default")
            .send()
            .await
            .unwrap_or_else(|e| panic!("get key policy of {key}: {e:?}"));
        parse_policy(out.policy().unwrap_or("{}"))
    }

    /// `Enabled`, `Disabled`, `PendingDeletion`, ... (None if the key does not exist).
    pub async fn key_state(&self, account: &str, region: &str, key: &str) -> Option<String> {
        match self
            .kms(account, region)
            .await
            .describe_key()
            .key_id(key)
            .send()
            .await
        {
            Ok(out) => out
                .key_metadata()
                .and_then(|m| m.key_state())
                .map(|s| s.as_str().to_string()),
            Err(e) if e.code() == Some("NotFoundException") => None,
            Err(e) => panic!("describe key {key}: {e:?}"),
        }
    }

    pub async fn key_rotation(&self, account: &str, region: &str, key: &str) -> bool {
        self.kms(account, region)
            .await
            .get_key_rotation_status()
            .key_id(key_id_of(key))
            .send()
            .await
            .unwrap_or_else(|e| panic!("get key rotation of {key}: {e:?}"))
            .key_rotation_enabled()
    }

    pub async fn role_exists(&self, account: &str, name: &str) -> bool {
        match self
            .iam(account)
            .await
            .get_role()
            .role_name(name)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.code() == Some("NoSuchEntity") => false,
            Err(e) => panic!("get role {name}: {e:?}"),
        }
    }

    /// A customer managed policy `path``name` in `account` (e.g. a permissions boundary);
    /// returns its ARN.
    pub async fn create_policy(
        &self,
        account: &str,
        path: &str,
        name: &str,
        doc: &Value,
    ) -> String {
        let out = self
            .iam(account)
            .await
            .create_policy()
            .path(path)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("create policy {name}: {e:?}"));
        out.policy()
            .and_then(|p| p.arn())
            .expect("created policy has an ARN")
            .to_owned()
    }

    /// A role's tags and the ARN of its permissions boundary.
    pub async fn role_tags_and_boundary(
        &self,
        account: &str,
        name: &str,
    ) -> (BTreeMap<String, String>, Option<String>) {
        let out = self
            .iam(account)
            .await
            .get_role()
            .role_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get role {name}: {e:?}"));
        let role = out.role().expect("role");
        let tags = role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        let boundary = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_owned);
        (tags, boundary)
    }

    /// The role's inline policies by name (decoded JSON).
    pub async fn role_inline_policies(&self, account: &str, name: &str) -> BTreeMap<String, Value> {
        let iam = self.iam(account).await;
        let names = iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list role policies of {name}: {e:?}"));
        let mut out = BTreeMap::new();
        for policy in names.policy_names() {
            let doc = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get role policy {policy} of {name}: {e:?}"));
            out.insert(policy.clone(), parse_policy(doc.policy_document()));
        }
        out
    }

    // ---- running the provider

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

/// The outcome of one `bootstrap invoke`.
/// The binary the tests run: `$PROVIDER_BOOTSTRAP` (scripts/test.sh points it at the release
/// build) or the debug build cargo made for this test.
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

pub fn bootstrap_path() -> PathBuf {
    std::env::var_os("PROVIDER_BOOTSTRAP")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")))
}

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

/// A key id from a key ARN (moto's ScheduleKeyDeletion & co. need the bare id).
pub fn key_id_of(key: &str) -> &str {
    match key.rsplit_once(":key/") {
        Some((_, id)) => id,
        None => key,
    }
}

fn status_str(v: Option<&str>) -> Value {
    v.map(|s| Value::String(s.to_string()))
        .unwrap_or(Value::Null)
}

#[allow(deprecated)] // ReplicationRule::prefix is the legacy (V1) rule prefix, still valid
fn sdk_rule_view(rule: &aws_sdk_s3::types::ReplicationRule) -> Value {
    let filter = rule.filter();
    let prefix = filter
        .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
        .or(rule.prefix())
        .unwrap_or("");
    let mut tags = Map::new();
    if let Some(f) = filter {
        if let Some(t) = f.tag() {
            tags.insert(t.key().to_string(), Value::String(t.value().to_string()));
        }
        if let Some(a) = f.and() {
            for t in a.tags() {
                tags.insert(t.key().to_string(), Value::String(t.value().to_string()));
            }
        }
    }
    let ssc = rule.source_selection_criteria();
    let dest = rule.destination();
    json!({
        "Id": rule.id(),
        "Priority": rule.priority(),
        "Status": rule.status().as_str(),
        "Prefix": prefix,
        "Tags": tags,
        "DeleteMarkerReplication": status_str(
            rule.delete_marker_replication().and_then(|d| d.status()).map(|s| s.as_str())
        ),
        "SseKmsEncryptedObjects": status_str(
            ssc.and_then(|s| s.sse_kms_encrypted_objects()).map(|s| s.status().as_str())
        ),
        "ReplicaModifications": status_str(
            ssc.and_then(|s| s.replica_modifications()).map(|s| s.status().as_str())
        ),
        "Bucket": dest.map(|d| d.bucket()),
        "Account": dest.and_then(|d| d.account()),
        "StorageClass": dest.and_then(|d| d.storage_class()).map(|s| s.as_str()),
        "ReplicaKmsKeyId": dest
            .and_then(|d| d.encryption_configuration())
            .and_then(|e| e.replica_kms_key_id()),
        "OwnerOverride": dest
            .and_then(|d| d.access_control_translation())
            .map(|a| a.owner().as_str()),
        "ReplicationTime": status_str(dest.and_then(|d| d.replication_time()).map(|r| r.status().as_str())),
        "ReplicationTimeMinutes": dest
            .and_then(|d| d.replication_time())
            .and_then(|r| r.time())
            .and_then(|t| t.minutes()),
        "Metrics": status_str(dest.and_then(|d| d.metrics()).map(|m| m.status().as_str())),
        "MetricsMinutes": dest
            .and_then(|d| d.metrics())
            .and_then(|m| m.event_threshold())
            .and_then(|t| t.minutes()),
    })
}

/// Field of a stored (xmltodict-shaped) document, by path.
fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn stored_str(v: &Value, path: &[&str]) -> Value {
    match at(v, path) {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => Value::Null,
    }
}

fn stored_num(v: &Value, path: &[&str]) -> Value {
    match at(v, path) {
        Some(Value::String(s)) => s.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
        Some(Value::Number(n)) => Value::Number(n.clone()),
        _ => Value::Null,
    }
}

fn stored_rule_view(rule: &Value) -> Value {
    let prefix = [
        &["Filter", "Prefix"][..],
        &["Filter", "And", "Prefix"][..],
        &["Prefix"][..],
    ]
    .iter()
    .find_map(|p| at(rule, p).and_then(Value::as_str))
    .unwrap_or("");
    let mut tags = Map::new();
    for path in [&["Filter", "Tag"][..], &["Filter", "And", "Tag"][..]] {
        let items = match at(rule, path) {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => Vec::new(),
        };
        for t in items {
            if let (Some(k), Some(v)) = (t.get("Key").and_then(Value::as_str), t.get("Value")) {
                let v = v.as_str().unwrap_or_default();
                tags.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
    }
    json!({
        "Id": stored_str(rule, &["ID"]),
        "Priority": stored_num(rule, &["Priority"]),
        "Status": stored_str(rule, &["Status"]),
        "Prefix": prefix,
        "Tags": tags,
        "DeleteMarkerReplication": stored_str(rule, &["DeleteMarkerReplication", "Status"]),
        "SseKmsEncryptedObjects": stored_str(rule, &["SourceSelectionCriteria", "SseKmsEncryptedObjects", "Status"]),
        "ReplicaModifications": stored_str(rule, &["SourceSelectionCriteria", "ReplicaModifications", "Status"]),
        "Bucket": stored_str(rule, &["Destination", "Bucket"]),
        "Account": stored_str(rule, &["Destination", "Account"]),
        "StorageClass": stored_str(rule, &["Destination", "StorageClass"]),
        "ReplicaKmsKeyId": stored_str(rule, &["Destination", "EncryptionConfiguration", "ReplicaKmsKeyID"]),
        "OwnerOverride": stored_str(rule, &["Destination", "AccessControlTranslation", "Owner"]),
        "ReplicationTime": stored_str(rule, &["Destination", "ReplicationTime", "Status"]),
        "ReplicationTimeMinutes": stored_num(rule, &["Destination", "ReplicationTime", "Time", "Minutes"]),
        "Metrics": stored_str(rule, &["Destination", "Metrics", "Status"]),
        "MetricsMinutes": stored_num(rule, &["Destination", "Metrics", "EventThreshold", "Minutes"]),
    })
}

// ---------------------------------------------------------------------------
// CloudFormation events
// ---------------------------------------------------------------------------

pub const TEST_STACK_REGION: &str = "eu-west-1";
pub const LOGICAL_RESOURCE_ID: &str = "Replication";
pub const RESOURCE_TYPE: &str = "Custom::S3Replication";

/// The stack every test resource belongs to (CloudFormation sends the same StackId with every
/// request of a stack's resource: Create, Update and Delete of one resource must share it, since
/// Create records it as the owner). Tests that need a second stack use [`stack_id`].
pub fn test_stack_id() -> String {
    stack_id("test-stack")
}

/// The StackId of a stack named `name` (fixed per name, as CloudFormation's is per stack).
pub fn stack_id(name: &str) -> String {
    format!(
        "arn:aws:cloudformation:{TEST_STACK_REGION}:{DEFAULT_ACCOUNT}:stack/{name}/{:08x}-0000-4000-8000-000000000000",
        fnv32(name)
    )
}

fn fnv32(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A CloudFormation custom-resource request event with a fresh RequestId, from the test stack
/// ([`test_stack_id`]).
///
/// `props` becomes ResourceProperties (a `ServiceToken`, and the `ServiceTimeout` of "600"
/// the README and the examples set, are added if missing, as CloudFormation does: it forwards
/// both, as strings, beside the resource's own properties); `physical_id` and `old_props` are included when given
/// (Update and Delete carry PhysicalResourceId; Update carries OldResourceProperties).
pub fn cfn_event(
    request_type: &str,
    response_url: &str,
    props: Value,
    physical_id: Option<&str>,
    old_props: Option<Value>,
) -> Value {
    cfn_event_from(
        &test_stack_id(),
        request_type,
        response_url,
        props,
        physical_id,
        old_props,
    )
}

/// [`cfn_event`] from the stack `stack_id`.
pub fn cfn_event_from(
    stack_id: &str,
    request_type: &str,
    response_url: &str,
    props: Value,
    physical_id: Option<&str>,
    old_props: Option<Value>,
) -> Value {
    let service_token = format!(
        "arn:aws:lambda:{TEST_STACK_REGION}:{DEFAULT_ACCOUNT}:function:s3-replication-provider"
    );
    let with_token = |mut p: Value| {
        if let Some(obj) = p.as_object_mut() {
            obj.entry("ServiceToken")
                .or_insert_with(|| Value::String(service_token.clone()));
            obj.entry("ServiceTimeout")
                .or_insert_with(|| Value::String("600".into()));
        }
        p
    };
    let mut event = json!({
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": uuid(),
        "LogicalResourceId": LOGICAL_RESOURCE_ID,
        "ResourceType": RESOURCE_TYPE,
        "ResourceProperties": with_token(props),
    });
    let obj = event.as_object_mut().expect("event is an object");
    if let Some(id) = physical_id {
        obj.insert("PhysicalResourceId".into(), Value::String(id.to_string()));
    }
    if let Some(old) = old_props {
        obj.insert("OldResourceProperties".into(), with_token(old));
    }
    event
}

// ---------------------------------------------------------------------------
// Receiver: records CloudFormation responses
// ---------------------------------------------------------------------------

/// One HTTP request the receiver got.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, exactly as sent.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the receiver answered.
    pub status: u16,
}

impl RecordedRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `<id>` of `/cfn-response/<id>?...` (percent-decoded).
    pub fn response_id(&self) -> String {
        let path = self.path.split('?').next().unwrap_or("");
        percent_decode(path.rsplit('/').next().unwrap_or(""))
    }

    pub fn query(&self) -> BTreeMap<String, String> {
        self.path
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }
}

#[derive(Default)]
struct ReceiverState {
    requests: Vec<RecordedRequest>,
    scripted: VecDeque<u16>,
}

/// A tiny HTTP/1.1 server on its own thread (so it keeps answering whatever
/// the test's runtime is doing), recording every request.
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<Mutex<ReceiverState>>,
    notify: Arc<Notify>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        listener
            .set_nonblocking(true)
            .expect("nonblocking receiver");
        let addr = listener.local_addr().expect("receiver address");
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let notify = Arc::new(Notify::new());
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (thread_state, thread_notify) = (state.clone(), notify.clone());
        let thread = std::thread::Builder::new()
            .name("cfn-receiver".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("receiver runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("receiver listener");
                    loop {
                        tokio::select! {
                            _ = &mut rx => break,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    let (s, n) = (thread_state.clone(), thread_notify.clone());
                                    tokio::spawn(async move {
                                        let _ = serve_connection(stream, s, n).await;
                                    });
                                }
                            }
                        }
                    }
                });
            })
            .expect("spawn receiver thread");
        Receiver {
            addr,
            state,
            notify,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A ResponseURL for `id` that looks like CloudFormation's pre-signed S3 URL:
    /// `http://127.0.0.1:PORT/cfn-response/<id>?X-Amz-Algorithm=AWS4-HMAC-SHA256&...&X-Amz-Signature=<hex>`.
    /// `id` is used as given (it may contain percent-escapes, like real ones).
    pub fn url(&self, id: &str) -> String {
        let signature = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            random_u64(),
            random_u64(),
            random_u64(),
            random_u64()
        );
        format!(
            "http://127.0.0.1:{}/cfn-response/{id}?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7200\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Signature={signature}",
            self.addr.port()
        )
    }

    /// Answer `status` to the next `count` requests (then 200 again).
    pub fn fail_first(&self, count: usize, status: u16) {
        let mut st = self.state.lock().unwrap();
        st.scripted.extend(std::iter::repeat_n(status, count));
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Parsed JSON bodies of every PUT (non-JSON bodies are skipped).
    pub fn responses(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .filter_map(RecordedRequest::json)
            .collect()
    }

    /// Parsed JSON bodies of the PUTs to `url(id)`.
    pub fn responses_for(&self, id: &str) -> Vec<Value> {
        let id = percent_decode(id);
        self.requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.response_id() == id)
            .filter_map(RecordedRequest::json)
            .collect()
    }

    /// Wait until at least `count` requests arrived (or `timeout` passed); returns all so far.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let got = self.requests();
            if got.len() >= count {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.requests();
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn serve_connection(
    stream: TcpStream,
    state: Arc<Mutex<ReceiverState>>,
    notify: Arc<Notify>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    // request line (skip stray empty lines)
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).await? == 0 {
            break;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if header("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        write.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let mut body = Vec::new();
    if header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).await?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                // trailers until the empty line
                loop {
                    let mut t = String::new();
                    if reader.read_line(&mut t).await? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk).await?;
            body.extend_from_slice(&chunk);
            let mut crlf = String::new();
            reader.read_line(&mut crlf).await?;
        }
    } else if let Some(len) = header("Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; len];
        reader.read_exact(&mut body).await?;
    }
    let status = {
        let mut st = state.lock().unwrap();
        let status = st.scripted.pop_front().unwrap_or(200);
        st.requests.push(RecordedRequest {
            method,
            path,
            headers,
            body,
            status,
        });
        status
    };
    notify.notify_waiters();
    let payload: &[u8] = if status < 400 {
        b""
    } else {
        b"<Error><Code>InternalError</Code></Error>"
    };
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        payload.len()
    );
    write.write_all(head.as_bytes()).await?;
    write.write_all(payload).await?;
    write.shutdown().await?;
    Ok(())
}

/// A replication rule's `SourceSelectionCriteria` that selects SSE-KMS encrypted objects.
pub fn sse_kms_objects() -> aws_sdk_s3::types::SourceSelectionCriteria {
    use aws_sdk_s3::types::{
        SourceSelectionCriteria, SseKmsEncryptedObjects, SseKmsEncryptedObjectsStatus,
    };
    SourceSelectionCriteria::builder()
        .sse_kms_encrypted_objects(
            SseKmsEncryptedObjects::builder()
                .status(SseKmsEncryptedObjectsStatus::Enabled)
                .build()
                .expect("status is set"),
        )
        .build()
}

pub mod fuzz;
pub mod harness;
pub mod oracle;
pub mod proxy;
