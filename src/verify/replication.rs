//! `Verify: Replication`: send canary objects through the replication configuration, wait
//! (bounded by the deadline) until S3 reports them COMPLETED, check each replica where it must
//! be and under the right key, then remove every canary version this run made.

use std::time::{Duration, Instant};

use super::canary::{self, Canary};
use crate::aws::{Account, AwsError, Connector};
use crate::plan::Plan;
use crate::reconcile::{connect_destinations, ReconcileError};
use crate::spec::Spec;
use crate::time::Deadline;

/// Time kept back from the deadline (at most a third of what is left) for removing the
/// canaries and answering.
const CLEANUP_RESERVE: Duration = Duration::from_secs(10);
const FIRST_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(5);
/// S3 marks an object it will replicate PENDING when it is written; one still unmarked after
/// this long was selected by no rule.
const NOT_SELECTED_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ReplicationFailure {
    #[error("{0}")]
    Connect(ReconcileError),
    #[error("a canary object call failed: {0}")]
    Aws(#[from] AwsError),
    #[error("S3 returned no version id for canary s3://{bucket}/{key}: enable versioning on the source bucket")]
    NotVersioned { bucket: String, key: String },
    #[error("S3 reports the replication of canary s3://{bucket}/{key} (version {version}) FAILED")]
    Failed {
        bucket: String,
        key: String,
        version: String,
    },
    #[error("canary s3://{bucket}/{key} (version {version}) was still {status} after {waited_s} s, the time this invocation had; raise the function's timeout, or check the destination's replication metrics (with ReplicationTimeControl S3 replicates 99.99% of objects within 15 minutes)")]
    TimedOut {
        bucket: String,
        key: String,
        version: String,
        status: String,
        waited_s: u64,
    },
    #[error("S3 did not select canary s3://{bucket}/{key} for replication: no enabled rule of the bucket's replication configuration matches it")]
    NotSelected { bucket: String, key: String },
    #[error("canary s3://{source_bucket}/{key} replicated, but in bucket {bucket} (account {account}, {region}) {problem}")]
    Replica {
        source_bucket: String,
        key: String,
        bucket: String,
        account: String,
        region: String,
        problem: String,
    },
    #[error("{}removing the canary versions failed: {cleanup}; remove the versions under {} by hand", .outcome.as_ref().map(|o| format!("{o}; and ")).unwrap_or_else(|| "replication works, but ".to_owned()), canary::FOLDER)]
    Cleanup {
        outcome: Option<Box<ReplicationFailure>>,
        cleanup: AwsError,
    },
}

impl ReplicationFailure {
    /// Whether the permission chain may explain this failure (then the doctor's diagnosis is
    /// added to the answer).
    pub fn needs_diagnosis(&self) -> bool {
        match self {
            Self::Failed { .. }
            | Self::TimedOut { .. }
            | Self::NotSelected { .. }
            | Self::Replica { .. } => true,
            Self::Cleanup { outcome, .. } => outcome.as_ref().is_some_and(|o| o.needs_diagnosis()),
            Self::Connect(_) | Self::Aws(_) | Self::NotVersioned { .. } => false,
        }
    }
}

/// A canary this run wrote, and the version S3 gave it.
struct Written<'a> {
    canary: &'a Canary,
    version: String,
}

/// Sends the canaries, checks them, and always removes the versions it wrote.
pub async fn verify(
    conn: &Connector,
    spec: &Spec,
    plan: &Plan,
    src: &Account,
    deadline: Deadline,
    token: &str,
) -> Result<(), ReplicationFailure> {
    let dests = connect_destinations(conn, spec)
        .await
        .map_err(ReplicationFailure::Connect)?;
    let canaries = canary::canaries(&plan.replication, token);
    let until = wait_limit(deadline);
    let mut written = Vec::new();
    let outcome = send_and_check(src, &dests, spec, plan, &canaries, until, &mut written).await;
    match (outcome, remove(src, &dests, spec, &written).await) {
        (outcome, Ok(())) => outcome,
        (outcome, Err(cleanup)) => Err(ReplicationFailure::Cleanup {
            outcome: outcome.err().map(Box::new),
            cleanup,
        }),
    }
}

