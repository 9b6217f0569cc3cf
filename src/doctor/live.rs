//! Reading the live state of one source bucket's replication, in every account it involves,
//! into the doctor's [`Snapshot`]. Read-only: no call here changes anything.

use serde_json::Value;

use futures::{StreamExt, TryStreamExt};

use crate::aws::{Account, AwsError, Connector, LiveRule, Membership, VersioningStatus};
use crate::doctor::{
    BatchJob, DestinationBucket, FailedReplications, FailureNotification, Key, NamedPolicy,
    ReplicationRole, RuleAlarm, Signals, Snapshot, SourceBucket, Versioning,
};
use crate::plan::signals::alarm_prefix_of;
use crate::spec::{
    AccountId, BucketName, NotificationArn, Region, RoleArn, DEFAULT_DESTINATION_ROLE_NAME,
};

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("bucket {bucket} does not exist, or is not visible to these credentials (account {account}); check the name, and the account the credentials act in")]
    NoBucket { bucket: String, account: String },
    #[error(
        "bucket {bucket} is in region {actual}, not {given}: run again with --region {actual}"
    )]
    WrongRegion {
        bucket: String,
        actual: String,
        given: String,
    },
    #[error("bucket {bucket} in account {account} ({region}) has no replication configuration: nothing to diagnose")]
    NoReplication {
        bucket: String,
        account: String,
        region: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Where to look: the source bucket, and how to reach each destination account.
#[derive(Debug, Clone)]
pub struct Target {
    pub bucket: String,
    pub region: Region,
    pub source_role: Option<RoleArn>,
    /// Roles (with external ids) to assume per destination account; others use the default
    /// provisioner role.
    pub destination_roles: Vec<(RoleArn, Option<String>)>,
}

impl Target {
    /// What a resource with these properties provisioned, in `region`.
    pub fn of_spec(spec: &crate::spec::Spec, region: Region) -> Self {
        Self {
            bucket: spec.source.bucket.to_string(),
            region,
            source_role: spec.source.role_arn.clone(),
            destination_roles: spec
                .destinations
                .iter()
                .map(|d| (d.role_arn(), d.external_id.clone()))
                .collect(),
        }
    }

    /// The role (and external id) through which `account`'s destinations are read: the one
    /// given for that account, else the default provisioner role there.
    pub fn destination_role(&self, account: &AccountId) -> (RoleArn, Option<String>) {
        self.destination_roles
            .iter()
            .find(|(r, _)| r.account() == account)
            .cloned()
            .unwrap_or_else(|| {
                let role = RoleArn::for_name(
                    self.region.partition(),
                    account,
                    "/",
                    DEFAULT_DESTINATION_ROLE_NAME,
                );
                (role, None)
            })
    }
}

fn versioning(status: VersioningStatus) -> Versioning {
    match status {
        VersioningStatus::Enabled => Versioning::Enabled,
        VersioningStatus::Suspended => Versioning::Suspended,
        VersioningStatus::Disabled => Versioning::Disabled,
    }
}

fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

async fn key(acct: &Account, id: &str) -> Result<Option<Key>, AwsError> {
    let Some(info) = acct.describe_key(id).await? else {
        return Ok(None);
    };
    let policy = acct.key_policy(&info.arn).await?;
    // The key's own region, from its ARN (the client's region only says where we asked).
    let region = crate::doctor::eval::arn_region(&info.arn)
        .filter(|r| !r.is_empty())
        .map_or_else(|| acct.region.to_string(), str::to_owned);
    Ok(Some(Key {
        policy: json_or_string(&policy),
        state: info.state.as_str().to_owned(),
        spec: info.spec,
        region,
        arn: info.arn,
    }))
}

/// Destinations inspected at once.
const DESTINATIONS_AT_ONCE: usize = 16;

/// Reads everything the doctor evaluates.
pub async fn snapshot(conn: &Connector, t: &Target) -> Result<Snapshot, InspectError> {
    let src = conn.source(t.source_role.as_ref(), &t.region).await?;
    let bucket = t.bucket.as_str();
    // Where the bucket is comes first: every other answer depends on asking the right region.
    match src.bucket_region(bucket).await? {
        None => {
            return Err(InspectError::NoBucket {
                bucket: bucket.to_owned(),
                account: src.id.to_string(),
            })
        }
        Some(actual) if actual != t.region.as_str() => {
            return Err(InspectError::WrongRegion {
                bucket: bucket.to_owned(),
                actual,
                given: t.region.to_string(),
            })
        }
        Some(_) => {}
    }
    let Some(live) = src.replication(bucket).await? else {
        return Err(InspectError::NoReplication {
            bucket: bucket.to_owned(),
            account: src.id.to_string(),
            region: src.region.to_string(),
        });
    };
    // The source bucket, the role and every destination are independent reads.
    let destinations = futures::stream::iter(live.rules.iter().filter(|r| r.enabled))
        .map(|rule| destination(conn, t, &src, rule))
        .buffered(DESTINATIONS_AT_ONCE)
        .try_collect::<Vec<_>>();
    let (source, role, destinations, signals, batch_jobs, failed_replications) = futures::try_join!(
        source_bucket(&src, bucket),
        read_role(&src, &live.role),
        destinations,
        signals(&src, bucket),
        batch_jobs(&src, bucket, &live.rules),
        failed_replications(&src, bucket, &live.rules),
    )?;
    Ok(Snapshot {
        partition: t.region.partition().to_owned(),
        source,
        role,
        destinations,
        signals,
        batch_jobs,
        failed_replications,
    })
}

/// How far back the doctor counts failed replications: within the 15 days CloudWatch keeps
/// one-minute data points.
pub const FAILED_REPLICATION_DAYS: u32 = 14;

/// For each enabled rule with metrics (S3 publishes `OperationsFailedReplication` only for
/// those), the operations that failed in the last [`FAILED_REPLICATION_DAYS`] days. Reading
/// needs `cloudwatch:GetMetricStatistics`: without it the doctor says nothing about them.
pub(crate) async fn failed_replications(
    src: &Account,
    bucket: &str,
    rules: &[LiveRule],
) -> Result<Vec<FailedReplications>, InspectError> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled && r.metrics) {
        let dimensions = [
            ("SourceBucket".to_owned(), bucket.to_owned()),
            (
                "DestinationBucket".to_owned(),
                rule.bucket_name().to_owned(),
            ),
            ("RuleId".to_owned(), rule.id.clone()),
        ];
        let days = FAILED_REPLICATION_DAYS;
        let sum = match src
            .metric_sum("OperationsFailedReplication", &dimensions, days)
            .await
        {
            Ok(sum) => sum,
            Err(e) if e.kind == crate::aws::ErrorKind::AccessDenied => {
                tracing::warn!(error = %e, "cannot read replication metrics; failed replications are not counted");
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        };
        out.push(FailedReplications {
            rule_id: rule.id.clone(),
            failed: sum.max(0.0).round() as u64,
            days,
        });
    }
    Ok(out)
}

