//! One IAM policy document evaluated against one request, following the IAM User Guide's
//! "Policy evaluation logic" and "IAM JSON policy elements reference".
//!
//! Every match is three-valued ([`Tri`]): `Unknown` stands for "this evaluator cannot tell"
//! (an unsupported condition operator, a policy variable, a context key whose value the snapshot
//! does not know, a role-session ARN in `Principal`). An `Unknown` never becomes a pass: it
//! surfaces as [`Decision::CannotDecide`] whenever it could change the outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Not;

use serde::Serialize;
use serde_json::Value;

use super::condition;

/// Kleene's three-valued logic: `No < Unknown < Yes`; `and` is the minimum, `or` the maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tri {
    #[default]
    No,
    Unknown,
    Yes,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    pub fn and(self, other: Tri) -> Tri {
        self.min(other)
    }

    pub fn or(self, other: Tri) -> Tri {
        self.max(other)
    }

    /// `Yes` if any is `Yes`, else `Unknown` if any is `Unknown`, else `No` (empty: `No`).
    pub fn any<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        items.into_iter().fold(Tri::No, Tri::or)
    }

    /// `No` if any is `No`, else `Unknown` if any is `Unknown`, else `Yes` (empty: `Yes`).
    pub fn all<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        items.into_iter().fold(Tri::Yes, Tri::and)
    }
}

impl Not for Tri {
    type Output = Tri;
    fn not(self) -> Tri {
        match self {
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
            Tri::Yes => Tri::No,
        }
    }
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A session of an IAM role. `role_arn` is what `aws:PrincipalArn` holds for a role session
    /// (the role's ARN, path included); the session's own `arn:aws:sts::…:assumed-role/…` ARN is
    /// not known (S3 chooses the session name). `unique_id` is the role's `AROA…` id, if known.
    Role {
        role_arn: String,
        account: String,
        unique_id: Option<String>,
    },
    /// An IAM user.
    User { arn: String, account: String },
    /// A service principal such as `s3.amazonaws.com`.
    Service(String),
}

impl Principal {
    /// A session of the role with this ARN; the account is read from the ARN.
    pub fn role(role_arn: &str) -> Principal {
        Principal::Role {
            role_arn: role_arn.to_owned(),
            account: arn_account(role_arn).unwrap_or_default().to_owned(),
            unique_id: None,
        }
    }

    pub fn user(arn: &str) -> Principal {
        Principal::User {
            arn: arn.to_owned(),
            account: arn_account(arn).unwrap_or_default().to_owned(),
        }
    }

    pub fn service(name: &str) -> Principal {
        Principal::Service(name.to_owned())
    }

    /// The account of an IAM principal; `None` for a service principal.
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Role { account, .. } | Principal::User { account, .. } => Some(account),
            Principal::Service(_) => None,
        }
    }

    /// The ARN `aws:PrincipalArn` holds (role or user ARN); `None` for a service principal.
    pub fn arn(&self) -> Option<&str> {
        match self {
            Principal::Role { role_arn, .. } => Some(role_arn),
            Principal::User { arn, .. } => Some(arn),
            Principal::Service(_) => None,
        }
    }
}

/// The account field (fifth) of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn").then(|| parts[4])
}

/// The region field (fourth) of an ARN.
pub fn arn_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn").then(|| parts[3])
}

/// What a context key holds in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Present with these values (one for a single-valued key).
    Present(&'a [String]),
    /// Known not to be in the request context.
    Absent,
    /// Known to be in the request context, with a value the snapshot cannot know (e.g.
    /// `aws:TokenIssueTime` of a role session): `Null` decides, value comparisons do not.
    PresentUnknown,
    /// The snapshot does not say whether or with what value the key is present.
    Unknown,
}

/// The request context's condition keys. Key names are case-insensitive ("Condition element":
/// condition key names are not case-sensitive), values are kept as given.
///
/// Open world by default: a key neither set nor declared absent is [`Lookup::Unknown`], so a
/// condition on it cannot be decided. [`Context::closed`] makes every unset key absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: BTreeMap<String, Vec<String>>,
    absent: BTreeSet<String>,
    present: BTreeSet<String>,
    closed: bool,
}

impl Context {
    /// Open world: unset keys are unknown.
    pub fn open() -> Self {
        Self::default()
    }

    /// Closed world: unset keys are absent.
    pub fn closed() -> Self {
        Self {
            closed: true,
            ..Self::default()
        }
    }

