//! Combining documents: same account, cross account, KMS key policies, trust policies.

use serde_json::{json, Value};

use crate::doctor::decide::{kms_access, resource_access, trust, Document, Side};
use crate::doctor::eval::*;

const A: &str = "111111111111";
const B: &str = "222222222222";
const ROLE: &str = "arn:aws:iam::111111111111:role/repl";
const OBJ: &str = "arn:aws:s3:::dst/k";
const KEY_A: &str = "arn:aws:kms:eu-west-1:111111111111:key/a";
const KEY_B: &str = "arn:aws:kms:us-west-2:222222222222:key/b";

fn req(action: &str, resource: &str) -> Request {
    Request::new(
        Principal::role(ROLE),
        action,
        resource,
        Context::closed()
            .with("aws:PrincipalArn", ROLE)
            .with("aws:PrincipalAccount", A)
            .with("kms:CallerAccount", A)
            .with("kms:ViaService", "s3.us-west-2.amazonaws.com"),
    )
}

fn identity_allowing(action: &str, resource: &str) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

fn resource_allowing(principal: Value, action: &str, resource: &str) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}]})
}

fn nothing() -> Value {
    json!({"Statement": []})
}

#[test]
fn same_account_either_policy_suffices() {
    let r = req("s3:ReplicateObject", OBJ);
    let id = identity_allowing("s3:ReplicateObject", "arn:aws:s3:::dst/*");
    let bp = resource_allowing(
        json!({"AWS": ROLE}),
        "s3:ReplicateObject",
        "arn:aws:s3:::dst/*",
    );
    let empty = nothing();
    let d = |i: &Value, b: Option<&Value>| {
        resource_access(
            &r,
            &[Document::new("role", i)],
            b.map(|b| Document::new("bucket", b)),
            A,
        )
    };
    assert_eq!(d(&id, None).decision, Decision::Allow);
    assert_eq!(d(&empty, Some(&bp)).decision, Decision::Allow);
    assert_eq!(d(&id, Some(&bp)).decision, Decision::Allow);
    let none = d(&empty, None);
    assert_eq!(none.decision, Decision::ImplicitDeny);
    assert_eq!(none.missing, vec![Side::Identity]);
    // Naming the account delegates to identity policies, even in the same account.
    let root = resource_allowing(
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
        "s3:ReplicateObject",
        "*",
    );
    assert_eq!(d(&empty, Some(&root)).decision, Decision::ImplicitDeny);
    assert_eq!(d(&id, Some(&root)).decision, Decision::Allow);
    // An explicit deny in either wins.
    let deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]});
    assert_eq!(d(&id, Some(&deny)).decision, Decision::ExplicitDeny);
}

#[test]
fn cross_account_needs_both_policies() {
    let r = req("s3:ReplicateObject", OBJ);
    let id = identity_allowing("s3:ReplicateObject", "arn:aws:s3:::dst/*");
    let empty = nothing();
    let by_role = resource_allowing(
        json!({"AWS": ROLE}),
        "s3:ReplicateObject",
        "arn:aws:s3:::dst/*",
    );
    let by_account = resource_allowing(
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
        "s3:Replicate*",
        "arn:aws:s3:::dst/*",
    );
    let by_account_id = resource_allowing(
        json!({"AWS": A}),
        "s3:ReplicateObject",
        "arn:aws:s3:::dst/*",
    );
    let other_account = resource_allowing(
        json!({"AWS": "arn:aws:iam::333333333333:root"}),
        "s3:ReplicateObject",
        "*",
    );
    let d = |i: &Value, b: &Value| {
        resource_access(
            &r,
            &[Document::new("role", i)],
            Some(Document::new("bucket", b)),
            B,
        )
    };
    assert_eq!(d(&id, &by_role).decision, Decision::Allow);
    assert_eq!(d(&id, &by_account).decision, Decision::Allow);
    assert_eq!(d(&id, &by_account_id).decision, Decision::Allow);
    let v = d(&empty, &by_role);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Identity])
    );
    let v = d(&empty, &by_account);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Identity]),
        "seed 002's bucket policy alone"
    );
    let v = d(&id, &other_account);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Resource])
    );
    let v = resource_access(&r, &[Document::new("role", &id)], None, B);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Resource])
    );
    let v = d(&empty, &empty);
    assert_eq!(v.missing, vec![Side::Identity, Side::Resource]);
}

