//! The decisions apply and `plan --diff` share, without any AWS.

use serde_json::json;

use super::*;
use crate::aws::LiveRule;
use crate::plan::{Keys, Resolved};
use crate::spec::{self, AccountId, Region, Spec};

fn spec() -> Spec {
    spec::parse(&json!({
        "SourceBucket": "src-bucket",
        "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/a"},
            {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "us-west-2", "Id": "b"}
        ]
    }))
    .unwrap()
}

fn plan() -> Plan {
    let s = spec();
    let r = Resolved::new(
        &s,
        AccountId::parse("111111111111").unwrap(),
        Region::parse("eu-west-1").unwrap(),
    );
    Plan::build(&s, r, &Keys::known(&s, None, &[])).unwrap()
}

/// The live configuration S3 would read back after the plan's was written.
fn live_of(plan: &Plan) -> LiveReplication {
    LiveReplication {
        role: plan.replication.role.clone(),
        rules: plan
            .replication
            .rules
            .iter()
            .map(|r| LiveRule {
                id: r.id.clone(),
                priority: Some(r.priority),
                enabled: true,
                destination_bucket: r.destination.bucket.clone(),
                destination_account: r.destination.account.clone(),
                replica_kms_key: r.destination.replica_kms_key_id.clone(),
                owner_override: r.destination.owner_override,
                sse_kms: r.sse_kms_encrypted_objects,
                prefix: None,
                delete_markers: r.delete_marker_replication,
                metrics: r.destination.metrics,
            })
            .collect(),
    }
}

#[test]
fn versioning_is_updated_only_when_not_enabled() {
    assert_eq!(versioning(true), Action::Unchanged);
    assert_eq!(versioning(false), Action::Update);
    assert!(!Action::Unchanged.changes() && Action::Remove.changes());
}

#[test]
fn default_encryption_is_kept_only_when_it_is_sse_kms_with_the_key() {
    let key = "arn:aws:kms:eu-west-1:111111111111:key/k";
    let enc = |algorithm: &str, k: Option<&str>| DefaultEncryption {
        algorithm: crate::aws::SseAlgorithm::parse(algorithm),
        kms_key: k.map(str::to_owned),
        bucket_key: false,
    };
    assert_eq!(default_encryption(None, key), Action::Update);
    assert_eq!(
        default_encryption(Some(&enc("aws:kms", Some(key))), key),
        Action::Unchanged
    );
    for other in [
        enc(
            "aws:kms",
            Some("arn:aws:kms:eu-west-1:111111111111:key/other"),
        ),
        enc("aws:kms", None),
        enc("AES256", None),
        enc("aws:kms:dsse", Some(key)),
    ] {
        assert_eq!(
            default_encryption(Some(&other), key),
            Action::Update,
            "{other:?}"
        );
    }
}

#[test]
fn a_key_to_create_is_a_creation() {
    let to_create = KeyRef::source_to_create(
        &spec::BucketName::parse("src").unwrap(),
        &AccountId::parse("111111111111").unwrap(),
        &Region::parse("eu-west-1").unwrap(),
    );
    assert_eq!(key(&to_create), Action::Create);
    assert_eq!(
        key(&KeyRef::Existing("arn:k".to_owned())),
        Action::Unchanged
    );
}

#[test]
fn documents_compare_as_iam_does() {
    let desired = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:B", "s3:A"], "Resource": ["arn:x"]}]});
    assert_eq!(document(None, &desired), Action::Create);
    let reordered = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:A","s3:B"],"Resource":"arn:x"}}"#;
    assert_eq!(document(Some(reordered), &desired), Action::Unchanged);
    let widened = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:x"}}"#;
    assert_eq!(document(Some(widened), &desired), Action::Update);
    assert_eq!(document(Some("not json"), &desired), Action::Update);
}

#[test]
fn a_statement_is_compared_by_sid_and_nothing_else() {
    let ours = json!({"Sid": "Ours", "Effect": "Allow", "Principal": {"AWS": "arn:r"}, "Action": "s3:ReplicateObject", "Resource": "arn:b/*"});
    assert_eq!(statement(None, "Ours", &ours), Action::Create);
    let theirs = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:b/*"}]}"#;
    assert_eq!(statement(Some(theirs), "Ours", &ours), Action::Create);
    let both = json!({"Version": "2012-10-17", "Statement": [serde_json::from_str::<Value>(theirs).unwrap()["Statement"][0].clone(), ours.clone()]}).to_string();
    assert_eq!(statement(Some(&both), "Ours", &ours), Action::Unchanged);
    assert_eq!(current_statement(Some(&both), "Ours"), Some(ours.clone()));
    let mut widened = ours.clone();
    widened["Action"] = json!("s3:*");
    assert_eq!(statement(Some(&both), "Ours", &widened), Action::Update);
}

#[test]
fn boundary_and_tags_name_only_what_differs() {
    assert_eq!(boundary(None, "arn:b"), Action::Update);
    assert_eq!(boundary(Some("arn:other"), "arn:b"), Action::Update);
    assert_eq!(boundary(Some("arn:b"), "arn:b"), Action::Unchanged);
    let desired = vec![
        ("a", "1".to_owned()),
        ("b", "2".to_owned()),
        ("c", "3".to_owned()),
    ];
    let current = |k: &str| match k {
        "a" => Some("1"),
        "b" => Some("9"),
        _ => None,
    };
    assert_eq!(role_tags(current, &desired), vec![("b", "2"), ("c", "3")]);
}

#[test]
fn replication_is_unchanged_only_with_the_same_rules_and_digest() {
    let plan = plan();
    let live = live_of(&plan);
    let digest = plan.replication.digest();
    assert_eq!(replication(None, &plan.replication, None), Action::Create);
    assert_eq!(
        replication(Some(&live), &plan.replication, Some(&digest)),
        Action::Unchanged
    );
    // Written from another document (a field S3 reads back lossily changed), or no record.
    assert_eq!(
        replication(Some(&live), &plan.replication, Some("other")),
        Action::Update
    );
    assert_eq!(
        replication(Some(&live), &plan.replication, None),
        Action::Update
    );
    let mut disabled = live.clone();
    disabled.rules[0].enabled = false;
    let mut fewer = live.clone();
    fewer.rules.pop();
    let mut other_role = live.clone();
    other_role.role = "arn:aws:iam::111111111111:role/other".to_owned();
    let mut moved = live;
    moved.rules[1].priority = Some(99);
    for l in [disabled, fewer, other_role, moved] {
        assert!(!same_rules(&l, &plan.replication));
        assert_eq!(
            replication(Some(&l), &plan.replication, Some(&digest)),
            Action::Update
        );
    }
}

#[test]
fn an_update_removes_dropped_destinations_and_keys_no_longer_used() {
    let plan = plan();
    assert_eq!(removed("222222222222", "dst-a", &plan), Removed::KeyOnly);
    assert_eq!(removed("333333333333", "dst-b", &plan), Removed::KeyOnly);
    assert_eq!(
        removed("444444444444", "dst-a", &plan),
        Removed::Destination,
        "same name, other account"
    );
    assert_eq!(
        removed("222222222222", "dst-c", &plan),
        Removed::Destination
    );
    assert!(key_kept(&plan, "arn:aws:kms:us-west-2:222222222222:key/a"));
    assert!(!key_kept(
        &plan,
        "arn:aws:kms:us-west-2:222222222222:key/old"
    ));
}
