//! The desired state, computed purely from validated properties and a few resolved facts
//! (source account and region, key ARNs). No async, no SDK: everything here can be printed and
//! unit-tested.

pub mod batch;
pub mod identity;
pub mod key_ref;
pub mod names;
pub mod notification_doc;
pub mod overlap;
pub mod policy;
pub mod policy_doc;
pub mod replication;
pub mod scope;
pub mod signals;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::{AccountId, BucketName, KeyRemoval, Region, RoleArn, Spec};
pub use batch::{BatchJob, BatchPlan};
pub use identity::{Claim, StatementId};
pub use key_ref::{KeyRef, Keys};
pub use replication::{Filter, ReplicationConfig, Rule, RuleDestination};
pub use signals::{Alarm, NotificationPlan};

/// IAM's limit on the inline policies of one role, whitespace excluded.
pub const ROLE_POLICY_LIMIT: usize = 10_240;
/// S3's bucket policy limit.
pub const BUCKET_POLICY_LIMIT: usize = 20 * 1024;
/// KMS's key policy limit.
pub const KEY_POLICY_LIMIT: usize = 32 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("Destinations[{index}].KmsKeyArn is required: source objects in {bucket} are SSE-KMS encrypted with {key}, and S3 only replicates them with a replica key; give a key ARN in {account}/{region} or \"Create\"")]
    ReplicaKeyRequired {
        index: usize,
        bucket: String,
        key: String,
        account: String,
        region: String,
    },
    #[error("the replication role policy would be {size} characters, above IAM's {ROLE_POLICY_LIMIT}-character limit for a role's inline policies; split the destinations across several resources (one per source bucket prefix) or use fewer destination regions")]
    RolePolicyTooLarge { size: usize },
    #[error("FailureNotification {arn} is in account {account} ({region}), but the source bucket is in account {source_account} ({source_region}); S3 notifies only a topic or queue in the bucket's region, and the provider edits its policy with the source account's credentials: name one there")]
    NotificationElsewhere {
        arn: String,
        account: String,
        region: String,
        source_account: String,
        source_region: String,
    },
}

/// The names the plan derives from the source account and region, and the request's facts
/// (owner, boundary, previous role). Keys are not here: see [`Keys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub partition: String,
    pub source_account: AccountId,
    pub source_region: Region,
    pub source_bucket: BucketName,
    pub role_name: String,
    pub role_arn: RoleArn,
    pub physical_id: String,
    /// Organization mode (see [`Spec::organization_id`]).
    pub organization_id: Option<String>,
    /// The role an Update's old properties named, when it was another one
    /// (`ReplicationRoleName` changed): a live configuration under it is this resource's own.
    pub previous_role_arn: Option<RoleArn>,
    /// The stack resource this request comes from (`None` outside CloudFormation: `plan`).
    pub owner: Option<Owner>,
    /// The permissions boundary every role this provider creates carries (the source
    /// template's `ReplicationRoleBoundary`), when the function is told one.
    pub permissions_boundary: Option<String>,
    /// What Delete does with the keys this resource creates, recorded on the role.
    pub key_removal: KeyRemoval,
    /// The default SSE-KMS key of `BatchReplication.ReportBucket` when that is another bucket
    /// than the source (read by the check phase): the batch role writes reports with it.
    pub report_key: Option<String>,
}

/// `arn` (an IAM policy ARN) with its account replaced by `account`.
fn in_account(arn: &str, account: &AccountId) -> String {
    let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" {
        parts[4] = account.as_str();
    }
    parts.join(":")
}

/// Who owns a source bucket's replication: the CloudFormation resource that created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub stack_id: String,
    pub logical_id: String,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "resource {} of stack {}", self.logical_id, self.stack_id)
    }
}

/// What a role this provider created records about its resource: the owner, and what Delete
/// must undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub owner: Option<Owner>,
    pub key_removal: Option<KeyRemoval>,
}

impl Record {
    /// Reads the record from a role's tags.
    pub fn from_tags(tag: impl Fn(&str) -> Option<String>) -> Self {
        let owner = match (tag(names::tags::STACK_ID), tag(names::tags::LOGICAL_ID)) {
            (Some(stack_id), Some(logical_id)) => Some(Owner {
                stack_id,
                logical_id,
            }),
            _ => None,
        };
        Self {
            owner,
            key_removal: tag(names::tags::KEY_REMOVAL).and_then(|v| names::parse_key_removal(&v)),
        }
    }
}

