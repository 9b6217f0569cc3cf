//! CloudFormation custom-resource request events, from a test stack.

use serde_json::{json, Value};

use super::{uuid, DEFAULT_ACCOUNT};

pub const TEST_STACK_REGION: &str = "eu-west-1";
pub const LOGICAL_RESOURCE_ID: &str = "Replication";
pub const RESOURCE_TYPE: &str = "Custom::S3Replication";

/// The stack every test resource belongs to (CloudFormation sends the same StackId with every
/// request of a stack's resource: Create, Update and Delete of one resource must share it, since
/// Create records it as the owner). Tests that need a second stack use [`stack_id`].
pub fn test_stack_id() -> String {
    stack_id("test-stack")
}

/// The StackId of a stack named `name` (fixed per name, as CloudFormation's is per stack).
pub fn stack_id(name: &str) -> String {
    format!(
        "arn:aws:cloudformation:{TEST_STACK_REGION}:{DEFAULT_ACCOUNT}:stack/{name}/{:08x}-0000-4000-8000-000000000000",
        fnv32(name)
    )
}

fn fnv32(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A CloudFormation custom-resource request event with a fresh RequestId, from the test stack
/// ([`test_stack_id`]).
///
/// `props` becomes ResourceProperties (a `ServiceToken`, and the `ServiceTimeout` of "600"
/// the README and the examples set, are added if missing, as CloudFormation does: it forwards
/// both, as strings, beside the resource's own properties); `physical_id` and `old_props` are included when given
/// (Update and Delete carry PhysicalResourceId; Update carries OldResourceProperties).
pub fn cfn_event(
    request_type: &str,
    response_url: &str,
    props: Value,
    physical_id: Option<&str>,
    old_props: Option<Value>,
) -> Value {
    cfn_event_from(
        &test_stack_id(),
        request_type,
        response_url,
        props,
        physical_id,
        old_props,
    )
}

/// [`cfn_event`] from the stack `stack_id`.
pub fn cfn_event_from(
    stack_id: &str,
    request_type: &str,
    response_url: &str,
    props: Value,
    physical_id: Option<&str>,
    old_props: Option<Value>,
) -> Value {
    let service_token = format!(
        "arn:aws:lambda:{TEST_STACK_REGION}:{DEFAULT_ACCOUNT}:function:s3-replication-provider"
    );
    let with_token = |mut p: Value| {
        if let Some(obj) = p.as_object_mut() {
            obj.entry("ServiceToken")
                .or_insert_with(|| Value::String(service_token.clone()));
            obj.entry("ServiceTimeout")
                .or_insert_with(|| Value::String("600".into()));
        }
        p
    };
    let mut event = json!({
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": uuid(),
        "LogicalResourceId": LOGICAL_RESOURCE_ID,
        "ResourceType": RESOURCE_TYPE,
        "ResourceProperties": with_token(props),
    });
    let obj = event.as_object_mut().expect("event is an object");
    if let Some(id) = physical_id {
        obj.insert("PhysicalResourceId".into(), Value::String(id.to_string()));
    }
    if let Some(old) = old_props {
        obj.insert("OldResourceProperties".into(), with_token(old));
    }
    event
}
