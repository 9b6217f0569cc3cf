//! `Destinations[i]` → [`Destination`]: one replication rule's target, key, filter and options.
//!
//! Fields are read in a fixed order (bucket, account, region, role, external id, CreateBucket,
//! key, storage class, rule id, priority, prefix, tags, delete markers, RTC, metrics, replica
//! modifications, owner override, existing objects), then the checks that relate fields; errors are reported in
//! that order. An invalid `KmsKeyArn` or `StorageClass` stops reading the destination, so the
//! fields after it are reported as unknown too.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::fields::{kind_of, show, Fields};
use super::super::*;
use super::checked;

/// Upper bound on destinations: S3 allows 1000 rules per configuration.
const MAX_DESTINATIONS: usize = 1000;

pub(super) fn parse_destinations(f: &mut Fields) -> Option<Vec<Destination>> {
    let Some(list) = f.array("Destinations") else {
        if !f.errors.iter().any(|e| e.property == "Destinations") {
            f.error(
                "Destinations",
                "is required: give a list of at least one destination",
            );
        }
        return None;
    };
    if list.is_empty() || list.len() > MAX_DESTINATIONS {
        f.error(
            "Destinations",
            format!(
                "must list 1 to {MAX_DESTINATIONS} destinations, got {}",
                list.len()
            ),
        );
        return None;
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let path = format!("Destinations[{i}]");
        let Value::Object(map) = item else {
            f.errors.push(SpecError::new(
                path,
                format!("must be an object, got {}", show(item)),
            ));
            continue;
        };
        let mut d = Fields::new(path, map, f.errors);
        if let Some(dest) = parse_destination(&mut d) {
            out.push(dest);
        }
        d.finish(&[]);
    }
    (out.len() == list.len()).then_some(out)
}

/// Where the replicas go; each part `None` when missing or invalid (already reported).
struct Location {
    bucket: Option<BucketName>,
    account: Option<AccountId>,
    region: Option<Region>,
}

fn parse_destination(d: &mut Fields) -> Option<Destination> {
    let location = parse_location(d);
    let role_arn = d
        .string("RoleArn")
        .and_then(|r| checked(d, "RoleArn", RoleArn::parse(&r)));
    let external_id = parse_external_id(d);
    let create_bucket = d.boolean("CreateBucket").unwrap_or(false);
    let kms_key = parse_replica_key(d)?;
    let storage_class = parse_storage_class(d)?;
    let rule_id = parse_rule_id(d);
    let priority = d.integer("Priority", 0..=i32::MAX as i64).map(|p| p as i32);
    let prefix = parse_prefix(d);
    let tags = parse_tags(d);
    let delete_marker_replication = parse_delete_markers(d, &tags);
    let rtc = d.boolean("ReplicationTimeControl").unwrap_or(false);
    let metrics = parse_metrics(d, rtc);
    let replica_modifications = d.boolean("ReplicaModifications").unwrap_or(false);
    let owner_override = d.boolean("OwnerOverride");
    let replicate_existing_objects = d.boolean("ReplicateExistingObjects").unwrap_or(false);
    check_key_location(d, &kms_key, &location);
    let (bucket, account, region) = (location.bucket?, location.account?, location.region?);
    check_role_account(d, role_arn.as_ref(), &account);
    Some(Destination {
        rule_id: rule_id.unwrap_or_else(|| default_rule_id(&bucket)),
        priority: priority.unwrap_or(-1),
        bucket,
        account,
        region,
        role_arn,
        external_id,
        create_bucket,
        kms_key,
        storage_class,
        prefix,
        tags,
        delete_marker_replication,
        replication_time_control: rtc,
        metrics,
        replica_modifications,
        owner_override,
        replicate_existing_objects,
    })
}

/// `Bucket`, `AccountId` and `Region`: all three required.
fn parse_location(d: &mut Fields) -> Location {
    let bucket = d
        .required("Bucket")
        .and_then(|b| checked(d, "Bucket", BucketName::parse(&b)));
    let account = d
        .required("AccountId")
        .and_then(|a| checked(d, "AccountId", AccountId::parse(&a)));
    let region = d
        .required("Region")
        .and_then(|r| checked(d, "Region", Region::parse(&r)));
    Location {
        bucket,
        account,
        region,
    }
}

/// `ExternalId`, as STS accepts it for AssumeRole.
fn parse_external_id(d: &mut Fields) -> Option<String> {
    let external_id = d.string("ExternalId");
    if let Some(e) = &external_id {
        let ok = (2..=1224).contains(&e.len())
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c));
        if !ok {
            d.error(
                "ExternalId",
                "must be 2 to 1224 characters of letters, digits and +=,.@:/-_",
            );
        }
    }
    external_id
}

