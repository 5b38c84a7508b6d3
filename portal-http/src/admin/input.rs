//! Reading request bodies field by field, so a 422 names the exact field to fix (serde's
//! own errors name it only sometimes). Core validation errors carry the core's words
//! for a field ("client name"); [`rename`] maps them to the API's field names.

use chrono::{DateTime, NaiveDate, Utc};
use portal_core::error::Error;
use serde_json::{Map, Value};

use super::problem::ApiError;

/// A 422 for `field`.
pub(crate) fn invalid(field: &'static str, detail: impl Into<portal_core::Reason>) -> ApiError {
    ApiError::Core(Error::invalid(field, detail))
}

/// The body as an object (anything else: 422 naming the body).
pub(crate) fn object(v: &Value) -> Result<&Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| invalid("body", "send a JSON object"))
}

/// A string field; `None` when absent or null.
pub(crate) fn opt_str(
    m: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

/// A required string field.
pub(crate) fn req_str(m: &Map<String, Value>, field: &'static str) -> Result<String, ApiError> {
    opt_str(m, field)?.ok_or_else(|| invalid(field, "is required"))
}

/// A whole number field within `0..=max`.
pub(crate) fn opt_u32(
    m: &Map<String, Value>,
    field: &'static str,
    max: u32,
) -> Result<Option<u32>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= max)
            .map(Some)
            .ok_or_else(|| invalid(field, format!("must be a whole number from 0 to {max}"))),
    }
}

/// A `YYYY-MM-DD` date field.
pub(crate) fn opt_date(
    m: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<NaiveDate>, ApiError> {
    opt_str(m, field)?
        .map(|s| {
            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| invalid(field, "must be a date like 2026-12-31"))
        })
        .transpose()
}

/// An RFC 3339 instant field.
pub(crate) fn req_time(
    m: &Map<String, Value>,
    field: &'static str,
) -> Result<DateTime<Utc>, ApiError> {
    let s = req_str(m, field)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| invalid(field, "must be an RFC 3339 time like 2026-12-01T15:00:00Z"))
}

/// Maps core field labels to API field names on a validation error.
pub(crate) fn rename(err: Error, names: &[(&str, &'static str)]) -> ApiError {
    match err {
        Error::Invalid { field, reason } => {
            let field = names
                .iter()
                .find(|(core, _)| *core == field)
                .map_or(field, |(_, api)| api);
            ApiError::Core(Error::Invalid { field, reason })
        }
        other => ApiError::Core(other),
    }
}

/// A JSON parse failure: syntax is 400, a well-formed body of the wrong shape 422.
pub(crate) fn parse_error(e: &serde_json::Error) -> ApiError {
    match e.classify() {
        serde_json::error::Category::Data => invalid("body", e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::problem::{Problem, problem};

    fn field_of(e: ApiError) -> String {
        let p: Problem = problem(&e);
        assert_eq!(p.status, 422);
        p.errors[0].field.clone()
    }

    #[test]
    fn fields_are_named() {
        let v = serde_json::json!({"title": 3, "n": -1, "d": "31/12/2026"});
        let m = object(&v).unwrap();
        assert_eq!(field_of(req_str(m, "title").unwrap_err()), "title");
        assert_eq!(field_of(req_str(m, "missing").unwrap_err()), "missing");
        assert_eq!(field_of(opt_u32(m, "n", 10).unwrap_err()), "n");
        assert_eq!(field_of(opt_date(m, "d").unwrap_err()), "d");
        assert_eq!(
            field_of(rename(
                Error::invalid("client name", "x"),
                &[("client name", "client_name")]
            )),
            "client_name"
        );
    }
}
