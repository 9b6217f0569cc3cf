//! `ResourceProperties` JSON → [`Spec`].

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::fields::{kind_of, show, Fields};
use super::names::validate_role_name;
use super::*;

/// Properties CloudFormation itself puts into `ResourceProperties` (and
/// `OldResourceProperties`) beside the resource's own: the function's ARN and, when the
/// template sets it, the custom resource's `ServiceTimeout`. They carry no meaning for the
/// resource. CloudFormation adds no others (AWS::CloudFormation::CustomResource documents
/// exactly these two).
const CLOUDFORMATION_OWNED: &[&str] = &["ServiceToken", "ServiceTimeout"];
/// CloudFormation's own bounds on `ServiceTimeout`, in seconds.
const SERVICE_TIMEOUT_SECONDS: std::ops::RangeInclusive<i64> = 1..=3600;
/// Upper bound on destinations: S3 allows 1000 rules per configuration.
const MAX_DESTINATIONS: usize = 1000;

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
    let destinations = parse_destinations(&mut f);
    // CloudFormation validates it before it invokes the function; checked again so that a
    // hand-written event (`bootstrap invoke`, `plan`) with a nonsensical value is refused,
    // but never acted on: CloudFormation, not the provider, enforces it.
    f.integer("ServiceTimeout", SERVICE_TIMEOUT_SECONDS);
    f.finish(CLOUDFORMATION_OWNED);

    if let (Some(source), Some(destinations)) = (&source, &destinations) {
        check_cross_destination(source, destinations, &mut errors);
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
        }),
        _ => Err(SpecErrors(errors)),
    }
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

fn parse_destinations(f: &mut Fields) -> Option<Vec<Destination>> {
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

fn parse_destination(d: &mut Fields) -> Option<Destination> {
    let bucket = d
        .required("Bucket")
        .and_then(|b| checked(d, "Bucket", BucketName::parse(&b)));
    let account = d
        .required("AccountId")
        .and_then(|a| checked(d, "AccountId", AccountId::parse(&a)));
    let region = d
        .required("Region")
        .and_then(|r| checked(d, "Region", Region::parse(&r)));
    let role_arn = d
        .string("RoleArn")
        .and_then(|r| checked(d, "RoleArn", RoleArn::parse(&r)));
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
    let create_bucket = d.boolean("CreateBucket").unwrap_or(false);
    let kms_key = match d.string("KmsKeyArn") {
        None => DestinationKey::None,
        Some(s) if s == "Create" => DestinationKey::Create,
        Some(s) => DestinationKey::Existing(checked(d, "KmsKeyArn", KeyArn::parse(&s))?),
    };
    let storage_class = match d.string("StorageClass") {
        None => StorageClass::Standard,
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
        })?,
    };
    let rule_id = d.string("Id");
    if let Some(id) = &rule_id {
        if id.is_empty() || id.len() > 255 {
            d.error("Id", "rule id must be 1 to 255 characters");
        }
    }
    let priority = d.integer("Priority", 0..=i32::MAX as i64).map(|p| p as i32);
    let prefix = d.string("Prefix");
    if prefix.as_ref().is_some_and(|p| p.len() > 1024) {
        d.error("Prefix", "must be at most 1024 characters");
    }
    let tags = parse_tags(d);
    let delete_marker_replication = d.boolean("DeleteMarkerReplication").unwrap_or(false);
    if delete_marker_replication && !tags.is_empty() {
        d.error("DeleteMarkerReplication", "cannot be true on a rule that filters by Tags (S3 refuses delete marker replication for tag-based rules)");
    }
    let rtc = d.boolean("ReplicationTimeControl").unwrap_or(false);
    let metrics = match d.boolean("Metrics") {
        Some(false) if rtc => {
            d.error("Metrics", "cannot be false when ReplicationTimeControl is true (RTC requires replication metrics)");
            false
        }
        Some(m) => m || rtc,
        None => rtc,
    };
    let replica_modifications = d.boolean("ReplicaModifications").unwrap_or(false);
    let owner_override = d.boolean("OwnerOverride");
    if let (Some(DestinationKey::Existing(key)), Some(account), Some(region)) =
        (Some(&kms_key), &account, &region)
    {
        if key.account() != account || key.region() != region {
            d.error(
                "KmsKeyArn",
                format!("key is in account {} region {}, but the destination is account {account} region {region}; replica keys must live in the destination's account and region", key.account(), key.region()),
            );
        }
    }
    let (bucket, account, region) = (bucket?, account?, region?);
    if let Some(role) = role_arn.as_ref().filter(|r| r.account() != &account) {
        d.error(
            "RoleArn",
            format!(
                "role is in account {} but AccountId is {account}",
                role.account()
            ),
        );
    }
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
    })
}

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

/// The rule id used when a destination gives none: stable, readable, unique per bucket.
pub fn default_rule_id(bucket: &BucketName) -> String {
    format!("replicate-to-{bucket}")
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
