//! The security model at run time (README "Security model"), against the emulator:
//!
//! * **ownership**: a second stack naming someone else's source bucket is refused and named; its
//!   Delete answers SUCCESS without a single mutating call; the owner's Update and Delete still
//!   work; a Delete acts on what Create recorded (KeyRemovalPolicy), not on edited properties;
//!   `TakeOverExistingReplication` moves ownership, after which the old owner's Delete changes
//!   nothing;
//! * **reach**: a destination outside the provider's `DestinationAccountIds` fails before any
//!   AWS call;
//! * **boundary**: every role the provider creates carries the boundary it is given;
//! * **created buckets** start with the TLS-only statement;
//! * **ResponseURL**: only CloudFormation's own, or an admitted prefix, is ever answered;
//! * **logs**: no ExternalId, credential or signature, at `RUST_LOG=trace`.

mod support;

use std::time::Duration;

use s3_replication_provider::handler::Settings;
use s3_replication_provider::reach::Reach;
use serde_json::{json, Value};
use support::harness::{Harness, HOME_REGION};
use support::{cfn_event, stack_id, unique, Emulator, Receiver, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const ACCT_B: &str = "222222222222";
const REGION_B: &str = "us-west-2";

/// The request changed nothing in `account` (the owner's, whose policies already grant).
fn assert_no_write_in(answered: &support::harness::Answered, account: &str) {
    let writes: Vec<_> = answered
        .mutations()
        .into_iter()
        .filter(|c| c.account == account)
        .map(|c| c.operation)
        .collect();
    assert!(
        writes.is_empty(),
        "writes in the owner's account: {writes:?}"
    );
}

fn role_name(bucket: &str) -> String {
    format!("s3-replication-{bucket}")
}

fn props(src: &str, dst: &str) -> Value {
    json!({"SourceBucket": src, "SourceKmsKeyArn": "Create",
           "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"}]})
}

async fn world(h: &Harness) -> (String, String) {
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    (src, dst)
}

