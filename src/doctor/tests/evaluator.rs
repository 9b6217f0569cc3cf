//! The evaluator: elements, wildcards, principals, every condition operator and the
//! missing-key rules.

use serde_json::{json, Value};

use crate::doctor::condition::{self, BaseOp, Operator, SetOp};
use crate::doctor::eval::*;

const ROLE: &str = "arn:aws:iam::111111111111:role/s3-replication/repl";
const OBJ: &str = "arn:aws:s3:::dst-bucket/logs/a.txt";

fn role() -> Principal {
    Principal::role(ROLE)
}

fn req(action: &str, resource: &str) -> Request {
    Request::new(role(), action, resource, Context::closed())
}

fn identity(doc: &Value, r: &Request) -> Evaluation {
    evaluate(doc, "test", PolicyKind::Identity, r)
}

fn resource_policy(doc: &Value, r: &Request) -> Evaluation {
    evaluate(doc, "test", PolicyKind::Resource, r)
}

fn allow(action: Value, resource: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": action, "Resource": resource}})
}

fn cond(block: Value, ctx: &Context) -> Tri {
    condition::evaluate(&block, ctx, &mut Vec::new())
}

#[test]
fn tri_is_kleene_logic() {
    use Tri::*;
    assert_eq!(Yes.and(Unknown), Unknown);
    assert_eq!(No.and(Unknown), No);
    assert_eq!(Yes.or(Unknown), Yes);
    assert_eq!(No.or(Unknown), Unknown);
    assert_eq!(!Unknown, Unknown);
    assert_eq!(!Yes, No);
    assert_eq!(Tri::any([]), No);
    assert_eq!(Tri::all([]), Yes);
}

#[test]
fn glob_wildcards() {
    assert!(glob("a*c", "abbbc", false));
    assert!(glob("a*c", "ac", false));
    assert!(glob("a?c", "abc", false));
    assert!(!glob("a?c", "ac", false));
    assert!(glob("*", "", false));
    assert!(glob("**a", "xa", false));
    assert!(glob("a*b*c", "a-b-b-c", false));
    assert!(!glob("a*b*c", "a-b-b-d", false));
    assert!(
        glob("a*", "a*", false),
        "a literal * in text is matched by a wildcard"
    );
    assert!(!glob("ABC", "abc", false));
    assert!(glob("ABC", "abc", true));
}

#[test]
fn actions_match_case_insensitively_with_wildcards() {
    let r = req("s3:GetObjectVersionForReplication", OBJ);
    for pattern in [
        "s3:GetObjectVersionForReplication",
        "S3:getobjectversionforreplication",
        "s3:Get*",
        "s3:GetObjectVersion?orReplication",
        "*",
        "s3:*",
    ] {
        assert_eq!(
            identity(&allow(json!(pattern), json!("*")), &r).decision(),
            Decision::Allow,
            "{pattern}"
        );
    }
    for pattern in [
        "s3>GetObjectVersionForReplication",
        "s3:GetObjectVersion",
        "kms:*",
        "s3:Put*",
        "",
    ] {
        assert_eq!(
            identity(&allow(json!(pattern), json!("*")), &r).decision(),
            Decision::ImplicitDeny,
            "{pattern}"
        );
    }
    // A list matches when any member does.
    assert_eq!(
        identity(
            &allow(
                json!(["s3>ListBucket", "s3:GetObjectVersionFor*"]),
                json!("*")
            ),
            &r
        )
        .decision(),
        Decision::Allow
    );
    assert_eq!(
        identity(&allow(json!([]), json!("*")), &r).decision(),
        Decision::ImplicitDeny
    );
}

