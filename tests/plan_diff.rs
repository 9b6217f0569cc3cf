//! `plan --diff`: what Create/Update would change, read from the live state (read-only).

mod support;

use std::process::Command;

use s3_replication_provider::aws::{CallLog, Connector};
use s3_replication_provider::preview::{preview, Action, Change};
use serde_json::{json, Value};
use support::harness::{Harness, HOME_REGION};
use support::{bootstrap_path, unique};

const ACCT_B: &str = "222222222222";
const REGION_B: &str = "us-west-2";

/// `what` → action, for the changes that are not unchanged.
fn pending(changes: &[Change]) -> Vec<(String, Action)> {
    changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| {
            (
                c.what
                    .split(" S3Replication")
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                c.action,
            )
        })
        .collect()
}

async fn diff(h: &Harness, props: &Value) -> (Vec<Change>, CallLog) {
    let log = CallLog::default();
    let conn = Connector::new(&h.emu.sdk_config(HOME_REGION).await, log.clone());
    let spec = s3_replication_provider::spec::parse(props).unwrap();
    let p = preview(&conn, &spec)
        .await
        .unwrap_or_else(|e| panic!("preview: {e}"));
    assert!(
        log.calls().iter().all(|c| !c.mutating),
        "plan --diff must not change anything: {:?}",
        log.calls()
            .iter()
            .filter(|c| c.mutating)
            .collect::<Vec<_>>()
    );
    (p.changes, log)
}

#[tokio::test]
async fn diff_shows_what_create_makes_then_nothing_then_the_drift() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu
        .create_bucket(support::DEFAULT_ACCOUNT, HOME_REGION, &src, false)
        .await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create",
        "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"}]});

    let (before, _) = diff(&h, &props).await;
    let expected = [
        ("versioning", Action::Update),
        ("source KMS key", Action::Create),
        ("default encryption", Action::Update),
        ("versioning", Action::Update),
        ("replica KMS key", Action::Create),
        ("replication role trust policy", Action::Create),
        ("replication role policy", Action::Create),
        ("key policy statement", Action::Create),
        ("bucket policy statement", Action::Create),
        ("key policy statement", Action::Create),
        ("replication configuration", Action::Create),
    ];
    let expected: Vec<(String, Action)> =
        expected.iter().map(|(w, a)| (w.to_string(), *a)).collect();
    assert_eq!(pending(&before), expected);
    let role = before
        .iter()
        .find(|c| c.what == "replication role trust policy")
        .unwrap();
    assert_eq!(
        role.desired.as_ref().unwrap()["Statement"][0]["Principal"]["Service"],
        "s3.amazonaws.com"
    );

    let created = h.create(&props).await;
    created.assert_success();
    let (after, _) = diff(&h, &props).await;
    assert_eq!(pending(&after), vec![], "{after:#?}");
    assert_eq!(after.len(), before.len());

    // Drift: someone replaced the destination bucket policy; the properties change a rule.
    let foreign = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Theirs", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": format!("arn:aws:s3:::{dst}/*"), "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    h.emu
        .put_bucket_policy(ACCT_B, REGION_B, &dst, &foreign)
        .await;
    let mut changed = props.clone();
    changed["Destinations"][0]["StorageClass"] = json!("GLACIER_IR");
    let (drift, _) = diff(&h, &changed).await;
    assert_eq!(
        pending(&drift),
        vec![
            ("bucket policy statement".to_owned(), Action::Create),
            ("replication configuration".to_owned(), Action::Update),
        ]
    );
    let rc = drift
        .iter()
        .find(|c| c.what == "replication configuration")
        .unwrap();
    assert_eq!(
        rc.desired.as_ref().unwrap()["Rules"][0]["Destination"]["StorageClass"],
        "GLACIER_IR"
    );
    assert!(rc.current.is_some());
}

