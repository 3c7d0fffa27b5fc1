"""The package's copies of core's tables (options, event kinds, revoke reasons) match core's:
a binding whose list drifts from core fails here."""

import inspect

from elect import Election, _native, _options, _types


def test_every_core_option_is_a_keyword_argument_of_its_kind():
    options = _native.tables()["options"]
    keywords = inspect.signature(Election.__init__).parameters
    for name, kind, _default, _doc in options:
        assert name in keywords, f"Election() lacks option `{name}`"
        assert keywords[name].kind is inspect.Parameter.KEYWORD_ONLY
    durations = {name for name, kind, _, _ in options if kind == "duration"}
    assert set(_options.DURATIONS) == durations


def test_every_event_kind_and_revoke_reason_is_known():
    tables = _native.tables()
    assert set(_types.FROM_NATIVE) == {name for _, name in tables["event_kinds"]}
    assert _types.REVOKE_REASONS == tuple(name for _, name in tables["revoke_reasons"])
