//! The webhook operations of the admin API (admin role): endpoints, their secrets
//! (shown once, at creation and rotation), deliveries and replays. Answered only when
//! the host gave the app a [`Webhooks`] ([`crate::PortalApp::with_webhooks`]);
//! otherwise the routes are 404 like any unknown path.
//!
//! Kept in a module of its own so the route table's other operations stay as they are.

use portal_core::error::{Entity, Error};
use portal_core::ids::{DeliveryId, EndpointId};
use portal_core::webhooks::service::{EndpointPatch, NewEndpoint, Webhooks};
use portal_core::webhooks::{
    EVENT_TYPES, WebhookDelivery, WebhookEndpoint, WebhookSecret, event_schema, event_schema_name,
    message_id,
};
use serde_json::{Map, Value, json};

use super::input::{invalid, object, opt_str, req_str};
use super::problem::ApiError;
use super::routes::{Op, Route};
use super::{ApiReply, Call};
use crate::PortalApp;

type Answer = Result<ApiReply, ApiError>;

fn canonical(t: chrono::DateTime<chrono::Utc>) -> String {
    portal_core::audit::canonical_time(t)
}

/// An endpoint as the API shows it: never its secret.
pub(crate) fn endpoint(e: &WebhookEndpoint) -> Value {
    json!({
        "id": e.id.to_string(),
        "url": e.url,
        "description": e.description,
        "event_types": e.event_types,
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "failing_since": e.failing_since.map(canonical),
        "secrets_in_force": e.secrets.len(),
        "created_at": canonical(e.created_at),
        "version": e.version,
    })
}

fn created(e: &WebhookEndpoint, secret: &WebhookSecret) -> Value {
    json!({ "endpoint": endpoint(e), "secret": secret.expose_secret() })
}

/// A delivery as the API shows it (the body it sends, the last attempt's status and
/// the first bytes of the answer).
pub(crate) fn delivery(d: &WebhookDelivery) -> Value {
    json!({
        "id": d.id.to_string(),
        "webhook_id": message_id(d.id),
        "endpoint_id": d.endpoint_id.to_string(),
        "portal_id": d.portal_id.to_string(),
        "event_type": d.event_type,
        "state": d.state.as_str(),
        "attempts": d.attempts,
        "created_at": canonical(d.created_at),
        "next_attempt_at": d.next_attempt_at.map(canonical),
        "last_attempt": d.last_attempt.as_ref().map(|a| json!({
            "at": canonical(a.at),
            "status": a.status,
            "excerpt": a.excerpt,
        })),
        "payload": serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null),
    })
}

fn event_types(m: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    match m.get("event_types") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("event_types", "must be a list of event type names"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid("event_types", "must be a list of event type names")),
    }
}

fn param<T: std::str::FromStr>(call: &Call<'_>, entity: Entity) -> Result<T, ApiError> {
    call.params
        .first()
        .and_then(|raw| raw.parse().ok())
        .ok_or(ApiError::Core(Error::NotFound { entity }))
}

/// The schemas of the webhook operations and of every event body (one per event type,
/// `WebhookEvent…`), for the OpenAPI document's components.
pub(crate) fn schemas() -> Vec<(String, Value)> {
    let endpoint_props = json!({
        "id": { "type": "string", "format": "uuid" },
        "url": { "type": "string", "format": "uri" },
        "description": { "type": "string" },
        "event_types": { "type": "array", "items": { "enum": EVENT_TYPES } },
        "enabled": { "type": "boolean" },
        "disabled_reason": { "type": ["string", "null"], "description": "Why the worker disabled it (every delivery failed for 5 days)." },
        "failing_since": { "type": ["string", "null"], "format": "date-time" },
        "secrets_in_force": { "type": "integer", "minimum": 1, "description": "2 during a rotation's 24 hours." },
        "created_at": { "type": "string", "format": "date-time" },
        "version": { "type": "integer", "minimum": 1 },
    });
    let mut out = vec![
        (
            "WebhookEndpoint".to_owned(),
            json!({
                "type": "object",
                "required": ["id", "url", "description", "event_types", "enabled", "disabled_reason", "failing_since", "secrets_in_force", "created_at", "version"],
                "properties": endpoint_props,
            }),
        ),
        (
            "WebhookEndpointInput".to_owned(),
            json!({
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": { "type": "string", "minLength": 1, "maxLength": 2048, "description": "https://… (private and loopback addresses are refused unless the host allows them)." },
                    "description": { "type": "string", "maxLength": 500 },
                    "event_types": { "type": "array", "items": { "enum": EVENT_TYPES }, "description": "Empty or absent: every event type." },
                },
            }),
        ),
        (
            "WebhookEndpointPatch".to_owned(),
            json!({
                "type": "object",
                "properties": {
                    "url": { "type": "string", "minLength": 1, "maxLength": 2048 },
                    "description": { "type": "string", "maxLength": 500 },
                    "event_types": { "type": "array", "items": { "enum": EVENT_TYPES } },
                    "enabled": { "type": "boolean" },
                },
            }),
        ),
        (
            "WebhookEndpointCreated".to_owned(),
            json!({
                "type": "object",
                "required": ["endpoint", "secret"],
                "properties": {
                    "endpoint": { "$ref": "#/components/schemas/WebhookEndpoint" },
                    "secret": { "type": "string", "pattern": "^whsec_[A-Za-z0-9+/=]+$", "description": "Verify signatures with it. Shown this once." },
                },
            }),
        ),
        (
            "WebhookDelivery".to_owned(),
            json!({
                "type": "object",
                "required": ["id", "webhook_id", "endpoint_id", "portal_id", "event_type", "state", "attempts", "created_at", "next_attempt_at", "last_attempt", "payload"],
                "properties": {
                    "id": { "type": "string", "format": "uuid" },
                    "webhook_id": { "type": "string", "description": "The webhook-id header: the same on every attempt and replay." },
                    "endpoint_id": { "type": "string", "format": "uuid" },
                    "portal_id": { "type": "string", "format": "uuid" },
                    "event_type": { "enum": EVENT_TYPES },
                    "state": { "enum": ["pending", "delivered", "failed"] },
                    "attempts": { "type": "integer", "minimum": 0 },
                    "created_at": { "type": "string", "format": "date-time" },
                    "next_attempt_at": { "type": ["string", "null"], "format": "date-time" },
                    "last_attempt": {
                        "oneOf": [
                            { "type": "null" },
                            {
                                "type": "object",
                                "required": ["at", "status", "excerpt"],
                                "properties": {
                                    "at": { "type": "string", "format": "date-time" },
                                    "status": { "type": ["integer", "null"], "description": "null: no answer (refused address, connection, TLS, timeout)." },
                                    "excerpt": { "type": "string", "maxLength": 256 },
                                },
                            },
                        ],
                    },
                    "payload": { "$ref": "#/components/schemas/WebhookEvent" },
                },
            }),
        ),
        (
            "WebhookEvent".to_owned(),
            json!({
                "description": "A webhook's JSON body: one of the event types.",
                "oneOf": EVENT_TYPES.iter().map(|t| json!({ "$ref": format!("#/components/schemas/{}", event_schema_name(t)) })).collect::<Vec<_>>(),
            }),
        ),
    ];
    for t in EVENT_TYPES {
        out.push((event_schema_name(t), event_schema(t)));
    }
    out
}

