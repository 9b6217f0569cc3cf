//! `destination[i].failed-objects`: objects whose replication FAILED recently. S3 never
//! retries them ("If object replication fails after you upload an object, you can't retry
//! replication. You must upload the object again, or you must use S3 Batch Replication to
//! replicate any failed objects", S3 User Guide, "Getting replication status information"), so
//! they stay unreplicated however quiet the alarm has become: this link keeps them in view and
//! offers the job that replicates them.

use serde_json::json;

use super::{DestinationBucket, FailedReplications, Finding, SourceBucket, Status};

/// The link's name after `destination[i].`: history, not configuration (`Verify` leaves it out:
/// an Update cannot undo a failure of the past, only the job it offers can).
pub const FAILED_OBJECTS: &str = "failed-objects";

pub(super) fn failed_objects(
    link: &str,
    partition: &str,
    source: &SourceBucket,
    d: &DestinationBucket,
    f: &FailedReplications,
) -> Finding {
    let arn = format!("arn:{partition}:s3:::{}", source.bucket);
    let failed = f.failed > 0;
    let detail = if failed {
        format!(
            "{} replication operations of rule {} to {} failed in the last {} days (OperationsFailedReplication); S3 does not retry an object whose replication FAILED: it stays unreplicated until it is written again or S3 Batch Replication replicates it. Fix the cause first (the doctor's other links, the failure events' reasons)",
            f.failed, d.rule_id, d.bucket, f.days
        )
    } else {
        format!(
            "no replication operation of rule {} failed in the last {} days (OperationsFailedReplication)",
            d.rule_id, f.days
        )
    };
    Finding {
        link: link.to_owned(),
        status: if failed { Status::Fail } else { Status::Pass },
        detail,
        account: source.account.clone(),
        region: source.region.clone(),
        resource: arn.clone(),
        fix: failed.then(|| {
            let mut filter = json!({"EligibleForReplication": true, "ObjectReplicationStatuses": ["FAILED"]});
            if let Some(p) = &d.prefix {
                filter["KeyNameConstraint"] = json!({"MatchAnyPrefix": [p]});
            }
            json!([{
                "account": source.account, "region": source.region, "resource": arn,
                "property": format!(
                    "on the destination {}: ReplicateExistingObjects true and BatchReplication.ObjectReplicationStatuses [FAILED], then Update the stack (already true: Update it to false and back); the provider starts this job",
                    d.bucket
                ),
                "call": "s3:CreateJob",
                "request": {
                    "Operation": {"S3ReplicateObject": {}},
                    "ManifestGenerator": {"S3JobManifestGenerator": {
                        "SourceBucket": arn, "EnableManifestOutput": false, "Filter": filter}},
                    "Report": {"Enabled": false},
                    "Priority": 10,
                    "ConfirmationRequired": false,
                    "RoleArn": batch_role_arn(partition, source),
                    "ClientRequestToken": format!("retry-failed-{}", d.rule_id)
                }
            }])
        }),
        advisory: None,
    }
}

/// The role the provider's own jobs run as (it exists once a destination has used
/// `ReplicateExistingObjects`; any role S3 Batch Operations may assume with
/// `s3:InitiateReplication` on the objects serves).
fn batch_role_arn(partition: &str, source: &SourceBucket) -> String {
    let name = crate::spec::BucketName::parse(&source.bucket)
        .map(|b| crate::plan::names::batch_role_name(&b))
        .unwrap_or_else(|_| format!("s3-batch-replication-{}", source.bucket));
    format!(
        "arn:{partition}:iam::{}:role{}{name}",
        source.account,
        crate::plan::names::BATCH_ROLE_PATH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceBucket {
        serde_json::from_value(json!({"account": "111111111111", "region": "eu-west-1", "bucket": "src", "versioning": "Enabled"})).unwrap()
    }

    fn destination(prefix: Option<&str>) -> DestinationBucket {
        serde_json::from_value(json!({"account": "222222222222", "region": "us-west-2",
            "bucket": "dst", "versioning": "Enabled", "rule_id": "r", "prefix": prefix}))
        .unwrap()
    }

    fn counted(failed: u64) -> FailedReplications {
        FailedReplications {
            rule_id: "r".into(),
            failed,
            days: 14,
        }
    }

    #[test]
    fn no_failure_passes_and_any_failure_fails_offering_the_job_for_failed_objects() {
        let quiet = failed_objects(
            "destination[0].failed-objects",
            "aws",
            &source(),
            &destination(None),
            &counted(0),
        );
        assert_eq!(quiet.status, Status::Pass);
        assert!(quiet.fix.is_none());
        let broken = failed_objects(
            "destination[0].failed-objects",
            "aws",
            &source(),
            &destination(Some("logs/")),
            &counted(3),
        );
        assert_eq!(broken.status, Status::Fail);
        assert!(
            broken.detail.contains("3 replication operations of rule r"),
            "{}",
            broken.detail
        );
        assert!(
            broken.detail.contains("does not retry"),
            "{}",
            broken.detail
        );
        let fix = &broken.fix.unwrap()[0];
        assert_eq!(fix["call"], "s3:CreateJob");
        let generator = &fix["request"]["ManifestGenerator"]["S3JobManifestGenerator"];
        assert_eq!(generator["SourceBucket"], "arn:aws:s3:::src");
        assert_eq!(
            generator["Filter"]["ObjectReplicationStatuses"],
            json!(["FAILED"])
        );
        assert_eq!(
            generator["Filter"]["KeyNameConstraint"]["MatchAnyPrefix"],
            json!(["logs/"])
        );
        assert_eq!(
            fix["request"]["Operation"],
            json!({"S3ReplicateObject": {}})
        );
        assert!(fix["property"]
            .as_str()
            .unwrap()
            .contains("ObjectReplicationStatuses [FAILED]"));
    }
}
