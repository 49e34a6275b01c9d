//! Traces for the operator's collector: one span per request (and one per
//! webhook delivery), exported with OTLP over HTTP in its JSON encoding
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set. A
//! W3C `traceparent` from the caller is honoured (our span is its child)
//! and passed on to the webhook deliveries the request causes.
//!
//! A span carries the method, the route's *pattern*, the status and the
//! service's name: never a path, a query, a header value or a body, so no
//! personal data reaches the collector.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::metrics::TraceMetrics;

/// A W3C trace context: the trace and the span that is the parent of what
/// happens next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace, 16 bytes, never all zero.
    pub trace_id: [u8; 16],
    /// The span, 8 bytes, never all zero.
    pub span_id: [u8; 8],
    /// The caller's `sampled` flag (kept as received; ours start sampled).
    pub sampled: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut bytes = [0_u8; N];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    (bytes != [0_u8; N]).then_some(bytes)
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = crate::auth::secrets::random_bytes::<N>().unwrap_or([0; N]);
    if bytes == [0; N] {
        // No randomness from the OS, or the one-in-2^64 all-zero draw.
        let fallback = uuid::Uuid::now_v7().into_bytes();
        for (byte, from) in bytes.iter_mut().zip(fallback.iter().rev()) {
            *byte = *from;
        }
    }
    bytes
}

impl TraceContext {
    /// A `traceparent` header as W3C Trace Context (level 1) defines it:
    /// `version-traceid-parentid-flags`, lower-case hex. Version `ff` and
    /// all-zero ids are invalid; a later version's extra fields are
    /// ignored, as the recommendation asks.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let version = parts.next()?;
        let trace_id = unhex::<16>(parts.next()?)?;
        let span_id = unhex::<8>(parts.next()?)?;
        let flags = parts.next()?;
        let known = version == "00";
        if version.len() != 2
            || version == "ff"
            || !version
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            || (known && parts.next().is_some())
            || flags.len() != 2
        {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// A new trace.
    pub fn root() -> Self {
        Self {
            trace_id: random(),
            span_id: random(),
            sampled: true,
        }
    }

    /// A new span in the same trace.
    pub fn child(&self) -> Self {
        Self {
            span_id: random(),
            ..*self
        }
    }

    /// The `traceparent` header naming this span as the parent.
    pub fn header(&self) -> String {
        format!(
            "00-{}-{}-{}",
            hex(&self.trace_id),
            hex(&self.span_id),
            if self.sampled { "01" } else { "00" }
        )
    }
}

/// What a span is, in OTLP's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// A request we answered.
    Server,
    /// A request we sent (a webhook delivery).
    Client,
}

/// One finished span.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    /// The span itself (its trace and id).
    pub context: TraceContext,
    /// Its parent in the trace, if any.
    pub parent: Option<[u8; 8]>,
    /// `GET /api/v1/referrals/{id}`: method and pattern.
    pub name: String,
    /// Server or client.
    pub kind: SpanKind,
    /// When it started.
    pub start: SystemTime,
    /// When it ended.
    pub end: SystemTime,
    /// Closed-set attributes (method, route pattern, status, event type).
    pub attributes: Vec<(&'static str, AttributeValue)>,
    /// Whether it failed (a 5xx answered, or a delivery that failed).
    pub error: bool,
}

/// A span attribute's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeValue {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
}

/// Where and how spans are exported. `Debug` names the headers, never
/// their values (a collector's token).
#[derive(Clone, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The traces endpoint (`…/v1/traces`).
    pub endpoint: String,
    /// Extra headers for the collector (`OTEL_EXPORTER_OTLP_HEADERS`).
    pub headers: Vec<(String, String)>,
    /// `service.name` (`OTEL_SERVICE_NAME`, default `adosexo`).
    pub service_name: String,
}

