//! The SAM templates against the security model (README "Security model"), with the project's own
//! policy evaluator (the doctor's): every template is resolved offline with several parameter
//! sets (defaults, organization mode, single provider), every policy it deploys is extracted, and
//!
//! * each **attack** of the list below is refused (explicit or implicit deny: never Allow, never
//!   "cannot decide");
//! * each **legitimate call** the provider makes is allowed, on its real resource and context
//!   (the function's role in the source account, the destination role in a destination
//!   account, keys the provider created under the policy it gives them);
//! * every action the provider really calls (a live Create, Update and Delete against the
//!   emulator, recorded call by call) is one of those legitimate calls, so the list cannot
//!   silently fall behind the code.
//!
//! moto evaluates no permission: without this, a missing grant would show only on AWS, as an
//! AccessDenied in the middle of a stack operation, and a grant too many not at all.

mod support;

use std::collections::BTreeSet;

use s3_replication_provider::aws::Call;
use s3_replication_provider::doctor::decide::{kms_access, trust, Document};
use s3_replication_provider::doctor::{
    evaluate, Context, Decision, PolicyKind, Principal, Request,
};
use s3_replication_provider::plan::policy::created_key_policy;
use s3_replication_provider::template::{Context as Deployment, Deployed};
use serde_json::{json, Value};
use support::harness::{Answered, Harness, HOME_REGION};
use support::templates::{deploy_as, deployment, template, BOUNDARY, FUNCTION_ROLE, REGION, SRC};
use support::{unique, DEFAULT_ACCOUNT};

/// Two destination accounts, in the source's organization.
const ACCT_B: &str = "222222222222";
const ACCT_C: &str = "333333333333";
/// A member account of the same organization that is neither a source nor a destination.
const OTHER_MEMBER: &str = "999999999999";
const ORG: &str = "o-a1b2c3d4e5";
const OTHER_ORG: &str = "o-zzzzzzzzzz";
const DESTINATION_ROLE_NAME: &str = "S3ReplicationDestinationProvisioner";

fn destination_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{DESTINATION_ROLE_NAME}")
}

/// The template `name` deployed in `account` with `params`.
fn deploy(name: &str, account: &str, params: &[(&str, &str)]) -> Deployed {
    deploy_as(&template(name), name, account, params)
}

/// A role's trust policy and inline policies, as the template deploys them.
struct Role {
    trust: Value,
    policies: Vec<(String, Value)>,
}

impl Role {
    fn of(d: &Deployed, logical_id: &str) -> Role {
        let p = d
            .properties(logical_id)
            .unwrap_or_else(|| panic!("no {logical_id}"));
        Role {
            trust: p["AssumeRolePolicyDocument"].clone(),
            policies: p["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    (
                        x["PolicyName"].as_str().unwrap().to_owned(),
                        x["PolicyDocument"].clone(),
                    )
                })
                .collect(),
        }
    }

    fn identity(&self) -> Vec<Document<'_>> {
        self.policies
            .iter()
            .map(|(n, d)| Document::new(n, d))
            .collect()
    }
}

/// The source template's boundary document.
fn boundary(d: &Deployed) -> Value {
    d.properties("ReplicationRoleBoundary").unwrap()["PolicyDocument"].clone()
}

/// What the function's own role may do, alone (no resource policy: IAM, STS, same-account S3
/// without a bucket policy).
fn by_identity(role: &Role, req: &Request) -> Decision {
    s3_replication_provider::doctor::eval::evaluate_all(
        role.identity().iter().map(|d| (d.name, d.body)),
        PolicyKind::Identity,
        req,
    )
    .decision()
}

/// A KMS request on a key with `key_policy`, in `account`.
fn on_key(role: &Role, req: &Request, key_policy: &Value, account: &str) -> Decision {
    kms_access(
        req,
        &role.identity(),
        Document::new("key policy", key_policy),
        account,
    )
    .decision
}

/// A key with KMS's default policy: the account's IAM policies govern it.
fn default_key_policy(account: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"}]})
}

fn key_arn(account: &str, id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{account}:key/{id}")
}

fn req(principal: &str, action: &str, resource: &str, ctx: Context) -> Request {
    Request::new(Principal::role(principal), action, resource, ctx)
}

/// The closed-world context of a role session of `principal`, plus `keys`.
fn ctx(principal: &str, keys: &[(&str, &str)]) -> Context {
    let account = principal.split(':').nth(4).unwrap_or_default().to_owned();
    let mut c = Context::closed()
        .with("aws:PrincipalArn", principal)
        .with("aws:PrincipalAccount", account)
        .with("aws:PrincipalOrgID", ORG)
        .with("aws:SecureTransport", "true");
    for (k, v) in keys {
        c = c.with(k, *v);
    }
    c
}

#[track_caller]
fn assert_allowed(what: &str, d: Decision) {
    assert_eq!(d, Decision::Allow, "legitimate call refused: {what}");
}

#[track_caller]
fn assert_refused(what: &str, d: Decision) {
    assert!(
        matches!(d, Decision::ExplicitDeny | Decision::ImplicitDeny),
        "attack not refused ({d:?}): {what}"
    );
}

// ---------------------------------------------------------------------------------------------
// parameter sets
// ---------------------------------------------------------------------------------------------

const PATTERN: &str = "backup-*";

fn destination_sets() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "single provider, Provision",
            vec![
                ("ProviderRoleArns", FUNCTION_ROLE),
                ("DestinationBucketNamePattern", PATTERN),
                ("ProviderAccess", "Provision"),
            ],
        ),
        (
            "organization, Provision",
            vec![
                ("ProviderAccess", "Provision"),
                ("OrganizationId", ORG),
                ("ProviderAccountIds", "111111111111,444444444444"),
                ("DestinationBucketNamePattern", PATTERN),
            ],
        ),
        (
            "organization, Provision, ExternalId, key deletion allowed",
            vec![
                ("ProviderAccess", "Provision"),
                ("OrganizationId", ORG),
                ("ProviderAccountIds", SRC),
                ("ExternalId", "backup-external-id"),
                ("AllowKeyDeletion", "true"),
                ("DestinationBucketNamePattern", PATTERN),
            ],
        ),
    ]
}

fn source_sets() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "listed destination accounts (defaults otherwise)",
            vec![("DestinationAccountIds", "222222222222,333333333333")],
        ),
        (
            "destination organization",
            vec![("DestinationOrganizationId", ORG)],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// the legitimate calls
// ---------------------------------------------------------------------------------------------

/// Whether the call is made with the function's own credentials or through a destination role.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Source,
    Destination,
}

/// Where a legitimate call lands: the policies that decide it besides the caller's own.
enum On {
    /// IAM/STS/S3 without a resource policy in play.
    Identity,
    /// A key the provider created (its policy names the caller).
    CreatedKey,
    /// An existing key its owner opted in (tag), with KMS's default policy.
    OptedInKey,
    /// Any existing key with KMS's default policy (reads).
    AnyKey,
}

struct Legit {
    side: Side,
    action: &'static str,
    resource: String,
    keys: Vec<(&'static str, String)>,
    /// Multi-valued condition keys (`aws:TagKeys`).
    lists: Vec<(&'static str, Vec<&'static str>)>,
    on: On,
    /// Legitimate only where the destination's owner set `AllowKeyDeletion`.
    needs_key_deletion: bool,
}

fn legit(side: Side, action: &'static str, resource: &str, on: On) -> Legit {
    Legit {
        side,
        action,
        resource: resource.to_owned(),
        keys: Vec::new(),
        lists: Vec::new(),
        on,
        needs_key_deletion: false,
    }
}

impl Legit {
    fn with(mut self, key: &'static str, value: &str) -> Self {
        self.keys.push((key, value.to_owned()));
        self
    }

    fn with_values(mut self, key: &'static str, values: &[&'static str]) -> Self {
        self.lists.push((key, values.to_vec()));
        self
    }
}

