//! One source, one key space: whether a source's grant on a destination bucket reaches objects
//! another source's grant reaches too.
//!
//! S3 replication keeps object keys, so two sources replicating the same key into one bucket
//! overwrite each other's current version (and, with delete-marker replication, hide it). The
//! provider therefore refuses to add a bucket statement whose objects overlap another source's
//! statement (any statement in the provider's `Sid` namespace that some other owner's claim
//! holds), unless the bucket's owner allows sharing (tag [`SHARED_KEY_SPACE_TAG`], which no
//! provider role may set).

use serde_json::Value;

use super::identity::{StatementId, SID_PREFIX};
use super::policy_doc::PolicyDocument;

/// The bucket tag by which a destination's owner lets several sources write into the same
/// objects (`true`).
pub const SHARED_KEY_SPACE_TAG: &str = "s3-replication:shared-key-space";

/// The actions by which replication writes into a destination's objects.
const WRITES: [&str; 2] = ["s3:ReplicateObject", "s3:ReplicateDelete"];

/// Another source's statement whose object writes reach objects ours grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub sid: String,
    /// Its principal, when it names one AWS principal (a replication role).
    pub principal: Option<String>,
    /// The resource pattern that overlaps.
    pub pattern: String,
}

impl std::fmt::Display for Overlap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = self.principal.as_deref().unwrap_or("several principals");
        write!(f, "{} ({who}: {})", self.sid, self.pattern)
    }
}

/// Other sources' statements in `doc` whose object writes reach objects `entry` grants, but
/// those whose principal is one of `tolerated` (the same resource's roles for another source:
/// a replacement, while CloudFormation has not yet deleted the old resource).
pub fn overlapping(
    doc: &PolicyDocument,
    ours: &StatementId,
    entry: &Value,
    tolerated: &[String],
) -> Vec<Overlap> {
    let mine = resources(entry);
    let mut found = Vec::new();
    for statement in doc.statements() {
        let Some(sid) = statement.get("Sid").and_then(Value::as_str) else {
            continue;
        };
        let others = sid.starts_with(SID_PREFIX)
            && !ours.sids().any(|s| s == sid)
            && !ours.claim.owns(&statement)
            && statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && writes(&statement);
        if !others {
            continue;
        }
        let theirs = if statement.get("NotResource").is_some() {
            vec!["*".to_owned()]
        } else {
            resources(&statement)
        };
        let principal = statement
            .get("Principal")
            .and_then(|p| p.get("AWS"))
            .and_then(|p| match p {
                Value::String(s) => Some(s.clone()),
                Value::Array(a) if a.len() == 1 => a[0].as_str().map(str::to_owned),
                _ => None,
            });
        if principal.as_ref().is_some_and(|p| tolerated.contains(p)) {
            continue;
        }
        if let Some(pattern) = theirs
            .iter()
            .find(|t| mine.iter().any(|m| intersect(m, t, false)))
        {
            found.push(Overlap {
                sid: sid.to_owned(),
                principal,
                pattern: pattern.clone(),
            });
        }
    }
    found
}

/// Whether a statement's actions include a replication write.
fn writes(statement: &Value) -> bool {
    strings(statement.get("Action"))
        .iter()
        .any(|a| WRITES.iter().any(|w| intersect(a, w, true)))
}

fn resources(statement: &Value) -> Vec<String> {
    strings(statement.get("Resource"))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// One element of an IAM wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Many,
}

/// The pattern's elements: `*` and `?` are wildcards, `${*}`, `${?}` and `${$}` their literal
/// forms, and any other policy variable (`${aws:PrincipalAccount}`) may be anything, so it is
/// read as `*` (an overlap is assumed rather than missed).
fn tokens(pattern: &str, fold_case: bool) -> Vec<Tok> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '$' if chars.get(i + 1) == Some(&'{') => {
                let end = chars[i..].iter().position(|c| *c == '}').map(|p| i + p);
                match end {
                    Some(end) => {
                        let inner: String = chars[i + 2..end].iter().collect();
                        out.push(match inner.as_str() {
                            "*" | "?" | "$" => Tok::Char(inner.chars().next().unwrap_or('$')),
                            _ => Tok::Many,
                        });
                        i = end + 1;
                        continue;
                    }
                    None => out.push(Tok::Char('$')),
                }
            }
            '*' => out.push(Tok::Many),
            '?' => out.push(Tok::One),
            c if fold_case => out.push(Tok::Char(c.to_ascii_lowercase())),
            c => out.push(Tok::Char(c)),
        }
        i += 1;
    }
    out
}

