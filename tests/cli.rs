//! The binary's `plan` and `doctor` commands.

mod support;

use std::process::Command;

use serde_json::{json, Value};
use support::harness::{Harness, HOME_REGION};
use support::{bootstrap_path, unique, DEFAULT_ACCOUNT};

/// A fresh file `name` holding `content`, in a directory of its own.
fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique("cli"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, content).unwrap();
    file
}

fn run(args: &[&str], env: &[(String, String)]) -> (i32, String, String) {
    let out = Command::new(bootstrap_path())
        .args(args)
        .env_remove("AWS_REGION")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `plan --properties FILE` for a source in account 111111111111, eu-west-1 (no AWS call).
fn plan_offline(file: &std::path::Path) -> (i32, String, String) {
    run(
        &[
            "plan",
            "--properties",
            file.to_str().unwrap(),
            "--source-account",
            "111111111111",
            "--region",
            "eu-west-1",
        ],
        &[],
    )
}

#[test]
fn plan_prints_every_document_without_calling_aws() {
    let dir = std::env::temp_dir().join(unique("plan"));
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = dir.join("props.yaml");
    std::fs::write(&yaml, "Properties:\n  SourceBucket: my-data\n  SourceKmsKeyArn: Create\n  Destinations:\n    - Bucket: my-backup\n      AccountId: \"222222222222\"\n      Region: us-west-2\n      KmsKeyArn: Create\n").unwrap();
    // An endpoint nobody listens on: plan must not need it.
    let env = vec![(
        "AWS_ENDPOINT_URL".to_owned(),
        "http://127.0.0.1:9".to_owned(),
    )];
    let (code, out, err) = run(
        &[
            "plan",
            "--properties",
            yaml.to_str().unwrap(),
            "--source-account",
            "111111111111",
            "--region",
            "eu-west-1",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        plan["PhysicalResourceId"],
        "s3-replication:111111111111:eu-west-1:my-data"
    );
    assert_eq!(
        plan["ReplicationRole"]["TrustPolicy"]["Statement"][0]["Condition"]["StringEquals"]
            ["aws:SourceArn"],
        "arn:aws:s3:::my-data"
    );
    assert_eq!(
        plan["DestinationBucketStatements"][0]["Bucket"],
        "my-backup"
    );
    assert_eq!(
        plan["ReplicationConfiguration"]["Rules"][0]["Destination"]["Account"],
        "222222222222"
    );
    let json_file = dir.join("props.json");
    std::fs::write(&json_file, json!({"SourceBucket": "BAD"}).to_string()).unwrap();
    let (code, _, err) = run(&["plan", "--properties", json_file.to_str().unwrap()], &env);
    assert_eq!(code, 2);
    assert!(
        err.contains("SourceBucket") && err.contains("Destinations"),
        "{err}"
    );
}

#[test]
fn doctor_catches_the_broken_recipes() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
    for (file, needle) in [
        ("003_console_walkthrough.json", "s3>ListBucket"),
        ("002_origin_target.json", "TARGET.BUCKET.NAME"),
        ("000_terraform_placeholders.json", "FAIL"),
    ] {
        let (code, out, err) = run(
            &[
                "doctor",
                "--snapshot",
                fixtures.join(file).to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(code, 1, "{file}: {out}{err}");
        assert!(
            out.contains(needle) || out.contains("FAIL"),
            "{file}: {out}"
        );
        let (_, json_out, _) = run(
            &[
                "doctor",
                "--snapshot",
                fixtures.join(file).to_str().unwrap(),
                "--json",
            ],
            &[],
        );
        let v: Value =
            serde_json::from_str(&json_out).unwrap_or_else(|e| panic!("{file}: {e}: {json_out}"));
        assert!(
            v.to_string().contains("\"fail\"") || v.to_string().contains("Fail"),
            "{file}"
        );
    }
}

/// A source bucket of the home account and a destination bucket of 222222222222 in us-west-2.
async fn two_buckets(h: &Harness) -> (String, String) {
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu
        .create_bucket(DEFAULT_ACCOUNT, HOME_REGION, &src, false)
        .await;
    h.emu
        .create_bucket("222222222222", "us-west-2", &dst, false)
        .await;
    (src, dst)
}

/// [`run`] off the async runtime (the binary talks to the test's moto).
async fn run_blocking(args: &[&str], env: &[(String, String)]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, &env)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn doctor_reads_live_state_and_finds_the_chain_healthy() {
    let h = Harness::start().await;
    let (src, dst) = two_buckets(&h).await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Destinations": [{"Bucket": dst, "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create"}]});
    h.create(&props).await.assert_success();
    let env: Vec<(String, String)> = h.emu.provider_env(HOME_REGION);
    let doctor = ["doctor", "--source-bucket", &src, "--region", HOME_REGION];
    let (code, out, err) = run_blocking(&doctor, &env).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("0 fail"), "{out}");
    // A healthy run states facts (no Object Lock, no organization); it warns of nothing.
    assert!(!err.contains("WARN"), "{err}");
}

/// Failed replications stay in view after the alarm went quiet: the doctor counts
/// `OperationsFailedReplication` of the last 14 days (published here as S3 would, in the source
/// region), fails `destination[0].failed-objects` offering the S3 Batch Replication job for
/// FAILED objects, and `plan --diff` shows the count; `Verify: Permissions` still passes (no
/// Update can undo a past failure).
#[tokio::test]
async fn failed_replications_are_counted_by_the_doctor_and_offered_a_job() {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let h = Harness::start().await;
    let (src, dst) = two_buckets(&h).await;
    let props = json!({"SourceBucket": src, "Alarms": "true",
        "Destinations": [{"Bucket": dst, "AccountId": "222222222222", "Region": "us-west-2", "Prefix": "data/"}]});
    let created = h.create(&props).await;
    created.assert_success();
    let rule = format!("replicate-to-{dst}");
    let now = std::time::SystemTime::now();
    let day = std::time::Duration::from_secs(86_400);
    let datum = |value: f64, days_ago: u32| {
        let dims = [
            ("SourceBucket", &src),
            ("DestinationBucket", &dst),
            ("RuleId", &rule),
        ];
        MetricDatum::builder()
            .metric_name("OperationsFailedReplication")
            .set_dimensions(Some(
                dims.iter()
                    .map(|(n, v)| Dimension::builder().name(*n).value(v.as_str()).build())
                    .collect(),
            ))
            .value(value)
            .timestamp(DateTime::from(now - day * days_ago))
            .build()
    };
    h.emu
        .cloudwatch(DEFAULT_ACCOUNT, HOME_REGION)
        .await
        .put_metric_data()
        .namespace("AWS/S3")
        .metric_data(datum(2.0, 1))
        .metric_data(datum(1.0, 3))
        // Older than the 14 days counted.
        .metric_data(datum(5.0, 20))
        .send()
        .await
        .unwrap();
    let env: Vec<(String, String)> = h.emu.provider_env(HOME_REGION);
    let doctor = [
        "doctor",
        "--source-bucket",
        &src,
        "--region",
        HOME_REGION,
        "--json",
    ];
    let (code, out, err) = run_blocking(&doctor, &env).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let findings: Value = serde_json::from_str(&out).unwrap();
    let failed: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "pass")
        .collect();
    assert_eq!(failed.len(), 1, "{findings:#}");
    let f = failed[0];
    assert_eq!(f["link"], "destination[0].failed-objects");
    let detail = f["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("3 replication operations of rule {rule}")),
        "{detail}"
    );
    let generator = &f["fix"][0]["request"]["ManifestGenerator"]["S3JobManifestGenerator"];
    assert_eq!(
        generator["Filter"]["ObjectReplicationStatuses"],
        json!(["FAILED"])
    );
    assert_eq!(
        generator["Filter"]["KeyNameConstraint"]["MatchAnyPrefix"],
        json!(["data/"])
    );

    // plan --diff: the count, nothing to change.
    let event = std::env::temp_dir().join(format!("{}.json", unique("props")));
    std::fs::write(&event, props.to_string()).unwrap();
    let path = event.to_string_lossy().into_owned();
    let diff = [
        "plan",
        "--diff",
        "--json",
        "--properties",
        &path,
        "--region",
        HOME_REGION,
    ];
    let (code, out, err) = run_blocking(&diff, &env).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let diff: Value = serde_json::from_str(&out).unwrap();
    let counted = diff["Changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["What"] == format!("failed replications of rule {rule}"))
        .unwrap_or_else(|| panic!("{diff:#}"));
    assert_eq!(counted["Current"]["OperationsFailedReplication"], 3);

    // Verify: Permissions is about what the configuration allows: it passes.
    let mut verified = props.clone();
    verified["Verify"] = json!("Permissions");
    let id = created.physical_id().to_owned();
    h.request_unchecked("Update", &verified, Some(&id), Some(&props))
        .await
        .assert_success();
}

// ---------------------------------------------------------------------------------------------
// the first hour: what a newcomer meets
// ---------------------------------------------------------------------------------------------

/// Outside Lambda, no command: the usage and exit 2, not a panic with a backtrace.
#[test]
fn no_command_outside_lambda_prints_the_usage() {
    let out = Command::new(bootstrap_path())
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Usage:") && err.contains("plan") && err.contains("doctor"),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["help"],
        vec!["plan", "--help"],
        vec!["doctor", "--help"],
        vec!["invoke", "--help"],
        vec!["--version"],
    ] {
        let (code, out, err) = run(&args, &[]);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!out.is_empty(), "{args:?} printed nothing");
    }
    let (_, out, _) = run(&["plan", "--help"], &[]);
    for flag in [
        "--properties",
        "--resource",
        "--parameter",
        "--source-account",
        "--region",
        "--diff",
    ] {
        assert!(out.contains(flag), "plan --help lacks {flag}: {out}");
    }
}

