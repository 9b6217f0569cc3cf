//! `ReplicateExistingObjects`: the batch-operations role (made with the replication role,
//! granted with the other grants) and, once the replication configuration is on, the S3 Batch
//! Replication job of each destination this request adds. Jobs are never waited for, cancelled
//! or removed: they run for hours, and their reports are the record of what they did.

use super::apply::bounded;
use super::retry::until_propagated;
use super::role::{self, DesiredRole};
use super::ReconcileError;
use crate::aws::{Account, JobInfo, NewJob};
use crate::plan::batch::{incarnation_mark, parse_mark, triggered, JOB_PRIORITY};
use crate::plan::names::{tags, BATCH_ROLE_POLICY_NAME};
use crate::plan::{BatchJob, BatchPlan, Plan, Resolved};
use crate::spec::Spec;
use crate::time::Deadline;

/// The batch role of `batch`, tagged like the replication role (without the key record, which
/// only the replication role keeps).
fn desired<'a>(r: &'a Resolved, batch: &'a BatchPlan) -> DesiredRole<'a> {
    DesiredRole {
        name: &batch.role_name,
        path: crate::plan::names::BATCH_ROLE_PATH,
        description: format!(
            "S3 Batch Replication of existing objects of {} (managed by the Custom::S3Replication provider)",
            r.source_bucket
        ),
        trust: &batch.trust_policy,
        tags: r
            .role_tags()
            .into_iter()
            .filter(|(k, _)| *k != tags::KEY_REMOVAL)
            .collect(),
        boundary: r.permissions_boundary.as_deref(),
    }
}

/// Creates the batch role or converges it (nothing when no destination replicates existing
/// objects).
pub async fn ensure_role(src: &Account, plan: &Plan) -> Result<(), ReconcileError> {
    match &plan.batch {
        Some(b) => role::ensure_desired(src, &desired(&plan.resolved, b)).await,
        None => Ok(()),
    }
}

/// Puts the batch role's inline policy if it differs from the plan.
pub async fn ensure_policy(src: &Account, plan: &Plan) -> Result<(), ReconcileError> {
    match &plan.batch {
        Some(b) => {
            role::ensure_inline_policy(src, &b.role_name, BATCH_ROLE_POLICY_NAME, &b.role_policy)
                .await
        }
        None => Ok(()),
    }
}

/// Removes the batch role when it is this resource's (Delete, or an Update that turned
/// `ReplicateExistingObjects` off everywhere). A job still running then fails: its report says
/// which objects it did not replicate.
pub async fn remove_role(src: &Account, r: &Resolved) -> Result<(), ReconcileError> {
    let name = crate::plan::names::batch_role_name(&r.source_bucket);
    role::delete_role(src, &name, &r.physical_id).await
}

/// The job id of each destination (destination order; `None` where it replicates no existing
/// objects): the job this request starts for a destination it adds (or whose flag it turns
/// on), else the latest job this resource started for it. A Create finds the job an earlier
/// Create of the same resource started (same batch role: same incarnation) and starts none;
/// a retried request finds its own by token.
pub async fn start_jobs(
    src: &Account,
    spec: &Spec,
    old: Option<&Spec>,
    plan: &Plan,
    request_id: &str,
    deadline: Deadline,
) -> Result<Vec<Option<String>>, ReconcileError> {
    let mut ids = vec![None; spec.destinations.len()];
    let Some(batch) = &plan.batch else {
        return Ok(ids);
    };
    let Some(role) = src.role(&batch.role_name).await? else {
        return Err(ReconcileError::LiveStateUnreadable {
            what: format!("batch role {}", batch.role_arn),
            why: "it was created by this request but cannot be read back".to_owned(),
        });
    };
    let incarnation = incarnation_mark(&role.role_id);
    let existing = src.batch_jobs().await?;
    let triggers = triggered(spec, old);
    let found = bounded(batch.jobs.iter().map(|job| {
        let trigger = triggers[job.dest_index];
        let token = job.token(request_id);
        let same_request = started_for(&existing, &incarnation, job)
            .find(|j| parse_mark(&j.description).is_some_and(|(_, _, t)| t == token));
        let latest = started_for(&existing, &incarnation, job).next();
        let reuse = match trigger {
            None => latest,
            Some(_) if old.is_none() => same_request.or(latest),
            Some(_) => same_request,
        }
        .map(|j| j.id.clone());
        let incarnation = &incarnation;
        async move {
            match (reuse, trigger) {
                (Some(id), _) => Ok(Some(id)),
                (None, None) => Ok(None),
                (None, Some(t)) => {
                    let description = job.description(&spec.source.bucket, incarnation, &token);
                    let statuses = job.statuses_for(t.joins_existing);
                    let source_bucket_arn = plan.resolved.source_bucket_arn();
                    let new = NewJob {
                        role_arn: batch.role_arn.as_str(),
                        source_bucket_arn: &source_bucket_arn,
                        prefix: job.prefix.as_deref(),
                        statuses: &statuses,
                        report_bucket_arn: &batch.report_bucket_arn,
                        report_prefix: &batch.report_prefix,
                        report_all_tasks: batch.report_all_tasks,
                        description: &description,
                        token: &token,
                        priority: JOB_PRIORITY,
                    };
                    start(src, job, &new, deadline).await.map(Some)
                }
            }
        }
    }))
    .await?;
    for (job, id) in batch.jobs.iter().zip(found) {
        ids[job.dest_index] = id;
    }
    Ok(ids)
}

/// The jobs (newest first) this incarnation of the resource started for `job`'s destination.
fn started_for<'a>(
    jobs: &'a [JobInfo],
    incarnation: &'a str,
    job: &'a BatchJob,
) -> impl Iterator<Item = &'a JobInfo> {
    jobs.iter().filter(move |j| {
        parse_mark(&j.description)
            .is_some_and(|(i, rule, _)| i == incarnation && rule == job.rule_mark)
    })
}

/// For each job of `batch` (in order), the latest job this resource started for its
/// destination, as DescribeJob tells it now (read only: `plan --diff` and the doctor).
pub async fn jobs_of(
    src: &Account,
    batch: &BatchPlan,
) -> Result<Vec<Option<JobInfo>>, ReconcileError> {
    let Some(role) = src.role(&batch.role_name).await? else {
        return Ok(vec![None; batch.jobs.len()]);
    };
    let incarnation = incarnation_mark(&role.role_id);
    let existing = src.batch_jobs().await?;
    bounded(batch.jobs.iter().map(|job| {
        let latest = started_for(&existing, &incarnation, job).next().cloned();
        async move {
            Ok(match latest {
                Some(j) => Some(src.describe_job(&j.id).await?.unwrap_or(j)),
                None => None,
            })
        }
    }))
    .await
}

/// CreateJob for one destination, retried while the batch role is not yet usable.
async fn start(
    src: &Account,
    job: &BatchJob,
    new: &NewJob<'_>,
    deadline: Deadline,
) -> Result<String, ReconcileError> {
    let id = until_propagated(deadline, "CreateJob", || src.create_job(new)).await?;
    tracing::info!(job_id = %id, destination = %job.dest_bucket, rule = %job.rule_id, "batch replication job started");
    Ok(id)
}
