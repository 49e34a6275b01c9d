//! Partner integration: webhook subscriptions (by admins, or by the partner
//! app itself for its organisation), the dead-letter list and redelivery,
//! and the pull feed `GET /events`. See docs/WEBHOOKS.md.

use std::collections::BTreeSet;
use std::net::IpAddr;

use actix_web::{HttpResponse, delete, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::{OrganisationKind, Role};
use adosexo_domain::webhooks::{EventType, Host, Target, TargetError, parse_event_types};
use adosexo_persistence::webhooks::{self as store, DeliveryRow, EventRow, SubscriptionRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::auth::secrets::new_secret;
use crate::extract::{ApiJson, ApiQuery};
use crate::guard::permit;
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{EventTypeWire, instant};

/// A webhook subscription. The secret appears only in the answer to its
/// creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    /// Id.
    pub id: String,
    /// The partner organisation whose events it receives.
    pub organisation_id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Which events.
    pub event_types: Vec<EventTypeWire>,
    /// Created at (UTC).
    pub created_at: DateTime<Utc>,
    /// The signing secret: only in the answer to the creation, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl TryFrom<&SubscriptionRow> for SubscriptionView {
    type Error = ApiError;
    fn try_from(row: &SubscriptionRow) -> Result<Self, ApiError> {
        let event_types = parse_event_types(&row.event_types)
            .map_err(|_| ApiError::internal(format!("stored subscription {}", row.id)))?
            .into_iter()
            .map(EventTypeWire)
            .collect();
        Ok(Self {
            id: row.id.clone(),
            organisation_id: row.organisation_id.clone(),
            url: row.url.clone(),
            event_types,
            created_at: instant(row.created_at),
            secret: None,
        })
    }
}

/// A page of subscriptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionPage {
    /// By id.
    pub items: Vec<SubscriptionView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Filters and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
    /// Only this organisation's (partners: their own, the default).
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub organisation_id: Option<String>,
}

/// A new subscription.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// The partner organisation (admins: required; partners: their own, the default).
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    #[validate(custom(function = "crate::wire::uuid_text"))]
    pub organisation_id: Option<String>,
    /// An absolute `https://` URL (`http://` only in development) whose host is
    /// public: loopback, private, link-local and metadata addresses are refused,
    /// also when a host name resolves to them.
    #[validate(length(min = 9, max = 2000, message = "url must have 9 to 2000 characters"))]
    #[schema(
        min_length = 9,
        max_length = 2000,
        pattern = "^https?://[!-~]+$",
        example = "https://ase93.example.org/adosexo/events"
    )]
    pub url: String,
    /// Which events, 1 to 5 distinct.
    #[validate(length(min = 1, max = 5, message = "event_types has 1 to 5 entries"))]
    #[schema(min_items = 1, max_items = 5)]
    pub event_types: Vec<EventTypeWire>,
    /// A signing secret of your own (32 to 128 visible ASCII characters);
    /// without it, one is generated and shown once.
    #[validate(length(min = 32, max = 128, message = "secret must have 32 to 128 characters"))]
    #[validate(custom(function = "visible_ascii"))]
    #[schema(min_length = 32, max_length = 128, pattern = "^[!-~]{32,128}$")]
    pub secret: Option<String>,
}

fn visible_ascii(value: &str) -> Result<(), validator::ValidationError> {
    if value.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("format");
        error.message = Some("must be visible ASCII characters".into());
        Err(error)
    }
}

fn target_error(error: TargetError) -> ApiError {
    match error {
        TargetError::Malformed => ApiError::invalid_value("url", "format", error.to_string()),
        TargetError::NotHttps => {
            ApiError::rule("webhook-target-not-https", "Not https", error.to_string())
        }
        TargetError::InternalAddress => ApiError::rule(
            "webhook-target-internal",
            "Internal address",
            error.to_string(),
        ),
        TargetError::Unresolvable => ApiError::rule(
            "webhook-target-unresolvable",
            "Unresolvable host",
            error.to_string(),
        ),
    }
}