/// `KmsKeyArn`: absent, `Create`, or a key ARN; `None` when the ARN is invalid (reported).
fn parse_replica_key(d: &mut Fields) -> Option<DestinationKey> {
    Some(match d.string("KmsKeyArn") {
        None => DestinationKey::None,
        Some(s) if s == "Create" => DestinationKey::Create,
        Some(s) => DestinationKey::Existing(checked(d, "KmsKeyArn", KeyArn::parse(&s))?),
    })
}

/// `StorageClass` (default STANDARD); `None` when it is not one replication accepts (reported).
fn parse_storage_class(d: &mut Fields) -> Option<StorageClass> {
    match d.string("StorageClass") {
        None => Some(StorageClass::Standard),
        Some(s) => StorageClass::from_name(&s).or_else(|| {
            let valid: Vec<&str> = StorageClass::ALL.iter().map(|c| c.as_str()).collect();
            d.error(
                "StorageClass",
                format!(
                    "{s:?} is not a storage class S3 replication accepts; use one of {}",
                    valid.join(", ")
                ),
            );
            None
        }),
    }
}

/// `Id`: the rule id, 1 to 255 characters.
fn parse_rule_id(d: &mut Fields) -> Option<String> {
    let rule_id = d.string("Id");
    if let Some(id) = &rule_id {
        if id.is_empty() || id.len() > 255 {
            d.error("Id", "rule id must be 1 to 255 characters");
        }
    }
    rule_id
}

/// `Prefix`: the rule's key prefix filter, at most 1024 characters.
fn parse_prefix(d: &mut Fields) -> Option<String> {
    let prefix = d.string("Prefix");
    if prefix.as_ref().is_some_and(|p| p.len() > 1024) {
        d.error("Prefix", "must be at most 1024 characters");
    }
    prefix
}

/// `Tags`: the rule's tag filter (scalar values stringified).
fn parse_tags(d: &mut Fields) -> BTreeMap<String, String> {
    let Some(map) = d.object("Tags") else {
        return BTreeMap::new();
    };
    let mut tags = BTreeMap::new();
    for (k, v) in map {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                d.error(
                    "Tags",
                    format!("tag {k:?} must have a string value, got {}", kind_of(other)),
                );
                continue;
            }
        };
        if k.is_empty() || k.chars().count() > 128 || value.chars().count() > 256 {
            d.error(
                "Tags",
                format!("tag {k:?}: keys are 1–128 characters and values at most 256"),
            );
            continue;
        }
        tags.insert(k.clone(), value);
    }
    tags
}

/// `DeleteMarkerReplication`, which S3 refuses on a rule that filters by tags.
fn parse_delete_markers(d: &mut Fields, tags: &BTreeMap<String, String>) -> bool {
    let delete_marker_replication = d.boolean("DeleteMarkerReplication").unwrap_or(false);
    if delete_marker_replication && !tags.is_empty() {
        d.error("DeleteMarkerReplication", "cannot be true on a rule that filters by Tags (S3 refuses delete marker replication for tag-based rules)");
    }
    delete_marker_replication
}

/// `Metrics`: on by default with Replication Time Control (`rtc`), which requires them.
fn parse_metrics(d: &mut Fields, rtc: bool) -> bool {
    match d.boolean("Metrics") {
        Some(false) if rtc => {
            d.error("Metrics", "cannot be false when ReplicationTimeControl is true (RTC requires replication metrics)");
            false
        }
        Some(m) => m || rtc,
        None => rtc,
    }
}

/// An existing replica key must live in the destination's account and region.
fn check_key_location(d: &mut Fields, kms_key: &DestinationKey, location: &Location) {
    if let (DestinationKey::Existing(key), Some(account), Some(region)) =
        (kms_key, &location.account, &location.region)
    {
        if key.account() != account || key.region() != region {
            d.error(
                "KmsKeyArn",
                format!("key is in account {} region {}, but the destination is account {account} region {region}; replica keys must live in the destination's account and region", key.account(), key.region()),
            );
        }
    }
}

/// A destination's `RoleArn` must be a role of its `AccountId`.
fn check_role_account(d: &mut Fields, role_arn: Option<&RoleArn>, account: &AccountId) {
    if let Some(role) = role_arn.filter(|r| r.account() != account) {
        d.error(
            "RoleArn",
            format!(
                "role is in account {} but AccountId is {account}",
                role.account()
            ),
        );
    }
}

/// The rule id used when a destination gives none: stable, readable, unique per bucket.
pub fn default_rule_id(bucket: &BucketName) -> String {
    format!("replicate-to-{bucket}")
}
