//! Replication failure signals in the source account: the topic or queue policy statement,
//! our configuration in the source bucket's event notifications, and the alarms. Each is read
//! first and written only when it differs; what others wrote is kept.

use super::statements::{converge, Edit, Kind, Write};
use super::ReconcileError;
use crate::aws::{Account, Connector};
use crate::plan::notification_doc::NotificationDocument;
use crate::plan::policy_doc::PolicyDocument;
use crate::plan::signals::{
    alarm_prefix, default_topic_policy, notification_id, target_statement_id,
};
use crate::plan::{Alarm, Claim, Plan, Resolved, StatementId};
use crate::spec::{NotificationArn, NotificationKind, Region, Spec};
use crate::time::Deadline;

/// No size limit of ours: S3 refuses what it cannot store.
const NO_LIMIT: usize = usize::MAX;

fn kind(deadline: Deadline) -> Kind<'static> {
    Kind {
        limit: NO_LIMIT,
        shared: true,
        deletable: true,
        written: None,
        deadline,
        owner_writes: false,
    }
}

/// The source account's clients in each of `regions` (`src` itself for its own region): where
/// the alarms are, since S3 publishes each replication metric in a region of its own.
pub async fn accounts_in(
    conn: &Connector,
    spec: &Spec,
    src: &Account,
    regions: &[Region],
) -> Result<Vec<Account>, ReconcileError> {
    let mut out = Vec::with_capacity(regions.len());
    for region in regions {
        out.push(if *region == src.region {
            src.clone()
        } else {
            conn.source(spec.source.role_arn.as_ref(), region).await?
        });
    }
    Ok(out)
}

/// The clients for every region alarms of `spec` may be in (none without `Alarms`).
pub async fn alarm_accounts(
    conn: &Connector,
    spec: &Spec,
    src: &Account,
) -> Result<Vec<Account>, ReconcileError> {
    if !spec.alarms {
        return Ok(Vec::new());
    }
    accounts_in(conn, spec, src, &spec.alarm_regions(&src.region)).await
}

/// Check phase: every `AlarmTopics` topic is a topic of the source account and, in a region
/// where this resource has alarms (`accounts`: [`alarm_accounts`]), exists. A topic of a region
/// without alarms serves none (a destination there was removed, or a list shared by many
/// stacks): it is not read.
pub async fn check_alarm_topics(accounts: &[Account], spec: &Spec) -> Result<(), ReconcileError> {
    let Some(src) = accounts.first() else {
        return Ok(());
    };
    for topic in &spec.alarm_topics {
        let unusable = |why: String| ReconcileError::AlarmTopicUnusable {
            arn: topic.to_string(),
            why,
        };
        if topic.account() != &src.id {
            return Err(unusable(format!(
                "it is in account {}, but the alarms are in the source account {}",
                topic.account(),
                src.id
            )));
        }
        let Some(acct) = accounts.iter().find(|a| a.region == *topic.region()) else {
            tracing::info!(topic = %topic, "no alarm of this resource is in the topic's region; it serves none");
            continue;
        };
        if acct.topic_policy(topic.as_str()).await?.is_none() {
            return Err(unusable(format!(
                "it does not exist in account {} ({}); create it first",
                acct.id, acct.region
            )));
        }
    }
    Ok(())
}

/// Create/Update: the statement letting S3 deliver, then (S3 sends the destination a test
/// event when the configuration is written) the notification configuration; and the alarms,
/// in every region of `alarm_accounts` ([`alarm_accounts`]).
pub async fn ensure(
    src: &Account,
    alarm_accounts: &[Account],
    plan: &Plan,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let notification = async {
        if let Some(n) = &plan.notification {
            let statement = Edit::Upsert(&n.statement);
            edit_target_policy(src, &n.target, &n.statement_id, statement, deadline).await?;
            let config = n.configuration();
            let bucket = plan.resolved.source_bucket.as_str();
            edit_notifications(src, bucket, &n.id, Edit::Upsert(&config), deadline).await?;
        }
        Ok(())
    };
    let alarms = converge_alarms(alarm_accounts, &plan.resolved, &plan.alarms);
    futures::try_join!(notification, alarms)?;
    Ok(())
}

