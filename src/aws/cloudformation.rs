//! The one CloudFormation call: what CloudFormation says of the stack resource an event names.

use super::account::op;
use super::{Account, AwsError, ErrorKind};

const DESCRIBE_STACK_RESOURCE: super::Op = op(
    "cloudformation",
    "DescribeStackResource",
    "cloudformation:DescribeStackResource",
    false,
);

/// A stack resource as CloudFormation describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    pub resource_type: String,
    /// `CREATE_IN_PROGRESS`, `UPDATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`, `CREATE_COMPLETE`, ...
    pub status: String,
    /// Absent before a Create was answered.
    pub physical_id: Option<String>,
}

impl Account {
    /// The resource `logical_id` of the stack `stack_id` (its ARN), or `None` when CloudFormation
    /// knows no such stack or resource (it answers `ValidationError` for both).
    pub async fn stack_resource(
        &self,
        stack_id: &str,
        logical_id: &str,
    ) -> Result<Option<StackResource>, AwsError> {
        let req = self
            .cloudformation
            .describe_stack_resource()
            .stack_name(stack_id)
            .logical_resource_id(logical_id);
        match self
            .call(DESCRIBE_STACK_RESOURCE, stack_id, req.send())
            .await
        {
            Ok(out) => Ok(out.stack_resource_detail.map(|d| StackResource {
                resource_type: d.resource_type.unwrap_or_default(),
                status: d
                    .resource_status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                physical_id: d.physical_resource_id.filter(|p| !p.is_empty()),
            })),
            Err(e) if e.code == "ValidationError" && e.kind != ErrorKind::AccessDenied => Ok(None),
            Err(e) => Err(e),
        }
    }
}
