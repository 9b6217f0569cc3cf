//! The bucket settings replication requires of source and destination alike: versioning
//! Enabled, Requester Pays off, Object Lock on the destination when the source has it.

use serde_json::json;

use super::{DestinationBucket, Finding, SourceBucket, Status, Versioning};

/// "Both source and destination buckets must have versioning enabled."
pub(super) fn versioning(
    link: &str,
    account: &str,
    region: &str,
    arn: &str,
    bucket: &str,
    status: Versioning,
) -> Finding {
    let ok = status == Versioning::Enabled;
    Finding {
        link: link.to_owned(),
        status: if ok { Status::Pass } else { Status::Fail },
        detail: if ok {
            format!("versioning is Enabled on {bucket}")
        } else {
            format!("versioning is {status:?} on {bucket}; replication requires Enabled")
        },
        account: account.to_owned(),
        region: region.to_owned(),
        resource: arn.to_owned(),
        fix: (!ok).then(|| {
            json!([{"account": account, "region": region, "resource": arn,
                "call": "s3:PutBucketVersioning",
                "request": {"Bucket": bucket, "VersioningConfiguration": {"Status": "Enabled"}}}])
        }),
        advisory: None,
    }
}

/// Replication does not work with Requester Pays buckets.
pub(super) fn requester_pays(
    link: &str,
    account: &str,
    region: &str,
    arn: &str,
    bucket: &str,
    on: bool,
) -> Finding {
    Finding {
        link: link.to_owned(),
        status: if on { Status::Fail } else { Status::Pass },
        detail: if on {
            format!("Requester Pays is on for {bucket}; replication requires it off")
        } else {
            format!("Requester Pays is off for {bucket}")
        },
        account: account.to_owned(),
        region: region.to_owned(),
        resource: arn.to_owned(),
        fix: on.then(|| {
            json!([{"account": account, "region": region, "resource": arn,
                "call": "s3:PutBucketRequestPayment",
                "request": {"Bucket": bucket, "RequestPaymentConfiguration": {"Payer": "BucketOwner"}}}])
        }),
        advisory: None,
    }
}

/// Objects under Object Lock replicate only into a bucket with Object Lock enabled.
pub(super) fn object_lock(
    link: &str,
    src: &SourceBucket,
    d: &DestinationBucket,
    arn: &str,
) -> Finding {
    let ok = !src.object_lock || d.object_lock;
    Finding {
        link: link.to_owned(),
        status: if ok { Status::Pass } else { Status::Fail },
        detail: match (src.object_lock, d.object_lock) {
            (false, _) => format!("{} has no Object Lock", src.bucket),
            (true, true) => format!("{} and {} both have Object Lock", src.bucket, d.bucket),
            (true, false) => format!(
                "{} has Object Lock but {} does not; locked objects cannot be replicated into it",
                src.bucket, d.bucket
            ),
        },
        account: d.account.clone(),
        region: d.region.clone(),
        resource: arn.to_owned(),
        fix: (!ok).then(|| {
            json!([{"account": d.account, "region": d.region, "resource": arn,
                "call": "s3:PutObjectLockConfiguration",
                "request": {"Bucket": d.bucket, "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}}])
        }),
        advisory: None,
    }
}
