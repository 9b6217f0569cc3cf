//! The source side: bucket, its replication configuration's owner, versioning, source key.

use super::bucket::{self, Expected};
use super::ReconcileError;
use super::{diff, keys};
use crate::aws::{Account, Membership};
use crate::plan::names::source_key_alias;
use crate::plan::{KeyRef, Resolved};
use crate::spec::{SourceKey, Spec};

/// What the read-only checks found on the source side.
#[derive(Debug, Clone)]
pub struct SourceFacts {
    pub versioned: bool,
    /// The source key, if objects are SSE-KMS: existing (named, discovered, or created
    /// earlier), or the one Create makes.
    pub key: Option<KeyRef>,
    /// The default SSE-KMS key of `BatchReplication.ReportBucket`, when that is another bucket
    /// (used only when some destination replicates existing objects).
    pub report_key: Option<String>,
}

/// Read-only checks that must pass before anything is changed anywhere.
pub async fn check(
    acct: &Account,
    spec: &Spec,
    r: &Resolved,
) -> Result<SourceFacts, ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    bucket::exists(
        acct,
        bucket,
        Expected {
            region: acct.region.as_str(),
            region_property: "SourceRegion",
            missing_hint: "; SourceBucket must be an existing bucket in the source account",
            may_create: false,
        },
    )
    .await?;
    // The bucket exists here: its other reads are independent of each other.
    let owner = async {
        // The role this resource uses records who owns the source's replication.
        let record = super::role::record(acct, &r.role_name).await?;
        super::role::check_owner(r, record.as_ref(), spec.take_over_existing_replication)?;
        if let Some(live) = acct.replication(bucket).await? {
            if !r.is_our_role(&live.role) && !spec.take_over_existing_replication {
                // Another resource's role (another ReplicationRoleName): name its owner.
                if let Some(owner) = recorded_owner(acct, &live.role).await? {
                    return Err(ReconcileError::OwnedByAnother {
                        bucket: bucket.to_owned(),
                        owner,
                    });
                }
                let rules: Vec<String> = live
                    .rules
                    .iter()
                    .map(|x| format!("{} → {}", x.id, x.destination_bucket))
                    .collect();
                return Err(ReconcileError::ForeignReplication {
                    bucket: bucket.to_owned(),
                    role: live.role,
                    rules: rules.join(", "),
                });
            }
        }
        Ok(())
    };
    let versioned = async { Ok::<_, ReconcileError>(acct.versioning_enabled(bucket).await?) };
    let key = async {
        let existing = match &spec.source.kms_key {
            SourceKey::Existing(arn) => Some(keys::check_usable(acct, arn.as_str()).await?),
            SourceKey::Create => {
                let found =
                    keys::find_created(acct, &source_key_alias(&spec.source.bucket)).await?;
                return Ok(Some(KeyRef::found_or(found, || {
                    KeyRef::source_to_create(&spec.source.bucket, &acct.id, &acct.region)
                })));
            }
            SourceKey::Discover => discover_key(acct, bucket).await?,
        };
        Ok::<_, ReconcileError>(existing.map(KeyRef::Existing))
    };
    let target = async {
        crate::plan::check_notification_place(spec, r)?;
        match &spec.failure_notification {
            Some(t) => super::signals::check_target(acct, t).await,
            None => Ok(()),
        }
    };
    // Run to the end, then report in a fixed order: the same answer whichever fails first.
    let (owner, versioned, key, target, report_key, organization) = futures::join!(
        owner,
        versioned,
        key,
        target,
        check_report_bucket(acct, spec),
        check_organization(acct, spec)
    );
    owner?;
    organization?;
    target?;
    let (versioned, key, report_key) = (versioned?, key?, report_key?);
    Ok(SourceFacts {
        versioned,
        key,
        report_key,
    })
}

/// `OrganizationId` must be the source account's own organization: organization statements admit
/// every replication role of the organization they name, so a mistyped or foreign id would
/// admit another organization's roles into the destinations (and lock this one's out).
async fn check_organization(acct: &Account, spec: &Spec) -> Result<(), ReconcileError> {
    let Some(given) = &spec.organization_id else {
        return Ok(());
    };
    let found = match acct.organization().await? {
        Membership::Member(id) if &id == given => return Ok(()),
        Membership::Member(id) => format!("it belongs to {id}"),
        Membership::None => "it belongs to no organization".to_owned(),
        Membership::Unknown(why) => format!(
            "its organization cannot be read ({why}); the source role needs organizations:DescribeOrganization"
        ),
    };
    Err(ReconcileError::OrganizationNotVerified {
        given: given.clone(),
        account: acct.id.to_string(),
        found,
    })
}

