//! `ResourceProperties` JSON → [`Spec`]: the top-level properties and the source here, each
//! destination in [`destination`], then the checks across destinations.

mod destination;

use std::collections::HashMap;

use serde_json::Value;

use super::fields::{kind_of, Fields};
use super::names::validate_role_name;
use super::*;
use destination::parse_destinations;

/// Properties CloudFormation itself puts into `ResourceProperties` (and
/// `OldResourceProperties`) beside the resource's own: the function's ARN and, when the
/// template sets it, the custom resource's `ServiceTimeout`. They carry no meaning for the
/// resource. CloudFormation adds no others (AWS::CloudFormation::CustomResource documents
/// exactly these two).
const CLOUDFORMATION_OWNED: &[&str] = &["ServiceToken", "ServiceTimeout"];
/// CloudFormation's own bounds on `ServiceTimeout`, in seconds.
const SERVICE_TIMEOUT_SECONDS: std::ops::RangeInclusive<i64> = 1..=3600;

/// Parses and validates resource properties, reporting every problem at once.
pub fn parse(properties: &Value) -> Result<Spec, SpecErrors> {
    let mut errors = Vec::new();
    let Value::Object(map) = properties else {
        return Err(SpecErrors(vec![SpecError::new(
            "ResourceProperties",
            format!("must be an object, got {}", kind_of(properties)),
        )]));
    };
    let mut f = Fields::new(String::new(), map, &mut errors);
    let source = parse_source(&mut f);
    let replication_role_name = f.string("ReplicationRoleName").and_then(|n| {
        validate_role_name(&n)
            .map_err(|e| f.error("ReplicationRoleName", e))
            .ok()
            .map(|_| n)
    });
    let key_removal = parse_key_removal(&mut f);
    let take_over = f.boolean("TakeOverExistingReplication").unwrap_or(false);
    let verify = match f.string("Verify").as_deref() {
        None | Some("None") => Verify::None,
        Some("Permissions") => Verify::Permissions,
        Some("Replication") => Verify::Replication,
        Some(other) => {
            f.error(
                "Verify",
                format!("must be None, Permissions or Replication, got {other:?}"),
            );
            Verify::None
        }
    };
    let organization_id = f.string("OrganizationId");
    if let Some(org) = &organization_id {
        let body = org.strip_prefix("o-").unwrap_or("");
        if !(10..=32).contains(&body.len())
            || !body
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            f.error(
                "OrganizationId",
                format!("{org:?} is not an AWS Organizations id like \"o-a1b2c3d4e5\""),
            );
        }
    }
    let failure_notification = f
        .string("FailureNotification")
        .filter(|s| !s.is_empty())
        .and_then(|a| checked(&mut f, "FailureNotification", NotificationArn::parse(&a)));
    let alarms = f.boolean("Alarms").unwrap_or(false);
    let alarm_topics = parse_alarm_topics(&mut f, alarms);
    let batch = parse_batch(&mut f);
    let destinations = parse_destinations(&mut f);
    // CloudFormation validates it before it invokes the function; checked again so that a
    // hand-written event (`bootstrap invoke`, `plan`) with a nonsensical value is refused,
    // but never acted on: CloudFormation, not the provider, enforces it.
    f.integer("ServiceTimeout", SERVICE_TIMEOUT_SECONDS);
    f.finish(CLOUDFORMATION_OWNED);

    if let (Some(source), Some(destinations)) = (&source, &destinations) {
        check_cross_destination(source, destinations, &mut errors);
    }
    if let (Some(source), Some(n)) = (&source, &failure_notification) {
        check_notification_place(source, n, &mut errors);
    }
    if let Some(source) = &source {
        check_alarm_topics_account(source, &alarm_topics, &mut errors);
    }
    match (source, destinations) {
        (Some(source), Some(mut destinations)) if errors.is_empty() => Ok(Spec {
            source,
            replication_role_name,
            destinations: {
                assign_default_priorities(&mut destinations);
                destinations
            },
            key_removal,
            take_over_existing_replication: take_over,
            organization_id,
            verify,
            failure_notification,
            alarms,
            alarm_topics,
            batch,
        }),
        _ => Err(SpecErrors(errors)),
    }
}