    /// Sets a single-valued key.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, vec![value.into()]);
        self
    }

    /// Sets a multi-valued key.
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(key, values.into_iter().map(Into::into).collect());
        self
    }

    /// Declares a key absent from the request.
    pub fn without(mut self, key: &str) -> Self {
        let k = key.to_ascii_lowercase();
        self.values.remove(&k);
        self.present.remove(&k);
        self.absent.insert(k);
        self
    }

    /// Declares a key present in the request with a value that is not known.
    pub fn with_unknown_value(mut self, key: &str) -> Self {
        let k = key.to_ascii_lowercase();
        self.values.remove(&k);
        self.absent.remove(&k);
        self.present.insert(k);
        self
    }

    pub fn set(&mut self, key: &str, values: Vec<String>) {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.present.remove(&k);
        self.values.insert(k, values);
    }

    pub fn lookup(&self, key: &str) -> Lookup<'_> {
        let k = key.to_ascii_lowercase();
        match self.values.get(&k) {
            Some(v) => Lookup::Present(v),
            None if self.present.contains(&k) => Lookup::PresentUnknown,
            None if self.closed || self.absent.contains(&k) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

/// One request: principal, action, resource and context ("The request context").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    pub context: Context,
}

impl Request {
    pub fn new(principal: Principal, action: &str, resource: &str, context: Context) -> Self {
        Self {
            principal,
            action: action.to_owned(),
            resource: resource.to_owned(),
            context,
        }
    }
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

/// A policy document as stored, tolerating a JSON string holding the document (as IAM and S3
/// APIs return them); `None` when it is neither.
pub fn document_value(doc: &Value) -> Option<std::borrow::Cow<'_, Value>> {
    match doc {
        Value::Object(_) => Some(std::borrow::Cow::Borrowed(doc)),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .map(std::borrow::Cow::Owned),
        _ => None,
    }
}

