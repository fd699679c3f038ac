"""`imgsearch review` walked through by a user in a real headless Chromium: a folder of generated
duplicates indexed with the real network, groups seen with decoded thumbnails, a suggestion kept,
another keeper chosen, "not duplicates", bulk apply, Undo and `imgsearch undo`, a kill of the
server in between; before/after inventories prove no photo was lost and undo restores them."""

import shutil
import signal

import pytest

from browser import assert_screenshot_shows_photos, loaded_images, page
from commands import imgsearch
from inventories import assert_nothing_lost, inventory
from photos import draw_photo
from review_server import review_server

GROUPS = 5  # each: an original, a smaller copy and (for the first two) a byte-identical copy


@pytest.fixture
def library(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(GROUPS):
        draw_photo(seed, (640, 480)).save(photos / f"g{seed}.jpg", quality=92)
        draw_photo(seed, (640, 480)).resize((320, 240)).save(photos / f"g{seed}_small.jpg", quality=80)
    for seed in range(2):
        shutil.copy2(photos / f"g{seed}.jpg", photos / f"g{seed}_copy.jpg")
    for seed in range(20, 26):
        draw_photo(seed, (640, 480)).save(photos / f"single{seed}.jpg", quality=90)
    assert imgsearch("index", photos, "--index", tmp_path / "idx").returncode == 0
    assert imgsearch("clusters", "--index", tmp_path / "idx", "--k", "3").returncode == 0
    return photos, tmp_path


def _groups(tab) -> int:
    tab.wait_for_function("() => document.querySelector('#main .total, #main .empty') !== null")
    return tab.locator("section.group").count()


def _wait_for_groups(tab, count: int) -> None:
    tab.wait_for_function(f"() => document.querySelectorAll('section.group').length === {count}", timeout=30_000)


def test_a_user_reviews_duplicates_in_the_browser_and_nothing_is_lost(library):
    photos, root = library
    moved = root / "moved"
    before = inventory(photos)
    with review_server(root / "idx", "--move-to", moved) as server, page(1300, 900) as tab:
        tab.goto(server.url)
        assert _groups(tab) == GROUPS
        loaded, total = loaded_images(tab)
        assert loaded == total == 2 * GROUPS + 2, "every thumbnail decodes"
        assert tab.locator("figure.keeper").count() == GROUPS
        assert tab.locator("figure.keeper .why").first.inner_text() == "suggested keeper"
        assert "score" in tab.locator("figure:not(.keeper) .why").first.inner_text()
        assert_screenshot_shows_photos(tab, root / "review-groups.png")

        # 1. keep the suggestion of the focused group with the keyboard
        first = tab.locator("section.group").first.get_attribute("data-id")
        tab.keyboard.press("Enter")
        _wait_for_groups(tab, GROUPS - 1)
        assert "move to" in tab.locator("#status").inner_text()
        assert tab.locator(f'section.group[data-id="{first}"]').count() == 0

        # 2. choose another keeper with the mouse: the suggested keeper is moved instead
        group = tab.locator("section.group").first
        names = group.locator("figcaption b").all_inner_texts()
        group.locator("button.choose").first.click()
        _wait_for_groups(tab, GROUPS - 2)
        kept = names[1].split(". ", 1)[1]
        assert (photos / kept).exists() and (moved / names[0].split(". ", 1)[1]).exists()

        # 3. "not duplicates" with the keyboard, then Undo brings the group back
        ignored = tab.locator("section.group").first.get_attribute("data-id")
        tab.keyboard.press("n")
        _wait_for_groups(tab, GROUPS - 3)
        tab.click("#undo")
        _wait_for_groups(tab, GROUPS - 2)
        assert tab.locator(f'section.group[data-id="{ignored}"]').count() == 1
        tab.keyboard.press("n")
        _wait_for_groups(tab, GROUPS - 3)

        # one group at a time: S skips to the next one
        tab.goto(server.url.split("?")[0] + "#/one")
        _wait_for_groups(tab, 1)
        shown = tab.locator("section.group").get_attribute("data-id")
        tab.keyboard.press("s")
        tab.wait_for_function(f"() => document.querySelector('section.group').dataset.id !== '{shown}'")

        # 4. the photo page: similar photos, and the clusters' contact sheets
        tab.goto(server.url.split("?")[0] + "#/clusters")
        tab.wait_for_selector("section.cluster")
        assert tab.locator("section.cluster").count() == 3
        assert loaded_images(tab)[0] > 0
        tab.locator("section.cluster .cell").first.click()
        tab.wait_for_selector(".photo-page img.large")
        assert tab.locator(".sheet .cell").count() >= 5
        server.process.send_signal(signal.SIGKILL)

    # the server was killed: every decision taken so far is on disk already
    after_kill = inventory(photos, moved)
    assert_nothing_lost(before, after_kill)
    with review_server(root / "idx", "--move-to", moved) as server, page(1300, 900) as tab:
        tab.goto(server.url)
        assert _groups(tab) == GROUPS - 3, "a reopened review shows what remains"

        # 5. bulk: the confirmation says how many files go where; then Undo
        tab.click("#bulk")
        tab.wait_for_selector("dialog#confirm[open]")
        text = tab.locator("#confirm-text").inner_text()
        assert f"move to {moved}: 2 file(s) from 2 group(s)" in text, text
        tab.click("#confirm-ok")
        _wait_for_groups(tab, 0)
        assert "No duplicate group left" in tab.locator("#main").inner_text()
        assert_nothing_lost(before, inventory(photos, moved))
        tab.click("#undo")
        _wait_for_groups(tab, GROUPS - 3)
        assert inventory(photos, moved) == after_kill
        server.process.send_signal(signal.SIGKILL)

    # `imgsearch undo` reverts the decisions taken in the browser too: the folder is as it was
    for _ in range(3):
        assert imgsearch("undo", "--index", root / "idx").returncode == 0
    assert inventory(photos) == before
    assert not [p for p in moved.rglob("*") if p.is_file()]
