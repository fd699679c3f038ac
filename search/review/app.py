"""The review app's HTTP side (Starlette): pages, JSON, images, and the guard every request
passes.

The guard: the Host header must name the bound address (a DNS-rebinding page cannot reach the
app), the secret token must come in the URL (it is then kept in a cookie for this port) or the
cookie, and every state change is a POST that carries the page's CSRF token from the same
origin. Photos are asked for by id and served only if they are in the index; no request names a
path; under the index folder only thumbnails are read.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from imgsearch_cnn.search.review import decisions, thumbs, views
from imgsearch_cnn.search.review.state import Review, ReviewError

ID = re.compile(r"^[0-9a-f]{16}$")
ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
TIERS = {"duplicates": "duplicates", "shots": "similar shots", "all": None}
MAX_PAGE_SIZE = 200
HEADERS = {  # no framing, no sniffing, nothing loaded from elsewhere, no referrer carrying the token
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
}


@dataclass
class Secrets:
    token: str  # in the printed URL
    csrf: str  # in the page, sent back with every POST
    port: int

    @classmethod
    def new(cls, port: int) -> "Secrets":
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), port)

    @property
    def cookie(self) -> str:
        return f"imgsearch_review_{self.port}"  # cookies are per host, not per port: one per server

    @property
    def hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}?{urlencode({'token': self.token})}"


class Guard(BaseHTTPMiddleware):
    def __init__(self, app, keys: Secrets):
        super().__init__(app)
        self.keys = keys

    async def dispatch(self, request: Request, call_next) -> Response:
        keys = self.keys
        if request.headers.get("host", "") not in keys.hosts:
            return PlainTextResponse("refused: unknown Host header", 403)
        given = request.query_params.get("token")
        if given is not None:
            if not secrets.compare_digest(given, keys.token):
                return PlainTextResponse("refused: wrong token", 403)
            if request.method == "GET":  # keep the token in a cookie, out of the address bar
                response = RedirectResponse(request.url.path, 303)
                response.set_cookie(keys.cookie, keys.token, httponly=True, samesite="strict")
                return response
        elif not secrets.compare_digest(request.cookies.get(keys.cookie, ""), keys.token):
            return PlainTextResponse("refused: open the address `imgsearch review` printed", 403)
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            if origin is not None and origin.removeprefix("http://") not in keys.hosts:
                return PlainTextResponse("refused: request from another site", 403)
            if not secrets.compare_digest(request.headers.get("x-csrf-token", ""), keys.csrf):
                return PlainTextResponse("refused: missing or wrong CSRF token", 403)
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response


def _id(request: Request, name: str) -> str:
    value = request.path_params[name]
    if not ID.match(value):
        raise KeyError(value)
    return value


def _number(request: Request, name: str, default: int, high: int = 10**9) -> int:
    text = request.query_params.get(name, str(default))
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise ReviewError(f"{name} must be a whole number from 1 to {high}")
    return int(text)


def create_app(review: Review, keys: Secrets) -> Starlette:
    """The app serving ``review`` to the holder of ``keys``."""
    page_html = resources.files("imgsearch_cnn.search.review").joinpath("static/index.html").read_text("utf-8")

    def index(request: Request) -> Response:
        return HTMLResponse(page_html.replace("{{csrf}}", keys.csrf), headers={"Cache-Control": "no-store"})

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return PlainTextResponse("not found", 404)
        text = resources.files("imgsearch_cnn.search.review").joinpath(f"static/{name}").read_bytes()
        return Response(text, media_type=ASSETS[name])

    def groups(request: Request) -> Response:
        tier = request.query_params.get("tier", "all")
        if tier not in TIERS:
            raise ReviewError(f"tier must be one of {', '.join(TIERS)}")
        return JSONResponse(review.page(_number(request, "page", 1), _number(request, "size", 20, MAX_PAGE_SIZE),
                                        TIERS[tier]))

    def group(request: Request) -> Response:
        return JSONResponse(review.group_json(review.find(_id(request, "gid"))))

    def jpeg(data: bytes) -> Response:
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    def thumbnail(request: Request) -> Response:
        record = review.record(_id(request, "pid"))
        return jpeg(thumbs.thumbnail(review.index, record, review.options.thumbnail_size))

    def large(request: Request) -> Response:
        return jpeg(thumbs.large(review.record(_id(request, "pid")), review.options.large_size))

    def photo(request: Request) -> Response:
        return JSONResponse(views.photo(review, _id(request, "pid")))

    def clusters(request: Request) -> Response:
        return JSONResponse(views.clusters(review, _number(request, "page", 1), _number(request, "size", 24, MAX_PAGE_SIZE)))

    def cluster(request: Request) -> Response:
        label = request.path_params["label"]
        return JSONResponse(views.cluster(review, label, _number(request, "page", 1),
                                          _number(request, "size", 60, MAX_PAGE_SIZE)))

    def keep(request: Request, body: dict) -> Response:
        keeper = body.get("keeper")
        if keeper is not None and (not isinstance(keeper, str) or not ID.match(keeper)):
            raise ReviewError("keeper must be a photo id")
        return JSONResponse(decisions.keep(review, _id(request, "gid"), keeper).to_json())

    def ignore(request: Request, body: dict) -> Response:
        return JSONResponse(decisions.not_duplicates(review, _id(request, "gid")).to_json())

    def bulk(request: Request) -> Response:
        return JSONResponse(decisions.bulk_plan(review))

    def bulk_apply(request: Request, body: dict) -> Response:
        return JSONResponse(decisions.bulk_apply(review).to_json())

    def undo(request: Request, body: dict) -> Response:
        return JSONResponse(decisions.undo(review).to_json())

    routes = [
        Route("/", _answer(index)), Route("/favicon.ico", lambda request: Response(status_code=204)), Route("/static/{name}", _answer(asset)),
        Route("/api/groups", _answer(groups)), Route("/api/group/{gid}", _answer(group)),
        Route("/api/photo/{pid}", _answer(photo)), Route("/api/clusters", _answer(clusters)),
        Route("/api/cluster/{label}", _answer(cluster)),
        Route("/thumb/{pid}", _answer(thumbnail)), Route("/large/{pid}", _answer(large)),
        Route("/api/bulk", _answer(bulk)),
        Route("/api/group/{gid}/keep", _post(keep), methods=["POST"]),
        Route("/api/group/{gid}/not-duplicates", _post(ignore), methods=["POST"]),
        Route("/api/bulk/apply", _post(bulk_apply), methods=["POST"]),
        Route("/api/undo", _post(undo), methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, keys=keys)])


def _answer(handler):
    """A GET endpoint: unknown ids are 404, refused requests 400 with the reason in JSON."""
    def endpoint(request: Request) -> Response:
        try:
            return handler(request)
        except KeyError:
            return JSONResponse({"error": "not found"}, 404)
        except ReviewError as exc:
            return JSONResponse({"error": str(exc)}, 400)
    return endpoint


def _post(handler):
    """A state-changing endpoint: POST with a JSON object body (the guard checked CSRF); a
    refused decision is 409 with the reason."""
    async def endpoint(request: Request) -> Response:
        try:
            body = await request.json() if await request.body() else {}
        except ValueError:
            return JSONResponse({"error": "the body must be JSON"}, 400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, 400)
        try:
            return await run_in_threadpool(handler, request, body)
        except KeyError:
            return JSONResponse({"error": "not found"}, 404)
        except ReviewError as exc:
            return JSONResponse({"error": str(exc)}, 409)
    return endpoint
