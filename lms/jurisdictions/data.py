"""Jurisdiction rules for orofacial work: loading, checking, searching and exporting.

The rules live in ``regulations.yaml`` next to this module, one row per rule. This module is pure: it
reads a file and returns plain dicts, with no Flask or database access, so views, the CLI and tests
can all use it the same way.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from lms.providers.professions import PROFESSIONS
from lms.providers.professions import label as profession_label

DEFAULT_PATH = Path(__file__).with_name("regulations.yaml")

JURISDICTIONS: dict[str, str] = {
    "US-WA": "Washington, US",
    "US-OR": "Oregon, US",
    "US-NC": "North Carolina, US",
    "US-OH": "Ohio, US",
    "CA-BC": "British Columbia, CA",
    "CA-ON": "Ontario, CA",
    "CA-MB": "Manitoba, CA",
    "CA-NB": "New Brunswick, CA",
    "CA-AB": "Alberta, CA",
    "OTHER": "Other / not listed",
}
OTHER = "OTHER"

ACTIVITIES = ("intraoral", "tmj", "omt", "general")
# How far a rule's primary source was read: S the official text, S/V part of it, SEC only secondary material
# (an unofficial copy or a summary by a school, law firm or trade press), V the rule's text was not retrieved.
STATUSES = ("S", "V", "S/V", "SEC")
REQUIRES_KEYS = (
    "endorsement",
    "min_hours",
    "supervised_in_person",
    "referral_written",
    "consent_written",
    "witness_option",
    "gloves",
)
DATE_FIELDS = ("verified_on", "source_last_updated")
REQUIRED_FIELDS = (
    "id",
    "jurisdiction",
    "profession",
    "activity",
    "summary",
    "requires",
    "instructor_quals",
    "source_cite",
    "source_url",
    "effective_date",
    "verified_on",
    "status",
)
OPTIONAL_FIELDS = ("source_last_updated", "notes", "profession_regulated")

CSV_COLUMNS = (
    "id",
    "jurisdiction",
    "jurisdiction_label",
    "profession",
    "profession_label",
    "activity",
    "summary",
    *(f"requires.{key}" for key in REQUIRES_KEYS),
    "instructor_quals",
    "source_cite",
    "source_url",
    "effective_date",
    "source_last_updated",
    "verified_on",
    "status",
    "notes",
)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Spreadsheet apps run a cell as a formula when it starts with one of these; tab and CR are included
# because some apps strip them and then evaluate what follows (OWASP CSV injection guidance).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class RulesError(ValueError):
    """The rules file is missing, unreadable or fails validation."""

    def __init__(self, path: Path, errors: list[str]):
        self.path = path
        self.errors = errors
        super().__init__(f"{path}: " + "; ".join(errors))


# --------------------------------------------------------------------------- validation


def _is_iso_date(value: Any) -> bool:
    # YAML turns an unquoted 2026-11-26 into a date; a quoted one stays a string. Accept both,
    # but not datetimes, which would mean a time slipped into a date field.
    if isinstance(value, datetime):
        return False
    if isinstance(value, date):
        return True
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _validate_requires(where: str, requires: Any) -> list[str]:
    if not isinstance(requires, Mapping):
        return [f"{where}: requires must be a mapping"]
    errors = []
    missing = [k for k in REQUIRES_KEYS if k not in requires]
    if missing:
        errors.append(f"{where}: requires is missing {', '.join(missing)}")
    unknown = sorted(set(requires) - set(REQUIRES_KEYS))
    if unknown:
        errors.append(f"{where}: requires has unknown keys {', '.join(map(str, unknown))}")
    for key in REQUIRES_KEYS:
        if key not in requires:
            continue
        value = requires[key]
        if key == "min_hours":
            # bool is an int subclass; "min_hours: yes" must not pass as 1 hour.
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                errors.append(f"{where}: requires.min_hours must be a non-negative number or null")
        elif not isinstance(value, bool):
            errors.append(f"{where}: requires.{key} must be true or false")
    return errors


def _validate_rule(index: int, rule: Any) -> list[str]:
    rid = rule.get("id") if isinstance(rule, Mapping) else None
    where = f"rules[{index}]" + (f" ({rid})" if isinstance(rid, str) else "")
    if not isinstance(rule, Mapping):
        return [f"{where}: must be a mapping"]
    errors = []
    missing = [f for f in REQUIRED_FIELDS if f not in rule]
    if missing:
        errors.append(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(rule) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        errors.append(f"{where}: unknown fields {', '.join(map(str, unknown))}")

    if "id" in rule and not (isinstance(rid, str) and _SLUG.match(rid)):
        errors.append(f"{where}: id must be a lowercase slug (letters, digits, hyphens)")
    if "jurisdiction" in rule and (rule["jurisdiction"] not in JURISDICTIONS or rule["jurisdiction"] == OTHER):
        errors.append(f"{where}: unknown jurisdiction {rule['jurisdiction']!r}")
    if "profession" in rule and rule["profession"] not in PROFESSIONS:
        errors.append(f"{where}: unknown profession {rule['profession']!r}")
    if "activity" in rule and rule["activity"] not in ACTIVITIES:
        errors.append(f"{where}: activity must be one of {', '.join(ACTIVITIES)}")
    if "status" in rule and rule["status"] not in STATUSES:
        errors.append(f"{where}: status must be one of {', '.join(STATUSES)}")
    for name in ("summary", "source_cite", "effective_date"):
        if name in rule and not _nonempty_str(rule[name]):
            errors.append(f"{where}: {name} must be a non-empty string")
    for name in ("instructor_quals", "notes"):
        if rule.get(name) is not None and not _nonempty_str(rule[name]):
            errors.append(f"{where}: {name} must be a non-empty string or null")
    url = rule.get("source_url")
    # Pages render this as a link, so only web addresses are allowed (no javascript: or data: URLs).
    if url is not None and not (isinstance(url, str) and re.match(r"^https?://[^\s]+$", url)):
        errors.append(f"{where}: source_url must be an http(s) URL or null")
    if "verified_on" in rule and not _is_iso_date(rule["verified_on"]):
        errors.append(f"{where}: verified_on must be an ISO date (YYYY-MM-DD)")
    if rule.get("source_last_updated") is not None and not _is_iso_date(rule["source_last_updated"]):
        errors.append(f"{where}: source_last_updated must be an ISO date (YYYY-MM-DD) or null")
    if "requires" in rule:
        errors.extend(_validate_requires(where, rule["requires"]))
    if "profession_regulated" in rule and not isinstance(rule["profession_regulated"], bool):
        errors.append(f"{where}: profession_regulated must be true or false")
    return errors


def validate_rules(data: Any) -> list[str]:
    """Check a parsed rules document and return a list of problems (empty when it is valid).

    Checks the header (``last_verified``, ``notice``, ``legend``) and, for each rule, the required
    fields, known jurisdiction/profession/activity/status codes, the shape of ``requires``, ISO dates,
    http(s) source URLs and that ids are unique slugs.
    """
    if not isinstance(data, Mapping):
        return ["document must be a mapping with last_verified, notice, legend and rules"]
    errors = []
    if not _is_iso_date(data.get("last_verified")):
        errors.append("last_verified must be an ISO date (YYYY-MM-DD)")
    if not _nonempty_str(data.get("notice")):
        errors.append("notice must be a non-empty string")
    legend = data.get("legend")
    if not isinstance(legend, Mapping) or not all(_nonempty_str(legend.get(s)) for s in ("S", "V")):
        errors.append("legend must explain at least statuses S and V")
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        errors.append("rules must be a non-empty list")
        return errors

    seen: set[str] = set()
    for index, rule in enumerate(rules):
        errors.extend(_validate_rule(index, rule))
        rid = rule.get("id") if isinstance(rule, Mapping) else None
        if isinstance(rid, str):
            if rid in seen:
                errors.append(f"rules[{index}]: duplicate id {rid!r}")
            seen.add(rid)
        status = rule.get("status") if isinstance(rule, Mapping) else None
        if status in STATUSES and isinstance(legend, Mapping) and not _nonempty_str(legend.get(status)):
            errors.append(f"rules[{index}]: status {status!r} is not explained in the legend")
    return errors


# --------------------------------------------------------------------------- loading and search


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    # Dates become ISO strings so that CSV, JSON and templates see one type whatever the YAML quoting.
    rules = []
    for rule in data["rules"]:
        row = {name: rule.get(name) for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)}
        row["requires"] = {key: rule["requires"][key] for key in REQUIRES_KEYS}
        for name in DATE_FIELDS:
            row[name] = _iso(row[name])
        rules.append(row)
    return {
        "last_verified": _iso(data["last_verified"]),
        "notice": data["notice"].strip(),
        "legend": {str(k): str(v) for k, v in data["legend"].items()},
        "rules": rules,
    }


@dataclass
class RuleSet:
    """A loaded, validated set of jurisdiction rules in file order."""

    rules: list[dict[str, Any]]
    last_verified: str | None = None
    notice: str = ""
    legend: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {rule["id"]: rule for rule in self.rules}

    def get(self, rule_id: str) -> dict[str, Any] | None:
        """Return the rule with this id, or ``None``."""
        return self._by_id.get(rule_id)

    def search(
        self, text: str = "", jurisdiction: str | None = None, profession: str | None = None
    ) -> list[dict[str, Any]]:
        """Return rules matching all the given filters, in file order.

        ``text`` is split on whitespace and every word must appear (case-insensitive) in the rule's
        summary, source citation, jurisdiction code or label, profession label or activity.
        ``jurisdiction`` (a code such as ``"US-WA"``) and ``profession`` (a profession key) filter
        exactly; empty values mean "any".
        """
        terms = (text or "").casefold().split()
        code = jurisdiction.strip().upper() if jurisdiction else None
        found = []
        for rule in self.rules:
            if code and rule["jurisdiction"] != code:
                continue
            if profession and rule["profession"] != profession:
                continue
            if terms:
                haystack = _search_text(rule)
                if not all(term in haystack for term in terms):
                    continue
            found.append(rule)
        return found

    def for_trainee(self, profession: str | None, jurisdiction: str | None) -> list[dict[str, Any]]:
        """Return the rules that apply to a trainee's profession in their practice jurisdiction.

        A trainee with no profession, no jurisdiction or jurisdiction ``OTHER`` gets an empty list:
        the table has nothing to say about them, which callers should show as "no rule on file".
        """
        if not profession or not jurisdiction or jurisdiction.strip().upper() == OTHER:
            return []
        return self.search(jurisdiction=jurisdiction, profession=profession)


def _search_text(rule: Mapping[str, Any]) -> str:
    parts = (
        rule["summary"],
        rule["source_cite"],
        rule["jurisdiction"],
        JURISDICTIONS.get(rule["jurisdiction"], ""),
        profession_label(rule["profession"]),
        rule["activity"],
    )
    return " ".join(parts).casefold()


# Parsed documents keyed by (resolved path, mtime, size): editing the file invalidates the entry.
_cache: dict[tuple[str, int, int], dict[str, Any]] = {}
_cache_lock = threading.Lock()


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and validate the rules file (the shipped ``regulations.yaml`` by default).

    The parsed file is cached per path and modification time. Each call returns a fresh ``RuleSet``
    with its own copies of the rows, so a caller that changes a row cannot affect anyone else.
    Raises ``RulesError`` if the file cannot be read or fails ``validate_rules``.
    """
    resolved = Path(path or DEFAULT_PATH).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise RulesError(resolved, [f"cannot read file: {exc.strerror}"]) from exc
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        doc = _cache.get(key)
    if doc is None:
        try:
            raw = yaml.safe_load(resolved.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise RulesError(resolved, [f"cannot parse file: {exc}"]) from exc
        errors = validate_rules(raw)
        if errors:
            raise RulesError(resolved, errors)
        doc = _normalise(raw)
        with _cache_lock:
            # Drop older versions of the same file so the cache cannot grow with every edit.
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = doc
    doc = copy.deepcopy(doc)
    return RuleSet(rules=doc["rules"], last_verified=doc["last_verified"], notice=doc["notice"], legend=doc["legend"])


# --------------------------------------------------------------------------- export


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def to_csv(rules: Iterable[Mapping[str, Any]]) -> str:
    """Render rules as CSV text with a header row and the columns of ``CSV_COLUMNS``.

    ``requires`` is flattened into ``requires.<key>`` columns, booleans are written as ``true``/``false``
    and empty values as blank cells. A cell that starts with ``= + - @`` (or tab/CR) gets a leading
    single quote so spreadsheet apps show it as text instead of running it as a formula.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rule in rules:
        requires = rule.get("requires") or {}
        row = {
            **rule,
            "jurisdiction_label": JURISDICTIONS.get(rule.get("jurisdiction", ""), ""),
            "profession_label": profession_label(rule.get("profession")),
            **{f"requires.{key}": requires.get(key) for key in REQUIRES_KEYS},
        }
        writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()
