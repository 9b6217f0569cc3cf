//! Who a statement the provider writes into someone else's policy belongs to.
//!
//! A destination bucket policy, a key policy or a topic policy holds statements of many
//! sources. Each of ours carries a `Sid` that is a 128-bit SHA-256 digest over everything that
//! tells its owner apart (partition, account, region and source bucket; the organization and
//! scope for organization statements), so no other source can be given the same `Sid`, on
//! purpose or by accident. The `Sid` alone is never trusted, though: a statement found at one
//! of our `Sid`s is replaced or removed only when its content is what the provider writes for
//! this owner ([`Claim::owns`]): the same role as principal, the same source bucket as
//! `aws:SourceArn`, the same organization. Anything else is someone else's and is refused by
//! name. Earlier versions' `Sid`s ([`StatementId::legacy`]) are recognised the same way and
//! upgraded in place.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The namespace every `Sid` of this provider starts with.
pub const SID_PREFIX: &str = "S3Replication";

/// The `Sid` a statement is written with, the `Sid`s earlier versions wrote it with, and what
/// its content must show to be ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementId {
    pub sid: String,
    pub legacy: Vec<String>,
    pub claim: Claim,
}

impl StatementId {
    /// Every `Sid` this statement may be found at: the current one first.
    pub fn sids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.sid.as_str()).chain(self.legacy.iter().map(String::as_str))
    }
}

/// What makes a statement ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// An Allow whose only principal is one of these roles (a source's replication role; an
    /// Update that renamed it also accepts the previous one).
    Roles(Vec<String>),
    /// An Allow to `s3.amazonaws.com` on behalf of exactly this bucket of this account (a
    /// topic or queue statement).
    Service {
        source_arn: String,
        source_account: String,
    },
    /// An Allow to every principal of exactly this organization (`aws:PrincipalOrgID`).
    Organization(String),
    /// Any entry with the id: the notification configurations of the source bucket itself,
    /// which only the source's owner writes.
    Any,
}

impl Claim {
    /// Whether `statement` is one the provider writes for this owner.
    pub fn owns(&self, statement: &Value) -> bool {
        if matches!(self, Claim::Any) {
            return true;
        }
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            return false;
        }
        let principal = statement.get("Principal");
        match self {
            Claim::Any => true,
            Claim::Roles(roles) => principal
                .and_then(|p| only(p.get("AWS")?))
                .is_some_and(|p| roles.iter().any(|r| r == p)),
            Claim::Service {
                source_arn,
                source_account,
            } => {
                let service = principal.and_then(|p| only(p.get("Service")?));
                service == Some("s3.amazonaws.com")
                    && condition(statement, "aws:SourceArn") == Some(source_arn.as_str())
                    && condition(statement, "aws:SourceAccount") == Some(source_account.as_str())
            }
            Claim::Organization(org) => {
                let everyone = match principal {
                    Some(Value::String(s)) => s == "*",
                    Some(p) => p.get("AWS").and_then(only) == Some("*"),
                    None => false,
                };
                everyone && condition(statement, "aws:PrincipalOrgID") == Some(org.as_str())
            }
        }
    }

    /// Who this claim names, for messages.
    pub fn describe(&self) -> String {
        match self {
            Claim::Roles(roles) => format!("an Allow to the role {}", roles.join(" or ")),
            Claim::Service { source_arn, .. } => {
                format!("an Allow to s3.amazonaws.com for {source_arn}")
            }
            Claim::Organization(org) => format!("an Allow to the organization {org}"),
            Claim::Any => "any entry".to_owned(),
        }
    }
}

/// The one string of a value that is a string or a one-element list of strings.
fn only(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Array(items) if items.len() == 1 => items[0].as_str(),
        _ => None,
    }
}

/// The single value of the condition key `key` under any operator, when there is exactly one.
fn condition<'a>(statement: &'a Value, key: &str) -> Option<&'a str> {
    let blocks = statement.get("Condition")?.as_object()?;
    let mut found = blocks
        .values()
        .filter_map(|b| b.as_object())
        .filter_map(|b| b.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)));
    let (_, value) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    only(value)
}

/// 128 bits of SHA-256 over `parts` (each length-prefixed, so no two part lists share a
/// digest), as 32 hexadecimal digits.
pub fn digest128(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"s3-replication-provider/statement-id/v2");
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Letters and digits of `name`, at most `n` (the strictest Sid grammar, IAM's): only to let a
/// reader see which bucket a statement is about; the digest is what identifies it.
pub fn readable(name: &str, n: usize) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROLE: &str = "arn:aws:iam::111111111111:role/s3-replication/s3-replication-src";

    #[test]
    fn digests_separate_their_parts() {
        assert_eq!(digest128(&["a", "bc"]).len(), 32);
        assert_ne!(digest128(&["a", "bc"]), digest128(&["ab", "c"]));
        assert_eq!(digest128(&["a", "bc"]), digest128(&["a", "bc"]));
    }

    #[test]
    fn a_role_claim_owns_only_its_roles_allow() {
        let claim = Claim::Roles(vec![ROLE.to_owned()]);
        let ours = json!({"Sid": "x", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:ReplicateObject"});
        assert!(claim.owns(&ours));
        assert!(claim.owns(&json!({"Effect": "Allow", "Principal": {"AWS": [ROLE]}})));
        for theirs in [
            json!({"Effect": "Deny", "Principal": {"AWS": ROLE}}),
            json!({"Effect": "Allow", "Principal": {"AWS": [ROLE, "arn:aws:iam::999999999999:root"]}}),
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/s3-replication/other"}}),
            json!({"Effect": "Allow", "Principal": "*"}),
            json!({"Effect": "Allow"}),
        ] {
            assert!(!claim.owns(&theirs), "{theirs}");
        }
    }

    #[test]
    fn a_service_claim_needs_this_bucket_and_account() {
        let claim = Claim::Service {
            source_arn: "arn:aws:s3:::src".into(),
            source_account: "111111111111".into(),
        };
        let ours = json!({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::src"}, "StringEquals": {"aws:SourceAccount": "111111111111"}}});
        assert!(claim.owns(&ours));
        let mut other = ours.clone();
        other["Condition"]["ArnLike"]["aws:SourceArn"] = json!("arn:aws:s3:::other");
        assert!(!claim.owns(&other));
        let mut anyone = ours.clone();
        anyone["Condition"]["ArnLike"]["aws:SourceArn"] = json!("arn:aws:s3:::*");
        assert!(!claim.owns(&anyone));
    }

    #[test]
    fn an_organization_claim_needs_that_organization() {
        let claim = Claim::Organization("o-aaaaaaaaaa".into());
        let ours = json!({"Effect": "Allow", "Principal": {"AWS": "*"},
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}}});
        assert!(claim.owns(&ours));
        let mut outside = ours.clone();
        outside["Condition"]["StringEquals"]["aws:PrincipalOrgID"] = json!("o-bbbbbbbbbb");
        assert!(!claim.owns(&outside));
        assert!(!claim.owns(&json!({"Effect": "Allow", "Principal": {"AWS": "*"}})));
    }
}
