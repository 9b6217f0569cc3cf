//! The S3 calls the provider makes.

use aws_sdk_s3::types::{
    AccessControlTranslation, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination,
    EncryptionConfiguration, Metrics, MetricsStatus, ObjectOwnership, OwnerOverride,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ReplicaModifications,
    ReplicaModificationsStatus, ReplicationConfiguration, ReplicationRule,
    ReplicationRuleAndOperator, ReplicationRuleFilter, ReplicationRuleStatus, ReplicationTime,
    ReplicationTimeStatus, ReplicationTimeValue, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    SourceSelectionCriteria, SseKmsEncryptedObjects, SseKmsEncryptedObjectsStatus, StorageClass,
    Tag, VersioningConfiguration,
};

use serde_json::Value;

use super::account::{construction, op, optional};
use super::{Account, AwsError, ErrorKind, Op};

const GET_LOCATION: Op = op("s3", "GetBucketLocation", "s3:GetBucketLocation", false);
const GET_VERSIONING: Op = op("s3", "GetBucketVersioning", "s3:GetBucketVersioning", false);
const PUT_VERSIONING: Op = op("s3", "PutBucketVersioning", "s3:PutBucketVersioning", true);
const GET_POLICY: Op = op("s3", "GetBucketPolicy", "s3:GetBucketPolicy", false);
const PUT_POLICY: Op = op("s3", "PutBucketPolicy", "s3:PutBucketPolicy", true);
const DELETE_POLICY: Op = op("s3", "DeleteBucketPolicy", "s3:DeleteBucketPolicy", true);
const GET_TAGGING: Op = op("s3", "GetBucketTagging", "s3:GetBucketTagging", false);
const GET_REPLICATION: Op = op(
    "s3",
    "GetBucketReplication",
    "s3:GetReplicationConfiguration",
    false,
);
const PUT_REPLICATION: Op = op(
    "s3",
    "PutBucketReplication",
    "s3:PutReplicationConfiguration and iam:PassRole",
    true,
);
const DELETE_REPLICATION: Op = op(
    "s3",
    "DeleteBucketReplication",
    "s3:PutReplicationConfiguration",
    true,
);
const GET_ENCRYPTION: Op = op(
    "s3",
    "GetBucketEncryption",
    "s3:GetEncryptionConfiguration",
    false,
);
const PUT_ENCRYPTION: Op = op(
    "s3",
    "PutBucketEncryption",
    "s3:PutEncryptionConfiguration",
    true,
);
const GET_REQUEST_PAYMENT: Op = op(
    "s3",
    "GetBucketRequestPayment",
    "s3:GetBucketRequestPayment",
    false,
);
const GET_OBJECT_LOCK: Op = op(
    "s3",
    "GetObjectLockConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    false,
);
const CREATE_BUCKET: Op = op("s3", "CreateBucket", "s3:CreateBucket", true);
const PUT_PUBLIC_ACCESS_BLOCK: Op = op(
    "s3",
    "PutPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    true,
);
const PUT_OWNERSHIP: Op = op(
    "s3",
    "PutBucketOwnershipControls",
    "s3:PutBucketOwnershipControls",
    true,
);

/// The parts of a live replication configuration that S3 (and every emulator) reads back
/// faithfully: enough to tell whose it is and which rules it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveReplication {
    pub role: String,
    pub rules: Vec<LiveRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRule {
    pub id: String,
    pub priority: Option<i32>,
    pub enabled: bool,
    pub destination_bucket: String,
    /// What the doctor needs (not compared for convergence: emulators read these back lossily).
    pub destination_account: Option<String>,
    pub replica_kms_key: Option<String>,
    pub owner_override: bool,
    pub sse_kms: bool,
    pub prefix: Option<String>,
    /// `DeleteMarkerReplication.Status = Enabled`.
    pub delete_markers: bool,
    /// `Destination.Metrics.Status = Enabled`.
    pub metrics: bool,
}

impl LiveRule {
    /// The destination bucket's name (the configuration holds its ARN).
    pub fn bucket_name(&self) -> &str {
        self.destination_bucket
            .rsplit(':')
            .next()
            .unwrap_or_default()
    }
}

/// A bucket's default encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultEncryption {
    pub algorithm: SseAlgorithm,
    pub kms_key: Option<String>,
    pub bucket_key: bool,
}

