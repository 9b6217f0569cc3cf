//! The IAM calls the provider makes (IAM is global: the region only labels logs).

use aws_sdk_iam::types::Tag;

use super::account::{op, optional};
use super::{Account, AwsError};

const GET_ROLE: super::Op = op("iam", "GetRole", "iam:GetRole", false);
const CREATE_ROLE: super::Op = op("iam", "CreateRole", "iam:CreateRole and iam:TagRole", true);
const GET_ROLE_POLICY: super::Op = op("iam", "GetRolePolicy", "iam:GetRolePolicy", false);
const PUT_ROLE_POLICY: super::Op = op("iam", "PutRolePolicy", "iam:PutRolePolicy", true);
const DELETE_ROLE_POLICY: super::Op = op("iam", "DeleteRolePolicy", "iam:DeleteRolePolicy", true);
const LIST_ROLE_POLICIES: super::Op = op("iam", "ListRolePolicies", "iam:ListRolePolicies", false);
const LIST_ATTACHED: super::Op = op(
    "iam",
    "ListAttachedRolePolicies",
    "iam:ListAttachedRolePolicies",
    false,
);
const GET_POLICY: super::Op = op("iam", "GetPolicy", "iam:GetPolicy", false);
const GET_POLICY_VERSION: super::Op = op("iam", "GetPolicyVersion", "iam:GetPolicyVersion", false);
const TAG_ROLE: super::Op = op("iam", "TagRole", "iam:TagRole", true);
const PUT_BOUNDARY: super::Op = op(
    "iam",
    "PutRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    true,
);
const DELETE_ROLE: super::Op = op("iam", "DeleteRole", "iam:DeleteRole", true);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub arn: String,
    /// The unique id (`AROA…`) policies show once a role they named is deleted.
    pub role_id: String,
    pub path: String,
    /// The trust policy, URL-decoded.
    pub trust_policy: String,
    pub tags: Vec<(String, String)>,
    /// The ARN of the role's permissions boundary, if it has one.
    pub permissions_boundary: Option<String>,
}

impl RoleInfo {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// IAM returns policy documents URL-encoded.
fn decode(doc: &str) -> String {
    if doc.trim_start().starts_with('{') {
        return doc.to_owned();
    }
    percent_encoding::percent_decode_str(doc)
        .decode_utf8_lossy()
        .into_owned()
}

fn sdk_tags(tags: &[(&str, &str)]) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(*k).value(*v).build().ok())
        .collect()
}

impl Account {
    pub async fn role(&self, name: &str) -> Result<Option<RoleInfo>, AwsError> {
        let out = optional(
            self.call(GET_ROLE, name, self.iam.get_role().role_name(name).send())
                .await,
        )?;
        Ok(out.and_then(|o| o.role).map(|r| RoleInfo {
            trust_policy: r
                .assume_role_policy_document()
                .map(decode)
                .unwrap_or_default(),
            tags: r
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
            permissions_boundary: r
                .permissions_boundary
                .and_then(|b| b.permissions_boundary_arn),
            arn: r.arn,
            role_id: r.role_id,
            path: r.path,
        }))
    }

    /// Creates a role, with `boundary` as its permissions boundary when given.
    pub async fn create_role(
        &self,
        name: &str,
        path: &str,
        trust: &str,
        description: &str,
        tags: &[(&str, &str)],
        boundary: Option<&str>,
    ) -> Result<String, AwsError> {
        let req = self
            .iam
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(trust)
            .description(description)
            .set_permissions_boundary(boundary.map(str::to_owned))
            .set_tags(Some(sdk_tags(tags)));
        let out = self.call(CREATE_ROLE, name, req.send()).await?;
        Ok(out.role.map(|r| r.arn).unwrap_or_default())
    }

    pub async fn put_permissions_boundary(
        &self,
        name: &str,
        boundary: &str,
    ) -> Result<(), AwsError> {
        let req = self
            .iam
            .put_role_permissions_boundary()
            .role_name(name)
            .permissions_boundary(boundary);
        self.call(PUT_BOUNDARY, name, req.send()).await.map(drop)
    }

    pub async fn role_policy(
        &self,
        role: &str,
        policy_name: &str,
    ) -> Result<Option<String>, AwsError> {
        let req = self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(policy_name);
        let out = optional(self.call(GET_ROLE_POLICY, role, req.send()).await)?;
        Ok(out.map(|o| decode(o.policy_document())))
    }

    pub async fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        doc: &str,
    ) -> Result<(), AwsError> {
        let req = self
            .iam
            .put_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .policy_document(doc);
        self.call(PUT_ROLE_POLICY, role, req.send()).await.map(drop)
    }

    pub async fn delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), AwsError> {
        let req = self
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(policy_name);
        optional(self.call(DELETE_ROLE_POLICY, role, req.send()).await).map(drop)
    }

    pub async fn role_policy_names(&self, role: &str) -> Result<Vec<String>, AwsError> {
        let out = optional(
            self.call(
                LIST_ROLE_POLICIES,
                role,
                self.iam.list_role_policies().role_name(role).send(),
            )
            .await,
        )?;
        Ok(out.map(|o| o.policy_names).unwrap_or_default())
    }

    /// The managed policies attached to `role`: (name, ARN), every page.
    pub async fn attached_role_policies(
        &self,
        role: &str,
    ) -> Result<Vec<(String, String)>, AwsError> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let req = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker.take());
            let Some(page) = optional(self.call(LIST_ATTACHED, role, req.send()).await)? else {
                return Ok(out);
            };
            out.extend(
                page.attached_policies().iter().filter_map(|p| {
                    Some((p.policy_name()?.to_owned(), p.policy_arn()?.to_owned()))
                }),
            );
            match page.marker {
                Some(m) if page.is_truncated => marker = Some(m),
                _ => return Ok(out),
            }
        }
    }

    /// The default version's document of the managed policy `arn`, URL-decoded.
    pub async fn managed_policy_document(&self, arn: &str) -> Result<Option<String>, AwsError> {
        let req = self.iam.get_policy().policy_arn(arn);
        let Some(policy) = optional(self.call(GET_POLICY, arn, req.send()).await)? else {
            return Ok(None);
        };
        let Some(version) = policy.policy.and_then(|p| p.default_version_id) else {
            return Ok(None);
        };
        let req = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version);
        let out = optional(self.call(GET_POLICY_VERSION, arn, req.send()).await)?;
        Ok(out
            .and_then(|o| o.policy_version)
            .and_then(|v| v.document)
            .map(|d| decode(&d)))
    }

    pub async fn tag_role(&self, role: &str, tags: &[(&str, &str)]) -> Result<(), AwsError> {
        let req = self
            .iam
            .tag_role()
            .role_name(role)
            .set_tags(Some(sdk_tags(tags)));
        self.call(TAG_ROLE, role, req.send()).await.map(drop)
    }

    pub async fn delete_role(&self, role: &str) -> Result<(), AwsError> {
        optional(
            self.call(
                DELETE_ROLE,
                role,
                self.iam.delete_role().role_name(role).send(),
            )
            .await,
        )
        .map(drop)
    }
}
