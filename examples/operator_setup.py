"""What the programme's operator does once before a partner starts (run by
CI before the two quickstart scenarios; not part of a partner's code).

As an admin: a partner organisation (ASE of Seine-Saint-Denis), its app
(client credentials, printed once), a coordinator of 93 who holds a weekday
permanence at a site in 93 (so that first meetings can be booked), and a
resource of the library with a PDF file.

    python examples/operator_setup.py URL ADMIN_EMAIL ADMIN_PASSWORD

prints, as shell assignments, ADOSEXO_CLIENT_ID and ADOSEXO_CLIENT_SECRET.
"""

import datetime
import sys
import uuid

import requests


def main() -> None:
    base, email, password = sys.argv[1:4]
    session = requests.Session()
    session.headers["Accept"] = "application/json"

    def call(method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = session.request(method, base + path, headers=headers, timeout=30, **kwargs)
        if response.status_code >= 400:
            sys.exit(f"{method} {path}: {response.status_code} {response.text}")
        return response

    def token(username: str, secret: str) -> str:
        grant = {"grant_type": "password", "username": username, "password": secret}
        return call("POST", "/api/v1/auth/token", json=grant).json()["access_token"]

    admin = token(email, password)
    suffix = uuid.uuid4().hex[:8]
    programme = call("GET", "/api/v1/me", admin).json()["organisation_id"]
    partner = call(
        "POST",
        "/api/v1/organisations",
        admin,
        json={
            "name": f"ASE Seine-Saint-Denis {suffix}",
            "kind": "ase",
            "departement_code": "93",
            "shares_secrecy": True,
        },
    ).json()["id"]
    app = call(
        "POST",
        "/api/v1/clients",
        admin,
        json={
            "name": f"ASE 93 case management {suffix}",
            "organisation_id": partner,
            "scopes": [
                "referrals:read",
                "referrals:write",
                "appointments:read",
                "appointments:write",
            ],
        },
    ).json()
    coordinator_email = f"coordinator-{suffix}@quickstart.example"
    coordinator_id = call(
        "POST",
        "/api/v1/accounts",
        admin,
        json={
            "email": coordinator_email,
            "display_name": "Coordinatrice 93",
            "organisation_id": programme,
            "roles": ["coordinator"],
            "territory": ["93"],
            "password": "quickstart-coordinator-2026",
        },
    ).json()["id"]
    coordinator = token(coordinator_email, "quickstart-coordinator-2026")
    site = call(
        "POST",
        "/api/v1/sites",
        coordinator,
        json={
            "name": f"Point écoute Bobigny {suffix}",
            "kind": "youth_centre",
            "address": "1 rue de Paris",
            "postcode": "93000",
            "city": "Bobigny",
            "departement_code": "93",
            "latitude": 48.91,
            "longitude": 2.44,
            "public": True,
        },
    ).json()["id"]
    call(
        "POST",
        "/api/v1/permanences",
        coordinator,
        json={
            "site_id": site,
            "title": "Permanence de semaine",
            "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            "dtstart": datetime.date.today().isoformat(),
            "part_of_day": "explicit",
            "start_time": "09:00",
            "end_time": "17:00",
            "audience": "all",
            "staff_ids": [coordinator_id],
        },
    )
    resource = call(
        "POST",
        "/api/v1/resources",
        admin,
        json={
            "title": "Guide de l'éducation à la vie affective",
            "description": "Repères pour les professionnels de la protection de l'enfance.",
            "audience": "professionals",
            "kind": "guide",
            "language": "fr",
            "visibility": "partners",
        },
    ).json()["id"]
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"x" * 2000 + b"\n%%EOF\n"
    call(
        "PUT",
        f"/api/v1/resources/{resource}/file",
        admin,
        data=pdf,
        headers={"Content-Type": "application/pdf"},
    )
    print(f"ADOSEXO_CLIENT_ID={app['id']}")
    print(f"ADOSEXO_CLIENT_SECRET={app['client_secret']}")


if __name__ == "__main__":
    main()
