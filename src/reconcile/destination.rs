//! One destination: its bucket (optionally created), versioning, and replica key.

use super::keys;
use super::ReconcileError;
use crate::aws::Account;
use crate::plan::names::destination_key_alias;
use crate::spec::{BucketName, Destination, DestinationKey};

#[derive(Debug, Clone)]
pub struct DestinationFacts {
    pub exists: bool,
    pub versioned: bool,
    pub key: Option<String>,
}

/// Read-only checks: the bucket exists in the stated region (or will be created), the key is usable.
pub async fn check(
    acct: &Account,
    d: &Destination,
    source: &BucketName,
) -> Result<DestinationFacts, ReconcileError> {
    let bucket = d.bucket.as_str();
    let exists = match acct.bucket_region(bucket).await? {
        None if d.create_bucket => false,
        None => {
            return Err(ReconcileError::BucketMissing {
                bucket: bucket.to_owned(),
                account: acct.id.to_string(),
                region: d.region.to_string(),
                hint: "; create it first or set CreateBucket: true",
            })
        }
        Some(actual) if actual != d.region.as_str() => {
            return Err(ReconcileError::WrongRegion {
                bucket: bucket.to_owned(),
                actual,
                expected: d.region.to_string(),
                property: "the destination's Region".to_owned(),
            })
        }
        Some(_) => true,
    };
    let versioned =
        async { Ok::<_, ReconcileError>(exists && acct.versioning_enabled(bucket).await?) };
    let key = async {
        match &d.kms_key {
            DestinationKey::None => Ok(None),
            DestinationKey::Existing(arn) => {
                Ok(Some(keys::check_usable(acct, arn.as_str()).await?))
            }
            DestinationKey::Create => {
                keys::find_created(acct, &destination_key_alias(source, &d.bucket)).await
            }
        }
    };
    let (versioned, key) = futures::join!(versioned, key);
    let (versioned, key) = (versioned?, key?);
    Ok(DestinationFacts {
        exists,
        versioned,
        key,
    })
}

/// Creates what is missing: the bucket (versioned, public access blocked, bucket owner enforced,
/// default SSE-KMS with the replica key), versioning, the replica key. Returns the key ARN.
pub async fn prepare(
    acct: &Account,
    d: &Destination,
    source: &BucketName,
    facts: &DestinationFacts,
) -> Result<Option<String>, ReconcileError> {
    let bucket = d.bucket.as_str();
    if facts.exists {
        // An existing bucket: versioning and the key are independent.
        let versioning = async {
            if !facts.versioned {
                acct.enable_versioning(bucket).await?;
            }
            Ok(())
        };
        let ((), key) = futures::try_join!(versioning, replica_key(acct, d, source, facts))?;
        return Ok(key);
    }
    // A new bucket gets the key as its default encryption: key first.
    let key = replica_key(acct, d, source, facts).await?;
    acct.create_bucket(bucket).await?;
    acct.block_public_access(bucket).await?;
    acct.enforce_bucket_owner(bucket).await?;
    if let Some(key) = &key {
        acct.put_default_kms_encryption(bucket, key).await?;
    }
    acct.enable_versioning(bucket).await?;
    Ok(key)
}

/// The replica key: the known one, or (`Create`) ours.
async fn replica_key(
    acct: &Account,
    d: &Destination,
    source: &BucketName,
    facts: &DestinationFacts,
) -> Result<Option<String>, ReconcileError> {
    let bucket = d.bucket.as_str();
    let key = match (&d.kms_key, &facts.key) {
        (DestinationKey::Create, None) => {
            let description = format!("Encrypts replicas from s3://{source} in s3://{bucket} (created by the Custom::S3Replication provider)");
            Some(
                keys::ensure_created(
                    acct,
                    &destination_key_alias(source, &d.bucket),
                    &description,
                    source,
                )
                .await?,
            )
        }
        (_, known) => known.clone(),
    };
    Ok(key)
}
