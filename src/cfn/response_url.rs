//! Which `ResponseURL`s the function may PUT its answer to.
//!
//! CloudFormation's ResponseURL is a pre-signed S3 URL (for example
//! `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/...` or
//! `https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/...`).
//! Anyone allowed to invoke the function directly could otherwise make it PUT to any host: a
//! request forgery from inside the function's network position. So only `https` URLs on an S3
//! host of the `amazonaws.com` or `amazonaws.com.cn` domains are answered, plus URLs starting
//! with one of the prefixes an operator admits for local endpoints (tests, emulators,
//! `sam local invoke`) with `PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES`.

use reqwest::Url;

/// The environment setting: comma-separated URL prefixes, e.g. `http://127.0.0.1:`.
pub const ALLOWED_PREFIXES_ENV: &str = "PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES";

/// DNS suffixes of the partitions whose S3 endpoints CloudFormation pre-signs.
const AWS_DOMAINS: [&str; 2] = [".amazonaws.com", ".amazonaws.com.cn"];

/// Why a ResponseURL is not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("it is not a URL ({0})")]
    NotAUrl(String),
    #[error("it carries user information before the host")]
    UserInfo,
    #[error("it is not https to an S3 host of amazonaws.com or amazonaws.com.cn (CloudFormation's pre-signed response URLs), and starts with none of the prefixes {ALLOWED_PREFIXES_ENV} admits ({0})")]
    NotCloudFormation(String),
}

/// The prefixes admitted besides CloudFormation's own URLs (empty entries ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedPrefixes(Vec<String>);

impl AllowedPrefixes {
    pub fn parse(setting: &str) -> Self {
        Self(
            setting
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn from_env() -> Self {
        Self::parse(&std::env::var(ALLOWED_PREFIXES_ENV).unwrap_or_default())
    }

    /// Checks `url`: a parsed URL without user information that is CloudFormation's (https,
    /// S3 host in an AWS domain, default port) or starts with an admitted prefix.
    pub fn check(&self, url: &str) -> Result<(), Refused> {
        let parsed = Url::parse(url).map_err(|e| Refused::NotAUrl(e.to_string()))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Refused::UserInfo);
        }
        if is_cloudformation(&parsed) || self.0.iter().any(|p| parsed.as_str().starts_with(p)) {
            return Ok(());
        }
        let shown = if self.0.is_empty() {
            "none".to_owned()
        } else {
            self.0.join(", ")
        };
        Err(Refused::NotCloudFormation(shown))
    }
}

/// `https`, no explicit port other than 443, and an S3 endpoint host of an AWS domain: optional
/// bucket labels, a label naming S3 (`s3`, `s3-<region>`, `s3-external-1`, `s3-fips`, ...),
/// then nothing, a region, or `dualstack` and a region (so `s3-x.eu-west-1.elb.amazonaws.com`,
/// a load balancer someone named, is not one).
fn is_cloudformation(url: &Url) -> bool {
    if url.scheme() != "https" || url.port().is_some_and(|p| p != 443) {
        return false;
    }
    let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
        return false;
    };
    AWS_DOMAINS.iter().any(|domain| {
        host.strip_suffix(domain).is_some_and(|rest| {
            let labels: Vec<&str> = rest.split('.').collect();
            (0..labels.len()).any(|i| {
                let (label, tail) = (labels[i], &labels[i + 1..]);
                (label == "s3" || label.starts_with("s3-"))
                    && match tail {
                        [] => true,
                        [region] | ["dualstack", region] => is_region(region),
                        _ => false,
                    }
            })
        })
    })
}

/// `us-east-1`, `cn-north-1`, `us-gov-west-1`, `ap-southeast-2`, ...
fn is_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &str = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc";

    fn none() -> AllowedPrefixes {
        AllowedPrefixes::default()
    }

    #[test]
    fn cloudformations_own_urls_are_answered() {
        for host in [
            "cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com",
            "cloudformation-custom-resource-response-apsoutheast2.s3.ap-southeast-2.amazonaws.com",
            "cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn",
            "cloudformation-custom-resource-response-usgovwest1.s3-fips.us-gov-west-1.amazonaws.com",
            "s3.amazonaws.com",
            "S3.US-EAST-1.AMAZONAWS.COM",
            "s3-external-1.amazonaws.com",
            "bucket.with.dots.s3.dualstack.eu-west-1.amazonaws.com",
            "s3-named-bucket.s3.eu-west-1.amazonaws.com",
        ] {
            let url = format!("https://{host}/arn%3Aaws%3Acloudformation/stack/id{SIGNED}");
            assert_eq!(none().check(&url), Ok(()), "{url}");
        }
        assert_eq!(
            none().check(&format!("https://s3.amazonaws.com:443/b/k{SIGNED}")),
            Ok(())
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for url in [
            "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "https://s3.amazonaws.com:8443/x",
            "https://evil.example/x.s3.amazonaws.com",
            "https://s3.amazonaws.com.evil.example/x",
            "https://amazonaws.com/x",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://news3.amazonaws.com/x",
            "https://s3-named-lb-123.eu-west-1.elb.amazonaws.com/x",
            "https://x.s3.eu-west-1.elb.amazonaws.com/x",
            "https://s3.execute-api.eu-west-1.amazonaws.com/x",
            "https://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:8080/cfn",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(none().check(url).is_err(), "{url} was admitted");
        }
    }

    #[test]
    fn user_information_is_refused_even_under_an_admitted_prefix() {
        let local = AllowedPrefixes::parse("http://127.0.0.1:");
        assert_eq!(
            local.check("http://127.0.0.1:80@evil.example/x"),
            Err(Refused::UserInfo)
        );
        assert_eq!(
            none().check("https://user:pw@s3.amazonaws.com/x"),
            Err(Refused::UserInfo)
        );
    }

    #[test]
    fn admitted_prefixes_open_local_endpoints_only() {
        let local = AllowedPrefixes::parse(" http://127.0.0.1:, ,http://localhost:");
        assert_eq!(local.check("http://127.0.0.1:4566/cfn?sig=1"), Ok(()));
        assert_eq!(local.check("http://localhost:3000/x"), Ok(()));
        assert!(local.check("http://127.0.0.2:4566/cfn").is_err());
        assert!(local.check("http://localhost.evil.example/x").is_err());
        let msg = local.check("https://example.com/").unwrap_err().to_string();
        assert!(
            msg.contains("http://127.0.0.1:, http://localhost:"),
            "{msg}"
        );
        assert!(msg.contains(ALLOWED_PREFIXES_ENV), "{msg}");
    }
}