/// The source bucket's state, and its default encryption's key.
async fn source_bucket(src: &Account, bucket: &str) -> Result<SourceBucket, InspectError> {
    let key_of = async {
        let enc = src.default_encryption(bucket).await?;
        let id = enc.as_ref().filter(|e| e.algorithm.is_kms()).map(|e| {
            e.kms_key
                .clone()
                .unwrap_or_else(|| "alias/aws/s3".to_owned())
        });
        let key = match &id {
            Some(id) => key(src, id).await?,
            None => None,
        };
        Ok::<_, AwsError>((enc.is_some_and(|e| e.bucket_key), id, key))
    };
    let ((bucket_key, key_id, key), status, requester_pays, object_lock, policy) = futures::try_join!(
        key_of,
        src.versioning_status(bucket),
        src.requester_pays(bucket),
        src.object_lock(bucket),
        src.bucket_policy(bucket),
    )?;
    Ok(SourceBucket {
        account: src.id.to_string(),
        region: src.region.to_string(),
        bucket: bucket.to_owned(),
        versioning: versioning(status),
        requester_pays,
        object_lock,
        bucket_policy: policy.map(|p| json_or_string(&p)),
        key,
        key_id,
        bucket_key,
    })
}

/// One rule's destination, read through the role for its account.
async fn destination(
    conn: &Connector,
    t: &Target,
    src: &Account,
    rule: &LiveRule,
) -> Result<DestinationBucket, InspectError> {
    let dest_bucket = rule.bucket_name().to_owned();
    let account = rule
        .destination_account
        .clone()
        .unwrap_or_else(|| src.id.to_string());
    let account_id = AccountId::parse(&account).map_err(InspectError::Invalid)?;
    let (role_arn, external_id) = t.destination_role(&account_id);
    let acct = in_bucket_region(
        conn,
        &role_arn,
        external_id.as_deref(),
        &dest_bucket,
        &t.region,
    )
    .await?;
    let region = acct.region.clone();
    let replica_key = async {
        match &rule.replica_kms_key {
            Some(k) => key(&acct, k).await,
            None => Ok(None),
        }
    };
    let (enc, policy, status, requester_pays, object_lock, key) = futures::try_join!(
        acct.default_encryption(&dest_bucket),
        acct.bucket_policy(&dest_bucket),
        acct.versioning_status(&dest_bucket),
        acct.requester_pays(&dest_bucket),
        acct.object_lock(&dest_bucket),
        replica_key,
    )?;
    Ok(DestinationBucket {
        account,
        region: region.to_string(),
        bucket_policy: policy.map(|p| json_or_string(&p)),
        versioning: versioning(status),
        requester_pays,
        object_lock,
        key,
        key_id: rule.replica_kms_key.clone(),
        bucket_key: enc.is_some_and(|e| e.bucket_key),
        owner_override: rule.owner_override,
        sse_kms: rule.sse_kms,
        prefix: rule.prefix.clone(),
        delete_markers: rule.delete_markers,
        rule_id: rule.id.clone(),
        metrics: rule.metrics,
        bucket: dest_bucket,
    })
}

