//! Which canary objects prove that a replication configuration replicates, and what their
//! replicas must look like: pure, so it can be printed and unit-tested.
//!
//! One canary per rule not already covered by an earlier canary: its key is under the rule's
//! prefix and it carries the rule's filter tags, so S3 must replicate it to that rule's
//! destination (and to every other destination whose filter it also matches).

use crate::aws::ObjectVersion;
use crate::plan::{Filter, ReplicationConfig};

/// Folder (after any rule prefix) every canary key is under; the provider's IAM policies allow
/// object writes and deletes only there.
pub const FOLDER: &str = ".s3-replication-canary/";
/// Tag every canary carries (value: the request that wrote it), when the object has room.
pub const TAG: &str = "s3-replication:canary";
/// S3's limit on tags per object.
const MAX_OBJECT_TAGS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    pub key: String,
    pub tags: Vec<(String, String)>,
    /// Indexes of the rules (= destinations) S3 must replicate this object through: every
    /// matching rule, only the highest-priority one per destination bucket.
    pub reaches: Vec<usize>,
}

/// The canaries for `config`; `token` (letters, digits, `-`) makes their keys unique.
pub fn canaries(config: &ReplicationConfig, token: &str) -> Vec<Canary> {
    let mut out: Vec<Canary> = Vec::new();
    for (i, rule) in config.rules.iter().enumerate() {
        if out.iter().any(|c| c.reaches.contains(&i)) {
            continue;
        }
        let (prefix, mut tags) = parts(&rule.filter);
        if tags.len() < MAX_OBJECT_TAGS {
            tags.push((TAG.to_owned(), token.to_owned()));
        }
        let key = format!("{prefix}{FOLDER}{token}-{}", out.len() + 1);
        let reaches = reached(config, &key, &tags);
        out.push(Canary { key, tags, reaches });
    }
    out
}

/// A request id turned into a key-safe token.
pub fn token(request_id: &str) -> String {
    let t: String = request_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    if t.is_empty() {
        "canary".to_owned()
    } else {
        t
    }
}

fn parts(filter: &Filter) -> (String, Vec<(String, String)>) {
    match filter {
        Filter::All => (String::new(), Vec::new()),
        Filter::Prefix(p) => (p.clone(), Vec::new()),
        Filter::Tag(k, v) => (String::new(), vec![(k.clone(), v.clone())]),
        Filter::And { prefix, tags } => (prefix.clone().unwrap_or_default(), tags.clone()),
    }
}

/// Whether S3 selects an object with this key and these tags by `filter`.
pub fn selects(filter: &Filter, key: &str, tags: &[(String, String)]) -> bool {
    let (prefix, wanted) = parts(filter);
    key.starts_with(&prefix) && wanted.iter().all(|w| tags.contains(w))
}

fn reached(config: &ReplicationConfig, key: &str, tags: &[(String, String)]) -> Vec<usize> {
    let matching: Vec<usize> = (0..config.rules.len())
        .filter(|&i| selects(&config.rules[i].filter, key, tags))
        .collect();
    matching
        .iter()
        .copied()
        .filter(|&i| {
            let r = &config.rules[i];
            // S3 replicates once per destination bucket, by the highest-priority rule.
            !matching.iter().any(|&j| {
                let o = &config.rules[j];
                j != i
                    && o.destination.bucket == r.destination.bucket
                    && (o.priority > r.priority || (o.priority == r.priority && j < i))
            })
        })
        .collect()
}

/// What is wrong with a replica, given the replica key its rule names.
pub fn replica_problem(expected_key: Option<&str>, seen: Option<&ObjectVersion>) -> Option<String> {
    let Some(seen) = seen else {
        return Some("the replica is missing".to_owned());
    };
    if seen.replication_status.as_deref() != Some("REPLICA") {
        return Some(format!(
            "the object there is not a replica (replication status {})",
            seen.replication_status.as_deref().unwrap_or("none")
        ));
    }
    let expected = expected_key?;
    match seen.kms_key.as_deref() {
        Some(k) if key_id(k) == key_id(expected) => None,
        Some(k) => Some(format!(
            "the replica is encrypted with {k}, not with the destination key {expected}"
        )),
        None => Some(format!(
            "the replica is not SSE-KMS encrypted with the destination key {expected}"
        )),
    }
}

