# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit an oslo.config INI file in place, keeping everything that is not changed.

The file is parsed into a list of items (one per physical line, an option with
its continuation lines being one item), each keeping its exact text. Editing
replaces, inserts or removes items; rendering joins their text. Nothing is
re-formatted, so comments, blank lines, ordering, unrelated settings and line
endings survive byte for byte. No ConfigParser round-trip.

The parser follows oslo.config's own (oslo_config/iniparser.py), so that a value
is read here exactly as Nova reads it:

* a line is right-stripped; an empty line ends a multi-line value;
* a line starting with a space or tab continues the previous value (an error
  when there is none);
* ``[name]`` starts a section; ``#`` or ``;`` starts a comment (only at the
  start of a line: ``key = value # x`` has the value ``value # x``);
* ``key = value`` or ``key: value`` (whichever separator comes first); key and
  value are stripped; a value wrapped in matching quotes loses them.

Section names are compared as oslo.config does: ``DEFAULT`` exactly, any other
name case-insensitively. Option names are case-sensitive.

Values handed to :func:`apply_settings` are "parser-level" strings: what
oslo.config's parser should return. :func:`encode_value` turns one into the
text written after ``=`` (quoting it when stripping or quote removal would
change it); ``$`` interpolation is decided by the caller (:func:`escape_dollars`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


class IniError(ValueError):
    """Bad input or an unparsable file; the message is meant for the user."""


# item kinds
BLANK = "blank"
COMMENT = "comment"
SECTION = "section"
OPTION = "option"

_FORBIDDEN_NAME_CHARS = set("\r\n\t\x00")


def normalize_section(name):
    """The name oslo.config looks a section up by (``DEFAULT`` stays, others are lower-cased)."""
    if name == "DEFAULT":
        return name
    return name.lower()


class Item:
    """One line of the file (an option item also holds its continuation lines).

    ``lines`` are the exact physical lines with their line endings; ``section``
    is the normalized name of the section the item belongs to (None before the
    first header); for options ``key`` is the option name.
    """

    __slots__ = ("kind", "lines", "section", "key", "lineno", "tag")

    def __init__(self, kind, lines, section=None, key=None, lineno=0):
        self.kind = kind
        self.lines = lines
        self.section = section
        self.key = key
        self.lineno = lineno
        self.tag = None  # set by apply_settings on items it wrote: "added" or "updated"

    def text(self):
        return "".join(self.lines)

    def value(self):
        """The value oslo.config's parser would read from this option item."""
        return _item_value(self.lines)

    def __repr__(self):  # pragma: no cover - debugging aid
        return "Item(%s, %r)" % (self.kind, self.text())


class Document:
    """A parsed INI file: its items, in order, and the newline it uses."""

    def __init__(self, items, newline="\n"):
        self.items = items
        self.newline = newline

    def render(self):
        return "".join(item.text() for item in self.items)

    def sections(self):
        """Normalized names of the sections present, in order of first appearance."""
        seen = []
        for item in self.items:
            if item.kind == SECTION and item.section not in seen:
                seen.append(item.section)
        return seen

    def options(self):
        """(section, key, lineno, value) of every option, in file order."""
        for item in self.items:
            if item.kind == OPTION:
                yield item.section, item.key, item.lineno, item.value()

    def find(self, section, key):
        section = normalize_section(section)
        return [i for i, item in enumerate(self.items)
                if item.kind == OPTION and item.section == section and item.key == key]


def _strip_eol(line):
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def _split_key_value(body):
    """oslo.config's split of an assignment line: (key, value) or None."""
    colon = body.find(":")
    equal = body.find("=")
    if colon < 0 and equal < 0:
        return None
    if colon < 0 or (0 <= equal < colon):
        key, value = body[:equal], body[equal + 1:]
    else:
        key, value = body[:colon], body[colon + 1:]
    value = value.strip()
    if value and value[0] == value[-1] and value.startswith(("\"", "'")):
        value = value[1:-1]
    return key.strip(), value


def _item_value(lines):
    first = _split_key_value(_strip_eol(lines[0]).rstrip())
    parts = [first[1]]
    for line in lines[1:]:
        parts.append(_strip_eol(line).strip())
    return "\n".join(parts)


def parse(text):
    """Parse the text of an INI file into a :class:`Document`.

    Raises IniError (with the line number) for what oslo.config would refuse.
    """
    first_nl = text.find("\n")
    newline = "\r\n" if first_nl > 0 and text[first_nl - 1] == "\r" else "\n"
    items = []
    append = items.append
    section = None
    current = None  # the open option item, which continuation lines extend
    for lineno, line in enumerate(text.splitlines(True), 1):
        body = line.rstrip()  # the line ending is white space: the same as _strip_eol(line).rstrip()
        if not body:
            append(Item(BLANK, [line], section, None, lineno))
            current = None
            continue
        first = body[0]
        if first == " " or first == "\t":
            if current is None:
                raise IniError("line %d: unexpected continuation line (an indented line that does not "
                               "follow an option): %r" % (lineno, body.strip()[:60]))
            current.lines.append(line)
            continue
        current = None
        if first == "#" or first == ";":
            append(Item(COMMENT, [line], section, None, lineno))
        elif first == "[":
            if not body.endswith("]"):
                raise IniError("line %d: invalid section header (must end with ']'): %r" % (lineno, body[:60]))
            if len(body) <= 2:
                raise IniError("line %d: empty section name" % lineno)
            section = normalize_section(body[1:-1])
            append(Item(SECTION, [line], section, body[1:-1], lineno))
        else:
            kv = _split_key_value(body)
            if kv is None:
                raise IniError("line %d: no '=' or ':' in %r" % (lineno, body[:60]))
            if not kv[0]:
                raise IniError("line %d: empty option name" % lineno)
            if section is None:
                raise IniError("line %d: option %r comes before any [section]" % (lineno, kv[0]))
            current = Item(OPTION, [line], section, kv[0], lineno)
            append(current)
    return Document(items, newline)


# --------------------------------------------------------------------------- input checks

def check_section_name(name):
    """Raise IniError unless `name` can be written as a section header and read back."""
    if not isinstance(name, str):
        raise IniError("section names must be strings, got %r (%s)" % (name, type(name).__name__))
    if not name:
        raise IniError("empty section name")
    if name != name.strip():
        raise IniError("section name %r has leading or trailing white space" % name)
    bad = set(name) & (_FORBIDDEN_NAME_CHARS | set("[]"))
    if bad:
        raise IniError("section name %r contains %s, which cannot appear in an INI section header"
                       % (name, " ".join(repr(c) for c in sorted(bad))))


def check_option_name(section, name):
    """Raise IniError unless `name` can be written as an option name and read back."""
    where = "in [%s]" % section
    if not isinstance(name, str):
        raise IniError("option names must be strings, got %r (%s) %s" % (name, type(name).__name__, where))
    if not name:
        raise IniError("empty option name %s" % where)
    if name != name.strip() or " " in name:
        raise IniError("option name %r %s contains white space" % (name, where))
    bad = set(name) & (_FORBIDDEN_NAME_CHARS | set("=:"))
    if bad:
        raise IniError("option name %r %s contains %s, which would end the option name in an INI file"
                       % (name, where, " ".join(repr(c) for c in sorted(bad))))
    if name[0] in "[#;":
        raise IniError("option name %r %s starts with %r, which would be read as a section or a comment"
                       % (name, where, name[0]))


def check_value_text(section, option, value):
    """Raise IniError for a value string that cannot be written on one line."""
    bad = set(value) & set("\r\n\x00")
    if bad:
        raise IniError("the value of [%s] %s contains a line break or NUL; values must fit on one line"
                       % (section, option))


# --------------------------------------------------------------------------- values

def escape_dollars(value):
    """Make oslo.config read `value` literally: ``$`` -> ``$$``.

    oslo.config first turns ``\\$`` into ``$$``, so a backslash directly before a
    dollar cannot be written literally at all: that raises IniError.
    """
    if "\\$" in value:
        raise IniError("contains '\\$', which oslo.config always reads as an escaped '$': "
                       "such a value cannot be written literally")
    return value.replace("$", "$$")


def encode_value(value):
    """The text to write after ``key = `` so that oslo.config's parser returns `value`."""
    if value != value.strip() or (value and value[0] == value[-1] and value[0] in "\"'"):
        return '"%s"' % value
    return value


def option_line(key, value, newline="\n"):
    text = encode_value(value)
    return "%s = %s%s" % (key, text, newline) if text else "%s =%s" % (key, newline)


def _replacement_line(item, value, newline):
    """Rewrite a single-line option with a new value, keeping `key = ` as it was written."""
    if len(item.lines) == 1:
        line = item.lines[0]
        body = _strip_eol(line)
        eol = line[len(body):] or newline
        colon, equal = body.find(":"), body.find("=")
        sep = equal if colon < 0 or (0 <= equal < colon) else colon
        prefix = body[:sep + 1]
        rest = body[sep + 1:]
        spacing = rest[:len(rest) - len(rest.lstrip())] if rest.strip() else " "
        text = encode_value(value)
        return (prefix + spacing + text if text else prefix) + eol
    return option_line(item.key, value, newline)


# --------------------------------------------------------------------------- editing

def _commented_default(key):
    return re.compile(r"^[#;]\s?%s\s*[=:]" % re.escape(key))


def _runs(items):
    """The items cut at each section header: first those before any header, then one list per header with
    the items under it (all of that section: parse() gives every item the section of the header above it)."""
    runs = [[]]
    for item in items:
        if item.kind == SECTION:
            runs.append([item])
        else:
            runs[-1].append(item)
    return runs


def _insert_point(runs, key, after_comment):
    """Where a new option goes among the runs of its section: (run, index), or None when there is none.

    Right after the first commented-out default of `key` in the section (and after the options already
    added right after it), else after the section's last option, else right after its last header.
    """
    if not runs:
        return None
    pattern = _commented_default(key) if after_comment else None
    comment_at = None
    last_option = None
    for run in runs:
        for idx, item in enumerate(run):
            kind = item.kind
            if kind == OPTION:
                last_option = (run, idx)
            elif kind == COMMENT and comment_at is None and pattern is not None and pattern.match(item.lines[0]):
                comment_at = (run, idx)
    if comment_at is not None:
        run, pos = comment_at[0], comment_at[1] + 1
        while pos < len(run) and run[pos].kind == OPTION and run[pos].tag == "added":
            pos += 1
        return run, pos
    if last_option is not None:
        return last_option[0], last_option[1] + 1
    return runs[-1], 1


def _ensure_newline(item, newline):
    if not item.lines[-1].endswith(("\n", "\r")):
        item.lines[-1] += newline


def apply_settings(doc, edits, after_comment=True):
    """Apply `edits` to `doc` in place and return what changed.

    `edits` is a list of (section, option, values): values None removes every
    occurrence of the option; otherwise a list of parser-level strings (one
    element for a single-valued option, several for a multi-valued one, written
    as repeated ``key = value`` lines).

    An option already present is rewritten where it stands (the first
    occurrence; further occurrences are removed: duplicates are collapsed). A
    new option goes right after a commented-out default of the same name in its
    section (``#key = ...``) when `after_comment` and there is one, otherwise
    after the last option of its section, or right after the header of an
    empty section. A new section is appended at the end of the file.

    Returns a list of dicts: section, option, action (added, updated, removed)
    and collapsed (how many duplicate lines were folded, 0 usually).

    The edits work on the document cut into one list per section header, so
    that each one looks at its own section only, not at the whole file (a
    10,000-line sample nova.conf and 40 settings: 40 section scans, not 80 scans
    of the file); the document's items are joined again at the end.
    """
    changes = []
    nl = doc.newline
    runs = _runs(doc.items)
    of_section = {}
    for run in runs[1:]:
        of_section.setdefault(run[0].section, []).append(run)
    edited = False
    for section_name, key, values in edits:
        section = normalize_section(section_name)
        section_runs = of_section.get(section, ())
        found = [(run, idx) for run in section_runs for idx, item in enumerate(run)
                 if item.kind == OPTION and item.key == key]
        if values is None:
            if found:
                for run, idx in reversed(found):
                    del run[idx]
                edited = True
                changes.append(dict(section=section_name, option=key, action="removed",
                                    collapsed=max(len(found) - 1, 0)))
            continue
        if found and [run[idx].value() for run, idx in found] == list(values):
            continue
        edited = True
        if found:
            first_run, first_idx = found[0]
            first = first_run[first_idx]
            if len(values) == 1:
                new_items = [Item(OPTION, [_replacement_line(first, values[0], nl)], section, key, first.lineno)]
            else:
                new_items = [Item(OPTION, [option_line(key, v, nl)], section, key, first.lineno) for v in values]
            for it in new_items:
                it.tag = "updated"
            for run, idx in reversed(found[1:]):  # all after the first: its index stays valid
                del run[idx]
            first_run[first_idx:first_idx + 1] = new_items
            collapsed = len(found) - 1 if len(values) == 1 else 0
            changes.append(dict(section=section_name, option=key, action="updated", collapsed=collapsed))
            continue
        new_items = [Item(OPTION, [option_line(key, v, nl)], section, key) for v in values]
        for it in new_items:
            it.tag = "added"
        point = _insert_point(section_runs, key, after_comment)
        if point is None:
            last_run = runs[-1]
            if last_run:
                _ensure_newline(last_run[-1], nl)
                if last_run[-1].kind != BLANK:
                    last_run.append(Item(BLANK, [nl], last_run[-1].section))
            run = [Item(SECTION, ["[%s]%s" % (section_name, nl)], section, key=section_name)]
            runs.append(run)
            of_section.setdefault(section, []).append(run)
            pos = 1
        else:
            run, pos = point
            _ensure_newline(run[pos - 1], nl)
        run[pos:pos] = new_items
        changes.append(dict(section=section_name, option=key, action="added", collapsed=0))
    if edited:
        doc.items[:] = [item for run in runs for item in run]
    return changes


def duplicates(doc, skip=()):
    """(section, key, count) of options set more than once, except the (section, key) in `skip`."""
    counts = {}
    for item in doc.items:
        if item.kind == OPTION and (item.section, item.key) not in skip:
            counts[(item.section, item.key)] = counts.get((item.section, item.key), 0) + 1
    return [(s, k, n) for (s, k), n in counts.items() if n > 1]


def masked_render(doc, is_secret, mask, changed_mark=None):
    """The text of `doc` with the value of every option for which is_secret(section, key) replaced.

    Options rewritten by apply_settings (tag "updated") get `changed_mark` after the
    mask when given, so that a diff still shows that a secret changed.
    """
    out = []
    for item in doc.items:
        if item.kind == OPTION and is_secret(item.section, item.key):
            body = _strip_eol(item.lines[0])
            eol = item.lines[-1][len(_strip_eol(item.lines[-1])):] or doc.newline
            colon, equal = body.find(":"), body.find("=")
            sep = equal if colon < 0 or (0 <= equal < colon) else colon
            shown = mask
            if changed_mark and item.tag == "updated":
                shown += changed_mark
            out.append(body[:sep + 1] + " " + shown + eol)
        else:
            out.append(item.text())
    return "".join(out)
