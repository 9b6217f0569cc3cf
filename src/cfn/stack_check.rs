//! Events are checked with CloudFormation before any work.
//!
//! Anyone allowed to invoke the function could otherwise send an event naming another stack's
//! resource (its `StackId` and `LogicalResourceId`), become the owner the provider records for
//! that resource, Update it (say, to `KeyRemovalPolicy: Delete`) and Delete it. CloudFormation
//! sends a custom resource a request only while that resource is being created, updated or
//! deleted, so the provider asks CloudFormation (`DescribeStackResource`, one call) whether the
//! named stack is in the function's own account and region and the named resource is a custom
//! resource in exactly that state, with the physical id the event gives. Someone who cannot
//! operate the victim's stack cannot put its resource in that state.
//!
//! Pure: [`judge`] decides from the event and what CloudFormation said.

use super::{Request, RequestKind};
use crate::aws::StackResource;

/// The environment setting that turns the check off (`false`), for places without
/// CloudFormation (local emulators, `sam local invoke`); on by default.
pub const VERIFY_ENV: &str = "PROVIDER_VERIFY_STACK_EVENTS";

/// Why an event is not acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventRefused {
    #[error("the event's StackId {0} is not a CloudFormation stack ARN")]
    NotAStack(String),
    #[error("the event names a stack in account {account} ({region}), but this provider serves account {own_account} ({own_region}) only: CloudFormation invokes a custom resource's function from the stack's own region")]
    Elsewhere {
        account: String,
        region: String,
        own_account: String,
        own_region: String,
    },
    #[error("CloudFormation knows no resource {logical_id} in stack {stack_id}")]
    NoSuchResource {
        stack_id: String,
        logical_id: String,
    },
    #[error("resource {logical_id} of stack {stack_id} is a {actual}, not the custom resource {claimed} the event claims")]
    NotThisCustomResource {
        stack_id: String,
        logical_id: String,
        actual: String,
        claimed: String,
    },
    #[error("resource {logical_id} of stack {stack_id} is {status}{physical}, so CloudFormation is not sending it a {kind} now: the event was not sent by CloudFormation")]
    NotInProgress {
        stack_id: String,
        logical_id: String,
        status: String,
        physical: String,
        kind: &'static str,
    },
}

/// `(region, account)` of a stack ARN `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>`.
pub fn stack_place(stack_id: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = stack_id.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "cloudformation", region, account, rest]
            if !region.is_empty() && account.len() == 12 && rest.starts_with("stack/") =>
        {
            Some((region, account))
        }
        _ => None,
    }
}

/// Checks the event's stack is the function's own account's and region's (before asking
/// CloudFormation anything).
pub fn check_place(
    request: &Request,
    own_account: &str,
    own_region: &str,
) -> Result<(), EventRefused> {
    let (region, account) = stack_place(&request.stack_id)
        .ok_or_else(|| EventRefused::NotAStack(request.stack_id.clone()))?;
    if account != own_account || region != own_region {
        return Err(EventRefused::Elsewhere {
            account: account.to_owned(),
            region: region.to_owned(),
            own_account: own_account.to_owned(),
            own_region: own_region.to_owned(),
        });
    }
    Ok(())
}

