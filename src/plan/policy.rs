//! Every policy document this provider writes, each built in exactly one function so the origin
//! of any grant is found in one place. Pure: no AWS calls.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{DestinationPlan, Resolved};

pub const TRUST_SID: &str = "S3ReplicationAssumeRole";

/// Actions the replication role needs on source objects (Object Lock reads included: S3
/// replicates retention and legal holds and refuses to without them).
pub const SOURCE_OBJECT_ACTIONS: [&str; 5] = [
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectRetention",
    "s3:GetObjectLegalHold",
];
pub const SOURCE_BUCKET_ACTIONS: [&str; 2] = ["s3:GetReplicationConfiguration", "s3:ListBucket"];
pub const REPLICATE_ACTIONS: [&str; 3] = [
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
];
pub const OWNER_OVERRIDE_ACTION: &str = "s3:ObjectOwnerOverrideToBucketOwner";
pub const SOURCE_KEY_ACTIONS: [&str; 1] = ["kms:Decrypt"];
/// `Encrypt` writes replicas; `GenerateDataKey` and `Decrypt` are what S3 calls on the replica
/// key when the destination uses S3 Bucket Keys or SSE-KMS default encryption.
pub const DESTINATION_KEY_ACTIONS: [&str; 3] =
    ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"];

fn via_s3(region: &str) -> String {
    format!("s3.{region}.amazonaws.com")
}

/// The encryption contexts S3 uses for a bucket: the object ARN, or the bucket ARN with S3
/// Bucket Keys.
fn s3_contexts(bucket_arn: &str) -> Vec<String> {
    vec![bucket_arn.to_owned(), format!("{bucket_arn}/*")]
}

fn kms_conditions(region: &str, contexts: Vec<String>) -> Value {
    json!({
        "StringEquals": { "kms:ViaService": via_s3(region) },
        "StringLike": { "kms:EncryptionContext:aws:s3:arn": contexts }
    })
}

/// Trust policy of the replication role: only S3, and only on behalf of the source bucket in
/// the source account (confused-deputy protection).
pub fn trust_policy(r: &Resolved) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": TRUST_SID,
            "Effect": "Allow",
            "Principal": { "Service": "s3.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": r.source_account.as_str(),
                    "aws:SourceArn": r.source_bucket_arn()
                }
            }
        }]
    })
}

