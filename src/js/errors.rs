//! Core errors as JavaScript `Error` subclasses (P-28), built by
//! `js/errors.js`. Each class carries only its own fields: an
//! `IssuerMismatchError` has `expected` and `received` and nothing from the
//! callback (P-21).

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::error::{DiscoveryStage, Error};

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = __mcpWebAuthError)]
    fn make_error(class_name: &str, message: &str, code: &str, fields: &JsValue) -> JsValue;
}

fn opt(v: &Option<String>) -> JsValue {
    v.as_deref().map(JsValue::from).unwrap_or(JsValue::NULL)
}

fn fields(e: &Error) -> Object {
    let o = Object::new();
    let put = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &k.into(), &v);
    };
    match e {
        Error::IssuerMismatch { expected, received } => {
            put("expected", expected.into());
            put("received", opt(received));
        }
        Error::InsufficientScope {
            required_scope,
            resource_metadata_url,
            error_description,
        } => {
            put("requiredScope", required_scope.into());
            put("resourceMetadataUrl", opt(resource_metadata_url));
            put("errorDescription", opt(error_description));
        }
        Error::OAuth {
            code,
            description,
            uri,
        } => {
            put("error", code.into());
            put("errorDescription", opt(description));
            put("errorUri", opt(uri));
        }
        Error::AuthorizationServerMismatch { expected, received }
        | Error::ResourceMismatch { expected, received } => {
            put("expected", expected.into());
            put("received", received.into());
        }
        Error::RegistrationRejected { status, error } => {
            put("status", (*status).into());
            put("error", opt(error));
        }
        Error::InsecureEndpoint { url } => put("url", url.into()),
        Error::PkceNotSupported { issuer } => put("issuer", issuer.into()),
        Error::Discovery {
            stage, likely_cors, ..
        } => {
            let s = match stage {
                DiscoveryStage::ProtectedResource => "protected_resource",
                DiscoveryStage::AuthorizationServer => "authorization_server",
            };
            put("stage", s.into());
            put("likelyCors", (*likely_cors).into());
        }
        _ => {}
    }
    o
}

pub fn to_js(e: &Error) -> JsValue {
    make_error(e.js_class(), &e.to_string(), e.code(), &fields(e))
}