/// Whether some string matches both IAM wildcard patterns (`fold_case` for action names, which
/// IAM compares without case). A walk over pairs of positions: a `*` on either side may match
/// nothing (step past it) or absorb the other side's next character.
pub fn intersect(a: &str, b: &str, fold_case: bool) -> bool {
    let (a, b) = (tokens(a, fold_case), tokens(b, fold_case));
    let (n, m) = (a.len(), b.len());
    let mut seen = vec![false; (n + 1) * (m + 1)];
    let mut todo = vec![(0usize, 0usize)];
    while let Some((i, j)) = todo.pop() {
        if std::mem::replace(&mut seen[i * (m + 1) + j], true) {
            continue;
        }
        if i == n && j == m {
            return true;
        }
        let (x, y) = (a.get(i).copied(), b.get(j).copied());
        if x == Some(Tok::Many) {
            todo.push((i + 1, j));
            if y.is_some_and(|y| y != Tok::Many) {
                todo.push((i, j + 1));
            }
        }
        if y == Some(Tok::Many) {
            todo.push((i, j + 1));
            if x.is_some_and(|x| x != Tok::Many) {
                todo.push((i + 1, j));
            }
        }
        if let (Some(x), Some(y)) = (x, y) {
            let one = match (x, y) {
                (Tok::Char(p), Tok::Char(q)) => p == q,
                (Tok::Many, _) | (_, Tok::Many) => false,
                _ => true,
            };
            if one {
                todo.push((i + 1, j + 1));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::identity::Claim;
    use serde_json::json;

    const B: &str = "arn:aws:s3:::backup";

    #[test]
    fn wildcard_patterns_intersect_when_some_key_matches_both() {
        for (a, b) in [
            ("b/logs/*", "b/*"),
            ("b/logs/*", "b/lo*"),
            ("b/a*", "b/*z"),
            ("b/?x*", "b/y?*"),
            ("b/1/*", "b/${aws:PrincipalAccount}/*"),
            ("b/x${*}*", "b/x**"),
        ] {
            assert!(intersect(a, b, false), "{a} ∩ {b}");
            assert!(intersect(b, a, false), "{b} ∩ {a}");
        }
        for (a, b) in [
            ("b/logs/*", "b/data/*"),
            ("b/111/*", "b/222/*"),
            ("b/a?", "b/abc"),
            ("b/x${*}*", "b/xy*"),
            ("c/*", "b/*"),
        ] {
            assert!(!intersect(a, b, false), "{a} ∩ {b}");
            assert!(!intersect(b, a, false), "{b} ∩ {a}");
        }
        assert!(intersect("S3:Replicate*", "s3:ReplicateObject", true));
        assert!(!intersect("s3:GetObject", "s3:ReplicateObject", true));
    }

    fn statement(sid: &str, role: &str, resource: &str) -> Value {
        json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": role},
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags"], "Resource": resource})
    }

    fn ours() -> StatementId {
        StatementId {
            sid: "S3ReplicationMine".into(),
            legacy: vec![],
            claim: Claim::Roles(vec!["arn:aws:iam::1:role/s3-replication/mine".into()]),
        }
    }

    #[test]
    fn another_sources_statement_on_the_same_objects_overlaps() {
        let theirs = statement(
            "S3ReplicationTheirs",
            "arn:aws:iam::2:role/s3-replication/theirs",
            &format!("{B}/*"),
        );
        let doc = PolicyDocument::parse(
            &json!({"Version": "2012-10-17", "Statement": [theirs]}).to_string(),
        )
        .unwrap();
        let mine = statement(
            "S3ReplicationMine",
            "arn:aws:iam::1:role/s3-replication/mine",
            &format!("{B}/logs/*"),
        );
        let found = overlapping(&doc, &ours(), &mine, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].sid, "S3ReplicationTheirs");
        let theirs = "arn:aws:iam::2:role/s3-replication/theirs".to_owned();
        assert_eq!(found[0].principal.as_ref(), Some(&theirs));
        assert!(overlapping(&doc, &ours(), &mine, &[theirs]).is_empty());
    }

    #[test]
    fn disjoint_prefixes_our_own_statement_and_the_owners_grants_do_not() {
        let doc = PolicyDocument::parse(
            &json!({"Version": "2012-10-17", "Statement": [
                statement("S3ReplicationTheirs", "arn:aws:iam::2:role/s3-replication/theirs", &format!("{B}/2/*")),
                statement("S3ReplicationMine", "arn:aws:iam::1:role/s3-replication/mine", &format!("{B}/*")),
                statement("OwnersOwnGrant", "arn:aws:iam::3:role/anything", &format!("{B}/*")),
                {"Sid": "S3ReplicationReads", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:root"}, "Action": "s3:GetObject", "Resource": format!("{B}/*")},
                {"Sid": "S3ReplicationDeny", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": format!("{B}/*")}
            ]})
            .to_string(),
        )
        .unwrap();
        let mine = statement(
            "S3ReplicationMine",
            "arn:aws:iam::1:role/s3-replication/mine",
            &format!("{B}/1/*"),
        );
        assert_eq!(overlapping(&doc, &ours(), &mine, &[]), Vec::new());
    }
}
