//! The site's accounts in DynamoDB: the application's [`AccountBook`] port, for AWS.
//!
//! One table, keyed by `pk` (partition) and `sk` (sort), every item a `kind` and, for records,
//! the record itself as a map attribute `record` (the serde form of the store's type, so a field
//! added there is stored without a change here):
//!
//! | `pk`                 | `sk`               | `kind`          | what                                           |
//! |----------------------|--------------------|-----------------|------------------------------------------------|
//! | `RUNNER#{id}`        | `RUNNER`           | `runner`        | the runner (and `rev`, `runner_list`, `runner_order`) |
//! | `RUNNER#{id}`        | `HEALTH`           | `health`        | their sync health                              |
//! | `RUNNER#{id}`        | `SESSION#{hash}`   | `session-ref`   | points at one of their sessions                |
//! | `RUNNER#{id}`        | `APITOKEN#{hash}`  | `api-token-ref` | points at one of their API tokens              |
//! | `SMASHRUN#{user id}` | `UNIQUE`           | `smashrun-id`   | claims a SmashRun user for one runner          |
//! | `HANDLE#{handle}`    | `UNIQUE`           | `handle`        | claims a public handle for one runner          |
//! | `SESSION#{hash}`     | `SESSION`          | `session`       | a session (`expires`: DynamoDB's TTL)          |
//! | `APITOKEN#{hash}`    | `APITOKEN`         | `api-token`     | a personal API token                           |
//! | `LOGIN#{hash}`       | `LOGIN`            | `login`         | a login in progress (`expires`: TTL, an hour)  |
//! | `APP`                | `REQUESTS#{hour}`  | `app-requests`  | the app's SmashRun requests in one clock hour (`requests`, added to atomically; `expires`: TTL, 3 hours) |
//!
//! Why this shape:
//! - Lookups never scan. A session, an API token or a login is one `GetItem` by its hash. The
//!   runner of a SmashRun user or of a handle is found through its claim item, which
//!   [`AccountBook::put_runner`] writes in the same transaction as the runner, on the condition
//!   that no other runner holds it: the uniqueness the embedded book gets from `UNIQUE`
//!   columns. Every read is strongly consistent.
//! - Everything of a runner is in their partition, or pointed at from it (sessions and API
//!   tokens are written with their pointer in one transaction that also checks that the runner
//!   exists), so [`AccountBook::delete_runner`] finds all of it with one strongly consistent
//!   query, and nothing is written for a runner once their item is gone: a sync finishing after
//!   the runner left cannot bring their health back.
//! - Listing every runner (the fan-out, the roster) reads the sparse index `runners`, which holds
//!   runner items only, oldest account first (`runner_order` is the creation instant in
//!   microseconds, zero-padded, then the id); the roster then reads their healths, 32 at once.
//! - The app's SmashRun requests are counted per clock hour in one item each, added to with
//!   `ADD` by every worker, so that the fan-out keeps all of them within the app's budget.
//! - Sessions and logins carry `expires` (epoch seconds, rounded up) for DynamoDB's TTL, which
//!   removes them within a day or two of ending; lookups check the exact end themselves.
//!   [`AccountBook::purge`] removes them at once, with a paged scan: an operator's chore, never
//!   on a request's path.
//!
//! Nothing secret is stored in the clear (tokens arrive sealed, sessions as hashes), and errors
//! carry DynamoDB's error code only, never an item.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType,
    Select, TimeToLiveSpecification, TransactWriteItem,
};
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::site::schedule::{clock_hour, sliding_hour};
use myrunstreak_app::site::{
    AccountBook, ApiTokenRecord, PendingLogin, RunnerAccount, Sealed, SessionRecord, SiteError,
    SyncHealth,
};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

type Item = HashMap<String, AttributeValue>;

/// The partition key attribute.
pub const PARTITION_KEY: &str = "pk";
/// The sort key attribute.
pub const SORT_KEY: &str = "sk";
/// The sparse index of runner items, oldest account first.
pub const RUNNERS_INDEX: &str = "runners";
/// The runners index's partition key (always `runner`, on runner items only).
pub const RUNNERS_INDEX_KEY: &str = "runner_list";
/// The runners index's sort key.
pub const RUNNERS_INDEX_SORT: &str = "runner_order";
/// The TTL attribute (epoch seconds) of sessions and logins.
pub const TTL_ATTRIBUTE: &str = "expires";