#[test]
fn a_misspelt_flag_fails_with_a_suggestion() {
    for (args, near) in [
        (
            vec!["plan", "--properties", "p.yaml", "--regoin", "eu-west-1"],
            "--region",
        ),
        (vec!["doctor", "--sourec-bucket", "b"], "--source-bucket"),
        (vec!["plna"], "plan"),
    ] {
        let (code, out, err) = run(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(near), "{args:?}: {err}");
    }
}

/// `plan` invents no fact silently: the placeholder account and the assumed region are said.
#[test]
fn plan_announces_what_it_assumes() {
    let file = temp_file("p.yaml", "SourceBucket: data\nDestinations:\n  - {Bucket: backup, AccountId: \"222222222222\", Region: us-west-2}\n");
    let env = vec![("AWS_DEFAULT_REGION".to_owned(), String::new())];
    let (code, out, err) = run(&["plan", "--properties", file.to_str().unwrap()], &env);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("--source-account") && err.contains("111111111111"),
        "{err}"
    );
    assert!(
        err.contains("--region") && err.contains("us-east-1"),
        "{err}"
    );
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        plan["PhysicalResourceId"],
        "s3-replication:111111111111:us-east-1:data"
    );
    let (code, _, err) = run(
        &[
            "plan",
            "--properties",
            file.to_str().unwrap(),
            "--source-account",
            "444455556666",
            "--region",
            "eu-west-1",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("placeholder") && !err.contains("planning for"),
        "nothing assumed, nothing announced: {err}"
    );
}

