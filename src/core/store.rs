//! Storage keys and typed records over the `Io` seam.
//!
//! Everything is keyed so that an authorization-server change can never reuse
//! a client or a token (P-12): clients by issuer and redirect URI, tokens by
//! issuer and server URL. Pending flows live in `sessionStorage` by `state`
//! (P-16); step-up and re-authorization counts too, so they survive the
//! redirect (P-14, P-29). Consumed refresh tokens are marked by hash in
//! `localStorage`, which every tab of the origin reads (P-34).
//!
//! Storage is not trusted: a record that does not parse or validate is
//! absent (P-32).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec;
use crate::core::authorize::PendingRecord;
use crate::core::discovery::Discovered;
use crate::core::error::Result;
use crate::core::http::read_object;
use crate::core::io::{Area, Io};
use crate::core::registration::ClientInfo;
use crate::core::token::TokenSet;

pub const PREFIX: &str = "mcp-web-auth:";
pub const PENDING_PREFIX: &str = "mcp-web-auth:pending:";

pub fn pending_key(state: &str) -> String {
    format!("{PENDING_PREFIX}{state}")
}

pub fn discovery_key(server_url: &str) -> String {
    format!("{PREFIX}discovery:{server_url}")
}

pub fn client_key(issuer: &str, redirect_uri: &str) -> String {
    format!("{PREFIX}client:{issuer} {redirect_uri}")
}

/// A client by its id, so tokens find the client they were issued to.
pub fn client_id_key(issuer: &str, client_id: &str) -> String {
    format!("{PREFIX}client-id:{issuer} {client_id}")
}

pub fn tokens_key(issuer: &str, server_url: &str) -> String {
    format!("{PREFIX}tokens:{issuer} {server_url}")
}

/// Tokens a configuration-free callback page could not put in the app's own
/// (memory or custom) storage wait here for the next `McpAuth`.
pub fn handoff_key(server_url: &str) -> String {
    format!("{PREFIX}handoff:{server_url}")
}

pub fn step_up_key(server_url: &str) -> String {
    format!("{PREFIX}stepup:{server_url}")
}

/// P-29: the re-authorization count of one server, in `sessionStorage`.
pub fn reauthorization_key(server_url: &str) -> String {
    format!("{PREFIX}reauth:{server_url}")
}

pub const CONSUMED_PREFIX: &str = "mcp-web-auth:consumed:";

/// P-34: the marker of a consumed refresh token, by its hash, in `localStorage`.
pub fn consumed_key(refresh_hash: &str) -> String {
    format!("{CONSUMED_PREFIX}{refresh_hash}")
}

/// How long a consumed-token marker is kept: longer than refresh tokens
/// usually live, so a tab restored days later still finds its copy spent.
pub const CONSUMED_TTL_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// A record that no longer parses is treated as absent, never as an error:
/// a stale format must not lock the user out.
fn load_record<T: DeserializeOwned>(io: &impl Io, area: Area, key: &str) -> Result<Option<T>> {
    Ok(io.load(area, key)?.and_then(|text| read_object(&text).ok()))
}

fn store_record<T: Serialize>(io: &impl Io, area: Area, key: &str, record: &T) -> Result<()> {
    io.store(area, key, &codec::to_string(record))
}

pub fn load_pending(io: &impl Io, state: &str) -> Result<Option<PendingRecord>> {
    Ok(load_record::<PendingRecord>(io, Area::Session, &pending_key(state))?.filter(PendingRecord::is_valid))
}

pub fn load_all_pending(io: &impl Io) -> Result<Vec<PendingRecord>> {
    let mut out = Vec::new();
    for key in io.keys(Area::Session)? {
        if let Some(state) = key.strip_prefix(PENDING_PREFIX) {
            out.extend(load_pending(io, state)?);
        }
    }
    Ok(out)
}

pub fn save_pending(io: &impl Io, r: &PendingRecord) -> Result<()> {
    store_record(io, Area::Session, &pending_key(&r.state), r)
}

pub fn remove_pending(io: &impl Io, state: &str) -> Result<()> {
    io.remove(Area::Session, &pending_key(state))
}

