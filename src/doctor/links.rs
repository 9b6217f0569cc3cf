//! The live state replication depends on ([`Snapshot`]) and the links of the chain S3
//! replication exercises, each checked into one [`Finding`] ("Setting up live replication",
//! "Granting permissions for replication", "Replicating encrypted objects" in the S3 User
//! Guide).
//!
//! Every policy link is checked with concrete requests: the replication role's session (as
//! `aws:PrincipalArn`), the exact action, an object ARN under the rule's prefix (key
//! [`PROBE_KEY`]) or the bucket ARN, and the context keys S3 and KMS set for replication. Keys
//! the snapshot cannot know (tags, org paths, source IP, …) are left unknown, so a condition on
//! them is reported as cannot-decide rather than guessed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::decide::{self, Document, Side, Verdict};
use super::eval::{self, arn_region, Context, Decision, Principal, Request};

/// The object ARNs a statement to add should name for a rule with `prefix`: what the provider
/// itself grants ([`crate::plan::scope`]).
fn prefix_grant(bucket_arn: &str, prefix: Option<&str>) -> String {
    crate::plan::scope::objects(bucket_arn, [prefix]).remove(0)
}

/// The object key (after the rule's prefix) used for object-level requests.
pub const PROBE_KEY: &str = "doctor-probe/object";

const S3_SERVICE: &str = "s3.amazonaws.com";

/// Versioning status as `GetBucketVersioning` reports it (`Disabled`: never enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    Enabled,
    Suspended,
    Disabled,
}

/// A KMS key as `DescribeKey` and `GetKeyPolicy` report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub arn: String,
    /// The key policy (the `default` policy), as a JSON object or the JSON string KMS returns.
    pub policy: Value,
    /// `KeyState`: `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: String,
    /// `KeySpec`: `SYMMETRIC_DEFAULT`, `RSA_2048`, …
    pub spec: String,
    pub region: String,
}

/// A policy attached to the replication role (inline or managed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedPolicy {
    pub name: String,
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceBucket {
    pub account: String,
    pub region: String,
    pub bucket: String,
    pub versioning: Versioning,
    #[serde(default)]
    pub requester_pays: bool,
    #[serde(default)]
    pub object_lock: bool,
    #[serde(default)]
    pub bucket_policy: Option<Value>,
    /// The key source objects are encrypted with (default encryption), if SSE-KMS and readable.
    #[serde(default)]
    pub key: Option<Key>,
    /// The key id default encryption names, also when `DescribeKey` could not find it.
    #[serde(default)]
    pub key_id: Option<String>,
    /// S3 Bucket Keys on: KMS sees the bucket ARN as encryption context instead of the object's.
    #[serde(default)]
    pub bucket_key: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationRole {
    /// The role named in the replication configuration.
    pub arn: String,
    pub trust_policy: Value,
    /// Inline and attached managed policies.
    #[serde(default)]
    pub policies: Vec<NamedPolicy>,
    /// The role's unique id (`AROA…`), if known.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// `aws:PrincipalOrgID` of the role's account: `None` when not known, `Some("")` when the
    /// account is in no organization.
    #[serde(default)]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationBucket {
    pub account: String,
    pub region: String,
    pub bucket: String,
    #[serde(default)]
    pub bucket_policy: Option<Value>,
    pub versioning: Versioning,
    #[serde(default)]
    pub requester_pays: bool,
    #[serde(default)]
    pub object_lock: bool,
    /// The rule's replica key (`EncryptionConfiguration.ReplicaKmsKeyID`), if readable.
    #[serde(default)]
    pub key: Option<Key>,
    /// The replica key id the rule names, also when `DescribeKey` could not find it.
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub bucket_key: bool,
    /// The rule's `AccessControlTranslation.Owner = Destination`.
    #[serde(default)]
    pub owner_override: bool,
    /// The rule's `SourceSelectionCriteria.SseKmsEncryptedObjects`.
    #[serde(default)]
    pub sse_kms: bool,
    /// The rule's prefix filter, if any.
    #[serde(default)]
    pub prefix: Option<String>,
    /// The rule's `DeleteMarkerReplication` is enabled: only then does S3 call
    /// `s3:ReplicateDelete` in the destination.
    #[serde(default)]
    pub delete_markers: bool,
}

/// Everything the doctor reads: plain data, as the AWS APIs report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default = "default_partition")]
    pub partition: String,
    pub source: SourceBucket,
    pub role: ReplicationRole,
    pub destinations: Vec<DestinationBucket>,
}

