"""Undo history: commands that store only what changed, a memory budget, a clean point.

Each command is applied when it is pushed; ``undo``/``redo`` swap its stored state with the
document's. The stack keeps at most ``budget`` bytes of stored state and drops the oldest commands
beyond it (the newest command always stays undoable).
"""

from __future__ import annotations

import itertools
from typing import Callable

DEFAULT_BUDGET = 1 << 30  # 1 GiB

_state_ids = itertools.count(1)


class Command:
    """One undoable change. Subclasses implement :meth:`undo`, :meth:`redo` and :attr:`nbytes`."""

    label = "Change"

    def undo(self, doc) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def redo(self, doc) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        """Bytes of pixel state this command keeps alive."""
        return 0


class Compound(Command):
    """Several commands that undo and redo as one step (merge down, flatten, a squashed gesture)."""

    def __init__(self, label: str, commands: list[Command]) -> None:
        self.label, self.commands = label, list(commands)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.commands)

    def undo(self, doc) -> None:
        for c in reversed(self.commands):
            c.undo(doc)

    def redo(self, doc) -> None:
        for c in self.commands:
            c.redo(doc)


class History:
    """The document's undo stack (read ``entries``/``index``; move with ``goto``/undo/redo)."""

    def __init__(self, doc, budget: int = DEFAULT_BUDGET,
                 on_change: Callable[[], None] | None = None) -> None:
        self._doc = doc
        self._commands: list[Command] = []
        self._ids: list[int] = []
        self._index = 0
        self._base_id = next(_state_ids)  # state id with nothing applied
        self._budget = int(budget)
        self._on_change = on_change
        self.dropped = 0

    # -- read ---------------------------------------------------------------------------------
    @property
    def entries(self) -> list[str]:
        """Command labels, oldest first."""
        return [c.label for c in self._commands]

    @property
    def index(self) -> int:
        """How many entries are applied (0 = everything undone)."""
        return self._index

    @property
    def bytes_used(self) -> int:
        return sum(c.nbytes for c in self._commands)

    @property
    def budget(self) -> int:
        return self._budget

    @budget.setter
    def budget(self, value: int) -> None:
        self._budget = max(0, int(value))
        self._trim()

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def state_id(self) -> int:
        """Identifies the current state: equal ids mean the same document content."""
        return self._ids[self._index - 1] if self._index else self._base_id

    # -- change -------------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Record an already applied command; drops the redo tail."""
        del self._commands[self._index:]
        del self._ids[self._index:]
        self._commands.append(command)
        self._ids.append(next(_state_ids))
        self._index += 1
        self._trim()
        self._changed()

    def merge_into_top(self, command: Command) -> bool:
        """Fold an already applied ``command`` into the newest entry when nothing is left to redo
        and that entry takes it (its ``merge``: an opacity drag, one move drag). True when merged:
        the entry keeps its place and state id."""
        top = self.top
        if top is None or self._index != len(self._commands) or not hasattr(top, "merge"):
            return False
        if not top.merge(command):
            return False
        self._changed()
        return True

    def squash(self, since_state: int, label: str) -> bool:
        """Make every command applied after state ``since_state`` one step named ``label`` (a
        gesture the user sees as one action, e.g. a Remove-brush stroke: its mask, its layer and
        the cleared mask). False, and nothing changes, when that state is not behind the index."""
        if since_state == self._base_id:
            start = 0
        elif since_state in self._ids[:self._index]:
            start = self._ids.index(since_state) + 1
        else:
            return False
        if self._index - start < 1:
            return False
        self._fold(start, label)
        return True

    def discard_since(self, since_state: int) -> bool:
        """Take back every command applied after state ``since_state`` and forget them (nothing to
        redo): a gesture that turned out to change nothing leaves no entry. False, and nothing
        changes, when that state is not behind the index."""
        if since_state == self._base_id:
            start = 0
        elif since_state in self._ids[:self._index]:
            start = self._ids.index(since_state) + 1
        else:
            return False
        while self._index > start:
            self._index -= 1
            self._commands[self._index].undo(self._doc)
        del self._commands[start:]
        del self._ids[start:]
        self._changed()
        return True

    def _fold(self, start: int, label: str) -> None:
        """Make the applied commands from ``start`` on one entry labelled ``label``, with the state id
        of the last of them (the same content); the redo tail goes, as with any new command."""
        group = Compound(label, self._commands[start:self._index])
        last_id = self._ids[self._index - 1]
        del self._commands[start:]
        del self._ids[start:]
        self._commands.append(group)
        self._ids.append(last_id)
        self._index = start + 1
        self._changed()

    @property
    def top(self) -> Command | None:
        """The newest applied command (what ``undo`` takes back next), or None."""
        return self._commands[self._index - 1] if self._index else None

    def group(self, commands: list[Command], label: str) -> bool:
        """Make ``commands`` (the newest applied entries, in order, nothing to redo after them) one
        entry labelled ``label``. False, and nothing changed, when they are not exactly that."""
        n = len(commands)
        if n == 0 or self._index != len(self._commands) or self._index < n or any(
                a is not b for a, b in zip(self._commands[self._index - n:self._index], commands)):
            return False
        if n == 1:
            commands[0].label = label
            self._changed()
        else:
            self._fold(self._index - n, label)
        return True

    def undo(self) -> bool:
        if not self._index:
            return False
        self._index -= 1
        self._commands[self._index].undo(self._doc)
        self._changed()
        return True

    def redo(self) -> bool:
        if self._index >= len(self._commands):
            return False
        self._commands[self._index].redo(self._doc)
        self._index += 1
        self._changed()
        return True

    def goto(self, index: int) -> None:
        """Undo or redo until ``index`` entries are applied."""
        index = max(0, min(int(index), len(self._commands)))
        while self._index > index:
            self._index -= 1
            self._commands[self._index].undo(self._doc)
        while self._index < index:
            self._commands[self._index].redo(self._doc)
            self._index += 1
        self._changed()

    def clear(self) -> None:
        """Forget every command (the current state becomes the base)."""
        self._base_id = self.state_id
        self._commands.clear()
        self._ids.clear()
        self._index = 0
        self._changed()

    def _trim(self) -> None:
        # Oldest first; the newest command is kept even if it alone exceeds the budget.
        # Commands past the index (the redo tail) are dropped from the end first.
        while len(self._commands) > 1 and self.bytes_used > self._budget:
            if self._index == 0:
                self._commands.pop()
                self._ids.pop()
            else:
                self._base_id = self._ids.pop(0)
                self._commands.pop(0)
                self._index -= 1
            self.dropped += 1

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()