impl OtlpSettings {
    /// From the standard OpenTelemetry variables; `None` when no endpoint is
    /// set. Only `http/json` is spoken: another `OTEL_EXPORTER_OTLP_PROTOCOL`
    /// is an error, not a silent fallback.
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, (&'static str, String)> {
        let endpoint = match (
            get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(traces), _) => traces.trim().to_owned(),
            (None, Some(base)) => format!("{}/v1/traces", base.trim().trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        let url = reqwest::Url::parse(&endpoint).map_err(|e| {
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("not a URL ({e}): expected e.g. http://127.0.0.1:4318"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err((
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "expected an http or https URL".to_owned(),
            ));
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(protocol) = get(var).map(|p| p.trim().to_owned())
                && protocol != "http/json"
            {
                return Err((
                    if var.contains("TRACES") {
                        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
                    } else {
                        "OTEL_EXPORTER_OTLP_PROTOCOL"
                    },
                    format!("{protocol:?} is not supported: this service exports http/json"),
                ));
            }
        }
        let mut headers = Vec::new();
        for var in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            for pair in get(var)
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.trim().is_empty())
            {
                let (key, value) = pair.split_once('=').ok_or((
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "expected key=value pairs separated by commas".to_owned(),
                ))?;
                let value = percent_decode(value.trim());
                headers.push((key.trim().to_owned(), value));
            }
        }
        Ok(Some(Self {
            endpoint: url.to_string(),
            headers,
            service_name: get("OTEL_SERVICE_NAME")
                .map(|n| n.trim().to_owned())
                .unwrap_or_else(|| "adosexo".to_owned()),
        }))
    }
}

impl std::fmt::Debug for OtlpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpSettings")
            .field("endpoint", &self.endpoint)
            .field("headers", &header_names)
            .field("service_name", &self.service_name)
            .finish()
    }
}

/// `%20` and friends, as the variable's W3C Baggage-like format allows.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = (byte == b'%')
            .then(|| value.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Spans waiting for export at most; beyond, new ones are dropped (and
/// counted) rather than held without bound.
const QUEUE: usize = 8192;
/// Most spans in one export.
const BATCH: usize = 512;
/// How long a batch waits for company.
const LINGER: Duration = Duration::from_millis(500);

/// Where finished spans go. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Spans {
    queue: Option<mpsc::Sender<SpanRecord>>,
    metrics: Arc<TraceMetrics>,
}

impl Spans {
    /// Spans that go nowhere (no collector configured).
    pub fn disabled(metrics: Arc<TraceMetrics>) -> Self {
        Self {
            queue: None,
            metrics,
        }
    }

    /// Spans for `settings`' collector, and the task that exports them.
    pub fn exporting(settings: OtlpSettings, metrics: Arc<TraceMetrics>) -> (Self, Exporter) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        (
            Self {
                queue: Some(queue),
                metrics: metrics.clone(),
            },
            Exporter {
                settings,
                receiver,
                metrics,
            },
        )
    }

    /// Whether spans are exported at all.
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Hands a finished span to the exporter; dropped (and counted) when
    /// the queue is full.
    pub fn record(&self, span: SpanRecord) {
        if let Some(queue) = &self.queue
            && queue.try_send(span).is_err()
        {
            self.metrics.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The task sending spans to the collector.
#[derive(Debug)]
pub struct Exporter {
    settings: OtlpSettings,
    receiver: mpsc::Receiver<SpanRecord>,
    metrics: Arc<TraceMetrics>,
}

impl Exporter {
    /// Sends batches until every `Spans` is dropped.
    pub async fn run(mut self) {
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "cannot build the OTLP client: traces are not exported");
                return;
            }
        };
        while let Some(first) = self.receiver.recv().await {
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + LINGER;
            while batch.len() < BATCH {
                match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                    Ok(Some(span)) => batch.push(span),
                    Ok(None) | Err(_) => break,
                }
            }
            let count = u64::try_from(batch.len()).unwrap_or(u64::MAX);
            let body = export_request(&self.settings.service_name, &batch);
            let mut request = client
                .post(&self.settings.endpoint)
                .header("Content-Type", "application/json")
                .body(body.to_string());
            for (key, value) in &self.settings.headers {
                request = request.header(key, value);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    self.metrics.exported.fetch_add(count, Ordering::Relaxed);
                }
                Ok(response) => {
                    self.metrics.dropped.fetch_add(count, Ordering::Relaxed);
                    tracing::warn!(
                        status = response.status().as_u16(),
                        spans = count,
                        "the OTLP collector refused spans"
                    );
                }
                Err(error) => {
                    self.metrics.dropped.fetch_add(count, Ordering::Relaxed);
                    tracing::warn!(
                        cause = if error.is_timeout() {
                            "timeout"
                        } else if error.is_connect() {
                            "connect"
                        } else {
                            "request"
                        },
                        spans = count,
                        "cannot reach the OTLP collector"
                    );
                }
            }
        }
    }
}

