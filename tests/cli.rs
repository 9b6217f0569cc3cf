//! The binary's `plan` and `doctor` commands.

mod support;

use std::process::Command;

use serde_json::{json, Value};
use support::harness::{Harness, HOME_REGION};
use support::{bootstrap_path, unique, DEFAULT_ACCOUNT};

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

#[tokio::test]
async fn doctor_reads_live_state_and_finds_the_chain_healthy() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu
        .create_bucket(DEFAULT_ACCOUNT, HOME_REGION, &src, false)
        .await;
    h.emu
        .create_bucket("222222222222", "us-west-2", &dst, false)
        .await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Destinations": [{"Bucket": dst, "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create"}]});
    h.create(&props).await.assert_success();
    let env: Vec<(String, String)> = h.emu.provider_env(HOME_REGION);
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run(
            &["doctor", "--source-bucket", &src, "--region", HOME_REGION],
            &env,
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("0 fail"), "{out}");
}