/// The replication configuration exactly as `PutBucketReplication` receives it (S3's JSON, as
/// `aws s3api get-bucket-replication` prints it).
#[test]
fn plan_prints_the_replication_configuration_in_s3s_shape() {
    let file = temp_file("p.yaml", "SourceBucket: data\nSourceKmsKeyArn: Create\nDestinations:\n  - {Bucket: backup, AccountId: \"222222222222\", Region: us-west-2, KmsKeyArn: Create, Prefix: logs/, ReplicationTimeControl: \"true\", DeleteMarkerReplication: \"true\"}\n  - {Bucket: other, AccountId: \"222222222222\", Region: us-west-2, KmsKeyArn: Create, Tags: {team: a}}\n");
    let (code, out, err) = plan_offline(&file);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    let c = &plan["ReplicationConfiguration"];
    assert_eq!(
        c["Role"],
        "arn:aws:iam::111111111111:role/s3-replication/s3-replication-data"
    );
    let r = &c["Rules"][0];
    assert_eq!(r["Status"], "Enabled");
    assert_eq!(r["Filter"], json!({"Prefix": "logs/"}));
    assert_eq!(r["DeleteMarkerReplication"], json!({"Status": "Enabled"}));
    assert_eq!(
        r["SourceSelectionCriteria"],
        json!({"SseKmsEncryptedObjects": {"Status": "Enabled"}})
    );
    let d = &r["Destination"];
    assert_eq!(d["Bucket"], "arn:aws:s3:::backup");
    assert_eq!(d["Account"], "222222222222");
    assert_eq!(
        d["AccessControlTranslation"],
        json!({"Owner": "Destination"})
    );
    assert_eq!(
        d["ReplicationTime"],
        json!({"Status": "Enabled", "Time": {"Minutes": 15}})
    );
    assert_eq!(
        d["Metrics"],
        json!({"Status": "Enabled", "EventThreshold": {"Minutes": 15}})
    );
    // A key Create would make: named by the ARN of its alias until it exists.
    assert_eq!(
        d["EncryptionConfiguration"]["ReplicaKmsKeyID"],
        "arn:aws:kms:us-west-2:222222222222:alias/s3-replication/data/backup"
    );
    assert_eq!(
        c["Rules"][1]["Filter"],
        json!({"Tag": {"Key": "team", "Value": "a"}})
    );
    assert_eq!(
        c["Rules"][1]["DeleteMarkerReplication"],
        json!({"Status": "Disabled"})
    );
}

