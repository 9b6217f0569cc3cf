//! The `trust` link: may S3 assume the replication role for the source bucket (and would it
//! for anyone else's: the confused-deputy advisory)?

use serde_json::json;

use super::checker::{Checker, S3_SERVICE};
use super::text::with_lints;
use super::{Finding, Status};
use crate::doctor::decide::{self, Document};
use crate::doctor::eval::{Decision, Principal, Request};
use crate::doctor::lint;

impl Checker<'_> {
    pub(super) fn trust(&self) -> Finding {
        let s = self.s;
        let role = &s.role.arn;
        let src_arn = self.bucket_arn(&s.source.bucket);
        let ctx = |account: &str, arn: &str| self.service_context(account, arn);
        let req = Request::new(
            Principal::service(S3_SERVICE),
            "sts:AssumeRole",
            role,
            ctx(&s.source.account, &src_arn),
        );
        let name = "trust policy";
        let v = decide::trust(&req, Document::new(name, &s.role.trust_policy));
        let statement = json!({
            "Effect": "Allow",
            "Principal": {"Service": S3_SERVICE},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {
                "aws:SourceAccount": s.source.account,
                "aws:SourceArn": src_arn
            }}
        });
        let mut f = Finding {
            link: "trust".to_owned(),
            status: Status::Pass,
            detail: String::new(),
            account: self.role_account().to_owned(),
            region: "global".to_owned(),
            resource: role.clone(),
            fix: None,
            advisory: None,
        };
        match v.decision {
            Decision::Allow => {
                f.detail = format!(
                    "S3 may assume the role for {src_arn} (allowed by {})",
                    v.resource.allowed_by.join(", ")
                );
                // Confused deputy: would S3 acting for someone else's bucket get in too?
                let other_account = if s.source.account == "000000000000" {
                    "999999999999"
                } else {
                    "000000000000"
                };
                let other = Request::new(
                    Principal::service(S3_SERVICE),
                    "sts:AssumeRole",
                    role,
                    ctx(other_account, &self.bucket_arn("doctor-some-other-bucket")),
                );
                let o = decide::trust(&other, Document::new(name, &s.role.trust_policy));
                if o.decision == Decision::Allow {
                    f.advisory = Some(format!(
                        "the trust policy lets S3 assume this role on behalf of any bucket in any account (confused deputy); add the condition {} to the statement that trusts s3.amazonaws.com",
                        statement["Condition"]
                    ));
                }
            }
            Decision::ExplicitDeny => {
                f.status = Status::Fail;
                f.detail = format!(
                    "S3 may not assume the role for {src_arn}: explicitly denied by {}",
                    v.denied_by().join(", ")
                );
            }
            Decision::ImplicitDeny => {
                f.status = Status::Fail;
                f.detail = with_lints(
                    format!(
                        "no statement of the trust policy lets s3.amazonaws.com call sts:AssumeRole for {src_arn} in account {}",
                        s.source.account
                    ),
                    lint::lint(&s.role.trust_policy, name),
                );
                f.fix = Some(json!([{
                    "account": f.account, "region": "global", "resource": role,
                    "policy": "trust policy", "statement": statement
                }]));
            }
            Decision::CannotDecide => {
                f.status = Status::CannotDecide;
                f.detail = format!(
                    "whether S3 may assume the role cannot be decided: {}",
                    v.undecided().join("; ")
                );
            }
        }
        f
    }
}
