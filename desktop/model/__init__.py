"""The editor's model layer: the decisions between the widgets and the engine bridge.

QtCore only (signals, timers), never a widget (an import-linter contract checks it), so it runs and
is tested with no window: :mod:`~desktop.model.edit_model` (plan, run, candidates, accept, re-run,
SAM clicks), :mod:`~desktop.model.run_text` (what a typed text runs, decided once),
:mod:`~desktop.model.jobs` (one :class:`~desktop.model.jobs.Job` record per job, with its callbacks),
:mod:`~desktop.model.chain` (a compound instruction as one coroutine over ``EngineClient.run``) and
:mod:`~desktop.model.apply_result` (results into layers and provenance, Qt-free),
:mod:`~desktop.model.segment` (SAM clicks), :mod:`~desktop.model.engine_state` (the status bar's words
about the engine) and :mod:`~desktop.model.settings_keys` (the stored settings, declared once).
See ``docs/design/house.md`` (the editor's model layer).
"""
