//! The repository's SAM templates deployed offline (`src/template.rs`): the source template in
//! the function's account and region, the destination template in its `RoleRegion`, with the ids
//! of the resources they refer to known.

use s3_replication_provider::template::{Context, Deployed, Template};
use serde_json::json;

/// The source account (where the provider runs) and its region.
pub const SRC: &str = "111111111111";
pub const REGION: &str = "eu-west-1";
/// The function's role and the replication roles' boundary, as the source template names them.
pub const FUNCTION_ROLE: &str = "arn:aws:iam::111111111111:role/S3ReplicationProvider-eu-west-1";
pub const BOUNDARY: &str = "arn:aws:iam::111111111111:policy/s3-replication/s3-replication-provider-replication-role-boundary-eu-west-1";

/// `sam/<name>/template.yaml`, parsed.
pub fn template(name: &str) -> Template {
    let path = format!("{}/sam/{name}/template.yaml", env!("CARGO_MANIFEST_DIR"));
    Template::parse(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `template` deployed as `name` would be with `params` (panics on an error or a broken Rule).
pub fn deploy_as(
    template: &Template,
    name: &str,
    account: &str,
    params: &[(&str, &str)],
) -> Deployed {
    let deployed = template
        .deploy(&deployment(name, account, params))
        .unwrap_or_else(|e| panic!("{name} with {params:?}: {e}"));
    assert!(
        deployed.failed_rules.is_empty(),
        "{name} with {params:?} breaks its Rules: {:?}",
        deployed.failed_rules
    );
    deployed
}

/// What a deployment of `name` with `params` knows: the parameters, and the ids of the
/// resources the templates refer to. The source template deploys in the function's region; the
/// destination template in its `RoleRegion` (default us-east-1), the stack instance that creates
/// the (global) role.
pub fn deployment(name: &str, account: &str, params: &[(&str, &str)]) -> Context {
    let region = if name == "destination-account" {
        "us-east-1"
    } else {
        REGION
    };
    let mut ctx = Context::new(account, region);
    for (k, v) in params {
        ctx = ctx.with_parameter(k, v);
    }
    ctx.refs
        .insert("ReplicationRoleBoundary".into(), json!(BOUNDARY));
    ctx.refs.insert(
        "FunctionLogGroup".into(),
        json!("/aws/lambda/s3-replication-provider"),
    );
    ctx.attributes
        .insert(("FunctionRole".into(), "Arn".into()), json!(FUNCTION_ROLE));
    ctx.attributes.insert(
        ("ProviderFunction".into(), "Arn".into()),
        json!("arn:aws:lambda:eu-west-1:111111111111:function:s3-replication-provider"),
    );
    ctx
}
