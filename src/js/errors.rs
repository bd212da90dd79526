//! Core errors as JavaScript `Error` subclasses (P-28), made by
//! `js/errors.js` from one plain object per error, `{ message, code,
//! ...fields }`, the class chosen by `code` as `Error::js_class` says. Each
//! class carries only its own fields: an `IssuerMismatchError` has
//! `expected` and `received` and nothing from the callback (P-21).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::core::error::{DiscoveryStage, Error};

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = __mcpWebAuthError)]
    fn make_error(data: &JsValue) -> JsValue;
}

/// What `js/errors.js` builds an error from.
#[derive(Serialize)]
struct ErrorData<'a> {
    message: String,
    code: &'static str,
    #[serde(flatten)]
    fields: Fields<'a>,
}

/// The typed fields of each error class; an absent value is `null`.
#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum Fields<'a> {
    Issuer {
        expected: &'a str,
        received: Option<&'a str>,
    },
    InsufficientScope {
        required_scope: &'a str,
        resource_metadata_url: Option<&'a str>,
        error_description: Option<&'a str>,
    },
    OAuth {
        error: &'a str,
        error_description: Option<&'a str>,
        error_uri: Option<&'a str>,
    },
    Mismatch {
        expected: &'a str,
        received: &'a str,
    },
    Registration {
        status: u16,
        error: Option<&'a str>,
    },
    Endpoint {
        url: &'a str,
    },
    Pkce {
        issuer: &'a str,
    },
    Discovery {
        stage: &'static str,
        likely_cors: bool,
    },
    Timeout {
        url: &'a str,
        after_ms: u32,
    },
    Server {
        server_url: &'a str,
    },
    Popup {
        reason: &'static str,
    },
    None {},
}

fn fields(e: &Error) -> Fields<'_> {
    match e {
        Error::IssuerMismatch { expected, received } => Fields::Issuer {
            expected,
            received: received.as_deref(),
        },
        Error::InsufficientScope {
            required_scope,
            resource_metadata_url,
            error_description,
        } => Fields::InsufficientScope {
            required_scope,
            resource_metadata_url: resource_metadata_url.as_deref(),
            error_description: error_description.as_deref(),
        },
        Error::OAuth {
            code,
            description,
            uri,
        } => Fields::OAuth {
            error: code,
            error_description: description.as_deref(),
            error_uri: uri.as_deref(),
        },
        Error::AuthorizationServerMismatch { expected, received }
        | Error::ResourceMismatch { expected, received } => Fields::Mismatch { expected, received },
        Error::RegistrationRejected { status, error } => Fields::Registration {
            status: *status,
            error: error.as_deref(),
        },
        Error::InsecureEndpoint { url } | Error::Network { url, .. } | Error::UnexpectedRedirect { url } => {
            Fields::Endpoint { url }
        }
        Error::TokenRejected { server_url } => Fields::Server { server_url },
        Error::PkceNotSupported { issuer } | Error::DpopNotSupported { issuer } => Fields::Pkce { issuer },
        Error::Discovery {
            stage, likely_cors, ..
        } => Fields::Discovery {
            stage: match stage {
                DiscoveryStage::ProtectedResource => "protected_resource",
                DiscoveryStage::AuthorizationServer => "authorization_server",
            },
            likely_cors: *likely_cors,
        },
        Error::Timeout { url, after_ms } => Fields::Timeout {
            url,
            after_ms: *after_ms,
        },
        Error::PopupClosed { reason } => Fields::Popup {
            reason: reason.as_str(),
        },
        _ => Fields::None {},
    }
}

pub fn to_js(e: &Error) -> JsValue {
    let data = ErrorData {
        message: e.to_string(),
        code: e.code(),
        fields: fields(e),
    };
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    // Serializing strings, numbers and booleans into a fresh object cannot
    // fail; should it ever, the error still carries its message and code.
    let plain = data.serialize(&serializer).unwrap_or_else(|_| {
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"message".into(), &data.message.as_str().into());
        let _ = js_sys::Reflect::set(&o, &"code".into(), &data.code.into());
        o.into()
    });
    make_error(&plain)
}
