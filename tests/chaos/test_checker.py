"""The checker catches each planted violation, and passes a clean history of the same shape.

Run: python3 -m unittest discover -s tests/chaos -p 'test_*.py'
"""
import unittest

from checker import check, takeover_ns

MS = 1_000_000


def samples(proc, token, start_ms, end_ms, every_ms=10):
    """True samples of `proc` every `every_ms` from start to end, then one false sample."""
    out = [{"kind": "sample", "proc": proc, "leading": True, "token": token,
            "t0": t * MS, "t1": t * MS + 50_000} for t in range(start_ms, end_ms + 1, every_ms)]
    t = end_ms + every_ms
    out.append({"kind": "sample", "proc": proc, "leading": False, "token": 0,
                "t0": t * MS, "t1": t * MS + 50_000})
    return out


def accept(proc, token, t_ms, result="ok"):
    return {"kind": "accept", "proc": proc, "token": token, "result": result, "t": t_ms * MS}


def clean():
    """a leads with token 5 until it is killed at 1000 ms; b takes over at 1500 ms with 6;
    the resource sees both, and a's late write is rejected; quiet from 2000 to 3000 ms."""
    h = [{"kind": "sample", "proc": p, "leading": False, "token": 0, "t0": 0, "t1": 1}
         for p in ("a", "b")]
    h += [{"kind": "elected", "proc": "a", "term": 5, "t": 1 * MS}]
    h += samples("a", 5, 10, 990)[:-1]  # killed: no false sample
    h += [{"kind": "elected", "proc": "b", "term": 6, "t": 1500 * MS}]
    h += samples("b", 6, 1500, 3000)
    h += [accept("a", 5, 500), accept("b", 6, 1600), accept("a", 5, 1700, "stale")]
    h += [{"kind": "fault", "name": "kill", "t0": 1000 * MS, "t1": 1000 * MS, "victim": "a",
           "from": "t0", "bound_ns": 1000 * MS},
          {"kind": "quiet", "t0": 2000 * MS, "t1": 3000 * MS}]
    return h


def rules(history):
    return sorted({v.rule for v in check(history)})


class CheckerTest(unittest.TestCase):
    def test_clean_history_passes(self):
        self.assertEqual(check(clean()), [])
        self.assertEqual(takeover_ns(clean(), clean()[-2]), 500 * MS + 50_000)

    def test_s1_one_holder_per_token(self):
        h = clean() + [{"kind": "elected", "proc": "c", "term": 6, "t": 4000 * MS}]
        self.assertIn("S1", rules(h))

    def test_s2_tokens_increase_in_grant_order(self):
        h = [r for r in clean() if r["kind"] != "accept"]
        for r in h:  # b is granted a lower token than a had
            if r.get("proc") == "b" and r["kind"] in ("sample", "elected"):
                r["token" if r["kind"] == "sample" else "term"] = 4 if r.get("leading", True) else 0
        self.assertEqual(rules(h), ["S2"])

    def test_s3_stale_write_accepted(self):
        h = clean() + [accept("a", 5, 1800, "ok")]
        self.assertEqual(rules(h), ["S3"])

    def test_s3_current_write_rejected(self):
        h = clean() + [accept("b", 6, 1800, "stale")]
        self.assertEqual(rules(h), ["S3"])

    def test_s4_two_leaders_at_once(self):
        h = clean()
        h += samples("c", 7, 2500, 2600)  # c leads while b still does
        self.assertIn("S4", rules(h))

    def test_s4_pause_excluded_but_not_after_resume(self):
        # a stops at 995 ms (after its last sample) and resumes at 1900 ms; b leads from 1500.
        pause = {"kind": "pause", "proc": "a", "t0": 995 * MS, "t1": 1900 * MS}
        h = clean() + [pause] + [{"kind": "sample", "proc": "a", "leading": False, "token": 0,
                                  "t0": 1910 * MS, "t1": 1910 * MS + 1}]
        self.assertEqual(check(h), [])
        # The same, but a still believes after it resumed: that overlaps b.
        h = clean() + [pause] + samples("a", 5, 1910, 1950)
        self.assertIn("S4", rules(h))

    def test_s4_without_pause_window_the_gap_counts(self):
        h = clean() + samples("a", 5, 1910, 1950)  # the gap 990..1910 joins into one belief
        self.assertIn("S4", rules(h))

    def test_l1_no_successor_in_time(self):
        h = clean()
        h[-2]["bound_ns"] = 400 * MS  # b came 500 ms after the kill
        self.assertEqual(rules(h), ["L1"])
        h = [r for r in clean() if r.get("proc") != "b"]
        self.assertIn("L1", rules(h))

    def test_l2_churn_in_quiet_window(self):
        h = clean() + [{"kind": "revoked", "proc": "b", "term": 6, "t": 2500 * MS}]
        self.assertEqual(rules(h), ["L2"])
        h = clean() + [{"kind": "quiet", "t0": 1000 * MS, "t1": 1400 * MS}]  # nobody leads
        self.assertEqual(rules(h), ["L2"])


if __name__ == "__main__":
    unittest.main()