/// Check phase: the topic or queue exists (before anything is written anywhere).
pub async fn check_target(src: &Account, target: &NotificationArn) -> Result<(), ReconcileError> {
    let (exists, kind) = match target.kind() {
        NotificationKind::Topic => (src.topic_policy(target.as_str()).await?.is_some(), "topic"),
        NotificationKind::Queue => {
            let owner = target.account().as_str();
            (
                src.queue_url(target.name(), owner).await?.is_some(),
                "queue",
            )
        }
    };
    if exists {
        return Ok(());
    }
    Err(ReconcileError::NotificationTargetMissing {
        arn: target.to_string(),
        account: target.account().to_string(),
        region: target.region().to_string(),
        kind,
    })
}

/// Removes our notification configuration and then our statement on its topic or queue.
pub async fn remove_notification(
    src: &Account,
    r: &Resolved,
    target: &NotificationArn,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let (bucket, id) = (r.source_bucket.as_str(), notification_id(r));
    edit_notifications(src, bucket, &id, Edit::Remove, deadline).await?;
    edit_target_policy(src, target, &target_statement_id(r), Edit::Remove, deadline).await
}

/// Update: removes what the old properties' `FailureNotification` and `Alarms` had and the
/// plan (the new properties) lacks: the alarms of the regions `ensure` no longer converges
/// (`dropped_regions`: [`dropped_alarm_accounts`]).
pub async fn remove_dropped(
    src: &Account,
    dropped_regions: &[Account],
    old: &crate::spec::Spec,
    plan: &Plan,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let r = &plan.resolved;
    let notification = async {
        let Some(before) = &old.failure_notification else {
            return Ok(());
        };
        match &plan.notification {
            None => remove_notification(src, r, before, deadline).await,
            Some(now) if now.target != *before => {
                edit_target_policy(src, before, &target_statement_id(r), Edit::Remove, deadline)
                    .await
            }
            Some(_) => Ok(()),
        }
    };
    let alarms = remove_alarms(dropped_regions, r);
    futures::try_join!(notification, alarms)?;
    Ok(())
}

/// Update: the clients for the regions the old properties' alarms may be in and the new
/// ones' are not (all of them when the new properties have no `Alarms`).
pub async fn dropped_alarm_accounts(
    conn: &Connector,
    old: &Spec,
    new: &Spec,
    src: &Account,
) -> Result<Vec<Account>, ReconcileError> {
    if !old.alarms {
        return Ok(Vec::new());
    }
    let kept = if new.alarms {
        new.alarm_regions(&src.region)
    } else {
        Vec::new()
    };
    let dropped: Vec<Region> = old
        .alarm_regions(&src.region)
        .into_iter()
        .filter(|r| !kept.contains(r))
        .collect();
    accounts_in(conn, old, src, &dropped).await
}

/// Removes every alarm of this source bucket in these regions.
pub async fn remove_alarms(accounts: &[Account], r: &Resolved) -> Result<(), ReconcileError> {
    converge_alarms(accounts, r, &[]).await
}

/// In each region of `accounts`, puts the alarms of `wanted` that are missing or differ there
/// and deletes this source's other alarms there (rules that went away, an alarm that moved to
/// another region).
async fn converge_alarms(
    accounts: &[Account],
    r: &Resolved,
    wanted: &[Alarm],
) -> Result<(), ReconcileError> {
    let regions = accounts.iter().map(|acct| {
        let here: Vec<Alarm> = wanted
            .iter()
            .filter(|w| w.region == acct.region)
            .cloned()
            .collect();
        async move { converge_region(acct, r, &here).await }
    });
    futures::future::try_join_all(regions).await?;
    Ok(())
}

/// [`converge_alarms`] in one region. An alarm deleted meanwhile by someone else makes
/// CloudWatch refuse the whole deletion: read and try once more.
async fn converge_region(
    src: &Account,
    r: &Resolved,
    wanted: &[Alarm],
) -> Result<(), ReconcileError> {
    match converge_alarms_once(src, r, wanted).await {
        Err(ReconcileError::Aws(e)) if e.kind == crate::aws::ErrorKind::NotFound => {
            converge_alarms_once(src, r, wanted).await
        }
        other => other,
    }
}