impl Resolved {
    pub fn new(spec: &Spec, source_account: AccountId, source_region: Region) -> Self {
        let partition = source_region.partition().to_owned();
        let bucket = spec.source.bucket.clone();
        let role_name = spec
            .replication_role_name
            .clone()
            .unwrap_or_else(|| names::default_role_name(&bucket));
        let role_arn = RoleArn::for_name(&partition, &source_account, names::ROLE_PATH, &role_name);
        Self {
            physical_id: names::physical_id(&source_account, &source_region, &bucket),
            partition,
            source_account,
            source_region,
            source_bucket: bucket,
            role_name,
            role_arn,
            organization_id: spec.organization_id.clone(),
            previous_role_arn: None,
            owner: None,
            permissions_boundary: None,
            key_removal: spec.key_removal,
            report_key: None,
        }
    }

    /// The request's owner and the function's permissions boundary, for what apply writes.
    /// A role's boundary must be a policy of the role's own account (IAM refuses another
    /// account's): in central-provider mode (`SourceRoleArn` in another account) the policy of
    /// the same path and name in the source account.
    pub fn for_request(mut self, owner: Option<Owner>, boundary: Option<String>) -> Self {
        self.owner = owner;
        self.permissions_boundary = boundary.map(|b| in_account(&b, &self.source_account));
        self
    }

    /// The tags the replication role carries: managed, the resource and source it serves, its
    /// owner and what Delete must undo (not the configuration digest, written after the
    /// configuration).
    pub fn role_tags(&self) -> Vec<(&'static str, String)> {
        let mut tags = vec![
            (names::tags::MANAGED, "true".to_owned()),
            (names::tags::SOURCE_BUCKET, self.source_bucket.to_string()),
            (names::tags::RESOURCE_ID, self.physical_id.clone()),
            (
                names::tags::KEY_REMOVAL,
                names::key_removal_tag(self.key_removal),
            ),
        ];
        if let Some(o) = &self.owner {
            tags.push((names::tags::STACK_ID, o.stack_id.clone()));
            tags.push((names::tags::LOGICAL_ID, o.logical_id.clone()));
        }
        tags
    }

    /// Notes the role `old` (an Update's old properties, same source) named, if it differs.
    pub fn with_previous(mut self, old: &Spec) -> Self {
        let before = Self::new(old, self.source_account.clone(), self.source_region.clone());
        if before.role_arn != self.role_arn {
            self.previous_role_arn = Some(before.role_arn);
        }
        self
    }

    /// Whether a replication configuration naming `role` was written by this resource.
    pub fn is_our_role(&self, role: &str) -> bool {
        self.role_arn.as_str() == role
            || self
                .previous_role_arn
                .as_ref()
                .is_some_and(|p| p.as_str() == role)
    }

    pub fn source_bucket_arn(&self) -> String {
        self.source_bucket.arn(&self.partition)
    }

    /// Sid of every statement this resource adds to shared policies.
    pub fn sid(&self) -> String {
        names::source_sid(
            &self.partition,
            &self.source_account,
            &self.source_region,
            &self.source_bucket,
        )
    }

    /// The identity of this resource's statements whose principal is its replication role
    /// (an Update that renamed the role also owns the previous role's).
    pub fn source_id(&self) -> StatementId {
        let mut roles = vec![self.role_arn.to_string()];
        roles.extend(self.previous_role_arn.iter().map(ToString::to_string));
        self.id_claimed_by(Claim::Roles(roles))
    }

    /// This resource's Sids (current and legacy) with `claim`.
    pub fn id_claimed_by(&self, claim: Claim) -> StatementId {
        StatementId {
            sid: self.sid(),
            legacy: vec![names::legacy_source_sid(&self.source_bucket)],
            claim,
        }
    }
}

/// One destination with its resolved key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationPlan {
    pub index: usize,
    pub bucket: BucketName,
    pub bucket_arn: String,
    pub account: AccountId,
    pub region: Region,
    pub kms_key: Option<String>,
    pub owner_override: bool,
    /// The rule's prefix filter: the objects its grants cover.
    pub prefix: Option<String>,
    /// Whether the rule replicates delete markers (the only use of `s3:ReplicateDelete`).
    pub delete_markers: bool,
}

impl DestinationPlan {
    /// The object ARNs this destination's rule writes.
    pub fn objects(&self) -> Vec<String> {
        scope::objects(&self.bucket_arn, [self.prefix.as_deref()])
    }
}

