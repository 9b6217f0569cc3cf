//! The one AWS Organizations call: which organization the caller's account belongs to
//! (`aws:PrincipalOrgID` of the principals in it), for the doctor.

use super::account::op;
use super::{Account, AwsError};

const DESCRIBE_ORGANIZATION: super::Op = op(
    "organizations",
    "DescribeOrganization",
    "organizations:DescribeOrganization",
    false,
);

/// What is known of an account's organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// A member (or the management account) of this organization.
    Member(String),
    /// In no organization.
    None,
    /// Could not be read (no permission, SCP): conditions on it stay undecided.
    Unknown(String),
}

impl Account {
    /// The organization of this account (the caller's, whatever the region).
    pub async fn organization(&self) -> Result<Membership, AwsError> {
        let req = self.organizations.describe_organization().send();
        match self.call(DESCRIBE_ORGANIZATION, "organization", req).await {
            Ok(out) => Ok(out
                .organization
                .and_then(|o| o.id)
                .map_or(Membership::None, Membership::Member)),
            Err(e) if e.is(super::Code::OrganizationsNotInUse) => Ok(Membership::None),
            Err(e) if e.kind == super::ErrorKind::AccessDenied => {
                Ok(Membership::Unknown(format!("{}: {}", e.code, e.message)))
            }
            Err(e) => Err(e),
        }
    }
}