/// Parses the target and, for a host name, resolves it now: every address
/// must be public (checked again before every delivery).
async fn checked_target(state: &AppState, url: &str) -> Result<Target, ApiError> {
    let settings = state.webhooks;
    // Outside the documented pattern: malformed (400); inside it but not a
    // usable URL: a refused value (422).
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::invalid_field(
            "url",
            "format",
            "must be an https:// URL",
        ));
    }
    let target =
        Target::parse(url, settings.allow_http, settings.allow_internal).map_err(target_error)?;
    if let Host::Name(name) = target.host() {
        let addresses: Vec<IpAddr> = tokio::net::lookup_host((name.as_str(), target.port()))
            .await
            .map(|found| found.map(|a| a.ip()).collect())
            .unwrap_or_default();
        Target::check_resolved(&addresses, settings.allow_internal).map_err(target_error)?;
    }
    Ok(target)
}

/// The organisation a partner acts for, or the one an admin names.
fn organisation_of(auth: &Authenticated, named: Option<String>) -> Result<String, ApiError> {
    match named {
        Some(id) => parse_id("organisation_id", &id),
        None if auth.actor.roles.has(Role::Admin) => Err(ApiError::invalid_value(
            "organisation_id",
            "required",
            "name the partner organisation",
        )),
        None => Ok(auth.actor.organisation_id.clone()),
    }
}