impl DefaultEncryption {
    /// Whether this is SSE-KMS with exactly `key`.
    pub fn is_kms_with(&self, key: &str) -> bool {
        self.algorithm == SseAlgorithm::Kms && self.kms_key.as_deref() == Some(key)
    }
}

/// A bucket's default server-side encryption algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseAlgorithm {
    /// `AES256`: SSE-S3.
    Aes256,
    /// `aws:kms`: SSE-KMS, what this provider sets.
    Kms,
    /// `aws:kms:dsse`: dual-layer SSE-KMS.
    KmsDsse,
    Other(String),
}

impl SseAlgorithm {
    pub fn parse(s: &str) -> Self {
        match s {
            "AES256" => Self::Aes256,
            "aws:kms" => Self::Kms,
            "aws:kms:dsse" => Self::KmsDsse,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Aes256 => "AES256",
            Self::Kms => "aws:kms",
            Self::KmsDsse => "aws:kms:dsse",
            Self::Other(s) => s,
        }
    }

    /// Whether objects are encrypted with a KMS key (single- or dual-layer).
    pub fn is_kms(&self) -> bool {
        matches!(self, Self::Kms | Self::KmsDsse)
    }
}

/// A bucket's versioning, as `GetBucketVersioning` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersioningStatus {
    Enabled,
    Suspended,
    /// Never enabled (S3 reports no status).
    Disabled,
}

impl VersioningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Suspended => "Suspended",
            Self::Disabled => "Disabled",
        }
    }
}

fn arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

impl Account {
    /// The region a bucket is in, or `None` if it does not exist.
    pub async fn bucket_region(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        let out = optional(
            self.call(
                GET_LOCATION,
                &arn(bucket),
                self.s3.get_bucket_location().bucket(bucket).send(),
            )
            .await,
        )?;
        Ok(out.map(|o| match o.location_constraint() {
            None => "us-east-1".to_owned(),
            Some(BucketLocationConstraint::Eu) => "eu-west-1".to_owned(),
            Some(c) if c.as_str().is_empty() => "us-east-1".to_owned(),
            Some(c) => c.as_str().to_owned(),
        }))
    }

    /// `Enabled`, `Suspended`, or `Disabled` (never enabled).
    pub async fn versioning_status(&self, bucket: &str) -> Result<VersioningStatus, AwsError> {
        let req = self.s3.get_bucket_versioning().bucket(bucket);
        let out = self.call(GET_VERSIONING, &arn(bucket), req.send()).await?;
        Ok(match out.status() {
            Some(BucketVersioningStatus::Enabled) => VersioningStatus::Enabled,
            Some(BucketVersioningStatus::Suspended) => VersioningStatus::Suspended,
            _ => VersioningStatus::Disabled,
        })
    }

    /// Whether requesters pay for the bucket (replication does not work then).
    pub async fn requester_pays(&self, bucket: &str) -> Result<bool, AwsError> {
        let req = self.s3.get_bucket_request_payment().bucket(bucket);
        let out = self
            .call(GET_REQUEST_PAYMENT, &arn(bucket), req.send())
            .await?;
        Ok(out.payer().is_some_and(|p| p.as_str() == "Requester"))
    }

