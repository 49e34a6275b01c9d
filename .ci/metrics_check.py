"""After fuzzing: /metrics parses as Prometheus text, the figures an operator
needs are there and moved, and every label value is from a closed set (route
patterns of the document, never a path, an id or a query)."""

import json
import re
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

url, document = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(url, timeout=10) as response:
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4"), response.headers
    text = response.read().decode()
families = {f.name: f for f in text_string_to_metric_families(text)}

needed = [
    "adosexo_http_requests", "adosexo_http_request_duration_seconds", "adosexo_http_rate_limited",
    "adosexo_db_pool_connections", "adosexo_db_pool_max_connections", "adosexo_db_pool_wait_seconds",
    "adosexo_db_pool_timeouts", "adosexo_db_group_commit_waiting", "adosexo_db_group_commit_writes",
    "adosexo_audit_queue_entries", "adosexo_audit_commit_lag_seconds", "adosexo_audit_batch_entries",
    "adosexo_webhook_deliveries", "adosexo_trace_spans_dropped",
]
missing = [n for n in needed if n not in families]
assert not missing, f"missing families: {missing}"

with open(document) as f:
    paths = set(json.load(f)["paths"])
extra = {"(unmatched)", "/", "/aide", "/aide/", "/aide/embed", "/aide/embed/",
         "/aide/static/{version}/{path}*", "/docs", "/docs/{tail}*", "/docs/{_:.*}"}
methods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}
requests = 0
routes = set()
for family in families.values():
    for sample in family.samples:
        for key, value in sample.labels.items():
            if key == "route":
                routes.add(value)
                assert value in paths or value in extra, f"route label not a pattern: {value!r}"
            elif key == "method":
                assert value in methods, value
            elif key == "status" and family.name == "adosexo_webhook_deliveries":
                assert value in ("pending", "dead"), value
            elif key == "status":
                assert re.fullmatch(r"[1-5][0-9]{2}", value), value
            elif key == "le":
                pass
            elif key == "state":
                assert value in ("in_use", "idle"), value
            else:
                raise AssertionError(f"unexpected label {key}={value!r} on {family.name}")
        if sample.name == "adosexo_http_requests_total":
            requests += sample.value
assert requests > 1000, f"only {requests} requests counted after fuzzing"
print(f"/metrics: {len(families)} families, {int(requests)} requests over {len(routes)} route patterns, labels from closed sets")
