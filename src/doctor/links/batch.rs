//! `destination[i].existing-objects`: how the latest S3 Batch Replication job the provider
//! started for a destination (`ReplicateExistingObjects`) went. Running counts as a pass (the
//! job may take hours); a failed job, or one with failed tasks, leaves objects unreplicated.

use serde_json::json;

use super::{BatchJob, Finding, SourceBucket, Status};

/// Statuses of a job that ended without replicating everything it listed.
const ENDED_BADLY: [&str; 3] = ["Failed", "Cancelled", "Suspended"];

pub(super) fn existing_objects(link: &str, source: &SourceBucket, job: &BatchJob) -> Finding {
    let progress = format!(
        "{} of {} existing objects replicated, {} failed",
        job.succeeded, job.total, job.failed
    );
    let broken = ENDED_BADLY.contains(&job.status.as_str()) || job.failed > 0;
    let detail = if broken {
        let reasons = if job.failure_reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", job.failure_reasons.join("; "))
        };
        format!(
            "batch replication job {} is {}{reasons}: {progress}; its completion report (BatchReplication.ReportBucket/ReportPrefix) lists the failed objects",
            job.job_id, job.status
        )
    } else if job.status == "Complete" {
        format!(
            "batch replication job {} is Complete: {progress}",
            job.job_id
        )
    } else {
        format!(
            "batch replication job {} is {} (still running): {progress} so far",
            job.job_id, job.status
        )
    };
    Finding {
        link: link.to_owned(),
        status: if broken { Status::Fail } else { Status::Pass },
        detail,
        account: source.account.clone(),
        region: source.region.clone(),
        resource: format!(
            "arn:aws:s3:{}:{}:job/{}",
            source.region, source.account, job.job_id
        ),
        fix: broken.then(|| {
            json!([{
                "Account": source.account, "Region": source.region,
                "Call": "fix the cause the report names, then Update the stack with ReplicateExistingObjects false and again true for this destination: a new job lists the objects still NONE or FAILED"
            }])
        }),
        advisory: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceBucket {
        serde_json::from_value(json!({"account": "111111111111", "region": "eu-west-1", "bucket": "src", "versioning": "Enabled"})).unwrap()
    }

    fn job(status: &str, failed: i64) -> BatchJob {
        BatchJob {
            rule_id: "r".into(),
            job_id: "j".into(),
            status: status.into(),
            total: 3,
            succeeded: 3 - failed,
            failed,
            failure_reasons: vec![],
        }
    }

    #[test]
    fn a_complete_or_running_job_passes_and_a_failed_one_or_failed_tasks_fail() {
        let f = existing_objects("d", &source(), &job("Complete", 0));
        assert_eq!(f.status, Status::Pass);
        assert!(f.detail.contains("3 of 3"), "{}", f.detail);
        let f = existing_objects("d", &source(), &job("Active", 0));
        assert_eq!(f.status, Status::Pass);
        assert!(f.detail.contains("still running"), "{}", f.detail);
        let f = existing_objects("d", &source(), &job("Complete", 1));
        assert_eq!(f.status, Status::Fail);
        assert!(f.fix.is_some());
        let f = existing_objects("d", &source(), &job("Failed", 0));
        assert_eq!(f.status, Status::Fail);
        assert!(f.detail.contains("completion report"), "{}", f.detail);
    }
}
