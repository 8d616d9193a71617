"""What a published board may show: names and text without this computer's file paths.

A policy spec often holds a path (`ppo:/home/me/runs/model.zip`, `vla:outputs/vla/ckpt`,
`remote:wss://robot?token_file=/home/me/token`). Bundles and boards are meant to be shared, so
they carry the spec with every path cut to its file name and every URL without its query
(`ppo:model.zip`, `remote:wss://robot`); free text (abort reasons) keeps relative text and
loses only absolute paths. `local_paths` finds what slipped through, for `publish` to refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

# A URL: scheme://rest; its query (?a=b&c=d) may name local files, so it is dropped.
_URL = re.compile(r"[A-Za-z][\w+.-]*://[^\s?#'\"<>]*(?:\?[^\s#'\"<>]*)?")
# A path token inside a spec: anything with a slash between separators (`:`, `,`, `=`, ...),
# with an optional Windows drive letter (C:\...).
_SPEC_PATH = re.compile(r"(?:\b[A-Za-z]:)?[^:,;=&?\s]*[/\\][^:,;=&?\s]*")
# An absolute path in free text: starts after a space, quote, bracket, `=` or `,` (not inside a
# URL or a fraction like 3/4) with `/`, `~/` or a drive letter, then one or more segments.
_SEGMENT = r"[^\s/\\'\"<>|:;,()\[\]{}=?&]+"
_ABSOLUTE = re.compile(rf"(?<![^\s'\"(\[=,])(?:~|[A-Za-z]:)?(?:[/\\]{_SEGMENT})+[/\\]?")
# A database or file URL with an absolute path (sqlite:////home/..., file:///tmp/...).
_FILE_URL = re.compile(rf"\b(?:sqlite|file)[\w+]*:///+(?:{_SEGMENT}[/\\])*({_SEGMENT})")
# What `local_paths` reports: the usual roots of home, temporary and work folders.
LOCAL_ROOTS = ("home", "tmp", "root", "work", "Users", "mnt", "media", "srv", "var", "opt",
               "private", "scratch", "data")
_LOCAL = re.compile(rf"(?<![\w.-])(?:/(?:{'|'.join(LOCAL_ROOTS)})/[^\s'\"<>),]*"
                    r"|~/[^\s'\"<>),]+|\b[A-Za-z]:\\[^\s'\"<>),]+)")
TEXT_SUFFIXES = (".html", ".md", ".csv", ".json", ".jsonl", ".yaml", ".yml", ".txt", ".svg")


def basename(path: str) -> str:
    """The last non-empty segment of a POSIX or Windows path ("" stays "")."""
    parts = [p for p in re.split(r"[/\\]", path) if p]
    return parts[-1] if parts else path


def public_spec(spec: str) -> str:
    """`spec` with each path cut to its file name and each URL's query dropped:
    `ppo:/long/path/model.zip` -> `ppo:model.zip`, `remote:wss://pc:8000?token_file=/x` ->
    `remote:wss://pc:8000`; specs without paths (`expert:0.3`, `random`) are unchanged."""
    scheme, sep, rest = spec.partition(":")
    if not sep:
        return basename(spec) if re.search(r"[/\\]", spec) else spec
    urls: list[str] = []

    def keep_url(match: re.Match) -> str:
        urls.append(match.group().split("?", 1)[0])
        return f"\0{len(urls) - 1}\0"

    rest = _URL.sub(keep_url, rest)
    rest = _SPEC_PATH.sub(lambda m: basename(m.group()) if "\0" not in m.group() else
                          m.group(), rest)
    rest = re.sub(r"\0(\d+)\0", lambda m: urls[int(m.group(1))], rest)
    return f"{scheme}:{rest}"


def scrub_paths(text: str) -> str:
    """Free text with absolute paths (and file/database URLs) cut to their file names."""
    text = _FILE_URL.sub(lambda m: m.group(1), text)
    return _ABSOLUTE.sub(lambda m: basename(m.group()), text)


def local_paths(folder: str | Path) -> list[tuple[str, str]]:
    """(file, path) for every local path in the text files under `folder` (first per file)."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and ".git" not in path.parts:
            match = _LOCAL.search(path.read_text(errors="replace"))
            if match:
                found.append((str(path.relative_to(folder)), match.group()))
    return found