async fn converge_alarms_once(
    src: &Account,
    r: &Resolved,
    wanted: &[Alarm],
) -> Result<(), ReconcileError> {
    let live = src.alarms_with_prefix(&alarm_prefix(r)).await?;
    let stale: Vec<String> = live
        .iter()
        .filter(|l| !wanted.iter().any(|w| w.name == l.name))
        .map(|l| l.name.clone())
        .collect();
    let puts = super::apply::bounded(
        wanted
            .iter()
            .filter(|w| !live.contains(w))
            .map(|w| async { Ok(src.put_alarm(w).await?) }),
    );
    let deletes = async {
        if !stale.is_empty() {
            src.delete_alarms(&stale).await?;
        }
        Ok(())
    };
    futures::try_join!(puts, deletes)?;
    Ok(())
}

/// Edits the configuration `id` in the bucket's notification configuration, keeping every
/// other one; verified like a shared policy (S3 has no conditional write for it either).
async fn edit_notifications(
    acct: &Account,
    bucket: &str,
    id: &str,
    edit: Edit<'_>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let what = format!(
        "event notification configuration of {bucket} in account {} ({})",
        acct.id, acct.region
    );
    let removing = matches!(edit, Edit::Remove);
    let read = async |acct: &Account| match acct.bucket_notifications(bucket).await {
        Err(e) if e.is(crate::aws::Code::NoSuchBucket) && removing => Ok(None),
        other => other.map(|doc| Some(Some(doc))),
    };
    let write = async |acct: &Account, w: Write| match w {
        Write::Empty => acct.put_bucket_notifications(bucket, "{}").await,
        Write::Put(text) => acct.put_bucket_notifications(bucket, &text).await,
    };
    // The bucket's own configuration, written only by its owner: any entry with our Id is ours.
    let id = StatementId {
        sid: id.to_owned(),
        legacy: Vec::new(),
        claim: Claim::Any,
    };
    converge::<NotificationDocument, _, _>(acct, &what, kind(deadline), &edit, &id, read, write)
        .await
}

/// Edits our statement in the topic's or queue's policy. A topic or queue that is gone has
/// nothing to remove; a topic left without statements gets SNS's default policy back.
async fn edit_target_policy(
    acct: &Account,
    target: &NotificationArn,
    id: &StatementId,
    edit: Edit<'_>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let what = format!("policy of {target}");
    let removing = matches!(edit, Edit::Remove);
    let arn = target.as_str();
    match target.kind() {
        NotificationKind::Topic => {
            // A missing topic reads as "no policy" when adding: the write then fails naming it.
            let read = async |acct: &Account| match acct.topic_policy(arn).await {
                Ok(None) if !removing => Ok(Some(None)),
                other => other,
            };
            let write = async |acct: &Account, w: Write| match w {
                Write::Empty => {
                    let default = default_topic_policy(arn, acct.id.as_str());
                    acct.put_topic_policy(arn, &default).await
                }
                Write::Put(text) => acct.put_topic_policy(arn, &text).await,
            };
            converge::<PolicyDocument, _, _>(acct, &what, kind(deadline), &edit, id, read, write)
                .await
        }
        NotificationKind::Queue => {
            let owner = target.account().as_str();
            let Some(url) = acct.queue_url(target.name(), owner).await? else {
                return if removing {
                    Ok(())
                } else {
                    check_target(acct, target).await
                };
            };
            let read = async |acct: &Account| acct.queue_policy(&url).await.map(Some);
            let write = async |acct: &Account, w: Write| match w {
                Write::Empty => acct.put_queue_policy(&url, "").await,
                Write::Put(text) => acct.put_queue_policy(&url, &text).await,
            };
            converge::<PolicyDocument, _, _>(acct, &what, kind(deadline), &edit, id, read, write)
                .await
        }
    }
}