#[tokio::test]
async fn diff_shows_what_an_update_dropping_a_destination_removes() {
    let h = Harness::start().await;
    let (src, dst_b, dst_c) = (unique("src"), unique("dstb"), unique("dstc"));
    h.emu
        .create_bucket(support::DEFAULT_ACCOUNT, HOME_REGION, &src, false)
        .await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst_b, false).await;
    h.emu
        .create_bucket("333333333333", "ap-southeast-2", &dst_c, false)
        .await;
    let c = json!({"Bucket": dst_c, "AccountId": "333333333333", "Region": "ap-southeast-2", "KmsKeyArn": "Create"});
    let b =
        json!({"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"});
    let both = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Destinations": [b, c]});
    h.create(&both).await.assert_success();

    let mut only_b = both.clone();
    only_b["Destinations"] = json!([b]);
    let (changes, _) = diff(&h, &only_b).await;
    assert_eq!(
        pending(&changes),
        vec![
            // The role policy no longer names C's bucket and key.
            ("replication role policy".to_owned(), Action::Update),
            ("replication configuration".to_owned(), Action::Update),
            ("bucket policy statement".to_owned(), Action::Remove),
            ("key policy statement".to_owned(), Action::Remove),
        ],
        "{changes:#?}"
    );
    let removed: Vec<&Change> = changes
        .iter()
        .filter(|c| c.action == Action::Remove)
        .collect();
    assert!(removed
        .iter()
        .all(|c| c.account == "333333333333" && c.region == "ap-southeast-2"));
    assert_eq!(removed[0].resource, format!("arn:aws:s3:::{dst_c}"));
    assert!(removed[1]
        .resource
        .starts_with("arn:aws:kms:ap-southeast-2:333333333333:key/"));
    assert!(removed
        .iter()
        .all(|c| c.current.is_some() && c.desired.is_none()));
    // What the diff announced is what the Update does.
    let updated = h
        .update(
            &only_b,
            &format!(
                "s3-replication:{}:{HOME_REGION}:{src}",
                support::DEFAULT_ACCOUNT
            ),
            &both,
        )
        .await;
    updated.assert_success();
    let (after, _) = diff(&h, &only_b).await;
    assert_eq!(pending(&after), vec![], "{after:#?}");
}

#[tokio::test]
async fn diff_fails_where_create_would() {
    let h = Harness::start().await;
    let props = json!({"SourceBucket": unique("absent"), "Destinations": [{"Bucket": unique("dst"), "AccountId": ACCT_B, "Region": REGION_B}]});
    let conn = Connector::new(&h.emu.sdk_config(HOME_REGION).await, CallLog::default());
    let spec = s3_replication_provider::spec::parse(&props).unwrap();
    let err = preview(&conn, &spec)
        .await
        .err()
        .expect("a missing source bucket fails the preview");
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn the_binary_prints_the_diff_as_text_and_json() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu
        .create_bucket(support::DEFAULT_ACCOUNT, HOME_REGION, &src, true)
        .await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let dir = std::env::temp_dir().join(unique("diff"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("props.json");
    let props = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    std::fs::write(&file, props.to_string()).unwrap();
    let env = h.emu.provider_env(HOME_REGION);
    let run = move |json: bool| {
        let mut args = vec![
            "plan",
            "--diff",
            "--properties",
            file.to_str().unwrap(),
            "--region",
            HOME_REGION,
        ];
        if json {
            args.push("--json");
        }
        let out = Command::new(bootstrap_path())
            .args(&args)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text, err) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(false)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        text.contains("+ create    replication role trust policy"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "= unchanged versioning {ACCT_B} {REGION_B} arn:aws:s3:::{dst}"
        )),
        "{text}"
    );
    assert!(
        text.ends_with("4 to create, 0 to update, 0 to remove, 3 unchanged\n"),
        "{text}"
    );
    let (code, out, err) = tokio::task::spawn_blocking(move || run(true))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Changes"][0]["Action"], "unchanged");
    assert_eq!(
        v["PhysicalResourceId"],
        format!(
            "s3-replication:{}:{HOME_REGION}:{src}",
            support::DEFAULT_ACCOUNT
        )
    );
}