/// Every call the provider makes, with the resource and condition keys AWS evaluates it with.
fn legitimate_calls(dest_account: &str) -> Vec<Legit> {
    use On::*;
    use Side::*;
    let src_bucket = "arn:aws:s3:::app-data";
    let canary = "arn:aws:s3:::app-data/logs/.s3-replication-canary/c1";
    let dst_bucket = "arn:aws:s3:::backup-app";
    let dst_canary = "arn:aws:s3:::backup-app/logs/.s3-replication-canary/c1";
    let role = "arn:aws:iam::111111111111:role/s3-replication/s3-replication-app-data";
    let src_key = key_arn(SRC, "created");
    let dst_key = key_arn(dest_account, "created");
    let alias =
        |account: &str| format!("arn:aws:kms:{REGION}:{account}:alias/s3-replication/app-data");
    let mut out = Vec::new();
    for action in [
        "s3:GetBucketLocation",
        "s3:GetBucketVersioning",
        "s3:PutBucketVersioning",
        "s3:GetReplicationConfiguration",
        "s3:PutReplicationConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:GetBucketPolicy",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketNotification",
        "s3:PutBucketNotification",
    ] {
        out.push(legit(Source, action, src_bucket, Identity).with("s3:ResourceAccount", SRC));
    }
    // FailureNotification (a topic or queue named by the default pattern) and Alarms.
    let topic = format!("arn:aws:sns:{REGION}:{SRC}:s3-replication-failures");
    let queue = format!("arn:aws:sqs:{REGION}:{SRC}:s3-replication-failures");
    let alarm = format!(
        "arn:aws:cloudwatch:{REGION}:{SRC}:alarm:s3-replication/app-data/replicate-to-backup-app/failed-replication"
    );
    for action in ["sns:GetTopicAttributes", "sns:SetTopicAttributes"] {
        out.push(legit(Source, action, &topic, Identity));
    }
    for action in [
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
    ] {
        out.push(legit(Source, action, &queue, Identity));
    }
    for action in ["cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"] {
        out.push(legit(Source, action, &alarm, Identity));
    }
    // An alarm acting on the failure topic, and one for a queue (no action); a latency alarm
    // in a destination's region (where S3 publishes ReplicationLatency) acting on that
    // region's topic (AlarmTopics).
    let topic_action: &'static str = Box::leak(topic.clone().into_boxed_str());
    out.push(
        legit(Source, "cloudwatch:PutMetricAlarm", &alarm, Identity)
            .with_values("cloudwatch:AlarmActions", &[topic_action]),
    );
    let west_alarm = format!(
        "arn:aws:cloudwatch:us-west-2:{SRC}:alarm:s3-replication/app-data/replicate-to-backup-app/replication-latency"
    );
    let west_topic = format!("arn:aws:sns:us-west-2:{SRC}:s3-replication-alarms");
    out.push(legit(
        Source,
        "sns:GetTopicAttributes",
        &west_topic,
        Identity,
    ));
    out.push(legit(
        Source,
        "cloudwatch:DescribeAlarms",
        &west_alarm,
        Identity,
    ));
    let west_action: &'static str = Box::leak(west_topic.into_boxed_str());
    out.push(
        legit(Source, "cloudwatch:PutMetricAlarm", &west_alarm, Identity)
            .with_values("cloudwatch:AlarmActions", &[west_action]),
    );
    // Verify and the doctor count failed replications (no resource-level permission).
    out.push(legit(
        Source,
        "cloudwatch:GetMetricStatistics",
        "*",
        Identity,
    ));
    out.push(
        legit(Source, "cloudwatch:PutMetricAlarm", &alarm, Identity)
            .with_values("cloudwatch:AlarmActions", &[]),
    );
    for action in [
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:GetObjectVersion",
        "s3:DeleteObjectVersion",
    ] {
        out.push(legit(Source, action, canary, Identity).with("s3:ResourceAccount", SRC));
    }
    out.push(
        legit(Source, "kms:GenerateDataKey", &src_key, CreatedKey)
            .with("kms:ViaService", "s3.eu-west-1.amazonaws.com"),
    );
    for action in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:PutRolePermissionsBoundary",
    ] {
        out.push(legit(Source, action, role, Identity).with("iam:PermissionsBoundary", BOUNDARY));
    }
    for action in [
        "iam:GetRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:TagRole",
    ] {
        out.push(legit(Source, action, role, Identity));
    }
    out.push(
        legit(Source, "iam:PassRole", role, Identity)
            .with("iam:PassedToService", "s3.amazonaws.com"),
    );
    // ReplicateExistingObjects: the batch role (created, bounded, tagged and removed like the
    // replication role, passed to S3 Batch Operations only), its jobs, and a report bucket
    // other than the source (its location, its default encryption and key).
    let batch_role =
        "arn:aws:iam::111111111111:role/s3-replication/batch/s3-batch-replication-app-data";
    for action in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:PutRolePermissionsBoundary",
    ] {
        out.push(
            legit(Source, action, batch_role, Identity).with("iam:PermissionsBoundary", BOUNDARY),
        );
    }
    for action in [
        "iam:GetRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:TagRole",
    ] {
        out.push(legit(Source, action, batch_role, Identity));
    }
    out.push(
        legit(Source, "iam:PassRole", batch_role, Identity)
            .with("iam:PassedToService", "batchoperations.s3.amazonaws.com"),
    );
    out.push(
        legit(Source, "s3:CreateJob", "*", Identity)
            .with("s3:RequestJobOperation", "S3ReplicateObject"),
    );
    out.push(legit(Source, "s3:ListJobs", "*", Identity));
    // Before any work: the event's stack resource, in the function's account and region.
    out.push(legit(
        Source,
        "cloudformation:DescribeStackResource",
        &format!(
            "arn:aws:cloudformation:{REGION}:{SRC}:stack/app/6f7c1e2a-0b1d-4c5e-9f00-123456789abc"
        ),
        Identity,
    ));
    // In the source region, which need not be the function's.
    for region in [REGION, "us-west-2"] {
        out.push(legit(
            Source,
            "s3:DescribeJob",
            &format!("arn:aws:s3:{region}:{SRC}:job/6f7c1e2a-0b1d-4c5e-9f00-123456789abc"),
            Identity,
        ));
    }
    for action in ["s3:GetBucketLocation", "s3:GetEncryptionConfiguration"] {
        out.push(
            legit(Source, action, "arn:aws:s3:::app-reports", Identity)
                .with("s3:ResourceAccount", SRC),
        );
    }
    out.push(legit(
        Source,
        "kms:DescribeKey",
        &key_arn(SRC, "report-bucket-default"),
        AnyKey,
    ));
    out.push(legit(Source, "iam:GetPolicy", BOUNDARY, Identity));
    out.push(legit(Source, "iam:GetPolicyVersion", BOUNDARY, Identity));
    out.push(legit(
        Source,
        "organizations:DescribeOrganization",
        "*",
        Identity,
    ));
    out.push(
        legit(
            Source,
            "sts:AssumeRole",
            &destination_role(dest_account),
            Identity,
        )
        .with("aws:ResourceAccount", dest_account)
        .with("aws:ResourceOrgID", ORG),
    );
    for (side, account, key) in [
        (Source, SRC, &src_key),
        (Destination, dest_account, &dst_key),
    ] {
        let provider_tags = ["s3-replication:managed", "s3-replication:source-bucket"];
        out.push(
            legit(side, "kms:CreateKey", "*", Identity)
                .with("aws:RequestTag/s3-replication:managed", "true")
                .with("kms:BypassPolicyLockoutSafetyCheck", "false")
                .with_values("aws:TagKeys", &provider_tags),
        );
        out.push(
            legit(side, "kms:TagResource", key, Identity)
                .with("aws:RequestTag/s3-replication:managed", "true")
                .with_values("aws:TagKeys", &provider_tags),
        );
        out.push(legit(side, "kms:ListAliases", "*", Identity));
        for action in [
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
        ] {
            out.push(legit(side, action, &key_arn(account, "existing"), AnyKey));
        }
        for action in [
            "kms:EnableKeyRotation",
            "kms:PutKeyPolicy",
            "kms:CreateAlias",
            "kms:DeleteAlias",
        ] {
            out.push(legit(side, action, key, CreatedKey));
        }
        for action in ["kms:CreateAlias", "kms:DeleteAlias"] {
            out.push(legit(side, action, &alias(account), Identity));
        }
        out.push(
            legit(
                side,
                "kms:PutKeyPolicy",
                &key_arn(account, "opted-in"),
                OptedInKey,
            )
            .with(
                "aws:ResourceTag/s3-replication:provider-may-edit-policy",
                "true",
            ),
        );
    }
    // KeyRemovalPolicy Delete of a source key; of a destination key only with AllowKeyDeletion
    // (without it the destination role is denied and Delete keeps the key).
    out.push(legit(
        Source,
        "kms:ScheduleKeyDeletion",
        &src_key,
        CreatedKey,
    ));
    out.push(Legit {
        needs_key_deletion: true,
        ..legit(Destination, "kms:ScheduleKeyDeletion", &dst_key, CreatedKey)
    });
    for action in [
        "s3:GetBucketLocation",
        "s3:GetBucketVersioning",
        "s3:PutBucketVersioning",
        "s3:CreateBucket",
        "s3:GetBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        "s3:GetEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketTagging",
    ] {
        out.push(
            legit(Destination, action, dst_bucket, Identity)
                .with("s3:ResourceAccount", dest_account),
        );
    }
    for action in ["s3:GetObjectVersion", "s3:DeleteObjectVersion"] {
        out.push(
            legit(Destination, action, dst_canary, Identity)
                .with("s3:ResourceAccount", dest_account),
        );
    }
    out
}

