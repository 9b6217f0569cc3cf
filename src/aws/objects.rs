//! The object calls of `Verify: Replication`: one small canary object written, read back in
//! every account it should reach, and removed version by version.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use super::account::{op, optional};
use super::{Account, AwsError};

const PUT_OBJECT: Op = op(
    "s3",
    "PutObject",
    "s3:PutObject and s3:PutObjectTagging",
    true,
);
const HEAD_OBJECT: Op = op("s3", "HeadObject", "s3:GetObjectVersion", false);
const DELETE_VERSION: Op = op("s3", "DeleteObject", "s3:DeleteObjectVersion", true);

use super::Op;

/// What HeadObject tells about one object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    /// `x-amz-replication-status`: PENDING, COMPLETED, FAILED (source) or REPLICA (replica).
    pub replication_status: Option<String>,
    /// The KMS key of an SSE-KMS object (as S3 reports it: a key ARN).
    pub kms_key: Option<String>,
}

fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

impl Account {
    /// Writes a small object with `tags` (SSE-KMS under `kms_key` when given, otherwise the
    /// bucket's default encryption); returns its version id (`None`: the bucket is not versioned).
    pub async fn put_tagged_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        tags: &[(String, String)],
        kms_key: Option<&str>,
    ) -> Result<Option<String>, AwsError> {
        let tagging = tags
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .content_type("text/plain")
            .tagging(tagging);
        if let Some(k) = kms_key {
            req = req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(k);
        }
        let out = self
            .call(PUT_OBJECT, &object_arn(bucket, key), req.send())
            .await?;
        Ok(out.version_id().filter(|v| *v != "null").map(str::to_owned))
    }

    /// One version of an object, or `None` if it does not exist (yet).
    pub async fn object_version(
        &self,
        bucket: &str,
        key: &str,
        version: &str,
    ) -> Result<Option<ObjectVersion>, AwsError> {
        let req = self
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .version_id(version);
        let out = optional(
            self.call(HEAD_OBJECT, &object_arn(bucket, key), req.send())
                .await,
        )?;
        Ok(out.map(|o| ObjectVersion {
            replication_status: o.replication_status().map(|s| s.as_str().to_owned()),
            kms_key: o.ssekms_key_id().map(str::to_owned),
        }))
    }

    /// Permanently removes one version (never the object's other versions); a version that is
    /// already gone counts as removed.
    pub async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version: &str,
    ) -> Result<(), AwsError> {
        let req = self
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .version_id(version);
        optional(
            self.call(DELETE_VERSION, &object_arn(bucket, key), req.send())
                .await,
        )
        .map(drop)
    }
}

/// Percent-encoding of everything but RFC 3986's unreserved characters: the `x-amz-tagging`
/// query-string form (and IAM's URL-encoded policy documents, in the test stub).
pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::urlencode;

    #[test]
    fn tag_values_are_percent_encoded() {
        assert_eq!(
            urlencode("s3-replication:canary"),
            "s3-replication%3Acanary"
        );
        assert_eq!(urlencode("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(urlencode("é"), "%C3%A9");
    }
}
