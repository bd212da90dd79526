//! The DPoP key (P-36, P-37): an ECDSA P-256 `CryptoKeyPair` from WebCrypto
//! with `extractable: false`, one per authorization server issuer, kept in
//! IndexedDB (a `CryptoKeyPair` is structured-cloneable, so the callback
//! page and every tab of the origin use the same key, and no script can
//! export its private half). Where IndexedDB is absent or refuses (Node,
//! some private modes), the key lives in this instance's memory.
//!
//! Nonces (P-39) are kept in this instance's memory, per origin.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CryptoKey, IdbDatabase, IdbFactory, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction,
    IdbTransactionMode, SubtleCrypto,
};

use crate::core::dpop::PublicJwk;
use crate::core::error::{Error, Result};
use crate::web::{global, property};

const DB_NAME: &str = "mcp-web-auth";
const DB_VERSION: u32 = 1;
const STORE: &str = "dpop-keys";

thread_local! {
    /// Key pairs by issuer where IndexedDB is not available.
    static MEMORY_KEYS: RefCell<HashMap<String, JsValue>> = RefCell::new(HashMap::new());
    /// P-39: the latest `DPoP-Nonce` per origin.
    static NONCES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

pub fn nonce(origin: &str) -> Option<String> {
    NONCES.with(|n| n.borrow().get(origin).cloned())
}

pub fn set_nonce(origin: &str, value: &str) {
    NONCES.with(|n| n.borrow_mut().insert(origin.to_string(), value.to_string()));
}

fn crypto_unavailable() -> Error {
    Error::config("crypto.subtle is not available for DPoP (pages need https or localhost)")
}

fn subtle() -> Result<SubtleCrypto> {
    let crypto = global("crypto").unwrap_or_default();
    let subtle = property(&crypto, "subtle");
    if subtle.is_object() {
        Ok(subtle.unchecked_into())
    } else {
        Err(crypto_unavailable())
    }
}

/// A plain object of string members (WebCrypto's algorithm dictionaries).
fn object(members: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in members {
        let _ = Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    o
}

/// P-36: a new ECDSA P-256 key pair whose private key cannot be exported.
async fn generate() -> Result<JsValue> {
    let algorithm = object(&[("name", "ECDSA"), ("namedCurve", "P-256")]);
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let promise = subtle()?
        .generate_key_with_object(&algorithm, false, &usages)
        .map_err(|_| crypto_unavailable())?;
    JsFuture::from(promise)
        .await
        .map_err(|_| Error::config("crypto.subtle.generateKey refused an ECDSA P-256 key"))
}

fn key_of(pair: &JsValue, which: &str) -> Result<CryptoKey> {
    let key = property(pair, which);
    if key.is_object() {
        Ok(key.unchecked_into())
    } else {
        Err(Error::config("the stored DPoP key pair is unusable"))
    }
}

/// The public half as a JWK: only `crv`, `kty`, `x`, `y` are read (P-37).
async fn public_jwk(pair: &JsValue) -> Result<PublicJwk> {
    let promise = subtle()?
        .export_key("jwk", &key_of(pair, "publicKey")?)
        .map_err(|_| crypto_unavailable())?;
    let jwk = JsFuture::from(promise)
        .await
        .map_err(|_| Error::config("crypto.subtle.exportKey refused the DPoP public key"))?;
    serde_wasm_bindgen::from_value(jwk).map_err(|_| Error::config("the DPoP public key is not an EC JWK"))
}

/// An IndexedDB request as a promise of its result.
async fn request(req: &IdbRequest) -> std::result::Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await?;
    req.result()
}

/// A read-write transaction, finished (committed or failed).
async fn committed(tx: &IdbTransaction) -> std::result::Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(promise).await.map(drop)
}

/// The database, its key store created on first open; `None` where
/// IndexedDB is absent or refuses (the caller then keeps keys in memory).
async fn open() -> Option<IdbDatabase> {
    let factory = global("indexedDB").ok().filter(JsValue::is_object)?;
    let factory: IdbFactory = factory.unchecked_into();
    let open: IdbOpenDbRequest = factory.open_with_u32(DB_NAME, DB_VERSION).ok()?;
    let on_upgrade = {
        let open = open.clone();
        wasm_bindgen::closure::Closure::once(move |_: JsValue| {
            if let Ok(db) = open.result() {
                let db: IdbDatabase = db.unchecked_into();
                if !db.object_store_names().contains(STORE) {
                    let _ = db.create_object_store(STORE);
                }
            }
        })
    };
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db = request(&open).await.ok()?;
    open.set_onupgradeneeded(None);
    Some(db.unchecked_into())
}