/// How long an unfinished login is kept before DynamoDB's TTL removes it (the site refuses it
/// after ten minutes anyway).
const LOGIN_KEPT: SignedDuration = SignedDuration::from_hours(1);

const RUNNER: &str = "RUNNER";
const HEALTH: &str = "HEALTH";
const UNIQUE: &str = "UNIQUE";
const SESSION: &str = "SESSION";
const API_TOKEN: &str = "APITOKEN";
const LOGIN: &str = "LOGIN";
const APP: &str = "APP";

/// How many healths [`AccountBook::roster`] reads at once: one `GetItem` after another took
/// 100,000 runners about 8 minutes on paper (5 ms each).
const ROSTER_READS: usize = 32;

/// The sort key of the app's count of one clock hour (its start, epoch seconds).
fn requests_sk(hour: Timestamp) -> String {
    format!("REQUESTS#{}", hour.as_second())
}

fn runner_pk(id: &str) -> String {
    format!("RUNNER#{id}")
}

fn smashrun_pk(id: i64) -> String {
    format!("SMASHRUN#{id}")
}

fn handle_pk(handle: &str) -> String {
    format!("HANDLE#{handle}")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(pk)),
        (SORT_KEY.to_owned(), s(sk)),
    ])
}

/// Epoch seconds, rounded up: an item's TTL never comes before its exact end.
fn ttl_seconds(at: Timestamp) -> i64 {
    let seconds = at.as_second();
    if at.subsec_nanosecond() > 0 {
        seconds + 1
    } else {
        seconds
    }
}

/// A JSON value as a DynamoDB attribute.
fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(number) => AttributeValue::N(number.to_string()),
        Value::String(text) => AttributeValue::S(text.clone()),
        Value::Array(list) => AttributeValue::L(list.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

/// A DynamoDB attribute as JSON; `None` for the kinds a record never has (binary, sets).
fn from_attribute(attribute: &AttributeValue) -> Option<Value> {
    Some(match attribute {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(text) => {
            if let Ok(i) = text.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = text.parse::<u64>() {
                Value::from(u)
            } else {
                serde_json::Number::from_f64(text.parse().ok()?).map(Value::Number)?
            }
        }
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::L(list) => Value::Array(
            list.iter()
                .map(from_attribute)
                .collect::<Option<Vec<_>>>()?,
        ),
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Some((k.clone(), from_attribute(v)?)))
                .collect::<Option<serde_json::Map<_, _>>>()?,
        ),
        _ => return None,
    })
}

/// A record's serde form as the `record` attribute.
fn encode(value: serde_json::Result<Value>) -> Result<AttributeValue, SiteError> {
    value
        .map(|v| to_attribute(&v))
        .map_err(|_| SiteError::Internal("a record could not be serialized".into()))
}

/// The `record` of an item of `kind`, read back with `parse` (`serde_json::from_value`). The
/// error names the kind only: serde's message could quote the item.
fn decode<T>(
    item: &Item,
    kind: &str,
    parse: impl FnOnce(Value) -> serde_json::Result<T>,
) -> Result<T, SiteError> {
    item.get("record")
        .and_then(from_attribute)
        .and_then(|v| parse(v).ok())
        .ok_or_else(|| {
            SiteError::Remote(format!(
                "a {kind} item in DynamoDB is not a {kind} record; was it written by another version?"
            ))
        })
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

fn number(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

/// Why a request failed, in DynamoDB's own words: its error code, never its message or an item.
fn why<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .unwrap_or("an unnamed error")
            .to_owned(),
        SdkError::TimeoutError(_) => "no answer in time".into(),
        SdkError::DispatchFailure(_) => "DynamoDB could not be reached".into(),
        SdkError::ResponseError(_) => "an answer that could not be read".into(),
        SdkError::ConstructionFailure(_) => "a request that could not be built".into(),
        _ => "an unknown failure".into(),
    }
}

