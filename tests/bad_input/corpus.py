"""Seeded mutations of the bundled (SIMULATED) deliveries and configs: the bad-input corpus.

Each :class:`Case` mutates a fresh copy of a small project (the bundled wave 2021-04, a
UTF-8 csv, plus earlier outputs under ``reports/`` and ``data/processed/``), runs one
command in-process (``pollwaves check-wave`` / ``add-wave`` / ``add-published`` or the
workflow's up-front validation, :func:`pollwaves.stages.preflight.check_project`) and
states what the answer must be: the exit code and the words the message must contain
(wave, file, column, respondent id, value and a fix). Nothing here runs Snakemake; the
few cases that do are in test_bad_input.py.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

WAVE = "2021-04"
CSV = f"data/raw/waves/{WAVE}.csv"
MAPPING = f"config/waves/{WAVE}.yaml"
SECRET = "TOP-SECRET-LINE-do-not-echo"

Mutate = Callable[[Path, random.Random], dict | None]


@dataclass
class Case:
    """One bad (or hostile but acceptable) input and the answer it must get."""

    name: str
    kind: str  # the class of defect (README 'Trust and failure')
    mutate: Mutate
    command: list[str]  # argv of pollwaves (``{root}`` replaced), or ["preflight"]
    code: int  # exit code
    words: list[str] = field(default_factory=list)  # must be in the message (formatted)
    absent: list[str] = field(default_factory=list)  # must not be in the message
    writes: list[str] = field(default_factory=list)  # files the command may rewrite


def _lines(proj: Path) -> list[str]:
    return (proj / CSV).read_text(encoding="utf-8").splitlines(keepends=True)


def _write_rows(proj: Path, lines: list[str]) -> None:
    (proj / CSV).write_text("".join(lines), encoding="utf-8")


def _set_cell(proj: Path, rng: random.Random, col: int, value: str, rows: int = 1) -> dict:
    lines = _lines(proj)
    picked = sorted(rng.sample(range(1, len(lines)), rows))
    ids = []
    for i in picked:
        cells = lines[i].rstrip("\n").split(",")
        cells[col] = value
        ids.append(cells[0])
        lines[i] = ",".join(cells) + "\n"
    _write_rows(proj, lines)
    return {"id": ids[0], "row": picked[0]}


def _map_text(proj: Path, fn: Callable[[str], str]) -> None:
    path = proj / MAPPING
    path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")


def _column(proj: Path, col: int, value: str) -> None:
    lines = _lines(proj)
    for i in range(1, len(lines)):
        cells = lines[i].rstrip("\n").split(",")
        cells[col] = value
        lines[i] = ",".join(cells) + "\n"
    _write_rows(proj, lines)


# ---- deliveries: accepted silently before, refused now --------------------------------


def cut_mid_row(proj, rng):
    raw = (proj / CSV).read_bytes()
    last = raw.rstrip(b"\n").rfind(b"\n")
    cut = rng.randrange(last + 3, len(raw) - 6)
    (proj / CSV).write_bytes(raw[:cut])


def ragged_row(proj, rng):
    lines = _lines(proj)
    i = rng.randrange(1, len(lines) - 1)
    cells = lines[i].rstrip("\n").split(",")
    del cells[rng.randrange(2, len(cells))]
    lines[i] = ",".join(cells) + "\n"
    _write_rows(proj, lines)
    return {"row": i}


def unclosed_quote(proj, rng):
    with open(proj / CSV, "a", encoding="utf-8") as fh:
        fh.write('R99999,700,1,18,2,1,7,1,1,2,1,2,2,2,"4')


def header_only(proj, rng):
    _write_rows(proj, _lines(proj)[:1])


def three_respondents(proj, rng):
    lines = _lines(proj)
    _write_rows(proj, [lines[0], *rng.sample(lines[1:], 3)])


def all_speeders(proj, rng):
    _column(proj, 1, str(rng.randrange(10, 200)))
    return {"n": len(_lines(proj)) - 1}


def negative_duration(proj, rng):
    return _set_cell(proj, rng, 1, "-100")


def absurd_duration(proj, rng):
    return _set_cell(proj, rng, 1, "99999999999")


def text_duration(proj, rng):
    return _set_cell(proj, rng, 1, "about ten minutes")


def empty_question(proj, rng):
    _column(proj, 9, "")


def blank_raking_variable(proj, rng):
    _column(proj, 4, "")


def raking_category_absent(proj, rng):
    lines = _lines(proj)
    _write_rows(proj, [lines[0], *(x for x in lines[1:] if x.split(",")[3] != "18")])


def unmapped_code(proj, rng):
    return _set_cell(proj, rng, 2, "7")


def duplicate_id(proj, rng):
    lines = _lines(proj)
    i, j = rng.sample(range(1, len(lines)), 2)
    rid = lines[i].split(",")[0]
    lines[j] = rid + lines[j][lines[j].index(",") :]
    _write_rows(proj, lines)
    return {"id": rid}


def empty_id(proj, rng):
    return _set_cell(proj, rng, 0, "")


def utf16(proj, rng):
    text = (proj / CSV).read_text(encoding="utf-8")
    (proj / CSV).write_bytes(text.encode("utf-16"))


def workbook_as_csv(proj, rng):
    (proj / CSV).write_bytes(b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(200)))


def nul_bytes(proj, rng):
    raw = bytearray((proj / CSV).read_bytes())
    raw[rng.randrange(200, 2000)] = 0
    (proj / CSV).write_bytes(bytes(raw))


def cp1251_cell(proj, rng):
    info = _set_cell(proj, rng, 15, "x")
    raw = (proj / CSV).read_bytes().replace(b",x\n", ",Отказ\n".encode("cp1251"), 1)
    (proj / CSV).write_bytes(raw)
    return info


def renamed_header(proj, rng):
    lines = _lines(proj)
    lines[0] = lines[0].replace("Gender", "Sex", 1)
    _write_rows(proj, lines)


def formula_in_unmapped_text(proj, rng):
    _set_cell(proj, rng, 15, '=HYPERLINK("http://evil.example"; "x")', rows=5)


def crlf_line_endings(proj, rng):
    raw = (proj / CSV).read_bytes()
    (proj / CSV).write_bytes(raw.replace(b"\n", b"\r\n"))


# ---- wave mappings -----------------------------------------------------------------


def _secret(proj: Path) -> Path:
    secret = proj.parent / "secrets.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    return secret


def traversal(proj, rng):
    _secret(proj)
    _map_text(
        proj, lambda t: t.replace(f"file: {CSV}", "file: data/raw/waves/../../../secrets.txt")
    )


def absolute(proj, rng):
    secret = _secret(proj)
    _map_text(proj, lambda t: t.replace(f"file: {CSV}", f"file: {secret}"))


def symlink_out(proj, rng):
    secret = _secret(proj)
    (proj / "data/raw/waves/link.csv").symlink_to(secret)
    _map_text(proj, lambda t: t.replace(f"file: {CSV}", "file: data/raw/waves/link.csv"))


def missing_file(proj, rng):
    (proj / CSV).unlink()


def yaml_tag(proj, rng):
    _map_text(
        proj, lambda t: t.replace("format: csv", 'format: !!python/object/apply:os.system ["id"]')
    )


def yaml_syntax(proj, rng):
    _map_text(proj, lambda t: t.replace("  Gender:", "\tGender:"))


def duplicate_key(proj, rng):
    _map_text(proj, lambda t: t.replace("format: csv\n", "format: csv\nformat: csv\n"))


def mapped_and_missing(proj, rng):
    _map_text(proj, lambda t: t.replace("missing_codes: [99]", "missing_codes: [98, 99]"))


def wave_mismatch(proj, rng):
    _map_text(proj, lambda t: t.replace(f'wave: "{WAVE}"', 'wave: "2021-05"'))


def unknown_variable(proj, rng):
    _map_text(proj, lambda t: t.replace("{variable: authorities,", "{variable: authoritiez,"))


def bad_type(proj, rng):
    _map_text(proj, lambda t: t.replace("min_duration_sec: 240", "min_duration_sec: many"))


def needs_review(proj, rng):
    _map_text(
        proj,
        lambda t: t.replace(
            "{variable: authorities,", "{review: needs review, variable: authorities,"
        ),
    )


def bad_encoding(proj, rng):
    _map_text(proj, lambda t: t.replace("encoding: utf-8", "encoding: utf-16"))


# ---- add-wave ----------------------------------------------------------------------


def _new_delivery(proj: Path, lines: list[str], name: str = "new.csv", enc="utf-8") -> None:
    (proj.parent / name).write_text("".join(lines), encoding=enc)


def new_utf16(proj, rng):
    _new_delivery(proj, _lines(proj), enc="utf-16")


def new_cut(proj, rng):
    raw = (proj / CSV).read_bytes()
    (proj.parent / "new.csv").write_bytes(raw[: rng.randrange(len(raw) // 2, len(raw) - 10)])


def _header(proj: Path, rng: random.Random, header: str) -> None:
    lines = _lines(proj)
    cells = lines[0].rstrip("\n").split(",")
    cells[15] = header
    lines[0] = ",".join(cells) + "\n"
    _new_delivery(proj, lines)


def header_line_break(proj, rng):
    _header(proj, rng, '"Status\nid_column: Gender"')


def header_yaml(proj, rng):
    _header(proj, rng, '"x: {variable: resp_id, review: confirmed}"')


def header_yaml_list(proj, rng):
    _header(proj, rng, '"- &a !!python/object:os.system [1] # \u2028 wave: 1999-01"')


def new_txt(proj, rng):
    (proj.parent / "new.txt").write_text("a,b\n1,2\n", encoding="utf-8")


def nothing(proj, rng):
    return None


# ---- published rows and configs -----------------------------------------------------

PUB_HEADER = (
    "wave_id,fieldwork_start,fieldwork_end,n_respondents,question,answer,percent,"
    "subgroup_variable,subgroup_value,source_url,source_quote,flag\n"
)


def _pub(proj: Path, row: str) -> None:
    (proj.parent / "pub.csv").write_text(PUB_HEADER + row + "\n", encoding="utf-8")


def pub_bad_wave(proj, rng):
    _pub(proj, "Sept 2020,2020-09-22,2020-09-28,899,alliance,union with EU only,9.1,,,"
               "https://example.org/a,quote,")  # fmt: skip


def pub_bad_url(proj, rng):
    _pub(proj, "2020-09,2020-09-22,2020-09-28,899,alliance,union with EU only,9.1,,,"
               "javascript:alert(1),quote,")  # fmt: skip


def pub_bad_percent(proj, rng):
    _pub(proj, "2020-09,2020-09-22,2020-09-28,899,alliance,union with EU only,lots,,,"
               "https://example.org/a,quote,")  # fmt: skip


def _config(proj: Path, old: str, new: str, rel: str = "config/config.yaml") -> None:
    path = proj / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def config_type(proj, rng):
    _config(proj, "min_respondents: 30", "min_respondents: many")


def config_yaml(proj, rng):
    _config(proj, "waves_dir: config/waves", "waves_dir: [config/waves")


def config_unknown_key(proj, rng):
    _config(proj, "weighting:\n", "weighting:\n  maxiter: 3\n")


def codebook_regex(proj, rng):
    path = proj / "config/codebook.yaml"
    text = path.read_text(encoding="utf-8")
    spans = [m.span(1) for m in re.finditer(r"\bpatterns: \[([^\],]+)", text)]
    start, end = rng.choice(spans)
    path.write_text(text[:start] + "'(unclosed'" + text[end:], encoding="utf-8")


def margins_broken(proj, rng):
    path = proj / "config/margins.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nbogus: [1\n", encoding="utf-8")


def preflight_missing_delivery(proj, rng):
    (proj / CSV).unlink()


def check(*words: str) -> list[str]:
    return list(words)


CHECK = ["check-wave", WAVE, "--root", "{root}"]
ADD = ["add-wave", "{parent}/new.csv", "--wave", "2024-09", "--root", "{root}"]
PUB = ["add-published", "{parent}/pub.csv", "--root", "{root}"]
FIX = "How to fix"
ROW = "{row}"

CASES = [
    # accepted silently before -> refused with the row / respondent / value
    Case("cut_mid_row", "silent", cut_mid_row, CHECK, 1, [WAVE, CSV, "cut off", FIX]),
    Case("ragged_row", "silent", ragged_row, CHECK, 1, [CSV, "data row {row}", "field", FIX]),
    Case("unclosed_quote", "silent", unclosed_quote, CHECK, 1, [CSV, "unclosed quote", FIX]),
    Case("negative_duration", "silent", negative_duration, CHECK, 1,
         [WAVE, "Duration", "respondent={id}", "-100", FIX]),
    Case("absurd_duration", "silent", absurd_duration, CHECK, 1,
         [WAVE, "Duration", "respondent={id}", "99999999999", FIX]),
    Case("empty_question", "silent", empty_question, CHECK, 1,
         [WAVE, "Q_alliance", "alliance", "empty in every row", "not_asked", FIX]),
    Case("mapped_and_missing", "silent", mapped_and_missing, CHECK, 1,
         [WAVE, MAPPING, "98", "missing_codes", "hard_to_say", FIX]),
    Case("missing_file", "silent", missing_file, CHECK, 1, [WAVE, CSV, "does not exist", FIX]),
    Case("pub_bad_wave", "silent", pub_bad_wave, PUB, 2,
         ["pub.csv", "row=1", "wave_id", "Sept 2020", FIX]),
    # check-wave predicts the per-wave jobs
    Case("header_only", "predict", header_only, CHECK, 1, [WAVE, "no data rows", FIX]),
    Case("three_respondents", "predict", three_respondents, CHECK, 1,
         [WAVE, "has 3 respondents after cleaning", "weighting needs at least 30",
          "weighting.min_respondents", FIX], ["female_18_24"]),
    Case("all_speeders", "predict", all_speeders, CHECK, 1,
         [WAVE, "all {n} interviews were removed as speeders (< 240 s)", FIX], ["_18_24"]),
    Case("blank_raking_variable", "predict", blank_raking_variable, CHECK, 1,
         [WAVE, "Education", "education", "empty in every row", FIX]),
    Case("raking_category_absent", "predict", raking_category_absent, CHECK, 1,
         [WAVE, "no respondent", "18_24", "sex_age", FIX]),
    # crashes before -> messages
    Case("utf16", "crash", utf16, CHECK, 1, [WAVE, CSV, "UTF-16", "CSV UTF-8", FIX]),
    Case("new_utf16", "crash", new_utf16, ADD, 2, ["new.csv", "UTF-16", "CSV UTF-8", FIX]),
    Case("workbook_as_csv", "crash", workbook_as_csv, CHECK, 1, [CSV, "Excel workbook", FIX]),
    Case("nul_bytes", "crash", nul_bytes, CHECK, 1, [CSV, "binary", FIX]),
    Case("new_cut", "crash", new_cut, ADD, 2, ["new.csv", "cut off", FIX]),
    # refused before too (kept refused, with the location)
    Case("text_duration", "refused", text_duration, CHECK, 1,
         [WAVE, "Duration", "respondent={id}", "about ten minutes", FIX]),
    Case("unmapped_code", "refused", unmapped_code, CHECK, 1,
         [WAVE, "Gender", "respondent={id}", "'7'", FIX]),
    Case("duplicate_id", "refused", duplicate_id, CHECK, 1, [WAVE, "{id}", FIX]),
    Case("empty_id", "refused", empty_id, CHECK, 1, [WAVE, "RespondentID", FIX]),
    Case("cp1251_cell", "refused", cp1251_cell, CHECK, 1, [WAVE, CSV, "utf-8", FIX]),
    Case("renamed_header", "refused", renamed_header, CHECK, 1, [WAVE, "Gender", FIX]),
    Case("yaml_tag", "refused", yaml_tag, CHECK, 1, [MAPPING, "tag", FIX], ["uid="]),
    Case("yaml_syntax", "refused", yaml_syntax, CHECK, 1, [MAPPING, "line", FIX]),
    Case("duplicate_key", "refused", duplicate_key, CHECK, 1, [MAPPING, "duplicate", FIX]),
    Case("wave_mismatch", "refused", wave_mismatch, CHECK, 1, [MAPPING, "2021-05", FIX]),
    Case("unknown_variable", "refused", unknown_variable, CHECK, 1,
         [MAPPING, "authoritiez", FIX]),
    Case("bad_type", "refused", bad_type, CHECK, 1,
         [MAPPING, "cleaning.min_duration_sec", "many", FIX]),
    Case("needs_review", "refused", needs_review, CHECK, 1, [MAPPING, "needs review", FIX]),
    Case("bad_encoding", "refused", bad_encoding, CHECK, 1, [MAPPING, "encoding", FIX]),
    Case("bad_wave_id", "refused", nothing, ["check-wave", "../etc", "--root", "{root}"], 1,
         ["../etc", FIX]),
    Case("new_txt", "refused", new_txt, ["add-wave", "{parent}/new.txt", "--wave", "2024-09",
                                         "--root", "{root}"], 2, ["new.txt", FIX]),
    Case("new_missing", "refused", nothing, ADD, 2, ["new.csv", "not found", FIX]),
    Case("wave_exists", "refused", nothing, ["add-wave", f"{{root}}/{CSV}", "--wave", WAVE,
                                             "--root", "{root}"], 2, [WAVE, "--force", FIX]),
    Case("add_bad_wave_id", "refused", header_yaml, ["add-wave", "{parent}/new.csv", "--wave",
                                                     "../../x", "--root", "{root}"], 2,
         ["../../x", FIX]),
    Case("pub_bad_url", "refused", pub_bad_url, PUB, 2, ["pub.csv", "source_url", FIX]),
    Case("pub_bad_percent", "refused", pub_bad_percent, PUB, 2, ["pub.csv", "lots", FIX]),
    # let in before -> refused without echoing the file
    Case("traversal", "attack", traversal, CHECK, 1, [WAVE, MAPPING, "'..'", FIX], [SECRET]),
    Case("absolute", "attack", absolute, CHECK, 1, [WAVE, "relative", FIX], [SECRET]),
    Case("symlink_out", "attack", symlink_out, CHECK, 1, [WAVE, "outside", FIX], [SECRET]),
    # hostile but acceptable: accepted correctly
    Case("formula_in_unmapped_text", "accepted", formula_in_unmapped_text, CHECK, 0, ["OK"]),
    Case("crlf_line_endings", "accepted", crlf_line_endings, CHECK, 0, ["OK"]),
    Case("header_line_break", "attack", header_line_break, ADD, 0,
         ["2024-09", "Status\\nid_column: Gender"], ["\nid_column: Gender"]),
    Case("header_yaml", "attack", header_yaml, ADD, 0, ["2024-09"]),
    Case("header_yaml_list", "attack", header_yaml_list, ADD, 0, ["2024-09"]),
    # configs (the workflow's up-front validation, as the Snakefile runs it)
    Case("config_type", "config", config_type, ["preflight"], 1,
         ["config/config.yaml", "weighting.min_respondents", "many", FIX]),
    Case("config_yaml", "config", config_yaml, ["preflight"], 1,
         ["config/config.yaml", "line", FIX]),
    Case("config_unknown_key", "config", config_unknown_key, ["preflight"], 1,
         ["config/config.yaml", "weighting.maxiter", FIX]),
    Case("codebook_regex", "config", codebook_regex, ["preflight"], 1,
         ["codebook.yaml", "(unclosed", FIX]),
    Case("margins_broken", "config", margins_broken, ["preflight"], 1,
         ["margins.yaml", "line", FIX]),
    Case("preflight_yaml_tag", "config", yaml_tag, ["preflight"], 1,
         ["before any job started", MAPPING, "tag", FIX]),
    Case("preflight_traversal", "config", traversal, ["preflight"], 1,
         [WAVE, "'..'", FIX], [SECRET]),
    Case("preflight_missing_delivery", "config", preflight_missing_delivery, ["preflight"], 1,
         [WAVE, CSV, "does not exist", FIX]),
]  # fmt: skip


def added_with_hostile_header(proj, rng):
    """add-wave a delivery whose unmapped header holds YAML and a line break (then confirm)."""
    import contextlib
    import io

    from pollwaves.cli import main

    _header(proj, rng, '"Status\nid_column: Gender # x: {variable: resp_id}"')
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["add-wave", str(proj.parent / "new.csv"), "--wave", "2024-09",
                     "--root", str(proj)])  # fmt: skip
    assert code == 0


CASES.append(
    Case(
        "confirm_after_hostile_header",
        "attack",
        added_with_hostile_header,
        ["confirm", "2024-09", "--root", "{root}"],
        0,
        ["2024-09", "confirmed"],
        writes=["config/waves/2024-09.yaml"],
    )  # fmt: skip
)