fn decide(l: &Legit, role: &Role, principal: &str, account: &str) -> Decision {
    let keys: Vec<(&str, &str)> = l.keys.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut c = ctx(principal, &keys);
    for (k, values) in &l.lists {
        c = c.with_values(k, values.iter().copied());
    }
    let r = req(principal, l.action, &l.resource, c);
    match l.on {
        On::Identity => by_identity(role, &r),
        On::CreatedKey => on_key(
            role,
            &r,
            &created_key_policy("aws", account, principal),
            account,
        ),
        On::OptedInKey | On::AnyKey => on_key(role, &r, &default_key_policy(account), account),
    }
}

/// IAM refuses a role whose inline policies together exceed 10,240 characters (whitespace not
/// counted): the stack would fail at CreateRole/PutRolePolicy, not in a test.
#[test]
fn every_role_the_templates_create_fits_iams_inline_policy_limit() {
    const LIMIT: usize = 10_240;
    let mut checked = Vec::new();
    for (name, params) in source_sets() {
        checked.push((
            name,
            Role::of(&deploy("source-account", SRC, &params), "FunctionRole"),
        ));
    }
    for (name, params) in destination_sets() {
        let d = deploy("destination-account", ACCT_B, &params);
        checked.push((name, Role::of(&d, "DestinationProvisionerRole")));
    }
    for (name, role) in checked {
        let size: usize = role.policies.iter().map(|(_, d)| d.to_string().len()).sum();
        assert!(
            size <= LIMIT,
            "{name}: inline policies of {size} characters > {LIMIT}"
        );
        // Room left for what the next feature adds.
        eprintln!("{name}: {size} of {LIMIT} characters");
    }
}

/// IAM refuses a managed policy (the boundary) over 6,144 characters (whitespace not counted).
#[test]
fn the_boundary_fits_iams_managed_policy_limit() {
    const LIMIT: usize = 6_144;
    for (name, params) in source_sets() {
        let size = boundary(&deploy("source-account", SRC, &params))
            .to_string()
            .len();
        assert!(
            size <= LIMIT,
            "{name}: boundary of {size} characters > {LIMIT}"
        );
        eprintln!("{name}: boundary {size} of {LIMIT} characters");
    }
}

