//! `finishAuth`: the callback's checks, in the order P-19 fixes:
//! `state` → `iss` → `error` → `code`.
//!
//! Nothing from the query is surfaced before the issuer is validated, and a
//! callback that fails the issuer check must not consume the pending record,
//! so a forged callback cannot destroy the real flow (P-19, P-21).

use crate::core::authorize::PendingRecord;
use crate::core::error::{Error, Result};

/// The callback query as name/value pairs (what `URLSearchParams` holds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallbackParams(pub Vec<(String, String)>);

impl CallbackParams {
    /// P-18's second form: `finishAuth(code, iss?)`.
    pub fn from_code(code: &str, iss: Option<&str>) -> CallbackParams {
        let mut pairs = vec![("code".to_string(), code.to_string())];
        pairs.extend(iss.map(|i| ("iss".to_string(), i.to_string())));
        CallbackParams(pairs)
    }

    /// A callback query (with or without its leading `?`), decoded as
    /// `URLSearchParams` decodes it.
    pub fn from_query(query: &str) -> CallbackParams {
        let query = query.strip_prefix('?').unwrap_or(query);
        CallbackParams(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `name`, as `URLSearchParams.get` returns it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// P-19 step one: the `state` to look the pending record up by. A missing or
/// empty one is an error that repeats nothing from the query.
pub fn callback_state(params: &CallbackParams) -> Result<&str> {
    match params.get("state") {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(Error::UnknownState),
    }
}

/// P-20: the `iss` decision table, exact string comparison.
pub fn check_issuer(record: &PendingRecord, iss: Option<&str>) -> Result<()> {
    match (record.iss_advertised, iss) {
        (_, Some(received)) if record.issuer == received => Ok(()),
        (_, Some(received)) => Err(Error::IssuerMismatch {
            expected: record.issuer.clone(),
            received: Some(received.to_string()),
        }),
        (true, None) => Err(Error::IssuerMismatch {
            expected: record.issuer.clone(),
            received: None,
        }),
        (false, None) => Ok(()),
    }
}

/// P-19 and P-22, after the record was found: validate `iss`, then read
/// `error`, then `code`. On `Err(IssuerMismatch)` the caller keeps the record;
/// on anything else it removes it (single use).
pub fn read_callback(record: &PendingRecord, params: &CallbackParams) -> Result<String> {
    check_issuer(record, params.get("iss"))?;
    if let Some(code) = params.get("error") {
        return Err(Error::oauth(
            code,
            params.get("error_description").map(String::from),
            params.get("error_uri").map(String::from),
        ));
    }
    match params.get("code") {
        Some(c) if !c.is_empty() => Ok(c.to_string()),
        _ => Err(Error::MissingCode),
    }
}

/// Whether a failed callback leaves the pending record in place (P-19).
pub fn keeps_pending_record(err: &Error) -> bool {
    matches!(err, Error::IssuerMismatch { .. } | Error::UnknownState)
}

/// P-18's code form carries no `state`: it is only unambiguous when exactly
/// one unexpired flow is pending (for `server_url`, when given).
pub fn sole_pending<'a>(
    records: &'a [PendingRecord],
    server_url: Option<&str>,
    now_ms: u64,
) -> Result<&'a PendingRecord> {
    let mut live = records
        .iter()
        .filter(|r| !r.is_expired(now_ms))
        .filter(|r| server_url.is_none_or(|s| r.server_url == s));
    match (live.next(), live.next()) {
        (Some(sole), None) => Ok(sole),
        _ => Err(Error::UnknownState),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "callback_tests.rs"]
mod tests;
