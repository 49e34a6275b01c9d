//! Logs as a contract (docs/LOGGING.md): one span per request carrying its
//! id, human-readable or JSON, never a body, a token or personal data.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event (default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber writing to `sink`. Fails if the filter is
/// malformed or a subscriber is already installed.
pub fn init<W>(format: LogFormat, filter: &str, sink: W) -> Result<(), String>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("RUST_LOG: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink)
        .with_target(true);
    match format {
        LogFormat::Text => builder
            .with_ansi(false)
            .finish()
            .with(ClientFaults)
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(ClientFaults)
            .try_init(),
    }
    .map_err(|e| e.to_string())
}

/// The HTTP layer (actix-http) logs a request it cannot parse as an ERROR
/// (`stream error: request parse error: invalid Header provided`): a
/// client's mistake that would page an operator for nothing. This layer
/// drops those events and logs a WARN in their place, with the kind of
/// fault only (never the bytes received).
struct ClientFaults;

/// Where actix-http's connection errors come from.
const DISPATCHER: &str = "actix_http::h1::dispatcher";

/// The kind of client fault an actix-http connection error message reports,
/// if it is one.
pub fn client_fault(message: &str) -> Option<&'static str> {
    if let Some(parse) = message.strip_prefix("stream error: request parse error: ") {
        const KINDS: [(&str, &str); 8] = [
            ("invalid Header", "header"),
            ("invalid method", "method"),
            ("URI error", "uri"),
            ("invalid HTTP version", "version"),
            ("message head is too large", "head_too_large"),
            ("message is incomplete", "incomplete"),
            ("UTF-8 error", "utf8"),
            ("invalid status", "status"),
        ];
        return Some(
            KINDS
                .iter()
                .find(|(prefix, _)| parse.starts_with(prefix))
                .map_or("other", |(_, kind)| kind),
        );
    }
    (message == "stream error: request did not complete within the specified timeout")
        .then_some("slow_request")
}

impl<S: tracing::Subscriber> Layer<S> for ClientFaults {
    fn event_enabled(&self, event: &tracing::Event<'_>, _: Context<'_, S>) -> bool {
        let metadata = event.metadata();
        if metadata.target() != DISPATCHER || *metadata.level() != tracing::Level::ERROR {
            return true;
        }
        let mut message = MessageOf(String::new());
        event.record(&mut message);
        match client_fault(&message.0) {
            Some(kind) => {
                tracing::warn!(
                    target: "adosexo_api::http",
                    fault = kind,
                    "a client's malformed request was refused (400 or connection closed)"
                );
                false
            }
            None => true,
        }
    }
}

/// Collects an event's `message` field.
struct MessageOf(String);

impl tracing::field::Visit for MessageOf {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client_fault;

    #[test]
    fn client_faults_are_named_by_kind_only() {
        let parse = |kind: &str| format!("stream error: request parse error: {kind}");
        assert_eq!(
            client_fault(&parse("invalid Header provided")),
            Some("header")
        );
        assert_eq!(
            client_fault(&parse("invalid method specified")),
            Some("method")
        );
        assert_eq!(
            client_fault(&parse("URI error: invalid uri character")),
            Some("uri")
        );
        assert_eq!(client_fault(&parse("something new")), Some("other"));
        assert_eq!(
            client_fault("stream error: request did not complete within the specified timeout"),
            Some("slow_request")
        );
        // A fault of the server stays an error.
        assert_eq!(client_fault("stream error: internal error"), None);
        assert_eq!(client_fault("Response payload stream error: x"), None);
    }
}
