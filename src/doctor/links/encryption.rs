//! The SSE-KMS links no policy decides: the rule selects SSE-KMS objects and names a replica
//! key; each key the configuration names exists, is enabled, symmetric and in its bucket's
//! region.

use serde_json::{json, Value};

use super::checker::Checker;
use super::{DestinationBucket, Finding, Key, Status};
use crate::doctor::eval::{self, arn_region};

impl Checker<'_> {
    /// SSE-KMS source objects replicate only when the rule selects them and names a replica key.
    pub(super) fn encryption_selection(&self, link: &str, d: &DestinationBucket) -> Finding {
        let src = &self.s.source;
        let mut f = Finding {
            link: format!("{link}.sse-kms"),
            status: Status::Pass,
            detail: String::new(),
            account: src.account.clone(),
            region: src.region.clone(),
            resource: self.bucket_arn(&src.bucket),
            fix: None,
            advisory: None,
        };
        let mut problems = Vec::new();
        if let (Some(key), false) = (&src.key, d.sse_kms) {
            problems.push(format!(
                "source objects are SSE-KMS encrypted with {}, but the rule for {} does not select SSE-KMS objects (SourceSelectionCriteria.SseKmsEncryptedObjects), so S3 does not replicate them",
                key.arn, d.bucket
            ));
        }
        if d.key.is_none() {
            problems.push(format!(
                "the rule for {} names no replica key (EncryptionConfiguration.ReplicaKmsKeyID), which S3 requires to replicate SSE-KMS objects",
                d.bucket
            ));
        }
        if problems.is_empty() {
            f.detail = format!(
                "the rule for {} selects SSE-KMS objects and names a replica key",
                d.bucket
            );
        } else {
            f.status = Status::Fail;
            f.detail = problems.join("; ");
            let mut rule = json!({"SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}}});
            rule["Destination"] = json!({
                "Bucket": self.bucket_arn(&d.bucket),
                "EncryptionConfiguration": {"ReplicaKmsKeyID": d.key.as_ref().map_or_else(
                    || format!("arn:{}:kms:{}:{}:key/<symmetric key in {}>", self.s.partition, d.region, d.account, d.region),
                    |k| k.arn.clone())}
            });
            f.fix = Some(json!([{
                "account": src.account, "region": src.region, "resource": f.resource,
                "call": "s3:PutBucketReplication", "rule": rule
            }]));
        }
        f
    }
}

pub(super) fn key_region(key: &Key) -> String {
    if key.region.is_empty() {
        arn_region(&key.arn).unwrap_or_default().to_owned()
    } else {
        key.region.clone()
    }
}

/// S3 replicates SSE-KMS objects only with an enabled symmetric encryption key in the
/// destination bucket's region ("Replicating objects created with server-side encryption (SSE-C,
/// SSE-S3, SSE-KMS, DSSE-KMS)"; asymmetric keys cannot encrypt S3 objects; a multi-Region or
/// other-Region key is refused).
pub(super) fn key_usable(link: &str, key: &Key, bucket_region: &str, bucket: &str) -> Finding {
    let account = eval::arn_account(&key.arn).unwrap_or_default().to_owned();
    let region = key_region(key);
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    match key.state.as_str() {
        "Enabled" => {}
        "Disabled" => {
            problems.push("the key is Disabled".to_owned());
            fixes.push(json!({"account": account, "region": region, "resource": key.arn, "call": "kms:EnableKey", "request": {"KeyId": key.arn}}));
        }
        "PendingDeletion" => {
            problems.push("the key is PendingDeletion".to_owned());
            fixes.push(json!({"account": account, "region": region, "resource": key.arn, "call": "kms:CancelKeyDeletion", "request": {"KeyId": key.arn}}));
            fixes.push(json!({"account": account, "region": region, "resource": key.arn, "call": "kms:EnableKey", "request": {"KeyId": key.arn}}));
        }
        other => problems.push(format!("the key is {other}, not Enabled")),
    }
    let mut replace = false;
    if key.spec != "SYMMETRIC_DEFAULT" {
        problems.push(format!(
            "the key spec is {}, not SYMMETRIC_DEFAULT (S3 encrypts only with symmetric encryption keys)",
            key.spec
        ));
        replace = true;
    }
    if region != bucket_region {
        problems.push(format!(
            "the key is in {region}, but {bucket} is in {bucket_region}; S3 uses a key in the bucket's region"
        ));
        replace = true;
    }
    if replace {
        fixes.push(json!({
            "account": account, "region": bucket_region, "resource": key.arn,
            "call": "kms:CreateKey",
            "request": {"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"},
            "then": format!("use the new key for {bucket} in place of {}", key.arn)
        }));
    }
    Finding {
        link: link.to_owned(),
        status: if problems.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        detail: if problems.is_empty() {
            format!("enabled SYMMETRIC_DEFAULT key in {region}, the region of {bucket}")
        } else {
            problems.join("; ")
        },
        account: account.clone(),
        region: region.clone(),
        resource: key.arn.clone(),
        fix: (!fixes.is_empty()).then_some(Value::Array(fixes)),
        advisory: None,
    }
}

/// A key the configuration names that could not be read: nothing can be encrypted or decrypted
/// with it as far as anyone can tell, so the link fails (never passes by omission).
pub(super) fn key_missing(
    link: &str,
    id: &str,
    account: &str,
    bucket_region: &str,
    named_by: &str,
) -> Finding {
    let region = arn_region(id)
        .filter(|r| !r.is_empty())
        .unwrap_or(bucket_region);
    let account = eval::arn_account(id).unwrap_or(account);
    Finding {
        link: link.to_owned(),
        status: Status::Fail,
        detail: format!(
            "{named_by} names the key {id}, which DescribeKey does not find in account {account} ({region}): it was deleted, is in another region or account, or the reader may not describe it"
        ),
        account: account.to_owned(),
        region: region.to_owned(),
        resource: id.to_owned(),
        fix: Some(json!([{
            "account": account, "region": bucket_region, "resource": id,
            "call": "kms:DescribeKey",
            "then": format!("name an existing, enabled symmetric key in {bucket_region} in {named_by}")
        }])),
        advisory: None,
    }
}
