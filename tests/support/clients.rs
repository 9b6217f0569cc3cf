//! SDK configuration and clients against the emulator, acting in any account (through
//! `sts:AssumeRole` of [`TEST_ADMIN_ROLE`]).

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use super::{Emulator, IAM_REGION, TEST_ACCESS_KEY_ID, TEST_ADMIN_ROLE, TEST_SECRET_ACCESS_KEY};

impl Emulator {
    /// Static test credentials (account 123456789012), endpoint set to moto.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        self.config_with(
            region,
            Credentials::new(
                TEST_ACCESS_KEY_ID,
                TEST_SECRET_ACCESS_KEY,
                None,
                None,
                "support-static",
            ),
        )
        .await
    }

    async fn config_with(&self, region: &str, credentials: Credentials) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(credentials)
            .load()
            .await
    }

    /// Credentials from `sts:AssumeRole` on `arn:aws:iam::<account>:role/test-admin`,
    /// so every call acts in `account`.
    pub async fn account_config(&self, account: &str, region: &str) -> SdkConfig {
        let sts = aws_sdk_sts::Client::new(&self.sdk_config(region).await);
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/{TEST_ADMIN_ROLE}"))
            .role_session_name("integration-tests")
            .send()
            .await
            .unwrap_or_else(|e| panic!("assume role in {account}: {e:?}"));
        let c = out.credentials().expect("assume role returned credentials");
        self.config_with(
            region,
            Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "support-assumed",
            ),
        )
        .await
    }

    /// S3 client acting in `account` (path-style addressing).
    pub async fn s3(&self, account: &str, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.account_config(account, region).await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub async fn kms(&self, account: &str, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.account_config(account, region).await)
    }

    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.account_config(account, IAM_REGION).await)
    }

    pub async fn sts(&self, account: &str, region: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.account_config(account, region).await)
    }

    pub async fn sns(&self, account: &str, region: &str) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.account_config(account, region).await)
    }

    pub async fn sqs(&self, account: &str, region: &str) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.account_config(account, region).await)
    }

    pub async fn cloudwatch(&self, account: &str, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.account_config(account, region).await)
    }
}
