//! S3 Batch Replication of the objects a destination's rule did not see being written: the
//! batch-operations role, its two policies, and the job each destination with
//! `ReplicateExistingObjects` starts when a request adds it (or turns the flag on). Pure.
//!
//! A job is found again by its `Description`, which ends in a machine-readable mark
//! `[<incarnation>:<rule>:<token>]`: the incarnation is the batch role's unique id (a new role
//! after a Delete, so a re-created resource starts afresh), the rule a hash of the rule id and
//! destination bucket, the token the job's `ClientRequestToken` (a hash of the request id, the
//! rule and the bucket). S3 keeps a job's record for 90 days after it ends.

use serde_json::{json, Value};

use super::names::{self, fnv64, hash8};
use super::{scope, DestinationPlan, Resolved};
use crate::spec::{BucketName, ObjectStatus, RoleArn, Spec};

/// The service principal S3 Batch Operations assumes roles as.
pub const BATCH_SERVICE: &str = "batchoperations.s3.amazonaws.com";
pub const BATCH_TRUST_SID: &str = "S3BatchOperationsAssumeRole";
/// What the job does to each object of the manifest; and what generating the manifest and the
/// job's own check of the configuration need on the source bucket.
pub const INITIATE_ACTIONS: [&str; 1] = ["s3:InitiateReplication"];
pub const SOURCE_BUCKET_ACTIONS: [&str; 2] = [
    "s3:GetReplicationConfiguration",
    "s3:PutInventoryConfiguration",
];
/// The generated manifest is stored under the report prefix and read back by the job.
pub const READ_MANIFEST_ACTIONS: [&str; 2] = ["s3:GetObject", "s3:GetObjectVersion"];
pub const WRITE_REPORT_ACTIONS: [&str; 1] = ["s3:PutObject"];
/// What S3 calls on the report bucket's default SSE-KMS key to write and read back reports
/// and manifests.
pub const REPORT_KEY_ACTIONS: [&str; 2] = ["kms:GenerateDataKey", "kms:Decrypt"];
/// Start of every job description this provider writes.
pub const DESCRIPTION_PREFIX: &str = "S3Replication backfill";
/// Job priority (S3 runs higher first; 10 leaves room above and below).
pub const JOB_PRIORITY: i32 = 10;

/// The batch-operations role and the jobs' shared settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPlan {
    pub role_name: String,
    pub role_arn: RoleArn,
    pub trust_policy: Value,
    pub role_policy: Value,
    pub report_bucket: BucketName,
    pub report_bucket_arn: String,
    /// Without a trailing `/`: S3 writes `<prefix>/job-<id>/…`.
    pub report_prefix: String,
    pub report_all_tasks: bool,
    /// One per destination with `ReplicateExistingObjects`, in destination order.
    pub jobs: Vec<BatchJob>,
}

impl BatchPlan {
    /// The role, its policies and each job as `plan` prints them: CreateJob's request in
    /// S3 Control's field names (a Create starts the jobs; an Update only those it adds).
    pub fn to_json(&self, r: &Resolved) -> Value {
        let jobs: Vec<Value> = self
            .jobs
            .iter()
            .map(|j| {
                let mut filter = json!({
                    "EligibleForReplication": true,
                    "ObjectReplicationStatuses": j.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                });
                if let Some(p) = &j.prefix {
                    filter["KeyNameConstraint"] = json!({"MatchAnyPrefix": [p]});
                }
                json!({
                    "Destination": j.dest_bucket.to_string(),
                    "RuleId": j.rule_id,
                    "Operation": {"S3ReplicateObject": {}},
                    "ManifestGenerator": {"S3JobManifestGenerator": {
                        "SourceBucket": r.source_bucket_arn(),
                        "Filter": filter,
                        "ManifestOutputLocation": {"Bucket": self.report_bucket_arn, "ManifestPrefix": self.report_prefix},
                    }},
                    "Report": {
                        "Bucket": self.report_bucket_arn, "Prefix": self.report_prefix,
                        "ReportScope": if self.report_all_tasks { "AllTasks" } else { "FailedTasksOnly" },
                    },
                    "ConfirmationRequired": false,
                    "Priority": JOB_PRIORITY,
                })
            })
            .collect();
        json!({
            "Account": r.source_account.to_string(), "Region": r.source_region.to_string(),
            "Role": {"Arn": self.role_arn.to_string(), "TrustPolicy": self.trust_policy, "InlinePolicy": self.role_policy},
            "Jobs": jobs,
        })
    }
}

