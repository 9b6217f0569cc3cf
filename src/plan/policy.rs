//! Every policy document this provider writes, each built in exactly one function so the origin
//! of any grant is found in one place. Pure: no AWS calls.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{scope, BucketScope, DestinationPlan, Resolved};

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
/// What every rule needs in its destination: write object versions and their tags.
pub const REPLICATE_ACTIONS: [&str; 2] = ["s3:ReplicateObject", "s3:ReplicateTags"];
/// Only for rules that replicate delete markers.
pub const REPLICATE_DELETE_ACTION: &str = "s3:ReplicateDelete";
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

/// Sid of the statement by which a key the provider creates lets the provider manage it.
pub const KEY_MANAGER_SID: &str = "S3ReplicationProviderManagesThisKey";

/// What the provider does to a key it created, granted by that key's own policy (so no IAM
/// policy of the account grants it on keys in general): read and edit its policy, rotation,
/// tags, its alias, and (when the account's IAM does not deny it) schedule its deletion.
pub const KEY_MANAGER_ACTIONS: [&str; 10] = [
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:ScheduleKeyDeletion",
];

/// The policy a key the provider creates starts with: KMS's default statement (the account's
/// IAM policies govern the key, so its administrators keep control), and one naming the
/// principal that created it (`manager`: the destination role, or the function's role or
/// `SourceRoleArn` in the source account) for what the provider does to its own keys. The
/// replication grants are added to it afterwards, by the usual policy edit.
pub fn created_key_policy(partition: &str, account: &str, manager: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:{partition}:iam::{account}:root") },
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": KEY_MANAGER_SID,
                "Effect": "Allow",
                "Principal": { "AWS": manager },
                "Action": KEY_MANAGER_ACTIONS,
                "Resource": "*"
            }
        ]
    })
}

/// Sid of the statement a bucket the provider creates starts its policy with.
pub const DENY_INSECURE_TRANSPORT_SID: &str = "DenyInsecureTransport";