/// P-16: expired records are swept whenever a new flow starts.
pub fn sweep_expired_pending(io: &impl Io, now_ms: u64) -> Result<()> {
    for r in &load_all_pending(io)? {
        if r.is_expired(now_ms) {
            remove_pending(io, &r.state)?;
        }
    }
    Ok(())
}

pub fn load_discovery(io: &impl Io, server_url: &str) -> Result<Option<Discovered>> {
    Ok(load_record::<Discovered>(io, Area::Tokens, &discovery_key(server_url))?.filter(Discovered::is_valid))
}

pub fn save_discovery(io: &impl Io, server_url: &str, d: &Discovered) -> Result<()> {
    store_record(io, Area::Tokens, &discovery_key(server_url), d)
}

/// The client stored under `key`, when it belongs to `issuer` (and has
/// `client_id`, when one is given).
fn load_client_at(
    io: &impl Io,
    key: &str,
    issuer: &str,
    client_id: Option<&str>,
) -> Result<Option<ClientInfo>> {
    Ok(load_record::<ClientInfo>(io, Area::Tokens, key)?
        .filter(|c| c.issuer == issuer && client_id.is_none_or(|id| c.client_id == id)))
}

pub fn load_client(io: &impl Io, issuer: &str, redirect_uri: &str) -> Result<Option<ClientInfo>> {
    load_client_at(io, &client_key(issuer, redirect_uri), issuer, None)
}

pub fn save_client(io: &impl Io, c: &ClientInfo) -> Result<()> {
    store_record(io, Area::Tokens, &client_id_key(&c.issuer, &c.client_id), c)?;
    store_record(io, Area::Tokens, &client_key(&c.issuer, &c.redirect_uri), c)
}

/// The registered client with this id at this issuer, current or not.
pub fn load_client_by_id(io: &impl Io, issuer: &str, client_id: &str) -> Result<Option<ClientInfo>> {
    load_client_at(io, &client_id_key(issuer, client_id), issuer, Some(client_id))
}

pub fn remove_client(io: &impl Io, issuer: &str, redirect_uri: &str, client_id: &str) -> Result<()> {
    io.remove(Area::Tokens, &client_id_key(issuer, client_id))?;
    if load_client(io, issuer, redirect_uri)?.is_some_and(|c| c.client_id == client_id) {
        io.remove(Area::Tokens, &client_key(issuer, redirect_uri))?;
    }
    Ok(())
}

/// Tokens for this server at this issuer; a pending hand-off from a
/// configuration-free callback page is moved in first.
pub fn load_tokens(io: &impl Io, issuer: &str, server_url: &str) -> Result<Option<TokenSet>> {
    let handoff = handoff_key(server_url);
    if let Some(text) = io.load(Area::Session, &handoff)? {
        io.remove(Area::Session, &handoff)?;
        if let Ok(t) = read_object::<TokenSet>(&text) {
            save_tokens_in(io, Area::Tokens, server_url, &t)?;
        }
    }
    Ok(
        load_record::<TokenSet>(io, Area::Tokens, &tokens_key(issuer, server_url))?
            .filter(|t| t.issuer == issuer && t.is_valid()),
    )
}

pub fn save_tokens_in(io: &impl Io, area: Area, server_url: &str, t: &TokenSet) -> Result<()> {
    store_record(io, area, &tokens_key(&t.issuer, server_url), t)
}

pub fn save_handoff(io: &impl Io, server_url: &str, t: &TokenSet) -> Result<()> {
    store_record(io, Area::Session, &handoff_key(server_url), t)
}

pub fn remove_tokens(io: &impl Io, issuer: &str, server_url: &str) -> Result<()> {
    io.remove(Area::Tokens, &tokens_key(issuer, server_url))
}

/// P-14: step-up attempts per scope set (its canonical key), for one server.
type StepUpCounts = BTreeMap<String, u32>;

pub fn step_up_attempts(io: &impl Io, server_url: &str, scope_key: &str) -> Result<u32> {
    let counts: Option<StepUpCounts> = load_record(io, Area::Session, &step_up_key(server_url))?;
    Ok(counts.and_then(|c| c.get(scope_key).copied()).unwrap_or(0))
}