/// What one destination's job replicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJob {
    pub dest_index: usize,
    pub rule_id: String,
    pub dest_bucket: BucketName,
    /// The rule's prefix: the manifest lists only keys under it.
    pub prefix: Option<String>,
    /// `ObjectReplicationStatuses` of the manifest filter, before [`BatchJob::statuses_for`].
    pub statuses: Vec<ObjectStatus>,
    /// Hash of the rule id and destination bucket: the `<rule>` of the description's mark.
    pub rule_mark: String,
}

impl BatchJob {
    /// The statuses a job started now filters on: when the destination joins a configuration
    /// whose other rules already replicated objects, those objects are `COMPLETED` (S3 marks an
    /// object by all the destinations it had when written) and must be listed too, or the new
    /// destination never gets them.
    pub fn statuses_for(&self, joins_existing: bool) -> Vec<ObjectStatus> {
        let mut s = self.statuses.clone();
        if joins_existing && !s.contains(&ObjectStatus::Completed) {
            s.push(ObjectStatus::Completed);
            s.sort();
        }
        s
    }

    /// `ClientRequestToken` of this destination's job for the request `request_id`: a retried
    /// or repeated delivery of the same request never starts a second job (S3 answers the
    /// first job's id for a token it has seen).
    pub fn token(&self, request_id: &str) -> String {
        let seed = format!("{request_id}|{}", self.rule_mark);
        format!("{:016x}{:016x}", fnv64(&seed), fnv64(&format!("{seed}|2")))
    }

    /// The job's `Description` (≤ 256 characters): readable, ending in its mark
    /// (`incarnation`: see [`incarnation_mark`]).
    pub fn description(
        &self,
        source_bucket: &BucketName,
        incarnation: &str,
        token: &str,
    ) -> String {
        format!(
            "{DESCRIPTION_PREFIX} of s3://{source_bucket} into s3://{} [{incarnation}:{}:{token}]",
            self.dest_bucket, self.rule_mark
        )
    }
}

/// The rule part of a mark: a hash of the rule id and its destination bucket's ARN.
pub fn rule_mark(rule_id: &str, dest_bucket_arn: &str) -> String {
    hash8(&format!("{rule_id}|{dest_bucket_arn}"))
}

/// The incarnation part of a mark: a hash of the batch role's unique id.
pub fn incarnation_mark(role_id: &str) -> String {
    hash8(role_id)
}

/// The mark at the end of a job description this provider wrote: (incarnation, rule, token).
pub fn parse_mark(description: &str) -> Option<(&str, &str, &str)> {
    if !description.starts_with(DESCRIPTION_PREFIX) {
        return None;
    }
    let inner = description.strip_suffix(']')?.rsplit_once('[')?.1;
    let mut parts = inner.split(':');
    let mark = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some(mark)
}

/// The batch plan of `spec` (`None` when no destination replicates existing objects).
/// `report_key`: the report bucket's default SSE-KMS key, when it has one.
pub fn plan(
    spec: &Spec,
    r: &Resolved,
    dests: &[DestinationPlan],
    report_key: Option<&str>,
) -> Option<BatchPlan> {
    if !spec.replicates_existing_objects() {
        return None;
    }
    let role_name = names::batch_role_name(&r.source_bucket);
    let report_bucket = spec
        .batch
        .report_bucket
        .clone()
        .unwrap_or_else(|| r.source_bucket.clone());
    let jobs: Vec<BatchJob> = spec
        .destinations
        .iter()
        .zip(dests)
        .filter(|(d, _)| d.replicate_existing_objects)
        .map(|(d, p)| BatchJob {
            dest_index: p.index,
            rule_id: d.rule_id.clone(),
            dest_bucket: d.bucket.clone(),
            prefix: p.prefix.clone(),
            statuses: spec.batch.statuses.clone(),
            rule_mark: rule_mark(&d.rule_id, &p.bucket_arn),
        })
        .collect();
    let report_bucket_arn = report_bucket.arn(&r.partition);
    let mut batch = BatchPlan {
        role_arn: RoleArn::for_name(
            &r.partition,
            &r.source_account,
            names::BATCH_ROLE_PATH,
            &role_name,
        ),
        role_name,
        trust_policy: trust_policy(r),
        role_policy: Value::Null,
        report_bucket,
        report_bucket_arn,
        report_prefix: spec.batch.report_prefix.clone(),
        report_all_tasks: spec.batch.report_all_tasks,
        jobs,
    };
    batch.role_policy = role_policy(r, &batch, report_key);
    Some(batch)
}