#[tokio::test]
async fn a_second_stack_can_neither_take_nor_remove_a_sources_replication() {
    let h = Harness::start().await;
    let (src, dst) = world(&h).await;
    let (stack_a, stack_b) = (stack_id("owner"), stack_id("intruder"));
    let p = props(&src, &dst);
    let created = h.request_from(&stack_a, "Create", &p, None, None).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    let (tags, _) = h.emu.role_tags_and_boundary(SRC, &role_name(&src)).await;
    assert_eq!(tags.get("s3-replication:stack-id"), Some(&stack_a));
    assert_eq!(
        tags.get("s3-replication:logical-id").map(String::as_str),
        Some("Replication")
    );
    let before = h.emu.replication(SRC, HOME_REGION, &src).await;

    // Stack B names the same source bucket, to send its objects elsewhere.
    let (_, elsewhere) = world(&h).await;
    let hijack = props(&src, &elsewhere);
    // Under another role name the configuration's role is not B's either: refused the same way,
    // naming the owner its role records.
    let mut renamed = hijack.clone();
    renamed["ReplicationRoleName"] = json!("s3-replication-intruder");
    for attempt in [&hijack, &renamed] {
        let refused = h
            .request_from(&stack_b, "Create", attempt, None, None)
            .await;
        refused.assert_failed_with(&[&src, &stack_a, "TakeOverExistingReplication"]);
        assert!(refused.mutations().is_empty(), "{:?}", refused.mutations());
        assert_eq!(h.emu.replication(SRC, HOME_REGION, &src).await, before);
    }

    // B's stack rolls back (Delete with the id its FAILED answer gave), or B deletes a resource
    // with the victim's properties and key removal: nothing changes, and CloudFormation is not
    // left waiting.
    let mut destructive = p.clone();
    destructive["KeyRemovalPolicy"] = json!("Delete");
    destructive["KeyDeletionWindowDays"] = json!("7");
    for (what, doc) in [("hijack", &hijack), ("victim's properties", &destructive)] {
        let deleted = h
            .request_from(&stack_b, "Delete", doc, Some(&id), None)
            .await;
        deleted.assert_success();
        assert!(
            deleted.mutations().is_empty(),
            "{what}: {:?}",
            deleted.mutations()
        );
    }
    assert_eq!(h.emu.replication(SRC, HOME_REGION, &src).await, before);
    assert!(h.emu.role_exists(SRC, &role_name(&src)).await);

    // The owner still updates and deletes it.
    let mut two = p.clone();
    two["Destinations"] = json!([p["Destinations"][0], {"Bucket": elsewhere, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"}]);
    let updated = h
        .request_from(&stack_a, "Update", &two, Some(&id), Some(&p))
        .await;
    updated.assert_success();
    let deleted = h
        .request_from(&stack_a, "Delete", &two, Some(&id), None)
        .await;
    deleted.assert_success();
    assert!(h.emu.replication(SRC, HOME_REGION, &src).await.is_none());
    assert!(!h.emu.role_exists(SRC, &role_name(&src)).await);
}

#[tokio::test]
async fn delete_keeps_the_keys_create_recorded_as_retained_whatever_the_event_says() {
    let h = Harness::start().await;
    let (src, dst) = world(&h).await;
    let p = props(&src, &dst); // KeyRemovalPolicy: Retain (the default)
    let created = h.create(&p).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    let keys: Vec<String> = [
        created.data("SourceKmsKeyArn"),
        created.data("DestinationKmsKeyArns"),
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    let (tags, _) = h.emu.role_tags_and_boundary(SRC, &role_name(&src)).await;
    assert_eq!(
        tags.get("s3-replication:key-removal").map(String::as_str),
        Some("Retain")
    );

    // A Delete whose properties were edited (CloudFormation sends the last applied ones; a
    // direct invocation can send anything).
    let mut edited = p.clone();
    edited["KeyRemovalPolicy"] = json!("Delete");
    edited["KeyDeletionWindowDays"] = json!("7");
    let deleted = h.delete(&edited, &id).await;
    deleted.assert_success();
    assert!(
        !deleted.called("ScheduleKeyDeletion"),
        "a key was scheduled for deletion"
    );
    for key in &keys {
        let (account, region) = support::arn_account_region(key);
        assert_eq!(
            h.emu.key_state(&account, &region, key).await.as_deref(),
            Some("Enabled"),
            "{key}"
        );
    }
    assert!(h.emu.replication(SRC, HOME_REGION, &src).await.is_none());
}

#[tokio::test]
async fn delete_removes_keys_when_the_record_and_the_event_both_say_so() {
    let h = Harness::start().await;
    let (src, dst) = world(&h).await;
    let mut p = props(&src, &dst);
    p["KeyRemovalPolicy"] = json!("Delete");
    p["KeyDeletionWindowDays"] = json!("7");
    let created = h.create(&p).await;
    created.assert_success();
    let source_key = created.data("SourceKmsKeyArn").to_owned();
    // The event now says Retain: the key is kept although the record says Delete.
    let mut keep = p.clone();
    keep["KeyRemovalPolicy"] = json!("Retain");
    let deleted = h.delete(&keep, created.physical_id()).await;
    deleted.assert_success();
    assert_eq!(
        h.emu
            .key_state(SRC, HOME_REGION, &source_key)
            .await
            .as_deref(),
        Some("Enabled")
    );
    // Both agree: scheduled (a fresh resource, so there is a record again).
    let created = h.create(&p).await;
    created.assert_success();
    assert_eq!(
        created.data("SourceKmsKeyArn"),
        source_key,
        "found again by alias"
    );
    h.delete(&p, created.physical_id()).await.assert_success();
    assert_eq!(
        h.emu
            .key_state(SRC, HOME_REGION, &source_key)
            .await
            .as_deref(),
        Some("PendingDeletion")
    );
}

#[tokio::test]
async fn take_over_moves_ownership_and_the_old_owners_delete_changes_nothing() {
    let h = Harness::start().await;
    let (src, dst) = world(&h).await;
    let (old, new) = (stack_id("old-owner"), stack_id("new-owner"));
    let p = props(&src, &dst);
    let first = h.request_from(&old, "Create", &p, None, None).await;
    first.assert_success();
    let mut take = p.clone();
    take["TakeOverExistingReplication"] = json!("true");
    let taken = h.request_from(&new, "Create", &take, None, None).await;
    taken.assert_success();
    let (tags, _) = h.emu.role_tags_and_boundary(SRC, &role_name(&src)).await;
    assert_eq!(tags.get("s3-replication:stack-id"), Some(&new));
    let stale = h
        .request_from(&old, "Delete", &p, Some(first.physical_id()), None)
        .await;
    stale.assert_success();
    assert!(stale.mutations().is_empty(), "{:?}", stale.mutations());
    assert!(h.emu.replication(SRC, HOME_REGION, &src).await.is_some());
}

#[tokio::test]
async fn a_destination_outside_the_providers_accounts_fails_before_any_call() {
    let h = Harness::with_settings(Settings {
        reach: Reach::parse("333333333333"),
        ..support::local_settings()
    })
    .await;
    let (src, dst) = world(&h).await;
    let refused = h.create(&props(&src, &dst)).await;
    refused.assert_failed_with(&[ACCT_B, "333333333333", "DestinationAccountIds", &dst]);
    assert!(
        refused.outcome.calls.is_empty(),
        "{:?}",
        refused.outcome.calls
    );
}

#[tokio::test]
async fn created_roles_carry_the_boundary_and_created_buckets_refuse_plain_http() {
    let boundary = format!("arn:aws:iam::{SRC}:policy/s3-replication/test-boundary");
    let h = Harness::with_settings(Settings {
        permissions_boundary: Some(boundary.clone()),
        ..support::local_settings()
    })
    .await;
    let made = h
        .emu
        .create_policy(
            SRC,
            "/s3-replication/",
            "test-boundary",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ReplicateObject", "Resource": "*"}]}),
        )
        .await;
    assert_eq!(made, boundary);
    let src = unique("src");
    let dst = unique("dst");
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    let mut p = props(&src, &dst);
    p["Destinations"][0]["CreateBucket"] = json!("true");
    let created = h.create(&p).await;
    created.assert_success();
    let (_, on_role) = h.emu.role_tags_and_boundary(SRC, &role_name(&src)).await;
    assert_eq!(on_role.as_deref(), Some(boundary.as_str()));
    let policy = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
    let tls = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "DenyInsecureTransport")
        .unwrap_or_else(|| panic!("no TLS-only statement: {policy}"));
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
    // A second identical Create changes nothing (the boundary is already in place).
    let again = h.create(&p).await;
    again.assert_success();
    assert!(again.mutations().is_empty(), "{:?}", again.mutations());
}

/// Only CloudFormation's own ResponseURL (https to S3), or one under an admitted prefix, is
/// answered: a direct invoker cannot make the function PUT to a host of its choosing.
#[tokio::test]
async fn the_function_answers_only_cloudformations_response_urls() {
    let emu = Emulator::start().await;
    let rx = Receiver::start().await;
    let src = unique("src");
    emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    let p = json!({"SourceBucket": src, "Destinations": [{"Bucket": unique("dst"), "AccountId": ACCT_B, "Region": REGION_B}]});
    let event = cfn_event(
        "Create",
        &format!("{}&X-Amz-Signature=topsecret", rx.url("x")),
        p,
        None,
        None,
    );
    // No admitted prefix: refused, logged without the query, nothing sent, exit status 1.
    let run = emu
        .invoke_with_env(
            HOME_REGION,
            &event,
            &[("PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES", "")],
        )
        .await;
    assert!(!run.success(), "{}", run.stderr);
    assert!(run.stderr.contains("not answering"), "{}", run.stderr);
    assert!(!run.stderr.contains("topsecret"), "{}", run.stderr);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rx.requests().is_empty(),
        "the function sent {:?}",
        rx.requests().len()
    );
    // Admitted (as the test harness does for its receivers): answered.
    let run = emu.invoke(HOME_REGION, &event).await;
    assert!(run.success(), "{}", run.stderr);
    assert_eq!(rx.responses().len(), 1);
}

#[tokio::test]
async fn no_external_id_credential_or_signature_reaches_a_trace_log() {
    let emu = Emulator::start().await;
    let rx = Receiver::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let external_id = "ExtIdSecret-7f3a9c";
    let url = format!(
        "{}&X-Amz-Credential=AKIASECRETCREDENTIAL&X-Amz-Signature=deadbeefsecretsignature",
        rx.url("trace")
    );
    let p = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "ExternalId": external_id}]});
    let event = cfn_event("Create", &url, p, None, None);
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTRACESECRET";
    let run = emu
        .invoke_with_env(
            HOME_REGION,
            &event,
            &[("AWS_SECRET_ACCESS_KEY", secret), ("RUST_LOG", "trace")],
        )
        .await;
    assert!(run.success(), "{}", run.stderr);
    assert!(
        run.stderr.lines().count() > 100,
        "a trace log: {} lines",
        run.stderr.lines().count()
    );
    let answer = &rx.responses()[0];
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    for needle in [
        external_id,
        secret,
        "deadbeefsecretsignature",
        "AKIASECRETCREDENTIAL",
    ] {
        assert!(
            !run.stderr.contains(needle),
            "{needle} reached the trace log"
        );
    }
}

