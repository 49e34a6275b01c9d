//! The request id: accepted from `X-Request-Id` when it is sane, generated
//! (UUID v7) otherwise, echoed in the response, carried by the request's
//! span and by every problem's `instance`.

use std::time::{Instant, SystemTime};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::metrics::HttpMetrics;
use crate::otlp::{AttributeValue, SpanKind, SpanRecord, Spans, TraceContext};

/// The header carrying the request id both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A client-supplied id is kept when it is 1 to 128 characters of
/// `[A-Za-z0-9._:-]`: nothing that could forge a log line.
fn accept(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let sane = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    sane.then(|| value.to_owned())
}

/// The W3C header carrying the trace context.
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Middleware: one span per request with its id, method, route pattern,
/// status and latency; one line when it completes. Never the path's values,
/// the query string, headers or bodies. Counts the request for `/metrics`
/// and, when a collector is configured, exports it as an OTLP span (a child
/// of the caller's `traceparent` when it sent a valid one), whose context
/// the database work of the request carries (webhook deliveries).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(accept)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let metrics = req.app_data::<web::Data<HttpMetrics>>().cloned();
    let spans = req.app_data::<web::Data<Spans>>().cloned();
    let parent = req
        .headers()
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse);
    let trace = parent.map_or_else(TraceContext::root, |p| p.child());
    let method = req.method().clone();
    let started = Instant::now();
    let started_at = SystemTime::now();
    // Errors that escape the app's own handling (none expected: the app
    // renders its errors) are rendered by the framework outside this scope.
    let served = adosexo_persistence::trace::scope(
        trace.header(),
        REQUEST_ID.scope(id.clone(), next.call(req)),
    );
    let mut response = served.instrument(span.clone()).await?;
    let status = response.status();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let elapsed = started.elapsed();
    span.record("route", route.as_str());
    span.record("status", status.as_u16());
    span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status.as_u16(), elapsed.as_secs_f64());
    }
    if let Some(spans) = spans.filter(|s| s.enabled() && trace.sampled) {
        spans.record(SpanRecord {
            context: trace,
            parent: parent.map(|p| p.span_id),
            name: format!("{} {route}", crate::metrics::method_label(&method)),
            kind: SpanKind::Server,
            start: started_at,
            end: started_at + elapsed,
            attributes: vec![
                (
                    "http.request.method",
                    AttributeValue::Text(crate::metrics::method_label(&method).to_owned()),
                ),
                ("http.route", AttributeValue::Text(route.clone())),
                (
                    "http.response.status_code",
                    AttributeValue::Int(i64::from(status.as_u16())),
                ),
            ],
            error: status.is_server_error(),
        });
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!("request completed");
        } else {
            tracing::info!("request completed");
        }
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_others_replaced() {
        let ok = HeaderValue::from_static("abc-123_X.y:z");
        assert_eq!(accept(&ok).as_deref(), Some("abc-123_X.y:z"));
        for bad in ["", "has space", "new\tline", "quote\"", "émoji"] {
            let value = HeaderValue::from_bytes(bad.as_bytes());
            assert_eq!(value.ok().as_ref().and_then(accept), None, "{bad:?}");
        }
        let long = HeaderValue::from_str(&"a".repeat(129)).ok();
        assert_eq!(long.as_ref().and_then(accept), None);
    }
}
