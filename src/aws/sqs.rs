//! SQS: the policy of the queue replication failures are sent to.

use aws_sdk_sqs::types::QueueAttributeName;

use super::account::{op, optional};
use super::{Account, AwsError, Op};

const GET_URL: Op = op("sqs", "GetQueueUrl", "sqs:GetQueueUrl", false);
const GET_ATTRIBUTES: Op = op("sqs", "GetQueueAttributes", "sqs:GetQueueAttributes", false);
const SET_ATTRIBUTES: Op = op("sqs", "SetQueueAttributes", "sqs:SetQueueAttributes", true);

impl Account {
    /// The URL SQS's calls name a queue by, or `None` if there is no such queue.
    pub async fn queue_url(&self, name: &str, owner: &str) -> Result<Option<String>, AwsError> {
        let req = self
            .sqs
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(owner);
        let out = optional(self.call(GET_URL, name, req.send()).await)?;
        Ok(out.and_then(|o| o.queue_url))
    }

    /// The queue's access policy, if it has one.
    pub async fn queue_policy(&self, queue_url: &str) -> Result<Option<String>, AwsError> {
        let req = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::Policy);
        let out = self.call(GET_ATTRIBUTES, queue_url, req.send()).await?;
        Ok(out
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::Policy))
            .filter(|p| !p.trim().is_empty())
            .cloned())
    }

    /// Sets the queue's access policy; an empty `policy` removes it.
    pub async fn put_queue_policy(&self, queue_url: &str, policy: &str) -> Result<(), AwsError> {
        let req = self
            .sqs
            .set_queue_attributes()
            .queue_url(queue_url)
            .attributes(QueueAttributeName::Policy, policy);
        self.call(SET_ATTRIBUTES, queue_url, req.send())
            .await
            .map(drop)
    }
}
