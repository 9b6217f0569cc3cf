//! One IAM policy document evaluated against one request, following the IAM User Guide's
//! "Policy evaluation logic" and "IAM JSON policy elements reference".
//!
//! Every match is three-valued ([`Tri`]): `Unknown` stands for "this evaluator cannot tell"
//! (an unsupported condition operator, a policy variable, a context key whose value the snapshot
//! does not know, a role-session ARN in `Principal`). An `Unknown` never becomes a pass: it
//! surfaces as [`Decision::CannotDecide`] whenever it could change the outcome.

use serde::Serialize;
use serde_json::Value;

use super::condition;
pub use super::document::{document_value, statement_label, statements};
pub use super::lint::{has_empty_lists, lint, lint_where};
pub use super::matching::{
    action_matches, arn_like, glob, is_unique_id, match_not_principal, match_principal,
    resource_matches, strings, PrincipalMatch,
};
pub use super::request::{arn_account, arn_region, Context, Lookup, Principal, Request, Tri};

/// `pattern` with each policy variable `${<key>}` whose request-context value is one known
/// string replaced by it ("IAM policy elements: Variables and tags": variables in `Resource` are
/// replaced with the request's values). Variables without a known single value, and the literal
/// forms `${*}`, `${?}`, `${$}`, stay, and the pattern is then not decided.
pub fn substitute(pattern: &str, ctx: &Context) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &after[..end];
        match ctx.lookup(key) {
            Lookup::Present([value]) if key.contains(':') => out.push_str(value),
            _ => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Which kind of document: it decides how `Principal` and a missing `Resource` are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to the principal: no `Principal` element (the principal is implicitly the
    /// identity the policy is attached to).
    Identity,
    /// Attached to a resource (bucket policy, key policy): `Principal` or `NotPrincipal` names
    /// who the statement applies to.
    Resource,
    /// A role trust policy: a resource policy whose resource is the role (no `Resource` element).
    Trust,
}

/// The outcome of a document or of a set of documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
    CannotDecide,
}

impl Decision {
    /// "An explicit deny overrides an allow; without an allow the request is implicitly denied."
    /// An undecidable deny only matters when an allow could be granted: with no allow at all the
    /// request is refused whichever way the deny goes, reported as `ImplicitDeny`.
    pub fn from_parts(deny: Tri, allow: Tri) -> Decision {
        match (deny, allow) {
            (Tri::Yes, _) => Decision::ExplicitDeny,
            (_, Tri::No) => Decision::ImplicitDeny,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Decision::CannotDecide,
            (Tri::No, Tri::Yes) => Decision::Allow,
        }
    }
}

/// The result of evaluating documents against one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    /// Some Deny statement applies.
    pub deny: Tri,
    /// Some Allow statement applies and names the principal itself: its ARN, `"*"`,
    /// `{"AWS": "*"}`, a service principal, or (identity policies) no `Principal` at all.
    pub allow_direct: Tri,
    /// Some Allow statement applies only by naming the principal's account (`"123456789012"`
    /// or `arn:aws:iam::123456789012:root`): that delegates to the account's identity policies
    /// ("AWS account principals").
    pub allow_account: Tri,
    /// Labels of the statements that deny (or may deny).
    pub denied_by: Vec<String>,
    /// Labels of the statements that allow (or may allow).
    pub allowed_by: Vec<String>,
    /// Why something could not be decided, per statement.
    pub undecided: Vec<String>,
}

impl Evaluation {
    /// Allowed by any statement, directly or through the account.
    pub fn allow(&self) -> Tri {
        self.allow_direct.or(self.allow_account)
    }

    pub fn decision(&self) -> Decision {
        Decision::from_parts(self.deny, self.allow())
    }

    /// Combines the evaluation of another document applying to the same request (AWS evaluates
    /// the union of the statements of all applicable documents of one type).
    pub fn merge(&mut self, other: Evaluation) {
        self.deny = self.deny.or(other.deny);
        self.allow_direct = self.allow_direct.or(other.allow_direct);
        self.allow_account = self.allow_account.or(other.allow_account);
        self.denied_by.extend(other.denied_by);
        self.allowed_by.extend(other.allowed_by);
        self.undecided.extend(other.undecided);
    }
}