/// The latest Batch Replication job the provider started for each rule (through the source
/// bucket's batch role, whose id marks this resource's jobs). Reading jobs needs s3:ListJobs
/// and s3:DescribeJob: without them the doctor says nothing about jobs rather than failing.
async fn batch_jobs(
    src: &Account,
    bucket: &str,
    rules: &[LiveRule],
) -> Result<Vec<BatchJob>, InspectError> {
    use crate::plan::batch::{incarnation_mark, parse_mark, rule_mark};
    let name = crate::plan::names::batch_role_name(
        &BucketName::parse(bucket).map_err(|e| InspectError::Invalid(e.to_string()))?,
    );
    let Some(role) = src.role(&name).await? else {
        return Ok(Vec::new());
    };
    let incarnation = incarnation_mark(&role.role_id);
    let jobs = match src.batch_jobs().await {
        Ok(jobs) => jobs,
        Err(e) if e.kind == crate::aws::ErrorKind::AccessDenied => {
            tracing::warn!(error = %e, "cannot list S3 Batch Operations jobs; existing-object replication is not checked");
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled) {
        let mark = rule_mark(&rule.id, &rule.destination_bucket);
        let latest = jobs.iter().find(|j| {
            parse_mark(&j.description).is_some_and(|(i, r, _)| i == incarnation && r == mark)
        });
        let Some(latest) = latest else { continue };
        let job = src
            .describe_job(&latest.id)
            .await?
            .unwrap_or_else(|| latest.clone());
        out.push(BatchJob {
            rule_id: rule.id.clone(),
            job_id: job.id,
            status: job.status,
            total: job.total,
            succeeded: job.succeeded,
            failed: job.failed,
            failure_reasons: job.failure_reasons,
        });
    }
    Ok(out)
}

/// The source bucket's notifications of replication events, each with its topic's or queue's
/// policy, and the provider's alarms on its rules.
async fn signals(src: &Account, bucket: &str) -> Result<Signals, InspectError> {
    let notifications = async {
        let doc: Value = serde_json::from_str(&src.bucket_notifications(bucket).await?)
            .map_err(|e| InspectError::Invalid(e.to_string()))?;
        let mut out = Vec::new();
        for (list, arn_key) in [
            ("TopicConfigurations", "TopicArn"),
            ("QueueConfigurations", "QueueArn"),
        ] {
            for c in doc[list].as_array().into_iter().flatten() {
                let events: Vec<String> = c["Events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect();
                if !events.iter().any(|e| e.starts_with("s3:Replication:")) {
                    continue;
                }
                let target = c[arn_key].as_str().unwrap_or_default().to_owned();
                // A target that is no topic or queue ARN cannot be read: reported as gone.
                let policy = match NotificationArn::parse(&target) {
                    Ok(arn) => src.target_policy(&arn).await?,
                    Err(_) => None,
                };
                out.push(FailureNotification {
                    id: c["Id"].as_str().unwrap_or_default().to_owned(),
                    exists: policy.is_some(),
                    policy: policy.flatten().map(|p| json_or_string(&p)),
                    target,
                    events,
                });
            }
        }
        Ok::<_, InspectError>(out)
    };
    let alarms = async {
        let alarms = src.alarms_with_prefix(&alarm_prefix_of(bucket)).await?;
        Ok::<_, InspectError>(
            alarms
                .into_iter()
                .map(|a| RuleAlarm {
                    rule_id: a
                        .dimensions
                        .iter()
                        .find(|(n, _)| n == "RuleId")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                    name: a.name,
                    metric: a.metric,
                })
                .collect(),
        )
    };
    let (notifications, alarms) = futures::try_join!(notifications, alarms)?;
    Ok(Signals {
        notifications,
        alarms,
    })
}

/// Clients through `role` in the region `bucket` is in (asked from `fallback`, which is also
/// used when the bucket does not exist).
pub async fn in_bucket_region(
    conn: &Connector,
    role: &RoleArn,
    external_id: Option<&str>,
    bucket: &str,
    fallback: &Region,
) -> Result<Account, InspectError> {
    let probe = conn.assumed(role, external_id, fallback).await?;
    let region = match probe.bucket_region(bucket).await? {
        Some(r) => Region::parse(&r).map_err(InspectError::Invalid)?,
        None => return Ok(probe),
    };
    Ok(conn.assumed(role, external_id, &region).await?)
}

/// The role named in the configuration: trust policy, unique id, inline and attached managed
/// policies, and its account's organization.
async fn read_role(src: &Account, arn: &str) -> Result<ReplicationRole, InspectError> {
    let name = arn.rsplit('/').next().unwrap_or_default();
    let (info, inline, attached, organization) = futures::try_join!(
        src.role(name),
        src.role_policy_names(name),
        src.attached_role_policies(name),
        src.organization(),
    )?;
    let mut policies = Vec::new();
    for policy in inline {
        if let Some(doc) = src.role_policy(name, &policy).await? {
            policies.push(NamedPolicy {
                name: policy,
                document: json_or_string(&doc),
            });
        }
    }
    for (policy, policy_arn) in attached {
        if let Some(doc) = src.managed_policy_document(&policy_arn).await? {
            policies.push(NamedPolicy {
                name: format!("{policy} (managed, {policy_arn})"),
                document: json_or_string(&doc),
            });
        }
    }
    let organization = match organization {
        Membership::Member(id) => Some(id),
        Membership::None => Some(String::new()),
        Membership::Unknown(why) => {
            tracing::warn!(%why, "doctor: the source account's organization is not known; conditions on aws:PrincipalOrgID stay undecided");
            None
        }
    };
    Ok(ReplicationRole {
        arn: arn.to_owned(),
        unique_id: info.as_ref().map(|i| i.role_id.clone()),
        trust_policy: info.map_or(Value::Null, |i| json_or_string(&i.trust_policy)),
        policies,
        organization,
    })
}
