//! S3 Control: the S3 Batch Replication jobs of a source bucket (create, list, describe).

use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture};
use aws_sdk_s3control::types::{
    JobManifestGenerator, JobManifestGeneratorFilter, JobOperation, JobReport, JobReportFormat,
    JobReportScope, KeyNameConstraint, ReplicationStatus, S3JobManifestGenerator,
    S3ManifestOutputLocation, S3ReplicateObjectOperation,
};

use super::account::{construction, op, optional};
use super::{Account, AwsError, Op};
use crate::plan::batch::DESCRIPTION_PREFIX;
use crate::spec::ObjectStatus;

const CREATE_JOB: Op = op(
    "s3control",
    "CreateJob",
    "s3:CreateJob, and iam:PassRole of the batch role to batchoperations.s3.amazonaws.com,",
    true,
);
const LIST_JOBS: Op = op("s3control", "ListJobs", "s3:ListJobs", false);
const DESCRIBE_JOB: Op = op("s3control", "DescribeJob", "s3:DescribeJob", false);

/// One S3 Batch Operations job as ListJobs or DescribeJob tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub id: String,
    pub description: String,
    /// `Active`, `Complete`, `Failed`, … as S3 names it.
    pub status: String,
    /// Seconds since the epoch.
    pub created: i64,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Why the job failed (DescribeJob only).
    pub failure_reasons: Vec<String>,
}

impl JobInfo {
    /// What ListJobs and DescribeJob both say of a job (no failure reasons: DescribeJob only).
    fn new(
        id: &str,
        description: &str,
        status: Option<&aws_sdk_s3control::types::JobStatus>,
        created: Option<&aws_sdk_s3control::primitives::DateTime>,
        progress: Option<&aws_sdk_s3control::types::JobProgressSummary>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            description: description.to_owned(),
            status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            created: created.map_or(0, |t| t.secs()),
            total: progress
                .and_then(|p| p.total_number_of_tasks())
                .unwrap_or(0),
            succeeded: progress
                .and_then(|p| p.number_of_tasks_succeeded())
                .unwrap_or(0),
            failed: progress
                .and_then(|p| p.number_of_tasks_failed())
                .unwrap_or(0),
            failure_reasons: Vec::new(),
        }
    }

    /// Status and progress, as `plan --diff` and the doctor show them.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "JobId": self.id,
            "Status": self.status,
            "TotalNumberOfTasks": self.total,
            "NumberOfTasksSucceeded": self.succeeded,
            "NumberOfTasksFailed": self.failed,
            "FailureReasons": self.failure_reasons,
        })
    }

    /// One line: `Complete: 3 of 3 objects replicated, 0 failed`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "job {} {}: {} of {} objects replicated, {} failed",
            self.id, self.status, self.succeeded, self.total, self.failed
        );
        if !self.failure_reasons.is_empty() {
            s.push_str(&format!(" ({})", self.failure_reasons.join("; ")));
        }
        s
    }
}

/// Everything CreateJob receives for one destination's Batch Replication job.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub role_arn: &'a str,
    pub source_bucket_arn: &'a str,
    /// Only keys under it are listed in the generated manifest.
    pub prefix: Option<&'a str>,
    pub statuses: &'a [ObjectStatus],
    pub report_bucket_arn: &'a str,
    pub report_prefix: &'a str,
    pub report_all_tasks: bool,
    pub description: &'a str,
    pub token: &'a str,
    pub priority: i32,
}