fn default_partition() -> String {
    "aws".to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    CannotDecide,
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable name: `trust`, `source.read`, `destination[0].replicate`, …
    pub link: String,
    pub status: Status,
    pub detail: String,
    /// Where the link lives (for a policy link: the resource whose policy decides).
    pub account: String,
    pub region: String,
    pub resource: String,
    /// For a failure: what to change, as a list of placements, each naming account, region and
    /// resource with the policy `statement` to add or the API `call` to make.
    pub fix: Option<Value>,
    /// A pass that could be safer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
}

/// Checks every link; one finding per link that applies to this snapshot.
pub fn check(s: &Snapshot) -> Vec<Finding> {
    let cx = Checker { s };
    let mut out = vec![cx.trust(), cx.source_read()];
    if let Some(key) = &s.source.key {
        out.push(cx.source_key_decrypt(key));
        out.push(key_usable(
            "source.key",
            key,
            &s.source.region,
            &format!("source bucket {}", s.source.bucket),
        ));
    } else if let Some(id) = &s.source.key_id {
        out.push(key_missing(
            "source.key",
            id,
            &s.source.account,
            &s.source.region,
            &format!(
                "the default encryption of source bucket {}",
                s.source.bucket
            ),
        ));
    }
    out.push(versioning(
        "source.versioning",
        &s.source.account,
        &s.source.region,
        &cx.bucket_arn(&s.source.bucket),
        &s.source.bucket,
        s.source.versioning,
    ));
    out.push(requester_pays(
        "source.requester-pays",
        &s.source.account,
        &s.source.region,
        &cx.bucket_arn(&s.source.bucket),
        &s.source.bucket,
        s.source.requester_pays,
    ));
    for (i, d) in s.destinations.iter().enumerate() {
        let p = format!("destination[{i}]");
        out.push(cx.replicate(&p, d));
        if d.owner_override {
            out.push(cx.owner_override(&p, d));
        }
        if s.source.key.is_some() || d.sse_kms {
            out.push(cx.encryption_selection(&p, d));
        }
        if let Some(key) = &d.key {
            out.push(cx.destination_key_encrypt(&p, d, key));
            out.push(key_usable(
                &format!("{p}.key"),
                key,
                &d.region,
                &format!("destination bucket {}", d.bucket),
            ));
        } else if let Some(id) = &d.key_id {
            out.push(key_missing(
                &format!("{p}.key"),
                id,
                &d.account,
                &d.region,
                &format!("the replication rule for {} (ReplicaKmsKeyID)", d.bucket),
            ));
        }
        let arn = cx.bucket_arn(&d.bucket);
        out.push(versioning(
            &format!("{p}.versioning"),
            &d.account,
            &d.region,
            &arn,
            &d.bucket,
            d.versioning,
        ));
        out.push(requester_pays(
            &format!("{p}.requester-pays"),
            &d.account,
            &d.region,
            &arn,
            &d.bucket,
            d.requester_pays,
        ));
        out.push(object_lock(&format!("{p}.object-lock"), &s.source, d, &arn));
    }
    out
}

/// One request of a policy link, with what to grant when it is refused.
struct Probe {
    action: &'static str,
    resource: String,
    context: Context,
    /// The `Resource` a fix statement in the identity policy names.
    grant: String,
    /// The `Condition` a fix statement carries.
    condition: Option<Value>,
}

/// Where the resource-side document of a policy link lives.
struct Holder<'a> {
    account: &'a str,
    region: &'a str,
    resource: &'a str,
    /// `bucket policy` or `key policy`.
    policy: &'static str,
}

enum Target<'a> {
    S3(Option<Document<'a>>),
    Kms(Document<'a>),
}

struct Checker<'a> {
    s: &'a Snapshot,
}

impl<'a> Checker<'a> {
    fn bucket_arn(&self, bucket: &str) -> String {
        format!("arn:{}:s3:::{bucket}", self.s.partition)
    }

    fn object_arn(&self, bucket: &str, prefix: Option<&str>) -> String {
        format!(
            "{}/{}{PROBE_KEY}",
            self.bucket_arn(bucket),
            prefix.unwrap_or_default()
        )
    }

    fn role_account(&self) -> &str {
        eval::arn_account(&self.s.role.arn).unwrap_or_default()
    }

    fn principal(&self) -> Principal {
        Principal::Role {
            role_arn: self.s.role.arn.clone(),
            account: self.role_account().to_owned(),
            unique_id: self.s.role.unique_id.clone(),
        }
    }

    fn identity_names(&self) -> Vec<String> {
        self.s
            .role
            .policies
            .iter()
            .map(|p| format!("role policy {}", p.name))
            .collect()
    }