/// The statements of a document: `Statement` is a single object or an array ("IAM JSON policy
/// elements: Statement").
pub fn statements(doc: &Value) -> Vec<Value> {
    match document_value(doc)
        .as_deref()
        .and_then(|d| d.get("Statement"))
    {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// A statement's label for messages: `<document> statement <Sid>` or `… statement #<n>`.
pub fn statement_label(doc_name: &str, index: usize, stmt: &Value) -> String {
    match stmt.get("Sid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => format!("{doc_name} statement {sid:?}"),
        _ => format!("{doc_name} statement #{}", index + 1),
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
                .map(|p| resource_matches(p, &req.resource, notes)),
        ),
        (None, Some(r)) => !Tri::any(
            strings(r)
                .iter()
                .map(|p| resource_matches(p, &req.resource, notes)),
        ),
        (None, None) if kind == PolicyKind::Trust => Tri::Yes,
        _ => Tri::No,
    };
    if resource == Tri::No {
        return no(effect);
    }

    // Principal / NotPrincipal; identity policies apply to the identity they are attached to.
    let principal = match kind {
        PolicyKind::Identity => PrincipalMatch {
            direct: Tri::Yes,
            account: Tri::No,
        },
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

/// A JSON value as a list of strings: a string, or an array of strings (other members ignored).
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// `*` matches any run of characters (also none), `?` exactly one ("Wildcards" in the
/// Action, Resource and String/ARN condition references).
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Action names are case-insensitive and may use `*` and `?` ("IAM JSON policy elements:
/// Action").
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob(pattern, action, true)
}

/// Resource ARNs match case-sensitively, each of the six `:`-separated fields on its own, with
/// `*`/`?` inside a field; the sixth (resource) field takes the rest of the ARN ("IAM JSON policy
/// elements: Resource", "Amazon Resource Name (ARN) condition operators"). `"*"` matches
/// everything. A pattern with `${…}` uses policy variables: unknown.
pub fn resource_matches(pattern: &str, resource: &str, notes: &mut Vec<String>) -> Tri {
    if pattern.contains("${") {
        notes.push(format!(
            "resource {pattern:?} uses a policy variable, which is not evaluated"
        ));
        return Tri::Unknown;
    }
    arn_like(pattern, resource, notes)
}

/// The ARN comparison shared by `Resource` and the `Arn*` condition operators.
pub fn arn_like(pattern: &str, arn: &str, notes: &mut Vec<String>) -> Tri {
    if pattern == "*" {
        return Tri::Yes;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if a.len() != 6 {
        return Tri::No;
    }
    if p.len() != 6 {
        // Not a six-field ARN: IAM refuses it in Resource. If a wildcard could still make it
        // match as a plain string, say so rather than guess.
        if glob(pattern, arn, false) {
            notes.push(format!(
                "{pattern:?} is not a six-field ARN; whether AWS matches it to {arn} is not known"
            ));
            return Tri::Unknown;
        }
        return Tri::No;
    }
    Tri::from_bool(p.iter().zip(&a).all(|(p, a)| glob(p, a, false)))
}

/// How a `Principal` element matches the requesting principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrincipalMatch {
    pub direct: Tri,
    pub account: Tri,
}

impl PrincipalMatch {
    const NONE: PrincipalMatch = PrincipalMatch {
        direct: Tri::No,
        account: Tri::No,
    };

    fn or(self, o: PrincipalMatch) -> PrincipalMatch {
        PrincipalMatch {
            direct: self.direct.or(o.direct),
            account: self.account.or(o.account),
        }
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An IAM unique id (`AROA…`, `AIDA…`): IAM shows one in place of the ARN of a principal that was
/// deleted ("If an IAM identity is deleted … the resource policy will show a unique identifier").
pub fn is_unique_id(s: &str) -> bool {
    s.len() >= 16
        && s.starts_with('A')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The name of a role from its ARN (`…:role/path/name` → `name`).
fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or_default()
}

/// Matches a `Principal` element ("AWS JSON policy elements: Principal"):
/// `"*"` and `{"AWS": "*"}` are everyone; `"123456789012"` and `arn:aws:iam::123456789012:root`
/// are the account (delegating to its identity policies, not the root user only); a role or
/// user ARN is that identity; `{"Service": …}` a service principal. A role-session ARN is
/// unknown (the session name is not known); `CanonicalUser` is unknown (canonical ids are not in
/// the snapshot).
pub fn match_principal(elem: &Value, p: &Principal, notes: &mut Vec<String>) -> PrincipalMatch {
    let yes_direct = PrincipalMatch {
        direct: Tri::Yes,
        account: Tri::No,
    };
    if elem.as_str() == Some("*") {
        return yes_direct;
    }
    let Some(map) = elem.as_object() else {
        return PrincipalMatch::NONE;
    };
    let mut out = PrincipalMatch::NONE;
    for (kind, values) in map {
        for v in strings(values) {
            let m = match kind.as_str() {
                "AWS" => match_aws_principal(&v, p, notes),
                "Service" => match p {
                    Principal::Service(s) if s.eq_ignore_ascii_case(&v) => yes_direct,
                    _ => PrincipalMatch::NONE,
                },
                "CanonicalUser" if !matches!(p, Principal::Service(_)) => {
                    notes.push(format!(
                        "CanonicalUser {v:?} may be the principal's account; canonical ids are not known"
                    ));
                    PrincipalMatch {
                        direct: Tri::No,
                        account: Tri::Unknown,
                    }
                }
                _ => PrincipalMatch::NONE,
            };
            out = out.or(m);
        }
    }
    out
}

fn match_aws_principal(v: &str, p: &Principal, notes: &mut Vec<String>) -> PrincipalMatch {
    let direct = |t| PrincipalMatch {
        direct: t,
        account: Tri::No,
    };
    let account = |t| PrincipalMatch {
        direct: Tri::No,
        account: t,
    };
    if v == "*" {
        return direct(Tri::Yes);
    }
    let Some(p_account) = p.account() else {
        return PrincipalMatch::NONE;
    };
    if is_account_id(v) {
        return account(Tri::from_bool(v == p_account));
    }
    if let Principal::Role {
        unique_id: Some(id),
        ..
    } = p
    {
        if id == v {
            return direct(Tri::Yes);
        }
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return PrincipalMatch::NONE;
    }
    match (parts[2], parts[5]) {
        ("iam", "root") => account(Tri::from_bool(parts[4] == p_account)),
        ("sts", res) if res.starts_with("assumed-role/") => {
            let name = res.split('/').nth(1).unwrap_or_default();
            match p {
                Principal::Role {
                    role_arn, account, ..
                } if account == parts[4] && role_name(role_arn) == name => {
                    notes.push(format!(
                        "principal {v:?} is one session of the role; the session S3 uses is not known"
                    ));
                    direct(Tri::Unknown)
                }
                _ => PrincipalMatch::NONE,
            }
        }
        _ => direct(Tri::from_bool(p.arn() == Some(v))),
    }
}

/// `NotPrincipal`: the statement applies to every principal except those listed ("AWS JSON
/// policy elements: NotPrincipal"). For a role session AWS compares the session ARN, the role
/// ARN and the account; the session ARN is not known, so listing the role or its account makes
/// the match unknown. Listing none of them, the statement applies.
pub fn match_not_principal(elem: &Value, p: &Principal, notes: &mut Vec<String>) -> PrincipalMatch {
    let everyone = elem.as_str() == Some("*")
        || elem
            .get("AWS")
            .is_some_and(|a| strings(a).iter().any(|s| s == "*"));
    if everyone {
        return PrincipalMatch::NONE;
    }
    let mut scratch = Vec::new();
    let m = match_principal(elem, p, &mut scratch);
    let listed = m.direct.or(m.account);
    let applies = match (listed, p) {
        (Tri::No, _) => Tri::Yes,
        (Tri::Yes, Principal::Service(_)) => Tri::No,
        _ => {
            notes.push(
                "NotPrincipal lists this role or its account; whether the role session is excluded depends on its session ARN, which is not known"
                    .to_owned(),
            );
            Tri::Unknown
        }
    };
    PrincipalMatch {
        direct: applies,
        account: Tri::No,
    }
}

/// Things in a document that IAM, S3 or KMS would not evaluate as their author meant: an action
/// that is not `service:Name`, a resource that is not `*` or a six-field ARN, a principal shown
/// as a unique id (deleted), empty lists. Used to explain failures.
pub fn lint(doc: &Value, name: &str) -> Vec<String> {
    lint_where(doc, name, |_| true)
}

/// [`lint`], only for the statements `relevant` accepts.
pub fn lint_where(doc: &Value, name: &str, relevant: impl Fn(&Value) -> bool) -> Vec<String> {
    statements(doc)
        .iter()
        .enumerate()
        .filter(|(_, stmt)| relevant(stmt))
        .flat_map(|(i, stmt)| lint_statement(stmt, &statement_label(name, i, stmt)))
        .collect()
}

/// Whether a statement has an empty `Action`, `Resource` or `Principal` list or identifier:
/// it could have been meant for anything.
pub fn has_empty_lists(stmt: &Value) -> bool {
    let empty = |v: &Value| {
        let list = strings(v);
        list.is_empty() || list.iter().any(String::is_empty)
    };
    ["Action", "NotAction", "Resource", "NotResource"]
        .iter()
        .any(|k| stmt.get(*k).is_some_and(empty))
        || matches!(stmt.get("Principal"), Some(Value::Object(m)) if m.values().any(empty))
}

fn lint_statement(stmt: &Value, label: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["Action", "NotAction"] {
        if let Some(a) = stmt.get(key) {
            let list = strings(a);
            if list.is_empty() {
                out.push(format!("{label}: {key} is empty"));
            }
            for a in list {
                let ok = a == "*"
                    || a.split_once(':').is_some_and(|(svc, op)| {
                        !svc.is_empty()
                            && svc
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                            && !op.is_empty()
                            && op
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
                    });
                if !ok {
                    out.push(format!(
                        "{label}: action {a:?} is not of the form service:Action and matches nothing"
                    ));
                }
            }
        }
    }
    for key in ["Resource", "NotResource"] {
        if let Some(r) = stmt.get(key) {
            let list = strings(r);
            if list.is_empty() {
                out.push(format!("{label}: {key} is empty"));
            }
            for r in list {
                let six = r.splitn(6, ':').count() == 6 && r.starts_with("arn:");
                if r != "*" && !six {
                    out.push(format!(
                        "{label}: resource {r:?} is not an ARN (arn:partition:service:region:account:resource)"
                    ));
                } else if r.contains('<') || r.contains('>') {
                    out.push(format!("{label}: resource {r:?} contains a placeholder"));
                }
            }
        }
    }
    if let Some(Value::Object(map)) = stmt.get("Principal") {
        for (kind, values) in map {
            let list = strings(values);
            if list.is_empty() || list.iter().any(String::is_empty) {
                out.push(format!("{label}: Principal {kind} has an empty identifier"));
            }
            for v in list {
                if kind == "AWS" && is_unique_id(&v) {
                    out.push(format!(
                        "{label}: principal {v:?} is a unique id: the principal it named was deleted, and a role re-created with the same name is not it"
                    ));
                }
            }
        }
    }
    out
}