/// What the rules into one destination bucket need granted there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketScope<'a> {
    /// The first destination with this bucket.
    pub first: &'a DestinationPlan,
    /// Object ARNs the rules reach.
    pub objects: Vec<String>,
    pub delete_markers: bool,
    pub owner_override: bool,
    /// The replica keys the rules name (sorted, distinct): the only keys replicas may be
    /// written under.
    pub keys: Vec<String>,
}

/// The rules grouped by destination bucket, in destination order.
pub fn bucket_scopes(dests: &[DestinationPlan]) -> Vec<BucketScope<'_>> {
    let mut buckets: Vec<&DestinationPlan> = Vec::new();
    for d in dests {
        if !buckets.iter().any(|b| b.bucket == d.bucket) {
            buckets.push(d);
        }
    }
    buckets
        .into_iter()
        .map(|first| {
            let rules: Vec<&DestinationPlan> =
                dests.iter().filter(|d| d.bucket == first.bucket).collect();
            BucketScope {
                first,
                objects: scope::objects(
                    &first.bucket_arn,
                    rules.iter().map(|d| d.prefix.as_deref()),
                ),
                delete_markers: rules.iter().any(|d| d.delete_markers),
                owner_override: rules.iter().any(|d| d.owner_override),
                keys: {
                    let mut keys: Vec<String> =
                        rules.iter().filter_map(|d| d.kms_key.clone()).collect();
                    keys.sort();
                    keys.dedup();
                    keys
                },
            }
        })
        .collect()
}

/// A statement to place on a destination bucket's policy.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketStatement {
    /// Index of the (first) destination this statement serves.
    pub dest_index: usize,
    pub account: AccountId,
    pub region: Region,
    pub bucket: BucketName,
    pub id: StatementId,
    pub statement: Value,
    /// Shared by every source of an organization: never removed.
    pub shared: bool,
    /// It names a replica key Create has not made yet: written once the key exists.
    pub names_key_to_create: bool,
}

/// A statement to place on a key's policy.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyStatement {
    /// Index of the (first) destination this statement serves (unused for the source key).
    pub dest_index: usize,
    pub account: AccountId,
    pub region: Region,
    pub key_arn: String,
    pub id: StatementId,
    pub statement: Value,
    /// Shared by every source of an organization: never removed.
    pub shared: bool,
    /// The key was created by this resource for it alone: nobody else writes its policy.
    pub exclusive: bool,
}

/// Everything Create/Update converges to. Built once from the properties and the facts the
/// check phase read, before anything is written: every grant, statement and rule comes from
/// [`Plan::build`]. Keys Create makes are named by their alias ([`KeyRef::ToCreate`]) until
/// apply has made them and [`Plan::bind`]s their ARNs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub resolved: Resolved,
    pub keys: Keys,
    pub trust_policy: Value,
    pub role_policy: Value,
    pub source_key_statement: Option<KeyStatement>,
    pub bucket_statements: Vec<BucketStatement>,
    pub key_statements: Vec<KeyStatement>,
    pub replication: ReplicationConfig,
    pub destinations: Vec<DestinationPlan>,
    /// `FailureNotification`: our configuration on the source bucket and the topic or queue
    /// policy statement.
    pub notification: Option<NotificationPlan>,
    /// `Alarms`: one or two per rule.
    pub alarms: Vec<Alarm>,
    /// `ReplicateExistingObjects`: the batch-operations role and each flagged destination's job.
    pub batch: Option<BatchPlan>,
}

