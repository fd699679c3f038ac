"""`imgsearch review` lets nobody but the holder of its printed address see or change anything:
a real server, raw HTTP requests (any Host header, any path)."""

import hashlib
import json
import shutil

import pytest

from fakes import fake_index
from inventories import inventory
from photos import draw_photo
from review_server import review_server

from imgsearch_cnn.search.review.server import bind
from imgsearch_cnn.search.review.state import photo_id


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("review-security")
    photos = root / "photos"
    photos.mkdir()
    for seed in range(3):
        draw_photo(seed).save(photos / f"p{seed}.jpg", quality=90)
        shutil.copy(photos / f"p{seed}.jpg", photos / f"p{seed}_copy.jpg")
    fake_index(root / "idx", [photos])
    draw_photo(9).save(photos / "not_indexed.jpg")  # lies among the photos, but was never indexed
    with review_server(root / "idx", "--move-to", root / "moved") as server:
        yield server, photos, root


def _walk_proof(body: bytes) -> None:
    assert b"root:" not in body and b"meta.lmdb" not in body


def test_the_printed_address_opens_the_app_and_leaves_a_cookie_for_this_port_only(served):
    server, _, _ = served
    assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")
    status, _, headers = server.request("GET", f"/?token={server.token}")
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert f"imgsearch_review_{server.port}=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    status, page, headers = server.request("GET", "/", server.cookie())
    assert status == 200 and b"imgsearch review" in page
    assert "default-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/api/groups", "/api/bulk", "/static/app.js", "/api/clusters"])
def test_no_token_or_a_wrong_token_is_refused(served, path):
    server, _, _ = served
    assert server.request("GET", path)[0] == 403
    assert server.request("GET", path + "?token=wrong")[0] == 403
    assert server.request("GET", path, {"Cookie": f"imgsearch_review_{server.port}=wrong"})[0] == 403
    assert server.request("GET", path, {"Cookie": f"imgsearch_review_1={server.token}x"})[0] == 403


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{{port}}", "127.0.0.1", "127.0.0.1:1",
                                  "localhost.evil.example:{port}", "0.0.0.0:{port}", ""])
def test_a_foreign_host_header_is_refused_even_with_the_token(served, host):
    server, _, _ = served
    host = host.format(port=server.port)
    status, body, _ = server.request("GET", "/api/groups", server.cookie(), host=host)
    assert status == 403 and b"groups" not in body
    assert server.request("GET", f"/?token={server.token}", host=host)[0] == 403


def test_thumbnails_and_photos_come_only_by_id_of_an_indexed_photo(served):
    server, photos, root = served
    cookie = server.cookie()
    indexed = photo_id(str((photos / "p0.jpg").resolve()))
    for kind in ("thumb", "large"):
        status, body, headers = server.request("GET", f"/{kind}/{indexed}", cookie)
        assert status == 200 and headers["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    for outside in ("/etc/passwd", str(photos / "not_indexed.jpg"), str(root / "idx" / "dupes.json"),
                    str(root / "idx" / "meta.lmdb" / "data.mdb")):
        for kind in ("thumb", "large", "api/photo"):
            status, body, _ = server.request("GET", f"/{kind}/{photo_id(outside)}", cookie)
            assert status == 404, (kind, outside)
            _walk_proof(body)


TRAVERSALS = ["../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2Fetc%2Fpasswd", "/etc/passwd", "..",
              "%2e%2e", "....//....//etc/passwd", "C:%5Cwindows"]
ROUTES = ["/thumb/{x}", "/large/{x}", "/api/photo/{x}", "/api/group/{x}", "/api/cluster/{x}", "/static/{x}",
          "/api/groups?page={x}", "/api/groups?size={x}", "/api/groups?tier={x}", "/api/clusters?page={x}",
          "/?x={x}", "/thumb/{x}/../../../etc/passwd"]


@pytest.mark.parametrize("route", ROUTES)
def test_dot_dot_and_absolute_paths_in_every_parameter_are_refused(served, route):
    server, _, _ = served
    cookie = server.cookie()
    for bad in TRAVERSALS:
        status, body, _ = server.request("GET", route.format(x=bad), cookie)
        _walk_proof(body)
        if route != "/?x={x}":  # the page itself ignores unknown parameters
            assert status in (400, 403, 404, 405), (route, bad, status)


def test_state_changes_need_post_with_the_pages_csrf_token_from_the_same_origin(served):
    server, photos, root = served
    cookie = server.cookie()
    before = inventory(photos, root / "moved")
    group = json.loads(server.request("GET", "/api/groups", cookie)[1])["groups"][0]["id"]
    for path in (f"/api/group/{group}/keep", f"/api/group/{group}/not-duplicates", "/api/bulk/apply", "/api/undo"):
        assert server.request("GET", path, cookie)[0] == 405, path
        assert server.request("POST", path, cookie, b"{}")[0] == 403, path  # no CSRF token
        assert server.request("POST", path, {**cookie, "X-CSRF-Token": "guess"}, b"{}")[0] == 403, path
        assert server.request("POST", path, {**cookie, "X-CSRF-Token": server.csrf(), "Origin": "http://evil.example"},
                              b"{}")[0] == 403, path
        assert server.request("POST", path, {"X-CSRF-Token": server.csrf()}, b"{}")[0] == 403, path  # no token
    assert inventory(photos, root / "moved") == before
    status, body, _ = server.request("POST", f"/api/group/{group}/keep", {**cookie, "X-CSRF-Token": server.csrf()},
                                     json.dumps({"keeper": "/etc/passwd"}).encode())
    assert status == 409 and inventory(photos, root / "moved") == before


def test_the_server_listens_on_the_loopback_address_only():
    sock = bind(0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
    finally:
        sock.close()


def test_nothing_in_the_index_folder_is_served_but_thumbnails(served):
    server, photos, root = served
    cookie = server.cookie()
    indexed = photo_id(str((photos / "p1.jpg").resolve()))
    assert server.request("GET", f"/thumb/{indexed}", cookie)[0] == 200
    cached = list((root / "idx" / "thumbnails").rglob("*.jpg"))
    assert cached, "thumbnails are cached in the index folder"
    digest = hashlib.sha1(cached[0].read_bytes()).hexdigest()
    assert any(hashlib.sha1(server.request("GET", f"/thumb/{photo_id(str((photos / n).resolve()))}", cookie)[1])
               .hexdigest() == digest for n in ("p0.jpg", "p1.jpg", "p2.jpg"))