    /// What a request made by the replication role's session carries. S3 makes replication
    /// requests with the role's temporary credentials over TLS; the role session has no MFA,
    /// and the `aws:Source*` keys (set only when a service acts as a service principal) are
    /// absent.
    fn role_context(&self, region: &str) -> Context {
        let mut c = Context::open()
            .with("aws:PrincipalArn", self.s.role.arn.as_str())
            .with("aws:PrincipalAccount", self.role_account())
            .with("aws:PrincipalType", "AssumedRole")
            .with("aws:PrincipalIsAWSService", "false")
            .with("aws:SecureTransport", "true")
            .with("aws:RequestedRegion", region);
        for absent in [
            "aws:SourceAccount",
            "aws:SourceArn",
            "aws:SourceOrgID",
            "aws:SourceOrgPaths",
            "aws:SourceVpc",
            "aws:SourceVpce",
            "aws:VpcSourceIp",
            "aws:MultiFactorAuthPresent",
            "aws:MultiFactorAuthAge",
            "aws:username",
            "aws:FederatedProvider",
        ] {
            c = c.without(absent);
        }
        // Role sessions carry temporary credentials: the key is there, its value is a moment
        // the snapshot cannot know.
        c = c.with_unknown_value("aws:TokenIssueTime");
        match self.s.role.organization.as_deref() {
            Some("") => c.without("aws:PrincipalOrgID"),
            Some(org) => c.with("aws:PrincipalOrgID", org),
            None => c,
        }
    }

    /// What a KMS request S3 makes on the role's behalf carries ("kms:ViaService",
    /// "kms:EncryptionContext:context-key"; S3 uses `aws:s3:arn` = the object ARN, or the bucket
    /// ARN with S3 Bucket Keys).
    fn kms_context(&self, region: &str, encryption_context: &str) -> Context {
        self.role_context(region)
            .with("kms:ViaService", via_s3(region))
            .with("kms:CallerAccount", self.role_account())
            .with("kms:EncryptionContext:aws:s3:arn", encryption_context)
            .with_values("kms:EncryptionContextKeys", ["aws:s3:arn"])
            .with("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
            .with("aws:ViaAWSService", "true")
            .without("kms:GrantIsForAWSResource")
            .without("kms:RequestAlias")
    }

    fn trust(&self) -> Finding {
        let s = self.s;
        let role = &s.role.arn;
        let src_arn = self.bucket_arn(&s.source.bucket);
        let ctx = |account: &str, arn: &str| {
            Context::open()
                .with("aws:SourceAccount", account)
                .with("aws:SourceArn", arn)
                .with("aws:PrincipalServiceName", S3_SERVICE)
                .with_values("aws:PrincipalServiceNamesList", [S3_SERVICE])
                .with("aws:PrincipalIsAWSService", "true")
                .with("aws:SecureTransport", "true")
                .without("aws:PrincipalArn")
                .without("aws:PrincipalAccount")
                .without("aws:PrincipalOrgID")
                .without("aws:PrincipalType")
                .without("sts:ExternalId")
                .without("aws:MultiFactorAuthPresent")
                .without("aws:MultiFactorAuthAge")
                .without("aws:SourceIdentity")
                .without("aws:SourceVpc")
                .without("aws:SourceVpce")
        };
        let req = Request::new(
            Principal::service(S3_SERVICE),
            "sts:AssumeRole",
            role,
            ctx(&s.source.account, &src_arn),
        );
        let name = "trust policy";
        let v = decide::trust(&req, Document::new(name, &s.role.trust_policy));
        let statement = json!({
            "Effect": "Allow",
            "Principal": {"Service": S3_SERVICE},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {
                "aws:SourceAccount": s.source.account,
                "aws:SourceArn": src_arn
            }}
        });
        let mut f = Finding {
            link: "trust".to_owned(),
            status: Status::Pass,
            detail: String::new(),
            account: self.role_account().to_owned(),
            region: "global".to_owned(),
            resource: role.clone(),
            fix: None,
            advisory: None,
        };
        match v.decision {
            Decision::Allow => {
                f.detail = format!(
                    "S3 may assume the role for {src_arn} (allowed by {})",
                    v.resource.allowed_by.join(", ")
                );
                // Confused deputy: would S3 acting for someone else's bucket get in too?
                let other_account = if s.source.account == "000000000000" {
                    "999999999999"
                } else {
                    "000000000000"
                };
                let other = Request::new(
                    Principal::service(S3_SERVICE),
                    "sts:AssumeRole",
                    role,
                    ctx(other_account, &self.bucket_arn("doctor-some-other-bucket")),
                );
                let o = decide::trust(&other, Document::new(name, &s.role.trust_policy));
                if o.decision == Decision::Allow {
                    f.advisory = Some(format!(
                        "the trust policy lets S3 assume this role on behalf of any bucket in any account (confused deputy); add the condition {} to the statement that trusts s3.amazonaws.com",
                        statement["Condition"]
                    ));
                }
            }
            Decision::ExplicitDeny => {
                f.status = Status::Fail;
                f.detail = format!(
                    "S3 may not assume the role for {src_arn}: explicitly denied by {}",
                    v.denied_by().join(", ")
                );
            }
            Decision::ImplicitDeny => {
                f.status = Status::Fail;
                f.detail = with_lints(
                    format!(
                        "no statement of the trust policy lets s3.amazonaws.com call sts:AssumeRole for {src_arn} in account {}",
                        s.source.account
                    ),
                    eval::lint(&s.role.trust_policy, name),
                );
                f.fix = Some(json!([{
                    "account": f.account, "region": "global", "resource": role,
                    "policy": "trust policy", "statement": statement
                }]));
            }
            Decision::CannotDecide => {
                f.status = Status::CannotDecide;
                f.detail = format!(
                    "whether S3 may assume the role cannot be decided: {}",
                    v.undecided().join("; ")
                );
            }
        }
        f
    }

