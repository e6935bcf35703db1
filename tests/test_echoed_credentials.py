"""A server whose error body quotes the request's credentials back (a proxy's debug page, a
misconfigured gateway, a hostile server): the providers that show what an error body says
(Bitbucket, Azure DevOps, Argo CD) must not show the token, nor the ``Authorization`` value
that carries it in Basic auth's base64 (which is the token, only spelt otherwise). A real
server on 127.0.0.1 answers every request with a 400 that echoes its headers."""

from __future__ import annotations

import json

import pytest

from engine_helpers import poll_once
from hostile_server import HostileServer, Seen, answer

TOKEN = "S3cr3t-T0ken-4242"


def echo_headers(seen: Seen) -> bytes:
    """A 400 whose body says the request's ``Authorization`` back, in each API's error shape
    (Prometheus's ``error`` is a string, Bitbucket's an object, Alertmanager's a bare string)."""
    said = f"bad request (authorization: {seen.headers.get('authorization')})"
    if seen.path.endswith("/api/v1/query"):
        body: object = {"status": "error", "errorType": "bad_data", "error": said}
    elif "/api/v2/" in seen.path:
        body = said
    else:
        body = {"message": said, "error": {"message": said}}
    return answer(400, json.dumps(body).encode())


BLOCKS = {
    "bitbucket-basic": 'type = "bitbucket"\napi_url = "{url}/2.0"\nworkspace = "acme"\n'
    'repositories = ["web"]\nusername = "radiator"\n',
    "bitbucket-bearer": 'type = "bitbucket"\napi_url = "{url}/2.0"\nworkspace = "acme"\n'
    'repositories = ["web"]\n',
    "azure": 'type = "azure"\nurl = "{url}/acme"\nproject = "shop"\ndefinitions = [41]\n',
    "argocd": 'type = "argocd"\nurl = "{url}"\n',
    "prometheus": 'type = "prometheus"\nurl = "{url}"\nquery = "up"\ndown_below = 1\nusername = "radiator"\n',
    "alertmanager": 'type = "alertmanager"\nurl = "{url}"\nusername = "radiator"\n',
}
BASIC = ("bitbucket-basic", "azure", "prometheus", "alertmanager")


@pytest.mark.parametrize("kind", list(BLOCKS))
async def test_an_error_body_quoting_the_credentials_never_shows_them(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BR_ECHO_TOKEN", TOKEN)
    async with HostileServer() as server:
        server.default = echo_headers
        snapshot = await poll_once(
            '[[sources]]\nname = "echo"\ntimeout = 5\ntoken_env = "BR_ECHO_TOKEN"\n'
            + BLOCKS[kind].format(url=server.url)
        )
    [state] = snapshot.sources
    error = str(state.error)
    assert "bad request (" in error, error  # the server's words are shown...
    carried = {seen.headers.get("authorization", "") for seen in server.seen}
    secrets = {TOKEN} | {value.split(" ", 1)[-1] for value in carried if value}
    assert len(secrets) == (2 if kind in BASIC else 1)  # Basic auth: the token and its base64
    for secret in secrets:
        assert secret not in error, f"{secret[:6]}... shown in: {error}"  # ...its quote is not


async def test_a_long_error_is_cut_after_the_token_is_taken_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prometheus's error cut to 200 characters first: a token straddling the cut left its
    first half on screen, which no replace of the whole token could find."""
    monkeypatch.setenv("BR_ECHO_TOKEN", TOKEN)

    def long_echo(seen: Seen) -> bytes:
        said = "x" * 180 + " " + seen.headers["authorization"]
        body = {"status": "error", "errorType": "bad_data", "error": said}
        return answer(400, json.dumps(body).encode())

    async with HostileServer() as server:
        server.default = long_echo
        snapshot = await poll_once(
            f'[[sources]]\nname = "echo"\ntimeout = 5\ntoken_env = "BR_ECHO_TOKEN"\n'
            f'type = "prometheus"\nurl = "{server.url}"\nquery = "up"\ndown_below = 1\n'
        )
    error = str(snapshot.sources[0].error)
    assert "xxxxx Bearer" in error, error
    assert TOKEN[:4] not in error, error
