#!/usr/bin/env python3
"""liboiv4kv.so exports the public API and nothing else.

The public API is read from the headers, not from the build: every name that
store/include/oiv4kv/*.h marks OIV4KV_EXPORT (a class or struct, a free
function, or a member function of an unmarked class). Then, from
`nm -D --defined-only -C LIBRARY`:
  - every exported symbol belongs to one of those names (an internal function,
    a std::/rocksdb::/flatbuffers:: template instantiation, a generator
    symbol each fail, named);
  - every marked name is exported (so a consumer links).
Usage: exported_symbols.py SOURCE_DIR LIBRARY
"""
import pathlib
import re
import subprocess
import sys

src, library = pathlib.Path(sys.argv[1]), sys.argv[2]

# Names the headers export: "Store" (a class: all its members), "SplitName"
# (a free function), "Status::ToString" (a member of an unmarked class).
marked = set()
headers = sorted((src / "store/include/oiv4kv").glob("*.h"))
for header in headers:
    enclosing = None
    for line in header.read_text().splitlines():
        cls = re.match(r"(?:class|struct) (?:\[\[\w+\]\] )?(OIV4KV_EXPORT )?(\w+)\b", line)
        if cls and not line.rstrip().endswith(";"):
            enclosing = cls.group(2)
            if cls.group(1):
                marked.add(enclosing)
            continue
        if line.startswith("}"):
            enclosing = None
        fn = re.match(r"(\s*)OIV4KV_EXPORT .*?(\w+)\(", line)
        if fn:
            member = fn.group(1) and enclosing
            marked.add(f"{enclosing}::{fn.group(2)}" if member else fn.group(2))
if len(marked) < 40:
    sys.exit(f"FAIL: only {len(marked)} OIV4KV_EXPORT names found in {len(headers)} headers")


def api_name(symbol):
    """The marked name a demangled symbol belongs to, or None."""
    symbol = re.sub(r"^(vtable|typeinfo|typeinfo name|VTT|guard variable) for ", "", symbol)
    if not symbol.startswith("oiv4kv::"):
        return None
    parts = re.sub(r"\[abi:\w+\]", "", symbol.split("(")[0]).split("::")[1:]
    for n in (1, 2):
        if "::".join(parts[:n]) in marked:
            return "::".join(parts[:n])
    return None


nm = subprocess.run(["nm", "-D", "--defined-only", "-C", library],
                     check=True, capture_output=True, text=True).stdout
symbols = [line.split(" ", 2)[2] for line in nm.splitlines() if line.count(" ") >= 2]
stray = [s for s in symbols if api_name(s) is None]
found = {api_name(s) for s in symbols} - {None}
missing = sorted(marked - found)
for s in stray:
    print(f"FAIL: {library} exports {s}, which no public header marks OIV4KV_EXPORT")
for name in missing:
    print(f"FAIL: the public headers mark {name} OIV4KV_EXPORT but {library} does not export it")
if stray or missing:
    sys.exit(1)
if len(symbols) < len(marked):
    sys.exit(f"FAIL: {len(symbols)} symbols for {len(marked)} names")
print(f"ok: {len(symbols)} exported symbols, all of the {len(marked)} public names")