    /// Whether S3 Object Lock is enabled on the bucket.
    pub async fn object_lock(&self, bucket: &str) -> Result<bool, AwsError> {
        let req = self.s3.get_object_lock_configuration().bucket(bucket);
        match self.call(GET_OBJECT_LOCK, &arn(bucket), req.send()).await {
            Ok(out) => Ok(out
                .object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                .is_some_and(|e| e.as_str() == "Enabled")),
            Err(e)
                if e.kind == ErrorKind::NotFound
                    || e.is(super::Code::ObjectLockConfigurationNotFound) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    pub async fn versioning_enabled(&self, bucket: &str) -> Result<bool, AwsError> {
        let out = self
            .call(
                GET_VERSIONING,
                &arn(bucket),
                self.s3.get_bucket_versioning().bucket(bucket).send(),
            )
            .await?;
        Ok(out.status() == Some(&BucketVersioningStatus::Enabled))
    }

    pub async fn enable_versioning(&self, bucket: &str) -> Result<(), AwsError> {
        let config = VersioningConfiguration::builder()
            .status(BucketVersioningStatus::Enabled)
            .build();
        let req = self
            .s3
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(config);
        self.call(PUT_VERSIONING, &arn(bucket), req.send())
            .await
            .map(drop)
    }

    pub async fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        let out = optional(
            self.call(
                GET_POLICY,
                &arn(bucket),
                self.s3.get_bucket_policy().bucket(bucket).send(),
            )
            .await,
        )?;
        Ok(out.and_then(|o| o.policy).filter(|p| !p.trim().is_empty()))
    }

    /// The value of the bucket's tag `key`, if it has one.
    pub async fn bucket_tag(&self, bucket: &str, key: &str) -> Result<Option<String>, AwsError> {
        let req = self.s3.get_bucket_tagging().bucket(bucket);
        let out = optional(self.call(GET_TAGGING, &arn(bucket), req.send()).await)?;
        Ok(out.and_then(|o| {
            o.tag_set
                .into_iter()
                .find(|t| t.key == key)
                .map(|t| t.value)
        }))
    }

    pub async fn put_bucket_policy(&self, bucket: &str, policy: &str) -> Result<(), AwsError> {
        let req = self.s3.put_bucket_policy().bucket(bucket).policy(policy);
        self.call(PUT_POLICY, &arn(bucket), req.send())
            .await
            .map(drop)
    }

    pub async fn delete_bucket_policy(&self, bucket: &str) -> Result<(), AwsError> {
        optional(
            self.call(
                DELETE_POLICY,
                &arn(bucket),
                self.s3.delete_bucket_policy().bucket(bucket).send(),
            )
            .await,
        )
        .map(drop)
    }

    pub async fn replication(&self, bucket: &str) -> Result<Option<LiveReplication>, AwsError> {
        let out = optional(
            self.call(
                GET_REPLICATION,
                &arn(bucket),
                self.s3.get_bucket_replication().bucket(bucket).send(),
            )
            .await,
        )?;
        Ok(out
            .and_then(|o| o.replication_configuration)
            .map(|c| LiveReplication {
                role: c.role().to_owned(),
                rules: c
                    .rules()
                    .iter()
                    .map(|r| LiveRule {
                        id: r.id().unwrap_or_default().to_owned(),
                        priority: r.priority(),
                        enabled: r.status() == &ReplicationRuleStatus::Enabled,
                        destination_bucket: r
                            .destination()
                            .map(|d| d.bucket().to_owned())
                            .unwrap_or_default(),
                        destination_account: r
                            .destination()
                            .and_then(|d| d.account())
                            .map(str::to_owned),
                        replica_kms_key: r
                            .destination()
                            .and_then(|d| d.encryption_configuration())
                            .and_then(|e| e.replica_kms_key_id())
                            .map(str::to_owned),
                        owner_override: r
                            .destination()
                            .and_then(|d| d.access_control_translation())
                            .is_some_and(|a| a.owner() == &OwnerOverride::Destination),
                        sse_kms: r
                            .source_selection_criteria()
                            .and_then(|c| c.sse_kms_encrypted_objects())
                            .is_some_and(|s| s.status() == &SseKmsEncryptedObjectsStatus::Enabled),
                        prefix: r
                            .filter()
                            .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned),
                        // A V1 rule (no Filter) replicates delete markers; a V2 rule when its
                        // DeleteMarkerReplication is Enabled.
                        delete_markers: match r.delete_marker_replication() {
                            Some(d) => d.status() == Some(&DeleteMarkerReplicationStatus::Enabled),
                            None => r.filter().is_none(),
                        },
                        metrics: r
                            .destination()
                            .and_then(|d| d.metrics())
                            .is_some_and(|m| m.status() == &MetricsStatus::Enabled),
                    })
                    .collect(),
            }))
    }

    /// Writes `config`, a replication configuration in S3's JSON shape.
    pub async fn put_replication(&self, bucket: &str, config: &Value) -> Result<(), AwsError> {
        let sdk =
            to_sdk(config).map_err(|e| construction(PUT_REPLICATION, self, &arn(bucket), e))?;
        let req = self
            .s3
            .put_bucket_replication()
            .bucket(bucket)
            .replication_configuration(sdk);
        self.call(PUT_REPLICATION, &arn(bucket), req.send())
            .await
            .map(drop)
    }

    pub async fn delete_replication(&self, bucket: &str) -> Result<(), AwsError> {
        let req = self.s3.delete_bucket_replication().bucket(bucket);
        optional(
            self.call(DELETE_REPLICATION, &arn(bucket), req.send())
                .await,
        )
        .map(drop)
    }

