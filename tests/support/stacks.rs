//! A CloudFormation stack of moto's (with the project's corrections, scripts/cloudformation_engine.py)
//! holding one custom resource whose ServiceToken is an SNS topic: CloudFormation publishes each
//! request (Create, Update, Delete) there, the test reads it from a queue subscribed to the topic
//! and hands it to the provider, whose answer goes to CloudFormation's own ResponseURL. The
//! resource is then really in the state CloudFormation sends its requests in.

use std::time::Duration;

use serde_json::{json, Value};

use super::Emulator;

/// One stack with the custom resource `Replication` (`Custom::S3Replication`).
pub struct CustomResourceStack {
    pub stack_id: String,
    topic: String,
    queue_url: String,
    cfn: aws_sdk_cloudformation::Client,
    sqs: aws_sdk_sqs::Client,
}

fn template(topic: &str, properties: &Value) -> String {
    let mut props = properties.clone();
    props["ServiceToken"] = json!(topic);
    json!({"Resources": {"Replication": {"Type": "Custom::S3Replication", "Properties": props}}})
        .to_string()
}

impl CustomResourceStack {
    /// Creates the stack `name` in the default account and `region`; returns it with the Create
    /// request CloudFormation sent.
    pub async fn create(
        emu: &Emulator,
        region: &str,
        name: &str,
        properties: &Value,
    ) -> (Self, Value) {
        let config = emu.sdk_config(region).await;
        let (sns, sqs) = (
            aws_sdk_sns::Client::new(&config),
            aws_sdk_sqs::Client::new(&config),
        );
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let topic = sns
            .create_topic()
            .name(name)
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let queue_url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let queue_arn = topic.replace(":sns:", ":sqs:");
        sns.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .unwrap();
        let stack_id = cfn
            .create_stack()
            .stack_name(name)
            .template_body(template(&topic, properties))
            .send()
            .await
            .unwrap()
            .stack_id
            .unwrap();
        let stack = Self {
            stack_id,
            topic,
            queue_url,
            cfn,
            sqs,
        };
        let event = stack.next_request().await;
        (stack, event)
    }

    /// The next request CloudFormation sent the resource.
    pub async fn next_request(&self) -> Value {
        for _ in 0..50 {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .send()
                .await
                .unwrap();
            if let Some(m) = out.messages.unwrap_or_default().into_iter().next() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
                return serde_json::from_str(&m.body.unwrap()).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("CloudFormation sent no request");
    }

    /// Updates the stack to `properties`; returns the Update request sent.
    pub async fn update(&self, properties: &Value) -> Value {
        self.cfn
            .update_stack()
            .stack_name(&self.stack_id)
            .template_body(template(&self.topic, properties))
            .send()
            .await
            .unwrap();
        self.next_request().await
    }

    /// Deletes the stack; returns the Delete request sent.
    pub async fn delete(&self) -> Value {
        self.cfn
            .delete_stack()
            .stack_name(&self.stack_id)
            .send()
            .await
            .unwrap();
        self.next_request().await
    }

    /// The stack's status.
    pub async fn status(&self) -> String {
        let out = self
            .cfn
            .describe_stacks()
            .stack_name(&self.stack_id)
            .send()
            .await
            .unwrap();
        let stack = out.stacks.unwrap_or_default().into_iter().next().unwrap();
        stack
            .stack_status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default()
    }

    /// The resource's status, as `DescribeStackResource` reports it.
    pub async fn resource_status(&self) -> String {
        let out = self
            .cfn
            .describe_stack_resource()
            .stack_name(&self.stack_id)
            .logical_resource_id("Replication")
            .send()
            .await
            .unwrap();
        let detail = out.stack_resource_detail.unwrap();
        detail
            .resource_status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default()
    }
}