impl Plan {
    /// Builds the desired state for `spec` with `keys` (the source key, and each destination's
    /// replica key in order).
    pub fn build(spec: &Spec, resolved: Resolved, keys: &Keys) -> Result<Plan, PlanError> {
        let source_key = keys.source.as_ref().map(KeyRef::name);
        let destinations = destination_plans(spec, &resolved, source_key.as_deref(), keys)?;
        let role_policy = policy::role_policy(&resolved, source_key.as_deref(), &destinations);
        // Sized as it will be written: with keys Create makes named by their ARNs, each once.
        let size = keys
            .distinct()
            .iter()
            .fold(compact_len(&role_policy), |n, k| {
                n + k.bound_len() - k.name().len()
            });
        if size > ROLE_POLICY_LIMIT {
            return Err(PlanError::RolePolicyTooLarge { size });
        }
        check_notification_place(spec, &resolved)?;
        let report_key = match &spec.batch.report_bucket {
            Some(b) if b != &resolved.source_bucket => resolved.report_key.clone(),
            _ => source_key.clone(),
        };
        Ok(Plan {
            batch: batch::plan(spec, &resolved, &destinations, report_key.as_deref()),
            notification: signals::notification(spec, &resolved),
            alarms: signals::alarms(spec, &resolved, &destinations),
            trust_policy: policy::trust_policy(&resolved),
            role_policy,
            source_key_statement: source_key.as_ref().map(|key| KeyStatement {
                dest_index: 0,
                account: resolved.source_account.clone(),
                region: resolved.source_region.clone(),
                key_arn: key.clone(),
                id: resolved.source_id(),
                statement: policy::source_key_statement(&resolved),
                shared: false,
                exclusive: spec.source.kms_key.creates(),
            }),
            bucket_statements: bucket_statements(&resolved, &destinations, keys),
            key_statements: key_statements(spec, &resolved, &destinations),
            replication: replication_config(spec, &resolved, source_key.is_some(), &destinations),
            destinations,
            keys: keys.clone(),
            resolved,
        })
    }

    /// The same plan with the keys apply has made: every document names them by ARN.
    pub fn bind(&self, spec: &Spec, keys: &Keys) -> Result<Plan, PlanError> {
        Plan::build(spec, self.resolved.clone(), keys)
    }

    /// The source key's name in the documents (its ARN, or its alias ARN before Create makes it).
    pub fn source_key(&self) -> Option<String> {
        self.keys.source.as_ref().map(KeyRef::name)
    }

