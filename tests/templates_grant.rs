//! The SAM templates grant every IAM action the provider's calls need, on the side that makes
//! them. moto evaluates no permission, so a missing action would only show on AWS, as an
//! AccessDenied in the middle of a stack operation: this test drives every code path that
//! calls AWS (Create with created keys and a created bucket, `Verify: Replication` with its
//! canaries and the doctor's live read, an Update that drops a destination and renames the
//! role, a Delete that retires the keys), records each call's IAM action(s), and checks that
//! the source-account template grants every action called with the function's own
//! credentials and the destination-account template every action called through the
//! destination role.
//!
//! It checks that each action is granted somewhere in the right template, not the resource
//! each statement is scoped to (those are reviewed in the templates and by checkov).

mod support;

use std::collections::BTreeSet;

use s3_replication_provider::aws::Call;
use serde_json::json;
use support::harness::{Answered, Harness, HOME_REGION};
use support::{unique, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const ACCT_B: &str = "222222222222";
const ACCT_C: &str = "333333333333";
const REGION_B: &str = "us-west-2";
const REGION_C: &str = "ap-southeast-2";

/// The `service:Action` names a template grants (comments removed; condition keys such as
/// `s3:ResourceAccount` come along but name no action).
fn granted(template: &str) -> BTreeSet<String> {
    let path = format!(
        "{}/sam/{template}/template.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split(" #").next().unwrap_or_default();
        if code.trim_start().starts_with('#') {
            continue;
        }
        for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-')) {
            if let Some((service, action)) = word.split_once(':') {
                let known = ["s3", "kms", "iam", "sts", "organizations", "logs"];
                if known.contains(&service) && action.starts_with(|c: char| c.is_ascii_uppercase())
                {
                    out.insert(word.to_owned());
                }
            }
        }
    }
    out
}

/// Every action of every call, by who made it: the function's own credentials (source
/// account, and every STS call) or a destination role.
fn actions(calls: &[&Call]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut source, mut destination) = (BTreeSet::new(), BTreeSet::new());
    for c in calls {
        // Needs no permission ("GetCallerIdentity … no permissions are required").
        if c.operation == "GetCallerIdentity" {
            continue;
        }
        let own = c.account == SRC || c.service == "sts";
        for action in c.action.split(" and ") {
            if own {
                source.insert(action.to_owned());
            } else {
                destination.insert(action.to_owned());
            }
        }
    }
    (source, destination)
}

#[track_caller]
fn assert_granted(needed: &BTreeSet<String>, template: &str) {
    let have = granted(template);
    let missing: Vec<&String> = needed.difference(&have).collect();
    assert!(
        missing.is_empty(),
        "sam/{template}/template.yaml does not grant {missing:?} (needed: {needed:?})"
    );
}

#[tokio::test]
async fn the_templates_grant_every_action_the_provider_calls() {
    let h = Harness::start().await;
    let (src, dst_b, dst_c) = (unique("src"), unique("dstb"), unique("dstc"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst_b, false).await;
    let existing_key = h.emu.create_key(ACCT_C, REGION_C).await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Verify": "Replication",
        "KeyRemovalPolicy": "Delete", "KeyDeletionWindowDays": "7",
        "Destinations": [
            {"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"},
            {"Bucket": dst_c, "AccountId": ACCT_C, "Region": REGION_C, "KmsKeyArn": existing_key,
             "CreateBucket": "true", "Prefix": "logs/"}]});
    let mut answers: Vec<Answered> = Vec::new();
    let created = h.create(&props).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    answers.push(created);

    // Update: drop destination C (its statements go), rename the role (the old one goes).
    let mut smaller = props.clone();
    smaller["Destinations"] = json!([props["Destinations"][0]]);
    smaller["ReplicationRoleName"] = json!(format!("renamed-{src}"));
    let updated = h.update(&smaller, &id, &props).await;
    updated.assert_success();
    answers.push(updated);

    let deleted = h.delete(&smaller, &id).await;
    deleted.assert_success();
    answers.push(deleted);

    let calls: Vec<&Call> = answers.iter().flat_map(|a| &a.outcome.calls).collect();
    let ops: BTreeSet<&str> = calls.iter().map(|c| c.operation).collect();
    // The paths this test is for were taken.
    for op in [
        "CreateKey",
        "CreateBucket",
        "PutObject",
        "HeadObject",
        "DeleteObject",
        "ListAttachedRolePolicies",
        "DescribeOrganization",
        "GetBucketRequestPayment",
        "GetObjectLockConfiguration",
        "DeleteRole",
        "ScheduleKeyDeletion",
        "DeleteBucketReplication",
    ] {
        assert!(ops.contains(op), "{op} was not called: {ops:?}");
    }
    let (source, destination) = actions(&calls);
    assert_granted(&source, "source-account");
    assert_granted(&destination, "destination-account");
}

#[test]
fn the_template_reader_finds_actions_and_skips_comments() {
    let source = granted("source-account");
    assert!(source.contains("s3:PutReplicationConfiguration"));
    assert!(source.contains("iam:PassRole"));
    // Named only in a comment of the source template.
    assert!(!source.contains("s3:DeleteBucketReplication"));
    let destination = granted("destination-account");
    assert!(destination.contains("s3:PutBucketPolicy"));
    assert!(!destination.contains("iam:CreateRole"));
}
