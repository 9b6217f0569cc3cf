//! The [`Snapshot`]: the live state replication depends on, as the AWS APIs report it (the
//! doctor's input; `doctor::live` reads it, tests write it by hand).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Versioning status as `GetBucketVersioning` reports it (`Disabled`: never enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    Enabled,
    Suspended,
    Disabled,
}

/// A KMS key as `DescribeKey` and `GetKeyPolicy` report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub arn: String,
    /// The key policy (the `default` policy), as a JSON object or the JSON string KMS returns.
    pub policy: Value,
    /// `KeyState`: `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: String,
    /// `KeySpec`: `SYMMETRIC_DEFAULT`, `RSA_2048`, …
    pub spec: String,
    pub region: String,
}

/// A policy attached to the replication role (inline or managed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedPolicy {
    pub name: String,
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceBucket {
    pub account: String,
    pub region: String,
    pub bucket: String,
    pub versioning: Versioning,
    #[serde(default)]
    pub requester_pays: bool,
    #[serde(default)]
    pub object_lock: bool,
    #[serde(default)]
    pub bucket_policy: Option<Value>,
    /// The key source objects are encrypted with (default encryption), if SSE-KMS and readable.
    #[serde(default)]
    pub key: Option<Key>,
    /// The key id default encryption names, also when `DescribeKey` could not find it.
    #[serde(default)]
    pub key_id: Option<String>,
    /// S3 Bucket Keys on: KMS sees the bucket ARN as encryption context instead of the object's.
    #[serde(default)]
    pub bucket_key: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationRole {
    /// The role named in the replication configuration.
    pub arn: String,
    pub trust_policy: Value,
    /// Inline and attached managed policies.
    #[serde(default)]
    pub policies: Vec<NamedPolicy>,
    /// The role's unique id (`AROA…`), if known.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// `aws:PrincipalOrgID` of the role's account: `None` when not known, `Some("")` when the
    /// account is in no organization.
    #[serde(default)]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationBucket {
    pub account: String,
    pub region: String,
    pub bucket: String,
    #[serde(default)]
    pub bucket_policy: Option<Value>,
    pub versioning: Versioning,
    #[serde(default)]
    pub requester_pays: bool,
    #[serde(default)]
    pub object_lock: bool,
    /// The rule's replica key (`EncryptionConfiguration.ReplicaKmsKeyID`), if readable.
    #[serde(default)]
    pub key: Option<Key>,
    /// The replica key id the rule names, also when `DescribeKey` could not find it.
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub bucket_key: bool,
    /// The rule's `AccessControlTranslation.Owner = Destination`.
    #[serde(default)]
    pub owner_override: bool,
    /// The rule's `SourceSelectionCriteria.SseKmsEncryptedObjects`.
    #[serde(default)]
    pub sse_kms: bool,
    /// The rule's prefix filter, if any.
    #[serde(default)]
    pub prefix: Option<String>,
    /// The rule's `DeleteMarkerReplication` is enabled: only then does S3 call
    /// `s3:ReplicateDelete` in the destination.
    #[serde(default)]
    pub delete_markers: bool,
    /// The rule's `ID`.
    #[serde(default)]
    pub rule_id: String,
    /// The rule's `Metrics.Status = Enabled`: S3 publishes its replication metrics and sends
    /// its replication events only then.
    #[serde(default)]
    pub metrics: bool,
}

/// One of the source bucket's event notification configurations that delivers replication
/// events (`s3:Replication:*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureNotification {
    pub id: String,
    /// The SNS topic or SQS queue ARN.
    pub target: String,
    pub events: Vec<String>,
    /// The topic's or queue's access policy; `None` when it has none, and `exists` false when
    /// the topic or queue itself is gone.
    #[serde(default)]
    pub policy: Option<Value>,
    #[serde(default = "yes")]
    pub exists: bool,
}

fn yes() -> bool {
    true
}

/// A CloudWatch alarm on one rule's replication metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleAlarm {
    pub name: String,
    pub metric: String,
    /// The alarm's `RuleId` dimension.
    pub rule_id: String,
}

/// How replication failures would be noticed: the source bucket's notifications for
/// replication events and the alarms on its rules' metrics (those named by the provider).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    #[serde(default)]
    pub notifications: Vec<FailureNotification>,
    #[serde(default)]
    pub alarms: Vec<RuleAlarm>,
}

/// The latest S3 Batch Replication job the provider started for one rule's destination
/// (`ReplicateExistingObjects`), as DescribeJob reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchJob {
    pub rule_id: String,
    pub job_id: String,
    /// `Active`, `Complete`, `Failed`, … as S3 names it.
    pub status: String,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    #[serde(default)]
    pub failure_reasons: Vec<String>,
}

/// Everything the doctor reads: plain data, as the AWS APIs report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default = "default_partition")]
    pub partition: String,
    pub source: SourceBucket,
    pub role: ReplicationRole,
    pub destinations: Vec<DestinationBucket>,
    #[serde(default)]
    pub signals: Signals,
    #[serde(default)]
    pub batch_jobs: Vec<BatchJob>,
    /// Per rule with metrics, the replication operations that failed recently (absent when
    /// CloudWatch could not be read).
    #[serde(default)]
    pub failed_replications: Vec<FailedReplications>,
}

/// How many replication operations of one rule failed in the last `days` days: CloudWatch's
/// `OperationsFailedReplication` (Sum), in the source bucket's region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedReplications {
    pub rule_id: String,
    pub failed: u64,
    pub days: u32,
}

fn default_partition() -> String {
    "aws".to_owned()
}