/// With a configured endpoint (`AWS_ENDPOINT_URL`: a proxy or a local service), S3 Control
/// requests go to it as given: the standard rules would put the account id in front of its
/// host name (`<account>.<host>`), which only AWS's own endpoints resolve.
#[derive(Debug)]
pub(super) struct AsConfigured(pub String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for AsConfigured {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

/// The S3 Control client for `config`.
pub(super) fn client(config: &aws_config::SdkConfig) -> aws_sdk_s3control::Client {
    let mut b = aws_sdk_s3control::config::Builder::from(config);
    if let Some(url) = config.endpoint_url() {
        b = b.endpoint_resolver(AsConfigured(url.to_owned()));
    }
    aws_sdk_s3control::Client::from_conf(b.build())
}

fn status_of(s: ObjectStatus) -> ReplicationStatus {
    match s {
        ObjectStatus::None => ReplicationStatus::None,
        ObjectStatus::Failed => ReplicationStatus::Failed,
        ObjectStatus::Completed => ReplicationStatus::Completed,
        ObjectStatus::Replica => ReplicationStatus::Replica,
    }
}

impl NewJob<'_> {
    /// The generated manifest: objects eligible for replication with the given statuses (under
    /// the prefix), stored beside the reports.
    fn manifest(&self, acct: &Account) -> Result<JobManifestGenerator, AwsError> {
        let account = acct.id.as_str();
        let mut filter = JobManifestGeneratorFilter::builder()
            .eligible_for_replication(true)
            .set_object_replication_statuses(Some(
                self.statuses.iter().copied().map(status_of).collect(),
            ));
        if let Some(p) = self.prefix {
            filter = filter
                .key_name_constraint(KeyNameConstraint::builder().match_any_prefix(p).build());
        }
        let output = S3ManifestOutputLocation::builder()
            .expected_manifest_bucket_owner(account)
            .bucket(self.report_bucket_arn)
            .manifest_prefix(self.report_prefix)
            .manifest_format(
                aws_sdk_s3control::types::GeneratedManifestFormat::S3InventoryReportCsv20211130,
            )
            .build()
            .map_err(|e| construction(CREATE_JOB, acct, self.source_bucket_arn, e))?;
        let generator = S3JobManifestGenerator::builder()
            .expected_bucket_owner(account)
            .source_bucket(self.source_bucket_arn)
            .manifest_output_location(output)
            .filter(filter.build())
            .enable_manifest_output(true)
            .build()
            .map_err(|e| construction(CREATE_JOB, acct, self.source_bucket_arn, e))?;
        Ok(JobManifestGenerator::S3JobManifestGenerator(generator))
    }

    fn report(&self) -> JobReport {
        let scope = if self.report_all_tasks {
            JobReportScope::AllTasks
        } else {
            JobReportScope::FailedTasksOnly
        };
        JobReport::builder()
            .bucket(self.report_bucket_arn)
            .format(JobReportFormat::ReportCsv20180820)
            .enabled(true)
            .prefix(self.report_prefix)
            .report_scope(scope)
            .build()
    }
}

impl Account {
    /// Starts a Batch Replication job; returns its id (the first job's, for a token S3 has
    /// seen).
    pub async fn create_job(&self, job: &NewJob<'_>) -> Result<String, AwsError> {
        let account = self.id.as_str();
        let operation = JobOperation::builder()
            .s3_replicate_object(S3ReplicateObjectOperation::builder().build())
            .build();
        let req = self
            .s3control
            .create_job()
            .account_id(account)
            .confirmation_required(false)
            .operation(operation)
            .report(job.report())
            .client_request_token(job.token)
            .manifest_generator(job.manifest(self)?)
            .priority(job.priority)
            .role_arn(job.role_arn)
            .description(job.description);
        let out = self
            .call(CREATE_JOB, job.source_bucket_arn, req.send())
            .await?;
        Ok(out.job_id().unwrap_or_default().to_owned())
    }

    /// Every job of this account and region this provider started (by its description), newest
    /// first.
    pub async fn batch_jobs(&self) -> Result<Vec<JobInfo>, AwsError> {
        let mut jobs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let req = self
                .s3control
                .list_jobs()
                .account_id(self.id.as_str())
                .max_results(1000)
                .set_next_token(token.take());
            let out = self.call(LIST_JOBS, "jobs", req.send()).await?;
            for j in out.jobs() {
                let description = j.description().unwrap_or_default();
                if !description.starts_with(DESCRIPTION_PREFIX) {
                    continue;
                }
                jobs.push(JobInfo::new(
                    j.job_id().unwrap_or_default(),
                    description,
                    j.status(),
                    j.creation_time(),
                    j.progress_summary(),
                ));
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        jobs.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(jobs)
    }

    /// One job's status and progress (`None`: S3 no longer knows it).
    pub async fn describe_job(&self, id: &str) -> Result<Option<JobInfo>, AwsError> {
        let req = self
            .s3control
            .describe_job()
            .account_id(self.id.as_str())
            .job_id(id);
        let Some(out) = optional(self.call(DESCRIBE_JOB, id, req.send()).await)? else {
            return Ok(None);
        };
        let Some(j) = out.job() else {
            return Ok(None);
        };
        let mut info = JobInfo::new(
            j.job_id().unwrap_or(id),
            j.description().unwrap_or_default(),
            j.status(),
            j.creation_time(),
            j.progress_summary(),
        );
        info.failure_reasons = j
            .failure_reasons()
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.failure_code().unwrap_or_default(),
                    f.failure_reason().unwrap_or_default()
                )
            })
            .collect();
        Ok(Some(info))
    }
}
