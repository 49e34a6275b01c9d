"""OAuth 2.0 with a client library (Authlib, on requests) against the running
server, as a partner's developer would: discovery (RFC 8414), client
credentials by client_secret_basic and client_secret_post, a person's
password and refresh grants through a public client, the RFC 6749 error
codes, and revocation (RFC 7009).

Usage: oauth_clients.py BASE_URL CLIENT_ID CLIENT_SECRET USERNAME PASSWORD
Prints one line per check; exits non-zero on the first failure. Never
prints a token or a secret.
"""

import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError


def expect_error(code, call):
    try:
        call()
    except OAuthError as error:
        assert error.error == code, f"expected {code}, got {error.error}: {error.description}"
        return
    raise AssertionError(f"expected the error {code}, got tokens")


def main(base, client_id, client_secret, username, password):
    meta = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10)
    meta.raise_for_status()
    meta = meta.json()
    assert meta["issuer"] == base, meta["issuer"]
    token_url = meta["token_endpoint"]
    revocation_url = meta["revocation_endpoint"]
    for grant in ("password", "client_credentials", "refresh_token"):
        assert grant in meta["grant_types_supported"], meta
    print("metadata: token and revocation endpoints discovered")

    # A partner app, both ways of authenticating.
    for method in ("client_secret_basic", "client_secret_post"):
        app = OAuth2Session(client_id, client_secret, token_endpoint_auth_method=method)
        token = app.fetch_token(token_url, grant_type="client_credentials", scope="referrals:read")
        assert token["token_type"] == "Bearer" and token["scope"] == "referrals:read", token.get("scope")
        me = app.get(f"{base}/api/v1/me", timeout=10)
        assert me.status_code == 200, me.status_code
        print(f"client_credentials by {method}: token accepted")
        if method == "client_secret_basic":
            app.revoke_token(revocation_url, token["access_token"], token_type_hint="access_token")
            after = app.get(f"{base}/api/v1/me", timeout=10)
            assert after.status_code == 401, after.status_code
            print("revocation of the app's access token: refused afterwards")
    wrong = OAuth2Session(client_id, "not-the-secret")
    expect_error("invalid_client", lambda: wrong.fetch_token(token_url, grant_type="client_credentials"))
    narrow = OAuth2Session(client_id, client_secret)
    expect_error(
        "invalid_scope",
        lambda: narrow.fetch_token(token_url, grant_type="client_credentials", scope="no-such:scope"),
    )
    print("wrong secret: invalid_client; unknown scope: invalid_scope")

    # A person, through a public client (no secret).
    staff = OAuth2Session("ci-staff-app")
    token = staff.fetch_token(token_url, username=username, password=password)
    assert "refresh_token" in token
    expect_error(
        "invalid_grant",
        lambda: OAuth2Session("ci-staff-app").fetch_token(token_url, username=username, password="wrong password!"),
    )
    refreshed = staff.refresh_token(token_url, refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    print("password and refresh_token grants: tokens rotated; wrong password: invalid_grant")
    staff.revoke_token(revocation_url, refreshed["refresh_token"], token_type_hint="refresh_token")
    gone = requests.get(
        f"{base}/api/v1/me", headers={"Authorization": f"Bearer {refreshed['access_token']}"}, timeout=10
    )
    assert gone.status_code == 401, gone.status_code
    expect_error("invalid_grant", lambda: staff.refresh_token(token_url, refresh_token=refreshed["refresh_token"]))
    print("revocation of the refresh token: the session is over")


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
