//! Whether a policy its owner wrote already grants what one of the provider's statements would.
//!
//! A destination deployed with `ProviderAccess: ReadOnly` (the default) lets the provider write
//! nothing: its owner writes the grants, possibly in other words than the provider's (one
//! statement for every replication role of the organization, objects under
//! `${aws:PrincipalAccount}/`). When the provider may not write its statement, it asks this
//! instead: does the live policy, evaluated as AWS would, allow every request the statement
//! allows? Each request is probed at one object under each resource pattern, with the
//! statement's own condition values as the request's context (the service S3 calls through,
//! the encryption context, the replica key). Pure.

use serde_json::Value;

use super::eval::{evaluate, Context, Decision, PolicyKind, Principal, Request};

/// What the provider knows of the principal its statement names.
pub struct Asker<'a> {
    /// The replication role.
    pub role_arn: &'a str,
    /// Its organization: `Some(Some(id))` a member, `Some(None)` in none, `None` unknown.
    pub organization: Option<Option<&'a str>>,
    /// What a statement's `"Resource": "*"` stands for (the key of a key policy).
    pub star: &'a str,
}

/// `Ok` when `policy` allows every request `statement` grants to `asker`; else the first request
/// it does not (or cannot be shown to) allow.
pub fn covers(policy: &Value, statement: &Value, asker: &Asker<'_>) -> Result<(), String> {
    let actions = strings(statement.get("Action"));
    let resources: Vec<String> = strings(statement.get("Resource"))
        .into_iter()
        .map(|r| {
            if r == "*" {
                asker.star.to_owned()
            } else {
                probe(&r)
            }
        })
        .collect();
    if actions.is_empty() || resources.is_empty() {
        return Err("the statement names no action or resource".to_owned());
    }
    for context in contexts(statement, asker) {
        for action in &actions {
            for resource in &resources {
                let req = Request::new(
                    Principal::role(asker.role_arn),
                    action,
                    resource,
                    context.clone(),
                );
                let e = evaluate(policy, "policy", PolicyKind::Resource, &req);
                if e.decision() != Decision::Allow {
                    return Err(format!("{action} on {resource}: {:?}", e.decision()));
                }
            }
        }
    }
    Ok(())
}

/// One object under a resource pattern: its wildcards filled in, IAM's literal forms undone.
fn probe(pattern: &str) -> String {
    pattern
        .replace("${*}", "\u{1}")
        .replace("${?}", "\u{2}")
        .replace("${$}", "$")
        .replace('*', "s3-replication-probe")
        .replace('?', "p")
        .replace('\u{1}', "*")
        .replace('\u{2}', "?")
}

/// The request contexts the statement's conditions describe: the principal's facts, and each
/// combination of the values its own conditions name.
fn contexts(statement: &Value, asker: &Asker<'_>) -> Vec<Context> {
    let account = asker.role_arn.split(':').nth(4).unwrap_or_default();
    let mut base = Context::closed()
        .with("aws:PrincipalArn", asker.role_arn)
        .with("aws:PrincipalAccount", account)
        .with("aws:PrincipalType", "AssumedRole")
        .with("aws:SecureTransport", "true");
    base = match asker.organization {
        Some(Some(org)) => base.with("aws:PrincipalOrgID", org),
        Some(None) => base.without("aws:PrincipalOrgID"),
        None => base.with_unknown_value("aws:PrincipalOrgID"),
    };
    let mut out = vec![base];
    let blocks = statement.get("Condition").and_then(Value::as_object);
    for block in blocks.into_iter().flat_map(|b| b.values()) {
        for (key, values) in block.as_object().into_iter().flatten() {
            let values: Vec<String> = strings(Some(values)).iter().map(|v| probe(v)).collect();
            out = out
                .iter()
                .flat_map(|c| values.iter().map(move |v| c.clone().with(key, v.as_str())))
                .collect();
        }
    }
    out
}

/// [`super::matching::strings`] of a member that may be absent.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.map(super::matching::strings).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROLE: &str = "arn:aws:iam::111111111111:role/s3-replication/s3-replication-data";

    fn ours() -> Value {
        json!({"Sid": "S3Replicationx", "Effect": "Allow", "Principal": {"AWS": ROLE},
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": "arn:aws:s3:::backup/111111111111/*",
            "Condition": {"StringEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-central-1:222222222222:key/k"}}})
    }

    fn asker(org: Option<&str>) -> Asker<'_> {
        Asker {
            role_arn: ROLE,
            organization: Some(org),
            star: "*",
        }
    }

    /// The organization example's owner-written statement: every replication role of the
    /// organization, below its own account id.
    fn organization_policy() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "AllowOrganizationReplicasUnderOwnAccountPrefix",
            "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
            "Resource": "arn:aws:s3:::backup/${aws:PrincipalAccount}/*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"},
                "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/s3-replication/*"}}}]})
    }

    #[test]
    fn an_owner_statement_in_other_words_covers_ours() {
        assert_eq!(
            covers(
                &organization_policy(),
                &ours(),
                &asker(Some("o-aaaaaaaaaa"))
            ),
            Ok(())
        );
        // Our exact statement covers itself.
        let exact = json!({"Version": "2012-10-17", "Statement": [ours()]});
        assert_eq!(covers(&exact, &ours(), &asker(None)), Ok(()));
    }

    #[test]
    fn what_does_not_grant_it_all_does_not_cover() {
        // Another organization; another account's prefix; no org known; a missing action.
        assert!(covers(
            &organization_policy(),
            &ours(),
            &asker(Some("o-bbbbbbbbbb"))
        )
        .is_err());
        assert!(covers(
            &organization_policy(),
            &ours(),
            &Asker {
                organization: None,
                ..asker(None)
            }
        )
        .is_err());
        let mut elsewhere = ours();
        elsewhere["Resource"] = json!("arn:aws:s3:::backup/333333333333/*");
        assert!(covers(
            &organization_policy(),
            &elsewhere,
            &asker(Some("o-aaaaaaaaaa"))
        )
        .is_err());
        let mut deletes = ours();
        deletes["Action"] = json!(["s3:ReplicateObject", "s3:ReplicateDelete"]);
        assert!(covers(
            &organization_policy(),
            &deletes,
            &asker(Some("o-aaaaaaaaaa"))
        )
        .is_err());
        let empty = json!({"Version": "2012-10-17", "Statement": []});
        assert!(covers(&empty, &ours(), &asker(Some("o-aaaaaaaaaa"))).is_err());
    }
}
