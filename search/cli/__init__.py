"""The `imgsearch` command: one small module per command; each parses options, calls the
library and prints. No work of its own, and no heavy import before a command runs.

Exit codes: 0 success; 1 the work ran but some files failed (or undo left some behind); 2 usage
or input error (nothing was touched); 3 environment failure (disk full, read-only or forbidden
folder, index locked by another writer).
"""

from __future__ import annotations

import sys

import click

from imgsearch_cnn.search.cli import classify, clusters, common, dupes, groups, index, info, maps, review, similar, undo


class _Group(click.Group):
    """One line for every error: usage errors exit 2, failures of the machine (full disk,
    permissions) exit 3, never a traceback for either."""

    def main(self, args=None, prog_name=None, **extra):
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
            common.fail(exc.format_message() + hint)
        except click.ClickException as exc:
            common.fail(exc.format_message())
        except click.Abort:
            common.fail("aborted", common.SOME_FAILED)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not isinstance(exc, OSError) and type(exc).__module__ != "lmdb":
                raise
            from imgsearch_cnn.indexer.errors import explain

            common.fail(explain(exc, getattr(exc, "filename", None) or common.index_from_argv()),
                        common.ENVIRONMENT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imgsearch-cnn", prog_name="imgsearch")
def main() -> None:
    """Search and clean up a photo collection with CNN embeddings (FAISS + LMDB index).

    Start with `imgsearch index FOLDER`, then ask: similar, dupes, clusters, map, train/classify."""


for command in (index.index, similar.similar, info.info, dupes.dupes, dupes.dedupe, clusters.clusters,
                groups.groups, undo.undo, maps.map_command, classify.train, classify.classify, classify.models,
                review.review):
    main.add_command(command)

if __name__ == "__main__":
    main()