    pub async fn default_encryption(
        &self,
        bucket: &str,
    ) -> Result<Option<DefaultEncryption>, AwsError> {
        let out = optional(
            self.call(
                GET_ENCRYPTION,
                &arn(bucket),
                self.s3.get_bucket_encryption().bucket(bucket).send(),
            )
            .await,
        )?;
        let rule = out
            .and_then(|o| o.server_side_encryption_configuration)
            .and_then(|c| c.rules.into_iter().next());
        let bucket_key = rule
            .as_ref()
            .and_then(|r| r.bucket_key_enabled())
            .unwrap_or(false);
        Ok(rule
            .and_then(|r| r.apply_server_side_encryption_by_default)
            .map(|d| DefaultEncryption {
                algorithm: SseAlgorithm::parse(d.sse_algorithm().as_str()),
                kms_key: d.kms_master_key_id().map(str::to_owned),
                bucket_key,
            }))
    }

    /// Sets SSE-KMS with `key_arn` (and S3 Bucket Keys) as the bucket's default encryption.
    pub async fn put_default_kms_encryption(
        &self,
        bucket: &str,
        key_arn: &str,
    ) -> Result<(), AwsError> {
        self.put_default_encryption(bucket, Some(key_arn)).await
    }

    /// Sets SSE-S3 as the bucket's default encryption (used only to undo our own SSE-KMS default
    /// before the key it named is deleted).
    pub async fn put_default_sse_s3(&self, bucket: &str) -> Result<(), AwsError> {
        self.put_default_encryption(bucket, None).await
    }

    /// SSE-KMS with `key_arn` and Bucket Keys, or SSE-S3 when there is no key.
    async fn put_default_encryption(
        &self,
        bucket: &str,
        key_arn: Option<&str>,
    ) -> Result<(), AwsError> {
        let build =
            || -> Result<ServerSideEncryptionConfiguration, aws_sdk_s3::error::BuildError> {
                let algorithm = if key_arn.is_some() {
                    ServerSideEncryption::AwsKms
                } else {
                    ServerSideEncryption::Aes256
                };
                let default = ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(algorithm)
                    .set_kms_master_key_id(key_arn.map(str::to_owned))
                    .build()?;
                let rule = ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .set_bucket_key_enabled(key_arn.map(|_| true))
                    .build();
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
            };
        let config = build().map_err(|e| construction(PUT_ENCRYPTION, self, &arn(bucket), e))?;
        let req = self
            .s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(config);
        self.call(PUT_ENCRYPTION, &arn(bucket), req.send())
            .await
            .map(drop)
    }

    /// Creates a bucket in this account's region; one this account already owns is success.
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), AwsError> {
        let mut req = self.s3.create_bucket().bucket(bucket);
        if self.region.as_str() != "us-east-1" {
            let constraint = BucketLocationConstraint::from(self.region.as_str());
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(constraint)
                    .build(),
            );
        }
        match self.call(CREATE_BUCKET, &arn(bucket), req.send()).await {
            Err(e) if e.is(super::Code::BucketAlreadyOwnedByYou) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn block_public_access(&self, bucket: &str) -> Result<(), AwsError> {
        let config = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        let req = self
            .s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(config);
        self.call(PUT_PUBLIC_ACCESS_BLOCK, &arn(bucket), req.send())
            .await
            .map(drop)
    }

    pub async fn enforce_bucket_owner(&self, bucket: &str) -> Result<(), AwsError> {
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
            .build()
            .map_err(|e| construction(PUT_OWNERSHIP, self, &arn(bucket), e))?;
        let controls = OwnershipControls::builder()
            .rules(rule)
            .build()
            .map_err(|e| construction(PUT_OWNERSHIP, self, &arn(bucket), e))?;
        let req = self
            .s3
            .put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(controls);
        self.call(PUT_OWNERSHIP, &arn(bucket), req.send())
            .await
            .map(drop)
    }
}

/// A replication configuration in S3's JSON shape (what `plan` prints) → the SDK's request.
/// The one document `plan` prints is the one sent: the elements the provider writes are read
/// from it (a missing required one is an error).
fn to_sdk(v: &Value) -> Result<ReplicationConfiguration, String> {
    let rules = v["Rules"]
        .as_array()
        .ok_or("no Rules")?
        .iter()
        .map(rule_to_sdk)
        .collect::<Result<Vec<_>, _>>()?;
    ReplicationConfiguration::builder()
        .role(text(&v["Role"], "Role")?)
        .set_rules(Some(rules))
        .build()
        .map_err(|e| e.to_string())
}

fn text<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{what} is not a string: {v}"))
}