/// Evaluates one document. `doc` is `Null` for "no policy" (nothing applies).
///
/// Per statement: it applies when its principal, action, resource and condition all match
/// ("Determining whether a request is allowed or denied within an account"); the document
/// denies when any Deny statement applies and allows when any Allow statement applies.
pub fn evaluate(doc: &Value, name: &str, kind: PolicyKind, req: &Request) -> Evaluation {
    let mut out = Evaluation::default();
    if doc.is_null() {
        return out;
    }
    if document_value(doc).is_none() {
        out.deny = Tri::Unknown;
        out.undecided
            .push(format!("{name} is not a JSON policy document"));
        return out;
    }
    for (i, stmt) in statements(doc).iter().enumerate() {
        let label = statement_label(name, i, stmt);
        let mut notes = Vec::new();
        let m = evaluate_statement(stmt, kind, req, &mut notes);
        let applies = m.direct.or(m.account);
        if applies == Tri::Unknown {
            out.undecided
                .extend(notes.into_iter().map(|n| format!("{label}: {n}")));
        }
        match m.effect {
            Effect::Deny => {
                out.deny = out.deny.or(applies);
                if applies != Tri::No {
                    out.denied_by.push(label);
                }
            }
            Effect::Allow => {
                out.allow_direct = out.allow_direct.or(m.direct);
                out.allow_account = out.allow_account.or(m.account);
                if applies != Tri::No {
                    out.allowed_by.push(label);
                }
            }
            Effect::Invalid => {
                // IAM refuses such a document; if one is met anyway, it may deny.
                out.deny = out.deny.or(Tri::Unknown);
                out.undecided
                    .push(format!("{label}: Effect must be \"Allow\" or \"Deny\""));
            }
        }
    }
    out
}

/// Evaluates several documents of the same type together (e.g. a role's inline and managed
/// policies) and merges the results.
pub fn evaluate_all<'a, I>(docs: I, kind: PolicyKind, req: &Request) -> Evaluation
where
    I: IntoIterator<Item = (&'a str, &'a Value)>,
{
    let mut out = Evaluation::default();
    for (name, doc) in docs {
        out.merge(evaluate(doc, name, kind, req));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
    Invalid,
}

/// How a statement matches a request: through a direct principal, or through the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatementMatch {
    effect: Effect,
    direct: Tri,
    account: Tri,
}

fn evaluate_statement(
    stmt: &Value,
    kind: PolicyKind,
    req: &Request,
    notes: &mut Vec<String>,
) -> StatementMatch {
    let no = |effect| StatementMatch {
        effect,
        direct: Tri::No,
        account: Tri::No,
    };
    let effect = match stmt.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return no(Effect::Invalid),
    };

    // Action / NotAction ("IAM JSON policy elements: Action", "…: NotAction").
    let action = match (stmt.get("Action"), stmt.get("NotAction")) {
        (Some(a), None) => {
            Tri::from_bool(strings(a).iter().any(|p| action_matches(p, &req.action)))
        }
        (None, Some(a)) => {
            Tri::from_bool(!strings(a).iter().any(|p| action_matches(p, &req.action)))
        }
        _ => Tri::No,
    };
    if action == Tri::No {
        return no(effect);
    }

    // Resource / NotResource. A trust policy has none: its resource is the role.
    let resource = match (stmt.get("Resource"), stmt.get("NotResource")) {
        (Some(r), None) => Tri::any(
            strings(r)
                .iter()
                .map(|p| resource_matches(&substitute(p, &req.context), &req.resource, notes)),
        ),
        (None, Some(r)) => !Tri::any(
            strings(r)
                .iter()
                .map(|p| resource_matches(&substitute(p, &req.context), &req.resource, notes)),
        ),
        (None, None) if kind == PolicyKind::Trust => Tri::Yes,
        _ => Tri::No,
    };
    if resource == Tri::No {
        return no(effect);
    }

    // Principal / NotPrincipal; identity policies apply to the identity they are attached to.
    let principal = match kind {
        PolicyKind::Identity => PrincipalMatch::direct(Tri::Yes),
        PolicyKind::Resource | PolicyKind::Trust => {
            match (stmt.get("Principal"), stmt.get("NotPrincipal")) {
                (Some(p), None) => match_principal(p, &req.principal, notes),
                (None, Some(p)) => match_not_principal(p, &req.principal, notes),
                _ => PrincipalMatch::NONE,
            }
        }
    };
    if principal.direct.or(principal.account) == Tri::No {
        return no(effect);
    }

    let cond = match stmt.get("Condition") {
        None => Tri::Yes,
        Some(c) => condition::evaluate(c, &req.context, notes),
    };
    let rest = action.and(resource).and(cond);
    StatementMatch {
        effect,
        direct: principal.direct.and(rest),
        account: principal.account.and(rest),
    }
}