/// Whether CloudFormation is sending this request now, from what it says of the resource:
///
/// * Create: the resource is `CREATE_IN_PROGRESS`;
/// * Update: it is `UPDATE_IN_PROGRESS` with the event's physical id (an update, its rollback,
///   and an update that replaces the resource all show so);
/// * Delete: it is `DELETE_IN_PROGRESS` with the event's physical id (or none yet: a Create
///   that failed before CloudFormation recorded one); or it is `UPDATE_COMPLETE` under another
///   physical id: CloudFormation deleting the old resource after a replacement (or the new one
///   after a rolled-back replacement), in the stack's cleanup phase. Such a Delete acts only on
///   a source whose physical id the event names and that still records this resource as owner
///   (see `reconcile::cleanup`): one this resource replaced, which is what CloudFormation asks
///   to remove. A resource still being created (`CREATE_IN_PROGRESS`) accepts no Delete.
pub fn judge(request: &Request, found: Option<&StackResource>) -> Result<(), EventRefused> {
    let Some(found) = found else {
        return Err(EventRefused::NoSuchResource {
            stack_id: request.stack_id.clone(),
            logical_id: request.logical_resource_id.clone(),
        });
    };
    let custom = found.resource_type.starts_with("Custom::")
        || found.resource_type == "AWS::CloudFormation::CustomResource";
    if !custom || found.resource_type != request.resource_type {
        return Err(EventRefused::NotThisCustomResource {
            stack_id: request.stack_id.clone(),
            logical_id: request.logical_resource_id.clone(),
            actual: found.resource_type.clone(),
            claimed: request.resource_type.clone(),
        });
    }
    let same_id = found.physical_id.as_deref() == request.physical_resource_id.as_deref();
    let (ok, kind) = match request.kind {
        RequestKind::Create => (found.status == "CREATE_IN_PROGRESS", "Create"),
        RequestKind::Update => (found.status == "UPDATE_IN_PROGRESS" && same_id, "Update"),
        RequestKind::Delete => {
            let deleting =
                found.status == "DELETE_IN_PROGRESS" && (same_id || found.physical_id.is_none());
            let replaced =
                found.status == "UPDATE_COMPLETE" && found.physical_id.is_some() && !same_id;
            (deleting || replaced, "Delete")
        }
    };
    if ok {
        return Ok(());
    }
    Err(EventRefused::NotInProgress {
        stack_id: request.stack_id.clone(),
        logical_id: request.logical_resource_id.clone(),
        status: found.status.clone(),
        physical: found
            .physical_id
            .as_deref()
            .map(|p| format!(" with physical id {p}"))
            .unwrap_or_default(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const STACK: &str =
        "arn:aws:cloudformation:eu-west-1:111111111111:stack/app/6f7c1e2a-0b1d-4c5e-9f00-123456789abc";
    const ID: &str = "s3-replication:111111111111:eu-west-1:data";

    fn request(kind: RequestKind, physical: Option<&str>) -> Request {
        Request {
            kind,
            response_url: "https://s3.amazonaws.com/x".into(),
            stack_id: STACK.into(),
            request_id: "r".into(),
            logical_resource_id: "Replication".into(),
            resource_type: "Custom::S3Replication".into(),
            physical_resource_id: physical.map(str::to_owned),
            properties: json!({}),
            old_properties: None,
        }
    }

    fn resource(status: &str, physical: Option<&str>) -> StackResource {
        StackResource {
            resource_type: "Custom::S3Replication".into(),
            status: status.into(),
            physical_id: physical.map(str::to_owned),
        }
    }

    #[test]
    fn what_cloudformation_is_doing_now_is_accepted() {
        use RequestKind::*;
        for (kind, physical, found) in [
            (Create, None, resource("CREATE_IN_PROGRESS", None)),
            (Update, Some(ID), resource("UPDATE_IN_PROGRESS", Some(ID))),
            (Delete, Some(ID), resource("DELETE_IN_PROGRESS", Some(ID))),
            // The old resource after a replacement: the logical resource has the new id.
            (
                Delete,
                Some(ID),
                resource(
                    "UPDATE_COMPLETE",
                    Some("s3-replication:111111111111:eu-west-1:new"),
                ),
            ),
            // A failed Create's rollback names the id the FAILED answer gave.
            (
                Delete,
                Some("s3-replication-not-created:Replication:r"),
                resource(
                    "DELETE_IN_PROGRESS",
                    Some("s3-replication-not-created:Replication:r"),
                ),
            ),
        ] {
            let r = request(kind, physical);
            assert_eq!(judge(&r, Some(&found)), Ok(()), "{kind:?} {found:?}");
        }
    }

    /// Issue 23, attack 6: an event naming another stack's resource that CloudFormation is not
    /// operating on is refused, whatever it claims.
    #[test]
    fn a_forged_event_is_refused() {
        use RequestKind::*;
        for (kind, physical, found) in [
            (Create, None, resource("CREATE_COMPLETE", Some(ID))),
            (Update, Some(ID), resource("CREATE_COMPLETE", Some(ID))),
            (Update, Some(ID), resource("UPDATE_COMPLETE", Some(ID))),
            (
                Update,
                Some("other"),
                resource("UPDATE_IN_PROGRESS", Some(ID)),
            ),
            (Delete, Some(ID), resource("UPDATE_COMPLETE", Some(ID))),
            (Delete, Some(ID), resource("CREATE_COMPLETE", Some(ID))),
            // A resource being created: no Delete of a made-up id slips in meanwhile.
            (Delete, Some(ID), resource("CREATE_IN_PROGRESS", None)),
            (
                Delete,
                Some("made-up"),
                resource("UPDATE_IN_PROGRESS", Some(ID)),
            ),
        ] {
            let r = request(kind, physical);
            assert!(
                matches!(
                    judge(&r, Some(&found)),
                    Err(EventRefused::NotInProgress { .. })
                ),
                "{kind:?} {physical:?} {found:?}"
            );
        }
        let r = request(Update, Some(ID));
        assert!(matches!(
            judge(&r, None),
            Err(EventRefused::NoSuchResource { .. })
        ));
        let mut bucket = resource("UPDATE_IN_PROGRESS", Some(ID));
        bucket.resource_type = "AWS::S3::Bucket".into();
        assert!(matches!(
            judge(&r, Some(&bucket)),
            Err(EventRefused::NotThisCustomResource { .. })
        ));
        let mut other = resource("UPDATE_IN_PROGRESS", Some(ID));
        other.resource_type = "Custom::Other".into();
        assert!(matches!(
            judge(&r, Some(&other)),
            Err(EventRefused::NotThisCustomResource { .. })
        ));
    }

    #[test]
    fn only_stacks_of_the_functions_account_and_region() {
        let r = request(RequestKind::Create, None);
        assert_eq!(check_place(&r, "111111111111", "eu-west-1"), Ok(()));
        assert!(matches!(
            check_place(&r, "222222222222", "eu-west-1"),
            Err(EventRefused::Elsewhere { .. })
        ));
        assert!(matches!(
            check_place(&r, "111111111111", "us-east-1"),
            Err(EventRefused::Elsewhere { .. })
        ));
        let mut bad = r.clone();
        bad.stack_id = "arn:aws:iam::111111111111:role/x".into();
        assert!(matches!(
            check_place(&bad, "111111111111", "eu-west-1"),
            Err(EventRefused::NotAStack(_))
        ));
    }
}
