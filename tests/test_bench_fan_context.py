"""The fan context benchmark runs end to end at a tiny size and counts right (timings are not checked)."""

from __future__ import annotations

import math

from bench import fan_context


def test_fan_context_meets_its_request_targets_and_the_baseline_reads_every_fan(tmp_path, capsys):
    results = fan_context.run([3, 150], latency_ms=0, directory=tmp_path)
    by_key = {(r.approach, r.fans, r.kind): r for r in results}
    assert len(by_key) == 12
    for fans in (3, 150):
        batches = math.ceil(fans / 100)
        cold, warm, later = (by_key["ours", fans, kind] for kind in ("cold", "warm", "after TTL"))
        assert cold.by_endpoint == later.by_endpoint == {"insights batch": batches, "statuses": batches}
        assert warm.requests == 0 and warm.by_endpoint == {}
        for kind in ("cold", "warm", "after TTL"):
            assert by_key["naive", fans, kind].by_endpoint == {"insights one": fans}
    assert fan_context.main(["--sizes", "4", "--latency-ms", "0"]) == 0
    out = capsys.readouterr().out
    assert "| 4 | warm | ours | 0 | ≤ 0 ✓ | none |" in out and "| 4 | cold | naive | 4 |" in out
