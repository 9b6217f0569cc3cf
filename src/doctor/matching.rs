//! Matching the elements of a statement against a request: actions, resources and ARNs (IAM's
//! wildcards), and `Principal`/`NotPrincipal` (accounts, roles, services, unique ids), each in
//! three-valued logic.

use serde_json::Value;

use super::request::{Principal, Tri};

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
    pub(super) const NONE: PrincipalMatch = PrincipalMatch {
        direct: Tri::No,
        account: Tri::No,
    };

    /// The principal itself is (`Yes`), may be (`Unknown`) or is not (`No`) the one named.
    pub const fn direct(t: Tri) -> PrincipalMatch {
        PrincipalMatch {
            direct: t,
            account: Tri::No,
        }
    }

    /// The principal's account is, may be or is not the one named.
    pub const fn account(t: Tri) -> PrincipalMatch {
        PrincipalMatch {
            direct: Tri::No,
            account: t,
        }
    }

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
    let yes_direct = PrincipalMatch::direct(Tri::Yes);
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
                    PrincipalMatch::account(Tri::Unknown)
                }
                _ => PrincipalMatch::NONE,
            };
            out = out.or(m);
        }
    }
    out
}

fn match_aws_principal(v: &str, p: &Principal, notes: &mut Vec<String>) -> PrincipalMatch {
    let direct = PrincipalMatch::direct;
    let account = PrincipalMatch::account;
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
    PrincipalMatch::direct(applies)
}