/// `AlarmTopics`: standard SNS topics, at most one per region; only with `Alarms`.
fn parse_alarm_topics(f: &mut Fields, alarms: bool) -> Vec<NotificationArn> {
    let Some(list) = f.array("AlarmTopics") else {
        return Vec::new();
    };
    if !alarms && !list.is_empty() {
        f.error(
            "AlarmTopics",
            "names the topics alarms act on, but Alarms is not true: set Alarms: true or remove AlarmTopics",
        );
    }
    let mut topics: Vec<NotificationArn> = Vec::new();
    for item in list {
        let parsed = item
            .as_str()
            .ok_or_else(|| format!("{} is not a string", super::fields::show(item)))
            .and_then(NotificationArn::parse);
        match parsed {
            Ok(t) if t.kind() != NotificationKind::Topic => f.error(
                "AlarmTopics",
                format!("{t} is a queue; CloudWatch alarms notify SNS topics only"),
            ),
            Ok(t) => match topics.iter().find(|o| o.region() == t.region()) {
                Some(other) => f.error(
                    "AlarmTopics",
                    format!(
                        "{t} and {other} are both in {}: name at most one topic per region",
                        t.region()
                    ),
                ),
                None => topics.push(t),
            },
            Err(why) => f.error("AlarmTopics", why),
        }
    }
    topics
}

/// Alarm topics must be the source account's (the alarms are there); with `SourceRoleArn` the
/// account is known before any call.
fn check_alarm_topics_account(
    source: &Source,
    topics: &[NotificationArn],
    errors: &mut Vec<SpecError>,
) {
    let Some(role) = &source.role_arn else { return };
    for t in topics.iter().filter(|t| t.account() != role.account()) {
        errors.push(SpecError::new(
            "AlarmTopics",
            format!(
                "{t} is in account {} but SourceRoleArn is in {}; name topics of the source account, where the alarms are",
                t.account(),
                role.account()
            ),
        ));
    }
}

/// `BatchReplication`: report place and scope, and which objects the jobs replicate.
fn parse_batch(f: &mut Fields) -> BatchReplication {
    let mut batch = BatchReplication::default();
    let Some(map) = f.object("BatchReplication") else {
        return batch;
    };
    let mut b = Fields::new(f.path("BatchReplication"), map, f.errors);
    batch.report_bucket = b
        .string("ReportBucket")
        .filter(|s| !s.is_empty())
        .and_then(|s| checked(&mut b, "ReportBucket", BucketName::parse(&s)));
    if let Some(prefix) = b.string("ReportPrefix") {
        let trimmed = prefix.trim_end_matches('/');
        if trimmed.is_empty() || trimmed.len() > 512 || trimmed.starts_with('/') {
            b.error(
                "ReportPrefix",
                format!("{prefix:?} must be 1 to 512 characters, not starting with '/'"),
            );
        }
        batch.report_prefix = trimmed.to_owned();
    }
    match b.string("ReportScope").as_deref() {
        None | Some("FailedTasksOnly") => {}
        Some("AllTasks") => batch.report_all_tasks = true,
        Some(other) => b.error(
            "ReportScope",
            format!("must be FailedTasksOnly or AllTasks, got {other:?}"),
        ),
    }
    if let Some(list) = b.array("ObjectReplicationStatuses") {
        let mut statuses = Vec::new();
        for item in list {
            match item.as_str().and_then(ObjectStatus::from_name) {
                Some(s) if !statuses.contains(&s) => statuses.push(s),
                Some(_) => {}
                None => b.error(
                    "ObjectReplicationStatuses",
                    format!(
                        "{} is not a replication status; use NONE, FAILED, COMPLETED or REPLICA",
                        super::fields::show(item)
                    ),
                ),
            }
        }
        if list.is_empty() {
            b.error(
                "ObjectReplicationStatuses",
                "must list at least one status (default: [NONE, FAILED])",
            );
        }
        statuses.sort();
        batch.statuses = statuses;
    }
    b.finish(&[]);
    batch
}

