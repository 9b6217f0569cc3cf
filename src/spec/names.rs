//! Validated identifiers: each newtype can only hold a value AWS would accept.

use std::fmt;

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// An S3 general purpose bucket name (3–63 chars, lowercase letters, digits, dots, hyphens).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketName(String);
string_newtype!(BucketName);

impl BucketName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bytes = s.as_bytes();
        if !(3..=63).contains(&s.len()) {
            return Err(format!("bucket name {s:?} must be 3 to 63 characters long"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
        {
            return Err(format!(
                "bucket name {s:?} contains {c:?}; only lowercase letters, digits, '.' and '-' are allowed (give the bucket name, not its ARN)"
            ));
        }
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !alnum(bytes[0]) || !alnum(bytes[s.len() - 1]) {
            return Err(format!(
                "bucket name {s:?} must begin and end with a letter or digit"
            ));
        }
        if s.contains("..") || s.contains(".-") || s.contains("-.") {
            return Err(format!("bucket name {s:?} has adjacent '.'/'-' characters"));
        }
        if s.split('.').count() == 4 && s.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return Err(format!(
                "bucket name {s:?} must not look like an IP address"
            ));
        }
        if s.starts_with("xn--")
            || s.starts_with("sthree-")
            || s.ends_with("-s3alias")
            || s.ends_with("--ol-s3")
        {
            return Err(format!(
                "bucket name {s:?} uses a prefix or suffix S3 reserves"
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// `arn:<partition>:s3:::<bucket>`.
    pub fn arn(&self, partition: &str) -> String {
        format!("arn:{partition}:s3:::{}", self.0)
    }
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);
string_newtype!(AccountId);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!("account id {s:?} must be exactly 12 digits"))
        }
    }
}

/// An AWS region code such as `eu-west-1` or `us-gov-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(String);
string_newtype!(Region);

impl Region {
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('-').collect();
        let ok = parts.len() >= 3
            && parts[0].len() == 2
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].parse::<u8>().is_ok();
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "region {s:?} is not a region code like \"us-east-1\" or \"eu-west-2\""
            ))
        }
    }

    /// The partition the region belongs to (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        if self.0.starts_with("cn-") {
            "aws-cn"
        } else if self.0.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }
}

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// An IAM role ARN `arn:<partition>:iam::<account>:role/<path/>name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleArn {
    arn: String,
    account: AccountId,
    partition: String,
}

impl RoleArn {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "{s:?} is not an IAM role ARN ({why}); expected arn:aws:iam::123456789012:role/Name"
            ))
        };
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return bad("it needs six ':'-separated fields");
        }
        if !PARTITIONS.contains(&parts[1]) {
            return bad("unknown partition");
        }
        if parts[2] != "iam" || !parts[3].is_empty() {
            return bad("service must be iam and the region field empty");
        }
        let Ok(account) = AccountId::parse(parts[4]) else {
            return bad("account must be 12 digits");
        };
        let Some(path_name) = parts[5].strip_prefix("role/") else {
            return bad("resource must start with role/");
        };
        let name = path_name.rsplit('/').next().unwrap_or_default();
        if let Err(e) = validate_role_name(name) {
            return bad(&e);
        }
        Ok(Self {
            arn: s.to_owned(),
            account,
            partition: parts[1].to_owned(),
        })
    }

    pub fn for_name(partition: &str, account: &AccountId, path: &str, name: &str) -> Self {
        Self {
            arn: format!("arn:{partition}:iam::{account}:role{path}{name}"),
            account: account.clone(),
            partition: partition.to_owned(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }
    pub fn account(&self) -> &AccountId {
        &self.account
    }
    pub fn partition(&self) -> &str {
        &self.partition
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// IAM role names: 1–64 characters of letters, digits and `+=,.@_-`.
pub fn validate_role_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!("role name {name:?} must be 1 to 64 characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return Err(format!(
            "role name {name:?} contains {c:?}; only letters, digits and +=,.@_- are allowed"
        ));
    }
    Ok(())
}

/// A KMS key ARN `arn:<partition>:kms:<region>:<account>:key/<key-id>` (aliases are refused:
/// S3 resolves an alias in the requester's account, which breaks cross-account replication).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyArn {
    arn: String,
    region: Region,
    account: AccountId,
}

impl KeyArn {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "{s:?} is not a KMS key ARN ({why}); expected arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab or \"Create\""
            ))
        };
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || !PARTITIONS.contains(&parts[1]) {
            return bad("it must start with arn:aws:kms:");
        }
        if parts[2] != "kms" {
            return bad("service must be kms");
        }
        let Ok(region) = Region::parse(parts[3]) else {
            return bad("region field is not a region");
        };
        let Ok(account) = AccountId::parse(parts[4]) else {
            return bad("account must be 12 digits");
        };
        if parts[5].starts_with("alias/") {
            return bad(
                "alias ARNs resolve in the caller's account during replication; give the key ARN",
            );
        }
        let Some(id) = parts[5].strip_prefix("key/") else {
            return bad("resource must be key/<key-id>");
        };
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !id_ok {
            return bad("key id must be letters, digits and '-'");
        }
        Ok(Self {
            arn: s.to_owned(),
            region,
            account,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }
    pub fn region(&self) -> &Region {
        &self.region
    }
    pub fn account(&self) -> &AccountId {
        &self.account
    }
}