#[test]
fn every_legitimate_call_is_allowed_under_every_parameter_set() {
    for (name, params) in source_sets() {
        let role = Role::of(&deploy("source-account", SRC, &params), "FunctionRole");
        for l in legitimate_calls(ACCT_B)
            .iter()
            .filter(|l| l.side == Side::Source)
        {
            let what = format!("source template, {name}: {} on {}", l.action, l.resource);
            assert_allowed(&what, decide(l, &role, FUNCTION_ROLE, SRC));
        }
    }
    for (name, params) in destination_sets() {
        let role = Role::of(
            &deploy("destination-account", ACCT_B, &params),
            "DestinationProvisionerRole",
        );
        let principal = destination_role(ACCT_B);
        let deletion_allowed = params.contains(&("AllowKeyDeletion", "true"));
        for l in legitimate_calls(ACCT_B)
            .iter()
            .filter(|l| l.side == Side::Destination && (deletion_allowed || !l.needs_key_deletion))
        {
            let what = format!(
                "destination template, {name}: {} on {}",
                l.action, l.resource
            );
            assert_allowed(&what, decide(l, &role, &principal, ACCT_B));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the attacks
// ---------------------------------------------------------------------------------------------

/// Who may assume the destination role: exactly the provider roles its owner names. A member
/// account's administrator who creates a role with a matching name is refused under every
/// parameter set, defaults included.
#[test]
fn no_member_account_can_assume_the_destination_role_by_naming_a_role() {
    for (name, params) in destination_sets() {
        let d = deploy("destination-account", ACCT_B, &params);
        let role = Role::of(&d, "DestinationProvisionerRole");
        let external: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| *k == "ExternalId")
            .map(|(_, v)| ("sts:ExternalId", *v))
            .collect();
        let attempt = |principal: &str| {
            let r = req(
                principal,
                "sts:AssumeRole",
                &destination_role(ACCT_B),
                ctx(principal, &external),
            );
            trust(&r, Document::new("trust policy", &role.trust)).decision
        };
        for evil in [
            format!("arn:aws:iam::{OTHER_MEMBER}:role/EvilS3ReplicationX"),
            format!("arn:aws:iam::{OTHER_MEMBER}:role/S3ReplicationProvider-eu-west-1"),
            format!("arn:aws:iam::{OTHER_MEMBER}:role/s3-replication/S3ReplicationProvider-x"),
            format!("arn:aws:iam::{ACCT_C}:role/S3ReplicationProvider-eu-west-1"),
        ] {
            assert_refused(
                &format!("{name}: {evil} assumes the destination role"),
                attempt(&evil),
            );
        }
        assert_allowed(
            &format!("{name}: the provider assumes it"),
            attempt(FUNCTION_ROLE),
        );
        // In the source account itself, a role with another name does not pass either.
        assert_refused(
            &format!("{name}: another role of the source account"),
            attempt("arn:aws:iam::111111111111:role/EvilS3ReplicationX"),
        );
    }
}

#[test]
fn the_destination_role_touches_only_designated_buckets_and_its_own_keys() {
    for (name, params) in destination_sets() {
        let role = Role::of(
            &deploy("destination-account", ACCT_B, &params),
            "DestinationProvisionerRole",
        );
        let me = destination_role(ACCT_B);
        let deletion_allowed = params.contains(&("AllowKeyDeletion", "true"));
        // Buckets that are not replication destinations, and objects in any bucket (the
        // role has no object access but to canaries).
        let payroll = "arn:aws:s3:::payroll-data";
        for action in [
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:PutBucketVersioning",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketPublicAccessBlock",
            "s3:GetBucketPolicy",
            "s3:CreateBucket",
        ] {
            let r = req(
                &me,
                action,
                payroll,
                ctx(&me, &[("s3:ResourceAccount", ACCT_B)]),
            );
            assert_refused(
                &format!("{name}: {action} on {payroll}"),
                by_identity(&role, &r),
            );
        }
        for action in [
            "s3:DeleteObjectVersion",
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObject",
            "s3:PutObjectRetention",
            "s3:BypassGovernanceRetention",
        ] {
            for resource in [
                "arn:aws:s3:::payroll-data/2026/ledger.csv",
                "arn:aws:s3:::backup-app/2026/ledger.csv",
            ] {
                let r = req(
                    &me,
                    action,
                    resource,
                    ctx(&me, &[("s3:ResourceAccount", ACCT_B)]),
                );
                assert_refused(
                    &format!("{name}: {action} on {resource}"),
                    by_identity(&role, &r),
                );
            }
        }
        // Keys it did not create, opted in or not tagged at all.
        let existing = key_arn(ACCT_B, "payroll");
        for (action, tags) in [
            ("kms:PutKeyPolicy", vec![]),
            (
                "kms:PutKeyPolicy",
                vec![("aws:ResourceTag/s3-replication:managed", "true")],
            ),
            ("kms:ScheduleKeyDeletion", vec![]),
            // Tag-then-delete: a key tagged as the provider's is still not the role's to delete.
            (
                "kms:ScheduleKeyDeletion",
                vec![("aws:ResourceTag/s3-replication:managed", "true")],
            ),
            (
                "kms:ScheduleKeyDeletion",
                vec![(
                    "aws:ResourceTag/s3-replication:provider-may-edit-policy",
                    "true",
                )],
            ),
            ("kms:DisableKey", vec![]),
            ("kms:Decrypt", vec![]),
            ("kms:CancelKeyDeletion", vec![]),
        ] {
            let r = req(&me, action, &existing, ctx(&me, &tags));
            assert_refused(
                &format!("{name}: {action} on an existing key with tags {tags:?}"),
                on_key(&role, &r, &default_key_policy(ACCT_B), ACCT_B),
            );
        }
        // The role cannot opt a key in itself: the opt-in tag is not one it may set.
        let r = req(
            &me,
            "kms:TagResource",
            &existing,
            ctx(&me, &[])
                .with(
                    "aws:RequestTag/s3-replication:provider-may-edit-policy",
                    "true",
                )
                .with_values("aws:TagKeys", ["s3-replication:provider-may-edit-policy"]),
        );
        assert_refused(
            &format!("{name}: the role opts a key in"),
            on_key(&role, &r, &default_key_policy(ACCT_B), ACCT_B),
        );
        // Never around KMS's lockout check.
        for action in ["kms:CreateKey", "kms:PutKeyPolicy"] {
            let r = req(
                &me,
                action,
                &key_arn(ACCT_B, "created"),
                ctx(
                    &me,
                    &[
                        ("kms:BypassPolicyLockoutSafetyCheck", "true"),
                        ("aws:RequestTag/s3-replication:managed", "true"),
                    ],
                ),
            );
            let key_policy = created_key_policy("aws", ACCT_B, &me);
            assert_refused(
                &format!("{name}: {action} bypassing the lockout check"),
                on_key(&role, &r, &key_policy, ACCT_B),
            );
        }
        // The keys it created: deletion only when the account's owner allowed it.
        let created = created_key_policy("aws", ACCT_B, &me);
        let r = req(
            &me,
            "kms:ScheduleKeyDeletion",
            &key_arn(ACCT_B, "created"),
            ctx(&me, &[]),
        );
        let d = on_key(&role, &r, &created, ACCT_B);
        if deletion_allowed {
            assert_allowed(&format!("{name}: deleting a key it created"), d);
        } else {
            assert_refused(
                &format!("{name}: deleting a key it created (AllowKeyDeletion false)"),
                d,
            );
        }
        // ... and no use of its data.
        for action in [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:DisableKey",
            "kms:CancelKeyDeletion",
            "kms:ReEncryptFrom",
        ] {
            let r = req(&me, action, &key_arn(ACCT_B, "created"), ctx(&me, &[]));
            assert_refused(
                &format!("{name}: {action} on a key it created"),
                on_key(&role, &r, &created, ACCT_B),
            );
        }
    }
}

#[test]
fn a_destination_template_that_could_not_keep_the_promise_is_refused() {
    for (why, params) in [
        (
            "organization without accounts",
            vec![
                ("OrganizationId", ORG),
                ("DestinationBucketNamePattern", PATTERN),
            ],
        ),
        (
            "both trust modes",
            vec![
                ("OrganizationId", ORG),
                ("ProviderAccountIds", SRC),
                ("ProviderRoleArns", FUNCTION_ROLE),
                ("DestinationBucketNamePattern", PATTERN),
            ],
        ),
        ("no trust", vec![("DestinationBucketNamePattern", PATTERN)]),
    ] {
        let ctx = deployment("destination-account", ACCT_B, &params);
        let d = template("destination-account").deploy(&ctx).unwrap();
        assert!(
            !d.failed_rules.is_empty(),
            "{why}: deployable with {params:?}"
        );
    }
    // Wildcards alone designate every bucket: CloudFormation refuses the value (AllowedPattern).
    for every in ["*", "**", "?*", "*?*", "*-*", ".*"] {
        let ctx = deployment(
            "destination-account",
            ACCT_B,
            &[
                ("ProviderRoleArns", FUNCTION_ROLE),
                ("DestinationBucketNamePattern", every),
            ],
        );
        let e = template("destination-account").deploy(&ctx).unwrap_err();
        assert!(
            e.to_string().contains("DestinationBucketNamePattern"),
            "{every}: {e}"
        );
    }
    // The bucket pattern has no default: the owner must designate.
    let e = template("destination-account")
        .deploy(&Deployment::new(ACCT_B, REGION).with_parameter("ProviderRoleArns", FUNCTION_ROLE))
        .unwrap_err();
    assert!(
        e.to_string().contains("DestinationBucketNamePattern"),
        "{e}"
    );
}

#[test]
fn the_function_can_only_mint_bounded_replication_roles() {
    for (name, params) in source_sets() {
        let d = deploy("source-account", SRC, &params);
        let role = Role::of(&d, "FunctionRole");
        let minted = "arn:aws:iam::111111111111:role/s3-replication/s3-replication-app-data";
        let other_boundary = "arn:aws:iam::111111111111:policy/AdministratorAccess";
        // Issue 23, attack 4 (tag, then retrust): no role's trust can be rewritten, whatever
        // it is tagged with (the function may tag roles under the path first) and whatever its
        // boundary; the trust of a role is written once, by CreateRole.
        let batch =
            "arn:aws:iam::111111111111:role/s3-replication/batch/s3-batch-replication-app-data";
        for target in [minted, batch, "arn:aws:iam::111111111111:role/Admin"] {
            for tags in [
                &[][..],
                &[
                    ("iam:ResourceTag/s3-replication:managed", "true"),
                    ("aws:ResourceTag/s3-replication:managed", "true"),
                ][..],
            ] {
                let mut keys = tags.to_vec();
                keys.push(("iam:PermissionsBoundary", BOUNDARY));
                let r = req(
                    FUNCTION_ROLE,
                    "iam:UpdateAssumeRolePolicy",
                    target,
                    ctx(FUNCTION_ROLE, &keys),
                );
                assert_refused(
                    &format!("{name}: UpdateAssumeRolePolicy of {target} with tags {tags:?}"),
                    by_identity(&role, &r),
                );
            }
            // The tag itself stays writable (the provider records its ownership that way);
            // it no longer gates any permission.
        }
        for action in [
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:PutRolePermissionsBoundary",
        ] {
            for boundary in [None, Some(other_boundary)] {
                let keys: Vec<(&str, &str)> = boundary
                    .map(|b| ("iam:PermissionsBoundary", b))
                    .into_iter()
                    .collect();
                let r = req(FUNCTION_ROLE, action, minted, ctx(FUNCTION_ROLE, &keys));
                assert_refused(
                    &format!("{name}: {action} with boundary {boundary:?}"),
                    by_identity(&role, &r),
                );
            }
        }
        for (action, resource) in [
            ("iam:DeleteRolePermissionsBoundary", minted),
            ("iam:AttachRolePolicy", minted),
            ("iam:CreateRole", "arn:aws:iam::111111111111:role/Admin"),
            (
                "iam:PutRolePolicy",
                "arn:aws:iam::111111111111:role/S3ReplicationProvider-eu-west-1",
            ),
            ("iam:CreatePolicyVersion", BOUNDARY),
        ] {
            let r = req(
                FUNCTION_ROLE,
                action,
                resource,
                ctx(FUNCTION_ROLE, &[("iam:PermissionsBoundary", BOUNDARY)]),
            );
            assert_refused(
                &format!("{name}: {action} on {resource}"),
                by_identity(&role, &r),
            );
        }
        let r = req(
            FUNCTION_ROLE,
            "iam:PassRole",
            minted,
            ctx(
                FUNCTION_ROLE,
                &[("iam:PassedToService", "lambda.amazonaws.com")],
            ),
        );
        assert_refused(
            &format!("{name}: PassRole to another service"),
            by_identity(&role, &r),
        );

        // The boundary: replication, and nothing else, whatever policy a minted role gets.
        let b = boundary(&d);
        let minted_ctx = |keys: &[(&str, &str)]| ctx(minted, keys);
        let bounded = |action: &str, resource: &str, keys: &[(&str, &str)]| {
            evaluate(
                &b,
                "boundary",
                PolicyKind::Identity,
                &req(minted, action, resource, minted_ctx(keys)),
            )
            .decision()
        };
        for (action, resource, keys) in [
            (
                "s3:GetObject",
                "arn:aws:s3:::app-data/2026/ledger.csv",
                vec![("s3:ResourceAccount", SRC)],
            ),
            (
                "s3:GetObjectVersion",
                "arn:aws:s3:::app-data/2026/ledger.csv",
                vec![("s3:ResourceAccount", SRC)],
            ),
            (
                "s3:DeleteObjectVersion",
                "arn:aws:s3:::backup-app/x",
                vec![("aws:ResourceAccount", ACCT_B)],
            ),
            (
                "s3:PutBucketPolicy",
                "arn:aws:s3:::backup-app",
                vec![("aws:ResourceAccount", ACCT_B)],
            ),
            (
                "s3:PutObject",
                "arn:aws:s3:::backup-app/x",
                vec![("aws:ResourceAccount", ACCT_B)],
            ),
            (
                "s3:ReplicateObject",
                "arn:aws:s3:::exfil/x",
                vec![
                    ("aws:ResourceAccount", OTHER_MEMBER),
                    ("aws:ResourceOrgID", OTHER_ORG),
                ],
            ),
            ("iam:CreateRole", "arn:aws:iam::111111111111:role/x", vec![]),
            (
                "sts:AssumeRole",
                &destination_role(ACCT_B),
                vec![("aws:ResourceAccount", ACCT_B)],
            ),
            ("kms:ScheduleKeyDeletion", &key_arn(SRC, "k"), vec![]),
            // Issue 23: keys only of the source account and the accounts replicas may go to,
            // even through S3 (a key elsewhere could encrypt replicas its owner then disables).
            (
                "kms:Encrypt",
                &key_arn(OTHER_MEMBER, "k"),
                vec![
                    ("kms:ViaService", "s3.us-west-2.amazonaws.com"),
                    ("aws:ResourceAccount", OTHER_MEMBER),
                    ("aws:ResourceOrgID", OTHER_ORG),
                ],
            ),
            (
                "kms:GenerateDataKey",
                &key_arn(OTHER_MEMBER, "k"),
                vec![
                    ("kms:ViaService", "s3.eu-west-1.amazonaws.com"),
                    ("aws:ResourceAccount", OTHER_MEMBER),
                    ("aws:ResourceOrgID", OTHER_ORG),
                ],
            ),
            ("kms:Decrypt", &key_arn(SRC, "k"), vec![]),
            (
                "kms:Decrypt",
                &key_arn(SRC, "k"),
                vec![("kms:ViaService", "ec2.eu-west-1.amazonaws.com")],
            ),
        ] {
            assert_refused(
                &format!("{name}: the boundary allows {action} on {resource}"),
                bounded(action, resource, &keys),
            );
        }
        for (action, resource, keys) in [
            (
                "s3:GetObjectVersionForReplication",
                "arn:aws:s3:::app-data/logs/a",
                vec![("s3:ResourceAccount", SRC)],
            ),
            (
                "s3:GetReplicationConfiguration",
                "arn:aws:s3:::app-data",
                vec![("s3:ResourceAccount", SRC)],
            ),
            (
                "s3:ReplicateObject",
                "arn:aws:s3:::backup-app/logs/a",
                vec![("aws:ResourceAccount", ACCT_B), ("aws:ResourceOrgID", ORG)],
            ),
            (
                "kms:Encrypt",
                &key_arn(ACCT_B, "k"),
                vec![
                    ("kms:ViaService", "s3.us-west-2.amazonaws.com"),
                    ("aws:ResourceAccount", ACCT_B),
                    ("aws:ResourceOrgID", ORG),
                ],
            ),
            (
                "kms:Decrypt",
                &key_arn(SRC, "k"),
                vec![
                    ("kms:ViaService", "s3.eu-west-1.amazonaws.com"),
                    ("aws:ResourceAccount", SRC),
                    ("aws:ResourceOrgID", ORG),
                ],
            ),
        ] {
            assert_allowed(
                &format!("{name}: the boundary refuses replication ({action})"),
                bounded(action, resource, &keys),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// S3 Batch Replication (ReplicateExistingObjects)
// ---------------------------------------------------------------------------------------------

/// The batch role of source bucket `app-data`, as the provider names it.
const BATCH_ROLE: &str =
    "arn:aws:iam::111111111111:role/s3-replication/batch/s3-batch-replication-app-data";
const BATCH_SERVICE: &str = "batchoperations.s3.amazonaws.com";

/// Condition keys of a request, by name.
type Keys<'a> = Vec<(&'a str, &'a str)>;

/// What `principal` may do under the boundary `b` alone (the most any policy written to a
/// provider role can give it).
fn under_boundary(
    b: &Value,
    principal: &str,
    action: &str,
    resource: &str,
    keys: &[(&str, &str)],
) -> Decision {
    evaluate(
        b,
        "boundary",
        PolicyKind::Identity,
        &req(principal, action, resource, ctx(principal, keys)),
    )
    .decision()
}

/// What S3 Batch Operations does as the batch role (its inline policy, written by the
/// provider): the boundary must allow all of it, with the default `ReportPrefix`, in the source
/// bucket and in another `ReportBucket` of the account.
#[test]
fn the_boundary_lets_the_batch_role_do_its_job() {
    for (name, params) in source_sets() {
        let b = boundary(&deploy("source-account", SRC, &params));
        let own = [("s3:ResourceAccount", SRC)];
        let mut calls: Vec<(&str, String, Keys)> = vec![
            (
                "s3:InitiateReplication",
                "arn:aws:s3:::app-data/2026/ledger.csv".into(),
                own.to_vec(),
            ),
            (
                "s3:GetReplicationConfiguration",
                "arn:aws:s3:::app-data".into(),
                own.to_vec(),
            ),
            (
                "s3:PutInventoryConfiguration",
                "arn:aws:s3:::app-data".into(),
                own.to_vec(),
            ),
        ];
        for bucket in ["app-data", "app-reports"] {
            for object in [
                "s3-replication-reports/job-6f7c1e2a/manifest.json",
                "s3-replication-reports/job-6f7c1e2a/results/0.csv",
            ] {
                for action in ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"] {
                    calls.push((
                        action,
                        format!("arn:aws:s3:::{bucket}/{object}"),
                        own.to_vec(),
                    ));
                }
            }
        }
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            calls.push((
                action,
                key_arn(SRC, "report-bucket-default"),
                vec![("kms:ViaService", "s3.eu-west-1.amazonaws.com")],
            ));
        }
        for (action, resource, keys) in calls {
            assert_allowed(
                &format!("{name}: the boundary refuses the batch role {action} on {resource}"),
                under_boundary(&b, BATCH_ROLE, action, &resource, &keys),
            );
        }
    }
}

#[test]
fn batch_roles_go_only_to_batch_operations_and_write_only_under_the_report_pattern() {
    for (name, params) in source_sets() {
        let d = deploy("source-account", SRC, &params);
        let role = Role::of(&d, "FunctionRole");
        let pass = |target: &str, service: Option<&str>| {
            let keys: Vec<(&str, &str)> = service
                .map(|s| ("iam:PassedToService", s))
                .into_iter()
                .collect();
            by_identity(
                &role,
                &req(
                    FUNCTION_ROLE,
                    "iam:PassRole",
                    target,
                    ctx(FUNCTION_ROLE, &keys),
                ),
            )
        };
        let replication_role =
            "arn:aws:iam::111111111111:role/s3-replication/s3-replication-app-data";
        // A replication role is not a batch role; a batch role is for nothing but Batch
        // Operations (not even S3 replication, which would run it as a replication role).
        assert_refused(
            &format!("{name}: a replication role passed to Batch Operations"),
            pass(replication_role, Some(BATCH_SERVICE)),
        );
        for service in [
            Some("s3.amazonaws.com"),
            Some("lambda.amazonaws.com"),
            Some("ec2.amazonaws.com"),
            None,
        ] {
            assert_refused(
                &format!("{name}: the batch role passed to {service:?}"),
                pass(BATCH_ROLE, service),
            );
        }
        // Roles that are not the provider's, whatever their name.
        for other in [
            "arn:aws:iam::111111111111:role/Admin",
            "arn:aws:iam::111111111111:role/s3-batch-replication-app-data",
            "arn:aws:iam::111111111111:role/ops/s3-batch-replication-app-data",
            "arn:aws:iam::111111111111:role/s3-replication/nested/Admin",
            "arn:aws:iam::999999999999:role/s3-replication/batch/s3-batch-replication-app-data",
        ] {
            assert_refused(
                &format!("{name}: {other} passed to Batch Operations"),
                pass(other, Some(BATCH_SERVICE)),
            );
        }
        assert_allowed(
            &format!("{name}: the batch role passed to Batch Operations"),
            pass(BATCH_ROLE, Some(BATCH_SERVICE)),
        );
        assert_allowed(
            &format!("{name}: the replication role passed to S3"),
            pass(replication_role, Some("s3.amazonaws.com")),
        );
        // Jobs: only this account's are read, and none is changed (cancelled, reprioritised,
        // retagged) or other S3 Control settings touched.
        for (action, resource) in [
            (
                "s3:DescribeJob",
                format!("arn:aws:s3:{REGION}:{OTHER_MEMBER}:job/j1"),
            ),
            (
                "s3:DescribeJob",
                format!("arn:aws:s3:{REGION}:{ACCT_B}:job/j1"),
            ),
            (
                "s3:UpdateJobStatus",
                format!("arn:aws:s3:{REGION}:{SRC}:job/j1"),
            ),
            (
                "s3:UpdateJobPriority",
                format!("arn:aws:s3:{REGION}:{SRC}:job/j1"),
            ),
            (
                "s3:PutJobTagging",
                format!("arn:aws:s3:{REGION}:{SRC}:job/j1"),
            ),
            (
                "s3:DeleteJobTagging",
                format!("arn:aws:s3:{REGION}:{SRC}:job/j1"),
            ),
            ("s3:PutAccountPublicAccessBlock", "*".to_owned()),
            (
                "s3:PutInventoryConfiguration",
                "arn:aws:s3:::app-data".to_owned(),
            ),
            (
                "s3:InitiateReplication",
                "arn:aws:s3:::app-data/x".to_owned(),
            ),
            (
                "s3:GetObject",
                "arn:aws:s3:::app-data/s3-replication-reports/job-1/manifest.json".to_owned(),
            ),
        ] {
            let r = req(
                FUNCTION_ROLE,
                action,
                &resource,
                ctx(FUNCTION_ROLE, &[("s3:ResourceAccount", SRC)]),
            );
            assert_refused(
                &format!("{name}: the function {action} on {resource}"),
                by_identity(&role, &r),
            );
        }

        // The boundary: report objects only under the pattern, only in this account; the
        // batch role's source actions only on this account's buckets.
        let b = boundary(&d);
        for (action, resource, account) in [
            ("s3:PutObject", "arn:aws:s3:::app-data/2026/ledger.csv", SRC),
            (
                "s3:PutObject",
                "arn:aws:s3:::app-data/s3-replication-reportsX/a",
                SRC,
            ),
            (
                "s3:PutObject",
                "arn:aws:s3:::app-data/s3-replication-reports",
                SRC,
            ),
            (
                "s3:PutObject",
                "arn:aws:s3:::app-data/reports/s3-replication-report",
                SRC,
            ),
            ("s3:GetObject", "arn:aws:s3:::app-data/2026/ledger.csv", SRC),
            (
                "s3:GetObjectVersion",
                "arn:aws:s3:::app-data/2026/ledger.csv",
                SRC,
            ),
            (
                "s3:DeleteObjectVersion",
                "arn:aws:s3:::app-data/s3-replication-reports/a",
                SRC,
            ),
            (
                "s3:DeleteObject",
                "arn:aws:s3:::app-data/s3-replication-reports/a",
                SRC,
            ),
            (
                "s3:PutObjectAcl",
                "arn:aws:s3:::app-data/s3-replication-reports/a",
                SRC,
            ),
            (
                "s3:PutObject",
                "arn:aws:s3:::exfil/s3-replication-reports/a",
                OTHER_MEMBER,
            ),
            (
                "s3:GetObject",
                "arn:aws:s3:::backup-app/s3-replication-reports/a",
                ACCT_B,
            ),
            (
                "s3:PutObject",
                "arn:aws:s3:::backup-app/s3-replication-reports/a",
                ACCT_B,
            ),
            (
                "s3:InitiateReplication",
                "arn:aws:s3:::exfil/a",
                OTHER_MEMBER,
            ),
            (
                "s3:PutInventoryConfiguration",
                "arn:aws:s3:::exfil",
                OTHER_MEMBER,
            ),
            ("s3:PutBucketPolicy", "arn:aws:s3:::app-data", SRC),
            (
                "s3:PutReplicationConfiguration",
                "arn:aws:s3:::app-data",
                SRC,
            ),
            ("s3:CreateJob", "*", SRC),
        ] {
            for principal in [BATCH_ROLE, replication_role] {
                assert_refused(
                    &format!(
                        "{name}: the boundary lets {principal} {action} on {resource} ({account})"
                    ),
                    under_boundary(
                        &b,
                        principal,
                        action,
                        resource,
                        &[
                            ("s3:ResourceAccount", account),
                            ("aws:ResourceAccount", account),
                        ],
                    ),
                );
            }
        }
    }
}

/// Narrowed patterns: report objects only in designated buckets, under the designated prefix.
#[test]
fn the_report_pattern_and_the_bucket_pattern_both_bound_report_objects() {
    let d = deploy(
        "source-account",
        SRC,
        &[
            ("DestinationAccountIds", ACCT_B),
            ("SourceBucketNamePattern", "app-*"),
            ("BatchReportPrefixPattern", "backfill/*"),
        ],
    );
    let b = boundary(&d);
    let own = [("s3:ResourceAccount", SRC)];
    for action in ["s3:PutObject", "s3:GetObject"] {
        for resource in [
            "arn:aws:s3:::app-data/backfill/team-a/job-1/manifest.json",
            "arn:aws:s3:::app-reports/backfill/x/job-1/results/0.csv",
        ] {
            assert_allowed(
                &format!("{action} on {resource}"),
                under_boundary(&b, BATCH_ROLE, action, resource, &own),
            );
        }
        for resource in [
            // the default prefix is no longer granted
            "arn:aws:s3:::app-data/s3-replication-reports/job-1/manifest.json",
            // `backfill/*`: one level below backfill/ at least
            "arn:aws:s3:::app-data/backfill/job-1",
            "arn:aws:s3:::payroll/backfill/team-a/job-1/manifest.json",
            "arn:aws:s3:::app-data/backfillX/a/b",
        ] {
            assert_refused(
                &format!("{action} on {resource}"),
                under_boundary(&b, BATCH_ROLE, action, resource, &own),
            );
        }
    }
    for (action, resource) in [
        ("s3:InitiateReplication", "arn:aws:s3:::payroll/a"),
        ("s3:PutInventoryConfiguration", "arn:aws:s3:::payroll"),
    ] {
        assert_refused(
            &format!("{action} on {resource}"),
            under_boundary(&b, BATCH_ROLE, action, resource, &own),
        );
    }
    // What CloudFormation refuses: wildcards first (every object of the account with a / in
    // its key), empty segments, a leading or trailing /, policy variables.
    for bad in [
        "*",
        "?x",
        "*/reports",
        "/reports",
        "reports/",
        "a//b",
        "${aws:username}",
        "re ports",
    ] {
        let ctx = deployment(
            "source-account",
            SRC,
            &[
                ("DestinationAccountIds", ACCT_B),
                ("BatchReportPrefixPattern", bad),
            ],
        );
        let e = template("source-account").deploy(&ctx).unwrap_err();
        assert!(
            e.to_string().contains("BatchReportPrefixPattern"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn the_function_touches_no_other_topic_queue_or_alarm() {
    for (name, params) in source_sets() {
        let role = Role::of(&deploy("source-account", SRC, &params), "FunctionRole");
        for (action, resource) in [
            (
                "sns:SetTopicAttributes",
                format!("arn:aws:sns:{REGION}:{SRC}:payments-events"),
            ),
            (
                "sns:SetTopicAttributes",
                format!("arn:aws:sns:{REGION}:{ACCT_B}:s3-replication-failures"),
            ),
            (
                "sqs:SetQueueAttributes",
                format!("arn:aws:sqs:{REGION}:{SRC}:orders"),
            ),
            (
                "sns:Publish",
                format!("arn:aws:sns:{REGION}:{SRC}:s3-replication-failures"),
            ),
            (
                "cloudwatch:DeleteAlarms",
                format!("arn:aws:cloudwatch:{REGION}:{SRC}:alarm:billing"),
            ),
            (
                "cloudwatch:PutMetricAlarm",
                format!("arn:aws:cloudwatch:{REGION}:{SRC}:alarm:billing"),
            ),
        ] {
            let r = req(FUNCTION_ROLE, action, &resource, ctx(FUNCTION_ROLE, &[]));
            assert_refused(
                &format!("{name}: {action} on {resource}"),
                by_identity(&role, &r),
            );
        }
    }
}

#[test]
fn the_function_reaches_only_listed_destinations() {
    for (name, params) in source_sets() {
        let role = Role::of(&deploy("source-account", SRC, &params), "FunctionRole");
        let assume = |target: &str, account: &str, org: &str| {
            let r = req(
                FUNCTION_ROLE,
                "sts:AssumeRole",
                target,
                ctx(
                    FUNCTION_ROLE,
                    &[("aws:ResourceAccount", account), ("aws:ResourceOrgID", org)],
                ),
            );
            by_identity(&role, &r)
        };
        assert_refused(
            &format!("{name}: a destination role outside the organization"),
            assume(&destination_role(OTHER_MEMBER), OTHER_MEMBER, OTHER_ORG),
        );
        assert_refused(
            &format!("{name}: another role in a destination account"),
            assume(
                "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
                ACCT_B,
                ORG,
            ),
        );
        assert_allowed(
            &format!("{name}: a listed destination"),
            assume(&destination_role(ACCT_B), ACCT_B, ORG),
        );
        if params.iter().any(|(k, _)| *k == "DestinationAccountIds") {
            assert_refused(
                &format!("{name}: a member account that is not listed"),
                assume(&destination_role(OTHER_MEMBER), OTHER_MEMBER, ORG),
            );
        }
        // Keys of the source account: none edited or deleted without the owner's opt-in.
        for (action, tags) in [
            ("kms:PutKeyPolicy", vec![]),
            (
                "kms:PutKeyPolicy",
                vec![("aws:ResourceTag/s3-replication:managed", "true")],
            ),
            (
                "kms:ScheduleKeyDeletion",
                vec![("aws:ResourceTag/s3-replication:managed", "true")],
            ),
        ] {
            let r = req(
                FUNCTION_ROLE,
                action,
                &key_arn(SRC, "payroll"),
                ctx(FUNCTION_ROLE, &tags),
            );
            assert_refused(
                &format!("{name}: {action} on a source-account key with {tags:?}"),
                on_key(&role, &r, &default_key_policy(SRC), SRC),
            );
        }
    }
    // A provider that names no destination cannot be deployed.
    let bare = deployment("source-account", SRC, &[]);
    let d = template("source-account").deploy(&bare).unwrap();
    assert!(
        !d.failed_rules.is_empty(),
        "deployable without destinations"
    );
}

// ---------------------------------------------------------------------------------------------
// the provider's real calls are all in the list
// ---------------------------------------------------------------------------------------------

/// Every action of every call, by who made it: the function's own credentials (source
/// account, and every STS call) or a destination role.
fn actions(calls: &[&Call]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut source, mut destination) = (BTreeSet::new(), BTreeSet::new());
    for c in calls {
        // Needs no permission ("GetCallerIdentity … no permissions are required").
        if c.operation == "GetCallerIdentity" {
            continue;
        }
        let own = c.account == DEFAULT_ACCOUNT || c.service == "sts";
        // "iam:CreateRole and iam:TagRole"; "s3:CreateJob, and iam:PassRole of the batch role
        // to batchoperations.s3.amazonaws.com,": every `service:Action` named.
        let named = c
            .action
            .split_whitespace()
            .map(|w| w.trim_end_matches([',', '.']))
            .filter(|w| {
                w.split_once(':').is_some_and(|(s, a)| {
                    !s.is_empty()
                        && s.chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
                        && a.starts_with(|ch: char| ch.is_ascii_uppercase())
                        && a.chars().all(|ch| ch.is_ascii_alphanumeric())
                })
            });
        for action in named {
            if own {
                source.insert(action.to_owned());
            } else {
                destination.insert(action.to_owned());
            }
        }
    }
    (source, destination)
}

#[tokio::test]
async fn every_call_the_provider_makes_is_a_legitimate_call_the_templates_allow() {
    const ACCT_B: &str = "222222222222";
    const ACCT_C: &str = "333333333333";
    const REGION_B: &str = "us-west-2";
    const REGION_C: &str = "ap-southeast-2";
    let h = Harness::start().await;
    let (src, dst_b, dst_c) = (unique("src"), unique("dstb"), unique("dstc"));
    h.emu
        .create_bucket(DEFAULT_ACCOUNT, HOME_REGION, &src, false)
        .await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst_b, false).await;
    let existing_key = h.emu.create_key(ACCT_C, REGION_C).await;
    let topic = h
        .emu
        .sns(DEFAULT_ACCOUNT, HOME_REGION)
        .await
        .create_topic()
        .name(unique("s3-replication-failures"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue_name = unique("s3-replication-failures");
    h.emu
        .sqs(DEFAULT_ACCOUNT, HOME_REGION)
        .await
        .create_queue()
        .queue_name(&queue_name)
        .send()
        .await
        .unwrap();
    let queue = format!("arn:aws:sqs:{HOME_REGION}:{DEFAULT_ACCOUNT}:{queue_name}");
    // ReplicateExistingObjects, with its reports in another bucket of the account whose default
    // encryption is SSE-KMS (the batch role gets that key through S3).
    let reports = unique("reports");
    h.emu
        .create_bucket(DEFAULT_ACCOUNT, HOME_REGION, &reports, false)
        .await;
    let report_key = h.emu.create_key(DEFAULT_ACCOUNT, HOME_REGION).await;
    encrypt_by_default(&h, &reports, &report_key).await;
    h.emu
        .put_object(DEFAULT_ACCOUNT, HOME_REGION, &src, "before-replication")
        .await;
    let props = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Verify": "Replication",
        "KeyRemovalPolicy": "Delete", "KeyDeletionWindowDays": "7",
        "FailureNotification": topic, "Alarms": "true",
        "BatchReplication": {"ReportBucket": reports},
        "Destinations": [
            {"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create",
             "ReplicateExistingObjects": "true"},
            {"Bucket": dst_c, "AccountId": ACCT_C, "Region": REGION_C, "KmsKeyArn": existing_key,
             "CreateBucket": "true", "Prefix": "logs/"}]});
    let mut answers: Vec<Answered> = Vec::new();
    let created = h.create(&props).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    answers.push(created);
    // What the provider gave the batch role, the boundary allows (else the job fails on AWS).
    batch_role_is_within_the_boundary(&h, &src).await;

    // Update: drop destination C (its statements go), rename the role (the old one goes).
    let mut smaller = props.clone();
    smaller["Destinations"] = json!([props["Destinations"][0]]);
    smaller["ReplicationRoleName"] = json!(format!("renamed-{src}"));
    // …and move the failure notification from the topic to a queue (its statement goes).
    smaller["FailureNotification"] = json!(queue);
    let updated = h.update(&smaller, &id, &props).await;
    updated.assert_success();
    answers.push(updated);

    let deleted = h.delete(&smaller, &id).await;
    deleted.assert_success();
    answers.push(deleted);

    let calls: Vec<&Call> = answers.iter().flat_map(|a| &a.outcome.calls).collect();
    let ops: BTreeSet<&str> = calls.iter().map(|c| c.operation).collect();
    // The paths this test is for were taken.
    for op in [
        "CreateKey",
        "CreateBucket",
        "PutObject",
        "HeadObject",
        "DeleteObject",
        "ListAttachedRolePolicies",
        "DescribeOrganization",
        "GetBucketRequestPayment",
        "GetObjectLockConfiguration",
        "DeleteRole",
        "ScheduleKeyDeletion",
        "DeleteBucketReplication",
        "PutBucketNotificationConfiguration",
        "SetTopicAttributes",
        "SetQueueAttributes",
        "GetQueueUrl",
        "PutMetricAlarm",
        "DeleteAlarms",
        "CreateJob",
        "ListJobs",
        "DescribeJob",
    ] {
        assert!(ops.contains(op), "{op} was not called: {ops:?}");
    }
    // The batch role went the whole way: created, given its policy, removed.
    let batch_role = format!("s3-batch-replication-{src}");
    for op in [
        "CreateRole",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "DeleteRole",
    ] {
        assert!(
            calls
                .iter()
                .any(|c| c.operation == op && c.ok && c.resource.contains(&batch_role)),
            "{op} of {batch_role} was not called: {:?}",
            calls
                .iter()
                .filter(|c| c.service == "iam")
                .map(|c| (c.operation, &c.resource))
                .collect::<Vec<_>>()
        );
    }
    let (source, destination) = actions(&calls);
    let listed = |side: Side| -> BTreeSet<String> {
        legitimate_calls(ACCT_B)
            .iter()
            .filter(|l| l.side == side)
            .map(|l| l.action.to_owned())
            .collect()
    };
    let (listed_source, listed_destination) = (listed(Side::Source), listed(Side::Destination));
    let unlisted: Vec<&String> = source.difference(&listed_source).collect();
    assert!(
        unlisted.is_empty(),
        "the function calls {unlisted:?}, which no legitimate call of this test covers"
    );
    let unlisted: Vec<&String> = destination.difference(&listed_destination).collect();
    assert!(
        unlisted.is_empty(),
        "the destination role is used for {unlisted:?}, which no legitimate call of this test covers"
    );
}

/// Default SSE-KMS encryption of `bucket` (the emulator's own account and region) with `key`.
async fn encrypt_by_default(h: &Harness, bucket: &str, key: &str) {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(key)
        .build()
        .unwrap();
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .build();
    h.emu
        .s3(DEFAULT_ACCOUNT, HOME_REGION)
        .await
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("encrypt {bucket}: {e:?}"));
}

/// Every statement the provider wrote to the batch role of `src` (an Allow, each action on
/// each resource, its wildcards filled in, its conditions met), with the source template
/// deployed in the emulator's account: the boundary allows it.
async fn batch_role_is_within_the_boundary(h: &Harness, src: &str) {
    let name = format!("s3-batch-replication-{src}");
    let principal = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/s3-replication/{name}");
    let policies = h.emu.role_inline_policies(DEFAULT_ACCOUNT, &name).await;
    let policy = &policies["s3-batch-replication"];
    let as_list = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let mut checked = 0;
    for (set, params) in source_sets() {
        let b = boundary(&deploy("source-account", DEFAULT_ACCOUNT, &params));
        for s in policy["Statement"].as_array().unwrap() {
            assert_eq!(s["Effect"], "Allow", "{s}");
            let mut keys: Vec<(String, String)> =
                vec![("s3:ResourceAccount".into(), DEFAULT_ACCOUNT.into())];
            if let Some(ops) = s["Condition"].as_object() {
                for by_key in ops.values() {
                    for (k, v) in by_key.as_object().unwrap() {
                        let first = as_list(v).into_iter().next().unwrap_or_default();
                        keys.push((k.clone(), first.replace('*', "x")));
                    }
                }
            }
            let keys: Vec<(&str, &str)> =
                keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            for action in as_list(&s["Action"]) {
                for resource in as_list(&s["Resource"]) {
                    let resource = resource.replace('*', "x");
                    let r = req(&principal, &action, &resource, ctx(&principal, &keys));
                    let own = evaluate(policy, "batch role", PolicyKind::Identity, &r).decision();
                    assert_allowed(&format!("its own policy: {action} on {resource}"), own);
                    assert_allowed(
                        &format!(
                            "{set}: the boundary refuses the batch role {action} on {resource}"
                        ),
                        evaluate(&b, "boundary", PolicyKind::Identity, &r).decision(),
                    );
                    checked += 1;
                }
            }
        }
    }
    // InitiateReplication, the manifest's two, its read, the report's write, the report key.
    assert!(checked >= 2 * 8, "{checked} checks: {policy}");
}

/// `ProviderAccess: ReadOnly`, the destination template's default (issue 23, attack 7): the
/// destination role reads, and changes nothing, whatever a key policy grants it, so nothing
/// done through one source's provider can unprotect the copies of another.
#[test]
fn a_read_only_destination_role_changes_nothing() {
    let role = Role::of(
        &deploy(
            "destination-account",
            ACCT_B,
            &[
                ("ProviderRoleArns", FUNCTION_ROLE),
                ("DestinationBucketNamePattern", PATTERN),
                ("AllowKeyDeletion", "true"),
            ],
        ),
        "DestinationProvisionerRole",
    );
    let me = destination_role(ACCT_B);
    let reads = |a: &str| {
        ["Get", "Describe", "List"]
            .iter()
            .any(|p| a.split(':').nth(1).unwrap_or_default().starts_with(p))
            && a != "s3:GetObjectVersion"
    };
    let mut writes = 0;
    for l in legitimate_calls(ACCT_B)
        .iter()
        .filter(|l| l.side == Side::Destination)
    {
        let d = decide(l, &role, &me, ACCT_B);
        let what = format!("ReadOnly: {} on {}", l.action, l.resource);
        if reads(l.action) {
            assert_allowed(&what, d);
        } else if l.action != "s3:GetObjectVersion" && l.action != "s3:DeleteObjectVersion" {
            writes += 1;
            assert_refused(&what, d);
        }
    }
    assert!(writes > 15, "{writes} writes checked");
}

/// Issue 23, attack 7, the other half: what would unprotect a shared backup bucket, done through
/// the destination role of the template's defaults (a compromised source account's provider),
/// is refused on every designated bucket and on a key its owner opted in.
#[test]
fn with_the_defaults_no_source_can_unprotect_a_shared_backup() {
    for (name, params) in [
        (
            "single provider",
            vec![
                ("ProviderRoleArns", FUNCTION_ROLE),
                ("DestinationBucketNamePattern", PATTERN),
            ],
        ),
        (
            "organization",
            vec![
                ("OrganizationId", ORG),
                ("ProviderAccountIds", "111111111111,444444444444"),
                ("DestinationBucketNamePattern", PATTERN),
            ],
        ),
    ] {
        let role = Role::of(
            &deploy("destination-account", ACCT_B, &params),
            "DestinationProvisionerRole",
        );
        let me = destination_role(ACCT_B);
        let shared = "arn:aws:s3:::backup-shared";
        for action in [
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:PutBucketVersioning",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketOwnershipControls",
            "s3:PutBucketAcl",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketTagging",
            "s3:PutBucketObjectLockConfiguration",
        ] {
            let r = req(
                &me,
                action,
                shared,
                ctx(&me, &[("s3:ResourceAccount", ACCT_B)]),
            );
            assert_refused(
                &format!("{name}: {action} on {shared}"),
                by_identity(&role, &r),
            );
        }
        for action in ["s3:DeleteObjectVersion", "s3:GetObject", "s3:PutObjectAcl"] {
            let object = format!("{shared}/other-source/ledger.csv");
            let r = req(
                &me,
                action,
                &object,
                ctx(&me, &[("s3:ResourceAccount", ACCT_B)]),
            );
            assert_refused(
                &format!("{name}: {action} on {object}"),
                by_identity(&role, &r),
            );
        }
        let opted_in = key_arn(ACCT_B, "opted-in");
        for action in [
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:DisableKey",
        ] {
            let r = req(
                &me,
                action,
                &opted_in,
                ctx(
                    &me,
                    &[(
                        "aws:ResourceTag/s3-replication:provider-may-edit-policy",
                        "true",
                    )],
                ),
            );
            assert_refused(
                &format!("{name}: {action} on an opted-in key"),
                on_key(&role, &r, &default_key_policy(ACCT_B), ACCT_B),
            );
        }
    }
}

/// The sharing setting of a bucket (tag `s3-replication:shared-key-space`) is its owner's: no
/// destination role, Provision included, may write or remove bucket tags.
#[test]
fn no_destination_role_may_set_the_sharing_tag() {
    let mut sets = destination_sets();
    sets.push((
        "defaults",
        vec![
            ("ProviderRoleArns", FUNCTION_ROLE),
            ("DestinationBucketNamePattern", PATTERN),
        ],
    ));
    for (name, params) in sets {
        let role = Role::of(
            &deploy("destination-account", ACCT_B, &params),
            "DestinationProvisionerRole",
        );
        let me = destination_role(ACCT_B);
        // "DeleteBucketTagging ... you must have permission to perform the
        // s3:PutBucketTagging action" (S3 API Reference): there is no s3:DeleteBucketTagging.
        for action in ["s3:PutBucketTagging", "s3:TagResource", "s3:UntagResource"] {
            let r = req(
                &me,
                action,
                "arn:aws:s3:::backup-app",
                ctx(&me, &[("s3:ResourceAccount", ACCT_B)]),
            );
            assert_refused(&format!("{name}: {action}"), by_identity(&role, &r));
        }
    }
}

/// Issue 23, attack 5: S3 Batch Operations jobs of no other operation than replication, and
/// alarms acting only on the failure topics of the source account.
#[test]
fn jobs_only_replicate_and_alarms_act_only_on_the_accounts_failure_topics() {
    for (name, params) in source_sets() {
        let role = Role::of(&deploy("source-account", SRC, &params), "FunctionRole");
        for operation in [
            "S3PutObjectCopy",
            "LambdaInvoke",
            "S3PutObjectAcl",
            "S3PutObjectTagging",
            "S3DeleteObjectTagging",
            "S3InitiateRestoreObject",
            "S3PutObjectRetention",
            "S3PutObjectLegalHold",
            "S3DeleteObject",
        ] {
            let r = req(
                FUNCTION_ROLE,
                "s3:CreateJob",
                "*",
                ctx(FUNCTION_ROLE, &[("s3:RequestJobOperation", operation)]),
            );
            assert_refused(
                &format!("{name}: CreateJob {operation}"),
                by_identity(&role, &r),
            );
        }
        let r = req(FUNCTION_ROLE, "s3:CreateJob", "*", ctx(FUNCTION_ROLE, &[]));
        assert_refused(
            &format!("{name}: CreateJob, operation unknown"),
            by_identity(&role, &r),
        );

        let alarm = format!(
            "arn:aws:cloudwatch:{REGION}:{SRC}:alarm:s3-replication/app-data/r/failed-replication"
        );
        let own = format!("arn:aws:sns:{REGION}:{SRC}:s3-replication-failures");
        for actions in [
            vec![format!(
                "arn:aws:sns:{REGION}:{OTHER_MEMBER}:s3-replication-failures"
            )],
            vec![format!("arn:aws:sns:{REGION}:{SRC}:payments-alerts")],
            vec![own.clone(), format!("arn:aws:automate:{REGION}:ec2:stop")],
            vec![format!(
                "arn:aws:ssm:{REGION}:{SRC}:opsitem:3#CATEGORY=Security"
            )],
            vec![format!(
                "arn:aws:autoscaling:{REGION}:{SRC}:scalingPolicy:x"
            )],
        ] {
            let values: Vec<&str> = actions.iter().map(String::as_str).collect();
            let r = req(
                FUNCTION_ROLE,
                "cloudwatch:PutMetricAlarm",
                &alarm,
                ctx(FUNCTION_ROLE, &[]).with_values("cloudwatch:AlarmActions", values),
            );
            assert_refused(
                &format!("{name}: alarm acting on {actions:?}"),
                by_identity(&role, &r),
            );
        }
        let r = req(
            FUNCTION_ROLE,
            "cloudwatch:PutMetricAlarm",
            &alarm,
            ctx(FUNCTION_ROLE, &[]).with_values("cloudwatch:AlarmActions", [own.as_str()]),
        );
        assert_allowed(
            &format!("{name}: alarm acting on its own topic"),
            by_identity(&role, &r),
        );
    }
}
