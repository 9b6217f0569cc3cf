//! The KMS calls the provider makes.

use aws_sdk_kms::types::{KeySpec, KeyUsageType, Tag};

use super::account::{op, optional};
use super::{Account, AwsError};

const DESCRIBE: super::Op = op("kms", "DescribeKey", "kms:DescribeKey", false);
const CREATE: super::Op = op(
    "kms",
    "CreateKey",
    "kms:CreateKey and kms:TagResource",
    true,
);
const GET_ROTATION: super::Op = op(
    "kms",
    "GetKeyRotationStatus",
    "kms:GetKeyRotationStatus",
    false,
);
const ENABLE_ROTATION: super::Op = op("kms", "EnableKeyRotation", "kms:EnableKeyRotation", true);
const GET_POLICY: super::Op = op("kms", "GetKeyPolicy", "kms:GetKeyPolicy", false);
const PUT_POLICY: super::Op = op("kms", "PutKeyPolicy", "kms:PutKeyPolicy", true);
const CREATE_ALIAS: super::Op = op("kms", "CreateAlias", "kms:CreateAlias", true);
const DELETE_ALIAS: super::Op = op("kms", "DeleteAlias", "kms:DeleteAlias", true);
const LIST_TAGS: super::Op = op("kms", "ListResourceTags", "kms:ListResourceTags", false);
const SCHEDULE_DELETION: super::Op = op(
    "kms",
    "ScheduleKeyDeletion",
    "kms:ScheduleKeyDeletion",
    true,
);

/// A key's state, as far as the provider decides on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    /// Scheduled for deletion (cancellable until the window ends).
    PendingDeletion,
    /// Any other state KMS reports (`PendingImport`, `Unavailable`, ...).
    Other(String),
}

impl KeyState {
    fn parse(s: &str) -> Self {
        match s {
            "Enabled" => Self::Enabled,
            "Disabled" => Self::Disabled,
            "PendingDeletion" => Self::PendingDeletion,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::PendingDeletion => "PendingDeletion",
            Self::Other(s) => s,
        }
    }
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the provider needs to know about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub arn: String,
    pub state: KeyState,
    /// `SYMMETRIC_DEFAULT` for keys S3 can use.
    pub spec: String,
    pub usage: String,
    pub customer_managed: bool,
}

impl KeyInfo {
    pub fn enabled(&self) -> bool {
        self.state == KeyState::Enabled
    }
    pub fn usable_by_s3(&self) -> bool {
        self.spec == KeySpec::SymmetricDefault.as_str()
            && self.usage == KeyUsageType::EncryptDecrypt.as_str()
    }
}

impl Account {
    /// Describes a key by id, ARN or alias; `None` if there is no such key.
    pub async fn describe_key(&self, key: &str) -> Result<Option<KeyInfo>, AwsError> {
        let out = optional(
            self.call(DESCRIBE, key, self.kms.describe_key().key_id(key).send())
                .await,
        )?;
        Ok(out.and_then(|o| o.key_metadata).map(|m| KeyInfo {
            arn: m.arn().unwrap_or_default().to_owned(),
            state: KeyState::parse(m.key_state().map(|s| s.as_str()).unwrap_or_default()),
            spec: m
                .key_spec()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_owned()),
            usage: m
                .key_usage()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "ENCRYPT_DECRYPT".to_owned()),
            customer_managed: m.key_manager().is_none_or(|k| k.as_str() == "CUSTOMER"),
        }))
    }

    /// Creates a symmetric key with the default key policy and these tags; returns its ARN.
    /// Creates a symmetric encryption key with this `policy` (never bypassing KMS's lockout
    /// check) and `tags`.
    pub async fn create_key(
        &self,
        description: &str,
        tags: &[(&str, &str)],
        policy: &str,
    ) -> Result<String, AwsError> {
        let tags: Vec<Tag> = tags
            .iter()
            .filter_map(|(k, v)| Tag::builder().tag_key(*k).tag_value(*v).build().ok())
            .collect();
        let req = self
            .kms
            .create_key()
            .description(description)
            .policy(policy)
            .set_tags(Some(tags));
        let out = self.call(CREATE, "new key", req.send()).await?;
        Ok(out.key_metadata.and_then(|m| m.arn).unwrap_or_default())
    }

    pub async fn rotation_enabled(&self, key: &str) -> Result<bool, AwsError> {
        let out = self
            .call(
                GET_ROTATION,
                key,
                self.kms.get_key_rotation_status().key_id(key).send(),
            )
            .await?;
        Ok(out.key_rotation_enabled())
    }

    pub async fn enable_rotation(&self, key: &str) -> Result<(), AwsError> {
        self.call(
            ENABLE_ROTATION,
            key,
            self.kms.enable_key_rotation().key_id(key).send(),
        )
        .await
        .map(drop)
    }

    pub async fn key_policy(&self, key: &str) -> Result<String, AwsError> {
        let req = self.kms.get_key_policy().key_id(key).policy_name("default");
        let out = self.call(GET_POLICY, key, req.send()).await?;
        Ok(out.policy.unwrap_or_default())
    }

    pub async fn put_key_policy(&self, key: &str, policy: &str) -> Result<(), AwsError> {
        let req = self
            .kms
            .put_key_policy()
            .key_id(key)
            .policy_name("default")
            .policy(policy);
        self.call(PUT_POLICY, key, req.send()).await.map(drop)
    }

    pub async fn create_alias(&self, alias: &str, key: &str) -> Result<(), AwsError> {
        let req = self.kms.create_alias().alias_name(alias).target_key_id(key);
        self.call(CREATE_ALIAS, alias, req.send()).await.map(drop)
    }

    pub async fn delete_alias(&self, alias: &str) -> Result<(), AwsError> {
        optional(
            self.call(
                DELETE_ALIAS,
                alias,
                self.kms.delete_alias().alias_name(alias).send(),
            )
            .await,
        )
        .map(drop)
    }

    pub async fn key_tags(&self, key: &str) -> Result<Vec<(String, String)>, AwsError> {
        let out = self
            .call(
                LIST_TAGS,
                key,
                self.kms.list_resource_tags().key_id(key).send(),
            )
            .await?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
            .collect())
    }

    pub async fn schedule_key_deletion(&self, key: &str, window_days: i32) -> Result<(), AwsError> {
        let req = self
            .kms
            .schedule_key_deletion()
            .key_id(key)
            .pending_window_in_days(window_days);
        self.call(SCHEDULE_DELETION, key, req.send())
            .await
            .map(drop)
    }
}
