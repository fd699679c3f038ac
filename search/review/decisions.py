"""Decisions taken in `imgsearch review`, carried out by the clean-up engine itself.

"Keep" (the suggested keeper or another) runs the review's action on the group's duplicates
through search/dupes/actions.py: re-checked at apply time, journaled, undoable by `imgsearch
undo`, reference folders and files changed since indexing left alone, the index updated. "Not
duplicates" goes to the persistent ignore list (search/dupes/ignore.py): the pair never comes
back. Each decision is also logged in the index (``extra/review_decisions``) with the groups it
took off the list, so the Undo button can revert the last one and put its groups back, also
after a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from imgsearch_cnn.search.dupes import actions, journal
from imgsearch_cnn.search.dupes.groups import DUPLICATES, Group, Member
from imgsearch_cnn.search.dupes.ignore import ignore_key, load_ignored
from imgsearch_cnn.search.review.state import Review, ReviewError, group_id, photo_id

LOG = "review_decisions"
CHOSEN = "chosen in review"  # the keeper reason of a keeper the user picked


@dataclass
class Outcome:
    """What a decision did, for the page to say."""

    done: int = 0  # files acted on (or pairs marked not duplicates)
    left_alone: list[str] = field(default_factory=list)  # "path: why"
    message: str = ""

    def to_json(self) -> dict:
        return {"done": self.done, "left_alone": self.left_alone, "message": self.message}


def _saved(group: Group) -> dict:
    return {"keeper_reason": group.keeper_reason, "tier": group.tier,
            "members": [[m.record.path, m.score, m.reason, m.shot] for m in group.members]}


def _log(store, entry: dict) -> None:
    store.set_extra(LOG, (store.get_extra(LOG) or []) + [{**entry, "at": time.time()}])


def with_keeper(group: Group, pid: str) -> Group:
    """The group with the member ``pid`` as its keeper (the others keep their order)."""
    chosen = next((m for m in group.members if photo_id(m.record.path) == pid), None)
    if chosen is None:
        raise ReviewError("that photo is not in this group")
    if chosen is group.members[0]:
        return group
    rest = [m for m in group.members if m is not chosen]
    return Group(chosen.record, [Member(chosen.record, 1.0, "keeper")] + rest, CHOSEN, group.tier)


def _act(review: Review, chosen: list[Group], taken: list[Group]) -> Outcome:
    """Run the action on ``chosen`` (keepers first) and take ``taken`` off the list."""
    options = review.options
    with review.writing() as store:
        operations = actions.plan(chosen, options.action, options.dedupe.references, options.move_to, review.root)
        try:
            written = actions.apply(store, operations, False, options.dedupe.references)
        except actions.ActionError as exc:
            raise ReviewError(str(exc)) from exc
        photos = [op for op in operations if not op.sidecar_of]
        outcome = Outcome(sum(not op.skip for op in photos),
                          [f"{op.path}: {op.skip}" for op in photos if op.skip])
        _log(store, {"kind": "act", "journal": str(written) if written else None,
                     "groups": [_saved(g) for g in taken]})
        ids = {group_id(g) for g in taken}
        review.groups = [g for g in review.groups if group_id(g) not in ids]
        review.save_groups(store)
    outcome.message = f"{review.action_words()}: {outcome.done} file(s)" + \
        (f"; {len(outcome.left_alone)} left alone" if outcome.left_alone else "")
    return outcome


def keep(review: Review, gid: str, keeper: str | None = None) -> Outcome:
    """Keep one photo of the group (``keeper``: a photo id; None: the suggested keeper) and run
    the review's action on the others."""
    group = review.find(gid)
    return _act(review, [with_keeper(group, keeper) if keeper else group], [group])


def not_duplicates(review: Review, gid: str) -> Outcome:
    """Remember that the group's photos are not duplicates of each other; they never come back."""
    group = review.find(gid)
    with review.writing() as store:
        known = load_ignored(store)
        hashes = [m.record.hash for m in group.members]
        added = sorted({ignore_key(a, b) for n, a in enumerate(hashes) for b in hashes[n + 1:] if a != b} - known)
        if not added:
            raise ReviewError("these photos are byte-identical copies: they are duplicates whatever is marked")
        store.set_extra("ignored_pairs", sorted(known | set(added)))
        _log(store, {"kind": "ignore", "pairs": [list(p) for p in added], "groups": [_saved(group)]})
        review.groups = [g for g in review.groups if group_id(g) != gid]
        review.save_groups(store)
    return Outcome(len(added), message=f"marked as not duplicates: {len(group.members)} photos")


def bulk_plan(review: Review) -> dict:
    """What "apply the suggestion to every remaining group" would do (nothing is touched)."""
    chosen = [g for g in review.groups if g.tier == DUPLICATES]
    options = review.options
    with review.reading():
        operations = actions.plan(chosen, options.action, options.dedupe.references, options.move_to, review.root)
    photos = [op for op in operations if not op.sidecar_of]
    acting = sum(not op.skip for op in photos)
    return {"groups": len(chosen), "files": acting, "left_alone": len(photos) - acting,
            "action": review.action_words(),
            "message": f"{review.action_words()}: {acting} file(s) from {len(chosen)} group(s)"
                       + (f" ({len(photos) - acting} left alone)" if len(photos) > acting else "")}


def bulk_apply(review: Review) -> Outcome:
    """Keep the suggested keeper of every remaining duplicate group (similar shots are left to
    be decided one by one)."""
    chosen = [g for g in review.groups if g.tier == DUPLICATES]
    if not chosen:
        raise ReviewError("no duplicate group is left to decide")
    return _act(review, chosen, chosen)


def undo(review: Review) -> Outcome:
    """Revert the last decision taken in a review and put its groups back on the list."""
    with review.writing() as store:
        log = store.get_extra(LOG) or []
        if not log:
            raise ReviewError("no review decision to undo")
        last = log[-1]
        outcome = Outcome()
        if last["kind"] == "ignore":
            pairs = load_ignored(store) - {tuple(p) for p in last["pairs"]}
            store.set_extra("ignored_pairs", sorted(pairs))
            outcome.done = len(last["pairs"])
        elif last["journal"] and Path(last["journal"]) in journal.pending(store):
            if journal.pending(store)[-1] != Path(last["journal"]):
                raise ReviewError("a later clean-up was made outside the review: revert it first with "
                                  "`imgsearch undo`")
            report = journal.undo(store)
            outcome.done, outcome.left_alone = report.restored, report.problems + report.lost
            if report.problems:
                raise ReviewError("; ".join(report.problems[:3]) + " (fix this and press Undo again)")
        store.set_extra(LOG, log[:-1])
        listed = {group_id(g) for g in review.groups}  # a new search after `imgsearch undo` may list it already
        back = [g for g in (_group(store, saved) for saved in last["groups"]) if g and group_id(g) not in listed]
        review.groups = back + review.groups
        review.save_groups(store)
    outcome.message = f"undone: {outcome.done} " + ("pair(s) no longer ignored" if last["kind"] == "ignore"
                                                    else "file(s) back in place")
    return outcome


def _group(store, saved: dict) -> Group | None:
    members = []
    for path, score, reason, shot in saved["members"]:
        record = store.record(path)
        if record is not None:
            members.append(Member(record, score, reason, shot))
    if len(members) < 2:
        return None
    return Group(members[0].record, members, saved["keeper_reason"], saved["tier"])
