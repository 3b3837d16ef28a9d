//! The journal table ([`JournalTableApi`]) through the AWS SDK's DynamoDB client.
//!
//! An item holds `id` (the partition key), `revision` (a number), `status` (a string) and
//! `entry` (the entry's JSON text). Every write is a conditional `PutItem`: a new entry only
//! where none is, a changed one only over a lower revision. `docs/journal.md` says why.

use crate::api::{ApiError, ErrorKind, JournalItem, JournalTableApi};
use crate::sdk::{MAX_RESPONSE_BYTES, ResponseLimit, Timeouts, base_config, classify};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// Most items one scan returns before it stops with an error: a journal holds one item per
/// action taken, and an interrupted entry is rare; a table holding millions is not a journal.
pub const MAX_SCANNED_ITEMS: usize = 100_000;

/// Most scan pages read (each at most 1 MB).
pub const MAX_SCAN_PAGES: usize = 10_000;

/// One DynamoDB table in the caller's own account and region.
pub struct SdkJournalTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl SdkJournalTable {
    /// A client for `table`, with the credentials and region of the profile or environment
    /// (never a member account's role: the journal is the handler's own), and the run's
    /// attempts per call.
    pub async fn connect(
        profile: Option<&str>,
        table: &str,
        timeouts: Timeouts,
        max_attempts: u32,
    ) -> Self {
        let base = base_config(profile, None, timeouts, max_attempts).await;
        SdkJournalTable {
            client: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    .build(),
            ),
            table: table.to_string(),
        }
    }

    /// The table's name.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }
}

fn malformed(id: &str, what: &str) -> ApiError {
    ApiError {
        kind: ErrorKind::Other,
        code: None,
        message: format!(
            "journal item `{}`: {what}",
            id.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        ),
    }
}

/// An item as the table returned it; every attribute checked (anyone who can write the table
/// can write an item).
fn item_of(attrs: &HashMap<String, AttributeValue>) -> Result<JournalItem, ApiError> {
    let id = match attrs.get("id") {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => return Err(malformed("?", "no string `id`")),
    };
    let text = |name: &str| match attrs.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(malformed(&id, &format!("no string `{name}`"))),
    };
    let revision = match attrs.get("revision") {
        Some(AttributeValue::N(n)) => n
            .parse::<u64>()
            .map_err(|_| malformed(&id, "`revision` is not a whole number"))?,
        _ => return Err(malformed(&id, "no number `revision`")),
    };
    Ok(JournalItem {
        status: text("status")?,
        body: text("entry")?,
        revision,
        id,
    })
}

fn attributes(item: &JournalItem) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("id".to_string(), AttributeValue::S(item.id.clone())),
        (
            "revision".to_string(),
            AttributeValue::N(item.revision.to_string()),
        ),
        ("status".to_string(), AttributeValue::S(item.status.clone())),
        ("entry".to_string(), AttributeValue::S(item.body.clone())),
    ])
}

impl SdkJournalTable {
    /// `PutItem` of `item` when `condition` holds (`:revision` is the item's revision):
    /// `false`, nothing written, when it does not.
    async fn conditional_put(&self, item: &JournalItem, condition: &str) -> Result<bool, ApiError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attributes(item)))
            .condition_expression(condition);
        if condition.contains(":revision") {
            put = put.expression_attribute_values(
                ":revision",
                AttributeValue::N(item.revision.to_string()),
            );
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(condition_failed) => Ok(false),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// Whether a failed conditional write failed only on its condition.
fn condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl JournalTableApi for SdkJournalTable {
    async fn get_journal_item(&self, id: &str) -> Result<Option<JournalItem>, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        out.item().map(item_of).transpose()
    }

    async fn put_new_journal_item(&self, item: &JournalItem) -> Result<bool, ApiError> {
        self.conditional_put(item, "attribute_not_exists(id)").await
    }

    async fn replace_journal_item(&self, item: &JournalItem) -> Result<bool, ApiError> {
        self.conditional_put(item, "attribute_exists(id) AND revision < :revision")
            .await
    }

    async fn journal_items_with_status(&self, status: &str) -> Result<Vec<JournalItem>, ApiError> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        // An endpoint that keeps answering "more" with empty pages must not keep us forever.
        for _page in 0..MAX_SCAN_PAGES {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", AttributeValue::S(status.to_string()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify(&e))?;
            for attrs in out.items() {
                items.push(item_of(attrs)?);
                if items.len() > MAX_SCANNED_ITEMS {
                    return Err(ApiError {
                        kind: ErrorKind::Other,
                        code: None,
                        message: format!(
                            "table `{}` holds more than {MAX_SCANNED_ITEMS} `{status}` items: \
                             not read further",
                            self.table
                        ),
                    });
                }
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
        Err(ApiError {
            kind: ErrorKind::Other,
            code: None,
            message: format!(
                "table `{}`: still more after {MAX_SCAN_PAGES} scan pages; not read further",
                self.table
            ),
        })
    }
}