    fn source_read(&self) -> Finding {
        let src = &self.s.source;
        let bucket_arn = self.bucket_arn(&src.bucket);
        let mut probes = Vec::new();
        for action in ["s3:GetReplicationConfiguration", "s3:ListBucket"] {
            probes.push(Probe {
                action,
                resource: bucket_arn.clone(),
                context: self.role_context(&src.region),
                grant: bucket_arn.clone(),
                condition: None,
            });
        }
        let mut object_actions = vec![
            "s3:GetObjectVersionForReplication",
            "s3:GetObjectVersionAcl",
            "s3:GetObjectVersionTagging",
        ];
        if src.object_lock {
            // Object Lock retention and legal holds are replicated, and read with these.
            object_actions.extend(["s3:GetObjectRetention", "s3:GetObjectLegalHold"]);
        }
        for prefix in self.prefixes() {
            for &action in &object_actions {
                probes.push(Probe {
                    action,
                    resource: self.object_arn(&src.bucket, prefix.as_deref()),
                    context: self.role_context(&src.region),
                    grant: prefix_grant(&bucket_arn, prefix.as_deref()),
                    condition: None,
                });
            }
        }
        let name = format!("bucket policy of {}", src.bucket);
        let policy = src.bucket_policy.as_ref().map(|p| Document::new(&name, p));
        self.policy_link(
            "source.read",
            "read source object versions and the replication configuration",
            &probes,
            Target::S3(policy),
            Holder {
                account: &src.account,
                region: &src.region,
                resource: &bucket_arn,
                policy: "bucket policy",
            },
        )
    }

