//! `Verify: Replication` through the real handler. moto never replicates objects, so the
//! emulator runs a test double (scripts/replication_double.py) that copies each new version
//! the way S3 does: same version id, the rule's storage class and replica key, status
//! PENDING → COMPLETED/FAILED on the source and REPLICA on the copy. A control tag on a
//! destination bucket makes it fail, stall, or write the replica under the wrong key.

mod support;

use std::time::{Duration, Instant};

use s3_replication_provider::handler::Settings;
use serde_json::json;
use support::harness::{Answered, Harness, HOME_REGION};
use support::{unique, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const ACCT_B: &str = "222222222222";
const ACCT_C: &str = "333333333333";
const REGION_B: &str = "us-west-2";
const REGION_C: &str = "ap-southeast-2";
const CANARY: &str = ".s3-replication-canary/";

/// Versions under the canary folder in a bucket.
async fn canaries_in(h: &Harness, account: &str, region: &str, bucket: &str) -> Vec<String> {
    h.emu
        .object_versions(account, region, bucket)
        .await
        .into_iter()
        .filter(|v| v.contains(CANARY))
        .collect()
}

fn canary_puts(a: &Answered) -> Vec<String> {
    a.outcome
        .calls
        .iter()
        .filter(|c| c.operation == "PutObject" && c.ok)
        .map(|c| c.resource.clone())
        .collect()
}

/// One source with a created key, one destination in account B with a created key.
async fn one_destination(h: &Harness) -> (String, String, serde_json::Value) {
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Verify": "Replication",
        "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"}]});
    (src, dst, props)
}

#[tokio::test]
async fn canaries_prove_replication_to_every_destination_and_leave_nothing_behind() {
    let h = Harness::start().await;
    let (src, dst_b, dst_c) = (unique("src"), unique("dstb"), unique("dstc"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst_b, false).await;
    h.emu.create_bucket(ACCT_C, REGION_C, &dst_c, false).await;
    let user_version = h
        .emu
        .put_object(SRC, HOME_REGION, &src, "logs/keep.txt")
        .await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Verify": "Replication",
        "Destinations": [
            {"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"},
            {"Bucket": dst_c, "AccountId": ACCT_C, "Region": REGION_C, "KmsKeyArn": "Create",
             "Prefix": "logs/", "Tags": {"class": "backup"}, "StorageClass": "GLACIER_IR"}]});

    let created = h.create(&props).await;
    created.assert_success();
    // Two canaries: the unfiltered rule's, and one under logs/ tagged class=backup (which the
    // unfiltered rule replicates too).
    let puts = canary_puts(&created);
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(
        puts.iter()
            .any(|p| p.contains(&format!("{src}/logs/{CANARY}"))),
        "{puts:?}"
    );
    assert!(created.called("HeadObject"));
    // Every canary version, source and replicas, is gone; the user's object is untouched.
    for (acct, region, bucket) in [
        (SRC, HOME_REGION, &src),
        (ACCT_B, REGION_B, &dst_b),
        (ACCT_C, REGION_C, &dst_c),
    ] {
        assert_eq!(
            canaries_in(&h, acct, region, bucket).await,
            Vec::<String>::new(),
            "{bucket}"
        );
    }
    assert_eq!(
        h.emu.object_versions(SRC, HOME_REGION, &src).await,
        vec![format!("logs/keep.txt@{user_version}")]
    );
    let deletes = created
        .outcome
        .calls
        .iter()
        .filter(|c| c.operation == "DeleteObject" && c.ok)
        .count();
    assert_eq!(deletes, 2 + 3, "2 source versions, 2 replicas in B, 1 in C");

    // An Update verifies again (a verification writes its canaries every time) and converges.
    let updated = h.update(&props, created.physical_id(), &props).await;
    updated.assert_success();
    assert_eq!(canary_puts(&updated).len(), 2);
    assert_eq!(
        canaries_in(&h, SRC, HOME_REGION, &src).await,
        Vec::<String>::new()
    );
    h.delete(&props, created.physical_id())
        .await
        .assert_success();
}

#[tokio::test]
async fn failed_replication_fails_the_stack_with_the_doctors_diagnosis() {
    let h = Harness::start().await;
    let (src, dst, props) = one_destination(&h).await;
    h.emu
        .tag_bucket(ACCT_B, REGION_B, &dst, "replication-double", "fail")
        .await;
    let failed = h.create(&props).await;
    failed.assert_failed_with(&[
        "Verify: Replication",
        "FAILED",
        &format!("s3://{src}/{CANARY}"),
        "The doctor finds every link of the permission chain healthy",
    ]);
    assert_eq!(
        canaries_in(&h, SRC, HOME_REGION, &src).await,
        Vec::<String>::new()
    );
    // The resource exists (the physical id is reported), so CloudFormation's Delete cleans up.
    h.delete(&props, failed.physical_id())
        .await
        .assert_success();
}

#[tokio::test]
async fn a_replica_under_the_wrong_key_fails_the_stack() {
    let h = Harness::start().await;
    let (src, dst, props) = one_destination(&h).await;
    h.emu
        .tag_bucket(ACCT_B, REGION_B, &dst, "replication-double", "wrong-key")
        .await;
    let failed = h.create(&props).await;
    failed.assert_failed_with(&[
        "Verify: Replication",
        &dst,
        ACCT_B,
        REGION_B,
        "not SSE-KMS encrypted with the destination key",
    ]);
    assert_eq!(
        canaries_in(&h, SRC, HOME_REGION, &src).await,
        Vec::<String>::new()
    );
    assert_eq!(
        canaries_in(&h, ACCT_B, REGION_B, &dst).await,
        Vec::<String>::new(),
        "the wrong replica is removed too"
    );
}

#[tokio::test]
async fn a_stalled_replication_times_out_within_the_invocation_and_cleans_up() {
    let budget = Duration::from_secs(12);
    let h = Harness::with_settings(Settings {
        time_budget: budget,
        ..support::local_settings()
    })
    .await;
    let (src, dst, props) = one_destination(&h).await;
    h.emu
        .tag_bucket(ACCT_B, REGION_B, &dst, "replication-double", "stall")
        .await;
    let started = Instant::now();
    let failed = h.create(&props).await;
    let took = started.elapsed();
    failed.assert_failed_with(&[
        "Verify: Replication",
        "still PENDING",
        "raise the function's timeout",
    ]);
    assert!(took < budget, "answered after {took:?}, budget {budget:?}");
    assert_eq!(
        canaries_in(&h, SRC, HOME_REGION, &src).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_broken_permission_link_fails_before_any_canary_is_written() {
    let h = Harness::start().await;
    let (_src, dst, props) = one_destination(&h).await;
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoReplicasHere", "Effect": "Deny", "Principal": "*", "Action": "s3:ReplicateObject", "Resource": format!("arn:aws:s3:::{dst}/*")}]});
    h.emu.put_bucket_policy(ACCT_B, REGION_B, &dst, &deny).await;
    let failed = h.create(&props).await;
    failed.assert_failed_with(&["Verify: Permissions", "NoReplicasHere"]);
    assert!(canary_puts(&failed).is_empty());
}