/// The replication role's inline policy: exactly what replication exercises, on exact ARNs.
pub fn role_policy(r: &Resolved, dests: &[DestinationPlan]) -> Value {
    let src = r.source_bucket_arn();
    let mut statements = vec![
        json!({"Sid": "ReadSourceBucket", "Effect": "Allow", "Action": SOURCE_BUCKET_ACTIONS, "Resource": src}),
        json!({"Sid": "ReadSourceObjectVersions", "Effect": "Allow", "Action": SOURCE_OBJECT_ACTIONS, "Resource": format!("{src}/*")}),
    ];
    let objects = |pred: &dyn Fn(&DestinationPlan) -> bool| -> Vec<String> {
        let mut v: Vec<String> = dests
            .iter()
            .filter(|d| pred(d))
            .map(|d| format!("{}/*", d.bucket_arn))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    statements.push(json!({"Sid": "ReplicateIntoDestinations", "Effect": "Allow", "Action": REPLICATE_ACTIONS, "Resource": objects(&|_| true)}));
    let overridden = objects(&|d| d.owner_override);
    if !overridden.is_empty() {
        statements.push(json!({"Sid": "OverrideReplicaOwner", "Effect": "Allow", "Action": OWNER_OVERRIDE_ACTION, "Resource": overridden}));
    }
    if let Some(key) = &r.source_key {
        statements.push(json!({
            "Sid": "DecryptSourceObjects", "Effect": "Allow", "Action": SOURCE_KEY_ACTIONS,
            "Resource": key.as_str(),
            "Condition": kms_conditions(r.source_region.as_str(), s3_contexts(&src))
        }));
    }
    // One statement per destination region: kms:ViaService differs by region.
    let mut by_region: BTreeMap<&str, (Vec<&str>, Vec<String>)> = BTreeMap::new();
    for d in dests {
        if let Some(key) = &d.kms_key {
            let entry = by_region.entry(d.region.as_str()).or_default();
            entry.0.push(key.as_str());
            entry.1.extend(s3_contexts(&d.bucket_arn));
        }
    }
    for (region, (mut keys, mut contexts)) in by_region {
        keys.sort();
        keys.dedup();
        contexts.sort();
        contexts.dedup();
        let sid: String = format!("EncryptReplicas{}", region.replace('-', ""));
        statements.push(json!({
            "Sid": sid, "Effect": "Allow", "Action": DESTINATION_KEY_ACTIONS,
            "Resource": keys, "Condition": kms_conditions(region, contexts)
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The statement on a destination bucket's policy letting the replication role replicate into
/// it; one per (source, destination bucket).
pub fn destination_bucket_statement(r: &Resolved, bucket_arn: &str, owner_override: bool) -> Value {
    let mut actions: Vec<&str> = REPLICATE_ACTIONS.to_vec();
    if owner_override {
        actions.push(OWNER_OVERRIDE_ACTION);
    }
    json!({
        "Sid": r.sid,
        "Effect": "Allow",
        "Principal": { "AWS": r.role_arn.as_str() },
        "Action": actions,
        "Resource": format!("{bucket_arn}/*")
    })
}

/// The statement on a destination key's policy letting the replication role encrypt replicas
/// for the destination buckets that use this key.
pub fn destination_key_statement(r: &Resolved, region: &str, bucket_arns: &[&str]) -> Value {
    let mut contexts: Vec<String> = bucket_arns.iter().flat_map(|b| s3_contexts(b)).collect();
    contexts.sort();
    contexts.dedup();
    json!({
        "Sid": r.sid,
        "Effect": "Allow",
        "Principal": { "AWS": r.role_arn.as_str() },
        "Action": DESTINATION_KEY_ACTIONS,
        "Resource": "*",
        "Condition": kms_conditions(region, contexts)
    })
}

/// The statement on the source key's policy letting the replication role decrypt source objects.
pub fn source_key_statement(r: &Resolved) -> Value {
    json!({
        "Sid": r.sid,
        "Effect": "Allow",
        "Principal": { "AWS": r.role_arn.as_str() },
        "Action": SOURCE_KEY_ACTIONS,
        "Resource": "*",
        "Condition": kms_conditions(r.source_region.as_str(), s3_contexts(&r.source_bucket_arn()))
    })
}

/// Organization mode, bucket policy: every replication role this provider creates in the
/// organization may replicate into the bucket (owner override included, as any source may
/// need it). Identical for every source, so concurrent sources never rewrite each other.
pub fn organization_bucket_statement(r: &Resolved, org: &str, bucket_arn: &str) -> Value {
    let mut actions: Vec<&str> = REPLICATE_ACTIONS.to_vec();
    actions.push(OWNER_OVERRIDE_ACTION);
    json!({
        "Sid": super::names::ORGANIZATION_SID,
        "Effect": "Allow",
        "Principal": { "AWS": "*" },
        "Action": actions,
        "Resource": format!("{bucket_arn}/*"),
        "Condition": {
            "StringEquals": { "aws:PrincipalOrgID": org },
            "ArnLike": { "aws:PrincipalArn": super::names::role_arn_pattern(&r.partition) }
        }
    })
}

/// Organization mode, key policy: the organization's replication roles may encrypt replicas
/// for this one destination bucket, through S3 in its region.
pub fn organization_key_statement(org: &str, region: &str, bucket_arn: &str, sid: &str) -> Value {
    let partition = bucket_arn.split(':').nth(1).unwrap_or("aws");
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": { "AWS": "*" },
        "Action": DESTINATION_KEY_ACTIONS,
        "Resource": "*",
        "Condition": {
            "StringEquals": { "kms:ViaService": via_s3(region), "aws:PrincipalOrgID": org },
            "ArnLike": { "aws:PrincipalArn": super::names::role_arn_pattern(partition) },
            "StringLike": { "kms:EncryptionContext:aws:s3:arn": s3_contexts(bucket_arn) }
        }
    })
}
