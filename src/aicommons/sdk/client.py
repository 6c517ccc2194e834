"""A small synchronous client of the AI Commons API (it imports nothing of the server)."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

JSON = dict[str, Any]


class RemoteError(Exception):
    """The server refused a request: `code` is the stable error code from its problem document."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class Client:
    """`Client("http://127.0.0.1:8000", token="aic_…")`; pass `transport=` to talk to an app in-process."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        with self._stream(method, path, **kwargs) as response:
            response.read()
        return response.json() if response.content else None

    @contextmanager
    def _stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A response whose body is not read yet (for large files); refusals raise RemoteError."""
        try:
            with self._http.stream(method, f"/api/v1{path}", **kwargs) as response:
                if response.is_error:
                    response.read()
                    problem = _problem(response)
                    raise RemoteError(
                        response.status_code,
                        problem.get("code", "error"),
                        problem.get("detail", response.text),
                    )
                yield response
        except httpx.TransportError as error:
            raise RemoteError(0, "unreachable", f"cannot reach {self._http.base_url}: {error}") from error

    def login(self, handle: str, password: str, *, token_name: str = "cli") -> str:
        """Trade a handle and password for an API token, use it from now on, and return it."""
        created = self._call(
            "POST", "/auth/tokens", json={"handle": handle, "password": password, "name": token_name}
        )
        self._http.headers["Authorization"] = f"Bearer {created['secret']}"
        return str(created["secret"])

    def me(self) -> JSON:
        result: JSON = self._call("GET", "/me")
        return result

    def communities(self, *, page: int = 1, size: int = 20, **filters: Any) -> JSON:
        """One page of communities: filters are q, format, sector, sdg, region, archived, mine."""
        params = {key: value for key, value in filters.items() if value is not None}
        result: JSON = self._call("GET", "/communities", params={**params, "page": page, "size": size})
        return result

    def community(self, slug: str) -> JSON:
        result: JSON = self._call("GET", f"/communities/{slug}")
        return result

    def create_community(self, **fields: Any) -> JSON:
        result: JSON = self._call("POST", "/communities", json=fields)
        return result

    def join(self, slug: str) -> JSON:
        result: JSON = self._call("POST", f"/communities/{slug}/members")
        return result

    def leave(self, slug: str) -> None:
        self._call("DELETE", f"/communities/{slug}/members/me")

    def refresh_stats(self, slug: str) -> JSON:
        result: JSON = self._call("POST", f"/communities/{slug}/stats/refresh")
        return result

    def account(self, *, page: int = 1, size: int = 20) -> JSON:
        """Your token balance and a page of your transfers, newest first."""
        result: JSON = self._call("GET", "/me/account", params={"page": page, "size": size})
        return result

    def send_tokens(self, to: str, amount: int, *, key: str, note: str = "") -> JSON:
        """Send tokens to a member; retrying with the same `key` never sends twice."""
        body = {"to": to, "amount": amount, "note": note, "idempotency_key": key}
        result: JSON = self._call("POST", "/me/transfers", json=body)
        return result

    def log_entries(self, *, page: int = 1, size: int = 20, **filters: Any) -> JSON:
        """Entries of the transparency log, newest first: filters are event, actor, community."""
        params = {key: value for key, value in filters.items() if value is not None}
        result: JSON = self._call("GET", "/ledger/entries", params={**params, "page": page, "size": size})
        return result

    def job(self, job_id: int) -> JSON:
        result: JSON = self._call("GET", f"/jobs/{job_id}")
        return result

    def wait_for_job(self, job_id: int, *, timeout: float = 60.0, interval: float = 0.2) -> JSON:
        """Poll a job until it succeeds or fails; raise TimeoutError past `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (job := self.job(job_id))["state"] in ("queued", "running"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job['state']} after {timeout}s")
            time.sleep(interval)
        return job


def _problem(response: httpx.Response) -> JSON:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