    /// `Data` of the response, readable with `Fn::GetAtt`.
    pub fn response_data(&self) -> BTreeMap<String, String> {
        let join = |f: &dyn Fn(&DestinationPlan) -> String| -> String {
            self.destinations
                .iter()
                .map(f)
                .collect::<Vec<_>>()
                .join(",")
        };
        BTreeMap::from([
            (
                "ReplicationRoleArn".to_owned(),
                self.resolved.role_arn.to_string(),
            ),
            (
                "SourceKmsKeyArn".to_owned(),
                self.source_key().unwrap_or_default(),
            ),
            (
                "DestinationKmsKeyArns".to_owned(),
                join(&|d| d.kms_key.clone().unwrap_or_default()),
            ),
            (
                "DestinationBucketArns".to_owned(),
                join(&|d| d.bucket_arn.clone()),
            ),
            (
                "RuleIds".to_owned(),
                self.replication
                    .rules
                    .iter()
                    .map(|r| r.id.clone())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ])
    }
}

/// The failure notification's topic or queue must be in the source account and region.
pub fn check_notification_place(spec: &Spec, r: &Resolved) -> Result<(), PlanError> {
    match &spec.failure_notification {
        Some(n) if n.account() != &r.source_account || n.region() != &r.source_region => {
            Err(PlanError::NotificationElsewhere {
                arn: n.to_string(),
                account: n.account().to_string(),
                region: n.region().to_string(),
                source_account: r.source_account.to_string(),
                source_region: r.source_region.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Each destination with its replica key. SSE-KMS source objects need one for every rule.
fn destination_plans(
    spec: &Spec,
    r: &Resolved,
    source_key: Option<&str>,
    keys: &Keys,
) -> Result<Vec<DestinationPlan>, PlanError> {
    spec.destinations
        .iter()
        .enumerate()
        .map(|(index, d)| {
            let kms_key = keys.destination(index).map(KeyRef::name);
            if let (Some(src_key), None) = (source_key, &kms_key) {
                return Err(PlanError::ReplicaKeyRequired {
                    index,
                    bucket: r.source_bucket.to_string(),
                    key: src_key.to_owned(),
                    account: d.account.to_string(),
                    region: d.region.to_string(),
                });
            }
            Ok(DestinationPlan {
                index,
                bucket_arn: d.bucket.arn(&r.partition),
                bucket: d.bucket.clone(),
                account: d.account.clone(),
                region: d.region.clone(),
                kms_key,
                owner_override: d.owner_override_for(&r.source_account),
                prefix: d.prefix.clone().filter(|p| !p.is_empty()),
                delete_markers: d.delete_marker_replication,
            })
        })
        .collect()
}

/// One statement per destination bucket, even when several rules target it, covering what
/// those rules replicate. Organization mode: one statement per distinct scope, identical for
/// every source with that scope (its Sid is derived from the scope), so sources never rewrite
/// each other's.
fn bucket_statements(r: &Resolved, dests: &[DestinationPlan], keys: &Keys) -> Vec<BucketStatement> {
    bucket_scopes(dests)
        .into_iter()
        .map(|scope| {
            let names_key_to_create = scope.keys.iter().any(|k| keys.to_create(k));
            let d = scope.first;
            let (id, statement) = match &r.organization_id {
                Some(org) => {
                    let id = policy::organization_bucket_id(r, org, &scope);
                    let statement = policy::organization_bucket_statement(r, org, &scope, &id.sid);
                    (id, statement)
                }
                None => (
                    r.source_id(),
                    policy::destination_bucket_statement(r, &scope),
                ),
            };
            BucketStatement {
                dest_index: d.index,
                account: d.account.clone(),
                region: d.region.clone(),
                bucket: d.bucket.clone(),
                id,
                statement,
                shared: r.organization_id.is_some(),
                names_key_to_create,
            }
        })
        .collect()
}

/// Per source: one statement per destination key, naming every destination bucket that uses
/// it. Organization mode: one statement per (key, destination bucket), identical for every
/// source, so sources never rewrite each other's.
fn key_statements(spec: &Spec, r: &Resolved, dests: &[DestinationPlan]) -> Vec<KeyStatement> {
    let mut grouped: Vec<(&DestinationPlan, Vec<&str>)> = Vec::new();
    for d in dests.iter().filter(|d| d.kms_key.is_some()) {
        let same = |g: &&DestinationPlan| {
            g.kms_key == d.kms_key && (r.organization_id.is_none() || g.bucket == d.bucket)
        };
        match grouped.iter_mut().find(|(g, _)| same(g)) {
            Some((_, buckets)) => buckets.push(&d.bucket_arn),
            None => grouped.push((d, vec![&d.bucket_arn])),
        }
    }
    grouped
        .into_iter()
        .map(|(d, buckets)| {
            let exclusive = buckets.len() == 1 && spec.destinations[d.index].kms_key.creates();
            let (id, statement) = match &r.organization_id {
                Some(org) => {
                    let id = StatementId {
                        sid: names::organization_key_sid(&r.partition, org, &d.bucket),
                        legacy: vec![names::legacy_organization_key_sid(&d.bucket)],
                        claim: Claim::Organization(org.clone()),
                    };
                    let statement = policy::organization_key_statement(
                        org,
                        d.region.as_str(),
                        &d.bucket_arn,
                        &id.sid,
                    );
                    (id, statement)
                }
                None => (
                    r.source_id(),
                    policy::destination_key_statement(r, d.region.as_str(), &buckets),
                ),
            };
            KeyStatement {
                dest_index: d.index,
                account: d.account.clone(),
                region: d.region.clone(),
                key_arn: d.kms_key.clone().unwrap_or_default(),
                id,
                statement,
                shared: r.organization_id.is_some(),
                exclusive,
            }
        })
        .collect()
}

fn replication_config(
    spec: &Spec,
    r: &Resolved,
    sse_kms_source: bool,
    dests: &[DestinationPlan],
) -> ReplicationConfig {
    let rules = spec
        .destinations
        .iter()
        .zip(dests)
        .map(|(d, p)| Rule {
            id: d.rule_id.clone(),
            priority: d.priority,
            filter: Filter::new(d.prefix.as_deref(), &d.tags),
            delete_marker_replication: d.delete_marker_replication,
            sse_kms_encrypted_objects: sse_kms_source,
            replica_modifications: d.replica_modifications,
            destination: RuleDestination {
                bucket: p.bucket_arn.clone(),
                account: (p.owner_override || p.account != r.source_account)
                    .then(|| p.account.to_string()),
                storage_class: d.storage_class.as_str().to_owned(),
                owner_override: p.owner_override,
                replica_kms_key_id: p.kms_key.clone(),
                replication_time_control: d.replication_time_control,
                // Failure events and the alarms' metrics exist only for rules with metrics.
                metrics: d.metrics || spec.needs_metrics(),
            },
        })
        .collect();
    ReplicationConfig {
        role: r.role_arn.to_string(),
        rules,
    }
}

/// Length of a document as IAM counts it (compact JSON, no whitespace).
pub fn compact_len(v: &Value) -> usize {
    v.to_string().len()
}

#[cfg(test)]
mod tests;
