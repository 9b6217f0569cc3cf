//! The source bucket's event notification configuration, read and written as the JSON document
//! `plan::notification_doc` edits (every configuration kept, ours changed by `Id`).

use aws_sdk_s3::types::{
    EventBridgeConfiguration, FilterRule, FilterRuleName, LambdaFunctionConfiguration,
    NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
    TopicConfiguration,
};
use serde_json::{json, Map, Value};

use super::account::op;
use super::{Account, AwsError, AwsErrorDetail, ErrorKind, Op};
use crate::spec::{NotificationArn, NotificationKind};

const GET_NOTIFICATION: Op = op(
    "s3",
    "GetBucketNotificationConfiguration",
    "s3:GetBucketNotification",
    false,
);
const PUT_NOTIFICATION: Op = op(
    "s3",
    "PutBucketNotificationConfiguration",
    "s3:PutBucketNotification",
    true,
);

fn arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

impl Account {
    /// The bucket's notification configuration as a JSON document (an empty object when it
    /// has none).
    pub async fn bucket_notifications(&self, bucket: &str) -> Result<String, AwsError> {
        let req = self
            .s3
            .get_bucket_notification_configuration()
            .bucket(bucket);
        let out = self
            .call(GET_NOTIFICATION, &arn(bucket), req.send())
            .await?;
        let mut doc = Map::new();
        let mut list = |key: &str, entries: Vec<Value>| {
            if !entries.is_empty() {
                doc.insert(key.to_owned(), Value::Array(entries));
            }
        };
        list(
            "TopicConfigurations",
            out.topic_configurations()
                .iter()
                .map(|c| entry(c.id(), "TopicArn", c.topic_arn(), c.events(), c.filter()))
                .collect(),
        );
        list(
            "QueueConfigurations",
            out.queue_configurations()
                .iter()
                .map(|c| entry(c.id(), "QueueArn", c.queue_arn(), c.events(), c.filter()))
                .collect(),
        );
        list(
            "LambdaFunctionConfigurations",
            out.lambda_function_configurations()
                .iter()
                .map(|c| {
                    let arn = c.lambda_function_arn();
                    entry(c.id(), "LambdaFunctionArn", arn, c.events(), c.filter())
                })
                .collect(),
        );
        if out.event_bridge_configuration().is_some() {
            doc.insert("EventBridgeConfiguration".to_owned(), json!({}));
        }
        Ok(Value::Object(doc).to_string())
    }

    /// The access policy of the topic or queue notifications go to: `None` when it does not
    /// exist, `Some(None)` when it has no policy.
    pub async fn target_policy(
        &self,
        target: &NotificationArn,
    ) -> Result<Option<Option<String>>, AwsError> {
        match target.kind() {
            NotificationKind::Topic => self.topic_policy(target.as_str()).await,
            NotificationKind::Queue => {
                let owner = target.account().as_str();
                match self.queue_url(target.name(), owner).await? {
                    Some(url) => self.queue_policy(&url).await.map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// Replaces the bucket's whole notification configuration with `document`. S3 validates
    /// every destination by sending it a test event, so a topic or queue must already let S3
    /// deliver to it.
    pub async fn put_bucket_notifications(
        &self,
        bucket: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        let config = to_sdk(document).map_err(|message| {
            AwsError::from(AwsErrorDetail {
                op: PUT_NOTIFICATION,
                account: self.id.to_string(),
                region: self.region.to_string(),
                resource: arn(bucket),
                code: "InvalidRequest".to_owned(),
                message,
                kind: ErrorKind::Invalid,
            })
        })?;
        let req = self
            .s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(config);
        self.call(PUT_NOTIFICATION, &arn(bucket), req.send())
            .await
            .map(drop)
    }
}

fn entry(
    id: Option<&str>,
    arn_key: &str,
    arn: &str,
    events: &[aws_sdk_s3::types::Event],
    filter: Option<&NotificationConfigurationFilter>,
) -> Value {
    let mut v = Map::new();
    if let Some(id) = id {
        v.insert("Id".to_owned(), json!(id));
    }
    v.insert(arn_key.to_owned(), json!(arn));
    let events: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    v.insert("Events".to_owned(), json!(events));
    let rules: Vec<Value> = filter
        .and_then(NotificationConfigurationFilter::key)
        .map(S3KeyFilter::filter_rules)
        .unwrap_or_default()
        .iter()
        .map(|r| json!({"Name": r.name().map(FilterRuleName::as_str), "Value": r.value()}))
        .collect();
    if !rules.is_empty() {
        v.insert("Filter".to_owned(), json!({"Key": {"FilterRules": rules}}));
    }
    Value::Object(v)
}

/// The parts every kind of configuration has.
struct Parts {
    id: Option<String>,
    arn: String,
    events: Vec<aws_sdk_s3::types::Event>,
    filter: Option<NotificationConfigurationFilter>,
}

fn parts(v: &Value, arn_key: &str) -> Result<Parts, String> {
    let arn = v[arn_key]
        .as_str()
        .ok_or_else(|| format!("a notification configuration lacks {arn_key}"))?;
    let events = v["Events"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(Into::into).collect())
        .unwrap_or_default();
    let rules: Vec<FilterRule> = v["Filter"]["Key"]["FilterRules"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    FilterRule::builder()
                        .set_name(r["Name"].as_str().map(FilterRuleName::from))
                        .set_value(r["Value"].as_str().map(str::to_owned))
                        .build()
                })
                .collect()
        })
        .unwrap_or_default();
    let filter = (!rules.is_empty()).then(|| {
        NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
            .build()
    });
    Ok(Parts {
        id: v["Id"].as_str().map(str::to_owned),
        arn: arn.to_owned(),
        events,
        filter,
    })
}

fn list<'a>(doc: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    doc[key].as_array().into_iter().flatten()
}

fn to_sdk(document: &str) -> Result<NotificationConfiguration, String> {
    let doc: Value = serde_json::from_str(document).map_err(|e| e.to_string())?;
    let mut b = NotificationConfiguration::builder();
    for v in list(&doc, "TopicConfigurations") {
        let p = parts(v, "TopicArn")?;
        let c = TopicConfiguration::builder()
            .set_id(p.id)
            .topic_arn(p.arn)
            .set_events(Some(p.events))
            .set_filter(p.filter)
            .build()
            .map_err(|e| e.to_string())?;
        b = b.topic_configurations(c);
    }
    for v in list(&doc, "QueueConfigurations") {
        let p = parts(v, "QueueArn")?;
        let c = QueueConfiguration::builder()
            .set_id(p.id)
            .queue_arn(p.arn)
            .set_events(Some(p.events))
            .set_filter(p.filter)
            .build()
            .map_err(|e| e.to_string())?;
        b = b.queue_configurations(c);
    }
    for v in list(&doc, "LambdaFunctionConfigurations") {
        let p = parts(v, "LambdaFunctionArn")?;
        let c = LambdaFunctionConfiguration::builder()
            .set_id(p.id)
            .lambda_function_arn(p.arn)
            .set_events(Some(p.events))
            .set_filter(p.filter)
            .build()
            .map_err(|e| e.to_string())?;
        b = b.lambda_function_configurations(c);
    }
    if doc.get("EventBridgeConfiguration").is_some() {
        b = b.event_bridge_configuration(EventBridgeConfiguration::builder().build());
    }
    Ok(b.build())
}