/// `{"Status": "Enabled"}` → true; absent or `Disabled` → false.
fn enabled(v: &Value) -> bool {
    v["Status"] == "Enabled"
}

fn rule_to_sdk(r: &Value) -> Result<ReplicationRule, String> {
    let d = &r["Destination"];
    let mut dest = Destination::builder()
        .bucket(text(&d["Bucket"], "Destination.Bucket")?)
        .set_account(d["Account"].as_str().map(str::to_owned))
        .storage_class(StorageClass::from(text(
            &d["StorageClass"],
            "Destination.StorageClass",
        )?));
    if d["AccessControlTranslation"]["Owner"] == "Destination" {
        dest = dest.access_control_translation(
            AccessControlTranslation::builder()
                .owner(OwnerOverride::Destination)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    if let Some(key) = d["EncryptionConfiguration"]["ReplicaKmsKeyID"].as_str() {
        dest = dest.encryption_configuration(
            EncryptionConfiguration::builder()
                .replica_kms_key_id(key)
                .build(),
        );
    }
    let minutes = |v: &Value| {
        v["Minutes"]
            .as_i64()
            .map(|m| ReplicationTimeValue::builder().minutes(m as i32).build())
    };
    if enabled(&d["ReplicationTime"]) {
        dest = dest.replication_time(
            ReplicationTime::builder()
                .status(ReplicationTimeStatus::Enabled)
                .set_time(minutes(&d["ReplicationTime"]["Time"]))
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    if enabled(&d["Metrics"]) {
        let m = Metrics::builder()
            .status(MetricsStatus::Enabled)
            .set_event_threshold(minutes(&d["Metrics"]["EventThreshold"]));
        dest = dest.metrics(m.build().map_err(|e| e.to_string())?);
    }
    let c = &r["SourceSelectionCriteria"];
    let criteria = (!c.is_null()).then(|| {
        let mut b = SourceSelectionCriteria::builder();
        if enabled(&c["SseKmsEncryptedObjects"]) {
            b = b.sse_kms_encrypted_objects(
                SseKmsEncryptedObjects::builder()
                    .status(SseKmsEncryptedObjectsStatus::Enabled)
                    .build()
                    .expect("status is set"),
            );
        }
        if enabled(&c["ReplicaModifications"]) {
            b = b.replica_modifications(
                ReplicaModifications::builder()
                    .status(ReplicaModificationsStatus::Enabled)
                    .build()
                    .expect("status is set"),
            );
        }
        b.build()
    });
    let dmr = if enabled(&r["DeleteMarkerReplication"]) {
        DeleteMarkerReplicationStatus::Enabled
    } else {
        DeleteMarkerReplicationStatus::Disabled
    };
    let priority = r["Priority"].as_i64().ok_or("Priority is not a number")?;
    ReplicationRule::builder()
        .id(text(&r["ID"], "ID")?)
        .priority(priority as i32)
        .status(ReplicationRuleStatus::Enabled)
        .filter(filter_to_sdk(&r["Filter"])?)
        .delete_marker_replication(DeleteMarkerReplication::builder().status(dmr).build())
        .set_source_selection_criteria(criteria)
        .destination(dest.build().map_err(|e| e.to_string())?)
        .build()
        .map_err(|e| e.to_string())
}

fn filter_to_sdk(f: &Value) -> Result<ReplicationRuleFilter, String> {
    let tag = |t: &Value| {
        Tag::builder()
            .key(text(&t["Key"], "Tag.Key")?)
            .value(text(&t["Value"], "Tag.Value")?)
            .build()
            .map_err(|e| e.to_string())
    };
    if let Some(p) = f["Prefix"].as_str() {
        return Ok(ReplicationRuleFilter::builder().prefix(p).build());
    }
    if !f["Tag"].is_null() {
        return Ok(ReplicationRuleFilter::builder()
            .tag(tag(&f["Tag"])?)
            .build());
    }
    let and = &f["And"];
    let tags = and["Tags"]
        .as_array()
        .ok_or_else(|| format!("a Filter without Prefix, Tag or And.Tags: {f}"))?
        .iter()
        .map(tag)
        .collect::<Result<Vec<_>, _>>()?;
    let and = ReplicationRuleAndOperator::builder()
        .set_prefix(and["Prefix"].as_str().map(str::to_owned))
        .set_tags(Some(tags))
        .build();
    Ok(ReplicationRuleFilter::builder().and(and).build())
}