impl PortalApp {
    /// The webhook operations.
    pub(super) async fn dispatch_webhooks(&self, route: &Route, call: &Call<'_>) -> Answer {
        let Some(hooks) = self.webhooks() else {
            return Err(ApiError::NoRoute);
        };
        self.webhook_op(hooks, route, call).await
    }

    async fn webhook_op(&self, hooks: &Webhooks, route: &Route, call: &Call<'_>) -> Answer {
        let staff = &call.staff;
        match route.op {
            Op::ListWebhookEndpoints => {
                let all = hooks.list_endpoints(staff).await?;
                Ok(call.page(all.iter().map(endpoint).collect()))
            }
            Op::CreateWebhookEndpoint => {
                let m = object(&call.body)?;
                let new = NewEndpoint {
                    url: req_str(m, "url")?,
                    description: opt_str(m, "description")?.unwrap_or_default(),
                    event_types: event_types(m)?.unwrap_or_default(),
                };
                let (e, secret) = hooks.create_endpoint(staff, &new).await?;
                let location = self.api_path(&format!("/webhooks/endpoints/{}", e.id));
                Ok(ApiReply::created(created(&e, &secret), Some(location)))
            }
            Op::GetWebhookEndpoint => {
                let id: EndpointId = param(call, Entity::WebhookEndpoint)?;
                let e = hooks.get_endpoint(staff, id).await?;
                Ok(ApiReply::ok(endpoint(&e)).with_version(e.version))
            }
            Op::UpdateWebhookEndpoint => {
                let id: EndpointId = param(call, Entity::WebhookEndpoint)?;
                let current = hooks.get_endpoint(staff, id).await?;
                let expected = call.if_match_version(current.version)?;
                let m = object(&call.body)?;
                let enabled = match m.get("enabled") {
                    None | Some(Value::Null) => None,
                    Some(Value::Bool(b)) => Some(*b),
                    Some(_) => return Err(invalid("enabled", "must be true or false")),
                };
                let patch = EndpointPatch {
                    url: opt_str(m, "url")?,
                    description: opt_str(m, "description")?,
                    event_types: event_types(m)?,
                    enabled,
                };
                let e = hooks.update_endpoint(staff, id, expected, &patch).await?;
                Ok(ApiReply::ok(endpoint(&e)).with_version(e.version))
            }
            Op::DeleteWebhookEndpoint => {
                let id: EndpointId = param(call, Entity::WebhookEndpoint)?;
                hooks.delete_endpoint(staff, id).await?;
                Ok(ApiReply::empty(http::StatusCode::NO_CONTENT))
            }
            Op::RotateWebhookSecret => {
                let id: EndpointId = param(call, Entity::WebhookEndpoint)?;
                let (e, secret) = hooks.rotate_secret(staff, id).await?;
                Ok(ApiReply::ok(created(&e, &secret)))
            }
            Op::ListWebhookDeliveries => {
                let id: EndpointId = param(call, Entity::WebhookEndpoint)?;
                let page = hooks.deliveries(staff, id, call.after, call.limit).await?;
                Ok(Call::key_page(page.map(|d| delivery(&d))))
            }
            Op::ReplayWebhookDelivery => {
                let id: DeliveryId = param(call, Entity::WebhookDelivery)?;
                let d = hooks.replay_delivery(staff, id).await?;
                Ok(ApiReply::ok(delivery(&d)))
            }
            _ => Err(ApiError::NoRoute),
        }
    }
}