fn parse_source(f: &mut Fields) -> Option<Source> {
    let bucket = f
        .required("SourceBucket")
        .and_then(|b| checked(f, "SourceBucket", BucketName::parse(&b)));
    let region = f
        .string("SourceRegion")
        .and_then(|r| checked(f, "SourceRegion", Region::parse(&r)));
    let role_arn = f
        .string("SourceRoleArn")
        .and_then(|r| checked(f, "SourceRoleArn", RoleArn::parse(&r)));
    let kms_key = match f.string("SourceKmsKeyArn") {
        None => SourceKey::Discover,
        Some(s) if s == "Create" => SourceKey::Create,
        Some(s) => {
            let key = checked(f, "SourceKmsKeyArn", KeyArn::parse(&s))?;
            if let Some(region) = &region {
                if key.region() != region {
                    f.error(
                        "SourceKmsKeyArn",
                        format!("key is in {} but SourceRegion is {region}; S3 needs a key in the bucket's region", key.region()),
                    );
                }
            }
            SourceKey::Existing(key)
        }
    };
    Some(Source {
        bucket: bucket?,
        region,
        role_arn,
        kms_key,
    })
}

fn parse_key_removal(f: &mut Fields) -> KeyRemoval {
    let window = f.integer("KeyDeletionWindowDays", 7..=30).unwrap_or(30) as i32;
    match f.string("KeyRemovalPolicy").as_deref() {
        None | Some("Retain") => KeyRemoval::Retain,
        Some("Delete") => KeyRemoval::Delete {
            window_days: window,
        },
        Some(other) => {
            f.error(
                "KeyRemovalPolicy",
                format!("must be Retain or Delete, got {other:?}"),
            );
            KeyRemoval::Retain
        }
    }
}

/// Checks that need all destinations: unique rule ids, priorities and bucket+filter pairs.
fn check_cross_destination(source: &Source, dests: &[Destination], errors: &mut Vec<SpecError>) {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, d) in dests.iter().enumerate() {
        if let Some(j) = ids.insert(&d.rule_id, i) {
            errors.push(SpecError::new(
                format!("Destinations[{i}].Id"),
                format!("rule id {:?} is also used by Destinations[{j}]; give each destination a distinct Id", d.rule_id),
            ));
        }
        if d.bucket == source.bucket {
            errors.push(SpecError::new(
                format!("Destinations[{i}].Bucket"),
                "must differ from SourceBucket",
            ));
        }
    }
    let mut priorities: HashMap<i32, usize> = HashMap::new();
    for (i, d) in dests.iter().enumerate() {
        if d.priority >= 0 {
            if let Some(j) = priorities.insert(d.priority, i) {
                errors.push(SpecError::new(
                    format!("Destinations[{i}].Priority"),
                    format!(
                        "priority {} is also used by Destinations[{j}]; priorities must be unique",
                        d.priority
                    ),
                ));
            }
        }
    }
}

/// S3 sends event notifications only to a topic or queue in the bucket's region; the provider
/// writes its policy with the source account's credentials, so it must be in that account too
/// (checked against `SourceRoleArn` here, against the resolved account by the plan).
fn check_notification_place(source: &Source, n: &NotificationArn, errors: &mut Vec<SpecError>) {
    if let Some(region) = source.region.as_ref().filter(|r| *r != n.region()) {
        errors.push(SpecError::new(
            "FailureNotification",
            format!(
                "{n} is in {} but SourceRegion is {region}; S3 only notifies a topic or queue in the bucket's region",
                n.region()
            ),
        ));
    }
    if let Some(role) = source
        .role_arn
        .as_ref()
        .filter(|r| r.account() != n.account())
    {
        errors.push(SpecError::new(
            "FailureNotification",
            format!(
                "{n} is in account {} but SourceRoleArn is in {}; name a topic or queue of the source account",
                n.account(),
                role.account()
            ),
        ));
    }
}

/// `r`'s value, or `None` with its error reported against `key`.
fn checked<T>(f: &mut Fields, key: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|e| f.error(key, e)).ok()
}

/// Destinations without an explicit `Priority` get the lowest numbers no other rule uses, in
/// list order, so priorities are always unique as the V2 schema requires.
fn assign_default_priorities(dests: &mut [Destination]) {
    let taken: std::collections::HashSet<i32> = dests
        .iter()
        .map(|d| d.priority)
        .filter(|p| *p >= 0)
        .collect();
    let mut next = 0;
    for d in dests.iter_mut().filter(|d| d.priority < 0) {
        while taken.contains(&next) {
            next += 1;
        }
        d.priority = next;
        next += 1;
    }
}