impl fmt::Display for KeyArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// What kind of destination a `FailureNotification` ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// An SNS topic (`sns:Publish`).
    Topic,
    /// An SQS queue (`sqs:SendMessage`).
    Queue,
}

/// A standard SNS topic or SQS queue ARN, `arn:<partition>:sns|sqs:<region>:<account>:<name>`:
/// where S3 sends replication failure events. FIFO topics and queues are refused: S3 event
/// notifications cannot deliver to them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NotificationArn {
    arn: String,
    kind: NotificationKind,
    region: Region,
    account: AccountId,
}

impl NotificationArn {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "{s:?} is not an SNS topic or SQS queue ARN ({why}); expected arn:aws:sns:eu-west-1:123456789012:replication-failures or arn:aws:sqs:eu-west-1:123456789012:replication-failures"
            ))
        };
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || !PARTITIONS.contains(&parts[1]) {
            return bad("it must start with arn:aws:sns: or arn:aws:sqs:");
        }
        let (kind, max) = match parts[2] {
            "sns" => (NotificationKind::Topic, 256),
            "sqs" => (NotificationKind::Queue, 80),
            _ => return bad("service must be sns or sqs"),
        };
        let Ok(region) = Region::parse(parts[3]) else {
            return bad("region field is not a region");
        };
        let Ok(account) = AccountId::parse(parts[4]) else {
            return bad("account must be 12 digits");
        };
        let name = parts[5];
        if name.ends_with(".fifo") {
            return bad("S3 event notifications cannot be sent to FIFO topics or queues; use a standard one");
        }
        let name_ok = !name.is_empty()
            && name.len() <= max
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return bad(&format!(
                "the name must be 1 to {max} letters, digits, '-' or '_'"
            ));
        }
        Ok(Self {
            arn: s.to_owned(),
            kind,
            region,
            account,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }
    pub fn kind(&self) -> NotificationKind {
        self.kind
    }
    pub fn region(&self) -> &Region {
        &self.region
    }
    pub fn account(&self) -> &AccountId {
        &self.account
    }
    /// The topic's or queue's name (the ARN's last field).
    pub fn name(&self) -> &str {
        self.arn.rsplit(':').next().unwrap_or_default()
    }
}

impl fmt::Display for NotificationArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        assert!(BucketName::parse("my-bucket.logs").is_ok());
        for bad in [
            "ab",
            "My-Bucket",
            "arn:aws:s3:::b",
            "-abc",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "b_c",
        ] {
            assert!(BucketName::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn role_arns() {
        let r = RoleArn::parse("arn:aws:iam::123456789012:role/path/x/Name").unwrap();
        assert_eq!(r.account().as_str(), "123456789012");
        for bad in [
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:sts::123456789012:role/x",
            "role/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(RoleArn::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn key_arns() {
        let k = KeyArn::parse("arn:aws:kms:us-west-2:222222222222:key/1234abcd-12ab").unwrap();
        assert_eq!(k.region().as_str(), "us-west-2");
        let alias = KeyArn::parse("arn:aws:kms:us-west-2:222222222222:alias/x").unwrap_err();
        assert!(alias.contains("alias"));
        assert!(KeyArn::parse("arn:aws:kms:us-west-2::key/abc").is_err());
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "il-central-1",
        ] {
            assert!(Region::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["useast1", "US-EAST-1", "us-east", "eu-west-1a"] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Region::parse("cn-north-1").unwrap().partition(), "aws-cn");
    }

    #[test]
    fn notification_arns() {
        let t = NotificationArn::parse("arn:aws:sns:eu-west-1:111111111111:failures").unwrap();
        assert_eq!(t.kind(), NotificationKind::Topic);
        assert_eq!(t.region().as_str(), "eu-west-1");
        assert_eq!(t.account().as_str(), "111111111111");
        assert_eq!(t.name(), "failures");
        let q = NotificationArn::parse("arn:aws:sqs:eu-west-1:111111111111:q_1").unwrap();
        assert_eq!(q.kind(), NotificationKind::Queue);
        for (bad, why) in [
            ("arn:aws:sns:eu-west-1:111111111111:f.fifo", "FIFO"),
            ("arn:aws:sqs:eu-west-1:111111111111:f.fifo", "FIFO"),
            (
                "arn:aws:lambda:eu-west-1:111111111111:function:f",
                "sns or sqs",
            ),
            ("arn:aws:sns:eu-west-1:1111:failures", "12 digits"),
            ("arn:aws:sns:nowhere:111111111111:failures", "region"),
            ("arn:aws:sns:eu-west-1:111111111111:", "1 to 256"),
            ("arn:aws:sns:eu-west-1:111111111111:a/b", "1 to 256"),
            ("failures", "arn:aws:sns:"),
        ] {
            let e = NotificationArn::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("arn:aws:sqs:eu-west-1:111111111111:{}", "q".repeat(81));
        assert!(NotificationArn::parse(&long)
            .unwrap_err()
            .contains("1 to 80"));
    }
}
