//! Core errors as JavaScript `Error` subclasses (P-28), built by
//! `js/errors.js` from one JSON object per error:
//! `{ message, code, ...fields }`, the class chosen by `code` as
//! `Error::js_class` says. Each class carries only its own
//! fields: an `IssuerMismatchError` has `expected` and `received` and nothing
//! from the callback (P-21).

use wasm_bindgen::prelude::*;

use crate::core::error::{DiscoveryStage, Error};
use serde::Serialize;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = __mcpWebAuthError)]
    fn make_error(json: &JsValue) -> JsValue;
}

/// The members of the object `js/errors.js` builds an error from. An outer
/// `None` leaves the member out; `Some(None)` writes `null`.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ErrorObject<'a> {
    message: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    received: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_metadata_url: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_uri: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    likely_cors: Option<bool>,
}

pub fn to_js(e: &Error) -> JsValue {
    let mut o = ErrorObject {
        message: e.to_string(),
        code: e.code(),
        ..ErrorObject::default()
    };
    match e {
        Error::IssuerMismatch { expected, received } => {
            o.expected = Some(expected);
            o.received = Some(received.as_deref());
        }
        Error::InsufficientScope {
            required_scope,
            resource_metadata_url,
            error_description,
        } => {
            o.required_scope = Some(required_scope);
            o.resource_metadata_url = Some(resource_metadata_url.as_deref());
            o.error_description = Some(error_description.as_deref());
        }
        Error::OAuth {
            code,
            description,
            uri,
        } => {
            o.error = Some(Some(code));
            o.error_description = Some(description.as_deref());
            o.error_uri = Some(uri.as_deref());
        }
        Error::AuthorizationServerMismatch { expected, received }
        | Error::ResourceMismatch { expected, received } => {
            o.expected = Some(expected);
            o.received = Some(Some(received));
        }
        Error::RegistrationRejected { status, error } => {
            o.status = Some(*status);
            o.error = Some(error.as_deref());
        }
        Error::InsecureEndpoint { url } => o.url = Some(url),
        Error::PkceNotSupported { issuer } => o.issuer = Some(issuer),
        Error::Discovery {
            stage, likely_cors, ..
        } => {
            o.stage = Some(match stage {
                DiscoveryStage::ProtectedResource => "protected_resource",
                DiscoveryStage::AuthorizationServer => "authorization_server",
            });
            o.likely_cors = Some(*likely_cors);
        }
        _ => {}
    }
    make_error(&crate::codec::to_string(&o).into())
}
