//! Validated resource properties: the user-facing contract of `Custom::S3Replication`.
//!
//! [`parse`] turns the raw `ResourceProperties` JSON (where CloudFormation sends every scalar
//! as a string) into a [`Spec`]; every rejection names the property it is about.

mod error;
mod fields;
mod names;
mod parse;

pub use error::{SpecError, SpecErrors};
pub use names::{
    AccountId, BucketName, KeyArn, NotificationArn, NotificationKind, Region, RoleArn,
};
pub use parse::parse;

use std::collections::BTreeMap;

/// Name of the role each destination account provides for the function to assume.
pub const DEFAULT_DESTINATION_ROLE_NAME: &str = "S3ReplicationDestinationProvisioner";

/// Everything one `Custom::S3Replication` resource asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub source: Source,
    /// Explicit `ReplicationRoleName`; `None` means derive it from the source bucket.
    pub replication_role_name: Option<String>,
    pub destinations: Vec<Destination>,
    pub key_removal: KeyRemoval,
    pub take_over_existing_replication: bool,
    /// Organization mode: destination bucket and key policies get one statement per bucket that
    /// admits every replication role of this AWS Organization (`aws:PrincipalOrgID`, role path
    /// `/s3-replication/`), instead of one statement per source. For fleets sharing a
    /// destination; such shared statements are never removed by a Delete.
    pub organization_id: Option<String>,
    /// What to prove after Create/Update before answering SUCCESS.
    pub verify: Verify,
    /// `FailureNotification`: the topic or queue (source account and region) S3 tells of
    /// replication failures, through the source bucket's event notifications.
    pub failure_notification: Option<NotificationArn>,
    /// `Alarms`: CloudWatch alarms per rule on failed replication (and, with RTC, latency).
    pub alarms: bool,
    /// `AlarmTopics`: SNS topics of the source account, at most one per region, that the
    /// alarms of their region act on (an alarm's actions must be in its own region).
    pub alarm_topics: Vec<NotificationArn>,
    /// `BatchReplication`: how the jobs of destinations with `ReplicateExistingObjects` run.
    pub batch: BatchReplication,
}

impl Spec {
    /// Whether some destination asks for its existing objects to be replicated (S3 Batch
    /// Replication), which needs the batch-operations role.
    pub fn replicates_existing_objects(&self) -> bool {
        self.destinations
            .iter()
            .any(|d| d.replicate_existing_objects)
    }

    /// Whether the rules must publish replication metrics: the failure events and the alarms'
    /// metrics exist only for rules with metrics on.
    pub fn needs_metrics(&self) -> bool {
        self.failure_notification.is_some() || self.alarms
    }

    /// Every region alarms of this resource may be in: the source bucket's (`source_region`,
    /// failed operations) and each destination's (latency, which S3 publishes there), once.
    pub fn alarm_regions(&self, source_region: &Region) -> Vec<Region> {
        let mut regions = vec![source_region.clone()];
        for d in &self.destinations {
            if !regions.contains(&d.region) {
                regions.push(d.region.clone());
            }
        }
        regions
    }

    /// The topic an alarm in `region` acts on: the `AlarmTopics` one of that region, else the
    /// `FailureNotification` topic when it is in that region.
    pub fn alarm_topic(&self, region: &Region) -> Option<&NotificationArn> {
        let failure_topic = self
            .failure_notification
            .iter()
            .filter(|n| n.kind() == NotificationKind::Topic);
        self.alarm_topics
            .iter()
            .chain(failure_topic)
            .find(|t| t.region() == region)
    }
}

/// `BatchReplication`: the settings every S3 Batch Replication job of this resource shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReplication {
    /// `ReportBucket`: where completion reports (and generated manifests) go; `None`: the source
    /// bucket. Must be in the source account and region.
    pub report_bucket: Option<BucketName>,
    /// `ReportPrefix`, without a trailing `/` (default `s3-replication-reports`).
    pub report_prefix: String,
    /// `ReportScope`: `FailedTasksOnly` (default) or `AllTasks`.
    pub report_all_tasks: bool,
    /// `ObjectReplicationStatuses`: which objects the generated manifest lists (default NONE and
    /// FAILED).
    pub statuses: Vec<ObjectStatus>,
}

/// The default `ReportPrefix`.
pub const DEFAULT_REPORT_PREFIX: &str = "s3-replication-reports";

impl Default for BatchReplication {
    fn default() -> Self {
        Self {
            report_bucket: None,
            report_prefix: DEFAULT_REPORT_PREFIX.to_owned(),
            report_all_tasks: false,
            statuses: vec![ObjectStatus::None, ObjectStatus::Failed],
        }
    }
}

