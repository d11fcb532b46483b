#!/usr/bin/python3
"""Stored formats stay readable: every fixture under tests/fixtures/v<N>/ (a data dir and
an export file written by an earlier build, see tests/fixtures/make_fixtures.py) is read
by this build, which must serve exactly what the build that wrote it served: the same
model_version, events applied and scores, bit for bit. (A format this build cannot read
must be refused with a message naming both versions, never misread; no fixture here is
of such a format.)

streamrec-verify checks each fixture's data dir as it was left (killed with events logged
after the newest snapshot): the snapshot is the replay of the log up to its last event.

Usage: format_fixtures_test.py SERVER CLI VERIFY FIXTURES_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
sys.argv, ARGS = sys.argv[:1], sys.argv[1:]
SERVER, CLI, VERIFY, FIXTURES = ARGS
sys.argv += [SERVER, CLI, "/nonexistent"]  # make_fixtures reads its own arguments
import make_fixtures as mf  # noqa: E402


class FormatFixturesTest(unittest.TestCase):
    def test_every_fixture_is_served_as_when_it_was_written(self):
        versions = sorted(d for d in os.listdir(FIXTURES) if d.startswith("v"))
        self.assertTrue(versions, "no fixtures")
        for v in versions:
            with self.subTest(fixture=v), tempfile.TemporaryDirectory() as tmp:
                root = os.path.join(FIXTURES, v)
                with open(os.path.join(root, "expected.json")) as f:
                    expected = json.load(f)
                config = os.path.join(root, "model.textproto")
                data = os.path.join(tmp, "data")  # never open the committed copy
                shutil.copytree(os.path.join(root, "data"), data)
                v = subprocess.run([VERIFY, "--data_dir", data], capture_output=True,
                                   text=True, timeout=120)
                self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
                result = json.loads(v.stdout)
                self.assertTrue(result["identical"], result)
                self.assertGreater(result["events_after_snapshot"], 0, result)
                # No partial-batch flush while it is read: a mini-batch model's pending
                # events would otherwise be applied --flush_partial_batch_ms after start,
                # between two of the requests on a slow (sanitizer) build.
                proc, addr = mf.start(data, config, "--flush_partial_batch_ms=0")
                try:
                    self.assertEqual(mf.served(addr), expected["data"])
                finally:
                    proc.kill()
                    proc.wait()
                proc, addr = mf.start(os.path.join(tmp, "fresh"), config,
                                      "--flush_partial_batch_ms=0")
                try:
                    mf.cli(addr, "snapshots", "import", os.path.join(root, "model.snap"))
                    self.assertEqual(mf.served(addr), expected["import"])
                finally:
                    proc.kill()
                    proc.wait()


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