/// `BatchReplication.ReportBucket`, when jobs will use it and it is not the source bucket: it
/// must exist in the source account and region; returns its default SSE-KMS key's ARN.
async fn check_report_bucket(
    acct: &Account,
    spec: &Spec,
) -> Result<Option<String>, ReconcileError> {
    let bucket = match &spec.batch.report_bucket {
        Some(b) if spec.replicates_existing_objects() && b != &spec.source.bucket => b.as_str(),
        _ => return Ok(None),
    };
    match acct.bucket_region(bucket).await? {
        None => Err(ReconcileError::BucketMissing {
            bucket: bucket.to_owned(),
            account: acct.id.to_string(),
            region: acct.region.to_string(),
            hint: "; BatchReplication.ReportBucket must be an existing bucket in the source account and region",
        }),
        Some(actual) if actual != acct.region.as_str() => {
            Err(ReconcileError::ReportBucketElsewhere {
                bucket: bucket.to_owned(),
                actual,
                expected: acct.region.to_string(),
            })
        }
        Some(_) => match acct.default_encryption(bucket).await? {
            Some(enc) if enc.algorithm.is_kms() => {
                let key = enc.kms_key.unwrap_or_else(|| "alias/aws/s3".to_owned());
                Ok(acct.describe_key(&key).await?.map(|k| k.arn))
            }
            _ => Ok(None),
        },
    }
}

/// The key of the bucket's default SSE-KMS encryption, if it has one.
async fn discover_key(acct: &Account, bucket: &str) -> Result<Option<String>, ReconcileError> {
    let Some(enc) = acct.default_encryption(bucket).await? else {
        return Ok(None);
    };
    if !enc.algorithm.is_kms() {
        return Ok(None);
    }
    let key = enc.kms_key.unwrap_or_else(|| "alias/aws/s3".to_owned());
    Ok(Some(keys::check_usable(acct, &key).await?))
}

/// Changes on the source side that do not depend on destinations: versioning and the source key.
/// Returns the source key ARN.
pub async fn prepare(
    acct: &Account,
    spec: &Spec,
    facts: &SourceFacts,
) -> Result<Option<String>, ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    let versioning = async {
        if diff::versioning(facts.versioned).changes() {
            acct.enable_versioning(bucket).await?;
        }
        Ok(())
    };
    let ((), key) = futures::try_join!(versioning, prepare_key(acct, spec, facts))?;
    Ok(key)
}

/// The source key: the known one, or (`Create`) ours, made the bucket's default encryption.
async fn prepare_key(
    acct: &Account,
    spec: &Spec,
    facts: &SourceFacts,
) -> Result<Option<String>, ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    if !spec.source.kms_key.creates() {
        return Ok(facts.key.as_ref().and_then(KeyRef::arn).map(str::to_owned));
    }
    let alias = source_key_alias(&spec.source.bucket);
    let description = format!(
        "Encrypts objects in s3://{bucket} (created by the Custom::S3Replication provider)"
    );
    let found = facts.key.as_ref().and_then(KeyRef::arn);
    let key = keys::ensure_created(acct, &alias, &description, &spec.source.bucket, found).await?;
    let current = acct.default_encryption(bucket).await?;
    if diff::default_encryption(current.as_ref(), &key).changes() {
        acct.put_default_kms_encryption(bucket, &key).await?;
    }
    Ok(Some(key))
}

/// The owner a provider role of this account records, when `role_arn` is one.
async fn recorded_owner(acct: &Account, role_arn: &str) -> Result<Option<String>, ReconcileError> {
    let ours = format!(":iam::{}:role{}", acct.id, crate::plan::names::ROLE_PATH);
    let Some((_, name)) = role_arn.split_once(&ours) else {
        return Ok(None);
    };
    let record = super::role::record(acct, name).await?;
    Ok(record.and_then(|r| r.owner).map(|o| o.to_string()))
}
