"""tools.timings: the data file, the maintainer table, the reader's line, gross regressions."""
from __future__ import annotations

from tools import timings


def test_round_trip_and_rows(tmp_path):
    path = tmp_path / "t.json"
    timings.save({"06_b": 63.54, "01_a": 37.44}, "by hand", path)
    assert timings.load(path) == {"01_a": 37.4, "06_b": 63.5}
    assert timings.how_measured(path) == "by hand"
    assert timings.rows(timings.load(path)) == [("01_a", 37.4, 60), ("06_b", 63.5, 90)]
    assert timings.load(tmp_path / "missing.json") == {}


def test_only_gross_regressions_fail():
    seconds = {"01_a": 119.0, "02_b": 121.0, "06_c": 100.0}
    assert [r[0] for r in timings.gross_regressions(seconds)] == ["02_b"]
    lines = timings.log_lines(seconds)
    assert "(over budget)" in lines[0] and "OVER 2x BUDGET" in lines[1]
    assert "(over budget)" in lines[2]


def test_reader_line():
    assert timings.reader_line(37.4) == ("Running every cell takes about 40 s on two CPU "
                                         "cores.")
    assert timings.rounded(4.0) == 10 and timings.rounded(63.5) == 60
    assert timings.reader_line(None) == ""


def test_maintainer_page_keeps_its_prose(tmp_path):
    page = tmp_path / "MAINTAINING.md"
    page.write_text(f"# Maintaining\n\nProse.\n\n{timings.START}\nold\n{timings.END}\n\nMore.\n")
    timings.update_maintainer_page({"01_a": 37.4}, "by a test", page)
    text = page.read_text()
    assert text.startswith("# Maintaining\n\nProse.\n") and text.endswith("\n\nMore.\n")
    assert "old" not in text and "| `01_a` | 37.4 | 60 | 62% |" in text
    assert "Measured by a test." in text


def test_committed_timings_cover_every_chapter():
    from tools import book

    assert set(timings.load()) == {p.stem for p in book.chapter_paths()}


def test_paths_table_has_a_column_per_path_and_the_slowest_share(tmp_path):
    table = timings.paths_table({"a": {"06_lenet_alexnet_vgg": 30.0},
                                 "`b`": {"06_lenet_alexnet_vgg": 45.0,
                                       "01_why_not_fully_connected": 12.0}}, slowest="`b`")
    lines = table.splitlines()
    assert lines[0] == "| Chapter | Budget | a | `b` | `b` / budget |"
    assert "| `06_lenet_alexnet_vgg` | 90 | 30.0 | 45.0 | 50% |" in lines
    assert "| `01_why_not_fully_connected` | 60 | – | 12.0 | 20% |" in lines


def test_replace_section_keeps_the_rest_of_the_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("before\n<!-- s -->old<!-- e -->\nafter\n")
    timings.replace_section("<!-- s -->new<!-- e -->", "<!-- s -->", "<!-- e -->", page)
    assert page.read_text() == "before\n<!-- s -->new<!-- e -->\nafter\n"
