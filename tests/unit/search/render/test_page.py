"""render/page: one skeleton for every page, title escaped, no outside assets."""

from imgsearch_cnn.search.render.page import page


def test_a_page_is_complete_and_self_contained():
    html = page("Tom & Jerry <3", "<p>body</p>", "let x = 1;")
    assert html.startswith("<!doctype html>") and html.endswith("</html>")
    assert "<title>Tom &amp; Jerry &lt;3</title>" in html and "<script>let x = 1;</script>" in html
    assert "http://" not in html and "https://" not in html