pub fn record_step_up_attempt(io: &impl Io, server_url: &str, scope_key: &str, count: u32) -> Result<()> {
    let key = step_up_key(server_url);
    let mut counts: StepUpCounts = load_record(io, Area::Session, &key)?.unwrap_or_default();
    counts.insert(scope_key.to_string(), count);
    store_record(io, Area::Session, &key, &counts)
}

/// A request that got through ends the step-up episode.
pub fn clear_step_up(io: &impl Io, server_url: &str) -> Result<()> {
    if io.load(Area::Session, &step_up_key(server_url))?.is_some() {
        io.remove(Area::Session, &step_up_key(server_url))?;
    }
    Ok(())
}

/// P-34: records, with no secret in it, that the refresh token with this
/// hash was consumed (rotated) by this origin; old markers are swept.
pub fn mark_consumed(io: &impl Io, refresh_hash: &str, now_ms: u64) -> Result<()> {
    for key in io.keys(Area::Local)? {
        if !key.starts_with(CONSUMED_PREFIX) {
            continue;
        }
        let at = io.load(Area::Local, &key)?.and_then(|v| v.parse::<u64>().ok());
        if at.is_none_or(|at| now_ms.saturating_sub(at) > CONSUMED_TTL_MS) {
            io.remove(Area::Local, &key)?;
        }
    }
    io.store(Area::Local, &consumed_key(refresh_hash), &now_ms.to_string())
}

/// P-34: whether a tab of this origin already consumed this refresh token.
pub fn is_consumed(io: &impl Io, refresh_hash: &str) -> Result<bool> {
    Ok(io.load(Area::Local, &consumed_key(refresh_hash))?.is_some())
}

/// P-29: how many authorizations in a row gave a token the server answered
/// 401; `None` when no authorization was started on a 401 since the last
/// answer that was not a 401.
pub fn reauthorizations(io: &impl Io, server_url: &str) -> Result<Option<u32>> {
    Ok(io
        .load(Area::Session, &reauthorization_key(server_url))?
        .and_then(|count| count.parse().ok()))
}

pub fn record_reauthorizations(io: &impl Io, server_url: &str, rejected: u32) -> Result<()> {
    io.store(
        Area::Session,
        &reauthorization_key(server_url),
        &rejected.to_string(),
    )
}

