//! The links a bucket policy or a key policy decides (with the role's own policies): which
//! requests each one probes, and what a fix would grant. [`Checker::policy_link`] runs them.

use serde_json::{json, Value};

use super::checker::{via_s3, Checker};
use super::encryption::key_region;
use super::policy_link::{Holder, Probe, Target};
use super::{DestinationBucket, Finding, Key};
use crate::doctor::decide::Document;
use crate::doctor::eval;
use crate::plan::policy::REPLICA_KEY_CONDITION;

/// The object ARNs a statement to add should name for a rule with `prefix`: what the provider
/// itself grants ([`crate::plan::scope`]).
fn prefix_grant(bucket_arn: &str, prefix: Option<&str>) -> String {
    crate::plan::scope::objects(bucket_arn, [prefix]).remove(0)
}

/// The condition a KMS grant for replication carries: only through S3 in the bucket's region,
/// only for that bucket's objects (or the bucket, with S3 Bucket Keys).
fn kms_condition(region: &str, bucket_arn: &str) -> Value {
    json!({
        "StringEquals": {"kms:ViaService": via_s3(region)},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, format!("{bucket_arn}/*")]}
    })
}

impl Checker<'_> {
    pub(super) fn source_read(&self) -> Finding {
        let src = &self.s.source;
        let bucket_arn = self.bucket_arn(&src.bucket);
        let mut probes = Vec::new();
        for action in ["s3:GetReplicationConfiguration", "s3:ListBucket"] {
            probes.push(Probe {
                action,
                resource: bucket_arn.clone(),
                context: self.role_context(&src.region),
                grant: bucket_arn.clone(),
                condition: None,
            });
        }
        let mut object_actions = vec![
            "s3:GetObjectVersionForReplication",
            "s3:GetObjectVersionAcl",
            "s3:GetObjectVersionTagging",
        ];
        if src.object_lock {
            // Object Lock retention and legal holds are replicated, and read with these.
            object_actions.extend(["s3:GetObjectRetention", "s3:GetObjectLegalHold"]);
        }
        for prefix in self.prefixes() {
            for &action in &object_actions {
                probes.push(Probe {
                    action,
                    resource: self.object_arn(&src.bucket, prefix.as_deref()),
                    context: self.role_context(&src.region),
                    grant: prefix_grant(&bucket_arn, prefix.as_deref()),
                    condition: None,
                });
            }
        }
        let name = format!("bucket policy of {}", src.bucket);
        let policy = src.bucket_policy.as_ref().map(|p| Document::new(&name, p));
        self.policy_link(
            "source.read",
            "read source object versions and the replication configuration",
            &probes,
            Target::S3(policy),
            Holder {
                account: &src.account,
                region: &src.region,
                resource: &bucket_arn,
                policy: "bucket policy",
            },
        )
    }

    pub(super) fn source_key_decrypt(&self, key: &Key) -> Finding {
        let src = &self.s.source;
        let bucket_arn = self.bucket_arn(&src.bucket);
        let mut contexts: Vec<String> = self
            .prefixes()
            .iter()
            .map(|p| self.object_arn(&src.bucket, p.as_deref()))
            .collect();
        if src.bucket_key {
            contexts.push(bucket_arn.clone());
        }
        let condition = kms_condition(&src.region, &bucket_arn);
        let probes: Vec<Probe> = contexts
            .iter()
            .map(|c| Probe {
                action: "kms:Decrypt",
                resource: key.arn.clone(),
                context: self.kms_context(&src.region, c),
                grant: key.arn.clone(),
                condition: Some(condition.clone()),
            })
            .collect();
        self.key_link(
            "source.key.decrypt",
            "decrypt source objects through S3",
            &probes,
            key,
        )
    }

    pub(super) fn replicate(&self, link: &str, d: &DestinationBucket) -> Finding {
        let (what, actions): (&str, &[&'static str]) = if d.delete_markers {
            (
                "replicate objects, delete markers and tags",
                &[
                    "s3:ReplicateObject",
                    "s3:ReplicateDelete",
                    "s3:ReplicateTags",
                ],
            )
        } else {
            (
                "replicate objects and tags",
                &["s3:ReplicateObject", "s3:ReplicateTags"],
            )
        };
        self.destination_s3_link(&format!("{link}.replicate"), what, d, actions)
    }

    pub(super) fn owner_override(&self, link: &str, d: &DestinationBucket) -> Finding {
        self.destination_s3_link(
            &format!("{link}.owner-override"),
            "hand replica ownership to the destination account",
            d,
            &["s3:ObjectOwnerOverrideToBucketOwner"],
        )
    }

    fn destination_s3_link(
        &self,
        link: &str,
        what: &str,
        d: &DestinationBucket,
        actions: &[&'static str],
    ) -> Finding {
        let bucket_arn = self.bucket_arn(&d.bucket);
        // A replica of an SSE-KMS object is written under the rule's replica key, and
        // ReplicateObject carries that key's ARN as s3:x-amz-server-side-encryption-aws-kms-key-id
        // (the provider's statements pin it); no other write names a key.
        let replica_key = d
            .sse_kms
            .then(|| {
                d.key
                    .as_ref()
                    .map(|k| k.arn.clone())
                    .or_else(|| d.key_id.clone())
            })
            .flatten();
        let probes: Vec<Probe> = actions
            .iter()
            .map(|&action| {
                let context = self.role_context(&d.region);
                let context = match (&replica_key, action) {
                    (Some(key), "s3:ReplicateObject") => {
                        context.with(REPLICA_KEY_CONDITION, key.as_str())
                    }
                    _ => context.without(REPLICA_KEY_CONDITION),
                };
                Probe {
                    action,
                    resource: self.object_arn(&d.bucket, d.prefix.as_deref()),
                    context,
                    grant: prefix_grant(&bucket_arn, d.prefix.as_deref()),
                    condition: None,
                }
            })
            .collect();
        let name = format!("bucket policy of {}", d.bucket);
        let policy = d.bucket_policy.as_ref().map(|p| Document::new(&name, p));
        self.policy_link(
            link,
            what,
            &probes,
            Target::S3(policy),
            Holder {
                account: &d.account,
                region: &d.region,
                resource: &bucket_arn,
                policy: "bucket policy",
            },
        )
    }

    pub(super) fn destination_key_encrypt(
        &self,
        link: &str,
        d: &DestinationBucket,
        key: &Key,
    ) -> Finding {
        let bucket_arn = self.bucket_arn(&d.bucket);
        let mut contexts = vec![self.object_arn(&d.bucket, d.prefix.as_deref())];
        if d.bucket_key {
            contexts.push(bucket_arn.clone());
        }
        let condition = kms_condition(&d.region, &bucket_arn);
        let mut probes = Vec::new();
        for c in &contexts {
            for action in ["kms:Encrypt", "kms:GenerateDataKey"] {
                probes.push(Probe {
                    action,
                    resource: key.arn.clone(),
                    context: self.kms_context(&d.region, c),
                    grant: key.arn.clone(),
                    condition: Some(condition.clone()),
                });
            }
        }
        self.key_link(
            &format!("{link}.key.encrypt"),
            "encrypt replicas through S3",
            &probes,
            key,
        )
    }

    /// A link decided by a key policy (and the role's policy, as KMS combines them).
    fn key_link(&self, link: &str, what: &str, probes: &[Probe], key: &Key) -> Finding {
        let name = format!("key policy of {}", key.arn);
        let key_account = eval::arn_account(&key.arn).unwrap_or_default();
        self.policy_link(
            link,
            what,
            probes,
            Target::Kms(Document::new(&name, &key.policy)),
            Holder {
                account: key_account,
                region: &key_region(key),
                resource: &key.arn,
                policy: "key policy",
            },
        )
    }
}
