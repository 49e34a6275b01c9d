"""A partner's quickstart in Python, with the client generated from
openapi/openapi.json by openapi-python-client (see examples/README.md).

    python partner.py            # ADOSEXO_URL, ADOSEXO_CLIENT_ID, ADOSEXO_CLIENT_SECRET

An app of a partner service (client credentials) sends a referral safely
(Idempotency-Key), reads its timeline, books a first meeting in a free slot
of a permanence, and downloads a guide from the resource library.
"""

import datetime
import hashlib
import os
import sys
import uuid
from typing import TypeVar

from adosexo_client import AuthenticatedClient, Client
from adosexo_client.api.auth import create_token
from adosexo_client.api.professionals import download_resource_file, search_resources
from adosexo_client.api.referrals import create_referral, get_referral
from adosexo_client.api.scheduling import book_first_meeting, get_availability
from adosexo_client.models import (
    BookSlot,
    ClientCredentialsGrantForm,
    ClientCredentialsGrantFormGrantType,
    Context,
    CreateReferral,
    FileView,
    PersonInput,
    Problem,
    Public,
    ReferrerInput,
    ResourceAudience,
    RiskIndicator,
    SourceKind,
    Urgency,
)
from adosexo_client.types import File, Response

T = TypeVar("T")


def ok(response: Response[T | Problem], status: int) -> T:
    """The parsed body of an expected answer; a problem (RFC 9457) stops the run."""
    parsed = response.parsed
    if response.status_code != status or parsed is None or isinstance(parsed, Problem):
        sys.exit(f"expected {status}, got {response.status_code}: {response.content!r}")
    return parsed


def main() -> None:
    base_url = os.environ.get("ADOSEXO_URL", "http://127.0.0.1:8080")
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)

    # 1. A token by client credentials (OAuth 2.0, form-encoded as RFC 6749 says).
    grant = ClientCredentialsGrantForm(
        grant_type=ClientCredentialsGrantFormGrantType.CLIENT_CREDENTIALS,
        client_id=os.environ["ADOSEXO_CLIENT_ID"],
        client_secret=os.environ["ADOSEXO_CLIENT_SECRET"],
        scope="referrals:read referrals:write appointments:read appointments:write",
    )
    token = ok(create_token.sync_detailed(client=anonymous, body=grant), 200)
    api = AuthenticatedClient(base_url=base_url, token=token.access_token, raise_on_unexpected_status=True)
    print(f"token: {token.token_type}, {token.expires_in} s")

    # 2. A referral. The Idempotency-Key makes the retry below safe: the
    # same key and body answer the first referral again, never a second one.
    referral = CreateReferral(
        public=Public.YOUNG_PERSON,
        context=Context.PRE_PROSTITUTION,
        source=SourceKind.PARTNER_ORGANISATION,
        referrer=ReferrerInput(name="Mme Diallo, éducatrice ASE", contact="01 43 93 00 00"),
        person=PersonInput(first_name="Lina", birth_date=datetime.date(2011, 4, 2), departement_code="93"),
        risk_indicators=[RiskIndicator.RUNAWAY],
        summary="Fugues répétées depuis septembre, contacts avec des majeurs inconnus.",
        urgency=Urgency.URGENT,
    )
    key = str(uuid.uuid4())
    created = ok(create_referral.sync_detailed(client=api, body=referral, idempotency_key=key), 201)
    again = ok(create_referral.sync_detailed(client=api, body=referral, idempotency_key=key), 201)
    assert again.id == created.id, "a retry with the same key is the same referral"
    print(f"referral {created.reference} ({created.status.value})")

    # 3. Its timeline.
    read = ok(get_referral.sync_detailed(created.id, client=api), 200)
    for step in read.timeline:
        print(f"  {step.at:%Y-%m-%d %H:%M} {step.action.value} -> {step.to_status.value}")
    assert read.timeline, "a new referral has its submission in its timeline"

    # 4. A first meeting: the free slots of the coming two weeks, then the first one.
    now = datetime.datetime.now(datetime.UTC)
    slots = ok(
        get_availability.sync_detailed(
            client=api, departement="93", from_=now, to=now + datetime.timedelta(days=14), duration=60
        ),
        200,
    )
    assert slots, "the permanence has free slots"
    slot = slots[0]
    booking = BookSlot(
        referral_id=uuid.UUID(created.id),
        permanence_id=uuid.UUID(slot.permanence_id),
        starts_at=slot.starts_at,
        duration=60,
    )
    booked = ok(book_first_meeting.sync_detailed(client=api, body=booking), 201)
    print(f"first meeting {booked.starts_at:%Y-%m-%d %H:%M} ({booked.confirmation.value})")

    # 5. A guide from the resource library, checked against its SHA-256.
    page = ok(search_resources.sync_detailed(client=api, q="éducation", audience=ResourceAudience.PROFESSIONALS), 200)
    guide = next(r for r in page.items if isinstance(r.file, FileView))
    assert isinstance(guide.file, FileView)
    downloaded = ok(download_resource_file.sync_detailed(guide.id, client=api), 200)
    assert isinstance(downloaded, File)
    data = downloaded.payload.read()
    assert hashlib.sha256(data).hexdigest() == guide.file.sha256, "the bytes are the ones stored"
    print(f"downloaded {guide.title!r}: {len(data)} bytes ({guide.file.media_type})")
    print("partner scenario (Python): passed")


if __name__ == "__main__":
    main()