fn wait_limit(deadline: Deadline) -> Instant {
    let left = deadline.remaining();
    Instant::now() + left.saturating_sub(CLEANUP_RESERVE.min(left / 3))
}

async fn send_and_check<'a>(
    src: &Account,
    dests: &[Account],
    spec: &Spec,
    plan: &Plan,
    canaries: &'a [Canary],
    until: Instant,
    written: &mut Vec<Written<'a>>,
) -> Result<(), ReplicationFailure> {
    let bucket = spec.source.bucket.as_str();
    for c in canaries {
        let body = format!("s3-replication canary {}\n", c.key).into_bytes();
        let version = src
            .put_tagged_object(bucket, &c.key, body, &c.tags, plan.source_key().as_deref())
            .await?
            .ok_or_else(|| ReplicationFailure::NotVersioned {
                bucket: bucket.to_owned(),
                key: c.key.clone(),
            })?;
        written.push(Written { canary: c, version });
    }
    for w in written.iter() {
        wait_for_replication(src, bucket, w, until).await?;
        for &i in &w.canary.reaches {
            let (d, acct) = (&spec.destinations[i], &dests[i]);
            let seen = acct
                .object_version(d.bucket.as_str(), &w.canary.key, &w.version)
                .await?;
            let expected = plan.replication.rules[i]
                .destination
                .replica_kms_key_id
                .as_deref();
            if let Some(problem) = canary::replica_problem(expected, seen.as_ref()) {
                return Err(ReplicationFailure::Replica {
                    source_bucket: bucket.to_owned(),
                    key: w.canary.key.clone(),
                    bucket: d.bucket.to_string(),
                    account: d.account.to_string(),
                    region: d.region.to_string(),
                    problem,
                });
            }
        }
    }
    tracing::info!(
        canaries = written.len(),
        "verify: every canary replicated to every destination it must reach"
    );
    Ok(())
}

/// Polls the source version's replication status with growing pauses until it is final or
/// `until` would pass.
async fn wait_for_replication(
    src: &Account,
    bucket: &str,
    w: &Written<'_>,
    until: Instant,
) -> Result<(), ReplicationFailure> {
    let started = Instant::now();
    let mut pause = FIRST_POLL;
    loop {
        let status = src
            .object_version(bucket, &w.canary.key, &w.version)
            .await?
            .and_then(|o| o.replication_status);
        let (key, version) = (w.canary.key.clone(), w.version.clone());
        match status.as_deref() {
            // The SDK's enum also has COMPLETE; S3 documents COMPLETED for a source object.
            Some("COMPLETED" | "COMPLETE") => return Ok(()),
            Some("FAILED") => {
                return Err(ReplicationFailure::Failed {
                    bucket: bucket.to_owned(),
                    key,
                    version,
                })
            }
            None if started.elapsed() >= NOT_SELECTED_AFTER => {
                return Err(ReplicationFailure::NotSelected {
                    bucket: bucket.to_owned(),
                    key,
                })
            }
            _ => {}
        }
        if Instant::now() + pause > until {
            return Err(ReplicationFailure::TimedOut {
                bucket: bucket.to_owned(),
                key,
                version,
                status: status.unwrap_or_else(|| "not marked for replication".to_owned()),
                waited_s: started.elapsed().as_secs(),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// Removes every replica that exists and every source version written; keeps going past
/// failures and reports the first.
async fn remove(
    src: &Account,
    dests: &[Account],
    spec: &Spec,
    written: &[Written<'_>],
) -> Result<(), AwsError> {
    let mut first: Option<AwsError> = None;
    for w in written {
        for &i in &w.canary.reaches {
            let (bucket, acct) = (spec.destinations[i].bucket.as_str(), &dests[i]);
            let removed = async {
                if acct
                    .object_version(bucket, &w.canary.key, &w.version)
                    .await?
                    .is_some()
                {
                    acct.delete_object_version(bucket, &w.canary.key, &w.version)
                        .await?;
                }
                Ok::<_, AwsError>(())
            };
            if let Err(e) = removed.await {
                first.get_or_insert(e);
            }
        }
        let bucket = spec.source.bucket.as_str();
        if let Err(e) = src
            .delete_object_version(bucket, &w.canary.key, &w.version)
            .await
        {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}
