//! The [`Checker`]: a snapshot, and the parts every link's requests are built from (bucket and
//! object ARNs, the replication role as principal, the context keys S3 and KMS set).

use super::Snapshot;
use crate::doctor::eval::{self, Context, Principal};

/// The object key (after the rule's prefix) used for object-level requests.
pub const PROBE_KEY: &str = "doctor-probe/object";

pub(super) const S3_SERVICE: &str = "s3.amazonaws.com";

pub(super) struct Checker<'a> {
    pub(super) s: &'a Snapshot,
}

impl Checker<'_> {
    pub(super) fn bucket_arn(&self, bucket: &str) -> String {
        format!("arn:{}:s3:::{bucket}", self.s.partition)
    }

    pub(super) fn object_arn(&self, bucket: &str, prefix: Option<&str>) -> String {
        format!(
            "{}/{}{PROBE_KEY}",
            self.bucket_arn(bucket),
            prefix.unwrap_or_default()
        )
    }

    /// What a request S3 makes as a service principal on behalf of the bucket `arn` of
    /// `account` carries (assuming the replication role, delivering an event): the `aws:Source*`
    /// keys and no principal keys.
    pub(super) fn service_context(&self, account: &str, arn: &str) -> Context {
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
    }

    pub(super) fn role_account(&self) -> &str {
        eval::arn_account(&self.s.role.arn).unwrap_or_default()
    }

    pub(super) fn principal(&self) -> Principal {
        Principal::Role {
            role_arn: self.s.role.arn.clone(),
            account: self.role_account().to_owned(),
            unique_id: self.s.role.unique_id.clone(),
        }
    }

    pub(super) fn identity_names(&self) -> Vec<String> {
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
    pub(super) fn role_context(&self, region: &str) -> Context {
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
    pub(super) fn kms_context(&self, region: &str, encryption_context: &str) -> Context {
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

    /// Distinct rule prefixes (`None`: the whole bucket).
    pub(super) fn prefixes(&self) -> Vec<Option<String>> {
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
}

/// `kms:ViaService` for S3 in a region.
pub fn via_s3(region: &str) -> String {
    format!("s3.{region}.amazonaws.com")
}