fn store(
    db: &IdbDatabase,
    mode: IdbTransactionMode,
) -> std::result::Result<(IdbTransaction, IdbObjectStore), JsValue> {
    let tx = db.transaction_with_str_and_mode(STORE, mode)?;
    let store = tx.object_store(STORE)?;
    Ok((tx, store))
}

fn storage_error(what: &str) -> Error {
    Error::Storage {
        what: format!("IndexedDB {what} of the DPoP key failed"),
    }
}

async fn read(db: &IdbDatabase, issuer: &str) -> Result<Option<JsValue>> {
    let (_, store) = store(db, IdbTransactionMode::Readonly).map_err(|_| storage_error("read"))?;
    let req = store.get(&issuer.into()).map_err(|_| storage_error("read"))?;
    let found = request(&req).await.map_err(|_| storage_error("read"))?;
    Ok(Some(found).filter(JsValue::is_object))
}

/// `add`, not `put`: when two tabs create a key at once, the first one
/// stored wins and the other reads it back, so both sign with one key.
async fn add(db: &IdbDatabase, issuer: &str, pair: &JsValue) -> bool {
    let Ok((tx, store)) = store(db, IdbTransactionMode::Readwrite) else {
        return false;
    };
    if store.add_with_key(pair, &issuer.into()).is_err() {
        return false;
    }
    committed(&tx).await.is_ok()
}

/// This issuer's key pair, created and stored on first use (P-36).
async fn key_pair(issuer: &str) -> Result<JsValue> {
    let Some(db) = open().await else {
        if let Some(pair) = MEMORY_KEYS.with(|k| k.borrow().get(issuer).cloned()) {
            return Ok(pair);
        }
        let pair = generate().await?;
        MEMORY_KEYS.with(|k| k.borrow_mut().insert(issuer.to_string(), pair.clone()));
        return Ok(pair);
    };
    let found = match read(&db, issuer).await? {
        Some(pair) => pair,
        None => {
            let pair = generate().await?;
            if add(&db, issuer, &pair).await {
                pair
            } else {
                read(&db, issuer).await?.ok_or_else(|| storage_error("write"))?
            }
        }
    };
    db.close();
    Ok(found)
}

pub async fn key(issuer: &str) -> Result<PublicJwk> {
    public_jwk(&key_pair(issuer).await?).await
}

/// P-37: WebCrypto ECDSA with SHA-256 gives the raw `r‖s` JWS wants.
pub async fn sign(issuer: &str, data: &[u8]) -> Result<[u8; 64]> {
    let private = key_of(&key_pair(issuer).await?, "privateKey")?;
    let algorithm = object(&[("name", "ECDSA"), ("hash", "SHA-256")]);
    let promise = subtle()?
        .sign_with_object_and_u8_array(&algorithm, &private, data)
        .map_err(|_| crypto_unavailable())?;
    let signature = JsFuture::from(promise)
        .await
        .map_err(|_| Error::config("crypto.subtle.sign failed with the DPoP key"))?;
    let bytes = Uint8Array::new(&signature);
    let mut out = [0u8; 64];
    if bytes.length() as usize != out.len() {
        return Err(Error::config("crypto.subtle.sign gave no P-256 signature"));
    }
    bytes.copy_to(&mut out);
    Ok(out)
}

/// P-36: `signOut` forgets the key, in memory and in IndexedDB.
pub async fn delete(issuer: &str) -> Result<()> {
    MEMORY_KEYS.with(|k| k.borrow_mut().remove(issuer));
    let Some(db) = open().await else {
        return Ok(());
    };
    let deleted = match store(&db, IdbTransactionMode::Readwrite) {
        Ok((tx, store)) => match store.delete(&issuer.into()) {
            Ok(_) => committed(&tx).await.is_ok(),
            Err(_) => false,
        },
        Err(_) => false,
    };
    db.close();
    if deleted {
        Ok(())
    } else {
        Err(storage_error("deletion"))
    }
}
