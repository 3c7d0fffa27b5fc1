"""The group checks catch each planted violation and pass a clean history of the same shape.

Run: python3 -m unittest discover -s tests/scenarios -p 'test_*.py'
"""
import threading
import unittest

from agents import Failure
from group import check_safe, loads


class Fake:
    """An agent that has exited, with the lines it wrote."""

    def __init__(self, index, lines, dead_at=None, running=False):
        self.index, self.dead_at, self.running = index, dead_at, running
        self.events = [(0, line.split(" ")) for line in lines]
        self.stdout_done = threading.Event()
        self.stdout_done.set()

    def alive(self):
        return self.running


def clean():
    """Shard 0: a0 with token 5 from 100 to 200, then a1 with 6 from 250; a1 killed at 400."""
    a0 = Fake(0, ["shard 0 elected 5", "shard 0 began 5 100", "shard 0 ended 5 200",
                  "shard 0 revoked 5 closed"])
    a1 = Fake(1, ["shard 0 elected 6", "shard 0 began 6 250"], dead_at=400)
    return a0, a1


class CheckSafe(unittest.TestCase):
    def test_clean_history_passes(self):
        check_safe(list(clean()), 1)

    def test_overlap_is_two_leaders(self):
        a0, a1 = clean()
        a1.events[1] = (0, "shard 0 began 6 150".split(" "))
        with self.assertRaisesRegex(Failure, "two leaders at once"):
            check_safe([a0, a1], 1)

    def test_killed_agent_believes_until_its_death(self):
        a0, a1 = clean()
        a2 = Fake(2, ["shard 0 began 7 390", "shard 0 ended 7 500"])
        with self.assertRaisesRegex(Failure, "two leaders at once"):
            check_safe([a0, a1, a2], 1)

    def test_token_going_back_is_caught(self):
        a0, a1 = clean()
        a1.events[1] = (0, "shard 0 began 4 250".split(" "))
        with self.assertRaisesRegex(Failure, "token 4"):
            check_safe([a0, a1], 1)

    def test_exit_while_believing_without_kill_is_caught(self):
        a0, a1 = clean()
        a1.dead_at = None
        with self.assertRaisesRegex(Failure, "was not killed"):
            check_safe([a0, a1], 1)

    def test_no_belief_at_all_fails(self):
        with self.assertRaisesRegex(Failure, "ever believed"):
            check_safe([Fake(0, [])], 1)


class Loads(unittest.TestCase):
    def test_counts_open_terms_of_running_agents(self):
        a0 = Fake(0, ["shard 0 elected 1", "shard 1 elected 2", "shard 1 revoked 2 closed"], running=True)
        a1 = Fake(1, ["shard 1 elected 3"], running=True)
        self.assertEqual(loads([a0, a1], [a0, a1], 2), [1, 1])

    def test_two_open_terms_of_a_shard_are_no_spread(self):
        a0 = Fake(0, ["shard 0 elected 1"], running=True)
        a1 = Fake(1, ["shard 0 elected 2"], running=True)
        self.assertIsNone(loads([a0, a1], [a0, a1], 1))


if __name__ == "__main__":
    unittest.main()
