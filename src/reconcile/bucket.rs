//! The first read of every bucket the properties name: that it exists, in the region they say.

use super::ReconcileError;
use crate::aws::Account;

/// What the properties say of a bucket, for [`exists`].
pub struct Expected<'a> {
    pub region: &'a str,
    /// The property that sets the region, named when the bucket is elsewhere.
    pub region_property: &'a str,
    /// Appended to the error when the bucket is missing: what to do about it.
    pub missing_hint: &'static str,
    /// A missing bucket is not an error: the provider creates it (`CreateBucket: true`).
    pub may_create: bool,
}

/// Whether `bucket` exists in `acct`: an error when it is in another region, or missing and
/// not `may_create`.
pub async fn exists(
    acct: &Account,
    bucket: &str,
    expected: Expected<'_>,
) -> Result<bool, ReconcileError> {
    match acct.bucket_region(bucket).await? {
        None if expected.may_create => Ok(false),
        None => Err(ReconcileError::BucketMissing {
            bucket: bucket.to_owned(),
            account: acct.id.to_string(),
            region: expected.region.to_owned(),
            hint: expected.missing_hint,
        }),
        Some(actual) if actual != expected.region => Err(ReconcileError::WrongRegion {
            bucket: bucket.to_owned(),
            actual,
            expected: expected.region.to_owned(),
            property: expected.region_property.to_owned(),
        }),
        Some(_) => Ok(true),
    }
}