/// The first policy of a bucket this provider creates: every request without TLS is denied
/// (AWS's recommended `aws:SecureTransport` statement), before any grant is added.
pub fn new_bucket_policy(bucket_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": DENY_INSECURE_TRANSPORT_SID,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, format!("{bucket_arn}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
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

/// The replication role's inline policy: exactly what replication exercises, on exact ARNs,
/// for the objects the rules cover (their prefixes), `s3:ReplicateDelete` only where delete
/// markers are replicated.
pub fn role_policy(r: &Resolved, source_key: Option<&str>, dests: &[DestinationPlan]) -> Value {
    let src = r.source_bucket_arn();
    let source_objects = scope::objects(&src, dests.iter().map(|d| d.prefix.as_deref()));
    let mut statements = vec![
        json!({"Sid": "ReadSourceBucket", "Effect": "Allow", "Action": SOURCE_BUCKET_ACTIONS, "Resource": src}),
        json!({"Sid": "ReadSourceObjectVersions", "Effect": "Allow", "Action": SOURCE_OBJECT_ACTIONS, "Resource": source_objects}),
    ];
    let objects = |pred: &dyn Fn(&DestinationPlan) -> bool| -> Vec<String> {
        let mut v: Vec<String> = dests
            .iter()
            .filter(|d| pred(d))
            .flat_map(DestinationPlan::objects)
            .collect();
        v.sort();
        v.dedup();
        v
    };
    statements.push(json!({"Sid": "ReplicateIntoDestinations", "Effect": "Allow", "Action": REPLICATE_ACTIONS, "Resource": objects(&|_| true)}));
    let deletes = objects(&|d| d.delete_markers);
    if !deletes.is_empty() {
        statements.push(json!({"Sid": "ReplicateDeleteMarkers", "Effect": "Allow", "Action": REPLICATE_DELETE_ACTION, "Resource": deletes}));
    }
    let overridden = objects(&|d| d.owner_override);
    if !overridden.is_empty() {
        statements.push(json!({"Sid": "OverrideReplicaOwner", "Effect": "Allow", "Action": OWNER_OVERRIDE_ACTION, "Resource": overridden}));
    }
    if let Some(key) = source_key {
        statements.push(json!({
            "Sid": "DecryptSourceObjects", "Effect": "Allow", "Action": SOURCE_KEY_ACTIONS,
            "Resource": key,
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

/// What replicating into a bucket needs there: write versions and tags; delete markers only
/// when a rule replicates them; ownership only when a rule overrides it.
fn replicate_actions(scope: &BucketScope<'_>) -> Vec<&'static str> {
    let mut actions: Vec<&str> = REPLICATE_ACTIONS.to_vec();
    if scope.delete_markers {
        actions.push(REPLICATE_DELETE_ACTION);
    }
    if scope.owner_override {
        actions.push(OWNER_OVERRIDE_ACTION);
    }
    actions
}

/// The condition key of `s3:ReplicateObject` naming the KMS key a replica is written under
/// (Service Authorization Reference, Amazon S3: "s3:x-amz-server-side-encryption-aws-kms-key-id
/// — Filters access by AWS KMS customer managed CMK for server-side encryption", type ARN,
/// listed for ReplicateObject).
pub const REPLICA_KEY_CONDITION: &str = "s3:x-amz-server-side-encryption-aws-kms-key-id";

/// Pins the replica key: a replica written under a KMS key may use only the rules' replica keys
/// (so a source cannot write replicas under a key of its own that it could later disable).
/// `IfExists`: a replica of an object without KMS (SSE-S3) carries no key id, and IAM evaluates
/// an `…IfExists` condition on an absent key as true (IAM User Guide, "…IfExists condition
/// operators").
fn replica_key_condition(scope: &BucketScope<'_>) -> Option<Value> {
    (!scope.keys.is_empty()).then(
        || json!({ "StringEqualsIfExists": { REPLICA_KEY_CONDITION: one_or_many(&scope.keys) } }),
    )
}

/// The statement on a destination bucket's policy letting the replication role replicate into
/// it; one per (source, destination bucket), covering the objects its rules reach, replicas
/// under the rules' replica keys only.
pub fn destination_bucket_statement(r: &Resolved, scope: &BucketScope<'_>) -> Value {
    let mut statement = json!({
        "Sid": r.sid(),
        "Effect": "Allow",
        "Principal": { "AWS": r.role_arn.as_str() },
        "Action": replicate_actions(scope),
        "Resource": one_or_many(&scope.objects)
    });
    if let Some(condition) = replica_key_condition(scope) {
        statement["Condition"] = condition;
    }
    statement
}

/// A single resource as a string (as people write it), several as a list.
fn one_or_many(items: &[String]) -> Value {
    match items {
        [one] => json!(one),
        many => json!(many),
    }
}

/// The statement on a destination key's policy letting the replication role encrypt replicas
/// for the destination buckets that use this key.
pub fn destination_key_statement(r: &Resolved, region: &str, bucket_arns: &[&str]) -> Value {
    let mut contexts: Vec<String> = bucket_arns.iter().flat_map(|b| s3_contexts(b)).collect();
    contexts.sort();
    contexts.dedup();
    json!({
        "Sid": r.sid(),
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
        "Sid": r.sid(),
        "Effect": "Allow",
        "Principal": { "AWS": r.role_arn.as_str() },
        "Action": SOURCE_KEY_ACTIONS,
        "Resource": "*",
        "Condition": kms_conditions(r.source_region.as_str(), s3_contexts(&r.source_bucket_arn()))
    })
}

/// The identity of the organization statement for `scope`: one per organization and scope
/// (actions and objects), so every source of the organization with that scope writes the same
/// statement and none rewrites another's, and another organization's statement never shares
/// its Sid.
pub fn organization_bucket_id(
    r: &Resolved,
    org: &str,
    scope: &BucketScope<'_>,
) -> super::StatementId {
    let actions = replicate_actions(scope);
    let legacy_scope = format!("{actions:?}{:?}", scope.objects);
    let scope_text = format!("{legacy_scope}{:?}", scope.keys);
    super::StatementId {
        sid: super::names::organization_bucket_sid(&r.partition, org, &scope_text),
        legacy: vec![super::names::legacy_organization_bucket_sid(&legacy_scope)],
        claim: super::Claim::Organization(org.to_owned()),
    }
}

/// Organization mode, bucket policy: every replication role this provider creates in the
/// organization may replicate into the objects this scope covers, with the actions it needs.
/// Identical for every source with the same scope (see [`organization_bucket_id`]).
pub fn organization_bucket_statement(
    r: &Resolved,
    org: &str,
    scope: &BucketScope<'_>,
    sid: &str,
) -> Value {
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": { "AWS": "*" },
        "Action": replicate_actions(scope),
        "Resource": one_or_many(&scope.objects),
        "Condition": {
            "StringEquals": { "aws:PrincipalOrgID": org },
            "ArnLike": { "aws:PrincipalArn": super::names::role_arn_pattern(&r.partition) }
        }
    });
    if let Some(Value::Object(pin)) = replica_key_condition(scope) {
        for (op, keys) in pin {
            statement["Condition"][op] = keys;
        }
    }
    statement
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
