"""The installer's ICU trim (packaging/trim_icu.py): what stays is what Qt calls ICU for,
and Qt's text services still work on the trimmed data (the app's own --selftest step, run
with the trimmed library in place of Qt's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import PySide6

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from trim_icu import TrimUnavailable, keep, trim  # noqa: E402

sys.path.remove(str(ROOT / "packaging"))


def _code_page(max_bytes: int) -> bytes:
    header = (32).to_bytes(2, "little") + b"\xda\x27" + bytes(28)
    static = bytes(4 + 60 + 4 + 1 + 1 + 1) + bytes([max_bytes])
    return header + static + bytes(100)


def test_the_data_qt_uses_stays_and_the_rest_goes() -> None:
    for item in ("root.res", "res_index.res", "pool.res", "zoneinfo64.res", "metaZones.res",
                 "cnvalias.icu", "coll/root.res", "coll/ucadata.icu", "zone/en.res"):  # fmt: skip
        assert keep(item), item
    for item in ("coll/de.res", "zone/de.res", "lang/en.res", "curr/fr.res", "unit/root.res",
                 "brkitr/thaidict.dict", "rbnf/en.res", "translit/root.res", "de.res",
                 "unames.icu", "confusables.cfu"):  # fmt: skip
        assert not keep(item), item
    assert keep("ibm-5348_P100-1997.cnv", _code_page(1))  # windows-1252: single-byte
    assert not keep("gb18030.cnv", _code_page(4))


def test_qts_text_services_work_on_the_trimmed_data(tmp_path: Path) -> None:
    library = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    trimmed = tmp_path / library.name
    try:
        before, after = trim(library, trimmed)
    except TrimUnavailable as exc:  # a machine without icupkg or a C compiler
        assert "missing" in str(exc) and not trimmed.exists()
        return
    assert after < before / 5 and library.stat().st_size == before  # the source is untouched
    probe = (
        "from desktop.selftest import _text_services; text = _text_services(); "
        "print(sorted(text['checked'] + [s.split(':')[0] for s in text.get('skipped', [])])); "
        f"print({str(trimmed)!r} in open('/proc/self/maps').read())"
    )
    env = dict(os.environ, LD_PRELOAD=str(trimmed), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["['case', 'code_page', 'collation', 'time_zone']", "True"]