    /// Distinct rule prefixes (`None`: the whole bucket).
    fn prefixes(&self) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = Vec::new();
        for d in &self.s.destinations {
            let p = d.prefix.clone().filter(|p| !p.is_empty());
            if !out.contains(&p) {
                out.push(p);
            }
        }
        if out.is_empty() {
            out.push(None);
        }
        out
    }

    fn source_key_decrypt(&self, key: &Key) -> Finding {
        let src = &self.s.source;
        let bucket_arn = self.bucket_arn(&src.bucket);
        let mut contexts: Vec<String> = self
            .prefixes()
            .iter()
            .map(|p| self.object_arn(&src.bucket, p.as_deref()))
            .collect();
        if src.bucket_key {
            contexts.push(bucket_arn.clone());
        }
        let condition = kms_condition(&src.region, &bucket_arn);
        let probes: Vec<Probe> = contexts
            .iter()
            .map(|c| Probe {
                action: "kms:Decrypt",
                resource: key.arn.clone(),
                context: self.kms_context(&src.region, c),
                grant: key.arn.clone(),
                condition: Some(condition.clone()),
            })
            .collect();
        self.key_link(
            "source.key.decrypt",
            "decrypt source objects through S3",
            &probes,
            key,
        )
    }

    fn replicate(&self, link: &str, d: &DestinationBucket) -> Finding {
        let (what, actions): (&str, &[&'static str]) = if d.delete_markers {
            (
                "replicate objects, delete markers and tags",
                &[
                    "s3:ReplicateObject",
                    "s3:ReplicateDelete",
                    "s3:ReplicateTags",
                ],
            )
        } else {
            (
                "replicate objects and tags",
                &["s3:ReplicateObject", "s3:ReplicateTags"],
            )
        };
        self.destination_s3_link(&format!("{link}.replicate"), what, d, actions)
    }

    fn owner_override(&self, link: &str, d: &DestinationBucket) -> Finding {
        self.destination_s3_link(
            &format!("{link}.owner-override"),
            "hand replica ownership to the destination account",
            d,
            &["s3:ObjectOwnerOverrideToBucketOwner"],
        )
    }

    fn destination_s3_link(
        &self,
        link: &str,
        what: &str,
        d: &DestinationBucket,
        actions: &[&'static str],
    ) -> Finding {
        let bucket_arn = self.bucket_arn(&d.bucket);
        let probes: Vec<Probe> = actions
            .iter()
            .map(|&action| Probe {
                action,
                resource: self.object_arn(&d.bucket, d.prefix.as_deref()),
                context: self.role_context(&d.region),
                grant: prefix_grant(&bucket_arn, d.prefix.as_deref()),
                condition: None,
            })
            .collect();
        let name = format!("bucket policy of {}", d.bucket);
        let policy = d.bucket_policy.as_ref().map(|p| Document::new(&name, p));
        self.policy_link(
            link,
            what,
            &probes,
            Target::S3(policy),
            Holder {
                account: &d.account,
                region: &d.region,
                resource: &bucket_arn,
                policy: "bucket policy",
            },
        )
    }

    fn destination_key_encrypt(&self, link: &str, d: &DestinationBucket, key: &Key) -> Finding {
        let bucket_arn = self.bucket_arn(&d.bucket);
        let mut contexts = vec![self.object_arn(&d.bucket, d.prefix.as_deref())];
        if d.bucket_key {
            contexts.push(bucket_arn.clone());
        }
        let condition = kms_condition(&d.region, &bucket_arn);
        let mut probes = Vec::new();
        for c in &contexts {
            for action in ["kms:Encrypt", "kms:GenerateDataKey"] {
                probes.push(Probe {
                    action,
                    resource: key.arn.clone(),
                    context: self.kms_context(&d.region, c),
                    grant: key.arn.clone(),
                    condition: Some(condition.clone()),
                });
            }
        }
        self.key_link(
            &format!("{link}.key.encrypt"),
            "encrypt replicas through S3",
            &probes,
            key,
        )
    }

    /// A link decided by a key policy (and the role's policy, as KMS combines them).
    fn key_link(&self, link: &str, what: &str, probes: &[Probe], key: &Key) -> Finding {
        let name = format!("key policy of {}", key.arn);
        let key_account = eval::arn_account(&key.arn).unwrap_or_default();
        self.policy_link(
            link,
            what,
            probes,
            Target::Kms(Document::new(&name, &key.policy)),
            Holder {
                account: key_account,
                region: &key_region(key),
                resource: &key.arn,
                policy: "key policy",
            },
        )
    }

    /// SSE-KMS source objects replicate only when the rule selects them and names a replica key.
    fn encryption_selection(&self, link: &str, d: &DestinationBucket) -> Finding {
        let src = &self.s.source;
        let mut f = Finding {
            link: format!("{link}.sse-kms"),
            status: Status::Pass,
            detail: String::new(),
            account: src.account.clone(),
            region: src.region.clone(),
            resource: self.bucket_arn(&src.bucket),
            fix: None,
            advisory: None,
        };
        let mut problems = Vec::new();
        if let (Some(key), false) = (&src.key, d.sse_kms) {
            problems.push(format!(
                "source objects are SSE-KMS encrypted with {}, but the rule for {} does not select SSE-KMS objects (SourceSelectionCriteria.SseKmsEncryptedObjects), so S3 does not replicate them",
                key.arn, d.bucket
            ));
        }
        if d.key.is_none() {
            problems.push(format!(
                "the rule for {} names no replica key (EncryptionConfiguration.ReplicaKmsKeyID), which S3 requires to replicate SSE-KMS objects",
                d.bucket
            ));
        }
        if problems.is_empty() {
            f.detail = format!(
                "the rule for {} selects SSE-KMS objects and names a replica key",
                d.bucket
            );
        } else {
            f.status = Status::Fail;
            f.detail = problems.join("; ");
            let mut rule = json!({"SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}}});
            rule["Destination"] = json!({
                "Bucket": self.bucket_arn(&d.bucket),
                "EncryptionConfiguration": {"ReplicaKmsKeyID": d.key.as_ref().map_or_else(
                    || format!("arn:{}:kms:{}:{}:key/<symmetric key in {}>", self.s.partition, d.region, d.account, d.region),
                    |k| k.arn.clone())}
            });
            f.fix = Some(json!([{
                "account": src.account, "region": src.region, "resource": f.resource,
                "call": "s3:PutBucketReplication", "rule": rule
            }]));
        }
        f
    }

    /// Runs the probes of one policy link and turns the verdicts into a finding.
    fn policy_link(
        &self,
        link: &str,
        what: &str,
        probes: &[Probe],
        target: Target<'_>,
        holder: Holder<'_>,
    ) -> Finding {
        let names = self.identity_names();
        let identity: Vec<Document<'_>> = self
            .s
            .role
            .policies
            .iter()
            .zip(&names)
            .map(|(p, n)| Document::new(n, &p.document))
            .collect();
        let principal = self.principal();
        let mut failed = Vec::new();
        let mut undecided = Vec::new();
        // (side, grant, condition) → actions
        let mut missing: Vec<(Side, String, Option<Value>, Vec<&'static str>)> = Vec::new();
        for p in probes {
            let req = Request::new(principal.clone(), p.action, &p.resource, p.context.clone());
            let v: Verdict = match &target {
                Target::S3(policy) => {
                    decide::resource_access(&req, &identity, *policy, holder.account)
                }
                Target::Kms(policy) => decide::kms_access(&req, &identity, *policy, holder.account),
            };
            match v.decision {
                Decision::Allow => {}
                Decision::ExplicitDeny => failed.push(format!(
                    "{} on {}: explicitly denied by {}",
                    p.action,
                    p.resource,
                    v.denied_by().join(", ")
                )),
                Decision::ImplicitDeny => {
                    let sides: Vec<String> = v
                        .missing
                        .iter()
                        .map(|s| match s {
                            Side::Identity => "the role's policies".to_owned(),
                            Side::Resource => format!("the {}", holder.policy),
                        })
                        .collect();
                    let mut line = format!(
                        "{} on {}: no Allow in {}",
                        p.action,
                        p.resource,
                        sides.join(" nor in ")
                    );
                    if !v.denied_by().is_empty() {
                        line.push_str(&format!(" (and {} may deny)", v.denied_by().join(", ")));
                    }
                    failed.push(line);
                    for &side in &v.missing {
                        let grant = match (side, &target) {
                            (Side::Resource, Target::Kms(_)) => "*".to_owned(),
                            _ => p.grant.clone(),
                        };
                        match missing
                            .iter_mut()
                            .find(|(s, g, c, _)| *s == side && *g == grant && *c == p.condition)
                        {
                            Some((_, _, _, actions)) => {
                                if !actions.contains(&p.action) {
                                    actions.push(p.action);
                                }
                            }
                            None => {
                                missing.push((side, grant, p.condition.clone(), vec![p.action]))
                            }
                        }
                    }
                }
                Decision::CannotDecide => undecided.push(format!(
                    "{} on {}: {}",
                    p.action,
                    p.resource,
                    dedup(v.undecided()).join("; ")
                )),
            }
        }
        let mut f = Finding {
            link: link.to_owned(),
            status: Status::Pass,
            detail: String::new(),
            account: holder.account.to_owned(),
            region: holder.region.to_owned(),
            resource: holder.resource.to_owned(),
            fix: None,
            advisory: None,
        };
        if !failed.is_empty() {
            f.status = Status::Fail;
            // Explain with what is wrong in the statements about this link: those naming a
            // failing action or the resource (even misspelt), or with empty lists.
            let failing: Vec<String> = missing
                .iter()
                .flat_map(|(_, _, _, a)| a.iter().map(|a| loose(a)))
                .collect();
            let needle = loose(
                holder
                    .resource
                    .rsplit([':', '/'])
                    .next()
                    .unwrap_or_default(),
            );
            let relevant = |stmt: &Value| {
                let text = loose(&stmt.to_string());
                eval::has_empty_lists(stmt)
                    || (!needle.is_empty() && text.contains(&needle))
                    || failing.iter().any(|a| text.contains(a))
            };
            let mut lints = Vec::new();
            for (p, n) in self.s.role.policies.iter().zip(&names) {
                lints.extend(eval::lint_where(&p.document, n, relevant));
            }
            match &target {
                Target::S3(Some(d)) | Target::Kms(d) => {
                    lints.extend(eval::lint_where(d.body, d.name, relevant))
                }
                Target::S3(None) => {}
            }
            failed.extend(undecided);
            f.detail = with_lints(
                format!("the role may not {what}: {}", dedup(failed).join("; ")),
                lints,
            );
            if !missing.is_empty() {
                f.fix = Some(Value::Array(
                    missing
                        .into_iter()
                        .map(|(side, grant, condition, actions)| {
                            self.placement(side, &holder, grant, condition, actions)
                        })
                        .collect(),
                ));
            }
        } else if !undecided.is_empty() {
            f.status = Status::CannotDecide;
            f.detail = format!(
                "whether the role may {what} cannot be decided: {}",
                dedup(undecided).join("; ")
            );
        } else {
            let mut actions: Vec<&str> = probes.iter().map(|p| p.action).collect();
            actions.dedup();
            let mut resources: Vec<&str> = probes.iter().map(|p| p.resource.as_str()).collect();
            resources.sort();
            resources.dedup();
            f.detail = format!(
                "the role may {what}: {} on {}",
                dedup_str(actions).join(", "),
                resources.join(", ")
            );
        }
        f
    }

    /// A statement to add, with where to add it.
    fn placement(
        &self,
        side: Side,
        holder: &Holder<'_>,
        grant: String,
        condition: Option<Value>,
        actions: Vec<&'static str>,
    ) -> Value {
        let mut statement = json!({"Effect": "Allow"});
        if side == Side::Resource {
            statement["Principal"] = json!({"AWS": self.s.role.arn});
        }
        statement["Action"] = if actions.len() == 1 {
            json!(actions[0])
        } else {
            json!(actions)
        };
        statement["Resource"] = json!(grant);
        if let Some(c) = condition {
            statement["Condition"] = c;
        }
        match side {
            Side::Identity => json!({
                "account": self.role_account(), "region": "global", "resource": self.s.role.arn,
                "policy": "role policy", "statement": statement
            }),
            Side::Resource => json!({
                "account": holder.account, "region": holder.region, "resource": holder.resource,
                "policy": holder.policy, "statement": statement
            }),
        }
    }
}

/// `kms:ViaService` for S3 in a region.
pub fn via_s3(region: &str) -> String {
    format!("s3.{region}.amazonaws.com")
}

/// The condition a KMS grant for replication carries: only through S3 in the bucket's region,
/// only for that bucket's objects (or the bucket, with S3 Bucket Keys).
fn kms_condition(region: &str, bucket_arn: &str) -> Value {
    json!({
        "StringEquals": {"kms:ViaService": via_s3(region)},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, format!("{bucket_arn}/*")]}
    })
}

fn key_region(key: &Key) -> String {
    if key.region.is_empty() {
        arn_region(&key.arn).unwrap_or_default().to_owned()
    } else {
        key.region.clone()
    }
}

/// S3 replicates SSE-KMS objects only with an enabled symmetric encryption key in the
/// destination bucket's region ("Replicating objects created with server-side encryption (SSE-C,
/// SSE-S3, SSE-KMS, DSSE-KMS)"; asymmetric keys cannot encrypt S3 objects; a multi-Region or
/// other-Region key is refused).
fn key_usable(link: &str, key: &Key, bucket_region: &str, bucket: &str) -> Finding {
    let account = eval::arn_account(&key.arn).unwrap_or_default().to_owned();
    let region = key_region(key);
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    match key.state.as_str() {
        "Enabled" => {}
        "Disabled" => {
            problems.push("the key is Disabled".to_owned());
            fixes.push(json!({"account": account, "region": region, "resource": key.arn, "call": "kms:EnableKey", "request": {"KeyId": key.arn}}));
        }
        "PendingDeletion" => {
            problems.push("the key is PendingDeletion".to_owned());
            fixes.push(json!({"account": account, "region": region, "resource": key.arn, "call": "kms:CancelKeyDeletion", "request": {"KeyId": key.arn}}));
            fixes.push(json!({"account": account, "region": region, "resource": key.arn, "call": "kms:EnableKey", "request": {"KeyId": key.arn}}));
        }
        other => problems.push(format!("the key is {other}, not Enabled")),
    }
    let mut replace = false;
    if key.spec != "SYMMETRIC_DEFAULT" {
        problems.push(format!(
            "the key spec is {}, not SYMMETRIC_DEFAULT (S3 encrypts only with symmetric encryption keys)",
            key.spec
        ));
        replace = true;
    }
    if region != bucket_region {
        problems.push(format!(
            "the key is in {region}, but {bucket} is in {bucket_region}; S3 uses a key in the bucket's region"
        ));
        replace = true;
    }
    if replace {
        fixes.push(json!({
            "account": account, "region": bucket_region, "resource": key.arn,
            "call": "kms:CreateKey",
            "request": {"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"},
            "then": format!("use the new key for {bucket} in place of {}", key.arn)
        }));
    }
    Finding {
        link: link.to_owned(),
        status: if problems.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        detail: if problems.is_empty() {
            format!("enabled SYMMETRIC_DEFAULT key in {region}, the region of {bucket}")
        } else {
            problems.join("; ")
        },
        account: account.clone(),
        region: region.clone(),
        resource: key.arn.clone(),
        fix: (!fixes.is_empty()).then_some(Value::Array(fixes)),
        advisory: None,
    }
}

/// A key the configuration names that could not be read: nothing can be encrypted or decrypted
/// with it as far as anyone can tell, so the link fails (never passes by omission).
fn key_missing(
    link: &str,
    id: &str,
    account: &str,
    bucket_region: &str,
    named_by: &str,
) -> Finding {
    let region = arn_region(id)
        .filter(|r| !r.is_empty())
        .unwrap_or(bucket_region);
    let account = eval::arn_account(id).unwrap_or(account);
    Finding {
        link: link.to_owned(),
        status: Status::Fail,
        detail: format!(
            "{named_by} names the key {id}, which DescribeKey does not find in account {account} ({region}): it was deleted, is in another region or account, or the reader may not describe it"
        ),
        account: account.to_owned(),
        region: region.to_owned(),
        resource: id.to_owned(),
        fix: Some(json!([{
            "account": account, "region": bucket_region, "resource": id,
            "call": "kms:DescribeKey",
            "then": format!("name an existing, enabled symmetric key in {bucket_region} in {named_by}")
        }])),
        advisory: None,
    }
}

/// "Both source and destination buckets must have versioning enabled."
fn versioning(
    link: &str,
    account: &str,
    region: &str,
    arn: &str,
    bucket: &str,
    status: Versioning,
) -> Finding {
    let ok = status == Versioning::Enabled;
    Finding {
        link: link.to_owned(),
        status: if ok { Status::Pass } else { Status::Fail },
        detail: if ok {
            format!("versioning is Enabled on {bucket}")
        } else {
            format!("versioning is {status:?} on {bucket}; replication requires Enabled")
        },
        account: account.to_owned(),
        region: region.to_owned(),
        resource: arn.to_owned(),
        fix: (!ok).then(|| {
            json!([{"account": account, "region": region, "resource": arn,
                "call": "s3:PutBucketVersioning",
                "request": {"Bucket": bucket, "VersioningConfiguration": {"Status": "Enabled"}}}])
        }),
        advisory: None,
    }
}

/// Replication does not work with Requester Pays buckets.
fn requester_pays(
    link: &str,
    account: &str,
    region: &str,
    arn: &str,
    bucket: &str,
    on: bool,
) -> Finding {
    Finding {
        link: link.to_owned(),
        status: if on { Status::Fail } else { Status::Pass },
        detail: if on {
            format!("Requester Pays is on for {bucket}; replication requires it off")
        } else {
            format!("Requester Pays is off for {bucket}")
        },
        account: account.to_owned(),
        region: region.to_owned(),
        resource: arn.to_owned(),
        fix: on.then(|| {
            json!([{"account": account, "region": region, "resource": arn,
                "call": "s3:PutBucketRequestPayment",
                "request": {"Bucket": bucket, "RequestPaymentConfiguration": {"Payer": "BucketOwner"}}}])
        }),
        advisory: None,
    }
}

/// Objects under Object Lock replicate only into a bucket with Object Lock enabled.
fn object_lock(link: &str, src: &SourceBucket, d: &DestinationBucket, arn: &str) -> Finding {
    let ok = !src.object_lock || d.object_lock;
    Finding {
        link: link.to_owned(),
        status: if ok { Status::Pass } else { Status::Fail },
        detail: match (src.object_lock, d.object_lock) {
            (false, _) => format!("{} has no Object Lock", src.bucket),
            (true, true) => format!("{} and {} both have Object Lock", src.bucket, d.bucket),
            (true, false) => format!(
                "{} has Object Lock but {} does not; locked objects cannot be replicated into it",
                src.bucket, d.bucket
            ),
        },
        account: d.account.clone(),
        region: d.region.clone(),
        resource: arn.to_owned(),
        fix: (!ok).then(|| {
            json!([{"account": d.account, "region": d.region, "resource": arn,
                "call": "s3:PutObjectLockConfiguration",
                "request": {"Bucket": d.bucket, "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}}])
        }),
        advisory: None,
    }
}

/// Lower-case letters and digits only: `s3>ListBucket` and `s3:ListBucket` compare equal.
fn loose(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn with_lints(detail: String, lints: Vec<String>) -> String {
    let lints = dedup(lints);
    if lints.is_empty() {
        detail
    } else {
        format!("{detail}. Also: {}", lints.join("; "))
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn dedup_str(items: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