/// Every example template of the repository, and the README's snippet, plans as written
/// (parameters filled where the template has no default; CloudFormation's own properties, such
/// as an imported ServiceToken, are not needed).
#[test]
fn every_example_and_the_readme_snippet_plan_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let key = |region: &str, account: &str| {
        format!("arn:aws:kms:{region}:{account}:key/11111111-2222-3333-4444-555555555555")
    };
    let cases: Vec<(std::path::PathBuf, Vec<String>)> = vec![
        (
            root.join("cloudformation/examples/single-destination.yaml"),
            vec![
                "SourceBucketName=app-data".into(),
                format!("SourceKmsKeyArn={}", key("eu-west-1", "111111111111")),
                "DestinationBucketName=app-data-dr".into(),
                "DestinationAccountId=222222222222".into(),
                "DestinationRegion=us-west-2".into(),
                format!("DestinationKmsKeyArn={}", key("us-west-2", "222222222222")),
            ],
        ),
        (
            root.join("cloudformation/examples/two-destinations-created-keys.yaml"),
            vec![
                "SourceBucketName=app-data".into(),
                "DrBucketName=app-dr".into(),
                "DrAccountId=222222222222".into(),
                "AnalyticsBucketName=app-analytics".into(),
                "AnalyticsAccountId=333333333333".into(),
            ],
        ),
        (
            root.join("cloudformation/examples/organization/source-account-stackset.yaml"),
            vec![
                "BackupBucketName=org-backup".into(),
                "BackupAccountId=222222222222".into(),
                "BackupRegion=eu-central-1".into(),
                format!("BackupKmsKeyArn={}", key("eu-central-1", "222222222222")),
            ],
        ),
    ];
    for (file, params) in cases {
        let mut args: Vec<String> = vec![
            "plan".into(),
            "--properties".into(),
            file.display().to_string(),
            "--source-account".into(),
            "111111111111".into(),
            "--region".into(),
            "eu-west-1".into(),
        ];
        for p in &params {
            args.push("--parameter".into());
            args.push(p.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args, &[]);
        assert_eq!(code, 0, "{}: {err}", file.display());
        let plan: Value = serde_json::from_str(&out).unwrap();
        assert!(
            plan["ReplicationConfiguration"]["Rules"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "{}",
            file.display()
        );
    }
    // The README's snippet, keyed by its logical id.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let snippet = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("README has a yaml snippet");
    assert!(snippet.contains("Custom::S3Replication"), "{snippet}");
    let file = temp_file("snippet.yaml", snippet);
    let (code, out, err) = plan_offline(&file);
    assert_eq!(code, 0, "README snippet: {err}");
    assert!(out.contains("my-data-backup"), "{out}");
    // An intrinsic the plan needs and cannot resolve offline is named.
    std::fs::write(
        &file,
        snippet.replace(
            "SourceBucket: my-data",
            "SourceBucket: !ImportValue shared-bucket",
        ),
    )
    .unwrap();
    let (code, _, err) = plan_offline(&file);
    assert_eq!(code, 2);
    assert!(
        err.contains("Fn::ImportValue") && err.contains("SourceBucket"),
        "{err}"
    );
}

/// README's shell blocks marked `# offline` run as written (with `bootstrap` on PATH).
#[test]
fn the_readmes_offline_commands_run_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```bash\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.starts_with("# offline"))
        .collect();
    assert!(!blocks.is_empty(), "README marks no block `# offline`");
    let bin = bootstrap_path();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for block in blocks {
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", block])
            .current_dir(root)
            .env("PATH", &path)
            .env_remove("AWS_REGION")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README block failed:\n{block}\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn doctor_says_when_the_bucket_is_missing_or_in_another_region() {
    let h = Harness::start().await;
    let src = unique("src");
    h.emu
        .create_bucket(DEFAULT_ACCOUNT, "us-west-2", &src, true)
        .await;
    let env: Vec<(String, String)> = h.emu.provider_env(HOME_REGION);
    let missing = unique("nobucket");
    let (code, out, err) = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || {
            run(
                &[
                    "doctor",
                    "--source-bucket",
                    &missing,
                    "--region",
                    HOME_REGION,
                ],
                &env,
            )
        })
        .await
        .unwrap()
    };
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("does not exist") && !err.contains("no replication configuration"),
        "{err}"
    );
    let (code, out, err) = {
        let src = src.clone();
        tokio::task::spawn_blocking(move || {
            run(
                &["doctor", "--source-bucket", &src, "--region", HOME_REGION],
                &env,
            )
        })
        .await
        .unwrap()
    };
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("us-west-2") && err.contains("--region us-west-2"),
        "{err}"
    );
}