#[test]
fn identity_policies_combine_and_any_deny_wins() {
    let r = req("s3:ReplicateObject", OBJ);
    let a = identity_allowing("s3:ReplicateObject", "arn:aws:s3:::dst/*");
    let b = json!({"Statement": {"Effect": "Deny", "Action": "s3:Replicate*", "Resource": "*"}});
    let bp = resource_allowing(json!({"AWS": ROLE}), "s3:ReplicateObject", "*");
    let v = resource_access(
        &r,
        &[Document::new("inline", &a), Document::new("managed", &b)],
        Some(Document::new("bucket", &bp)),
        B,
    );
    assert_eq!(v.decision, Decision::ExplicitDeny);
    assert_eq!(v.denied_by(), vec!["managed statement #1".to_owned()]);
}

fn default_key_policy(account: &str) -> Value {
    json!({"Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"}]})
}

#[test]
fn kms_same_account_needs_the_key_policy() {
    let r = req("kms:Decrypt", KEY_A);
    let id = identity_allowing("kms:Decrypt", KEY_A);
    let empty = nothing();
    let root = default_key_policy(A);
    let names_role = resource_allowing(json!({"AWS": ROLE}), "kms:Decrypt", "*");
    let only_admin = resource_allowing(
        json!({"AWS": "arn:aws:iam::111111111111:role/admin"}),
        "kms:*",
        "*",
    );
    let d = |i: &Value, k: &Value| {
        kms_access(&r, &[Document::new("role", i)], Document::new("key", k), A)
    };
    // Delegation to the account: the identity policy decides.
    assert_eq!(d(&id, &root).decision, Decision::Allow);
    let v = d(&empty, &root);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Identity])
    );
    // Naming the role: the key policy alone suffices.
    assert_eq!(d(&empty, &names_role).decision, Decision::Allow);
    // Without the key policy, an identity policy grants nothing.
    let v = d(&id, &only_admin);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Resource])
    );
}

#[test]
fn kms_cross_account_needs_key_policy_and_identity_policy() {
    let r = req("kms:Encrypt", KEY_B);
    let id = identity_allowing("kms:Encrypt", KEY_B);
    let empty = nothing();
    let names_role = resource_allowing(json!({"AWS": ROLE}), "kms:Encrypt", "*");
    let names_caller_account = resource_allowing(
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
        "kms:Encrypt",
        "*",
    );
    let own_root = default_key_policy(B);
    let d = |i: &Value, k: &Value| {
        kms_access(&r, &[Document::new("role", i)], Document::new("key", k), B)
    };
    assert_eq!(d(&id, &names_role).decision, Decision::Allow);
    assert_eq!(d(&id, &names_caller_account).decision, Decision::Allow);
    let v = d(&empty, &names_role);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Identity])
    );
    // The key account's own root statement delegates to the key account's IAM, not the caller's.
    let v = d(&id, &own_root);
    assert_eq!(
        (v.decision, v.missing),
        (Decision::ImplicitDeny, vec![Side::Resource])
    );
    // Principal "*" narrowed by conditions counts as naming the principal.
    let star = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": A, "kms:ViaService": "s3.us-west-2.amazonaws.com"}}}]});
    assert_eq!(d(&id, &star).decision, Decision::Allow);
    let wrong_via = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}]});
    assert_eq!(d(&id, &wrong_via).decision, Decision::ImplicitDeny);
    // A deny in the key policy wins over both allows.
    let deny = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringNotEquals": {"kms:CallerAccount": B}}}
    ]});
    assert_eq!(d(&id, &deny).decision, Decision::ExplicitDeny);
}

#[test]
fn trust_policy_for_the_s3_service() {
    let trust_doc = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": A, "aws:SourceArn": "arn:aws:s3:::src"}}}]});
    let r = |account: &str, arn: &str| {
        Request::new(
            Principal::service("s3.amazonaws.com"),
            "sts:AssumeRole",
            ROLE,
            Context::closed()
                .with("aws:SourceAccount", account)
                .with("aws:SourceArn", arn),
        )
    };
    let doc = Document::new("trust", &trust_doc);
    assert_eq!(
        trust(&r(A, "arn:aws:s3:::src"), doc).decision,
        Decision::Allow
    );
    assert_eq!(
        trust(&r(B, "arn:aws:s3:::src"), doc).decision,
        Decision::ImplicitDeny
    );
    assert_eq!(
        trust(&r(A, "arn:aws:s3:::other"), doc).decision,
        Decision::ImplicitDeny
    );
    // Another service, or an AWS principal, is not trusted.
    let ec2 = Request::new(
        Principal::service("ec2.amazonaws.com"),
        "sts:AssumeRole",
        ROLE,
        Context::closed(),
    );
    assert_eq!(trust(&ec2, doc).decision, Decision::ImplicitDeny);
    let v = trust(&ec2, doc);
    assert_eq!(v.missing, vec![Side::Resource]);
}
