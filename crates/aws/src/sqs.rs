//! The queue of runners to sync (SQS): the fan-out sends one message per runner due, the worker
//! takes them. A message's body is `{"runner_id": "...", "mode": null}` (the schedule's policy:
//! incremental, full once a week) or `"mode": "full"`, with `"remind": true` when the runner has
//! a reminder due (judged after a sync when their mirror is not fresh).

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde_json::{Value, json};
use thiserror::Error;

/// SQS takes at most ten messages per `SendMessageBatch`.
const BATCH: usize = 10;

/// One runner to sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunnerJob {
    /// The site's id of the runner.
    pub runner_id: String,
    /// A full sync (`"mode": "full"`) rather than what the schedule says (`"mode": null`).
    pub full: bool,
    /// The runner's reminder is due (`"remind": true`).
    pub remind: bool,
}

/// A message that is not a [`RunnerJob`].
#[derive(Debug, Error)]
#[error("the message is not a runner job: {0}")]
pub struct JobError(&'static str);

impl RunnerJob {
    /// The message body.
    pub fn body(&self) -> String {
        let mode = if self.full {
            json!("full")
        } else {
            Value::Null
        };
        let mut body = json!({ "runner_id": self.runner_id, "mode": mode });
        if self.remind {
            body["remind"] = json!(true);
        }
        body.to_string()
    }

    /// Reads a message body. The error never quotes the body.
    pub fn parse(body: &str) -> Result<RunnerJob, JobError> {
        let value: Value = serde_json::from_str(body).map_err(|_| JobError("not JSON"))?;
        let runner_id = value
            .get("runner_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or(JobError("runner_id is missing"))?
            .to_owned();
        let full = match value.get("mode") {
            None | Some(Value::Null) => false,
            Some(Value::String(mode)) if mode == "full" => true,
            Some(_) => return Err(JobError("mode is neither null nor \"full\"")),
        };
        let remind = match value.get("remind") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(remind)) => *remind,
            Some(_) => return Err(JobError("remind is not true or false")),
        };
        Ok(RunnerJob {
            runner_id,
            full,
            remind,
        })
    }
}

/// A job SQS did not take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedJob {
    /// Whose.
    pub runner_id: String,
    /// SQS's error code (or what kind of failure it was).
    pub code: String,
}

/// What [`RunnerQueue::send`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// Messages SQS took.
    pub sent: usize,
    /// Jobs it did not take, each with why.
    pub failed: Vec<FailedJob>,
}

/// The runner queue.
#[derive(Clone, Debug)]
pub struct RunnerQueue {
    client: Client,
    queue_url: String,
}

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .unwrap_or("an unnamed error")
            .to_owned(),
        SdkError::TimeoutError(_) => "no answer in time".into(),
        SdkError::DispatchFailure(_) => "SQS could not be reached".into(),
        SdkError::ResponseError(_) => "an answer that could not be read".into(),
        SdkError::ConstructionFailure(_) => "a request that could not be built".into(),
        _ => "an unknown failure".into(),
    }
}

impl RunnerQueue {
    /// The queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        RunnerQueue {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.queue_url
    }

    /// Sends one message per job, ten per `SendMessageBatch`. A batch SQS refuses as a whole,
    /// or an entry it does not take, is reported in [`Enqueued::failed`]; the other batches are
    /// still sent.
    pub async fn send(&self, jobs: &[RunnerJob]) -> Enqueued {
        let mut report = Enqueued::default();
        for chunk in jobs.chunks(BATCH) {
            let fail_all = |report: &mut Enqueued, code: &str| {
                report.failed.extend(chunk.iter().map(|job| FailedJob {
                    runner_id: job.runner_id.clone(),
                    code: code.to_owned(),
                }))
            };
            let entries: Result<Vec<_>, _> = chunk
                .iter()
                .enumerate()
                .map(|(i, job)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(job.body())
                        .build()
                })
                .collect();
            let Ok(entries) = entries else {
                fail_all(&mut report, "a request that could not be built");
                continue;
            };
            match self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => {
                    for (i, job) in chunk.iter().enumerate() {
                        let id = i.to_string();
                        if let Some(failed) = out.failed().iter().find(|f| f.id() == id) {
                            report.failed.push(FailedJob {
                                runner_id: job.runner_id.clone(),
                                code: failed.code().to_owned(),
                            });
                        } else if out.successful().iter().any(|s| s.id() == id) {
                            report.sent += 1;
                        } else {
                            report.failed.push(FailedJob {
                                runner_id: job.runner_id.clone(),
                                code: "not in SQS's answer".into(),
                            });
                        }
                    }
                }
                Err(e) => fail_all(&mut report, &code(&e)),
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_round_trips_and_a_bad_body_is_refused_without_being_quoted() {
        for (full, remind) in [(false, false), (true, false), (false, true)] {
            let job = RunnerJob {
                runner_id: "r-1".into(),
                full,
                remind,
            };
            assert_eq!(RunnerJob::parse(&job.body()).unwrap(), job);
        }
        let body: Value = serde_json::from_str(
            &RunnerJob {
                runner_id: "r-1".into(),
                full: false,
                remind: false,
            }
            .body(),
        )
        .unwrap();
        assert_eq!(body, json!({"runner_id": "r-1", "mode": null}));
        assert!(!RunnerJob::parse(r#"{"runner_id": "r-1"}"#).unwrap().full);
        for bad in [
            "secret-looking text",
            r#"{"mode": "full"}"#,
            r#"{"runner_id": "r", "mode": "sometimes"}"#,
            r#"{"runner_id": "r", "remind": "sometimes"}"#,
        ] {
            let err = RunnerJob::parse(bad).unwrap_err().to_string();
            assert!(
                !err.contains("secret") && !err.contains("sometimes"),
                "{err}"
            );
        }
    }
}