/// A destination whose owner keeps every write (the destination template's `ProviderAccess:
/// ReadOnly`): the owner adds the statements `bootstrap plan` prints, and the provider's Create
/// then changes nothing in that account. Where a statement is missing the provider cannot
/// write it, and the answer gives the statement to add.
#[tokio::test]
async fn an_owner_written_destination_needs_no_write_from_the_provider() {
    use support::proxy::{Answer, Fault, Rule};
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let key = h.emu.create_key(ACCT_B, REGION_B).await;
    let p = json!({"SourceBucket": src, "SourceRegion": HOME_REGION,
        "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": key}]});

    // Without the owner's statements the write is refused (as IAM would refuse a ReadOnly
    // role): FAILED, naming the statement to add.
    let needle = dst.clone();
    h.proxy.add_rule(Rule {
        matches: Box::new(move |s| {
            s.method == "PUT" && s.target.contains(&needle) && s.target.contains("policy")
        }),
        answer: Answer::Inject(Fault::AccessDenied),
        remaining: None,
    });
    let refused = h.request_unchecked("Create", &p, None, None).await;
    refused.assert_failed_with(&[
        "Add this statement",
        "ProviderAccess ReadOnly",
        "s3:ReplicateObject",
        &dst,
    ]);
    h.proxy.clear();

    // The owner writes what `bootstrap plan` prints, into the bucket and key policies.
    let dir = std::env::temp_dir().join(unique("readonly"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("props.json");
    std::fs::write(&file, p.to_string()).unwrap();
    let out = std::process::Command::new(support::bootstrap_path())
        .args([
            "plan",
            "--properties",
            file.to_str().unwrap(),
            "--source-account",
            SRC,
            "--region",
            HOME_REGION,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let bucket_statement = &plan["DestinationBucketStatements"][0]["Statement"];
    h.emu
        .put_bucket_policy(
            ACCT_B,
            REGION_B,
            &dst,
            &json!({"Version": "2012-10-17", "Statement": [bucket_statement]}),
        )
        .await;
    let mut key_policy = h.emu.key_policy(ACCT_B, REGION_B, &key).await;
    key_policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(plan["DestinationKeyStatements"][0]["Statement"].clone());
    h.emu
        .put_key_policy(ACCT_B, REGION_B, &key, &key_policy)
        .await;

    let created = h.create(&p).await;
    created.assert_success();
    assert_no_write_in(&created, ACCT_B);
}

/// Issue 23, attack 2 at run time: a statement sitting at this source's Sid that is not this
/// source's (a crafted collision, or anyone's hand-written statement) is neither replaced by a
/// Create nor removed by a Delete; the Create fails naming it, before the configuration is on.
#[tokio::test]
async fn a_statement_at_our_sid_written_for_someone_else_is_never_replaced_or_removed() {
    let h = Harness::start().await;
    let (src, dst) = world(&h).await;
    let sid = support::sid_of(&src);
    let victim = "arn:aws:iam::444444444444:role/s3-replication/s3-replication-victim";
    let planted = json!({"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Allow",
        "Principal": {"AWS": victim}, "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
        "Resource": format!("arn:aws:s3:::{dst}/victim/*")}]});
    h.emu
        .put_bucket_policy(ACCT_B, REGION_B, &dst, &planted)
        .await;
    let p = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    let created = h.request_unchecked("Create", &p, None, None).await;
    created.assert_failed_with(&[&sid, victim, "did not write for this source"]);
    assert_eq!(
        h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap(),
        planted
    );
    assert!(h.emu.replication(SRC, HOME_REGION, &src).await.is_none());
    h.delete(&p, created.physical_id()).await.assert_success();
    assert_eq!(
        h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap(),
        planted,
        "the Delete left the victim's statement alone"
    );
}

/// Issue 23, attack 3: two sources, one key space. A second source whose rule would write
/// objects the first source's statement covers is refused, naming it, and nothing of its own
/// is written there; with its own prefix it is allowed (the control), and so is the overlap
/// once the bucket's owner tags the bucket for sharing.
#[tokio::test]
async fn a_second_source_may_not_write_into_another_sources_objects_unless_the_owner_shares() {
    let h = Harness::start().await;
    let (first, dst) = world(&h).await;
    let dest = |prefix: Option<&str>| {
        let mut d = json!({"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B});
        if let Some(p) = prefix {
            d["Prefix"] = json!(p);
        }
        d
    };
    let a = json!({"SourceBucket": first, "Destinations": [dest(Some("first/"))]});
    h.create(&a).await.assert_success();

    // Another stack of the same account (a stack's own resource replacing its source bucket is
    // not another source: lifecycle.rs).
    let second = unique("src");
    let other_stack = stack_id("second-source");
    h.emu.create_bucket(SRC, HOME_REGION, &second, false).await;
    for overlapping in [None, Some("fir"), Some("first/logs/")] {
        let b = json!({"SourceBucket": second, "Destinations": [dest(overlapping)]});
        let refused = h.request_from(&other_stack, "Create", &b, None, None).await;
        refused.assert_failed_with(&[&support::sid_of(&first), "s3-replication:shared-key-space"]);
        let policy = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
        assert!(
            !support::policy_sids(&policy).contains(&support::sid_of(&second)),
            "{overlapping:?}: {policy}"
        );
        assert!(
            h.emu.replication(SRC, HOME_REGION, &second).await.is_none(),
            "{overlapping:?}: {} {:?}",
            refused.reason(),
            refused
                .mutations()
                .iter()
                .map(|c| c.operation)
                .collect::<Vec<_>>()
        );
        let deleted = h.request_from(
            &other_stack,
            "Delete",
            &b,
            Some(refused.physical_id()),
            None,
        );
        deleted.await.assert_success();
    }
    let own = json!({"SourceBucket": second, "Destinations": [dest(Some("second/"))]});
    let created = h
        .request_from(&other_stack, "Create", &own, None, None)
        .await;
    created.assert_success();
    let deleted = h.request_from(
        &other_stack,
        "Delete",
        &own,
        Some(created.physical_id()),
        None,
    );
    deleted.await.assert_success();

    h.emu
        .tag_bucket(
            ACCT_B,
            REGION_B,
            &dst,
            "s3-replication:shared-key-space",
            "true",
        )
        .await;
    let shared = json!({"SourceBucket": second, "Destinations": [dest(None)]});
    let created = h
        .request_from(&other_stack, "Create", &shared, None, None)
        .await;
    created.assert_success();
}

/// A destination policy written by a version before 0.2 (the 32-bit Sid) is converged to the
/// new Sid in place: the statement keeps its position, every other statement its bytes.
#[tokio::test]
async fn a_statement_written_by_an_earlier_version_is_upgraded_in_place() {
    let h = Harness::start().await;
    let (src, dst) = world(&h).await;
    let p = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    h.create(&p).await.assert_success();
    let now = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
    let sid = support::sid_of(&src);
    let legacy = s3_replication_provider::plan::names::legacy_source_sid(
        &s3_replication_provider::spec::BucketName::parse(&src).unwrap(),
    );
    let ours = now["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid.as_str())
        .unwrap()
        .clone();
    let mut old = ours.clone();
    old["Sid"] = json!(legacy);
    let owners = json!({"Sid": "OwnersAudit", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCT_B}:root")}, "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{dst}/*")});
    let tls = json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{dst}"), format!("arn:aws:s3:::{dst}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
    let before = json!({"Version": "2012-10-17", "Statement": [tls, old, owners]});
    h.emu
        .put_bucket_policy(ACCT_B, REGION_B, &dst, &before)
        .await;
    let again = h.create(&p).await;
    again.assert_success();
    let after = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
    assert_eq!(
        after,
        json!({"Version": "2012-10-17", "Statement": [before["Statement"][0], ours, before["Statement"][2]]})
    );
    assert_eq!(
        again
            .mutations()
            .iter()
            .filter(|c| c.operation == "PutBucketPolicy")
            .count(),
        1
    );
}

/// Issue 23, attack 6: events are checked with CloudFormation before any work. With the check
/// on (the provider stack's default), requests that moto's CloudFormation really sends (the
/// resource is CREATE/UPDATE/DELETE_IN_PROGRESS) are acted on and answered to CloudFormation;
/// the same requests replayed when CloudFormation is not sending them (someone allowed to
/// invoke the function, naming this stack's resource) answer FAILED and change nothing.
#[tokio::test]
async fn only_events_cloudformation_is_sending_are_acted_on() {
    use support::stacks::CustomResourceStack;
    let h = Harness::with_settings(Settings {
        verify_stack_events: true,
        ..support::local_settings()
    })
    .await;
    let (src, dst) = world(&h).await;
    let p = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    let (stack, create) =
        CustomResourceStack::create(&h.emu, HOME_REGION, &unique("app"), &p).await;
    assert_eq!(stack.resource_status().await, "CREATE_IN_PROGRESS");
    let outcome = h.provider().handle(create.clone(), None).await;
    assert!(outcome.delivered);
    assert_eq!(
        outcome.response.as_ref().map(|r| r.status),
        Some(s3_replication_provider::cfn::Status::Success)
    );
    assert!(outcome
        .calls
        .iter()
        .any(|c| c.operation == "DescribeStackResource"));
    assert_eq!(stack.status().await, "CREATE_COMPLETE");
    let physical = outcome.response.unwrap().physical_resource_id;
    let configured = h.emu.replication(SRC, HOME_REGION, &src).await;
    assert!(configured.is_some());

    // Forged: the same stack and resource, but CloudFormation is sending nothing now.
    let forge = |kind: &str, extra: Value| {
        let mut e = create.clone();
        e["RequestType"] = json!(kind);
        e["RequestId"] = json!(support::uuid());
        e["PhysicalResourceId"] = json!(physical);
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let hostile = json!({"SourceBucket": src, "KeyRemovalPolicy": "Delete",
        "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    let forged = [
        forge("Create", json!({})),
        forge(
            "Update",
            json!({"ResourceProperties": hostile, "OldResourceProperties": p}),
        ),
        forge("Delete", json!({})),
        forge(
            "Delete",
            json!({"StackId": create["StackId"].as_str().unwrap().replace(":123456789012:", ":999999999999:")}),
        ),
        forge(
            "Update",
            json!({"LogicalResourceId": "NotThere", "OldResourceProperties": p}),
        ),
    ];
    for event in forged {
        let outcome = h.provider().handle(event.clone(), None).await;
        let response = outcome.response.expect("answered");
        assert_eq!(
            response.status,
            s3_replication_provider::cfn::Status::Failed,
            "{event}"
        );
        let reason = response.reason.unwrap_or_default();
        assert!(reason.contains("refused before any change"), "{reason}");
        assert!(
            outcome.calls.iter().all(|c| !c.mutating),
            "{event}: {:?}",
            outcome.calls
        );
    }
    assert_eq!(h.emu.replication(SRC, HOME_REGION, &src).await, configured);
    assert_eq!(
        stack.status().await,
        "CREATE_COMPLETE",
        "a forged answer moved nothing"
    );

    // The real Update and Delete are acted on.
    let mut updated = p.clone();
    updated["Destinations"][0]["Prefix"] = json!("logs/");
    let update = stack.update(&updated).await;
    assert_eq!(stack.resource_status().await, "UPDATE_IN_PROGRESS");
    let outcome = h.provider().handle(update, None).await;
    assert_eq!(
        outcome.response.map(|r| r.status),
        Some(s3_replication_provider::cfn::Status::Success)
    );
    assert_eq!(stack.status().await, "UPDATE_COMPLETE");
    let delete = stack.delete().await;
    assert_eq!(stack.resource_status().await, "DELETE_IN_PROGRESS");
    let outcome = h.provider().handle(delete, None).await;
    assert_eq!(
        outcome.response.map(|r| r.status),
        Some(s3_replication_provider::cfn::Status::Success)
    );
    assert!(h.emu.replication(SRC, HOME_REGION, &src).await.is_none());
    assert_eq!(stack.status().await, "DELETE_COMPLETE");
}

/// A refused ResponseURL means no work at all: not one AWS call, and no answer.
#[tokio::test]
async fn a_refused_response_url_gets_no_work_and_no_answer() {
    let h = Harness::start().await;
    let (src, dst) = world(&h).await;
    let event = cfn_event(
        "Create",
        "https://evil.example/collect?X-Amz-Signature=x",
        props(&src, &dst),
        None,
        None,
    );
    let outcome = h.provider().handle(event, None).await;
    assert!(outcome.response.is_none() && !outcome.delivered);
    assert!(outcome.calls.is_empty(), "{:?}", outcome.calls);
    assert!(h.emu.replication(SRC, HOME_REGION, &src).await.is_none());
}

/// The default destination (ReadOnly) in the organization example's shape: the backup account's
/// owner wrote one bucket statement and one key statement for every replication role of the
/// organization, objects below each role's own account id (`${aws:PrincipalAccount}`). The
/// provider may write nothing there (every policy write is refused, as IAM refuses a ReadOnly
/// role) and needs to: the owner's statements already grant what its own would, in other words.
/// A source replicating outside its own prefix is not covered, and is refused naming the
/// statement to add.
#[tokio::test]
async fn a_read_only_destination_is_served_by_owner_statements_in_other_words() {
    use support::proxy::{Answer, Fault, Rule};
    let h = Harness::start().await;
    let org = h.emu.create_organization(SRC).await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let key = h.emu.create_key(ACCT_B, REGION_B).await;
    let roles = json!({"StringEquals": {"aws:PrincipalOrgID": org},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/s3-replication/*"}});
    h.emu
        .put_bucket_policy(ACCT_B, REGION_B, &dst, &json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "AllowOrganizationReplicasUnderOwnAccountPrefix", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
            "Resource": format!("arn:aws:s3:::{dst}/${{aws:PrincipalAccount}}/*"), "Condition": roles}]}))
        .await;
    let mut key_policy = h.emu.key_policy(ACCT_B, REGION_B, &key).await;
    let mut key_roles = roles.clone();
    key_roles["StringEquals"]["kms:ViaService"] = json!(format!("s3.{REGION_B}.amazonaws.com"));
    key_policy["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "AllowOrganizationReplicationRoles", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*", "Condition": key_roles}));
    h.emu
        .put_key_policy(ACCT_B, REGION_B, &key, &key_policy)
        .await;
    let owners = (
        h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await,
        h.emu.key_policy(ACCT_B, REGION_B, &key).await,
    );
    let needle = dst.clone();
    h.proxy.add_rule(Rule {
        matches: Box::new(move |s| {
            (s.method == "PUT" && s.target.contains(&needle) && s.target.contains("policy"))
                || s.head.contains("TrentService.PutKeyPolicy")
        }),
        answer: Answer::Inject(Fault::AccessDenied),
        remaining: None,
    });
    let props = |prefix: &str| {
        json!({"SourceBucket": src, "SourceKmsKeyArn": "Create",
            "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": key,
                "Prefix": prefix, "OwnerOverride": "true"}]})
    };
    let outside = h
        .request_unchecked("Create", &props("999999999999/"), None, None)
        .await;
    outside.assert_failed_with(&["Add this statement", &dst, "999999999999/"]);
    let p = props(&format!("{SRC}/"));
    let created = h.create(&p).await;
    created.assert_success();
    assert_no_write_in(&created, ACCT_B);
    assert_eq!(
        (
            h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await,
            h.emu.key_policy(ACCT_B, REGION_B, &key).await
        ),
        owners
    );
}
