"""`python -m reverie.dftg.did`: the numbers of invention_did from files; a bad file is one line, exit 2."""

import json

import pytest

from reverie.dftg.did import main


def write(path, rates: dict[str, tuple[int, int]]):
    concepts = {
        c: {"mentions": h + 10, "hallucinations": h, "rate": h / (h + 10), "absent_images": a, "invention_rate": h / a}
        for c, (h, a) in rates.items()
    }
    path.write_text(json.dumps({"concepts": concepts, "attributes": {}, "source": {}}))
    return str(path)


def test_the_cli_prints_the_difference_in_differences(tmp_path, capsys):
    before = write(tmp_path / "b.json", {"cup": (20, 100), "bee": (10, 100)})
    after = write(tmp_path / "a.json", {"cup": (5, 100), "bee": (8, 100)})
    report = tmp_path / "t.report.json"
    report.write_text(json.dumps({"concept_weights": {"cup": 0.5}}))
    main([before, after, str(report)])
    assert json.loads(capsys.readouterr().out)["did"] == pytest.approx((0.05 - 0.2) - (0.08 - 0.1))
    with pytest.raises(SystemExit) as exit_info:
        main([before, after, str(tmp_path / "missing.report.json")])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and err.startswith("reverie: error:") and "missing.report.json" in err
    assert len(err.splitlines()) == 1