/// A transaction that did not happen.
enum TxFailure {
    /// Cancelled: DynamoDB's reason code for each item, in order (empty when it gave none).
    Cancelled(Vec<String>),
    /// Failed otherwise.
    Failed(SiteError),
}

/// The part an item plays in `put_runner`'s transaction, to say which condition failed.
#[derive(Clone, Copy)]
enum Part {
    Runner,
    SmashRunClaim(i64),
    HandleClaim,
    Release,
}

/// The [`AccountBook`] on one DynamoDB table (see the module's documentation for its design).
#[derive(Clone, Debug)]
pub struct DynamoAccounts {
    client: Client,
    table: String,
}

impl DynamoAccounts {
    /// The book on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoAccounts {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn remote<E: ProvideErrorMetadata, R>(&self, action: &str, e: &SdkError<E, R>) -> SiteError {
        SiteError::Remote(format!(
            "DynamoDB {action} on table {} failed: {}",
            self.table,
            why(e)
        ))
    }

    fn built(what: &str) -> impl FnOnce(aws_sdk_dynamodb::error::BuildError) -> SiteError + '_ {
        move |_| SiteError::Internal(format!("a DynamoDB {what} could not be built"))
    }

    /// Creates the table as `deploy/terraform/site.tf` declares it (keys, the runners index,
    /// TTL on `expires`): for tests and local emulators; Terraform makes the real one.
    pub async fn create_table(&self) -> Result<(), SiteError> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(Self::built("table definition"))
        };
        let element = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(Self::built("table definition"))
        };
        let index = GlobalSecondaryIndex::builder()
            .index_name(RUNNERS_INDEX)
            .key_schema(element(RUNNERS_INDEX_KEY, KeyType::Hash)?)
            .key_schema(element(RUNNERS_INDEX_SORT, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(Self::built("index definition"))?;
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(PARTITION_KEY)?)
            .attribute_definitions(attribute(SORT_KEY)?)
            .attribute_definitions(attribute(RUNNERS_INDEX_KEY)?)
            .attribute_definitions(attribute(RUNNERS_INDEX_SORT)?)
            .key_schema(element(PARTITION_KEY, KeyType::Hash)?)
            .key_schema(element(SORT_KEY, KeyType::Range)?)
            .global_secondary_indexes(index)
            .send()
            .await
            .map_err(|e| self.remote("CreateTable", &e))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(Self::built("TTL specification"))?,
            )
            .send()
            .await
            .map_err(|e| self.remote("UpdateTimeToLive", &e))?;
        Ok(())
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, SiteError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| self.remote("GetItem", &e))
    }

    async fn delete(&self, pk: String, sk: &str) -> Result<Option<Item>, SiteError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map(|out| out.attributes)
            .map_err(|e| self.remote("DeleteItem", &e))
    }

    /// Every item of a partition (whose sort key begins with `prefix`, when given).
    async fn partition(&self, pk: String, prefix: Option<&str>) -> Result<Vec<Item>, SiteError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start);
            query = match prefix {
                Some(prefix) => query
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", SORT_KEY)
                    .expression_attribute_values(":prefix", s(prefix)),
                None => query.key_condition_expression("#pk = :pk"),
            };
            let out = query.send().await.map_err(|e| self.remote("Query", &e))?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxFailure> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Some(service) = e.as_service_error()
                    && let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled) = service
                {
                    return Err(TxFailure::Cancelled(
                        cancelled
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().unwrap_or("None").to_owned())
                            .collect(),
                    ));
                }
                Err(TxFailure::Failed(self.remote("TransactWriteItems", &e)))
            }
        }
    }

    fn put(
        &self,
        item: Item,
        condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<TransactWriteItem, SiteError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((expression, values)) = condition {
            put = put.condition_expression(expression);
            for (name, value) in values {
                put = put.expression_attribute_values(name, value);
            }
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(Self::built("put"))?)
            .build())
    }

    /// A condition that the runner's item exists, for a transaction writing something of theirs.
    fn runner_exists(&self, runner_id: &str) -> Result<TransactWriteItem, SiteError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(runner_pk(runner_id), RUNNER)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(Self::built("condition check"))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Claims `pk` (a SmashRun user or a handle) for `runner_id`, unless another runner holds it.
    fn claim(
        &self,
        pk: String,
        kind: &str,
        runner_id: &str,
    ) -> Result<TransactWriteItem, SiteError> {
        let mut item = key(pk, UNIQUE);
        item.insert("kind".into(), s(kind));
        item.insert("runner_id".into(), s(runner_id));
        self.put(
            item,
            Some((
                "attribute_not_exists(pk) OR runner_id = :runner",
                vec![(":runner", s(runner_id))],
            )),
        )
    }

    /// Gives up `runner_id`'s claim on `pk` (and leaves another runner's alone).
    fn release(&self, pk: String, runner_id: &str) -> Result<TransactWriteItem, SiteError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, UNIQUE)))
            .condition_expression("attribute_not_exists(pk) OR runner_id = :runner")
            .expression_attribute_values(":runner", s(runner_id))
            .build()
            .map_err(Self::built("delete"))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The runner who holds the claim `pk`.
    async fn claimed(&self, pk: String) -> Result<Option<RunnerAccount>, SiteError> {
        let Some(claim) = self.get(pk, UNIQUE).await? else {
            return Ok(None);
        };
        match text(&claim, "runner_id") {
            Some(id) => self.runner(id).await,
            None => Ok(None),
        }
    }

    /// Writes a record of `runner_id` together with its pointer in their partition, if they
    /// exist.
    async fn put_owned(
        &self,
        runner_id: &str,
        item: Item,
        pointer: Item,
        fresh: bool,
    ) -> Result<(), SiteError> {
        let condition = fresh.then(|| ("attribute_not_exists(pk)", Vec::new()));
        let items = vec![
            self.runner_exists(runner_id)?,
            self.put(item, condition)?,
            self.put(pointer, None)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Cancelled(codes))
                if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") =>
            {
                Err(SiteError::NoRunner)
            }
            Err(TxFailure::Cancelled(codes)) => Err(SiteError::Remote(format!(
                "DynamoDB refused the write on table {} ({})",
                self.table,
                codes.join(", ")
            ))),
            Err(TxFailure::Failed(e)) => Err(e),
        }
    }

    async fn runner_list_query(
        &self,
        count_only: bool,
    ) -> Result<(Vec<RunnerAccount>, usize), SiteError> {
        let mut runners = Vec::new();
        let mut count = 0;
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(RUNNERS_INDEX)
                .key_condition_expression("#list = :runner")
                .expression_attribute_names("#list", RUNNERS_INDEX_KEY)
                .expression_attribute_values(":runner", s("runner"))
                .scan_index_forward(true)
                .set_exclusive_start_key(start);
            if count_only {
                query = query.select(Select::Count);
            }
            let out = query.send().await.map_err(|e| self.remote("Query", &e))?;
            count += out.count.max(0) as usize;
            for item in out.items.unwrap_or_default() {
                runners.push(decode(&item, "runner", serde_json::from_value)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok((runners, count));
            }
        }
    }
}