/// The key id of a key ARN (or the id itself).
fn key_id(key: &str) -> &str {
    key.rsplit_once(":key/").map_or(key, |(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Rule, RuleDestination};

    fn rule(id: &str, priority: i32, filter: Filter, bucket: &str) -> Rule {
        Rule {
            id: id.to_owned(),
            priority,
            filter,
            delete_marker_replication: false,
            sse_kms_encrypted_objects: false,
            replica_modifications: false,
            destination: RuleDestination {
                bucket: format!("arn:aws:s3:::{bucket}"),
                account: None,
                storage_class: "STANDARD".to_owned(),
                owner_override: false,
                replica_kms_key_id: None,
                replication_time_control: false,
                metrics: false,
            },
        }
    }

    fn config(rules: Vec<Rule>) -> ReplicationConfig {
        ReplicationConfig {
            role: "arn:aws:iam::111111111111:role/r".to_owned(),
            rules,
        }
    }

    fn tag(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn one_canary_reaches_every_unfiltered_destination() {
        let c = canaries(
            &config(vec![
                rule("a", 1, Filter::All, "da"),
                rule("b", 2, Filter::All, "db"),
            ]),
            "req-1",
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].key, ".s3-replication-canary/req-1-1");
        assert_eq!(c[0].reaches, vec![0, 1]);
        assert_eq!(c[0].tags, vec![tag(TAG, "req-1")]);
    }

    #[test]
    fn filtered_rules_get_canaries_under_their_prefix_with_their_tags() {
        let c = canaries(
            &config(vec![
                rule("a", 1, Filter::Prefix("logs/".into()), "da"),
                rule("b", 2, Filter::Tag("class".into(), "backup".into()), "db"),
                rule(
                    "c",
                    3,
                    Filter::And {
                        prefix: Some("logs/".into()),
                        tags: vec![tag("k", "v")],
                    },
                    "dc",
                ),
            ]),
            "t",
        );
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].key, "logs/.s3-replication-canary/t-1");
        assert_eq!(
            c[0].reaches,
            vec![0],
            "no tags: rules b and c do not select it"
        );
        assert_eq!(c[1].key, ".s3-replication-canary/t-2");
        assert_eq!(c[1].tags, vec![tag("class", "backup"), tag(TAG, "t")]);
        assert_eq!(c[1].reaches, vec![1]);
        assert_eq!(c[2].key, "logs/.s3-replication-canary/t-3");
        assert_eq!(
            c[2].reaches,
            vec![0, 2],
            "under logs/: rule a selects it too"
        );
    }

    #[test]
    fn a_rule_covered_by_an_earlier_canary_gets_none_of_its_own() {
        let c = canaries(
            &config(vec![
                rule("a", 1, Filter::All, "da"),
                rule("b", 2, Filter::Prefix("".into()), "db"),
            ]),
            "t",
        );
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn one_destination_bucket_is_reached_by_its_highest_priority_rule_only() {
        let c = canaries(
            &config(vec![
                rule("low", 1, Filter::All, "same"),
                rule("high", 5, Filter::All, "same"),
            ]),
            "t",
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].reaches, vec![1]);
    }

    #[test]
    fn the_canary_tag_is_dropped_when_the_filter_uses_every_tag_slot() {
        let tags: Vec<_> = (0..10).map(|i| tag(&format!("k{i}"), "v")).collect();
        let c = canaries(
            &config(vec![rule(
                "a",
                1,
                Filter::And {
                    prefix: None,
                    tags: tags.clone(),
                },
                "d",
            )]),
            "t",
        );
        assert_eq!(c[0].tags, tags);
        assert_eq!(c[0].reaches, vec![0]);
    }

    #[test]
    fn tokens_are_key_safe() {
        assert_eq!(token("a1b2-c3/../x y"), "a1b2-c3xy");
        assert_eq!(token("///"), "canary");
        assert_eq!(token(&"a".repeat(200)).len(), 64);
    }

    #[test]
    fn replicas_are_judged_by_status_and_key() {
        let v = |status: &str, key: Option<&str>| ObjectVersion {
            replication_status: Some(status.to_owned()),
            kms_key: key.map(str::to_owned),
        };
        let dest = "arn:aws:kms:eu-west-1:222222222222:key/abc";
        assert_eq!(
            replica_problem(Some(dest), Some(&v("REPLICA", Some(dest)))),
            None
        );
        assert_eq!(
            replica_problem(Some("abc"), Some(&v("REPLICA", Some(dest)))),
            None
        );
        assert_eq!(replica_problem(None, Some(&v("REPLICA", None))), None);
        assert!(replica_problem(Some(dest), None)
            .unwrap()
            .contains("missing"));
        assert!(replica_problem(None, Some(&v("COMPLETED", None)))
            .unwrap()
            .contains("not a replica"));
        let other = "arn:aws:kms:eu-west-1:222222222222:key/other";
        assert!(
            replica_problem(Some(dest), Some(&v("REPLICA", Some(other))))
                .unwrap()
                .contains("not with the destination key")
        );
        assert!(replica_problem(Some(dest), Some(&v("REPLICA", None)))
            .unwrap()
            .contains("not SSE-KMS"));
    }
}