/// Create a webhook subscription; the answer holds its secret, shown once.
#[utoipa::path(
    operation_id = "createWebhookSubscription",
    tag = "webhooks",
    summary = "Subscribe to a partner organisation's events",
    description = "Events are POSTed to `url`, signed (header `Adosexo-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">`) \
                   and identified (`Adosexo-Event-Id`); see the `webhooks` section. The answer holds `secret`, \
                   which is never shown again. Admins name the organisation; a partner app (scope `events:read`) subscribes for its own. \
                   A retry with the same `Idempotency-Key` replays the answer without its secret, or 410 once the subscription was deleted.",
    request_body(content = CreateSubscription, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created, with its secret", body = SubscriptionView,
         headers(("Location" = String, description = "The new resource"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 410, response = crate::problem::Gone),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateSubscription>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageWebhooks,
        Resource::Service,
        "webhook_subscription",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let organisation_id = organisation_of(&auth, body.organisation_id.clone())?;
    permit(
        &state,
        &auth,
        Action::ManageWebhooks,
        Resource::Organisation {
            id: &organisation_id,
        },
        "organisation",
        Some(&organisation_id),
    )
    .await?;
    let target = checked_target(&state, &body.url).await?;
    let request_digest = idempotency::digest(&body)?;
    let (secret, generated) = match &body.secret {
        Some(secret) => (secret.clone(), false),
        None => (new_secret().map_err(ApiError::internal)?, true),
    };
    let types: BTreeSet<EventType> = body.event_types.iter().map(|t| t.0).collect();
    let event_types = types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = state
        .notes
        .seal(&secret, &crate::webhooks::secret_context(&id))
        .map_err(ApiError::internal)?;
    let now = state.clock.now();
    let (actor, ctx) = (auth.actor.clone(), auth.ctx.clone());
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_webhook_subscription",
            location: Some("/api/v1/webhooks"),
            replay: Replay::StoredWhile(adosexo_persistence::webhooks::subscription_exists),
        },
        request_digest,
        move |conn| {
            let organisation =
                adosexo_persistence::identity::find_organisation(conn, &organisation_id)?
                    .ok_or_else(|| {
                        ApiError::rule(
                            "unknown-organisation",
                            "Unknown organisation",
                            "no organisation has this id",
                        )
                    })?;
            if organisation.kind == OrganisationKind::Programme.as_str() {
                return Err(ApiError::rule(
                    "webhook-inside-programme",
                    "Subscription of the programme",
                    "webhooks are for partner organisations, not the programme",
                ));
            }
            let row = SubscriptionRow {
                id,
                organisation_id,
                url: target.url().to_owned(),
                event_types,
                secret_key_id: sealed.key_id,
                secret_nonce: sealed.nonce,
                secret_ciphertext: sealed.ciphertext,
                status: "active".to_owned(),
                created_by: actor.id.clone(),
                created_at: adosexo_persistence::time::to_db(now),
                updated_at: adosexo_persistence::time::to_db(now),
            };
            store::insert_subscription(conn, &row)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_webhook_subscription",
                "webhook_subscription",
                Some(&row.id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let view = SubscriptionView::try_from(&row)?;
            let replay =
                serde_json::to_value(&view).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(Created {
                id: view.id.clone(),
                version: 1,
                body: SubscriptionView {
                    // A secret the caller supplied is not echoed.
                    secret: generated.then_some(secret),
                    ..view
                },
                replay_body: Some(replay),
            })
        },
    )
    .await
}

/// List webhook subscriptions.
#[utoipa::path(
    operation_id = "listWebhookSubscriptions",
    tag = "webhooks",
    summary = "List webhook subscriptions",
    description = "Admins (every organisation, or one with `organisation_id`) and partner apps (their own). Without secrets. Pages by `cursor`.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of subscriptions", body = SubscriptionPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (organisation, after, limit) = listing(&state, &auth, query).await?;
    let rows = state
        .db
        .run(move |conn| {
            store::list_subscriptions(
                conn,
                organisation.as_deref(),
                after.as_deref(),
                i64::from(limit) + 1,
            )
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| r.id.clone());
    let items = rows
        .iter()
        .map(SubscriptionView::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(SubscriptionPage { items, next_cursor }))
}

/// Authorizes a listing and decodes its query: partners see their own
/// organisation's only; admins all, or one organisation's.
async fn listing(
    state: &AppState,
    auth: &Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<(Option<String>, Option<String>, u32), ApiError> {
    permit(
        state,
        auth,
        Action::ManageWebhooks,
        Resource::Service,
        "webhook_subscription",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| parse_id("cursor", c))
        .transpose()?;
    let named = query
        .organisation_id
        .as_deref()
        .map(|c| parse_id("organisation_id", c))
        .transpose()?;
    let organisation = match named {
        None if auth.actor.roles.has(Role::Admin) => None,
        named => Some(named.unwrap_or_else(|| auth.actor.organisation_id.clone())),
    };
    if let Some(id) = &organisation {
        permit(
            state,
            auth,
            Action::ManageWebhooks,
            Resource::Organisation { id },
            "organisation",
            Some(id),
        )
        .await?;
    }
    Ok((organisation, after, limit(query.limit)))
}

/// A subscription the caller may manage, or 404.
async fn authorized_subscription(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<SubscriptionRow, ApiError> {
    let lookup = id.to_owned();
    let row = state
        .db
        .run(move |conn| store::find_subscription(conn, &lookup))
        .await?
        .filter(|r| r.status == "active");
    let organisation = row.as_ref().map(|r| r.organisation_id.clone());
    permit(
        state,
        auth,
        Action::ManageWebhooks,
        match &organisation {
            Some(org) => Resource::Organisation { id: org },
            // Nobody's: 404 for those who may manage webhooks.
            None => Resource::Organisation { id: "" },
        },
        "webhook_subscription",
        Some(id),
    )
    .await?;
    row.ok_or_else(|| ApiError::not_found("no webhook subscription with this id"))
}

/// Read a webhook subscription (without its secret).
#[utoipa::path(
    operation_id = "getWebhookSubscription",
    tag = "webhooks",
    summary = "Read a webhook subscription",
    description = "Admins, and partner apps for their own organisation's subscriptions (404 otherwise). Without its secret, which is shown once, at creation.",
    params(("id" = String, Path, description = "Subscription id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/webhooks/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let row = authorized_subscription(&state, &auth, &id).await?;
    Ok(HttpResponse::Ok().json(SubscriptionView::try_from(&row)?))
}

/// Delete a webhook subscription: its pending and dead deliveries are cancelled.
#[utoipa::path(
    operation_id = "deleteWebhookSubscription",
    tag = "webhooks",
    summary = "Delete a webhook subscription",
    description = "Admins, and partner apps for their own organisation's subscriptions (404 otherwise). Its pending and dead deliveries are cancelled. Audited.",
    params(("id" = String, Path, description = "Subscription id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // `/webhooks/dead-letters` is its own resource (GET only), not an id.
    if id.as_str() == "dead-letters" {
        return Err(ApiError::method_not_allowed("GET".to_owned()));
    }
    let id = parse_id("id", &id)?;
    authorized_subscription(&state, &auth, &id).await?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "delete_webhook_subscription",
        "webhook_subscription",
        Some(&id),
        Outcome::Success,
    );
    state
        .db
        .transaction(move |conn| {
            if !store::delete_subscription(conn, &id, now)? {
                return Err(ApiError::not_found("no webhook subscription with this id"));
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A delivery of an event to a subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Id (for redelivery).
    pub id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The event (its `id` in the delivered body).
    pub event_id: String,
    /// The event type.
    pub event_type: EventTypeWire,
    /// The event's position in the organisation's feed.
    pub seq: i64,
    /// `pending`, `delivered`, `dead` or `cancelled`.
    #[schema(pattern = "^(pending|delivered|dead|cancelled)$")]
    pub status: String,
    /// Attempts made since it was (re)queued.
    pub attempts: i32,
    /// The last failure's cause (`http 500`, `connect`, `timeout`…).
    pub last_error: Option<String>,
    /// Next attempt (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

fn delivery_view(row: &DeliveryRow, event: &EventRow) -> Result<DeliveryView, ApiError> {
    Ok(DeliveryView {
        id: row.id.clone(),
        subscription_id: row.subscription_id.clone(),
        event_id: row.event_id.clone(),
        event_type: EventTypeWire(
            event
                .event_type
                .parse()
                .map_err(|_| ApiError::internal(format!("stored event {}", event.id)))?,
        ),
        seq: row.seq,
        status: row.status.clone(),
        attempts: row.attempts,
        last_error: row.last_error.clone(),
        next_attempt_at: instant(row.next_attempt_at),
        created_at: instant(row.created_at),
    })
}

/// A page of deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    /// By id.
    pub items: Vec<DeliveryView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The dead-letter list: deliveries that failed every attempt.
#[utoipa::path(
    operation_id = "listDeadWebhookDeliveries",
    tag = "webhooks",
    summary = "List dead webhook deliveries",
    description = "Admins (every organisation, or one with `organisation_id`) and partner apps (their own): the deliveries that failed every attempt, to redeliver with `redeliverWebhook`. Pages by `cursor`.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of dead deliveries", body = DeliveryPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/webhooks/dead-letters")]
pub async fn dead_letters(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (organisation, after, limit) = listing(&state, &auth, query).await?;
    let rows = state
        .db
        .run(move |conn| {
            store::list_dead(
                conn,
                organisation.as_deref(),
                after.as_deref(),
                i64::from(limit) + 1,
            )
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |(d, _)| d.id.clone());
    let items = rows
        .iter()
        .map(|(d, e)| delivery_view(d, e))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(DeliveryPage { items, next_cursor }))
}

/// Put a dead delivery back in the queue (due now, attempts from zero).
#[utoipa::path(
    operation_id = "redeliverWebhook",
    tag = "webhooks",
    summary = "Redeliver a dead webhook delivery",
    description = "Admins, and partner apps for their own organisation's deliveries (404 otherwise). Puts a dead delivery back in the queue, due now, its attempts counted from zero (202: it is sent in the background). A delivery that is not dead is a 409 `delivery-not-dead`. Audited.",
    params(("id" = String, Path, description = "Delivery id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued again", body = DeliveryView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/webhooks/deliveries/{id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let lookup = id.clone();
    let found = state
        .db
        .run(move |conn| {
            let Some(delivery) = store::find_delivery(conn, &lookup)? else {
                return Ok::<_, ApiError>(None);
            };
            let subscription = store::find_subscription(conn, &delivery.subscription_id)?;
            Ok(subscription.map(|s| (delivery, s.organisation_id)))
        })
        .await?;
    let organisation = found.as_ref().map(|(_, org)| org.clone());
    permit(
        &state,
        &auth,
        Action::ManageWebhooks,
        Resource::Organisation {
            id: organisation.as_deref().unwrap_or_default(),
        },
        "webhook_delivery",
        Some(&id),
    )
    .await?;
    if found.is_none() {
        return Err(ApiError::not_found("no webhook delivery with this id"));
    }
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "redeliver_webhook",
        "webhook_delivery",
        Some(&id),
        Outcome::Success,
    );
    let view = state
        .db
        .transaction(move |conn| {
            if !store::redeliver(conn, &id, now)? {
                return Err(ApiError::conflict(
                    "delivery-not-dead",
                    "Not dead",
                    "only a dead delivery can be redelivered",
                ));
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let delivery = store::find_delivery(conn, &id)?
                .ok_or_else(|| ApiError::internal("delivery just written"))?;
            let event = store::find_event(conn, &delivery.event_id)?
                .ok_or_else(|| ApiError::internal("event of a delivery"))?;
            delivery_view(&delivery, &event)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(view))
}

/// An event of the feed (also the body of a webhook delivery).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// The event id: de-duplicate on it.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventTypeWire,
    /// Position in the organisation's feed (from 1, no gaps).
    pub seq: i64,
    /// The partner organisation.
    pub organisation_id: String,
    /// When (UTC).
    pub occurred_at: DateTime<Utc>,
    /// Ids, reference, statuses and instants of the record, as the partner
    /// reads them through the API (see the `webhooks` section).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

fn event_view(event: &EventRow) -> Result<EventView, ApiError> {
    let stored = || ApiError::internal(format!("stored event {}", event.id));
    Ok(EventView {
        id: event.id.clone(),
        event_type: EventTypeWire(event.event_type.parse().map_err(|_| stored())?),
        seq: event.seq,
        organisation_id: event.organisation_id.clone(),
        occurred_at: instant(event.occurred_at),
        data: serde_json::from_str(&event.payload).map_err(|_| stored())?,
    })
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Oldest first.
    pub items: Vec<EventView>,
    /// Pass as `after` for the next page (the last `seq` returned, or the
    /// `after` given when there is nothing new).
    pub next_after: i64,
}

/// Position and size of a feed page.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Events after this position (default 0: from the start).
    #[validate(range(min = 0, message = "after is 0 or more"))]
    #[param(minimum = 0, default = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
}

/// The organisation's events after a position, for partners who poll.
#[utoipa::path(
    operation_id = "listEvents",
    tag = "webhooks",
    summary = "Read your organisation's event feed",
    description = "The same events webhooks deliver, in order, numbered from 1 without gaps (`seq`). \
                   Poll with `after` = the `next_after` of the previous answer.",
    params(FeedQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Events after `after`", body = EventPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/events")]
pub async fn events(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadEvents,
        Resource::Service,
        "event_feed",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.after.unwrap_or(0);
    let limit = limit(query.limit);
    let organisation = auth.actor.organisation_id.clone();
    let rows = state
        .db
        .run(move |conn| store::list_events(conn, &organisation, after, i64::from(limit)))
        .await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_events",
            "event_feed",
            Some(&auth.actor.organisation_id),
            Outcome::Success,
        )],
    )
    .await?;
    let next_after = rows.last().map_or(after, |e| e.seq);
    let items = rows.iter().map(event_view).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(EventPage { items, next_after }))
}