/// A runner's place in the runners index: oldest account first, then by id.
fn runner_order(runner: &RunnerAccount) -> String {
    let micros = runner.created.as_microsecond().max(0);
    format!("{micros:020}#{}", runner.id)
}

#[async_trait]
impl AccountBook for DynamoAccounts {
    async fn runner(&self, id: &str) -> Result<Option<RunnerAccount>, SiteError> {
        self.get(runner_pk(id), RUNNER)
            .await?
            .map(|item| decode(&item, "runner", serde_json::from_value))
            .transpose()
    }

    async fn runner_by_smashrun_id(&self, id: i64) -> Result<Option<RunnerAccount>, SiteError> {
        self.claimed(smashrun_pk(id)).await
    }

    async fn runner_by_handle(&self, handle: &str) -> Result<Option<RunnerAccount>, SiteError> {
        self.claimed(handle_pk(handle)).await
    }

    async fn runners(&self) -> Result<Vec<RunnerAccount>, SiteError> {
        Ok(self.runner_list_query(false).await?.0)
    }

    async fn count_runners(&self) -> Result<usize, SiteError> {
        Ok(self.runner_list_query(true).await?.1)
    }

    async fn put_runner(&self, runner: &RunnerAccount) -> Result<(), SiteError> {
        let old = self.get(runner_pk(&runner.id), RUNNER).await?;
        let (rev, old): (Option<i64>, Option<RunnerAccount>) = match &old {
            Some(item) => (
                Some(number(item, "rev").unwrap_or(0)),
                Some(decode(item, "runner", serde_json::from_value)?),
            ),
            None => (None, None),
        };
        // an existing runner's tokens change only through set_tokens (which bumps `rev`, so a
        // refresh between the read above and this write fails the condition below)
        let mut runner = runner.clone();
        if let Some(old) = &old {
            runner.tokens = old.tokens.clone();
        }
        let runner = &runner;
        let mut item = key(runner_pk(&runner.id), RUNNER);
        item.insert("kind".into(), s("runner"));
        item.insert("record".into(), encode(serde_json::to_value(runner))?);
        item.insert(RUNNERS_INDEX_KEY.into(), s("runner"));
        item.insert(RUNNERS_INDEX_SORT.into(), s(runner_order(runner)));
        item.insert("rev".into(), n(rev.unwrap_or(0) + 1));
        // the runner as it was read: another writer in between fails this one
        let condition = match rev {
            Some(rev) => ("rev = :rev", vec![(":rev", n(rev))]),
            None => ("attribute_not_exists(pk)", Vec::new()),
        };
        let mut items = vec![self.put(item, Some(condition))?];
        let mut parts = vec![Part::Runner];

        let old_smashrun = old.as_ref().map(|r| r.smashrun_id);
        if old_smashrun != Some(runner.smashrun_id) {
            items.push(self.claim(smashrun_pk(runner.smashrun_id), "smashrun-id", &runner.id)?);
            parts.push(Part::SmashRunClaim(runner.smashrun_id));
            if let Some(previous) = old_smashrun {
                items.push(self.release(smashrun_pk(previous), &runner.id)?);
                parts.push(Part::Release);
            }
        }
        let old_handle = old.as_ref().and_then(|r| r.handle.clone());
        if old_handle != runner.handle {
            if let Some(handle) = &runner.handle {
                items.push(self.claim(handle_pk(handle), "handle", &runner.id)?);
                parts.push(Part::HandleClaim);
            }
            if let Some(previous) = &old_handle {
                items.push(self.release(handle_pk(previous), &runner.id)?);
                parts.push(Part::Release);
            }
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Failed(e)) => Err(e),
            Err(TxFailure::Cancelled(codes)) => {
                let failed = codes
                    .iter()
                    .position(|c| c == "ConditionalCheckFailed")
                    .and_then(|i| parts.get(i).copied());
                Err(match failed {
                    Some(Part::SmashRunClaim(id)) => SiteError::Invalid(format!(
                        "SmashRun user {id} already has an account here"
                    )),
                    Some(Part::HandleClaim) => SiteError::Invalid(format!(
                        "the handle {} is taken; choose another",
                        runner.handle.as_deref().unwrap_or_default()
                    )),
                    Some(Part::Runner) => SiteError::Remote(format!(
                        "runner {} was changed by another request meanwhile; try again",
                        runner.id
                    )),
                    Some(Part::Release) | None => SiteError::Remote(format!(
                        "DynamoDB refused to save runner {} ({}); try again",
                        runner.id,
                        if codes.is_empty() {
                            "no reason given".to_owned()
                        } else {
                            codes.join(", ")
                        }
                    )),
                })
            }
        }
    }

    async fn set_tokens(&self, id: &str, tokens: Option<&Sealed>) -> Result<(), SiteError> {
        let value = encode(serde_json::to_value(tokens))?;
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(runner_pk(id), RUNNER)))
            .update_expression("SET #record.#tokens = :tokens ADD rev :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#record", "record")
            .expression_attribute_names("#tokens", "tokens")
            .expression_attribute_values(":tokens", value)
            .expression_attribute_values(":one", n(1))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(SiteError::NoRunner)
            }
            Err(e) => Err(self.remote("UpdateItem", &e)),
        }
    }

    async fn health(&self, id: &str) -> Result<SyncHealth, SiteError> {
        match self.get(runner_pk(id), HEALTH).await? {
            Some(item) => decode(&item, "health", serde_json::from_value),
            None => Ok(SyncHealth::default()),
        }
    }

    async fn put_health(&self, id: &str, health: &SyncHealth) -> Result<(), SiteError> {
        let mut item = key(runner_pk(id), HEALTH);
        item.insert("kind".into(), s("health"));
        item.insert("record".into(), encode(serde_json::to_value(health))?);
        match self
            .transact(vec![self.runner_exists(id)?, self.put(item, None)?])
            .await
        {
            Ok(()) => Ok(()),
            Err(TxFailure::Cancelled(codes))
                if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") =>
            {
                Err(SiteError::NoRunner)
            }
            Err(TxFailure::Cancelled(codes)) => Err(SiteError::Remote(format!(
                "DynamoDB refused to save the health of runner {id} ({})",
                codes.join(", ")
            ))),
            Err(TxFailure::Failed(e)) => Err(e),
        }
    }

    async fn delete_runner(&self, id: &str) -> Result<(), SiteError> {
        // the runner and their claims first, at once: from here on nothing of theirs can be
        // written (every write of theirs checks their item), and their SmashRun user and handle
        // are free for a new account
        if let Some(item) = self.get(runner_pk(id), RUNNER).await? {
            let runner: RunnerAccount = decode(&item, "runner", serde_json::from_value)?;
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(runner_pk(id), RUNNER)))
                .build()
                .map_err(Self::built("delete"))?;
            let mut items = vec![
                TransactWriteItem::builder().delete(delete).build(),
                self.release(smashrun_pk(runner.smashrun_id), id)?,
            ];
            if let Some(handle) = &runner.handle {
                items.push(self.release(handle_pk(handle), id)?);
            }
            match self.transact(items).await {
                Ok(()) => {}
                Err(TxFailure::Failed(e)) => return Err(e),
                Err(TxFailure::Cancelled(codes)) => {
                    return Err(SiteError::Remote(format!(
                        "DynamoDB refused to delete runner {id} ({}); try again",
                        codes.join(", ")
                    )));
                }
            }
        }
        // then everything left in their partition and what it points at; a retry after a
        // failure here finds what is left
        for item in self.partition(runner_pk(id), None).await? {
            let Some(sk) = text(&item, SORT_KEY) else {
                continue;
            };
            if let Some(hash) = sk.strip_prefix("SESSION#") {
                self.delete(format!("SESSION#{hash}"), SESSION).await?;
            } else if let Some(hash) = sk.strip_prefix("APITOKEN#") {
                self.delete(format!("APITOKEN#{hash}"), API_TOKEN).await?;
            }
            self.delete(runner_pk(id), sk).await?;
        }
        Ok(())
    }

    async fn put_session(&self, session: &SessionRecord) -> Result<(), SiteError> {
        let expires = n(ttl_seconds(session.expires));
        let mut item = key(format!("SESSION#{}", session.id_hash), SESSION);
        item.insert("kind".into(), s("session"));
        item.insert("record".into(), encode(serde_json::to_value(session))?);
        item.insert("runner_id".into(), s(&session.runner_id));
        item.insert(TTL_ATTRIBUTE.into(), expires.clone());
        let mut pointer = key(
            runner_pk(&session.runner_id),
            &format!("SESSION#{}", session.id_hash),
        );
        pointer.insert("kind".into(), s("session-ref"));
        pointer.insert(TTL_ATTRIBUTE.into(), expires);
        self.put_owned(&session.runner_id, item, pointer, false)
            .await
    }

    async fn session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, SiteError> {
        let Some(item) = self.get(format!("SESSION#{id_hash}"), SESSION).await? else {
            return Ok(None);
        };
        let session: SessionRecord = decode(&item, "session", serde_json::from_value)?;
        Ok((session.expires > now).then_some(session))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), SiteError> {
        if let Some(old) = self.delete(format!("SESSION#{id_hash}"), SESSION).await?
            && let Some(runner_id) = text(&old, "runner_id")
        {
            self.delete(runner_pk(runner_id), &format!("SESSION#{id_hash}"))
                .await?;
        }
        Ok(())
    }

    async fn delete_sessions_of(&self, runner_id: &str) -> Result<(), SiteError> {
        for pointer in self
            .partition(runner_pk(runner_id), Some("SESSION#"))
            .await?
        {
            let Some(sk) = text(&pointer, SORT_KEY) else {
                continue;
            };
            self.delete(sk.to_owned(), SESSION).await?;
            self.delete(runner_pk(runner_id), sk).await?;
        }
        Ok(())
    }

    async fn put_api_token(&self, token: &ApiTokenRecord) -> Result<(), SiteError> {
        let mut item = key(format!("APITOKEN#{}", token.id_hash), API_TOKEN);
        item.insert("kind".into(), s("api-token"));
        item.insert("record".into(), encode(serde_json::to_value(token))?);
        item.insert("runner_id".into(), s(&token.runner_id));
        let mut pointer = key(
            runner_pk(&token.runner_id),
            &format!("APITOKEN#{}", token.id_hash),
        );
        pointer.insert("kind".into(), s("api-token-ref"));
        self.put_owned(&token.runner_id, item, pointer, true).await
    }

    async fn api_token(&self, id_hash: &str) -> Result<Option<ApiTokenRecord>, SiteError> {
        self.get(format!("APITOKEN#{id_hash}"), API_TOKEN)
            .await?
            .map(|item| decode(&item, "api-token", serde_json::from_value))
            .transpose()
    }

    async fn api_tokens_of(&self, runner_id: &str) -> Result<Vec<ApiTokenRecord>, SiteError> {
        let mut tokens = Vec::new();
        for pointer in self
            .partition(runner_pk(runner_id), Some("APITOKEN#"))
            .await?
        {
            let Some(sk) = text(&pointer, SORT_KEY) else {
                continue;
            };
            if let Some(item) = self.get(sk.to_owned(), API_TOKEN).await? {
                tokens.push(decode(&item, "api-token", serde_json::from_value)?);
            }
        }
        tokens
            .sort_by(|a: &ApiTokenRecord, b| (a.created, &a.id_hash).cmp(&(b.created, &b.id_hash)));
        Ok(tokens)
    }

    async fn delete_api_token(&self, runner_id: &str, id_hash: &str) -> Result<bool, SiteError> {
        let pk = format!("APITOKEN#{id_hash}");
        let Some(item) = self.get(pk.clone(), API_TOKEN).await? else {
            return Ok(false);
        };
        if text(&item, "runner_id") != Some(runner_id) {
            return Ok(false);
        }
        self.delete(pk.clone(), API_TOKEN).await?;
        self.delete(runner_pk(runner_id), &pk).await?;
        Ok(true)
    }

    async fn put_login(&self, login: &PendingLogin) -> Result<(), SiteError> {
        let mut item = key(format!("LOGIN#{}", login.state_hash), LOGIN);
        item.insert("kind".into(), s("login"));
        item.insert("record".into(), encode(serde_json::to_value(login))?);
        item.insert("created_us".into(), n(login.created.as_microsecond()));
        item.insert(
            TTL_ATTRIBUTE.into(),
            n(ttl_seconds(login.created + LOGIN_KEPT)),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.remote("PutItem", &e))
    }

    async fn take_login(&self, state_hash: &str) -> Result<Option<PendingLogin>, SiteError> {
        // DynamoDB hands the old item to the one delete that removed it: good once
        self.delete(format!("LOGIN#{state_hash}"), LOGIN)
            .await?
            .map(|item| decode(&item, "login", serde_json::from_value))
            .transpose()
    }

    async fn roster(&self) -> Result<Vec<(RunnerAccount, SyncHealth)>, SiteError> {
        let runners = self.runners().await?;
        let limit = Arc::new(Semaphore::new(ROSTER_READS));
        let mut reads = JoinSet::new();
        for (i, runner) in runners.iter().enumerate() {
            let (book, id, limit) = (self.clone(), runner.id.clone(), limit.clone());
            reads.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (i, book.health(&id).await)
            });
        }
        let mut healths = vec![SyncHealth::default(); runners.len()];
        while let Some(read) = reads.join_next().await {
            let (i, health) =
                read.map_err(|e| SiteError::Internal(format!("a health read was lost: {e}")))?;
            healths[i] = health?;
        }
        Ok(runners.into_iter().zip(healths).collect())
    }

    async fn charge_app(&self, at: Timestamp, requests: u64) -> Result<(), SiteError> {
        if requests == 0 {
            return Ok(());
        }
        let hour = clock_hour(at);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(APP.into(), &requests_sk(hour))))
            .update_expression("SET #kind = :kind, #expires = :expires ADD requests :n")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":kind", s("app-requests"))
            .expression_attribute_values(
                ":expires",
                n(ttl_seconds(hour + SignedDuration::from_hours(3))),
            )
            .expression_attribute_values(":n", n(i64::try_from(requests).unwrap_or(i64::MAX)))
            .send()
            .await
            .map_err(|e| self.remote("UpdateItem", &e))?;
        Ok(())
    }

    async fn app_requests(&self, now: Timestamp) -> Result<Option<u64>, SiteError> {
        let hour = clock_hour(now);
        let count = |item: Option<Item>| {
            item.and_then(|i| number(&i, "requests"))
                .map_or(0, |n| n.max(0) as u64)
        };
        let current = count(self.get(APP.into(), &requests_sk(hour)).await?);
        let previous = self
            .get(
                APP.into(),
                &requests_sk(hour - SignedDuration::from_hours(1)),
            )
            .await?;
        Ok(Some(sliding_hour(count(previous), current, now)))
    }

    async fn purge(&self, now: Timestamp, logins_since: Timestamp) -> Result<(), SiteError> {
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "(#kind = :session AND #expires <= :now) OR (#kind = :login AND created_us < :since)",
                )
                .projection_expression("#pk, #sk, #kind, runner_id")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_names("#kind", "kind")
                .expression_attribute_names("#expires", TTL_ATTRIBUTE)
                .expression_attribute_values(":session", s("session"))
                .expression_attribute_values(":login", s("login"))
                .expression_attribute_values(":now", n(now.as_second()))
                .expression_attribute_values(":since", n(logins_since.as_microsecond()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.remote("Scan", &e))?;
            for item in out.items.unwrap_or_default() {
                let (Some(pk), Some(sk)) = (text(&item, PARTITION_KEY), text(&item, SORT_KEY))
                else {
                    continue;
                };
                self.delete(pk.to_owned(), sk).await?;
                if let Some(runner_id) = text(&item, "runner_id") {
                    self.delete(runner_pk(runner_id), pk).await?;
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_trip_through_attributes() {
        let value = serde_json::json!({
            "id": "r-1", "n": 42, "big": u64::MAX, "f": 1.5, "none": null, "yes": true,
            "list": [1, "two"], "map": {"key": "k", "data": "d"}
        });
        assert_eq!(from_attribute(&to_attribute(&value)), Some(value));
    }

    #[test]
    fn a_ttl_never_comes_before_the_exact_end() {
        let exact: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        assert_eq!(ttl_seconds(exact), exact.as_second());
        let later: Timestamp = "2026-11-29T12:00:00.2Z".parse().unwrap();
        assert_eq!(ttl_seconds(later), exact.as_second() + 1);
    }

    #[test]
    fn runners_are_ordered_by_creation_then_id() {
        let runner = |id: &str, at: &str| RunnerAccount {
            id: id.into(),
            smashrun_id: 1,
            user_name: None,
            display_name: None,
            created: at.parse().unwrap(),
            time_zone: None,
            rule: None,
            handle: None,
            public: false,
            tokens: None,
            remind_at: None,
            reminder_channels: None,
        };
        let mut keys = [
            runner_order(&runner("r-b", "2026-01-02T00:00:00Z")),
            runner_order(&runner("r-z", "2025-12-31T00:00:00Z")),
            runner_order(&runner("r-a", "2026-01-02T00:00:00Z")),
        ];
        keys.sort();
        assert!(
            keys[0].ends_with("#r-z") && keys[1].ends_with("#r-a"),
            "{keys:?}"
        );
    }
}
