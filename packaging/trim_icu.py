"""Trim the ICU data that Qt brings on Linux (`libicudata.so.NN`, 32 MB) to what Qt uses.

Qt 6 calls ICU for four things only (the `u*_NN` symbols libQt6Core imports): case
mapping (its tables are in libicuuc, not in the data), collation (QCollator: the root
order is kept, language tailorings are not), time zones (QTimeZone: the zone database
and English names are kept) and legacy code pages (QStringDecoder: the 139 single-byte
ones are kept, the multi-byte CJK/EBCDIC tables are not). Everything else in the data -
locale display names, currencies, units, break dictionaries, transliterators, number
spell-out - serves ICU APIs Qt never calls. `deepdive-lab --selftest` checks the four.

The data library holds one ICU common-data package as the symbol `icudtNN_dat`; this
takes it out (objcopy), drops items with ICU's own `icupkg`, and links a new data library
around the smaller package (the C compiler's assembler, `.incbin`). Without those tools
the library is left as it was, and the build says so.

    python packaging/trim_icu.py libicudata.so.73 OUT_DIR    # by hand: OUT_DIR/libicudata.so.73
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TOOLS = ("nm", "objcopy", "icupkg", "cc")
# Package items kept at the top level: the resource indexes and pools, root and English,
# and the supplemental tables that collation, calendars and time zones read.
TOP_LEVEL = {
    "res_index.res", "pool.res", "root.res", "en.res", "en_US.res", "en_US_POSIX.res",
    "icuver.res", "icustd.res", "metadata.res", "likelySubtags.res", "langInfo.res",
    "keyTypeData.res", "supplementalData.res", "metaZones.res", "timezoneTypes.res",
    "windowsZones.res", "zoneinfo64.res", "cnvalias.icu",
}  # fmt: skip
# In a sub-tree (collation, zone names): its index, its pool, root and English.
SUBTREE_KEEP = re.compile(r"^(coll|zone)/(res_index\.res|pool\.res|root\.res|en(_\w+)?\.res"
                          r"|ucadata\.icu|tzdbNames\.res)$")  # fmt: skip


class TrimUnavailable(RuntimeError):
    """A tool is missing or the library is not what was expected; nothing was changed."""


def keep(item: str, data: bytes | None = None) -> bool:
    """Whether the package item (a path such as `coll/de.res`) stays; a code page's bytes
    decide for `.cnv` items (single-byte ones stay)."""
    if "/" in item:
        return bool(SUBTREE_KEEP.match(item))
    if item.endswith(".cnv"):
        return data is not None and max_bytes_per_char(data) == 1
    return item in TOP_LEVEL


def max_bytes_per_char(cnv: bytes) -> int:
    """From a `.cnv` file's UConverterStaticData, after ICU's data header: structSize (4),
    name (60), codepage (4), platform, conversionType, minBytesPerChar, maxBytesPerChar."""
    header_size = int.from_bytes(cnv[0:2], "little")
    return cnv[header_size + 71]


def _run(*command: str | Path) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if done.returncode != 0:
        raise TrimUnavailable(f"{Path(str(command[0])).name} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def data_symbol(library: Path) -> str:
    """`libicudata.so.73` holds `icudt73_dat`."""
    match = re.match(r"libicudata\.so\.(\d+)$", library.name)
    if not match:
        raise TrimUnavailable(f"{library.name} is not an ICU data library")
    return f"icudt{match.group(1)}_dat"


def extract_package(library: Path, work: Path) -> Path:
    """The library's .rodata is the package (checked: ICU's data-header magic and the
    symbol's size)."""
    symbol = data_symbol(library)
    sizes = {parts[-1]: int(parts[1], 16) for line in _run("nm", "-D", "-S", library)
             .splitlines() if len(parts := line.split()) == 4}  # fmt: skip
    if symbol not in sizes:
        raise TrimUnavailable(f"{library.name} does not export {symbol}")
    package = work / f"{symbol[:-4]}l.dat"
    _run("objcopy", "-O", "binary", "--only-section=.rodata", library, package)
    data = package.read_bytes()[: sizes[symbol]]
    if len(data) != sizes[symbol] or data[2:4] != b"\xda\x27":
        raise TrimUnavailable(f"{library.name}'s .rodata is not one ICU data package")
    package.write_bytes(data)
    return package


def items_to_remove(package: Path, work: Path) -> list[str]:
    items = [line.strip() for line in _run("icupkg", "-l", package).splitlines() if line.strip()]
    extracted = work / "items"
    extracted.mkdir()
    code_pages = [item for item in items if item.endswith(".cnv")]
    if code_pages:
        listing = work / "code_pages.lst"
        listing.write_text("\n".join(code_pages) + "\n")
        _run("icupkg", "-d", extracted, "-x", listing, package)
    return [item for item in items if not keep(
        item, (extracted / item).read_bytes() if item.endswith(".cnv") else None)]  # fmt: skip


def link_library(package: Path, symbol: str, soname: str, target: Path, work: Path) -> None:
    source = work / "data.S"
    source.write_text(
        f"\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n"
        f'{symbol}:\n\t.incbin "{package}"\n\t.size {symbol}, . - {symbol}\n'
        '\t.section .note.GNU-stack,"",@progbits\n'
    )
    _run("cc", "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-Wl,-z,noexecstack",
         "-o", target, source)  # fmt: skip


def trim(library: Path, target: Path | None = None) -> tuple[int, int]:
    """Rewrite `library` (or write `target`) with the trimmed package; (bytes before,
    bytes after). TrimUnavailable, and nothing written, when a tool is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise TrimUnavailable(f"missing {', '.join(missing)} (Debian: icu-devtools, gcc)")
    target = target or library
    before = library.stat().st_size
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        package = extract_package(library, work)
        removals = work / "remove.lst"
        removals.write_text("\n".join(items_to_remove(package, work)) + "\n")
        # icupkg names the items after the package file: the output keeps its name
        trimmed = work / "trimmed" / package.name
        trimmed.parent.mkdir()
        _run("icupkg", "-r", removals, package, trimmed)
        built = work / library.name
        link_library(trimmed, data_symbol(library), library.name, built, work)
        partial = target.with_name(target.name + ".partial")
        shutil.copy(built, partial)
        os.replace(partial, target)  # whole or not at all: never a half-copied library
    return before, target.stat().st_size


if __name__ == "__main__":
    if len(sys.argv) != 3:  # an output folder always: trimming in place is the build's job
        sys.exit(__doc__.rsplit("\n\n", 1)[-1])
    source, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    before, after = trim(source, out_dir / source.name)
    print(f"{source.name}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