pub fn clear_reauthorizations(io: &impl Io, server_url: &str) -> Result<()> {
    if io
        .load(Area::Session, &reauthorization_key(server_url))?
        .is_some()
    {
        io.remove(Area::Session, &reauthorization_key(server_url))?;
    }
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::discovery::default_metadata;
    use crate::core::secret::Secret;
    use crate::core::testing::{url, FakeIo, SERVER};
    use crate::core::token::TokenType;

    fn discovered() -> Discovered {
        Discovered {
            resource: SERVER.into(),
            resource_metadata_url: None,
            prm_scopes_supported: vec!["a".into()],
            metadata: default_metadata(&url("https://as.example.com")),
        }
    }

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: Secret::new("at"),
            refresh_token: Some(Secret::new("rt")),
            expires_at_ms: Some(10),
            refresh_at_ms: Some(5),
            scope: vec!["a".into()],
            requested: vec!["a".into()],
            issuer: "https://as.example.com".into(),
            resource: SERVER.into(),
            client_id: "c".into(),
            token_type: TokenType::Bearer,
        }
    }

    #[test]
    fn p32_records_round_trip_through_storage() {
        let io = FakeIo::new();
        save_discovery(&io, SERVER, &discovered()).expect("save");
        assert_eq!(load_discovery(&io, SERVER), Ok(Some(discovered())));
        save_tokens_in(&io, Area::Tokens, SERVER, &tokens()).expect("save");
        assert_eq!(
            load_tokens(&io, "https://as.example.com", SERVER),
            Ok(Some(tokens()))
        );
    }

    #[test]
    fn p32_tampered_records_are_absent() {
        let io = FakeIo::new();
        let key = discovery_key(SERVER);
        let good = codec::to_string(&discovered());
        for bad in [
            "not json".to_string(),
            "[]".to_string(),
            "null".to_string(),
            good.replace("\"resource\":", "\"resource\":7,\"was\":"),
            good.replace("https://as.example.com/token", "javascript:alert(1)"),
            good.replace("https://as.example.com/token", "http://evil.example/token"),
            good.replace("\"https://as.example.com/token\"", "\"not a url\""),
        ] {
            io.store(Area::Tokens, &key, &bad).expect("store");
            assert_eq!(load_discovery(&io, SERVER), Ok(None), "{bad}");
        }
    }

    #[test]
    fn p32_stored_tokens_with_an_access_token_outside_b64token_are_absent() {
        let io = FakeIo::new();
        let key = tokens_key("https://as.example.com", SERVER);
        let good = codec::to_string(&tokens());
        for bad in [
            good.replace("\"at\"", "\"at\\r\\nX-Injected: 1\""),
            good.replace("\"at\"", "\"\""),
            good.replace("\"at\"", "7"),
        ] {
            io.store(Area::Tokens, &key, &bad).expect("store");
            assert_eq!(
                load_tokens(&io, "https://as.example.com", SERVER),
                Ok(None),
                "{bad}"
            );
        }
    }

    #[test]
    fn p32_discovery_with_a_tampered_resource_metadata_url_is_absent() {
        let io = FakeIo::new();
        let mut d = discovered();
        d.resource_metadata_url = Some("javascript:alert(1)".into());
        save_discovery(&io, SERVER, &d).expect("save");
        assert_eq!(load_discovery(&io, SERVER), Ok(None));
    }

    #[test]
    fn p32_tampered_reauthorization_count_is_absent() {
        let io = FakeIo::new();
        io.store(Area::Session, &reauthorization_key(SERVER), "lots")
            .expect("store");
        assert_eq!(reauthorizations(&io, SERVER), Ok(None));
    }

    #[test]
    fn p34_marking_a_token_consumed_sweeps_old_and_unreadable_markers() {
        let io = FakeIo::new();
        let now = 10 * CONSUMED_TTL_MS;
        mark_consumed(&io, "old", now - CONSUMED_TTL_MS - 1).expect("mark");
        mark_consumed(&io, "recent", now - 1).expect("mark");
        io.store(Area::Local, &consumed_key("garbage"), "x")
            .expect("store");
        io.store(Area::Local, "other-app", "kept").expect("store");
        mark_consumed(&io, "new", now).expect("mark");
        assert_eq!(is_consumed(&io, "old"), Ok(false));
        assert_eq!(is_consumed(&io, "garbage"), Ok(false));
        assert_eq!(is_consumed(&io, "recent"), Ok(true));
        assert_eq!(is_consumed(&io, "new"), Ok(true));
        assert_eq!(io.get(Area::Local, "other-app").as_deref(), Some("kept"));
    }

    #[test]
    fn p14_step_up_counts_are_kept_per_scope_set() {
        let io = FakeIo::new();
        assert_eq!(step_up_attempts(&io, SERVER, "a b"), Ok(0));
        record_step_up_attempt(&io, SERVER, "a b", 1).expect("record");
        record_step_up_attempt(&io, SERVER, "c", 2).expect("record");
        record_step_up_attempt(&io, SERVER, "a b", 3).expect("record");
        assert_eq!(step_up_attempts(&io, SERVER, "a b"), Ok(3));
        assert_eq!(step_up_attempts(&io, SERVER, "c"), Ok(2));
        io.store(Area::Session, &step_up_key(SERVER), r#"{"a b":"x"}"#)
            .expect("store");
        assert_eq!(
            step_up_attempts(&io, SERVER, "a b"),
            Ok(0),
            "tampered counts are absent"
        );
        clear_step_up(&io, SERVER).expect("clear");
        assert_eq!(io.get(Area::Session, &step_up_key(SERVER)), None);
    }

    #[test]
    fn handoff_is_moved_into_the_token_storage_once() {
        let io = FakeIo::new();
        save_handoff(&io, SERVER, &tokens()).expect("handoff");
        assert_eq!(
            load_tokens(&io, "https://as.example.com", SERVER),
            Ok(Some(tokens()))
        );
        assert_eq!(io.get(Area::Session, &handoff_key(SERVER)), None);
        assert!(io
            .get(Area::Tokens, &tokens_key("https://as.example.com", SERVER))
            .is_some());
    }
}