fn unix_nanos(at: SystemTime) -> String {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .to_string()
}

/// An `ExportTraceServiceRequest` in OTLP's JSON encoding (ids in hex,
/// 64-bit integers as strings).
pub fn export_request(service_name: &str, spans: &[SpanRecord]) -> Value {
    let spans: Vec<Value> = spans
        .iter()
        .map(|span| {
            let attributes: Vec<Value> = span
                .attributes
                .iter()
                .map(|(key, value)| {
                    let value = match value {
                        AttributeValue::Text(text) => json!({ "stringValue": text }),
                        AttributeValue::Int(number) => json!({ "intValue": number.to_string() }),
                    };
                    json!({ "key": key, "value": value })
                })
                .collect();
            let mut value = json!({
                "traceId": hex(&span.context.trace_id),
                "spanId": hex(&span.context.span_id),
                "name": span.name,
                "kind": match span.kind { SpanKind::Server => 2, SpanKind::Client => 3 },
                "startTimeUnixNano": unix_nanos(span.start),
                "endTimeUnixNano": unix_nanos(span.end),
                "attributes": attributes,
                "status": { "code": if span.error { 2 } else { 0 } },
            });
            if let (Some(parent), Some(object)) = (span.parent, value.as_object_mut()) {
                object.insert("parentSpanId".to_owned(), json!(hex(&parent)));
            }
            value
        })
        .collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [
                { "key": "service.name", "value": { "stringValue": service_name } },
                { "key": "service.version", "value": { "stringValue": env!("CARGO_PKG_VERSION") } },
            ]},
            "scopeSpans": [{
                "scope": { "name": "adosexo", "version": env!("CARGO_PKG_VERSION") },
                "spans": spans,
            }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_parsed_as_w3c_says() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = TraceContext::parse(header).expect("valid");
        assert_eq!(context.header(), header);
        assert!(context.sampled);
        let child = context.child();
        assert_eq!(child.trace_id, context.trace_id);
        assert_ne!(child.span_id, context.span_id);
        // A later version may add fields.
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra")
                .is_some()
        );
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad}");
        }
        let root = TraceContext::root();
        assert_ne!(root.trace_id, [0; 16]);
        assert_ne!(root.span_id, [0; 8]);
    }

    #[test]
    fn settings_follow_the_standard_variables() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(OtlpSettings::from_lookup(&lookup(&[])), Ok(None));
        let base = OtlpSettings::from_lookup(&lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20abc,x-tenant=a",
            ),
        ]))
        .expect("valid")
        .expect("set");
        assert_eq!(base.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(base.service_name, "adosexo");
        assert_eq!(
            base.headers,
            vec![
                ("authorization".to_owned(), "Bearer abc".to_owned()),
                ("x-tenant".to_owned(), "a".to_owned())
            ]
        );
        let traces = OtlpSettings::from_lookup(&lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://traces.example/otlp",
            ),
        ]))
        .expect("valid")
        .expect("set");
        assert_eq!(traces.endpoint, "https://traces.example/otlp");
        assert!(
            OtlpSettings::from_lookup(&lookup(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ]))
            .is_err()
        );
    }

    #[test]
    fn an_export_request_is_otlp_json() {
        let context = TraceContext::root();
        let span = SpanRecord {
            context,
            parent: Some([1; 8]),
            name: "GET /api/v1/referrals/{id}".to_owned(),
            kind: SpanKind::Server,
            start: UNIX_EPOCH + Duration::from_secs(1),
            end: UNIX_EPOCH + Duration::from_secs(2),
            attributes: vec![("http.response.status_code", AttributeValue::Int(200))],
            error: false,
        };
        let body = export_request("adosexo", &[span]);
        let exported = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(exported["traceId"], hex(&context.trace_id));
        assert_eq!(exported["parentSpanId"], "0101010101010101");
        assert_eq!(exported["startTimeUnixNano"], "1000000000");
        assert_eq!(exported["kind"], 2);
        assert_eq!(exported["attributes"][0]["value"]["intValue"], "200");
    }
}