/// An object's replication status, as a Batch Replication manifest filter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectStatus {
    /// Never replicated: written before replication was configured.
    None,
    Failed,
    /// Replicated to every destination its rules had when it was written.
    Completed,
    /// A replica (written here by another bucket's replication).
    Replica,
}

impl ObjectStatus {
    pub const ALL: [ObjectStatus; 4] = [
        ObjectStatus::None,
        ObjectStatus::Failed,
        ObjectStatus::Completed,
        ObjectStatus::Replica,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStatus::None => "NONE",
            ObjectStatus::Failed => "FAILED",
            ObjectStatus::Completed => "COMPLETED",
            ObjectStatus::Replica => "REPLICA",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// `Verify`: checks run after Create/Update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    None,
    /// Read the live state in every account and evaluate the whole permission chain with the
    /// doctor; any broken link fails the request with the statement to add.
    Permissions,
    /// `Permissions`, then canary objects sent through the configuration: each must be
    /// reported COMPLETED and its replica found in every destination it must reach, under the
    /// destination key, within the invocation's time; the canaries are removed afterwards.
    Replication,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub bucket: BucketName,
    /// `None`: the function's own region.
    pub region: Option<Region>,
    /// `None`: the function's own credentials.
    pub role_arn: Option<RoleArn>,
    pub kms_key: SourceKey,
}

/// Which key encrypts source objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKey {
    /// Read it from the bucket's default encryption (none if the bucket uses SSE-S3).
    Discover,
    Existing(KeyArn),
    /// Make a new key (rotation on) and set it as the bucket's default SSE-KMS key.
    Create,
}

impl SourceKey {
    /// Whether this resource makes the key (and so owns its policy and its removal).
    pub fn creates(&self) -> bool {
        *self == SourceKey::Create
    }
}

/// Which key encrypts replicas in a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationKey {
    /// No replica key: only valid when source objects are not SSE-KMS.
    None,
    Existing(KeyArn),
    Create,
}

impl DestinationKey {
    /// Whether this resource makes the key (and so owns its policy and its removal).
    pub fn creates(&self) -> bool {
        *self == DestinationKey::Create
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRemoval {
    Retain,
    /// Schedule deletion of keys this resource created, with this window in days (7–30).
    Delete {
        window_days: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub bucket: BucketName,
    pub account: AccountId,
    pub region: Region,
    /// Explicit `RoleArn`; `None`: [`DEFAULT_DESTINATION_ROLE_NAME`] in the destination account.
    pub role_arn: Option<RoleArn>,
    pub external_id: Option<String>,
    pub create_bucket: bool,
    pub kms_key: DestinationKey,
    pub storage_class: StorageClass,
    pub rule_id: String,
    pub priority: i32,
    pub prefix: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub delete_marker_replication: bool,
    pub replication_time_control: bool,
    pub metrics: bool,
    pub replica_modifications: bool,
    /// `None`: true exactly when the destination account differs from the source account.
    pub owner_override: Option<bool>,
    /// `ReplicateExistingObjects`: start an S3 Batch Replication job for this destination when
    /// it is added (or the flag turned on), so objects written before it get replicated too.
    pub replicate_existing_objects: bool,
}

impl Destination {
    /// The role to assume for this destination.
    pub fn role_arn(&self) -> RoleArn {
        self.role_arn.clone().unwrap_or_else(|| {
            RoleArn::for_name(
                self.region.partition(),
                &self.account,
                "/",
                DEFAULT_DESTINATION_ROLE_NAME,
            )
        })
    }

    /// Whether replicas become owned by the destination account, given the source account.
    pub fn owner_override_for(&self, source_account: &AccountId) -> bool {
        self.owner_override
            .unwrap_or_else(|| &self.account != source_account)
    }
}

/// Storage classes S3 accepts as a replication destination's storage class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageClass {
    Standard,
    StandardIa,
    OnezoneIa,
    IntelligentTiering,
    GlacierIr,
    Glacier,
    DeepArchive,
    ReducedRedundancy,
}

impl StorageClass {
    pub const ALL: [StorageClass; 8] = [
        StorageClass::Standard,
        StorageClass::StandardIa,
        StorageClass::OnezoneIa,
        StorageClass::IntelligentTiering,
        StorageClass::GlacierIr,
        StorageClass::Glacier,
        StorageClass::DeepArchive,
        StorageClass::ReducedRedundancy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::Standard => "STANDARD",
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::OnezoneIa => "ONEZONE_IA",
            StorageClass::IntelligentTiering => "INTELLIGENT_TIERING",
            StorageClass::GlacierIr => "GLACIER_IR",
            StorageClass::Glacier => "GLACIER",
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
            StorageClass::ReducedRedundancy => "REDUCED_REDUNDANCY",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

#[cfg(test)]
mod tests;
