//! One destination: its bucket (optionally created), versioning, and replica key.

use super::bucket::{self, Expected};
use super::gate::Gate;
use super::ReconcileError;
use super::{diff, keys};
use crate::aws::{Account, ErrorKind};
use crate::plan::names::destination_key_alias;
use crate::plan::overlap::SHARED_KEY_SPACE_TAG;
use crate::plan::KeyRef;
use crate::spec::{BucketName, Destination, DestinationKey};

#[derive(Debug, Clone)]
pub struct DestinationFacts {
    pub exists: bool,
    pub versioned: bool,
    /// The bucket's owner lets several sources write into the same objects (tag
    /// [`SHARED_KEY_SPACE_TAG`] = `true`, which no provider role may set).
    pub shared_key_space: bool,
    /// The replica key: existing (named, or created earlier), or the one Create makes.
    pub key: Option<KeyRef>,
}

/// Read-only checks: the bucket exists in the stated region (or will be created), the key is usable.
pub async fn check(
    acct: &Account,
    d: &Destination,
    source: &BucketName,
) -> Result<DestinationFacts, ReconcileError> {
    let bucket = d.bucket.as_str();
    let exists = bucket::exists(
        acct,
        bucket,
        Expected {
            region: d.region.as_str(),
            region_property: "the destination's Region",
            missing_hint: "; create it first or set CreateBucket: true",
            may_create: d.create_bucket,
        },
    )
    .await?;
    let versioned =
        async { Ok::<_, ReconcileError>(exists && acct.versioning_enabled(bucket).await?) };
    let key = async {
        Ok::<_, ReconcileError>(match &d.kms_key {
            DestinationKey::None => None,
            DestinationKey::Existing(arn) => Some(KeyRef::Existing(
                keys::check_usable(acct, arn.as_str()).await?,
            )),
            DestinationKey::Create => {
                let found =
                    keys::find_created(acct, &destination_key_alias(source, &d.bucket)).await?;
                Some(KeyRef::found_or(found, || {
                    KeyRef::destination_to_create(source, d)
                }))
            }
        })
    };
    let shared = async {
        if !exists {
            return Ok::<_, ReconcileError>(false);
        }
        match acct.bucket_tag(bucket, SHARED_KEY_SPACE_TAG).await {
            Ok(tag) => Ok(tag.as_deref() == Some("true")),
            // A destination role deployed before the tag existed may not read tags: the owner
            // has not allowed sharing, as far as the provider can know.
            Err(e) if e.kind == ErrorKind::AccessDenied => {
                tracing::warn!(bucket, account = %acct.id, error = %e, "cannot read the bucket's tags; its objects are not shared with other sources");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    };
    let (versioned, key, shared) = futures::join!(versioned, key, shared);
    let (versioned, key, shared_key_space) = (versioned?, key?, shared?);
    Ok(DestinationFacts {
        exists,
        versioned,
        shared_key_space,
        key,
    })
}

/// Creates what is missing: the bucket (versioned, TLS-only policy, public access blocked,
/// bucket owner enforced, default SSE-KMS with the replica key), versioning, the replica key. Opens `bucket_exists` as
/// soon as the bucket exists (at once for an existing one), for the steps that need nothing
/// else of it. Returns the key ARN.
pub(super) async fn prepare(
    acct: &Account,
    d: &Destination,
    source: &BucketName,
    facts: &DestinationFacts,
    bucket_exists: &Gate,
) -> Result<Option<String>, ReconcileError> {
    let bucket = d.bucket.as_str();
    let key = replica_key(acct, d, source, facts);
    if facts.exists {
        bucket_exists.open();
        // An existing bucket: versioning and the key are independent.
        let versioning = async {
            if diff::versioning(facts.versioned).changes() {
                acct.enable_versioning(bucket).await?;
            }
            Ok(())
        };
        let ((), key) = futures::try_join!(versioning, key)?;
        return Ok(key);
    }
    // A new bucket: made private and owner-enforced right after it is created, while the key
    // is created (the bucket-policy statement that may be written meanwhile grants only the
    // replication role); the key becomes its default encryption.
    let new_bucket = async {
        acct.create_bucket(bucket).await?;
        // Its first policy, written before the gate opens (nobody else writes it yet): TLS
        // only. The replication grant is added to it by the usual policy edit.
        let arn = d.bucket.arn(acct.region.partition());
        let policy = crate::plan::policy::new_bucket_policy(&arn);
        acct.put_bucket_policy(bucket, &policy.to_string()).await?;
        bucket_exists.open();
        acct.block_public_access(bucket).await?;
        acct.enforce_bucket_owner(bucket).await?;
        Ok::<_, ReconcileError>(())
    };
    let ((), key) = futures::try_join!(new_bucket, key)?;
    if let Some(key) = &key {
        acct.put_default_kms_encryption(bucket, key).await?;
    }
    acct.enable_versioning(bucket).await?;
    Ok(key)
}

/// The replica key: the known one, or (`Create`) ours, made now if the check found none.
async fn replica_key(
    acct: &Account,
    d: &Destination,
    source: &BucketName,
    facts: &DestinationFacts,
) -> Result<Option<String>, ReconcileError> {
    let found = facts.key.as_ref().and_then(KeyRef::arn);
    if !d.kms_key.creates() {
        return Ok(found.map(str::to_owned));
    }
    let bucket = d.bucket.as_str();
    let description = format!("Encrypts replicas from s3://{source} in s3://{bucket} (created by the Custom::S3Replication provider)");
    let alias = destination_key_alias(source, &d.bucket);
    Ok(Some(
        keys::ensure_created(acct, &alias, &description, source, found).await?,
    ))
}