/// Trust policy of the batch-operations role: only S3 Batch Operations, only for jobs of the
/// source account in the source region (confused-deputy protection).
pub fn trust_policy(r: &Resolved) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": BATCH_TRUST_SID,
            "Effect": "Allow",
            "Principal": { "Service": BATCH_SERVICE },
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": { "aws:SourceAccount": r.source_account.as_str() },
                "ArnLike": { "aws:SourceArn": job_arn_pattern(r) }
            }
        }]
    })
}

/// Every job of the source account in the source region.
pub fn job_arn_pattern(r: &Resolved) -> String {
    format!(
        "arn:{}:s3:{}:{}:job/*",
        r.partition, r.source_region, r.source_account
    )
}

/// The batch role's inline policy: start replication of the objects the flagged rules cover,
/// generate the manifest from the source bucket, store it and the report under the prefix.
fn role_policy(r: &Resolved, b: &BatchPlan, report_key: Option<&str>) -> Value {
    let src = r.source_bucket_arn();
    let sources = scope::objects(&src, b.jobs.iter().map(|j| j.prefix.as_deref()));
    let reports = format!(
        "{}/{}/*",
        b.report_bucket_arn,
        scope::escape(&b.report_prefix)
    );
    let mut statements = vec![
        json!({"Sid": "InitiateReplication", "Effect": "Allow", "Action": INITIATE_ACTIONS, "Resource": sources}),
        json!({"Sid": "GenerateManifest", "Effect": "Allow", "Action": SOURCE_BUCKET_ACTIONS, "Resource": src}),
        json!({"Sid": "ReadManifest", "Effect": "Allow", "Action": READ_MANIFEST_ACTIONS, "Resource": reports}),
        json!({"Sid": "WriteReport", "Effect": "Allow", "Action": WRITE_REPORT_ACTIONS, "Resource": reports}),
    ];
    if let Some(key) = report_key {
        statements.push(json!({
            "Sid": "EncryptReport", "Effect": "Allow", "Action": REPORT_KEY_ACTIONS,
            "Resource": key,
            "Condition": {
                "StringEquals": { "kms:ViaService": format!("s3.{}.amazonaws.com", r.source_region) },
                "StringLike": { "kms:EncryptionContext:aws:s3:arn": [b.report_bucket_arn.clone(), format!("{}/*", b.report_bucket_arn)] }
            }
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Which destinations of `spec` this request starts a job for, and whether each joins an
/// existing configuration: every flagged one on Create (`old` = `None`); on Update, those the
/// old properties did not have flagged (new destinations join the existing configuration).
/// A destination is the same one when its rule id and bucket are.
pub fn triggered(spec: &Spec, old: Option<&Spec>) -> Vec<Option<Triggered>> {
    spec.destinations
        .iter()
        .map(|d| {
            if !d.replicate_existing_objects {
                return None;
            }
            let Some(old) = old else {
                return Some(Triggered {
                    joins_existing: false,
                });
            };
            let before = old
                .destinations
                .iter()
                .find(|o| o.rule_id == d.rule_id && o.bucket == d.bucket);
            match before {
                Some(o) if o.replicate_existing_objects => None,
                Some(_) => Some(Triggered {
                    joins_existing: false,
                }),
                None => Some(Triggered {
                    joins_existing: true,
                }),
            }
        })
        .collect()
}

/// A destination whose job this request starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Triggered {
    /// Added to a configuration that already replicated to other destinations.
    pub joins_existing: bool,
}
