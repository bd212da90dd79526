//! Core errors as JavaScript `Error` subclasses (P-28), built by
//! `js/errors.js` from one JSON object per error:
//! `{ message, code, ...fields }`, the class chosen by `code` as
//! `Error::js_class` says. Each class carries only its own
//! fields: an `IssuerMismatchError` has `expected` and `received` and nothing
//! from the callback (P-21).

use wasm_bindgen::prelude::*;

use crate::core::error::{DiscoveryStage, Error};
use crate::core::json::ObjectWriter;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = __mcpWebAuthError)]
    fn make_error(json: &JsValue) -> JsValue;
}

pub fn to_js(e: &Error) -> JsValue {
    let mut o = ObjectWriter::start();
    o.str("message", &e.to_string());
    o.str("code", e.code());
    match e {
        Error::IssuerMismatch { expected, received } => {
            o.str("expected", expected);
            o.opt_str("received", received.as_deref());
        }
        Error::InsufficientScope {
            required_scope,
            resource_metadata_url,
            error_description,
        } => {
            o.str("requiredScope", required_scope);
            o.opt_str("resourceMetadataUrl", resource_metadata_url.as_deref());
            o.opt_str("errorDescription", error_description.as_deref());
        }
        Error::OAuth {
            code,
            description,
            uri,
        } => {
            o.str("error", code);
            o.opt_str("errorDescription", description.as_deref());
            o.opt_str("errorUri", uri.as_deref());
        }
        Error::AuthorizationServerMismatch { expected, received }
        | Error::ResourceMismatch { expected, received } => {
            o.str("expected", expected);
            o.str("received", received);
        }
        Error::RegistrationRejected { status, error } => {
            o.num("status", Some(u64::from(*status)));
            o.opt_str("error", error.as_deref());
        }
        Error::InsecureEndpoint { url } => o.str("url", url),
        Error::PkceNotSupported { issuer } => o.str("issuer", issuer),
        Error::Discovery {
            stage, likely_cors, ..
        } => {
            let s = match stage {
                DiscoveryStage::ProtectedResource => "protected_resource",
                DiscoveryStage::AuthorizationServer => "authorization_server",
            };
            o.str("stage", s);
            o.bool("likelyCors", *likely_cors);
        }
        _ => {}
    }
    make_error(&o.end().into())
}
