//! How AWS combines the documents that apply to one request ("Policy evaluation logic",
//! "Cross-account policy evaluation logic", AWS KMS "Key policies" and "Allowing users in other
//! accounts to use a KMS key", "Role trust policies").
//!
//! An explicit Deny in any applicable document wins. Then:
//!
//! | request | allowed when |
//! |---|---|
//! | same account, S3 | identity policy allows, OR resource policy allows naming the principal |
//! | cross account, S3 | identity policy allows AND resource policy allows (principal or its account) |
//! | same account, KMS | key policy allows naming the principal, OR key policy names the account (`…:root`) AND identity policy allows |
//! | cross account, KMS | key policy allows (principal or its account) AND identity policy allows |
//! | service assumes role | trust policy allows the service principal |
//!
//! A resource policy that names only an account "delegates authority to the account": the
//! account's identity policies must then allow too, also within the same account. A KMS key
//! policy is the only way into a key: without it, identity policies grant nothing.

use serde::Serialize;
use serde_json::Value;

use super::eval::{evaluate, evaluate_all, Decision, Evaluation, PolicyKind, Request, Tri};

/// A policy document with the name used in messages (e.g. `bucket policy of dst-a`).
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    pub name: &'a str,
    pub body: &'a Value,
}

impl<'a> Document<'a> {
    pub fn new(name: &'a str, body: &'a Value) -> Self {
        Self { name, body }
    }
}

/// Which document a missing Allow belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The principal's identity policies (the replication role's policies).
    Identity,
    /// The resource's policy (bucket policy, key policy, trust policy).
    Resource,
}

/// The combined outcome for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    /// For an `ImplicitDeny`: the documents that lack an Allow the request needs. Adding an
    /// Allow to each of them is sufficient (unless a Deny also applies).
    pub missing: Vec<Side>,
    pub identity: Evaluation,
    pub resource: Evaluation,
}

impl Verdict {
    fn new(
        deny: Tri,
        allow: Tri,
        missing: Vec<Side>,
        identity: Evaluation,
        resource: Evaluation,
    ) -> Self {
        let decision = Decision::from_parts(deny, allow);
        Verdict {
            missing: if decision == Decision::ImplicitDeny {
                missing
            } else {
                Vec::new()
            },
            decision,
            identity,
            resource,
        }
    }

    /// Statements that deny or may deny, in either document.
    pub fn denied_by(&self) -> Vec<String> {
        self.identity
            .denied_by
            .iter()
            .chain(&self.resource.denied_by)
            .cloned()
            .collect()
    }

    /// Reasons something could not be decided, in either document.
    pub fn undecided(&self) -> Vec<String> {
        self.identity
            .undecided
            .iter()
            .chain(&self.resource.undecided)
            .cloned()
            .collect()
    }
}

fn identity_eval(identity: &[Document<'_>], req: &Request) -> Evaluation {
    evaluate_all(
        identity.iter().map(|d| (d.name, d.body)),
        PolicyKind::Identity,
        req,
    )
}

fn same_account(req: &Request, resource_account: &str) -> bool {
    req.principal.account() == Some(resource_account)
}

/// An S3 (or any non-KMS) resource with an optional resource-based policy owned by
/// `resource_account`.
pub fn resource_access(
    req: &Request,
    identity: &[Document<'_>],
    resource_policy: Option<Document<'_>>,
    resource_account: &str,
) -> Verdict {
    let id = identity_eval(identity, req);
    let res = resource_policy
        .map(|d| evaluate(d.body, d.name, PolicyKind::Resource, req))
        .unwrap_or_default();
    let deny = id.deny.or(res.deny);
    let (allow, missing) = if same_account(req, resource_account) {
        // "If either the identity-based policy or the resource-based policy within the same
        // account allows the request and the other doesn't, the request is still allowed."
        // An account principal delegates to the identity policies, so only direct grants count.
        (id.allow().or(res.allow_direct), vec![Side::Identity])
    } else {
        // "The resource-based policy in the trusting account must specify the principal … The
        // principal's identity-based policy must allow the requested access."
        let mut missing = Vec::new();
        if id.allow() != Tri::Yes {
            missing.push(Side::Identity);
        }
        if res.allow() != Tri::Yes {
            missing.push(Side::Resource);
        }
        (id.allow().and(res.allow()), missing)
    };
    Verdict::new(deny, allow, missing, id, res)
}

/// A KMS key with its key policy, owned by `key_account`.
pub fn kms_access(
    req: &Request,
    identity: &[Document<'_>],
    key_policy: Document<'_>,
    key_account: &str,
) -> Verdict {
    let id = identity_eval(identity, req);
    let key = evaluate(key_policy.body, key_policy.name, PolicyKind::Resource, req);
    let deny = id.deny.or(key.deny);
    let (allow, missing) = if same_account(req, key_account) {
        // "No AWS principal … has any permissions to a KMS key unless that permission is
        // provided explicitly in a key policy or … an IAM policy, if the key policy allows it"
        // (the key policy names the account: `arn:aws:iam::<account>:root`).
        let allow = key.allow_direct.or(key.allow_account.and(id.allow()));
        let missing = if key.allow() == Tri::No {
            vec![Side::Resource]
        } else {
            vec![Side::Identity]
        };
        (allow, missing)
    } else {
        // "Cross-account access requires permission in the key policy of the KMS key and in an
        // IAM policy in the external user's account."
        let mut missing = Vec::new();
        if id.allow() != Tri::Yes {
            missing.push(Side::Identity);
        }
        if key.allow() != Tri::Yes {
            missing.push(Side::Resource);
        }
        (id.allow().and(key.allow()), missing)
    };
    Verdict::new(deny, allow, missing, id, key)
}

/// A principal assuming a role: only the trust policy decides for a service principal (a
/// service has no identity policies).
pub fn trust(req: &Request, trust_policy: Document<'_>) -> Verdict {
    let t = evaluate(trust_policy.body, trust_policy.name, PolicyKind::Trust, req);
    Verdict::new(
        t.deny,
        t.allow(),
        vec![Side::Resource],
        Evaluation::default(),
        t,
    )
}