#[test]
fn resources_match_case_sensitively_field_by_field() {
    let r = req("s3:ReplicateObject", OBJ);
    for pattern in [
        "arn:aws:s3:::dst-bucket/*",
        "arn:aws:s3:::dst-bucket/logs/*",
        "arn:aws:s3:::dst-*/*",
        "arn:aws:s3:::*",
        "*",
        "arn:aws:s3:::dst-bucket/logs/?.txt",
        "arn:*:s3:::dst-bucket/*",
    ] {
        assert_eq!(
            identity(&allow(json!("s3:ReplicateObject"), json!(pattern)), &r).decision(),
            Decision::Allow,
            "{pattern}"
        );
    }
    for pattern in [
        "arn:aws:s3:::DST-BUCKET/*",
        "arn:aws:s3:::dst-bucket",
        "arn:aws:s3::dst-bucket/*", // the seeds' missing colon
        "dst-bucket/*",             // a name where an ARN is needed
        "arn:aws:s3:::other/*",
        "arn:aws:s3:::dst-bucket/images/*",
    ] {
        assert_eq!(
            identity(&allow(json!("s3:ReplicateObject"), json!(pattern)), &r).decision(),
            Decision::ImplicitDeny,
            "{pattern}"
        );
    }
    // Fields are matched separately: a wildcard in the region field does not eat the account.
    let key = "arn:aws:kms:us-west-2:222222222222:key/k";
    let mut notes = Vec::new();
    assert_eq!(
        arn_like("arn:aws:kms:*:222222222222:key/*", key, &mut notes),
        Tri::Yes
    );
    assert_eq!(
        arn_like("arn:aws:kms:*:111111111111:key/*", key, &mut notes),
        Tri::No
    );
    // A truncated pattern a wildcard could still stretch over is not guessed.
    assert_eq!(arn_like("arn:aws:kms:*", key, &mut notes), Tri::Unknown);
}

