//! KMS keys: checking the ones users name, and creating, finding and retiring the ones this
//! provider makes (found again by alias, recognised by tag).

use super::ReconcileError;
use crate::aws::{Account, ErrorKind, KeyInfo, KeyState};
use crate::plan::names::tags;
use crate::spec::{BucketName, KeyRemoval};

fn unusable(acct: &Account, key: &str, why: impl Into<String>) -> ReconcileError {
    ReconcileError::KeyUnusable {
        key: key.to_owned(),
        account: acct.id.to_string(),
        region: acct.region.to_string(),
        why: why.into(),
    }
}

/// Checks that a key S3 will use exists here, is enabled, symmetric and customer managed;
/// returns its ARN.
pub async fn check_usable(acct: &Account, key: &str) -> Result<String, ReconcileError> {
    let Some(info) = acct.describe_key(key).await? else {
        return Err(unusable(
            acct,
            key,
            "no such key in this account and region; check the ARN, account and region",
        ));
    };
    usable(acct, key, &info)?;
    Ok(info.arn)
}

fn usable(acct: &Account, key: &str, info: &KeyInfo) -> Result<(), ReconcileError> {
    if !info.enabled() {
        return Err(unusable(
            acct,
            key,
            format!(
                "its state is {}; enable it (or cancel its deletion) first",
                info.state
            ),
        ));
    }
    if !info.usable_by_s3() {
        return Err(unusable(
            acct,
            key,
            format!(
                "it is a {} {} key; S3 needs a symmetric ENCRYPT_DECRYPT key",
                info.spec, info.usage
            ),
        ));
    }
    if !info.customer_managed {
        return Err(unusable(acct, key, "it is an AWS managed key, whose policy cannot grant the replication role; use a customer managed key or \"Create\""));
    }
    Ok(())
}

/// Makes sure the key this resource created under `alias` exists, is usable and rotates:
/// `found` is what [`find_created`] returned in the check phase (not looked up again), and with
/// none the key is created (rotation on). An alias that a concurrent run created meanwhile is
/// found again; one pointing at a key that lacks our tag is refused, never taken over.
pub async fn ensure_created(
    acct: &Account,
    alias: &str,
    description: &str,
    source: &BucketName,
    found: Option<&str>,
) -> Result<String, ReconcileError> {
    if let Some(arn) = found {
        let info = acct
            .describe_key(arn)
            .await?
            .ok_or_else(|| unusable(acct, alias, "the key disappeared"))?;
        usable(acct, alias, &info)?;
        if !acct.rotation_enabled(arn).await? {
            acct.enable_rotation(arn).await?;
        }
        return Ok(arn.to_owned());
    }
    let key_tags = [
        (tags::MANAGED, "true"),
        (tags::SOURCE_BUCKET, source.as_str()),
    ];
    let policy = crate::plan::policy::created_key_policy(
        acct.region.partition(),
        acct.id.as_str(),
        &acct.principal,
    );
    let arn = acct
        .create_key(description, &key_tags, &policy.to_string())
        .await?;
    let (named, rotating) =
        futures::join!(acct.create_alias(alias, &arn), acct.enable_rotation(&arn));
    if let Err(e) = named {
        // A concurrent run created the alias first: retire our duplicate (it encrypts nothing).
        if e.is(crate::aws::Code::AliasAlreadyExists) {
            acct.schedule_key_deletion(&arn, 7).await?;
            let theirs = find_created(acct, alias).await?;
            let theirs = theirs.ok_or_else(|| {
                unusable(
                    acct,
                    alias,
                    "its alias was created and removed again by a concurrent run; retry",
                )
            })?;
            return Box::pin(ensure_created(
                acct,
                alias,
                description,
                source,
                Some(&theirs),
            ))
            .await;
        }
        return Err(e.into());
    }
    rotating?;
    Ok(arn)
}

/// The ARN of the key this provider created under `alias`, if any.
pub async fn find_created(acct: &Account, alias: &str) -> Result<Option<String>, ReconcileError> {
    let Some(info) = acct.describe_key(alias).await? else {
        return Ok(None);
    };
    let tags = acct.key_tags(&info.arn).await?;
    if !tags.iter().any(|(k, v)| k == tags::MANAGED && v == "true") {
        return Err(unusable(
            acct,
            alias,
            "this alias points at a key the provider did not create; delete or rename the alias",
        ));
    }
    Ok(Some(info.arn))
}

/// Applies `KeyRemovalPolicy` to a key this provider created: `Delete` schedules deletion and
/// removes the alias; `Retain` keeps both, so a later Create finds the key again.
pub async fn retire_created(
    acct: &Account,
    alias: &str,
    removal: KeyRemoval,
) -> Result<Option<String>, ReconcileError> {
    let KeyRemoval::Delete { window_days } = removal else {
        return Ok(None);
    };
    let Some(arn) = find_created(acct, alias).await? else {
        return Ok(None);
    };
    let info = acct.describe_key(&arn).await?;
    if info.is_some_and(|i| i.state != KeyState::PendingDeletion) {
        match acct.schedule_key_deletion(&arn, window_days).await {
            // The account's owner keeps key deletion for itself (the destination template's
            // default, AllowKeyDeletion false): the key stays, with its alias, so a later
            // Create finds it again. A Delete must not fail on it.
            Err(e) if e.kind == ErrorKind::AccessDenied => {
                tracing::warn!(key = %arn, account = %acct.id, region = %acct.region, "not allowed to schedule the deletion of this created key (the account's role denies it); the key is kept");
                return Ok(None);
            }
            other => other?,
        }
    }
    acct.delete_alias(alias).await?;
    Ok(Some(arn))
}
