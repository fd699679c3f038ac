"""`python -m imgsearch_cnn.search.cli`: the same as the `imgsearch` command."""

from imgsearch_cnn.search.cli import main

main()
