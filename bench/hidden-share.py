#!/usr/bin/env python3
"""Share of non-zero statistics figures an analyst cannot see, for one year.

Reads every table the API offers (each family, measure, dimension and
period, as tests/e2e/intruder.rs does) plus the annual report, and counts
each figure once: a figure is visible if any table publishes it (an analyst
combines tables), hidden if every table that shows it hides it. Zeros are
published, so a hidden figure is non-zero.

    bench/hidden-share.py http://127.0.0.1:8080/api/v1 "$TOKEN" 2025

Prints one Markdown row per family: non-zero figures, hidden, share, and
how many figures one table hides while another publishes them (a leak the
linked-tables protection removes; 0 after it).
"""

import json
import sys
import urllib.request

FAMILIES = [
    ("referrals", ["received", "accepted", "declined", "redirected"],
     ["departement", "region", "public", "context", "source", "age_band", "gender"]),
    ("follow-ups", ["opened", "closed", "active"],
     ["departement", "region", "gender", "closure_reason"]),
    ("appointments", [None], ["departement", "region", "mode", "status"]),
    ("group-sessions", ["held", "people_reached"], ["departement", "region", "kind"]),
    ("permanences", ["held", "attendance"], ["departement", "region"]),
    ("professionals", ["reached"], ["departement", "region", "organisation_kind", "kind"]),
    ("resources", ["downloads"], ["kind"]),
]
REPORT = [
    ("referrals_per_month", "referrals"),
    ("referrals_by_source", "referrals"),
    ("departements_reached", "referrals"),
    ("follow_ups_by_outcome", "follow-ups"),
    ("group_sessions_by_kind", "group-sessions"),
]


def get(api, token, path):
    req = urllib.request.Request(api + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.load(resp)


def value(cell):
    return None if cell.get("suppressed") else cell.get("value")


def ingest(figures, mixed, family, table):
    measure, dim = table["measure"], table.get("by") or ""
    for row in table["rows"]:
        cells = [(dim, c, cell) for c, cell in zip(table["columns"], row["cells"])] if dim else []
        cells.append(("", "TOTAL", row["total"]))
        for d, category, cell in cells:
            key = (family, measure, row["period"], d, category)
            v = value(cell)
            if key in figures and (figures[key] is None) != (v is None):
                mixed.add(key)
            if key not in figures or figures[key] is None:
                figures[key] = v


def main():
    api, token, year = sys.argv[1], sys.argv[2], int(sys.argv[3])
    figures, mixed = {}, set()
    for family, measures, dims in FAMILIES:
        for measure in measures:
            for by in [None] + dims:
                for period in ("month", "quarter", "year"):
                    path = f"/stats/{family}?from={year:04}-01&months=12&period={period}"
                    if measure:
                        path += f"&measure={measure}"
                    if by:
                        path += f"&by={by}"
                    ingest(figures, mixed, family, get(api, token, path))
    report = get(api, token, f"/stats/report?year={year:04}&format=json")
    for table, family in REPORT:
        ingest(figures, mixed, family, report[table])
    print("| family | non-zero figures | hidden | share hidden | hidden in one table, published in another |")
    print("|---|---|---|---|---|")
    for family, _, _ in FAMILIES:
        keys = [k for k in figures if k[0] == family]
        nonzero = [k for k in keys if figures[k] != 0]
        hidden = [k for k in keys if figures[k] is None]
        share = 100.0 * len(hidden) / len(nonzero) if nonzero else 0.0
        both = len([k for k in mixed if k[0] == family])
        print(f"| {family} | {len(nonzero)} | {len(hidden)} | {share:.1f} % | {both} |")


if __name__ == "__main__":
    main()