#[test]
fn not_action_and_not_resource() {
    let doc =
        json!({"Statement": [{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}]});
    assert_eq!(
        identity(&doc, &req("s3:ReplicateObject", OBJ)).decision(),
        Decision::Allow
    );
    assert_eq!(
        identity(&doc, &req("s3:DeleteObject", OBJ)).decision(),
        Decision::ImplicitDeny
    );

    let doc = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}]});
    assert_eq!(
        identity(&doc, &req("s3:ReplicateObject", OBJ)).decision(),
        Decision::Allow
    );
    assert_eq!(
        identity(&doc, &req("s3:ReplicateObject", "arn:aws:s3:::secret/x")).decision(),
        Decision::ImplicitDeny
    );

    // Deny with NotResource: everything but the listed resources is denied.
    let doc = json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::dst-bucket", "arn:aws:s3:::dst-bucket/*"]}
    ]});
    assert_eq!(
        identity(&doc, &req("s3:ReplicateObject", OBJ)).decision(),
        Decision::Allow
    );
    assert_eq!(
        identity(&doc, &req("s3:ReplicateObject", "arn:aws:s3:::x/y")).decision(),
        Decision::ExplicitDeny
    );
}

#[test]
fn statement_may_be_an_object_or_a_list_and_values_strings_or_lists() {
    let r = req("s3:ReplicateObject", OBJ);
    let single = json!({"Statement": {"Effect": "Allow", "Action": "s3:ReplicateObject", "Resource": "arn:aws:s3:::dst-bucket/*"}});
    let listed = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:ReplicateObject"], "Resource": ["arn:aws:s3:::dst-bucket/*"]}]});
    assert_eq!(identity(&single, &r).decision(), Decision::Allow);
    assert_eq!(identity(&listed, &r).decision(), Decision::Allow);
    // As the JSON string IAM's APIs return.
    assert_eq!(
        identity(&Value::String(listed.to_string()), &r).decision(),
        Decision::Allow
    );
    assert_eq!(
        identity(&Value::Null, &r).decision(),
        Decision::ImplicitDeny
    );
    assert_eq!(
        identity(&json!({"Version": "2012-10-17"}), &r).decision(),
        Decision::ImplicitDeny
    );
}

#[test]
fn explicit_deny_beats_allow_and_allow_beats_implicit_deny() {
    let r = req("s3:ReplicateObject", OBJ);
    let doc = json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "NoReplication", "Effect": "Deny", "Action": "s3:Replicate*", "Resource": "arn:aws:s3:::dst-bucket/*"}
    ]});
    let e = identity(&doc, &r);
    assert_eq!(e.decision(), Decision::ExplicitDeny);
    assert_eq!(
        e.denied_by,
        vec!["test statement \"NoReplication\"".to_owned()]
    );
    assert_eq!(
        identity(&doc, &req("s3:GetObject", OBJ)).decision(),
        Decision::Allow
    );
    let e = identity(&json!({"Statement": []}), &r);
    assert_eq!(e.decision(), Decision::ImplicitDeny);
    // An Effect IAM would refuse may deny: never a pass.
    let odd = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "deny", "Action": "*", "Resource": "*"}]});
    assert_eq!(identity(&odd, &r).decision(), Decision::CannotDecide);
}

#[test]
fn undecidable_statements_decide_only_when_they_cannot_matter() {
    let r = Request::new(role(), "s3:ReplicateObject", OBJ, Context::open());
    let allow_all = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
    let deny_ip = json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}});
    let allow_ip = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}});
    let deny_all = json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"});
    let doc = |s: Vec<Value>| json!({"Statement": s});
    // The undecidable deny could turn the allow around.
    let e = identity(&doc(vec![allow_all.clone(), deny_ip.clone()]), &r);
    assert_eq!(e.decision(), Decision::CannotDecide);
    assert!(
        e.undecided.iter().any(|u| u.contains("NotIpAddress")),
        "{:?}",
        e.undecided
    );
    // Without any allow, the request is refused whichever way the deny goes.
    assert_eq!(
        identity(&doc(vec![deny_ip.clone()]), &r).decision(),
        Decision::ImplicitDeny
    );
    // An undecidable allow alone cannot be a pass.
    assert_eq!(
        identity(&doc(vec![allow_ip.clone()]), &r).decision(),
        Decision::CannotDecide
    );
    // A certain deny wins over everything undecidable.
    assert_eq!(
        identity(&doc(vec![allow_ip, deny_ip.clone(), deny_all]), &r).decision(),
        Decision::ExplicitDeny
    );
    // An undecidable statement for another action does not matter.
    let other = json!({"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}});
    assert_eq!(
        identity(&doc(vec![allow_all, other]), &r).decision(),
        Decision::Allow
    );
}

#[test]
fn policy_variables_are_not_guessed() {
    let r = req("s3:ReplicateObject", OBJ);
    let doc = allow(json!("s3:*"), json!("arn:aws:s3:::${aws:username}/*"));
    assert_eq!(identity(&doc, &r).decision(), Decision::CannotDecide);
    let ctx = Context::closed().with("aws:PrincipalArn", ROLE);
    assert_eq!(
        cond(
            json!({"StringEquals": {"aws:PrincipalArn": "${aws:PrincipalArn}"}}),
            &ctx
        ),
        Tri::Unknown
    );
}

#[test]
fn principals() {
    let p = role();
    let m = |elem: Value| match_principal(&elem, &p, &mut Vec::new());
    let direct = PrincipalMatch::direct;
    let account = PrincipalMatch::account;
    assert_eq!(m(json!("*")), direct(Tri::Yes));
    assert_eq!(m(json!({"AWS": "*"})), direct(Tri::Yes));
    assert_eq!(m(json!({"AWS": ROLE})), direct(Tri::Yes));
    assert_eq!(
        m(json!({"AWS": [ "arn:aws:iam::111111111111:role/other", ROLE]})),
        direct(Tri::Yes)
    );
    assert_eq!(
        m(json!({"AWS": "arn:aws:iam::111111111111:role/repl"})),
        direct(Tri::No),
        "the path is part of the ARN"
    );
    assert_eq!(m(json!({"AWS": "111111111111"})), account(Tri::Yes));
    assert_eq!(
        m(json!({"AWS": "arn:aws:iam::111111111111:root"})),
        account(Tri::Yes)
    );
    assert_eq!(
        m(json!({"AWS": "arn:aws:iam::222222222222:root"})),
        account(Tri::No)
    );
    assert_eq!(
        m(json!({"AWS": "arn:aws:sts::111111111111:assumed-role/repl/s3-session"})),
        direct(Tri::Unknown)
    );
    assert_eq!(
        m(json!({"AWS": "arn:aws:sts::111111111111:assumed-role/other/s3-session"})),
        direct(Tri::No)
    );
    assert_eq!(m(json!({"AWS": "AROAEXAMPLEDELETED0001"})), direct(Tri::No));
    assert_eq!(m(json!({"Service": "s3.amazonaws.com"})), direct(Tri::No));
    assert_eq!(m(json!({"AWS": []})), direct(Tri::No));
    let with_id = Principal::Role {
        role_arn: ROLE.into(),
        account: "111111111111".into(),
        unique_id: Some("AROAEXAMPLEDELETED0001".into()),
    };
    assert_eq!(
        match_principal(
            &json!({"AWS": "AROAEXAMPLEDELETED0001"}),
            &with_id,
            &mut Vec::new()
        ),
        direct(Tri::Yes)
    );

    let s3 = Principal::service("s3.amazonaws.com");
    let ms = |elem: Value| match_principal(&elem, &s3, &mut Vec::new());
    assert_eq!(ms(json!({"Service": "s3.amazonaws.com"})), direct(Tri::Yes));
    assert_eq!(
        ms(json!({"Service": ["ec2.amazonaws.com", "s3.amazonaws.com"]})),
        direct(Tri::Yes)
    );
    assert_eq!(ms(json!({"Service": [""]})), direct(Tri::No));
    assert_eq!(
        ms(json!({"AWS": "arn:aws:iam::111111111111:root"})),
        direct(Tri::No)
    );
    assert_eq!(ms(json!("*")), direct(Tri::Yes));
}

#[test]
fn not_principal() {
    let p = role();
    let m = |elem: Value| match_not_principal(&elem, &p, &mut Vec::new()).direct;
    assert_eq!(
        m(json!({"AWS": "arn:aws:iam::222222222222:root"})),
        Tri::Yes,
        "applies to everyone not listed"
    );
    assert_eq!(
        m(json!({"AWS": [ROLE, "arn:aws:iam::111111111111:root"]})),
        Tri::Unknown,
        "the session ARN decides"
    );
    assert_eq!(m(json!("*")), Tri::No);
    let s3 = Principal::service("s3.amazonaws.com");
    assert_eq!(
        match_not_principal(
            &json!({"Service": "s3.amazonaws.com"}),
            &s3,
            &mut Vec::new()
        )
        .direct,
        Tri::No
    );

    // A bucket policy denying everyone but another principal denies the role.
    let doc = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::222222222222:role/admin"}, "Action": "s3:*", "Resource": "*"}
    ]});
    assert_eq!(
        resource_policy(&doc, &req("s3:ReplicateObject", OBJ)).decision(),
        Decision::ExplicitDeny
    );
}

#[test]
fn resource_policy_statements_without_principal_match_nobody() {
    let doc = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    assert_eq!(
        resource_policy(&doc, &req("s3:ReplicateObject", OBJ)).decision(),
        Decision::ImplicitDeny
    );
}

#[test]
fn operator_names_parse() {
    let op = Operator::parse("ForAllValues:StringNotLikeIfExists").unwrap();
    assert_eq!(
        op,
        Operator {
            set: Some(SetOp::ForAllValues),
            base: BaseOp::StringNotLike,
            if_exists: true
        }
    );
    assert_eq!(Operator::parse("BoolIfExists").unwrap().base, BaseOp::Bool);
    for unsupported in [
        "NumericLessThan",
        "DateGreaterThan",
        "IpAddress",
        "NotIpAddress",
        "BinaryEquals",
        "NullIfExists",
        "ForAnyValue:Null",
        "StringMatches",
    ] {
        assert!(Operator::parse(unsupported).is_err(), "{unsupported}");
    }
}

/// `(condition, context, expected)` for every supported operator.
#[test]
fn string_operators() {
    let ctx = Context::closed().with("k", "Value-1");
    let cases = [
        (json!({"StringEquals": {"k": "Value-1"}}), Tri::Yes),
        (json!({"StringEquals": {"k": "value-1"}}), Tri::No),
        (json!({"StringEquals": {"k": ["x", "Value-1"]}}), Tri::Yes), // values ORed
        (json!({"StringEquals": {"k": "Value-*"}}), Tri::No),         // no wildcards
        (json!({"StringNotEquals": {"k": "Value-1"}}), Tri::No),
        (json!({"StringNotEquals": {"k": ["x", "y"]}}), Tri::Yes),
        (json!({"StringNotEquals": {"k": ["x", "Value-1"]}}), Tri::No), // values NORed
        (
            json!({"StringEqualsIgnoreCase": {"k": "VALUE-1"}}),
            Tri::Yes,
        ),
        (json!({"StringEqualsIgnoreCase": {"k": "VALUE-2"}}), Tri::No),
        (
            json!({"StringNotEqualsIgnoreCase": {"k": "VALUE-1"}}),
            Tri::No,
        ),
        (
            json!({"StringNotEqualsIgnoreCase": {"k": "VALUE-2"}}),
            Tri::Yes,
        ),
        (json!({"StringLike": {"k": "Value-?"}}), Tri::Yes),
        (json!({"StringLike": {"k": "Val*"}}), Tri::Yes),
        (json!({"StringLike": {"k": "val*"}}), Tri::No), // case-sensitive
        (json!({"StringNotLike": {"k": "Val*"}}), Tri::No),
        (json!({"StringNotLike": {"k": ["x*", "y*"]}}), Tri::Yes),
    ];
    for (block, want) in cases {
        assert_eq!(cond(block.clone(), &ctx), want, "{block}");
    }
}

#[test]
fn arn_bool_null_operators() {
    let ctx = Context::closed()
        .with("aws:PrincipalArn", ROLE)
        .with("aws:SecureTransport", "true");
    let cases = [
        (json!({"ArnEquals": {"aws:PrincipalArn": ROLE}}), Tri::Yes),
        (
            json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/s3-replication/*"}}),
            Tri::Yes,
        ),
        (
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/*"}}),
            Tri::Yes,
        ),
        (
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/*"}}),
            Tri::No,
        ),
        (
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:ROLE/*"}}),
            Tri::No,
        ),
        (json!({"ArnNotEquals": {"aws:PrincipalArn": ROLE}}), Tri::No),
        (
            json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:*"}}),
            Tri::Yes,
        ),
        (json!({"Bool": {"aws:SecureTransport": "true"}}), Tri::Yes),
        (json!({"Bool": {"aws:SecureTransport": true}}), Tri::Yes), // JSON booleans too
        (json!({"Bool": {"aws:SecureTransport": "false"}}), Tri::No),
        (json!({"Null": {"aws:SecureTransport": "false"}}), Tri::Yes), // present
        (json!({"Null": {"aws:SecureTransport": "true"}}), Tri::No),
        (
            json!({"Null": {"aws:MultiFactorAuthAge": "true"}}),
            Tri::Yes,
        ), // absent
        (
            json!({"Null": {"aws:MultiFactorAuthAge": "false"}}),
            Tri::No,
        ),
    ];
    for (block, want) in cases {
        assert_eq!(cond(block.clone(), &ctx), want, "{block}");
    }
}

#[test]
fn missing_keys_follow_the_documented_rules() {
    let ctx = Context::closed();
    let cases = [
        // A positive operator on a missing key does not match.
        (
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
            Tri::No,
        ),
        (json!({"StringLike": {"aws:PrincipalOrgID": "*"}}), Tri::No),
        (json!({"ArnLike": {"aws:SourceArn": "*"}}), Tri::No),
        (
            json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
            Tri::No,
        ),
        (json!({"StringEqualsIgnoreCase": {"k": "x"}}), Tri::No),
        // A negated operator on a missing key matches.
        (
            json!({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}),
            Tri::Yes,
        ),
        (
            json!({"StringNotLike": {"aws:PrincipalOrgID": "o-*"}}),
            Tri::Yes,
        ),
        (
            json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::x"}}),
            Tri::Yes,
        ),
        (
            json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::x"}}),
            Tri::Yes,
        ),
        (json!({"StringNotEqualsIgnoreCase": {"k": "x"}}), Tri::Yes),
        // IfExists: a missing key matches.
        (
            json!({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}),
            Tri::Yes,
        ),
        (
            json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
            Tri::Yes,
        ),
        (
            json!({"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:s3:::x"}}),
            Tri::Yes,
        ),
        // Set operators: ForAllValues is true on a missing key, ForAnyValue false.
        (
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}),
            Tri::Yes,
        ),
        (
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}),
            Tri::No,
        ),
        (
            json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": "a"}}),
            Tri::No,
        ),
        (
            json!({"ForAllValues:StringNotLike": {"aws:TagKeys": "a*"}}),
            Tri::Yes,
        ),
    ];
    for (block, want) in cases {
        assert_eq!(cond(block.clone(), &ctx), want, "{block}");
    }
    // IfExists still checks a present key.
    let ctx = Context::closed().with("aws:PrincipalOrgID", "o-2");
    assert_eq!(
        cond(
            json!({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}),
            &ctx
        ),
        Tri::No
    );
    // An empty multivalued key counts as missing for the set operators.
    let empty = Context::closed().with_values("aws:TagKeys", Vec::<String>::new());
    assert_eq!(
        cond(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}),
            &empty
        ),
        Tri::Yes
    );
    assert_eq!(
        cond(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}),
            &empty
        ),
        Tri::No
    );
}

#[test]
fn set_operators_on_multivalued_keys() {
    let ctx = Context::closed().with_values("aws:TagKeys", ["env", "team"]);
    let cases = [
        (
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team", "cost"]}}),
            Tri::Yes,
        ),
        (
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}),
            Tri::No,
        ),
        (
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}),
            Tri::Yes,
        ),
        (
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}),
            Tri::No,
        ),
        (
            json!({"ForAnyValue:StringLike": {"aws:TagKeys": "te*"}}),
            Tri::Yes,
        ),
        (
            json!({"ForAllValues:StringLike": {"aws:TagKeys": ["e*", "t*"]}}),
            Tri::Yes,
        ),
        (
            json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["cost"]}}),
            Tri::Yes,
        ),
        (
            json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}),
            Tri::No,
        ),
        (
            json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}),
            Tri::Yes,
        ),
        (
            json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env", "team"]}}),
            Tri::No,
        ),
    ];
    for (block, want) in cases {
        assert_eq!(cond(block.clone(), &ctx), want, "{block}");
    }
}

#[test]
fn conditions_and_across_operators_and_keys() {
    let ctx = Context::closed()
        .with("kms:ViaService", "s3.us-west-2.amazonaws.com")
        .with("kms:EncryptionContext:aws:s3:arn", OBJ);
    let both = json!({
        "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::dst-bucket", "arn:aws:s3:::dst-bucket/*"]}
    });
    assert_eq!(cond(both, &ctx), Tri::Yes);
    let wrong_region = json!({
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::dst-bucket/*"}
    });
    assert_eq!(cond(wrong_region, &ctx), Tri::No);
    let two_keys = json!({"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com", "kms:CallerAccount": "111111111111"}});
    assert_eq!(
        cond(two_keys.clone(), &ctx),
        Tri::No,
        "kms:CallerAccount is missing"
    );
    // Condition key names are case-insensitive.
    assert_eq!(
        cond(
            json!({"StringEquals": {"KMS:VIASERVICE": "s3.us-west-2.amazonaws.com"}}),
            &ctx
        ),
        Tri::Yes
    );
}

#[test]
fn unknown_keys_and_unsupported_operators_cannot_decide() {
    let open = Context::open().with("aws:PrincipalArn", ROLE);
    assert_eq!(
        cond(
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
            &open
        ),
        Tri::Unknown
    );
    assert_eq!(
        cond(json!({"Null": {"aws:PrincipalTag/team": "false"}}), &open),
        Tri::Unknown
    );
    assert_eq!(
        cond(json!({"NumericLessThan": {"s3:max-keys": "10"}}), &open),
        Tri::Unknown
    );
    assert_eq!(
        cond(
            json!({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
            &open
        ),
        Tri::Unknown
    );
    assert_eq!(
        cond(
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            &open
        ),
        Tri::Unknown
    );
    // ... unless another part of the block already fails.
    assert_eq!(
        cond(
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}}),
            &open
        ),
        Tri::No
    );
    let mut notes = Vec::new();
    assert_eq!(
        condition::evaluate(
            &json!({"NumericLessThan": {"s3:max-keys": "10"}}),
            &open,
            &mut notes
        ),
        Tri::Unknown
    );
    assert!(notes[0].contains("NumericLessThan"), "{notes:?}");
}

#[test]
fn lint_names_what_iam_would_not_match() {
    let doc = json!({"Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": ["s3>ListBucket", "s3:GetObject"], "Resource": ["arn:aws:s3::dst/*", "TARGET.BUCKET.NAME/*", "arn:aws:s3:::<Bucket>/*"]},
        {"Effect": "Allow", "Principal": {"AWS": ["", "AROAEXAMPLEDELETED0001"]}, "Action": [], "Resource": "*"}
    ]});
    let lints = lint(&doc, "doc").join("\n");
    for needle in [
        "\"s3>ListBucket\"",
        "\"arn:aws:s3::dst/*\" is not an ARN",
        "\"TARGET.BUCKET.NAME/*\" is not an ARN",
        "placeholder",
        "empty identifier",
        "unique id",
        "Action is empty",
    ] {
        assert!(lints.contains(needle), "{needle} not in:\n{lints}");
    }
    assert!(!lints.contains("s3:GetObject\""), "{lints}");
}

/// Issue 23, attack 5, on the statement the plan writes: a replica under another KMS key (one
/// a compromised source controls and may later disable) is not let in; under the rule's key,
/// or without KMS (an SSE-S3 object's replica carries no key id), it is.
#[test]
fn the_destination_statement_pins_the_replica_key() {
    let spec = crate::spec::parse(&json!({"SourceBucket": "src", "Destinations": [
        {"Bucket": "dst-bucket", "AccountId": "222222222222", "Region": "us-west-2",
         "KmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/ours"}]}))
    .unwrap();
    let acct = crate::spec::AccountId::parse("111111111111").unwrap();
    let region = crate::spec::Region::parse("eu-west-1").unwrap();
    let r = crate::plan::Resolved::new(&spec, acct.clone(), region.clone());
    let keys = crate::plan::Keys::from_spec(&spec, &acct, &region, None);
    let plan = crate::plan::Plan::build(&spec, r.clone(), &keys).unwrap();
    let policy =
        json!({"Version": "2012-10-17", "Statement": [plan.bucket_statements[0].statement]});
    let key = crate::plan::policy::REPLICA_KEY_CONDITION;
    let ask = |ctx: Context| {
        let r = Request::new(
            Principal::role(r.role_arn.as_str()),
            "s3:ReplicateObject",
            "arn:aws:s3:::dst-bucket/a.txt",
            ctx,
        );
        resource_policy(&policy, &r).decision()
    };
    assert_eq!(
        ask(Context::closed().with(key, "arn:aws:kms:us-west-2:222222222222:key/ours")),
        Decision::Allow
    );
    assert_eq!(ask(Context::closed()), Decision::Allow, "no KMS: no key id");
    for theirs in [
        "arn:aws:kms:us-west-2:999999999999:key/attackers",
        "arn:aws:kms:us-west-2:222222222222:key/another",
    ] {
        assert_eq!(
            ask(Context::closed().with(key, theirs)),
            Decision::ImplicitDeny,
            "{theirs}"
        );
    }
}
