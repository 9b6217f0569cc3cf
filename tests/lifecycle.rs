//! Create / Update / Delete of `Custom::S3Replication` through the real handler against the
//! emulator. moto evaluates neither key policies nor cross-account trust and reads replication
//! filters back lossily, so these tests assert on what the handler wrote (read back from moto's
//! stored copy) and on what it answered, not on moto's interpretation.

mod support;

use s3_replication_provider::doctor::Status;
use serde_json::{json, Value};
use support::harness::{Harness, HOME_REGION};
use support::{policy_sids, sid_of, unique, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const ACCT_B: &str = "222222222222";
const ACCT_C: &str = "333333333333";
const REGION_B: &str = "us-west-2";
const REGION_C: &str = "ap-southeast-2";

fn role_arn(bucket: &str) -> String {
    format!("arn:aws:iam::{SRC}:role/s3-replication/s3-replication-{bucket}")
}

/// The statement with `sid` in a policy document.
fn statement(doc: &Value, sid: &str) -> Option<Value> {
    doc["Statement"]
        .as_array()?
        .iter()
        .find(|s| s["Sid"] == sid)
        .cloned()
}

async fn raw_bucket_policy(
    h: &Harness,
    account: &str,
    region: &str,
    bucket: &str,
) -> Option<String> {
    let s3 = h.emu.s3(account, region).await;
    s3.get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .and_then(|o| o.policy)
}

#[tokio::test]
async fn create_with_created_keys_is_complete_idempotent_and_deletable() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    let props = json!({
        "SourceBucket": src, "SourceKmsKeyArn": "Create", "Verify": "Permissions",
        "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create",
                          "ReplicationTimeControl": "true", "StorageClass": "STANDARD_IA"}]
    });

    let created = h.create(&props).await;
    created.assert_success();
    assert_eq!(
        created.physical_id(),
        format!("s3-replication:{SRC}:{HOME_REGION}:{src}")
    );
    assert_eq!(created.data("ReplicationRoleArn"), role_arn(&src));
    assert_eq!(
        created.data("DestinationBucketArns"),
        format!("arn:aws:s3:::{dst}")
    );
    assert_eq!(created.data("RuleIds"), format!("replicate-to-{dst}"));
    let src_key = created.data("SourceKmsKeyArn").to_owned();
    let dst_key = created.data("DestinationKmsKeyArns").to_owned();
    assert!(
        src_key.starts_with(&format!("arn:aws:kms:{HOME_REGION}:{SRC}:key/")),
        "{src_key}"
    );
    assert!(
        dst_key.starts_with(&format!("arn:aws:kms:{REGION_B}:{ACCT_B}:key/")),
        "{dst_key}"
    );

    // Versioning, default encryption, rotation.
    assert_eq!(
        h.emu.versioning(SRC, HOME_REGION, &src).await.as_deref(),
        Some("Enabled")
    );
    assert_eq!(
        h.emu.versioning(ACCT_B, REGION_B, &dst).await.as_deref(),
        Some("Enabled")
    );
    let enc = h.emu.encryption(SRC, HOME_REGION, &src).await.unwrap();
    assert_eq!(
        (enc["Algorithm"].as_str(), enc["KmsKeyId"].as_str()),
        (Some("aws:kms"), Some(src_key.as_str()))
    );
    assert!(h.emu.key_rotation(SRC, HOME_REGION, &src_key).await);
    assert!(h.emu.key_rotation(ACCT_B, REGION_B, &dst_key).await);

    // Grants name the replication role, under the source's Sid, and keep KMS's default statement.
    let sid = sid_of(&src);
    let bucket_stmt = statement(
        &h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap(),
        &sid,
    )
    .unwrap();
    assert_eq!(bucket_stmt["Principal"]["AWS"], role_arn(&src));
    assert_eq!(bucket_stmt["Resource"], format!("arn:aws:s3:::{dst}/*"));
    for (acct, region, key) in [(SRC, HOME_REGION, &src_key), (ACCT_B, REGION_B, &dst_key)] {
        let policy = h.emu.key_policy(acct, region, key).await;
        // A created key's policy: KMS's default statement (the account's IAM governs it), the
        // provider's own management grant naming who created it, and the replication grant.
        assert_eq!(
            policy_sids(&policy),
            [
                "EnableIamPolicies",
                "S3ReplicationProviderManagesThisKey",
                sid.as_str()
            ],
            "{policy}"
        );
        assert_eq!(
            statement(&policy, &sid).unwrap()["Principal"]["AWS"],
            role_arn(&src)
        );
    }
    // In the destination, the key is managed through the destination role (no IAM policy of
    // the account lets that role edit or delete keys in general).
    let dst_policy = h.emu.key_policy(ACCT_B, REGION_B, &dst_key).await;
    assert_eq!(
        statement(&dst_policy, "S3ReplicationProviderManagesThisKey").unwrap()["Principal"]["AWS"],
        format!("arn:aws:iam::{ACCT_B}:role/S3ReplicationDestinationProvisioner")
    );

    // The role: S3 only, for this bucket and account; one inline policy on exact ARNs.
    let iam = h.emu.iam(SRC).await;
    let role = iam
        .get_role()
        .role_name(format!("s3-replication-{src}"))
        .send()
        .await
        .unwrap();
    let trust: Value =
        support::parse_policy(role.role().unwrap().assume_role_policy_document().unwrap());
    let t = &trust["Statement"][0];
    assert_eq!(t["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(t["Condition"]["StringEquals"]["aws:SourceAccount"], SRC);
    assert_eq!(
        t["Condition"]["StringEquals"]["aws:SourceArn"],
        format!("arn:aws:s3:::{src}")
    );
    let inline = h
        .emu
        .role_inline_policies(SRC, &format!("s3-replication-{src}"))
        .await;
    let text = inline["s3-replication"].to_string();
    assert!(
        text.contains(&dst_key) && text.contains(&src_key) && !text.contains("\"*\""),
        "{text}"
    );

    // The configuration S3 was sent (moto's stored copy).
    let stored = h.emu.stored_replication(&src).await.unwrap();
    assert_eq!(stored["Role"], role_arn(&src));
    let rule = &stored["Rules"][0];
    assert_eq!(rule["Account"], ACCT_B);
    assert_eq!(rule["OwnerOverride"], "Destination");
    assert_eq!(rule["ReplicaKmsKeyId"], dst_key.as_str());
    assert_eq!(rule["SseKmsEncryptedObjects"], "Enabled");
    assert_eq!(rule["DeleteMarkerReplication"], "Disabled");
    assert_eq!(rule["StorageClass"], "STANDARD_IA");
    assert_eq!(
        (
            rule["ReplicationTime"].as_str(),
            rule["ReplicationTimeMinutes"].as_i64()
        ),
        (Some("Enabled"), Some(15))
    );
    assert_eq!(
        (rule["Metrics"].as_str(), rule["MetricsMinutes"].as_i64()),
        (Some("Enabled"), Some(15))
    );

    // A second identical Create converges without a single mutating call.
    let again = h.create(&props).await;
    again.assert_success();
    assert_eq!(again.physical_id(), created.physical_id());
    assert_eq!(again.response["Data"], created.response["Data"]);
    assert!(
        again.mutations().is_empty(),
        "mutations on repeat: {:?}",
        again.mutations()
    );

    // Delete: configuration, grants and role go; buckets, versioning and retained keys stay.
    let deleted = h.delete(&props, created.physical_id()).await;
    deleted.assert_success();
    assert!(h.emu.replication(SRC, HOME_REGION, &src).await.is_none());
    assert!(
        !h.emu
            .role_exists(SRC, &format!("s3-replication-{src}"))
            .await
    );
    assert!(
        h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.is_none(),
        "our only statement removed"
    );
    for (acct, region, key) in [(SRC, HOME_REGION, &src_key), (ACCT_B, REGION_B, &dst_key)] {
        assert_eq!(
            h.emu.key_state(acct, region, key).await.as_deref(),
            Some("Enabled"),
            "Retain keeps {key}"
        );
        assert!(statement(&h.emu.key_policy(acct, region, key).await, &sid).is_none());
    }
    assert!(
        h.emu.bucket_exists(SRC, HOME_REGION, &src).await
            && h.emu.bucket_exists(ACCT_B, REGION_B, &dst).await
    );
    assert_eq!(
        h.emu.versioning(ACCT_B, REGION_B, &dst).await.as_deref(),
        Some("Enabled")
    );
    assert!(!deleted.called("DeleteBucket") && !deleted.called("ScheduleKeyDeletion"));

    // Deleting again finds everything gone and still succeeds, changing nothing.
    let again = h.delete(&props, created.physical_id()).await;
    again.assert_success();
    assert!(again.mutations().is_empty(), "{:?}", again.mutations());
}

#[tokio::test]
async fn existing_keys_are_discovered_and_foreign_statements_kept_byte_for_byte() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let src_key = h.emu.create_key(SRC, HOME_REGION).await;
    let dst_key = h.emu.create_key(ACCT_B, REGION_B).await;
    // The source bucket's default encryption names the key (by id, as people often do).
    let s3 = h.emu.s3(SRC, HOME_REGION).await;
    use aws_sdk_s3::types::*;
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(support::key_id_of(&src_key))
        .build()
        .unwrap();
    let rules = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .build(),
        )
        .build()
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(&src)
        .server_side_encryption_configuration(rules)
        .send()
        .await
        .unwrap();
    // Someone else's statement on the destination bucket, in their own formatting.
    let foreign = format!(
        r#"{{"Sid":"TheirAuditRead",  "Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT_C}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{dst}/*"}}"#
    );
    let original = format!(r#"{{"Version":"2012-10-17","Statement":[{foreign}]}}"#);
    s3_put_raw_policy(&h, ACCT_B, REGION_B, &dst, &original).await;

    let props = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": dst_key}]});
    let created = h.create(&props).await;
    created.assert_success();
    assert_eq!(
        created.data("SourceKmsKeyArn"),
        src_key,
        "discovered from default encryption"
    );
    assert!(!created.called("CreateKey"));
    let after = raw_bucket_policy(&h, ACCT_B, REGION_B, &dst).await.unwrap();
    assert!(
        after.contains(&foreign),
        "foreign statement altered: {after}"
    );
    assert!(after.contains(&sid_of(&src)));
    let stored = h.emu.stored_replication(&src).await.unwrap();
    assert_eq!(stored["Rules"][0]["ReplicaKmsKeyId"], dst_key.as_str());

    let deleted = h.delete(&props, created.physical_id()).await;
    deleted.assert_success();
    assert_eq!(
        raw_bucket_policy(&h, ACCT_B, REGION_B, &dst).await.unwrap(),
        format!(r#"{{"Version":"2012-10-17","Statement":[{foreign}]}}"#)
    );
    for (acct, region, key) in [(SRC, HOME_REGION, &src_key), (ACCT_B, REGION_B, &dst_key)] {
        assert_eq!(
            h.emu.key_state(acct, region, key).await.as_deref(),
            Some("Enabled"),
            "never scheduled: not created here"
        );
    }
    let enc = h.emu.encryption(SRC, HOME_REGION, &src).await.unwrap();
    assert_eq!(
        enc["Algorithm"], "aws:kms",
        "user's default encryption untouched"
    );
}

async fn s3_put_raw_policy(h: &Harness, account: &str, region: &str, bucket: &str, policy: &str) {
    let s3 = h.emu.s3(account, region).await;
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn two_destinations_in_two_accounts_with_prefix_and_tag_filters() {
    let h = Harness::start().await;
    let (src, b, c) = (unique("src"), unique("dstb"), unique("dstc"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &b, true).await;
    h.emu.create_bucket(ACCT_C, REGION_C, &c, false).await;
    // Verify: Permissions makes the doctor an oracle: the handler reads the live state back
    // and evaluates the permission chain, which moto itself never does.
    let props = json!({"SourceBucket": src, "Verify": "Permissions", "Destinations": [
        {"Bucket": b, "AccountId": ACCT_B, "Region": REGION_B, "Prefix": "logs/", "DeleteMarkerReplication": "true", "Id": "logs", "Priority": "7"},
        {"Bucket": c, "AccountId": ACCT_C, "Region": REGION_C, "Tags": {"backup": "yes", "tier": "gold"}, "Prefix": "data/", "StorageClass": "GLACIER", "ReplicaModifications": "true", "OwnerOverride": "false"}
    ]});
    let created = h.create(&props).await;
    created.assert_success();
    assert_eq!(created.data("RuleIds"), format!("logs,replicate-to-{c}"));
    assert_eq!(created.data("SourceKmsKeyArn"), "", "SSE-S3 source: no key");
    let stored = h.emu.stored_replication(&src).await.unwrap();
    let rules = stored["Rules"].as_array().unwrap();
    let logs = rules.iter().find(|r| r["Id"] == "logs").unwrap();
    let tagged = rules.iter().find(|r| r["Id"] != "logs").unwrap();
    assert_eq!(
        (
            logs["Prefix"].as_str(),
            logs["DeleteMarkerReplication"].as_str(),
            logs["Priority"].as_i64()
        ),
        (Some("logs/"), Some("Enabled"), Some(7))
    );
    assert_eq!(tagged["Prefix"], "data/");
    assert_eq!(tagged["Tags"], json!({"backup": "yes", "tier": "gold"}));
    assert_eq!(tagged["DeleteMarkerReplication"], "Disabled");
    assert_eq!(tagged["ReplicaModifications"], "Enabled");
    assert_eq!(tagged["StorageClass"], "GLACIER");
    assert_eq!(
        tagged["OwnerOverride"],
        Value::Null,
        "OwnerOverride false: no AccessControlTranslation"
    );
    assert_ne!(logs["Priority"], tagged["Priority"]);
    assert_eq!(
        h.emu.versioning(ACCT_C, REGION_C, &c).await.as_deref(),
        Some("Enabled")
    );
    for (acct, region, bucket) in [(ACCT_B, REGION_B, &b), (ACCT_C, REGION_C, &c)] {
        let p = h.emu.bucket_policy(acct, region, bucket).await.unwrap();
        assert!(statement(&p, &sid_of(&src)).is_some(), "{bucket}");
    }
    let c_stmt = statement(
        &h.emu.bucket_policy(ACCT_C, REGION_C, &c).await.unwrap(),
        &sid_of(&src),
    )
    .unwrap();
    assert!(
        !c_stmt
            .to_string()
            .contains("ObjectOwnerOverrideToBucketOwner"),
        "no override grant without override"
    );
    assert!(h.delete(&props, created.physical_id()).await.status() == "SUCCESS");
}

#[tokio::test]
async fn update_adds_then_removes_a_destination() {
    let h = Harness::start().await;
    let (src, a, b) = (unique("src"), unique("dsta"), unique("dstb"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &a, true).await;
    h.emu.create_bucket(ACCT_C, REGION_C, &b, true).await;
    let dest_a =
        json!({"Bucket": a, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"});
    let dest_b =
        json!({"Bucket": b, "AccountId": ACCT_C, "Region": REGION_C, "KmsKeyArn": "Create"});
    let one = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "KeyRemovalPolicy": "Delete", "KeyDeletionWindowDays": "7", "Destinations": [dest_a]});
    let two = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "KeyRemovalPolicy": "Delete", "KeyDeletionWindowDays": "7", "Verify": "Permissions", "Destinations": [dest_a, dest_b]});
    let only_b = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "KeyRemovalPolicy": "Delete", "KeyDeletionWindowDays": "7", "Destinations": [dest_b]});

    let created = h.create(&one).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    let key_a = created.data("DestinationKmsKeyArns").to_owned();

    let added = h.update(&two, &id, &one).await;
    added.assert_success();
    assert_eq!(added.physical_id(), id, "same source: no replacement");
    let keys: Vec<String> = added
        .data("DestinationKmsKeyArns")
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(
        keys[0], key_a,
        "existing created key is found again, not recreated"
    );
    let key_b = keys[1].clone();
    assert_eq!(
        h.emu.stored_replication(&src).await.unwrap()["Rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let removed = h.update(&only_b, &id, &two).await;
    removed.assert_success();
    assert_eq!(removed.physical_id(), id);
    let rules = h.emu.stored_replication(&src).await.unwrap()["Rules"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["Bucket"], format!("arn:aws:s3:::{b}"));
    assert!(
        h.emu.bucket_policy(ACCT_B, REGION_B, &a).await.is_none(),
        "A lost its statement"
    );
    assert_eq!(
        h.emu.key_state(ACCT_B, REGION_B, &key_a).await.as_deref(),
        Some("PendingDeletion"),
        "A's created key retired (Delete policy)"
    );
    assert_eq!(
        h.emu.key_state(ACCT_C, REGION_C, &key_b).await.as_deref(),
        Some("Enabled")
    );
    assert!(statement(
        &h.emu.bucket_policy(ACCT_C, REGION_C, &b).await.unwrap(),
        &sid_of(&src)
    )
    .is_some());
    assert!(
        h.emu.bucket_exists(ACCT_B, REGION_B, &a).await,
        "buckets are never deleted"
    );

    let deleted = h.delete(&only_b, &id).await;
    deleted.assert_success();
    let src_key = created.data("SourceKmsKeyArn");
    assert_eq!(
        h.emu.key_state(SRC, HOME_REGION, src_key).await.as_deref(),
        Some("PendingDeletion")
    );
    assert_eq!(
        h.emu.encryption(SRC, HOME_REGION, &src).await.unwrap()["Algorithm"],
        "AES256",
        "bucket no longer names a key being deleted"
    );
}

#[tokio::test]
async fn changing_the_source_bucket_is_a_replacement() {
    let h = Harness::start().await;
    let (old_src, new_src, dst) = (unique("srcold"), unique("srcnew"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &old_src, true).await;
    h.emu.create_bucket(SRC, HOME_REGION, &new_src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let dest = json!([{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]);
    let old = json!({"SourceBucket": old_src, "Destinations": dest});
    let new = json!({"SourceBucket": new_src, "Destinations": dest});
    let created = h.create(&old).await;
    created.assert_success();
    let updated = h.update(&new, created.physical_id(), &old).await;
    updated.assert_success();
    assert_ne!(
        updated.physical_id(),
        created.physical_id(),
        "new physical id signals replacement"
    );
    assert_eq!(
        updated.physical_id(),
        format!("s3-replication:{SRC}:{HOME_REGION}:{new_src}")
    );
    // Both exist until CloudFormation deletes the old resource (with the old properties).
    let policy = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
    assert!(
        statement(&policy, &sid_of(&old_src)).is_some()
            && statement(&policy, &sid_of(&new_src)).is_some()
    );
    let deleted_old = h.delete(&old, created.physical_id()).await;
    deleted_old.assert_success();
    assert!(h
        .emu
        .replication(SRC, HOME_REGION, &old_src)
        .await
        .is_none());
    assert!(
        h.emu
            .replication(SRC, HOME_REGION, &new_src)
            .await
            .is_some(),
        "new resource untouched"
    );
    let policy = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
    assert_eq!(policy_sids(&policy), vec![sid_of(&new_src)]);
    assert!(
        h.emu
            .role_exists(SRC, &format!("s3-replication-{new_src}"))
            .await
    );
}

#[tokio::test]
async fn invalid_properties_fail_before_any_aws_call_and_delete_then_succeeds() {
    let h = Harness::start().await;
    let cases = [
        (
            json!({"SourceBucket": "src-x", "Destinations": [{"Bucket": "dst-x", "AccountId": ACCT_B, "Region": REGION_B}], "Colour": "blue"}),
            vec!["\"Colour\""],
        ),
        (
            json!({"SourceBucket": "src-x", "Destinations": [{"Bucket": "dst-x", "AccountId": "2222", "Region": REGION_B}]}),
            vec!["Destinations[0].AccountId", "12 digits"],
        ),
        (
            json!({"SourceBucket": "src-x", "Destinations": [{"Bucket": "dst-x", "AccountId": ACCT_B, "Region": REGION_B, "StorageClass": "COLD"}]}),
            vec!["Destinations[0].StorageClass", "GLACIER"],
        ),
        (
            json!({"SourceBucket": "src-x", "SourceKmsKeyArn": "arn:aws:kms:eu-west-1:123:key/x", "Destinations": [{"Bucket": "dst-x", "AccountId": ACCT_B, "Region": REGION_B}]}),
            vec!["SourceKmsKeyArn", "account"],
        ),
        (
            json!({"SourceBucket": "src-x", "Destinations": [{"Bucket": "dst-x", "AccountId": ACCT_B, "Region": REGION_B, "RoleArn": "arn:aws:iam::222222222222:user/bob"}]}),
            vec!["Destinations[0].RoleArn"],
        ),
        (
            json!({"SourceBucket": "src-x", "Destinations": "dst-x"}),
            vec!["Destinations", "list"],
        ),
    ];
    for (props, needles) in cases {
        let failed = h.create(&props).await;
        failed.assert_failed_with(&needles);
        assert!(
            failed.outcome.calls.is_empty(),
            "no AWS call for invalid properties: {:?}",
            failed.outcome.calls
        );
        assert!(
            failed
                .physical_id()
                .starts_with("s3-replication-not-created:"),
            "{}",
            failed.physical_id()
        );
        let deleted = h.delete(&props, failed.physical_id()).await;
        deleted.assert_success();
        assert!(deleted.outcome.calls.is_empty());
    }
}

#[tokio::test]
async fn unassumable_destination_fails_clearly_and_delete_succeeds_at_once() {
    let h = Harness::start().await;
    let src = unique("src");
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.proxy.fail_matching(
        "RoleArn=arn%3Aaws%3Aiam%3A%3A999999999999",
        403,
        "AccessDenied",
        "not authorized to perform: sts:AssumeRole",
    );
    let props = json!({"SourceBucket": src, "Destinations": [{"Bucket": unique("dst"), "AccountId": "999999999999", "Region": REGION_B}]});
    let failed = h.create(&props).await;
    failed.assert_failed_with(&[
        "999999999999",
        "AssumeRole",
        "S3ReplicationDestinationProvisioner",
        "sam/destination-account",
    ]);
    assert!(
        failed.mutations().is_empty(),
        "nothing changed before every account was reachable: {:?}",
        failed.mutations()
    );
    assert_eq!(
        h.emu.versioning(SRC, HOME_REGION, &src).await.as_deref(),
        None
    );
    let deleted = h.delete(&props, failed.physical_id()).await;
    deleted.assert_success();
    assert!(deleted.mutations().is_empty());
}

#[tokio::test]
async fn foreign_replication_configuration_is_refused_unless_taken_over() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let s3 = h.emu.s3(SRC, HOME_REGION).await;
    use aws_sdk_s3::types::*;
    let rule = ReplicationRule::builder()
        .id("hand-made")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("").build())
        .delete_marker_replication(
            DeleteMarkerReplication::builder()
                .status(DeleteMarkerReplicationStatus::Disabled)
                .build(),
        )
        .destination(
            Destination::builder()
                .bucket("arn:aws:s3:::somewhere-else")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let config = ReplicationConfiguration::builder()
        .role(format!("arn:aws:iam::{SRC}:role/hand-made"))
        .rules(rule)
        .build()
        .unwrap();
    s3.put_bucket_replication()
        .bucket(&src)
        .replication_configuration(config)
        .send()
        .await
        .unwrap();

    let props = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    let refused = h.create(&props).await;
    refused.assert_failed_with(&["hand-made", "somewhere-else", "TakeOverExistingReplication"]);
    assert!(refused.mutations().is_empty());
    assert_eq!(
        h.emu.stored_replication(&src).await.unwrap()["Role"],
        format!("arn:aws:iam::{SRC}:role/hand-made")
    );
    // The failed Create is rolled back with a Delete, which must not remove the foreign configuration.
    h.delete(&props, refused.physical_id())
        .await
        .assert_success();
    assert_eq!(
        h.emu.stored_replication(&src).await.unwrap()["Role"],
        format!("arn:aws:iam::{SRC}:role/hand-made")
    );

    let mut take = props.clone();
    take["TakeOverExistingReplication"] = json!("true");
    let taken = h.create(&take).await;
    taken.assert_success();
    assert_eq!(
        h.emu.stored_replication(&src).await.unwrap()["Role"],
        role_arn(&src)
    );
}

#[tokio::test]
async fn missing_or_misplaced_buckets_are_explained_and_create_bucket_makes_one() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    let missing = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    h.create(&missing)
        .await
        .assert_failed_with(&[&dst, ACCT_B, "CreateBucket"]);
    let no_source = json!({"SourceBucket": unique("nosrc"), "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    h.create(&no_source)
        .await
        .assert_failed_with(&["does not exist", SRC]);
    let wrong_region = json!({"SourceBucket": src, "SourceRegion": "us-east-2", "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    h.create(&wrong_region)
        .await
        .assert_failed_with(&[HOME_REGION, "SourceRegion"]);

    let create = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "CreateBucket": "true"}]});
    let created = h.create(&create).await;
    created.assert_success();
    assert!(h.emu.bucket_exists(ACCT_B, REGION_B, &dst).await);
    assert_eq!(
        h.emu.versioning(ACCT_B, REGION_B, &dst).await.as_deref(),
        Some("Enabled")
    );
    let s3 = h.emu.s3(ACCT_B, REGION_B).await;
    let pab = s3
        .get_public_access_block()
        .bucket(&dst)
        .send()
        .await
        .unwrap();
    let c = pab.public_access_block_configuration().unwrap();
    assert!(c.block_public_acls() == Some(true) && c.restrict_public_buckets() == Some(true));
    h.delete(&create, created.physical_id())
        .await
        .assert_success();
    assert!(
        h.emu.bucket_exists(ACCT_B, REGION_B, &dst).await,
        "a created bucket is never deleted"
    );
}

#[tokio::test]
async fn sse_kms_source_without_replica_key_is_refused() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    let key = h.emu.create_key(SRC, HOME_REGION).await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": key, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    h.create(&props)
        .await
        .assert_failed_with(&["Destinations[0].KmsKeyArn is required", &key]);
}

#[tokio::test]
async fn verify_permissions_fails_the_stack_on_a_broken_link() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, true).await;
    // The destination owner denies all replication writes: an explicit Deny wins over our Allow.
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoReplicasHere", "Effect": "Deny", "Principal": "*", "Action": "s3:ReplicateObject", "Resource": format!("arn:aws:s3:::{dst}/*")}]});
    h.emu.put_bucket_policy(ACCT_B, REGION_B, &dst, &deny).await;
    let props = json!({"SourceBucket": src, "Verify": "Permissions", "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    let failed = h.create(&props).await;
    failed.assert_failed_with(&["Verify: Permissions", "NoReplicasHere", &dst, ACCT_B]);
    // Without Verify the same Create succeeds: moto itself never evaluates the Deny, and only
    // the oracle sees the broken link.
    let mut unverified = props.clone();
    unverified["Verify"] = json!("None");
    h.request_unchecked("Create", &unverified, None, None)
        .await
        .assert_success();
    let findings = support::oracle::findings(&h.emu, &unverified).await;
    let replicate = findings
        .iter()
        .find(|f| f.link == "destination[0].replicate")
        .expect("a replicate link");
    assert_eq!(replicate.status, Status::Fail, "{}", replicate.detail);
    assert!(
        replicate.detail.contains("NoReplicasHere"),
        "{}",
        replicate.detail
    );
}

#[tokio::test]
async fn organization_mode_is_verified_against_the_accounts_real_organization() {
    let h = Harness::start().await;
    let org = h.emu.create_organization(SRC).await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "OrganizationId": org,
        "Verify": "Permissions",
        "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create"}]});
    // The doctor reads the source account's organization (DescribeOrganization): the shared
    // statements' aws:PrincipalOrgID condition is decided, and holds (the oracle checks too).
    let created = h.create(&props).await;
    created.assert_success();
    assert!(created.called("DescribeOrganization"));
    let policy = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
    assert!(policy.to_string().contains(&org), "{policy}");

    // Issue 23, attack 1: an organization id the source account is not in (a typo, or an
    // outside organization a stack author wants to admit into the backup bucket) fails before
    // anything is written anywhere, naming both organizations.
    let (src2, dst2) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src2, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst2, false).await;
    let outside = json!({"SourceBucket": src2, "OrganizationId": "o-aaaaaaaaaa",
        "Destinations": [{"Bucket": dst2, "AccountId": ACCT_B, "Region": REGION_B}]});
    let refused = h.create(&outside).await;
    refused.assert_failed_with(&[
        "OrganizationId o-aaaaaaaaaa",
        &org,
        SRC,
        "nothing was changed",
    ]);
    assert!(refused.mutations().is_empty(), "{:?}", refused.mutations());
    assert!(h.emu.bucket_policy(ACCT_B, REGION_B, &dst2).await.is_none());
    // The shared statement of the real organization is still there, untouched.
    let after = h.emu.bucket_policy(ACCT_B, REGION_B, &dst).await.unwrap();
    assert_eq!(after, policy);
}
